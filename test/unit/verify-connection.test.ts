// verify-connection's core against a local ALB stand-in: a TLS HTTP/2 proxy (node:http2) that serves a chosen
// certificate and routes gRPC streams by :authority to the Milvus stand-in, 404 for other hosts, like an ALB
// listener rule for a host-rule Ingress. verify-connection's gRPC client and Node's TLS verification run
// unchanged; only DNS is injected, and the trust anchors come with the certificate, as import-certificate returns them. What it sends is compared with what the real
// @zilliz/milvus2-sdk-node client sends.
import { X509Certificate } from "node:crypto";
import {
  type ClientHttp2Session,
  connect as http2Connect,
  constants as h2,
  createSecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import { createRequire } from "node:module";
import type { AddressInfo, Socket } from "node:net";
import {
  type GrpcObject,
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServiceClientConstructor,
  type UntypedHandleCall,
} from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { selfSignedRoots } from "../../functions/lib/certificates";
import { resolveAlb, type VerifyDeps, type VerifyInput, verifyConnection } from "../../functions/verify-connection/core";
import { ENDPOINT_RETRIES } from "../../functions/lib/errors";
import type { ImportedCertificate, Target } from "../../functions/lib/state";
import { type MilvusServer, startMilvusServer } from "../../sandbox/milvus-server";
import { type CertificateSet, certificateSet, type Issued, issue } from "../../sandbox/pki";
import { secretsManagerStub } from "../secrets-manager-stub";

const HOST = "milvus-demo.milvus.io";
const ALB = "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com";
const ARN = "arn:aws:acm:us-east-2:123456789012:certificate/11111111-2222-3333-4444-555555555555";

// ---- ALB stand-in ---------------------------------------------------------------------------------------

interface AlbProxy {
  port: number;
  /** Every request's :authority, in arrival order. */
  authorities: string[];
  /** Client connections (TCP) still open. */
  openConnections(): number;
  close(): Promise<void>;
}

interface AlbProxyOptions {
  leaf: Issued;
  /** Served after the leaf, as ACM serves the imported chain. */
  chainPem: string;
  /** Host (without port) → upstream h2c port; any other :authority gets 404 like an unmatched ALB rule. */
  routes: Record<string, number>;
  /** Answer every request with this HTTP status instead (503: targets not healthy yet). */
  status?: number;
  /** Where the listener binds: 127.0.0.1 unless an IPv6 (AAAA) address is wanted. */
  listenHost?: string;
}

// Pseudo-headers and hop-by-hop headers are per connection; everything else (te, content-type, grpc-*) travels.
function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith(":") && k !== "connection" && k !== "keep-alive") out[k] = v;
  }
  return out;
}

async function startAlbProxy(opts: AlbProxyOptions): Promise<AlbProxy> {
  const authorities: string[] = [];
  const sessions = new Set<Http2Session>();
  // Raw sockets too: a client that rejects our certificate mid-handshake never becomes an HTTP/2 session,
  // and server.close() waits for every socket.
  const sockets = new Set<Socket>();
  const upstreams = new Map<number, ClientHttp2Session>();
  const upstream = (port: number): ClientHttp2Session => {
    let s = upstreams.get(port);
    if (!s || s.closed || s.destroyed) {
      s = http2Connect(`http://127.0.0.1:${port}`);
      s.on("error", () => undefined); // surfaced per stream below
      upstreams.set(port, s);
    }
    return s;
  };
  const server = createSecureServer({ key: opts.leaf.keyPem, cert: opts.leaf.certPem + opts.chainPem });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  // A client that only checks TLS hangs up without an HTTP/2 preface; that is not a test failure.
  server.on("sessionError", () => undefined);
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    const authority = String(headers[":authority"] ?? "");
    authorities.push(authority);
    if (opts.status) {
      stream.respond({ ":status": opts.status, "content-type": "text/html" });
      stream.end(`<html><body>${opts.status}</body></html>`);
      return;
    }
    const port = opts.routes[authority.replace(/:\d+$/, "")];
    if (port === undefined) {
      stream.respond({ ":status": 404, "content-type": "text/html" });
      stream.end("<html><body>404 Not Found</body></html>");
      return;
    }
    const up = upstream(port).request({
      ...forwardable(headers),
      ":method": headers[":method"],
      ":path": headers[":path"],
      ":authority": authority,
    });
    let trailers: OutgoingHttpHeaders | undefined;
    stream.pipe(up);
    up.on("response", (resHeaders, flags) => {
      const status = Number(resHeaders[":status"]);
      if (flags & h2.NGHTTP2_FLAG_END_STREAM) {
        // gRPC "trailers-only" answer (an error status with no message): forward it as one HEADERS frame.
        stream.respond({ ...forwardable(resHeaders), ":status": status }, { endStream: true });
        return;
      }
      stream.respond({ ...forwardable(resHeaders), ":status": status }, { waitForTrailers: true });
      up.pipe(stream);
    });
    up.on("trailers", (t) => {
      trailers = forwardable(t);
    });
    stream.on("wantTrailers", () => {
      stream.sendTrailers(trailers ?? { "grpc-status": "14", "grpc-message": "upstream closed without trailers" });
    });
    up.on("error", () => {
      if (!stream.headersSent) {
        stream.respond({ ":status": 502 });
        stream.end();
      } else {
        stream.close(h2.NGHTTP2_INTERNAL_ERROR);
      }
    });
    stream.on("close", () => {
      if (!up.closed) up.close();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, opts.listenHost ?? "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    authorities,
    openConnections: () => sockets.size,
    close() {
      return new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        for (const s of upstreams.values()) s.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}

// ---- a Milvus that records what it receives ---------------------------------------------------------------

interface Received {
  method: string;
  request: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

interface RecordingMilvus {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/** Above 2^53: only an exact int64 decode hands it back unchanged. */
const IDENTIFIER = "463148839112884225";

/**
 * Connect, CheckHealth and GetVersion from the SDK's own proto and loader options, as the Milvus stand-in; `refuse`:
 * every call fails with that gRPC status instead.
 */
async function startRecordingMilvus(refuse?: { code: number; details: string }): Promise<RecordingMilvus> {
  const require = createRequire(import.meta.url);
  const proto = (require("@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus") as { default: object }).default;
  const pkg = loadPackageDefinition(
    fromJSON(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }),
  );
  const service = (((pkg.milvus as GrpcObject).proto as GrpcObject).milvus as GrpcObject).MilvusService as ServiceClientConstructor;
  const ok = { error_code: "Success", reason: "", code: 0 };
  const answers: Record<string, object> = {
    Connect: { status: ok, server_info: { build_tags: "v2.5.4" }, identifier: IDENTIFIER },
    CheckHealth: { status: ok, isHealthy: true, reasons: [] },
    GetVersion: { status: ok, version: "v2.5.4" },
  };
  const received: Received[] = [];
  const handlers: Record<string, UntypedHandleCall> = {};
  for (const [method, answer] of Object.entries(answers)) {
    handlers[method] = ((call: { request: Record<string, unknown>; metadata: { getMap(): Record<string, unknown> } }, callback: (e: null, a: object) => void) => {
      received.push({ method, request: call.request, metadata: call.metadata.getMap() });
      if (refuse) (callback as unknown as (e: object) => void)(refuse);
      else callback(null, answer);
    }) as UntypedHandleCall;
  }
  const server = new Server();
  server.addService(service.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { port, received, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

// ---- fixtures -------------------------------------------------------------------------------------------

let milvus: MilvusServer;
let set: CertificateSet;
let otherCa: CertificateSet;
const proxies: AlbProxy[] = [];
let good: AlbProxy;
let sibling: AlbProxy; // same CA and host, another key: "the previous certificate"
let untrusted: AlbProxy; // chain to a root nobody trusts
let wrongName: AlbProxy; // trusted CA, but issued for another host
let expired: AlbProxy; // the previous certificate, expired
let otherHostOnly: AlbProxy; // listener rule for another host only → 404 for ours
let unhealthyTargets: AlbProxy; // 503 until targets pass health checks
let siblingLeaf: Issued;
let wrongNameLeaf: Issued;

/** `justImported`: whether this run wrote the certificate to ACM (the ALB may then still serve the old one). */
/** As import-certificate returns it; the trust anchors by default as it derives them: set's self-signed root. */
function imported(leaf: Issued, opts: { justImported?: boolean; trustAnchors?: string[] } = {}): ImportedCertificate {
  const x = new X509Certificate(leaf.certPem);
  return {
    arn: ARN,
    fingerprint256: x.fingerprint256,
    notAfter: new Date(x.validTo).toISOString(),
    imported: opts.justImported ?? false,
    daysToExpiry: Math.floor((Date.parse(x.validTo) - Date.now()) / 86_400_000),
    trustAnchors: opts.trustAnchors ?? selfSignedRoots(set.chainPem),
  };
}

const target: Target = {
  cluster: { name: "milvus", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: "milvus-demo", host: HOST, scheme: "internet-facing", annotations: {} },
};

function input(certificate: ImportedCertificate = imported(set.leaf)): VerifyInput {
  return { target, certificate, albHostname: ALB };
}

/** DNS answering the ALB name with one address per proxy (ALB node), as `resolve` hands them over. */
function deps(...nodes: AlbProxy[]): VerifyDeps {
  return {
    resolve: async (hostname) => {
      expect(hostname).toBe(ALB);
      return nodes.map((proxy) => ({ address: "127.0.0.1", port: proxy.port }));
    },
    timeoutMs: 5_000,
  };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const outcome = await p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  const error = outcome.error as Error;
  // Messages become the execution's Cause: never certificate material.
  expect(error.message).not.toContain("BEGIN");
  // The last EndpointNotReady becomes the Cause once the retries run out: it says they happen and what to check
  // then, never a bare "retrying".
  if (error.name === "EndpointNotReady") {
    expect(error.message).toMatch(new RegExp(`\\. ${ENDPOINT_RETRIES}; if it persists, [a-z].+\\.$`));
    expect(error.message).not.toMatch(/retrying/i);
  }
  return error;
}

beforeAll(async () => {
  milvus = await startMilvusServer({ version: "v2.5.4" });
  set = await certificateSet([HOST]);
  otherCa = await certificateSet([HOST]);
  siblingLeaf = await issue({ commonName: HOST, issuer: set.intermediate });
  wrongNameLeaf = await issue({ commonName: "other.milvus.io", issuer: set.intermediate });
  const expiredLeaf = await issue({
    commonName: HOST,
    issuer: set.intermediate,
    notBefore: new Date(Date.now() - 100 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  const routes = { [HOST]: milvus.port };
  const start = async (o: AlbProxyOptions) => {
    const p = await startAlbProxy(o);
    proxies.push(p);
    return p;
  };
  good = await start({ leaf: set.leaf, chainPem: set.chainPem, routes });
  sibling = await start({ leaf: siblingLeaf, chainPem: set.chainPem, routes });
  untrusted = await start({ leaf: otherCa.leaf, chainPem: otherCa.intermediate.certPem, routes });
  wrongName = await start({ leaf: wrongNameLeaf, chainPem: set.chainPem, routes });
  expired = await start({ leaf: expiredLeaf, chainPem: set.chainPem, routes });
  otherHostOnly = await start({ leaf: set.leaf, chainPem: set.chainPem, routes: { "other.milvus.io": milvus.port } });
  unhealthyTargets = await start({ leaf: set.leaf, chainPem: set.chainPem, routes, status: 503 });
});

afterEach(() => {
  milvus.setFault(undefined);
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await milvus?.close();
});

// ---- tests ----------------------------------------------------------------------------------------------

describe("verifyConnection", () => {
  it("verifies the served certificate and Milvus through the ALB, sending :authority = the Ingress host", async () => {
    const before = milvus.calls.length;
    const result = await verifyConnection(input(), deps(good));
    const leaf = new X509Certificate(set.leaf.certPem);
    expect(result).toEqual({
      host: HOST,
      albHostname: ALB,
      address: "127.0.0.1",
      addresses: [`127.0.0.1:${good.port}`],
      servedFingerprint256: leaf.fingerprint256,
      servedNotAfter: new Date(leaf.validTo).toISOString(),
      milvusVersion: "v2.5.4",
      healthy: true,
      milvusAuth: "none",
      // An internet-facing target, and Milvus answered without credentials.
      warnings: [expect.stringContaining("anyone who can resolve the host can read and write its collections")],
    });
    // The ALB routes on :authority: the client must send the host, not the address it dialled.
    expect(good.authorities.length).toBeGreaterThanOrEqual(3);
    expect(new Set(good.authorities)).toEqual(new Set([HOST]));
    expect(milvus.calls.slice(before)).toEqual(
      expect.arrayContaining([`Connect@${HOST}`, `CheckHealth@${HOST}`, `GetVersion@${HOST}`]),
    );
  });

  // Without credentials, with a username and password (from the secret Target.milvusCredentials names), and with
  // a token: each time the SDK given the same credentials is the reference.
  it.each([
    { auth: "none", secret: undefined },
    { auth: "password", secret: { username: "alice", password: "pa:ss wörd" } },
    { auth: "token", secret: { token: "root:Milvus" } },
  ] as const)("sends what @zilliz/milvus2-sdk-node sends: the same RPCs, Connect request and metadata (auth $auth)", async ({ auth, secret }) => {
    const recording = await startRecordingMilvus();
    const proxy = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: { [HOST]: recording.port } });
    proxies.push(proxy);
    try {
      const sdk = new MilvusClient({
        address: `127.0.0.1:${recording.port}`,
        ...secret,
        timeout: 5_000,
        maxRetries: 0,
        telemetry: { enabled: false },
        logLevel: "warn",
      });
      await sdk.checkHealth();
      await sdk.getVersion();
      await sdk.closeConnection();
      const bySdk = recording.received.splice(0);

      const withSecret = secret ? { ...target, milvusCredentials: { secretsManager: { secretId: "milvus-l7/milvus" } } } : target;
      const result = await verifyConnection(
        { ...input(), target: withSecret },
        { ...deps(proxy), secretsManager: secretsManagerStub({ "milvus-l7/milvus": JSON.stringify(secret ?? {}) }) },
      );
      expect(result.milvusAuth).toBe(auth);
      const byUs = recording.received.splice(0);

      // Equal but for the clock: Connect's client_info.local_time and every call's client-request-unixmsec.
      const clockless = ({ method, request, metadata }: Received) => {
        const info = request.client_info as Record<string, unknown> | undefined;
        if (info) expect(info.local_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
        expect(metadata["client-request-unixmsec"]).toMatch(/^\d{13}$/);
        return {
          method,
          request: info ? { ...request, client_info: { ...info, local_time: "<clock>" } } : request,
          metadata: { ...metadata, "client-request-unixmsec": "<clock>" },
        };
      };
      expect(byUs.map((r) => r.method)).toEqual(["Connect", "CheckHealth", "GetVersion"]);
      expect(byUs.map(clockless)).toEqual(bySdk.map(clockless));
      // What that is, for the record: SDK 3.0.6 as a nodejs client whose user is the username ("" for a token or
      // none), the credentials as base64 on every call (Connect included), the default database, and from the
      // second call on the identifier Connect handed out (an int64 beyond 2^53, echoed exactly).
      const user = secret && "username" in secret ? secret.username : "";
      expect(byUs[0]?.request.client_info).toMatchObject({ sdk_type: "nodejs", sdk_version: "3.0.6", user });
      const raw = secret ? ("token" in secret ? secret.token : `${secret.username}:${secret.password}`) : undefined;
      for (const call of byUs) {
        if (raw) expect(call.metadata.authorization).toBe(Buffer.from(raw).toString("base64"));
        else expect(call.metadata).not.toHaveProperty("authorization");
      }
      expect(byUs[0]?.metadata).toMatchObject({ dbname: "default" });
      expect(byUs[0]?.metadata).not.toHaveProperty("identifier");
      expect(byUs[2]?.metadata).toMatchObject({ dbname: "default", identifier: IDENTIFIER });
    } finally {
      await recording.close();
    }
  });

  describe("Milvus with authentication on", () => {
    const SECRET = "milvus-l7/milvus-root";
    const PASSWORD = "Pa:ss-7f3e";
    const withSecret: Target = { ...target, milvusCredentials: { secretsManager: { secretId: SECRET } } };
    afterEach(() => milvus.disableAuth());

    it("with the secret's username and password → verified, milvusAuth password, no exposure warning", async () => {
      milvus.enableAuth({ users: { root: "Milvus", alice: PASSWORD } });
      const sm = secretsManagerStub({ [SECRET]: JSON.stringify({ username: "alice", password: PASSWORD }) });
      const result = await verifyConnection({ ...input(), target: withSecret }, { ...deps(good), secretsManager: sm });
      expect(result).toMatchObject({ milvusVersion: "v2.5.4", milvusAuth: "password", warnings: [] });
      // Read at call time, every time: a rotated password is picked up by the next check.
      expect(sm.reads).toEqual([SECRET]);
    });

    it("no credentials → MilvusUnauthenticated naming milvus.credentials, with Milvus's message", async () => {
      milvus.enableAuth({ users: { root: "Milvus" } });
      const error = await failure(verifyConnection(input(), deps(good)));
      expect(error.name).toBe("MilvusUnauthenticated");
      expect(error.message).toContain("requires authentication");
      expect(error.message).toContain("milvus.credentials");
      expect(error.message).toContain("missing authorization in header");
      expect(error.message).not.toContain("Ingress backend");
    });

    it("refused credentials → MilvusUnauthenticated naming the secret, never the password", async () => {
      milvus.enableAuth({ users: { root: "Milvus", alice: "another" } });
      const sm = secretsManagerStub({ [SECRET]: JSON.stringify({ username: "alice", password: PASSWORD }) });
      const error = await failure(verifyConnection({ ...input(), target: withSecret }, { ...deps(good), secretsManager: sm }));
      expect(error.name).toBe("MilvusUnauthenticated");
      expect(error.message).toContain(`refused the credentials in secret ${SECRET}`);
      expect(error.message).toContain("please check username and password are correct");
      expect(error.message).not.toContain(PASSWORD);
      expect(error.message).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString("base64"));
    });

    it("a malformed secret → MilvusCredentialsError before any connection", async () => {
      const sm = secretsManagerStub({ [SECRET]: `alice:${PASSWORD}` });
      const before = good.authorities.length;
      const error = await failure(verifyConnection({ ...input(), target: withSecret }, { ...deps(good), secretsManager: sm }));
      expect(error.name).toBe("MilvusCredentialsError");
      expect(error.message).toContain(SECRET);
      expect(error.message).not.toContain(PASSWORD);
      expect(good.authorities.length).toBe(before);
    });

    it("an HTTP 403 or 401 from the ALB itself (WAF, authenticate action) is not blamed on Milvus's credentials", async () => {
      for (const status of [403, 401]) {
        const proxy = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: { [HOST]: milvus.port }, status });
        proxies.push(proxy);
        const error = await failure(verifyConnection(input(), deps(proxy)));
        expect(error.name, String(status)).toBe("VerificationFailed");
        expect(error.message).toContain(`HTTP status code ${status}`);
      }
    });

    it("PERMISSION_DENIED → MilvusPermissionDenied with Milvus's message, naming the secret", async () => {
      const details = "PrivilegeGetVersion: permission deny to alice in the `default` database";
      const recording = await startRecordingMilvus({ code: 7, details });
      const proxy = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: { [HOST]: recording.port } });
      proxies.push(proxy);
      try {
        const sm = secretsManagerStub({ [SECRET]: JSON.stringify({ username: "alice", password: PASSWORD }) });
        const error = await failure(verifyConnection({ ...input(), target: withSecret }, { ...deps(proxy), secretsManager: sm }));
        expect(error.name).toBe("MilvusPermissionDenied");
        expect(error.message).toContain(details);
        expect(error.message).toContain(`the user in secret ${SECRET}`);
        expect(error.message).not.toContain(PASSWORD);
      } finally {
        await recording.close();
      }
    });
  });

  it("leaves no connection open: the TLS check's and the gRPC channel's are closed", async () => {
    const proxy = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: { [HOST]: milvus.port } });
    proxies.push(proxy);
    await verifyConnection(input(), deps(proxy));
    // Also after a call that did not finish: its deadline expired.
    milvus.setFault("deadline");
    await failure(verifyConnection(input(), { ...deps(proxy), timeoutMs: 300 }));
    const deadline = Date.now() + 2_000;
    while (proxy.openConnections() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.openConnections()).toBe(0);
  });

  it("a different certificate served (the previous one) → EndpointNotReady naming both", async () => {
    const error = await failure(verifyConnection(input(), deps(sibling)));
    expect(error.name).toBe("EndpointNotReady");
    const served = new X509Certificate(siblingLeaf.certPem);
    const expected = imported(set.leaf);
    expect(error.message).toContain(`served SHA-256 ${served.fingerprint256}`);
    expect(error.message).toContain(`subject CN=${HOST}`);
    expect(error.message).toContain(`notAfter ${new Date(served.validTo).toISOString()}`);
    expect(error.message).toContain(`imported SHA-256 ${expected.fingerprint256}, notAfter ${expected.notAfter}`);
    expect(error.message).toContain(ARN);
    // Refused before any Milvus RPC: nothing reached the proxy's HTTP/2 layer.
    expect(sibling.authorities).toEqual([]);
  });

  it("a chain to an untrusted root → VerificationFailed naming the reason and the fix", async () => {
    // The imported certificate itself, from a private CA whose root was not in the imported chain.
    const error = await failure(
      verifyConnection(input(imported(otherCa.leaf, { trustAnchors: [] })), deps(untrusted)),
    );
    expect(error.name).toBe("VerificationFailed");
    expect(error.message).toMatch(/UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(error.message).toContain("does not lead to a trusted root");
    expect(error.message).toContain("Re-import with the complete chain");
    expect(untrusted.authorities).toEqual([]);
  });

  it("an untrusted chain right after a re-import is retryable: the ALB may still serve the previous certificate", async () => {
    const error = await failure(
      verifyConnection(input(imported(otherCa.leaf, { justImported: true, trustAnchors: [] })), deps(untrusted)),
    );
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("does not lead to a trusted root");
    expect(error.message).toContain("just imported");
  });

  it("a self-signed root in the served chain is still untrusted unless it is a trust anchor", async () => {
    const error = await failure(
      // good serves set's chain including its root; trusting otherCa's root instead must not help.
      verifyConnection(input(imported(otherCa.leaf, { trustAnchors: selfSignedRoots(otherCa.chainPem) })), deps(good)),
    );
    expect(error.name).toBe("VerificationFailed");
    expect(error.message).toContain("SELF_SIGNED_CERT_IN_CHAIN");
  });

  it("the imported certificate does not cover the host → VerificationFailed", async () => {
    const error = await failure(verifyConnection(input(imported(wrongNameLeaf)), deps(wrongName)));
    expect(error.name).toBe("VerificationFailed");
    expect(error.message).toContain(`does not cover ${HOST}`);
    expect(error.message).toContain("DNS:other.milvus.io");
    expect(error.message).toContain("subjectAltName includes the Ingress host");
  });

  it("another certificate for the wrong host still served → EndpointNotReady (not the imported one)", async () => {
    const error = await failure(verifyConnection(input(), deps(wrongName)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain(`served SHA-256 ${new X509Certificate(wrongNameLeaf.certPem).fingerprint256}`);
  });

  it("the previous, expired certificate still served after a renewal → EndpointNotReady", async () => {
    const error = await failure(verifyConnection(input(), deps(expired)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("serves an expired certificate");
    expect(error.message).toContain(`valid until ${imported(set.leaf).notAfter}`);
  });

  it("an ALB 404 for our :authority (rule for another host only) → EndpointNotReady", async () => {
    const error = await failure(verifyConnection(input(), deps(otherHostOnly)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("UNIMPLEMENTED");
    expect(error.message).toContain("HTTP 404");
    expect(otherHostOnly.authorities.length).toBeGreaterThan(0);
    expect(new Set(otherHostOnly.authorities)).toEqual(new Set([HOST]));
  });

  it("an ALB 503 (targets not healthy yet) → EndpointNotReady", async () => {
    const error = await failure(verifyConnection(input(), deps(unhealthyTargets)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("UNAVAILABLE (14)");
    expect(error.message).toContain("Received HTTP status code 503");
  });

  it("Milvus fault 'unavailable' → EndpointNotReady", async () => {
    milvus.setFault("unavailable");
    const error = await failure(verifyConnection(input(), deps(good)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("Milvus Connect");
    expect(error.message).toContain("UNAVAILABLE (14): sandbox: Milvus proxy is not serving");
  });

  it("Milvus fault 'unhealthy' → EndpointNotReady with Milvus's reasons", async () => {
    milvus.setFault("unhealthy");
    const error = await failure(verifyConnection(input(), deps(good)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("Milvus v2.5.4");
    expect(error.message).toContain("reports itself unhealthy: sandbox: querynode not ready");
  });

  it("Milvus fault 'deadline' → EndpointNotReady after timeoutMs", async () => {
    milvus.setFault("deadline");
    const error = await failure(verifyConnection(input(), { ...deps(good), timeoutMs: 400 }));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("no answer within 400 ms");
    expect(error.message).toContain("DEADLINE_EXCEEDED (4)");
  });

  it("connection refused → EndpointNotReady", async () => {
    const closed = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: {} });
    await closed.close();
    const error = await failure(verifyConnection(input(), deps(closed)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("an ALB hostname that does not resolve yet → EndpointNotReady", async () => {
    const error = await failure(
      verifyConnection(input(), { ...deps(good), resolve: (_hostname, port) => resolveAlb("does-not-exist.invalid", port) }),
    );
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain(`The ALB hostname ${ALB} does not resolve yet`);
  });
});

// An ALB has a node per Availability Zone and DNS answers with all of them: each must be right.
describe("verifyConnection on every address of the ALB", () => {
  it("verifies each address (A and AAAA) and lists them", async () => {
    const second = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: { [HOST]: milvus.port } });
    const ipv6 = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: { [HOST]: milvus.port }, listenHost: "::1" });
    proxies.push(second, ipv6);
    const nodes = [
      { address: "127.0.0.1", port: good.port },
      { address: "127.0.0.1", port: second.port },
      { address: "::1", port: ipv6.port },
    ];
    const result = await verifyConnection(input(), { ...deps(), resolve: async () => nodes });
    expect(result.addresses).toHaveLength(3);
    expect(result.addresses).toEqual([`127.0.0.1:${good.port}`, `127.0.0.1:${second.port}`, `[::1]:${ipv6.port}`]);
    expect(result.address).toBe("127.0.0.1");
    // Each node carried the Milvus check, not just the TLS one.
    for (const node of [second, ipv6]) expect(node.authorities.length).toBeGreaterThanOrEqual(3);
  });

  it("one node still serving the previous certificate of the same CA → EndpointNotReady naming it and what it served", async () => {
    const error = await failure(verifyConnection(input(), deps(good, sibling)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain(`ALB ${ALB} (127.0.0.1:${sibling.port}, address 2 of 2) serves a different certificate`);
    expect(error.message).toContain(`served SHA-256 ${new X509Certificate(siblingLeaf.certPem).fingerprint256}`);
    expect(error.message).toContain(`imported SHA-256 ${new X509Certificate(set.leaf.certPem).fingerprint256}`);
    expect(error.message).not.toContain(`127.0.0.1:${good.port}`);
  });

  it("one node unreachable → EndpointNotReady naming that address", async () => {
    const closed = await startAlbProxy({ leaf: set.leaf, chainPem: set.chainPem, routes: {} });
    await closed.close();
    const error = await failure(verifyConnection(input(), deps(good, closed)));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain(`(127.0.0.1:${closed.port}, address 2 of 2) did not complete a TLS handshake`);
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("a terminal failure on one node outranks a node still converging", async () => {
    // sibling: a node still converging (retryable); untrusted: a chain nothing trusts, the certificate not just
    // imported (terminal).
    const error = await failure(verifyConnection(input(), deps(sibling, untrusted)));
    expect(error.name).toBe("VerificationFailed");
    expect(error.message).toContain(`(127.0.0.1:${untrusted.port}, address 2 of 2)`);
    expect(error.message).toContain("does not lead to a trusted root");
  });

  it("a name without addresses → EndpointNotReady (does not resolve yet)", async () => {
    const error = await failure(verifyConnection(input(), { ...deps(), resolve: async () => [] }));
    expect(error.name).toBe("EndpointNotReady");
    expect(error.message).toContain(`The ALB hostname ${ALB} does not resolve yet`);
  });
});

// The Lambdas' Kubernetes client against local HTTPS servers whose connections we count: one keep-alive
// connection per cluster, a dead kept-alive socket retried, deadlines and watch bounds that leave no socket open,
// Retry-After, the error translation, and the CLI's kubeconfig connector (token, client certificate, exec plugin).
import "reflect-metadata"; // before @peculiar/x509
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Server, createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { webcrypto } from "node:crypto";
import { KubeConfig } from "@kubernetes/client-node";
import * as x509 from "@peculiar/x509";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kubeconfigConnector } from "../../cli/kubeconfig";
import { KubeClient, keepAliveAgent } from "../../functions/lib/kube-client";
import { type Issued, issue } from "../../sandbox/pki";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

interface TestServer {
  url: string;
  /** TLS connections accepted, and those still open. */
  opened: number;
  open: number;
  requests: { method: string; url: string; authorization?: string; clientCert?: string }[];
  handler: Handler;
  server: Server;
}

let ca: Issued;
let serving: Issued;
const servers: TestServer[] = [];

beforeAll(async () => {
  ca = await issue({ commonName: "kube-client test CA", isCa: true });
  serving = await issue({ commonName: "localhost", issuer: ca });
});

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.server.closeAllConnections();
    await new Promise((resolve) => s.server.close(resolve));
  }
});

async function startServer(handler: Handler, tls: { requestCert?: boolean } = {}): Promise<TestServer> {
  const state = { opened: 0, open: 0, requests: [], handler } as unknown as TestServer;
  const server = createServer(
    { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: tls.requestCert, rejectUnauthorized: tls.requestCert },
    (req, res) => {
      const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate?.();
      state.requests.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, clientCert: peer?.subject?.CN?.toString() });
      state.handler(req, res, state.requests.length);
    },
  );
  server.on("secureConnection", (socket) => {
    state.opened++;
    state.open++;
    socket.on("close", () => state.open--);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("no address");
  Object.assign(state, { url: `https://127.0.0.1:${address.port}`, server });
  servers.push(state);
  return state;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};
const status = (code: number, message: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", message, code });
const ok: Handler = (_req, res) => json(res, 200, { metadata: { name: "milvus-demo" }, spec: { type: "LoadBalancer" } });

// The serving certificate names localhost; the connection goes to 127.0.0.1 (as a kubeconfig's tls-server-name).
const client = (s: TestServer, timeoutMs?: number, token = "t") =>
  new KubeClient({ server: s.url, agent: keepAliveAgent({ ca: ca.certPem, servername: "localhost" }), headers: { Authorization: `Bearer ${token}` } }, timeoutMs);

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("keep-alive", () => {
  it("makes many calls over one TLS connection, across token refreshes", async () => {
    const s = await startServer(ok);
    const first = client(s);
    for (let i = 0; i < 20; i++) await first.get("read Service milvus/milvus-demo", "/api/v1/namespaces/milvus/services/milvus-demo");
    // A refreshed token: a new header on the same agent.
    const refreshed = new KubeClient({ ...first.connection, headers: { Authorization: "Bearer t2" } });
    await refreshed.get("read Service", "/api/v1/namespaces/milvus/services/milvus-demo");
    expect(s.requests).toHaveLength(21);
    expect(s.requests.at(-1)?.authorization).toBe("Bearer t2");
    expect(s.opened).toBe(1);
  });

  it("retries a call whose kept-alive socket turns out dead, once, on a fresh connection", async () => {
    const s = await startServer((req, res, n) => (n === 2 ? req.socket.destroy() : ok(req, res, n)));
    const kube = client(s);
    await kube.get("read Service", "/api/v1/namespaces/milvus/services/milvus-demo");
    await expect(kube.get<{ spec: { type: string } }>("read Service", "/api/v1/namespaces/milvus/services/milvus-demo")).resolves.toMatchObject({
      spec: { type: "LoadBalancer" },
    });
    expect(s.requests).toHaveLength(3);
    expect(s.opened).toBe(2);
  });

  it("does not retry a reset on a fresh connection: that is the server's answer", async () => {
    const s = await startServer((req) => req.socket.destroy());
    await expect(client(s).get("read Service milvus/milvus-demo", "/api/v1/namespaces/milvus/services/milvus-demo")).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringContaining("Kubernetes API unreachable during read Service milvus/milvus-demo (ECONNRESET)"),
    });
    expect(s.requests).toHaveLength(1);
  });
});

describe("deadlines and watches", () => {
  it("aborts a call that is never answered at its deadline and closes its connection", async () => {
    const s = await startServer(() => {});
    const started = Date.now();
    await expect(client(s, 300).get("read Ingress milvus/milvus-demo", "/apis/networking.k8s.io/v1/namespaces/milvus/ingresses/milvus-demo")).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringContaining("did not answer read Ingress milvus/milvus-demo within 300 ms"),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    await until("the connection to close", () => s.open === 0);
  });

  it("ends a watch whose response never starts at its bound, leaving no socket open", async () => {
    const s = await startServer(() => {});
    const kube = client(s);
    const started = Date.now();
    await kube.watch("watch Ingress milvus/milvus-demo", "/apis/networking.k8s.io/v1/namespaces/milvus/ingresses", {}, 0.3, () => true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(s.requests[0]?.url).toMatch(/^\/apis\/networking\.k8s\.io\/v1\/namespaces\/milvus\/ingresses\?watch=true&timeoutSeconds=1$/);
    await until("the connection to close", () => s.open === 0);
    expect(Object.keys(kube.connection.agent.sockets)).toEqual([]);
  });

  it("returns from a watch as soon as the awaited event arrives, ends its request, and does not hold up other calls", async () => {
    const s = await startServer((req, res) => {
      if (!req.url?.includes("watch=true")) return ok(req, res, 0);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } })}\n`);
      setTimeout(() => res.write(`${JSON.stringify({ type: "MODIFIED", object: { metadata: { name: "a" }, status: { ready: true } } })}\n`), 200);
    });
    const kube = client(s);
    const seen: string[] = [];
    const watching = kube.watch<{ status?: { ready?: boolean } }>("watch", "/apis/x", { resourceVersion: "5" }, 10, (e) => {
      seen.push(e.type);
      return e.object.status?.ready === true;
    });
    // Another call while the watch is open gets its own connection.
    await kube.get("read", "/api/v1/namespaces/milvus/services/milvus-demo");
    const started = Date.now();
    await watching;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(seen).toEqual(["ADDED", "MODIFIED"]);
    expect(s.requests.find((r) => r.url.includes("watch"))?.url).toContain("resourceVersion=5");
    await until("the watch's connection to close", () => s.open === 1);
  });

  it("re-lists on 410 Expired and watches on from the list's resourceVersion within the same bound; translates other watch errors", async () => {
    let code = 410;
    const s = await startServer((req, res, n) => {
      if (!req.url?.includes("watch=true")) {
        return json(res, 200, { metadata: { resourceVersion: "9" }, items: [{ metadata: { name: "x", resourceVersion: "8" }, status: {} }] });
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      if (n === 1 || code !== 410) res.write(`${JSON.stringify({ type: "ERROR", object: status(code, "too old resource version: 1 (5)") })}\n`);
      else res.end(`${JSON.stringify({ type: "MODIFIED", object: { metadata: { name: "x" }, status: { ready: true } } })}\n`);
    });
    const kube = client(s);
    const seen: string[] = [];
    await kube.watch<{ status?: { ready?: boolean } }>("watch Ingress milvus/x", "/apis/x", { fieldSelector: "metadata.name=x", resourceVersion: "1" }, 5, (e) => {
      seen.push(`${e.type} ${e.object.status?.ready === true}`);
      return e.object.status?.ready === true;
    });
    expect(seen).toEqual(["ADDED false", "MODIFIED true"]);
    expect(s.requests.map((r) => r.url)).toEqual([
      "/apis/x?watch=true&fieldSelector=metadata.name%3Dx&resourceVersion=1&timeoutSeconds=5",
      "/apis/x?fieldSelector=metadata.name%3Dx",
      expect.stringMatching(/^\/apis\/x\?watch=true&fieldSelector=metadata.name%3Dx&resourceVersion=9&timeoutSeconds=[45]$/),
    ]);
    code = 500;
    await expect(kube.watch("watch Ingress milvus/x", "/apis/x", {}, 5, () => false)).rejects.toMatchObject({ name: "KubernetesUnavailable" });
  });

  it("retries a watch answered 504 Too large resource version once after its Retry-After", async () => {
    const tooLarge = status(504, "Timeout: Too large resource version: 12, current: 11");
    const s = await startServer((_req, res, n) => {
      if (n === 1) return json(res, 504, tooLarge, { "Retry-After": "1" });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(`${JSON.stringify({ type: "MODIFIED", object: { spec: { type: "ClusterIP" } } })}\n`);
    });
    const started = Date.now();
    let type: string | undefined;
    await client(s).watch<{ spec: { type: string } }>("watch Service milvus/a", "/api/v1/namespaces/milvus/services", { resourceVersion: "12" }, 5, (e) => {
      type = e.object.spec.type;
      return true;
    });
    expect(type).toBe("ClusterIP");
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(s.requests).toHaveLength(2);
    const again = await startServer((_req, res) => json(res, 504, tooLarge, { "Retry-After": "1" }));
    await expect(client(again).watch("watch Service milvus/a", "/x", { resourceVersion: "12" }, 5, () => true)).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringContaining("Too large resource version: 12, current: 11"),
    });
    expect(again.requests).toHaveLength(2);
  });

  it("fails a watch whose request is refused, with the Status message", async () => {
    const s = await startServer((_req, res) => json(res, 403, status(403, 'ingresses.networking.k8s.io is forbidden: User "x" cannot watch')));
    await expect(client(s).watch("watch Ingress milvus/x", "/apis/x", {}, 5, () => false)).rejects.toMatchObject({
      name: "KubernetesForbidden",
      message: expect.stringContaining("cannot watch"),
    });
  });
});

describe("Retry-After", () => {
  it("waits once for a short Retry-After inside the call", async () => {
    const s = await startServer((req, res, n) => (n === 1 ? json(res, 429, status(429, "Too many requests"), { "Retry-After": "1" }) : ok(req, res, n)));
    const started = Date.now();
    await client(s).get("read", "/api/v1/namespaces/milvus/services/milvus-demo");
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(s.requests).toHaveLength(2);
  });

  it("leaves a long Retry-After, a second throttle or one past the deadline to the step's Retry, saying how long the server asked for", async () => {
    const s = await startServer((_req, res, n) => json(res, n === 1 ? 503 : 429, status(429, "Too many requests, please try again later."), { "Retry-After": n === 1 ? "30" : "1" }));
    await expect(client(s).get("read Service milvus/a", "/a")).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringMatching(/^Kubernetes API answered 503 to read Service milvus\/a: Too many requests, please try again later \(it asked to retry after 30 s\)\. /),
    });
    expect(s.requests).toHaveLength(1);
    await expect(client(s).get("read", "/a")).rejects.toMatchObject({ message: expect.stringContaining("answered 429") });
    expect(s.requests).toHaveLength(3);
    // A 1.5 s deadline leaves no second for a retry after 1 s.
    await expect(client(s, 1_500).get("read", "/a")).rejects.toMatchObject({ message: expect.stringContaining("answered 429") });
    expect(s.requests).toHaveLength(4);
  });
});

describe("errors", () => {
  const cases: [number, string, string, string][] = [
    [401, "Unauthorized", "KubernetesForbidden", "Kubernetes API refused read Service milvus/a (401): Unauthorized: the cluster did not accept the token, so this is authentication, not permissions. Either the milvus-l7 Lambda role has no EKS access entry on this cluster"],
    [401, "Unauthorized", "KubernetesForbidden", "or the token was presigned for another region or partition than the cluster's"],
    [403, 'services "a" is forbidden', "KubernetesForbidden", 'refused read Service milvus/a (403): services "a" is forbidden. Grant the milvus-l7 Lambda role an EKS access entry with AmazonEKSEditPolicy'],
    [403, 'services "a" is forbidden: User "arn:aws:sts::1:assumed-role/l7/x" cannot get resource "services" in API group "" in the namespace "milvus"', "KubernetesForbidden", "may not get services in namespace milvus. Grant the milvus-l7 Lambda role an EKS access entry with AmazonEKSEditPolicy scoped to namespace milvus, or bind it an RBAC Role in milvus that allows get on services"],
    [403, 'ingressclasses.networking.k8s.io "alb" is forbidden: User "r" cannot get resource "ingressclasses" in API group "networking.k8s.io" at the cluster scope', "KubernetesForbidden", "may not get ingressclasses.networking.k8s.io at the cluster scope, which a namespace-scoped access policy never covers"],
    [400, 'admission webhook "vingress.elbv2.k8s.aws" denied the request: invalid ingress class: IngressClass.networking.k8s.io "alb" not found', "AdmissionDenied", "The cluster's admission policy refused read Service milvus/a (400): the admission webhook \"vingress.elbv2.k8s.aws\" denied it: invalid ingress class: IngressClass.networking.k8s.io \"alb\" not found. This is a policy the cluster enforces on the object (a validating or mutating webhook), not a missing IAM or RBAC permission"],
    [403, 'admission webhook "deny.example.com" denied the request without explanation', "AdmissionDenied", 'the admission webhook "deny.example.com" denied it without explanation.'],
    [500, 'Internal error occurred: failed calling webhook "mservice.elbv2.k8s.aws": failed to call webhook: Post "https://aws-load-balancer-webhook-service.kube-system.svc:443/mutate-v1-service?timeout=10s": context deadline exceeded', "KubernetesUnavailable", 'could not reach the admission webhook "mservice.elbv2.k8s.aws"'],
    [404, 'services "a" not found', "KubernetesNotFound", 'Not found: read Service milvus/a: services "a" not found. Check cluster'],
    [409, 'Operation cannot be fulfilled on services "a": the object has been modified; please apply your changes to the latest version and try again', "KubernetesUnavailable", "the object changed between read and write"],
    [409, 'Apply failed with 1 conflict: conflict with "kubectl"', "KubernetesConflict", 'Conflict on read Service milvus/a: Apply failed with 1 conflict: conflict with "kubectl"'],
    [422, 'Service "a" is invalid', "KubernetesRejected", 'Kubernetes API rejected read Service milvus/a (422): Service "a" is invalid.'],
    [500, "Internal error occurred", "KubernetesUnavailable", "Kubernetes API answered 500 to read Service milvus/a: Internal error occurred. This is usually transient"],
  ];
  for (const [code, message, name, text] of cases) {
    it(`${code} ${message.slice(0, 40)} → ${name}`, async () => {
      const s = await startServer((_req, res) => json(res, code, status(code, message)));
      await expect(client(s).get("read Service milvus/a", "/a")).rejects.toMatchObject({ name, message: expect.stringContaining(text) });
    });
  }

  it("keeps the text of an answer that is not a Status", async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(502, { "Content-Type": "text/html" });
      res.end("<html>Bad Gateway</html>");
    });
    await expect(client(s).get("read Service milvus/a", "/a")).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringContaining("answered 502 to read Service milvus/a: <html>Bad Gateway</html>"),
    });
  });

  it("a closed port is unreachable, and retryable", async () => {
    const s = await startServer(ok);
    const url = s.url;
    s.server.close();
    servers.splice(servers.indexOf(s), 1);
    await expect(client({ ...s, url }).get("read Service milvus/a", "/a")).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringContaining("unreachable during read Service milvus/a (ECONNREFUSED)"),
    });
  });

  it("reads absent objects as undefined and deletes idempotently", async () => {
    const s = await startServer((_req, res) => json(res, 404, status(404, "not found")));
    const kube = client(s);
    await expect(kube.getIfExists("read", "/a")).resolves.toBeUndefined();
    await expect(kube.delete("delete", "/a", { preconditions: { uid: "u" } })).resolves.toBeUndefined();
    expect(s.requests.map((r) => r.method)).toEqual(["GET", "DELETE"]);
  });

  it("deletes with a typed DeleteOptions carrying the preconditions", async () => {
    let sent: unknown;
    const s = await startServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        sent = JSON.parse(body);
        json(res, 200, status(200, "deleted"));
      });
    });
    await client(s).delete("delete", "/a", { preconditions: { uid: "u" } });
    expect(sent).toEqual({ kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "u" } });
  });
});

describe("kubeconfig connector (CLI)", () => {
  let dir: string;
  let clientCert: { certPem: string; keyPem: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
    clientCert = await clientCertificate("operator", ca);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const kubeconfig = (s: TestServer, user: Record<string, unknown>) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: `${s.url}/`, caData: Buffer.from(ca.certPem).toString("base64"), tlsServerName: "localhost" }],
      users: [{ name: "u", ...user }],
      contexts: [{ name: "ctx", cluster: "c", user: "u" }],
      currentContext: "ctx",
    });
    return kc;
  };

  it("authenticates with a client certificate over one keep-alive connection for the run", async () => {
    const s = await startServer(ok, { requestCert: true });
    const connect = kubeconfigConnector(
      kubeconfig(s, { certData: Buffer.from(clientCert.certPem).toString("base64"), keyData: Buffer.from(clientCert.keyPem).toString("base64") }),
    );
    const cluster = { name: "c", region: "us-east-2" };
    for (let i = 0; i < 3; i++) await (await connect(cluster)).get("read", "/api/v1/namespaces/milvus/services/milvus-demo");
    expect(s.requests.map((r) => r.clientCert)).toEqual(["operator", "operator", "operator"]);
    expect(s.opened).toBe(1);
  });

  it("takes the token of an exec plugin (as `aws eks get-token` writes a kubeconfig)", async () => {
    const s = await startServer(ok);
    const plugin = join(dir, "get-token");
    writeFileSync(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-token"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const connect = kubeconfigConnector(kubeconfig(s, { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: plugin, args: [] } }));
    await (await connect({ name: "c", region: "us-east-2" })).get("read", "/a");
    expect(s.requests[0]?.authorization).toBe("Bearer exec-token");
  });

  it("sends a kubeconfig's static token", async () => {
    const s = await startServer(ok);
    const kube = await kubeconfigConnector(kubeconfig(s, { token: "static" }))({ name: "c", region: "us-east-2" });
    expect(kube.connection.server).toBe(s.url);
    await kube.get("read", "/a");
    expect(s.requests[0]?.authorization).toBe("Bearer static");
  });
});

/** A leaf for TLS client authentication (the sandbox PKI issues server certificates). */
async function clientCertificate(commonName: string, issuer: Issued): Promise<{ certPem: string; keyPem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Date.now().toString(16),
    subject: `CN=${commonName}`,
    issuer: issuer.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return { certPem: cert.toString("pem"), keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n` };
}

// The Kubernetes API stand-in's injected faults (Status errors, dropped and unanswered requests) and its EKS
// bearer-token check, driven by @kubernetes/client-node v1 and presigned URLs made as the Lambdas make them.
import { request } from "node:https";
import { Sha256 } from "@aws-crypto/sha256-js";
import { CoreV1Api } from "@kubernetes/client-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AuthResult, type AuthenticatorPartition, eksTokenAuthenticator, type KubeApiServer, seedMilvusRelease, startKubeApiServer } from "../../sandbox/kube";
import { kubeConfig, mergePatch, NOW, rejection } from "../kube-api";

let server: KubeApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  server = await startKubeApiServer({ now: () => NOW });
  core = kubeConfig(server).makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await server.close();
});

describe("fault injection", () => {
  const read = () => core.readNamespacedService({ name: "milvus-demo", namespace: "milvus" });

  beforeEach(() => {
    server.clearFaults();
    seedMilvusRelease(server);
  });

  it("answers 429 with Retry-After and a TooManyRequests Status, then recovers", async () => {
    server.injectFault({ match: { method: "GET", pathIncludes: "/services/milvus-demo" }, respond: { status: 429, retryAfterSeconds: 3 } });
    const { code, status, headers } = await rejection(read());
    expect(code).toBe(429);
    expect(headers["retry-after"]).toBe("3");
    expect(status).toMatchObject({ kind: "Status", reason: "TooManyRequests", code: 429 });
    expect(server.requests.at(-1)).toMatchObject({ status: 429, fault: "status" });
    expect((await read()).metadata?.name).toBe("milvus-demo");
  });

  it.each([
    [500, "InternalError"],
    [503, "ServiceUnavailable"],
    [409, "Conflict"],
    [404, "NotFound"],
    [401, "Unauthorized"],
  ] as const)("answers %i with a %s Status", async (code, reason) => {
    server.injectFault({ match: { pathIncludes: "/services/milvus-demo" }, respond: { status: code } });
    const rejected = await rejection(read());
    expect(rejected.code).toBe(code);
    if (code !== 401) expect(rejected.status).toMatchObject({ kind: "Status", reason, code });
  });

  it("answers 403 naming the user, the verb and the namespace", async () => {
    server.injectFault({ match: { method: "PATCH" }, respond: { status: 403 } });
    const { code, status } = await rejection(
      core.patchNamespacedService({ name: "milvus-demo", namespace: "milvus", body: { spec: {} } }, mergePatch),
    );
    expect(code).toBe(403);
    expect(status.message).toBe(
      'services "milvus-demo" is forbidden: User "sandbox-user" cannot patch resource "services" in API group "" in the namespace "milvus"',
    );
  });

  it("applies a fault `times` times only", async () => {
    server.injectFault({ match: { pathIncludes: "milvus-demo" }, times: 2, respond: { status: 503 } });
    expect((await rejection(read())).code).toBe(503);
    expect((await rejection(read())).code).toBe(503);
    expect((await read()).metadata?.name).toBe("milvus-demo");
  });

  it("drops the connection on 'reset'", async () => {
    server.injectFault({ match: { pathIncludes: "milvus-demo" }, respond: "reset" });
    await expect(read()).rejects.toThrow(/socket hang up|ECONNRESET|reset/i);
    expect(server.requests.at(-1)).toMatchObject({ status: 0, fault: "reset" });
  });

  it("never answers on 'timeout', and close() still ends the connection", async () => {
    const own = await startKubeApiServer();
    try {
      own.injectFault({ match: { pathIncludes: "/api/v1" }, respond: "timeout" });
      const outcome = new Promise<string>((resolve) => {
        const req = request(`${own.url}/api/v1/namespaces`, {
          ca: own.caPem,
          headers: { authorization: "Bearer t" },
        });
        req.on("response", (res) => resolve(`answered ${res.statusCode}`));
        req.on("error", (err) => resolve(`error ${err.message}`));
        req.end();
      });
      const early = await Promise.race([outcome, new Promise((r) => setTimeout(() => r("pending"), 500))]);
      expect(early).toBe("pending");
      expect(own.requests.at(-1)).toMatchObject({ path: "/api/v1/namespaces", status: 0, fault: "timeout" });
      await own.close();
      expect(await outcome).toMatch(/^error /);
    } finally {
      await own.close();
    }
  });
});

// ------------------------------------------------------------------------------------------------------------
// EKS bearer tokens, made the way the Lambdas make them: a SigV4-presigned STS GetCallerIdentity URL.
// ------------------------------------------------------------------------------------------------------------

interface TokenOptions {
  signedAt?: Date;
  host?: string;
  action?: string;
  signClusterHeader?: boolean;
}

async function eksToken(opts: TokenOptions = {}): Promise<string> {
  const host = opts.host ?? "sts.us-east-2.amazonaws.com";
  const signer = new SignatureV4({
    service: "sts",
    region: "us-east-2",
    credentials: { accessKeyId: "AKIASANDBOX", secretAccessKey: "secret" },
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host };
  if (opts.signClusterHeader !== false) headers["x-k8s-aws-id"] = "milvus-cluster";
  const presigned = await signer.presign(
    new HttpRequest({
      method: "GET",
      protocol: "https:",
      hostname: host,
      path: "/",
      query: { Action: opts.action ?? "GetCallerIdentity", Version: "2011-06-15" },
      headers,
    }),
    { expiresIn: 60, signingDate: opts.signedAt ?? NOW },
  );
  const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
  return `k8s-aws-v1.${Buffer.from(`https://${host}/?${query}`).toString("base64url")}`;
}

describe("EKS bearer tokens", () => {
  const authenticate = eksTokenAuthenticator({ now: () => NOW });
  const reason = (result: AuthResult): string => (result.ok ? "accepted" : result.reason);

  it("accepts a presigned GetCallerIdentity URL with the cluster header signed", async () => {
    expect(authenticate(await eksToken())).toEqual({ ok: true, user: "AKIASANDBOX" });
    expect(authenticate(await eksToken({ host: "sts.amazonaws.com" })).ok).toBe(true);
    expect(authenticate(await eksToken({ signedAt: new Date(NOW.getTime() - 14 * 60_000) })).ok).toBe(true);
  });

  it("rejects expired, unsigned-cluster, wrong-host, wrong-action and malformed tokens", async () => {
    expect(reason(authenticate(await eksToken({ signedAt: new Date(NOW.getTime() - 16 * 60_000) })))).toContain(
      "X-Amz-Date parameter is expired (15 minute expiration)",
    );
    expect(reason(authenticate(await eksToken({ signClusterHeader: false })))).toContain(
      "client did not sign the x-k8s-aws-id header in the pre-signed URL",
    );
    expect(reason(authenticate(await eksToken({ host: "sts.evil.example.com" })))).toContain(
      'unexpected hostname "sts.evil.example.com"',
    );
    expect(reason(authenticate(await eksToken({ action: "AssumeRole" })))).toContain("unexpected action parameter");
    const good = await eksToken();
    expect(reason(authenticate(good.replace("k8s-aws-v1.", "k8s-aws-v2.")))).toContain("missing expected");
    const url = Buffer.from(good.slice("k8s-aws-v1.".length), "base64url").toString();
    let unpaddable = url;
    while (Buffer.byteLength(unpaddable) % 3 === 0) unpaddable += "0";
    const padded = `k8s-aws-v1.${Buffer.from(unpaddable).toString("base64")}`;
    expect(padded).toMatch(/=$/);
    expect(reason(authenticate(padded))).toContain("illegal base64 data");
    const extra = `k8s-aws-v1.${Buffer.from(`${url}&Foo=bar`).toString("base64url")}`;
    expect(reason(authenticate(extra))).toContain('non-whitelisted query parameter "Foo"');
  });

  // kubernetes-sigs/aws-iam-authenticator v0.7.18, pkg/token/token_test.go TestSTSEndpoints: the hosts each
  // partition's authenticator accepts and refuses.
  const STS_ENDPOINT_CASES: { partition: AuthenticatorPartition; host: string; accepted: boolean }[] = [
    { partition: "aws", host: "sts.amazonaws.com", accepted: true },
    { partition: "aws", host: "sts.us-west-2.amazonaws.com", accepted: true },
    { partition: "aws", host: "sts-fips.us-east-1.amazonaws.com", accepted: true },
    { partition: "aws", host: "sts.us-west-2.api.aws", accepted: true },
    { partition: "aws", host: "sts.amazonaws.com.cn", accepted: false },
    { partition: "aws-cn", host: "sts.cn-north-1.amazonaws.com.cn", accepted: true },
    { partition: "aws-cn", host: "sts.cn-north-1.api.amazonwebservices.com.cn", accepted: true },
    { partition: "aws-cn", host: "sts.amazonaws.com", accepted: false },
    { partition: "aws-cn", host: "sts-fips.us-east-1.amazonaws.com", accepted: false },
    { partition: "aws-us-gov", host: "sts.us-gov-east-1.amazonaws.com", accepted: true },
    { partition: "aws-us-gov", host: "sts.amazonaws.com", accepted: false },
  ];

  it.each(STS_ENDPOINT_CASES)("in partition $partition, $host is accepted: $accepted", async ({ partition, host, accepted }) => {
    const check = eksTokenAuthenticator({ now: () => NOW, partition });
    expect(check(await eksToken({ host })).ok).toBe(accepted);
  });

  it("refuses a China token presigned for the commercial host, naming it as the authenticator does", async () => {
    const china = eksTokenAuthenticator({ now: () => NOW, partition: "aws-cn" });
    expect(reason(china(await eksToken({ host: "sts.cn-north-1.amazonaws.com" })))).toBe(
      'input token was not properly formatted: unexpected hostname "sts.cn-north-1.amazonaws.com" in pre-signed URL',
    );
    expect(reason(china(await eksToken({ host: "sts.amazonaws.com" })))).toContain("global endpoint unsupported in partition aws-cn");
  });

  it("guards the stand-in: 401 Unauthorized without a valid token, the user recorded with one", async () => {
    const guarded = await startKubeApiServer({ authenticate: eksTokenAuthenticator() });
    try {
      const valid = kubeConfig(guarded, await eksToken({ signedAt: new Date() })).makeApiClient(CoreV1Api);
      expect((await valid.listNamespace()).items.length).toBeGreaterThan(0);
      expect(guarded.requests.at(-1)).toMatchObject({ status: 200, user: "AKIASANDBOX" });

      const stale = kubeConfig(guarded, await eksToken({ signedAt: new Date(Date.now() - 20 * 60_000) }));
      const { code } = await rejection(stale.makeApiClient(CoreV1Api).listNamespace());
      expect(code).toBe(401);
      expect(guarded.requests.at(-1)?.authError).toContain("expired");

      // Without any bearer token the apiserver answers with the Unauthorized Status.
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`${guarded.url}/api/v1/namespaces`, { ca: guarded.caPem }, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        });
        req.on("error", reject);
        req.end();
      });
      expect(body).toBe(
        '401 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
      );
    } finally {
      await guarded.close();
    }
  });
});

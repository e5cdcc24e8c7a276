// The Milvus stand-in against the real @zilliz/milvus2-sdk-node client (plaintext): if the SDK can talk to it,
// verify-connection's tests through the ALB stand-in exercise the same wire format as production.
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MilvusServer, startMilvusServer } from "../../sandbox/milvus-server";

let milvus: MilvusServer;
const clients: MilvusClient[] = [];

function client(
  extra: { timeout?: number; authority?: string; username?: string; password?: string; token?: string } = {},
): MilvusClient {
  const c = new MilvusClient({
    address: `${milvus.host}:${milvus.port}`,
    ...(extra.username !== undefined ? { username: extra.username, password: extra.password } : {}),
    ...(extra.token !== undefined ? { token: extra.token } : {}),
    // Retries would multiply the fault cases' duration without changing what they prove.
    maxRetries: 0,
    timeout: extra.timeout ?? 5_000,
    telemetry: { enabled: false },
    // vitest sets NODE_ENV=test, which turns the SDK's (process-wide) logger to debug: every RPC to stdout.
    logLevel: "warn",
    channelOptions: extra.authority ? { "grpc.default_authority": extra.authority } : {},
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  milvus = await startMilvusServer({ version: "v2.5.4", collections: ["docs", "images"] });
});

afterEach(async () => {
  milvus.setFault(undefined);
  milvus.disableAuth();
  await Promise.all(clients.splice(0).map((c) => c.closeConnection()));
});

afterAll(async () => {
  await milvus.close();
});

describe("Milvus stand-in", () => {
  it("answers Connect, CheckHealth, GetVersion and ShowCollections to the real SDK", async () => {
    const c = client();
    await c.connectPromise;
    expect(c.serverInfo.build_tags).toBe("v2.5.4");
    await expect(c.checkHealth()).resolves.toMatchObject({ isHealthy: true });
    await expect(c.getVersion()).resolves.toMatchObject({ version: "v2.5.4" });
    const shown = await c.showCollections();
    expect(shown.data.map((d) => d.name)).toEqual(["docs", "images"]);
    const authority = `${milvus.host}:${milvus.port}`;
    expect(milvus.calls).toEqual(
      expect.arrayContaining([
        `Connect@${authority}`,
        `CheckHealth@${authority}`,
        `GetVersion@${authority}`,
        `ShowCollections@${authority}`,
      ]),
    );
  });

  it("records the :authority the client sent (grpc.default_authority)", async () => {
    const c = client({ authority: "milvus-demo.milvus.io" });
    await c.getVersion();
    expect(milvus.calls).toContain("GetVersion@milvus-demo.milvus.io");
  });

  it("fault 'unavailable' fails RPCs with UNAVAILABLE", async () => {
    milvus.setFault("unavailable");
    const c = client();
    await expect(c.connectPromise).rejects.toMatchObject({ code: 14 });
    await expect(c.getVersion()).rejects.toMatchObject({ code: 14 });
  });

  it("fault 'deadline' leaves RPCs unanswered until the client's deadline", async () => {
    milvus.setFault("deadline");
    const c = client({ timeout: 300 });
    await expect(c.connectPromise).rejects.toMatchObject({ code: 4 });
  });

  it("fault 'unhealthy' makes CheckHealth report isHealthy=false with reasons", async () => {
    milvus.setFault("unhealthy");
    const c = client();
    const health = await c.checkHealth();
    expect(health.isHealthy).toBe(false);
    expect(health.reasons).toEqual(["sandbox: querynode not ready"]);
  });

  it("answers other methods UNIMPLEMENTED (which the SDK swallows into an empty response)", async () => {
    const c = client();
    // The SDK's retry interceptor rewrites UNIMPLEMENTED to OK with `{}`: what an ALB 404 also turns into.
    const res = await c.listDatabases();
    expect(res).toEqual({});
    expect(milvus.calls).toContain(`ListDatabases@${milvus.host}:${milvus.port}`);
  });
});

/** One raw unary call (empty request) with exactly the metadata given: what no SDK would send. */
function rawCall(path: string, metadata: Record<string, string>): Promise<{ code: number; details: string }> {
  const raw = new Client(`${milvus.host}:${milvus.port}`, credentials.createInsecure());
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      md,
      { deadline: Date.now() + 5_000 },
      (error) => {
        raw.close();
        resolve({ code: error?.code ?? 0, details: error?.details ?? "" });
      },
    );
  });
}

describe("Milvus stand-in with authentication on", () => {
  const auth = () => milvus.enableAuth({ users: { root: "Milvus", alice: "s3cret:with-colon" } });

  it("accepts a username and password (and a token user:password) from the real SDK, on every RPC", async () => {
    auth();
    const byPassword = client({ username: "alice", password: "s3cret:with-colon" });
    await byPassword.connectPromise;
    await expect(byPassword.checkHealth()).resolves.toMatchObject({ isHealthy: true });
    await expect(byPassword.getVersion()).resolves.toMatchObject({ version: "v2.5.4" });
    const byToken = client({ token: "root:Milvus" });
    await byToken.connectPromise;
    await expect(byToken.showCollections()).resolves.toMatchObject({ data: [{ name: "docs" }, { name: "images" }] });
  });

  it("no authorization header → UNAUTHENTICATED, 'missing authorization in header', for Connect and health checks too", async () => {
    auth();
    const c = client();
    await expect(c.connectPromise).rejects.toMatchObject({ code: 16, details: "missing authorization in header" });
    await expect(c.checkHealth()).rejects.toMatchObject({ code: 16 });
    await expect(c.getVersion()).rejects.toMatchObject({ code: 16 });
  });

  it("a value that is not padded standard base64 → UNAUTHENTICATED 'invalid token format'", async () => {
    auth();
    const answer = await rawCall("/milvus.proto.milvus.MilvusService/GetVersion", { authorization: "Basic cm9vdDpNaWx2dXM=" });
    expect(answer).toEqual({ code: 16, details: "invalid token format" });
  });

  it("a wrong password or an unknown user → UNAUTHENTICATED naming username and password", async () => {
    auth();
    const message = "auth check failure, please check username and password are correct";
    await expect(client({ username: "alice", password: "wrong" }).connectPromise).rejects.toMatchObject({ code: 16, details: message });
    await expect(client({ username: "mallory", password: "s3cret:with-colon" }).connectPromise).rejects.toMatchObject({ code: 16, details: message });
  });

  it("a token without ':' is an API key, which open-source Milvus cannot verify → UNAUTHENTICATED", async () => {
    auth();
    await expect(client({ token: "an-api-key" }).connectPromise).rejects.toMatchObject({
      code: 16,
      details: "auth check failure, please check api key is correct",
    });
  });

  it("a method with a privilege → PERMISSION_DENIED for a user without it; root passes", async () => {
    auth();
    const alice = client({ username: "alice", password: "s3cret:with-colon" });
    await expect(alice.describeCollection({ collection_name: "docs" })).rejects.toMatchObject({
      code: 7,
      details: "PrivilegeDescribeCollection: permission deny to alice in the `default` database",
    });
    // Connect, CheckHealth and GetVersion declare no privilege: any authenticated user may call them.
    await expect(alice.checkHealth()).resolves.toMatchObject({ isHealthy: true });
    milvus.enableAuth({ users: { root: "Milvus", alice: "x" }, grants: { alice: ["PrivilegeDescribeCollection"] } });
    // Past the privilege check; the stand-in then does not implement DescribeCollection (the SDK swallows that).
    const raw = await rawCall("/milvus.proto.milvus.MilvusService/DescribeCollection", {
      authorization: Buffer.from("alice:x").toString("base64"),
    });
    expect(raw.code).toBe(12);
    const root = await rawCall("/milvus.proto.milvus.MilvusService/DescribeCollection", {
      authorization: Buffer.from("root:Milvus").toString("base64"),
    });
    expect(root.code).toBe(12);
  });

  it("the ALB's default gRPC health check /AWS.ALB/healthcheck still gets UNIMPLEMENTED (unknown service, no interceptor)", async () => {
    auth();
    const answer = await rawCall("/AWS.ALB/healthcheck", {});
    expect(answer.code).toBe(12);
    expect(answer.details).toContain("AWS.ALB/healthcheck");
  });
});

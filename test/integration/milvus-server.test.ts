// The Milvus stand-in against the real @zilliz/milvus2-sdk-node client (plaintext): if the SDK can talk to it,
// verify-connection's tests through the ALB stand-in exercise the same wire format as production.
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MilvusServer, startMilvusServer } from "../../sandbox/milvus-server";

let milvus: MilvusServer;
const clients: MilvusClient[] = [];

function client(extra: { timeout?: number; authority?: string } = {}): MilvusClient {
  const c = new MilvusClient({
    address: `${milvus.host}:${milvus.port}`,
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

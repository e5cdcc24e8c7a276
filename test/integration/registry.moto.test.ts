// The deployments registry and its leases against moto's DynamoDB: conditional writes are what make the lease
// exclusive, so they are tested against a real DynamoDB API, not a fake.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Target } from "../../functions/lib/state";
import { type DeploymentRecord, type Registry, targetIdOf } from "../../functions/lib/registry";
import { targetLease } from "../../functions/target-lease/core";
import { createRegistry } from "../../sandbox";
import { type Moto, startMoto } from "../../sandbox/moto";

const target: Target = {
  cluster: { name: "milvus-eks", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: {} },
};
const id = targetIdOf(target);
const A = "arn:aws:states:us-east-2:123456789012:execution:milvus-l7:a";
const B = "arn:aws:states:us-east-2:123456789012:execution:milvus-l7:b";
const at = (iso: string) => new Date(iso);

let moto: Moto;
let registry: Registry;

beforeAll(async () => {
  moto = await startMoto();
  const dynamodb = new DynamoDBClient({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials });
  registry = await createRegistry(dynamodb, "registry");
});
afterAll(async () => {
  await moto?.stop();
});

const record = (execution: string): DeploymentRecord => ({
  targetId: id,
  target,
  certificateArn: "arn:aws:acm:us-east-2:123456789012:certificate/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11",
  certificateSource: { s3: { bucket: "certs", certificateKey: "live/cert.pem", chainKey: "live/chain.pem", privateKeyKey: "live/privkey.pem" } },
  albHostname: "k8s-milvus-milvusde-0123456789-1.us-east-2.elb.amazonaws.com",
  servedFingerprint256: "AA:BB",
  servedNotAfter: "2027-01-01T00:00:00.000Z",
  lastVerified: "2026-11-26T10:00:00.000Z",
  lastExecution: execution,
});

describe("leases", () => {
  it("are exclusive until released, re-entrant for their owner, and expire", async () => {
    expect(await registry.claim(id, A, 60, at("2026-11-26T10:00:00Z"))).toEqual({ claimed: true });
    expect(await registry.claim(id, A, 60, at("2026-11-26T10:00:10Z"))).toEqual({ claimed: true });
    expect(await registry.claim(id, B, 60, at("2026-11-26T10:00:20Z"))).toEqual({
      claimed: false,
      holder: { owner: A, expiresAt: Date.parse("2026-11-26T10:01:10Z") / 1000 },
    });
    // Expired: anyone may take it.
    expect(await registry.claim(id, B, 60, at("2026-11-26T10:02:00Z"))).toEqual({ claimed: true });
    await registry.release(id, A); // not A's any more: a no-op
    expect((await registry.claim(id, A, 60, at("2026-11-26T10:02:10Z"))).claimed).toBe(false);
    await registry.release(id, B);
    expect((await registry.claim(id, A, 60, at("2026-11-26T10:02:20Z"))).claimed).toBe(true);
    await registry.release(id, A);
  });

  it("recording a target releases its execution's lease in the same transaction, and leases never show as records", async () => {
    expect((await registry.claim(id, A, 3600, new Date())).claimed).toBe(true);
    await registry.record(record(A));
    expect((await registry.claim(id, B, 3600, new Date())).claimed).toBe(true);
    expect((await registry.list()).map((r) => r.targetId)).toEqual([id]);
    expect(await registry.forSourceObject("certs", "live/privkey.pem")).toHaveLength(1);
    expect(await registry.forSourceObject("certs", "other/cert.pem")).toHaveLength(0);
    // A's lease is gone and B holds the target: A may not record over B's run.
    await expect(registry.record(record(A))).rejects.toMatchObject({ name: "RegistryError", message: expect.stringContaining("lease now belongs") });
    await registry.release(id, B);
  });
});

describe("target-lease step", () => {
  it("waits (TargetBusy) while the holder runs, and takes a dead holder's lease over at once", async () => {
    const running = new Set([A]);
    const deps = { registry, ttlSeconds: 3600, isRunning: async (arn: string) => running.has(arn) };
    await expect(targetLease({ action: "claim", target, executionArn: A }, deps)).resolves.toMatchObject({ claimed: true });
    await expect(targetLease({ action: "claim", target, executionArn: B }, deps)).rejects.toMatchObject({
      name: "TargetBusy",
      message: expect.stringContaining(`is being changed by execution ${A}`),
    });
    running.delete(A); // A was stopped without releasing
    await expect(targetLease({ action: "claim", target, executionArn: B }, deps)).resolves.toEqual({ targetId: id, claimed: true, tookOverFrom: A });
    await expect(targetLease({ action: "release", target, executionArn: B }, deps)).resolves.toMatchObject({ released: true });
  });
});

// Fast checks that tie the stack to its shared sources: each function's asset is exactly what infra/bundle.ts
// builds for the benchmark, and the IAM condition on lease items matches the keys functions/lib/registry.ts writes.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { dynamoRegistry } from "../../functions/lib/registry";
import { LocalEsbuild } from "../../infra/bundling";
import { LEASE_KEY_PATTERN } from "../../infra/constructs/registry";
import { bundleFunction } from "../../infra/bundle";

describe("the stack's bundling (infra/bundling.ts)", () => {
  it("writes, byte for byte, the files the benchmark measures: index.mjs, its chunks and their source maps", async () => {
    const dir = mkdtempSync(join(tmpdir(), "milvus-l7-bundling-"));
    try {
      const asset = join(dir, "asset");
      expect(new LocalEsbuild("record-deployment").tryBundle(asset)).toBe(true);
      const measured = await bundleFunction("record-deployment", join(dir, "bench"));
      const files = readdirSync(asset).sort();
      expect(files).toContain("index.mjs");
      expect(files.some((f) => f !== "index.mjs" && f.endsWith(".mjs")), "code splitting: chunks beside the entry").toBe(true);
      expect(readdirSync(join(dir, "bench")).sort()).toEqual(files);
      for (const f of files) expect(readFileSync(join(asset, f)).equals(readFileSync(join(dir, "bench", f))), f).toBe(true);
      // The benchmark's byte count is every deployed JavaScript file, source maps aside.
      expect(measured.files.map((f) => basename(f)).sort()).toEqual(files.filter((f) => f.endsWith(".mjs")));
      expect(measured.initBytes).toBeLessThan(measured.bytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("keeps one asset per function: CDK caches staged assets under the JSON of the bundling options", () => {
    expect(JSON.stringify(new LocalEsbuild("api"))).not.toBe(JSON.stringify(new LocalEsbuild("upsert-dns")));
  });
});

describe("lease items", () => {
  it(`are keyed so that the IAM condition dynamodb:LeadingKeys ${LEASE_KEY_PATTERN} matches them, and records are not`, async () => {
    const sent: { input: Record<string, unknown> }[] = [];
    const doc = {
      send: async (command: { input: Record<string, unknown> }) => {
        sent.push(command);
        return {};
      },
    } as unknown as Parameters<typeof dynamoRegistry>[0];
    const registry = dynamoRegistry(doc, "registry");
    const target = {
      cluster: { name: "milvus-prod", region: "us-east-2" },
      namespace: "milvus",
      service: { name: "milvus", port: 19530 },
      ingress: { name: "milvus-l7", host: "milvus.example.com", scheme: "internet-facing" as const, annotations: {} },
    };
    const targetId = "us-east-2/milvus-prod/milvus/milvus-l7";
    await registry.claim(targetId, "arn:aws:states:us-east-2:123456789012:execution:m:e", 60, new Date());
    await registry.release(targetId, "arn:aws:states:us-east-2:123456789012:execution:m:e");
    await registry.record({
      targetId,
      target,
      certificateArn: "arn:aws:acm:us-east-2:123456789012:certificate/0",
      albHostname: "k8s-x.us-east-2.elb.amazonaws.com",
      servedFingerprint256: "00",
      servedNotAfter: "2030-01-01T00:00:00.000Z",
      lastVerified: "2026-01-01T00:00:00.000Z",
      lastExecution: "arn:aws:states:us-east-2:123456789012:execution:m:e",
    });
    // IAM StringLike: '*' matches any run of characters.
    const matches = (key: unknown) => new RegExp(`^${LEASE_KEY_PATTERN.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(String(key));
    const [claim, release, record] = sent.map((c) => c.input);
    expect(matches((claim?.Item as Record<string, unknown> | undefined)?.targetId)).toBe(true);
    expect(matches((release?.Key as Record<string, unknown> | undefined)?.targetId)).toBe(true);
    const [put, del] = (record?.TransactItems as { Put?: { Item: Record<string, unknown> }; Delete?: { Key: Record<string, unknown> } }[]) ?? [];
    expect(matches(put?.Put?.Item.targetId)).toBe(false);
    expect(matches(del?.Delete?.Key.targetId)).toBe(true);
  });
});

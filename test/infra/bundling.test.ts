// Fast checks (no synthesis) that tie the stack to its shared sources: the NodejsFunction bundling is exactly
// scripts/bundle.ts's esbuild options, and the IAM condition on lease items matches the keys
// functions/lib/registry.ts writes.
import { LogLevel, OutputFormat, SourceMapMode } from "aws-cdk-lib/aws-lambda-nodejs";
import { describe, expect, it } from "vitest";
import { dynamoRegistry } from "../../functions/lib/registry";
import { BUNDLE_OPTIONS, BundlingOptionError, ESM_REQUIRE_BANNER, nodejsBundling } from "../../infra/bundling";
import { LEASE_KEY_PATTERN } from "../../infra/constructs/registry";
import { BUNDLE_ALIASES, CDK_ESBUILD_ARGS } from "../../scripts/bundle";

describe("nodejsBundling (scripts/bundle.ts → NodejsFunction)", () => {
  it("translates every BUNDLE_OPTIONS entry", () => {
    expect(nodejsBundling()).toEqual({
      forceDockerBundling: false,
      bundleAwsSDK: true,
      externalModules: [],
      format: OutputFormat.ESM,
      target: "node22",
      mainFields: ["module", "main"],
      minify: true,
      keepNames: true,
      sourceMap: true,
      sourceMapMode: SourceMapMode.DEFAULT,
      sourcesContent: false,
      banner: ESM_REQUIRE_BANNER,
      esbuildArgs: CDK_ESBUILD_ARGS,
      logLevel: LogLevel.WARNING,
    });
    expect(BUNDLE_OPTIONS.alias).toEqual(BUNDLE_ALIASES);
    expect(CDK_ESBUILD_ARGS["--alias"]).toContain("@shanghaikid/parquetjs=data:text/javascript,module.exports={}");
  });

  it("refuses an option it cannot translate, naming it, rather than bundle differently from the benchmark", () => {
    expect(() => nodejsBundling({ ...BUNDLE_OPTIONS, treeShaking: false })).toThrow(BundlingOptionError);
    expect(() => nodejsBundling({ ...BUNDLE_OPTIONS, treeShaking: false })).toThrow(/BUNDLE_OPTIONS\.treeShaking has no translation/);
    expect(() => nodejsBundling({ ...BUNDLE_OPTIONS, platform: "browser" })).toThrow(/platform is "browser"/);
    expect(nodejsBundling({ ...BUNDLE_OPTIONS, sourcemap: "external" }).sourceMapMode).toBe(SourceMapMode.EXTERNAL);
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

// A renewal started by the sample EventBridge events, end to end in the sandbox: registry lookup → re-import
// into the same ARN → every target verified to serve the new certificate → registry updated.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf } from "../../functions/lib/certificates";
import { loadEvent } from "../events";
import { HOST, type Sandbox, startSandbox } from "../../sandbox";

const SECOND_HOST = "milvus-b.milvus.io";
const sample = (name: string) => loadEvent(name.replace(/\.json$/, "")) as Record<string, unknown> & { resources?: string[] };
type Output = { status: string; reason?: string; certificate: { arn: string; fingerprint256: string; imported: boolean }; targets: { host: string; servedFingerprint256: string }[] };

describe("renewal from the ACM 'Approaching Expiration' event", () => {
  let sandbox: Sandbox;
  let arn: string;
  let secretArn: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    sandbox.addMilvusService("milvus-b");
    // One certificate serving two Milvus endpoints, deployed by two requests.
    const first = await sandbox.newCertificate([HOST, SECOND_HOST]);
    secretArn = await sandbox.storeInSecret(first);
    const one = await sandbox.run(sandbox.request(secretArn));
    expect(one.cause).toBeUndefined();
    arn = (one.output as Output).certificate.arn;
    const second = sandbox.request(secretArn, arn) as { milvus: { service: string }; ingress: { name?: string; host: string } };
    second.milvus.service = "milvus-b";
    second.ingress = { ...second.ingress, name: "milvus-b", host: SECOND_HOST };
    const two = await sandbox.run(second);
    expect(two.cause).toBeUndefined();
    expect((await sandbox.registry.forCertificate(arn)).map((r) => r.target.ingress.host).sort()).toEqual([SECOND_HOST, HOST]);
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
  });

  it("re-imports the renewed certificate and verifies every target that uses it", async () => {
    const renewed = await sandbox.newCertificate([HOST, SECOND_HOST], { notAfter: new Date(Date.now() + 180 * 86_400_000) });
    await sandbox.storeInSecret(renewed);
    const event = sample("acm-approaching-expiration.json");
    event.resources = [arn];
    const run = await sandbox.run(event);
    expect(run.cause).toBeUndefined();
    const output = run.output as Output;
    const newPrint = fingerprintOf(renewed.leaf.certPem);
    expect(output.certificate).toMatchObject({ arn, fingerprint256: newPrint, imported: true });
    expect(output.targets.map((t) => [t.host, t.servedFingerprint256]).sort()).toEqual([
      [SECOND_HOST, newPrint],
      [HOST, newPrint],
    ]);
    const records = await sandbox.registry.forCertificate(arn);
    expect(records.map((r) => r.servedFingerprint256)).toEqual([newPrint, newPrint]);
    expect(records.every((r) => r.lastExecution === run.executionArn)).toBe(true);
  });

  it("ends cleanly, changing nothing, when the source holds no newer certificate", async () => {
    const event = sample("acm-approaching-expiration.json");
    event.resources = [arn];
    const writes = sandbox.kube.mutations.length;
    const run = await sandbox.run(event);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toMatchObject({ status: "SKIPPED", reason: expect.stringContaining("nothing to renew") });
    expect(sandbox.kube.mutations.length).toBe(writes);
  });

  it("ends cleanly for a certificate no deployment uses", async () => {
    const run = await sandbox.run(sample("acm-approaching-expiration-unknown.json"));
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toEqual({ status: "SKIPPED", reason: expect.stringMatching(/No milvus-l7 deployment uses .*; nothing to renew\./) });
  });

  it("ignores an S3 write under another prefix", async () => {
    const run = await sandbox.run(sample("s3-object-created-other-prefix.json"));
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toMatchObject({ status: "SKIPPED" });
  });

  // Last: it leaves ACM ahead of the registry. A renewal from the same CA chains to the same trusted root as the
  // certificate it replaces, so only the fingerprint comparison can tell that an ALB node still serves the old one.
  it("a renewal one ALB node has not picked up ends EndpointNotReady naming the node and what it served", async () => {
    const records = await sandbox.registry.forCertificate(arn);
    const previous = records[0]?.servedFingerprint256 ?? "";
    const renewed = await sandbox.newCertificate([HOST, SECOND_HOST], { notAfter: new Date(Date.now() + 200 * 86_400_000) });
    expect(renewed.root.certPem).toBe((await sandbox.newCertificate()).root.certPem);
    await sandbox.storeInSecret(renewed);
    sandbox.alb.setFault({ nodeCertificateLagMs: { 1: Number.POSITIVE_INFINITY } });
    try {
      const event = sample("acm-approaching-expiration.json");
      event.resources = [arn];
      const run = await sandbox.run(event);
      expect(run.error).toBe("EndpointNotReady");
      const staleNodes = records.map((r) => sandbox.alb.resolve(r.albHostname)[1]?.port);
      const port = Number(/\(127\.0\.0\.1:(\d+), address 2 of 2\) serves a different certificate/.exec(run.cause ?? "")?.[1]);
      expect(staleNodes).toContain(port);
      expect(run.cause).toContain(`served SHA-256 ${previous}`);
      expect(run.cause).toContain(`imported SHA-256 ${fingerprintOf(renewed.leaf.certPem)}`);
      // Not recorded as served: the registry still says what every node provably served.
      expect((await sandbox.registry.forCertificate(arn)).map((r) => r.servedFingerprint256)).toEqual([previous, previous]);
    } finally {
      sandbox.alb.setFault({});
    }
  });
});

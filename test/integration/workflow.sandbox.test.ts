// The real ASL with the real handlers against the sandbox: first deployment, an identical re-run, a renewal.
import { DeleteCertificateCommand, ListCertificatesCommand } from "@aws-sdk/client-acm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf } from "../../functions/lib/certificates";
import { HOST, type Sandbox, startSandbox } from "../../sandbox";
import { keyLeaks } from "../../sandbox/secrets";
import type { CertificateSet } from "../../sandbox/pki";
import type { WorkflowRun } from "../../sandbox/workflow";

type Output = {
  certificate: { arn: string; fingerprint256: string; imported: boolean };
  targets: { host: string; albHostname: string; servedFingerprint256: string; milvusVersion: string; serviceType: string; previousServiceType: string; warnings: string[] }[];
};

const ours = (sandbox: Sandbox) => sandbox.kube.mutations.filter((m) => m.fieldManager === "milvus-l7");
const serviceType = (sandbox: Sandbox) => sandbox.kube.get<{ spec: { type: string } }>("Service", "milvus", "milvus-demo")?.spec.type;

function expectNoKeyIn(run: WorkflowRun, sandbox: Sandbox, keyPem: string) {
  expect(keyLeaks(keyPem, JSON.stringify(run.events)), "state inputs/outputs and event log").toEqual([]);
  expect(keyLeaks(keyPem, JSON.stringify(run.output ?? null)), "execution output").toEqual([]);
  expect(keyLeaks(keyPem, `${run.error} ${run.cause}`), "error and cause").toEqual([]);
  expect(keyLeaks(keyPem, sandbox.logs.join("\n")), "logs").toEqual([]);
}

describe("deploy, re-run and renew in the sandbox (cutover after verification)", () => {
  let sandbox: Sandbox;
  let first: CertificateSet;
  let secretArn: string;
  let firstRun: WorkflowRun;

  beforeAll(async () => {
    sandbox = await startSandbox();
    first = await sandbox.newCertificate();
    secretArn = await sandbox.storeInSecret(first);
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it("puts Milvus behind the ALB with TLS, verified, and only then cuts the Service over to ClusterIP", async () => {
    expect(serviceType(sandbox)).toBe("LoadBalancer");
    firstRun = await sandbox.run(sandbox.request(secretArn));
    expect(firstRun.cause).toBeUndefined();
    expect(firstRun.status).toBe("SUCCEEDED");
    const output = firstRun.output as Output;
    expect(output.certificate).toMatchObject({ fingerprint256: fingerprintOf(first.leaf.certPem), imported: true });
    const [target] = output.targets;
    expect(target).toMatchObject({
      host: HOST,
      servedFingerprint256: fingerprintOf(first.leaf.certPem),
      milvusVersion: "v2.5.4",
      serviceType: "ClusterIP",
      previousServiceType: "LoadBalancer",
    });
    expect(target?.albHostname).toMatch(/^k8s-milvus-milvusde-[0-9a-f]{10}-\d+\.us-east-2\.elb\.amazonaws\.com$/);
    // The preflight's advisory (the seeded proxy pod has no readiness gate) comes first, then the cutover's and the
    // verification's.
    expect(target?.warnings).toEqual([
      expect.stringContaining("no AWS Load Balancer Controller readiness gate"),
      expect.stringContaining("Helm release milvus-demo"),
      expect.stringContaining("Milvus answered without credentials behind the internet-facing ALB"),
    ]);
    expect(serviceType(sandbox)).toBe("ClusterIP");
    // Zero-downtime order: the Ingress is applied and Milvus answered through the ALB before the Service changed.
    expect(ours(sandbox).map((m) => `${m.verb} ${m.kind}`)).toEqual(["apply Ingress", "patch Service"]);
    const entered = firstRun.events.flatMap((e) => (e.type === "StateEntered" ? [e.state.name] : []));
    expect(entered.indexOf("VerifyThroughAlb")).toBeLessThan(entered.indexOf("CutOver"));
    expect(sandbox.milvus.calls).toContain(`Connect@${HOST}`);
    expect(sandbox.milvus.calls).toContain(`CheckHealth@${HOST}`);
    // The verified target is in the registry, where renewals will look it up by certificate.
    const records = await sandbox.registry.forCertificate(output.certificate.arn);
    expect(records).toEqual([
      expect.objectContaining({
        targetId: "us-east-2/milvus-eks/milvus/milvus-demo",
        certificateSource: { secretsManager: { secretId: secretArn } },
        albHostname: target?.albHostname,
        servedFingerprint256: fingerprintOf(first.leaf.certPem),
        lastExecution: firstRun.executionArn,
      }),
    ]);
  });

  it("never exposes the private key in state, history, output or logs", () => {
    expect(sandbox.logs.length).toBeGreaterThan(5);
    expect(sandbox.logs.join("\n")).toContain(firstRun.executionArn); // the logs are there and joinable
    expectNoKeyIn(firstRun, sandbox, first.leaf.keyPem);
  });

  it("running the same request twice more skips the identical import, keeps one certificate and changes nothing", async () => {
    const before = ours(sandbox).length;
    for (let i = 0; i < 2; i++) {
      const run = await sandbox.run(sandbox.request(secretArn));
      expect(run.cause).toBeUndefined();
      const output = run.output as Output;
      expect(output.certificate).toMatchObject({ arn: (firstRun.output as Output).certificate.arn, imported: false });
      expect(output.targets[0]).toMatchObject({ previousServiceType: "ClusterIP", serviceType: "ClusterIP" });
    }
    expect(ours(sandbox).length).toBe(before);
    const { CertificateSummaryList = [] } = await sandbox.aws.acm.send(new ListCertificatesCommand({}));
    expect(CertificateSummaryList).toHaveLength(1);
  });

  it("renews: re-imports into the same ARN, and the ALB is verified to serve the new certificate", async () => {
    const arn = (firstRun.output as Output).certificate.arn;
    const renewed = await sandbox.newCertificate();
    await sandbox.storeInSecret(renewed);
    const run = await sandbox.run(sandbox.request(secretArn, arn));
    expect(run.cause).toBeUndefined();
    const output = run.output as Output;
    const newPrint = fingerprintOf(renewed.leaf.certPem);
    expect(newPrint).not.toBe(fingerprintOf(first.leaf.certPem));
    expect(output.certificate).toMatchObject({ arn, fingerprint256: newPrint, imported: true });
    expect(output.targets[0]?.servedFingerprint256).toBe(newPrint);
    expectNoKeyIn(run, sandbox, renewed.leaf.keyPem);
  });
});

describe("the Milvus doc's order (cutover before the Ingress)", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it("patches the Service first, then applies the Ingress and verifies", async () => {
    const secretArn = await sandbox.storeInSecret(await sandbox.newCertificate());
    const run = await sandbox.run({ ...sandbox.request(secretArn), cutover: "before-ingress" });
    expect(run.cause).toBeUndefined();
    expect(ours(sandbox).map((m) => `${m.verb} ${m.kind}`)).toEqual(["patch Service", "apply Ingress"]);
    expect((run.output as Output).targets[0]).toMatchObject({ previousServiceType: "LoadBalancer", serviceType: "ClusterIP" });
  });
});

describe("failures in the sandbox", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ watchSeconds: 1 });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it("rejects a bad request before anything is changed, naming the field", async () => {
    const secretArn = await sandbox.storeInSecret(await sandbox.newCertificate(), "bad-request");
    const request = sandbox.request(secretArn) as { milvus: Record<string, unknown> };
    request.milvus.namespace = "Milvus_Prod";
    const writes = sandbox.kube.mutations.length;
    const run = await sandbox.run(request);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("InvalidRequest");
    expect(run.cause).toContain("milvus.namespace");
    expect(sandbox.kube.mutations.length).toBe(writes);
  });

  it("rejects a key that does not match the certificate before importing it", async () => {
    const cert = await sandbox.newCertificate();
    const other = await sandbox.newCertificate();
    const secretArn = await sandbox.storeInSecret({ ...cert, leaf: { ...cert.leaf, keyPem: other.leaf.keyPem } }, "mismatch");
    const run = await sandbox.run(sandbox.request(secretArn));
    expect(run.error).toBe("CertificateRejected");
    expect(run.cause).toContain("privateKey does not belong to the certificate");
    expect(ours(sandbox)).toEqual([]);
    expectNoKeyIn(run, sandbox, other.leaf.keyPem);
  });

  it("bounds the wait for an address and fails with the controller's Warning in the Cause", async () => {
    const secretArn = await sandbox.storeInSecret(await sandbox.newCertificate(), "deleted-later");
    // Someone deletes the certificate between import and the controller's deploy: the controller cannot
    // build the HTTPS listener and says so in Warning events, and never publishes an address.
    const importReal = sandbox.functions.ImportCertificateFunctionArn;
    const functions = {
      ...sandbox.functions,
      ImportCertificateFunctionArn: async (event: unknown) => {
        const imported = (await importReal(event)) as { arn: string };
        await sandbox.aws.acm.send(new DeleteCertificateCommand({ CertificateArn: imported.arn }));
        return imported;
      },
    };
    const { runWorkflow } = await import("../../sandbox/workflow");
    const run = await runWorkflow({ ...sandbox.request(secretArn), waitForAddressMinutes: 1 }, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("AddressTimeout");
    expect(run.cause).toContain("Latest controller warning: FailedDeployModel");
    const polls = run.events.filter((e) => e.type === "StateEntered" && e.state.name === "GetIngressStatus");
    expect(polls.length).toBe(10); // ceil(60 s / (1 s watch + 5 s wait cap))
    expect(serviceType(sandbox)).toBe("LoadBalancer"); // the Layer-4 endpoint is untouched
  });
});

// The drift check's path through the ASL with fake steps: a clean check inspects, verifies and records without any
// Kubernetes write; drift with policy report ends as DriftFound with every target's findings; with repair the Ingress
// is re-applied with force, the Service cut over again and the target verified before it is recorded. A newer
// certificate at the recorded source is re-imported into the same ARN and verified, with the real import-certificate,
// check-target and record-check over a fake ACM, source and cluster.
import type { ACMClient } from "@aws-sdk/client-acm";
import { DescribeCertificateCommand, GetCertificateCommand, ImportCertificateCommand } from "@aws-sdk/client-acm";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, it } from "vitest";
import { checkTarget } from "../../functions/check-target/core";
import { importCertificate } from "../../functions/import-certificate/core";
import { fingerprintOf } from "../../functions/lib/certificates";
import { EndpointNotReady } from "../../functions/lib/errors";
import { ingressManifest } from "../../functions/lib/ingress";
import type { ClusterConnector } from "../../functions/lib/kube";
import type { CheckUpdate, DeploymentRecord } from "../../functions/lib/registry";
import { recordTarget, summariseCheck } from "../../functions/record-check/core";
import { planCheck } from "../../functions/resolve-request/check";
import type { CheckItem, CheckPlan, CheckSummary, Target } from "../../functions/lib/state";
import { type CertificateSet, certificateSet } from "../../sandbox/pki";
import { type LocalFunctions, runWorkflow } from "../../sandbox/workflow";

const ARN = "arn:aws:acm:us-east-2:123456789012:certificate/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11";
const target = (ingress: string): Target => ({
  cluster: { name: "milvus-eks", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: ingress, host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: {} },
});
const item = (ingress: string, policy: CheckItem["policy"]): CheckItem => ({
  targetId: `us-east-2/milvus-eks/milvus/${ingress}`,
  target: target(ingress),
  policy,
  recorded: { certificateArn: ARN, fingerprint256: "AA:BB", notAfter: "2027-01-01T00:00:00.000Z", albHostname: "alb-1.elb.amazonaws.com", lastVerified: "" },
  certificateRequest: { arn: ARN, expiryWarningDays: 14 },
});
const plan = (policy: CheckItem["policy"], ingresses = ["a", "b"]): CheckPlan => ({
  check: { reason: "test", repair: policy === "repair" },
  wait: { maxPolls: 3 },
  checks: ingresses.map((i) => item(i, policy)),
});

/** Fakes: `drifted` names the Ingresses whose inspection finds something; `unverifiable` those whose first verify fails. */
function fakes(p: CheckPlan, opts: { drifted?: string[]; unverifiable?: string[] } = {}) {
  const calls: string[] = [];
  const recorded: unknown[] = [];
  const registry = { recordCheck: async (id: string, update: unknown) => void recorded.push({ id, update }) };
  const fail = (what: string) => async () => {
    throw new Error(`${what} must not run in a check`);
  };
  const functions: LocalFunctions = {
    ResolveRequestFunctionArn: async () => p,
    TargetLeaseFunctionArn: async (e) => {
      calls.push(`${e.action} ${e.target.ingress.name}`);
      return { claimed: true };
    },
    ImportCertificateFunctionArn: async (e) => {
      calls.push(`read-certificate ${e.hosts.join(",")}`);
      expect(e.certificate).toEqual({ arn: ARN, expiryWarningDays: 14 });
      return { arn: ARN, fingerprint256: "AA:BB", notAfter: "2027-01-01T00:00:00.000Z", imported: false, daysToExpiry: 300, trustAnchors: ["ROOT"] };
    },
    CheckTargetFunctionArn: async (e) => {
      calls.push(`inspect ${e.target.ingress.name}`);
      const findings = opts.drifted?.includes(e.target.ingress.name) ? [`Service milvus/milvus-demo is type LoadBalancer, not ClusterIP`] : [];
      return { findings, serviceType: findings.length ? "LoadBalancer" : "ClusterIP", ingressFound: true, daysToExpiry: 25, expected: { ...e.certificate } };
    },
    VerifyConnectionFunctionArn: async (e) => {
      const name = e.target.ingress.name;
      const repaired = calls.includes(`apply ${name}`);
      calls.push(`verify ${name}`);
      if (!repaired && opts.unverifiable?.includes(name)) throw new EndpointNotReady(`ALB for ${name} answers 503`);
      expect(e.certificate.trustAnchors).toEqual(["ROOT"]);
      return { host: e.target.ingress.host, albHostname: e.albHostname, address: "10.0.0.1:443", addresses: ["10.0.0.1:443", "10.0.0.2:443"], servedFingerprint256: "AA:BB", servedNotAfter: "2027-01-01T00:00:00.000Z", milvusVersion: "v2.5.4", healthy: true, milvusAuth: "none", warnings: [] };
    },
    ApplyIngressFunctionArn: async (e) => {
      calls.push(`apply ${e.target.ingress.name}`);
      expect(e.force).toBe("repair");
      return { namespace: "milvus", name: e.target.ingress.name, appliedAt: "", changed: true, polls: 0, preflightWarnings: [] };
    },
    GetIngressStatusFunctionArn: async (e) => {
      calls.push(`status ${e.target.ingress.name}`);
      return { ...e.ingress, polls: e.ingress.polls + 1, ready: true, hostname: "alb-1.elb.amazonaws.com", nextWaitSeconds: 1, warnings: [], failureCause: "" };
    },
    PatchServiceFunctionArn: async (e) => {
      calls.push(`patch ${e.target.ingress.name}`);
      return { previousType: "LoadBalancer", type: "ClusterIP", changed: true, via: "service", warnings: [] };
    },
    RecordCheckFunctionArn: async (e) => {
      if (e.action === "summarise") {
        calls.push("summarise");
        return summariseCheck(e.check, e.results as CheckSummary[]);
      }
      calls.push(`record ${e.state.target.ingress.name}`);
      return recordTarget(e.state, e.executionArn, { registry, now: () => new Date("2026-12-07T00:00:00.000Z") });
    },
    RecordDeploymentFunctionArn: fail("record-deployment"),
    UpsertDnsFunctionArn: fail("upsert-dns"),
    RemoveIngressFunctionArn: fail("remove-ingress"),
    DiagnoseTargetsFunctionArn: fail("diagnose-targets"),
  };
  return { functions, calls, recorded };
}

const KUBERNETES_WRITES = /^(apply|patch) /;

describe("the drift check (ASL) with fake steps", () => {
  it("clean: inspects, verifies and records every target, writes nothing to Kubernetes, and succeeds with drift []", async () => {
    const { functions, calls, recorded } = fakes(plan("report"));
    const run = await runWorkflow({ check: {} }, functions);
    expect(run.cause).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    expect(calls.filter((c) => KUBERNETES_WRITES.test(c))).toEqual([]);
    expect(calls.filter((c) => c.endsWith(" a"))).toEqual(["claim a", "inspect a", "verify a", "record a"]);
    const output = run.output as { status: string; targets: CheckSummary[] };
    expect(output.status).toBe("SUCCEEDED");
    expect(output.targets.map((t) => [t.targetId, t.drift, t.daysToExpiry, t.servedFingerprint256, t.repaired])).toEqual([
      ["us-east-2/milvus-eks/milvus/a", [], 25, "AA:BB", false],
      ["us-east-2/milvus-eks/milvus/b", [], 25, "AA:BB", false],
    ]);
    expect(recorded).toHaveLength(2);
    expect(recorded).toContainEqual({ id: "us-east-2/milvus-eks/milvus/a", update: expect.objectContaining({ drift: [], lastChecked: "2026-12-07T00:00:00.000Z" }) });
  });

  it("report: drift and a failed verification are findings; the run fails as DriftFound naming each drifted target", async () => {
    const { functions, calls } = fakes(plan("report"), { drifted: ["a"], unverifiable: ["b"] });
    const run = await runWorkflow({ check: {} }, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("DriftFound");
    expect(run.cause).toContain("2 of 2 targets drifted");
    expect(run.cause).toContain("us-east-2/milvus-eks/milvus/a: Service milvus/milvus-demo is type LoadBalancer, not ClusterIP");
    expect(run.cause).toContain("us-east-2/milvus-eks/milvus/b: Verification through the ALB failed: EndpointNotReady: ALB for b answers 503");
    // Both were still recorded (and their leases released), and nothing was written to the cluster.
    expect(calls).toContain("record a");
    expect(calls).toContain("record b");
    expect(calls.filter((c) => KUBERNETES_WRITES.test(c))).toEqual([]);
  });

  it("repair: re-applies with force, cuts over again, verifies, records; only the drifted target is written", async () => {
    const { functions, calls, recorded } = fakes(plan("repair"), { drifted: ["a"] });
    const run = await runWorkflow({ check: { repair: true } }, functions);
    expect(run.cause).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    expect(calls.filter((c) => c.endsWith(" a"))).toEqual(["claim a", "inspect a", "verify a", "apply a", "status a", "patch a", "verify a", "record a"]);
    expect(calls.filter((c) => KUBERNETES_WRITES.test(c) && c.endsWith(" b"))).toEqual([]);
    const output = run.output as { targets: CheckSummary[] };
    expect(output.targets[0]).toMatchObject({
      drift: ["Service milvus/milvus-demo is type LoadBalancer, not ClusterIP"],
      repaired: true,
      serviceType: "ClusterIP",
      previousServiceType: "LoadBalancer",
      addressesVerified: 2,
    });
    expect(output.targets[1]).toMatchObject({ drift: [], repaired: false });
    expect(recorded.find((r) => (r as { id: string }).id.endsWith("/a"))).toMatchObject({
      update: { servedFingerprint256: "AA:BB", lastVerified: "2026-12-07T00:00:00.000Z" },
    });
  });

  it("an empty registry: nothing to check, a clean run", async () => {
    const { functions } = fakes(plan("report", []));
    const run = await runWorkflow({ check: {} }, functions);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toMatchObject({ status: "SUCCEEDED", targets: [] });
  });
});

describe("the drift check (ASL): a newer certificate at the source during a check", () => {
  const HOST = "milvus-demo.milvus.io";
  const SECRET = "milvus-l7/tls";
  const DAY = 86_400_000;
  let old: CertificateSet;
  let renewed: CertificateSet;
  let outside: CertificateSet;
  let expiring: CertificateSet;

  beforeAll(async () => {
    old = await certificateSet([HOST], { notAfter: new Date(Date.now() + 30 * DAY) });
    // What the issuer renews: same CAs, new key, later expiry.
    renewed = await certificateSet([HOST], { ca: old, notAfter: new Date(Date.now() + 90 * DAY) });
    outside = await certificateSet([HOST], { ca: old, notAfter: new Date(Date.now() + 120 * DAY) });
    expiring = await certificateSet([HOST], { ca: old, notAfter: new Date(Date.now() + 10 * DAY) });
  });

  const fp = (c: CertificateSet) => fingerprintOf(c.leaf.certPem);
  const decode = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

  /**
   * ACM with one imported certificate in ARN, the Secrets Manager source, the registry, a cluster as milvus-l7 left
   * it, and an ALB that serves what ACM holds, but the previous certificate for its first `lag` handshakes after a
   * re-import (the listener picking up the renewal). The import-certificate, check-target and record-check are real.
   */
  function world(opts: { acm: CertificateSet; source: CertificateSet; recorded: Record<string, CertificateSet>; lag?: number }) {
    let held = opts.acm;
    let previous = held;
    let lag = 0;
    const imports: string[] = [];
    const acm = {
      async send(command: unknown) {
        if (command instanceof DescribeCertificateCommand) {
          return { Certificate: { CertificateArn: ARN, Type: "IMPORTED", Status: "ISSUED", KeyAlgorithm: "RSA_2048", NotAfter: held.leaf.cert.notAfter } };
        }
        if (command instanceof GetCertificateCommand) return { Certificate: held.leaf.certPem, CertificateChain: held.chainPem };
        if (command instanceof ImportCertificateCommand) {
          expect(command.input.CertificateArn).toBe(ARN);
          const pem = decode(command.input.Certificate);
          imports.push(fingerprintOf(pem));
          previous = held;
          held = [old, renewed, outside].find((c) => c.leaf.certPem === pem) ?? held;
          lag = opts.lag ?? 0;
          return { CertificateArn: ARN };
        }
        throw new Error(`unexpected ACM call ${(command as object).constructor.name}`);
      },
    } as unknown as ACMClient;
    const source = opts.source;
    const secretsManager = {
      send: async () => ({ SecretString: JSON.stringify({ certificate: source.leaf.certPem, chain: source.chainPem, privateKey: source.leaf.keyPem }) }),
    } as unknown as SecretsManagerClient;
    const records = new Map<string, DeploymentRecord>(
      Object.entries(opts.recorded).map(([ingress, c]) => {
        const id = `us-east-2/milvus-eks/milvus/${ingress}`;
        return [
          id,
          {
            targetId: id,
            target: target(ingress),
            certificateArn: ARN,
            certificateSource: { secretsManager: { secretId: SECRET } },
            albHostname: "alb-1.elb.amazonaws.com",
            servedFingerprint256: fp(c),
            servedNotAfter: c.leaf.cert.notAfter.toISOString(),
            lastVerified: "",
            lastExecution: "",
          },
        ];
      }),
    );
    const registry = {
      list: async () => [...records.values()],
      recordCheck: async (id: string, update: CheckUpdate) => void records.set(id, { ...(records.get(id) as DeploymentRecord), ...update }),
    };
    const kubernetesWrites: string[] = [];
    const connect: ClusterConnector = async () =>
      ({
        // Reads only: check-target has no other call to make; anything else would be a write.
        async getIfExists(_what: string, path: string) {
          if (path.includes("/services/")) return { metadata: { name: "milvus-demo" }, spec: { type: "ClusterIP" } };
          const ingress = path.split("/").at(-1) as string;
          return ingressManifest(target(ingress), ARN);
        },
      }) as unknown as Awaited<ReturnType<ClusterConnector>>;
    const fail = (what: string) => async () => {
      kubernetesWrites.push(what);
      throw new Error(`${what} must not run in a clean check`);
    };
    const functions: LocalFunctions = {
      ResolveRequestFunctionArn: async (e) => planCheck(e.request, registry),
      TargetLeaseFunctionArn: async () => ({ claimed: true }),
      ImportCertificateFunctionArn: async (e) => importCertificate(e, { acm, secretsManager, s3: {} as S3Client }),
      CheckTargetFunctionArn: async (e) => checkTarget(e, { connect }),
      VerifyConnectionFunctionArn: async (e) => {
        const served = lag > 0 ? previous : held;
        lag = Math.max(0, lag - 1);
        if (fp(served) !== e.certificate.fingerprint256) throw new EndpointNotReady(`the ALB serves ${fp(served)}, not ${e.certificate.fingerprint256}`);
        return { host: HOST, albHostname: e.albHostname, address: "10.0.0.1:443", addresses: ["10.0.0.1:443", "10.0.0.2:443"], servedFingerprint256: fp(served), servedNotAfter: served.leaf.cert.notAfter.toISOString(), milvusVersion: "v2.5.4", healthy: true, milvusAuth: "none", warnings: [] };
      },
      RecordCheckFunctionArn: async (e) =>
        e.action === "summarise" ? summariseCheck(e.check, e.results as CheckSummary[]) : recordTarget(e.state, e.executionArn, { registry }),
      ApplyIngressFunctionArn: fail("apply-ingress"),
      GetIngressStatusFunctionArn: fail("get-ingress-status"),
      PatchServiceFunctionArn: fail("patch-service"),
      RecordDeploymentFunctionArn: fail("record-deployment"),
      UpsertDnsFunctionArn: fail("upsert-dns"),
      RemoveIngressFunctionArn: fail("remove-ingress"),
      DiagnoseTargetsFunctionArn: fail("diagnose-targets"),
    };
    return { functions, imports, records, kubernetesWrites, held: () => held };
  }

  const summaries = (run: { output?: unknown }) =>
    ((run.output as { targets: CheckSummary[] }).targets ?? []).map((t) => [t.targetId.split("/").at(-1), t.drift, t.renewed, t.servedFingerprint256]);

  it("re-imports it into the same ARN, verifies every target sharing it against it, and records it: no drift, no Kubernetes write", async () => {
    const w = world({ acm: old, source: renewed, recorded: { a: old, b: old }, lag: 3 });
    const run = await runWorkflow({ check: {} }, w.functions);
    expect(run.cause).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    // Only the renewal, only into ARN; whichever target came second found it already in ACM (or, racing the first,
    // imported the identical certificate again: the same end state).
    expect(w.imports.length).toBeGreaterThanOrEqual(1);
    expect(new Set(w.imports)).toEqual(new Set([fp(renewed)]));
    expect(fp(w.held())).toBe(fp(renewed));
    // Not drift, but visible: renewed, and the new fingerprint served (the ALB's lag absorbed by verify's retries).
    expect(summaries(run)).toEqual([
      ["a", [], true, fp(renewed)],
      ["b", [], true, fp(renewed)],
    ]);
    const days = (run.output as { targets: CheckSummary[] }).targets.map((t) => t.daysToExpiry);
    expect(days.every((d) => d >= 89 && d <= 90)).toBe(true);
    expect(w.kubernetesWrites).toEqual([]);
    // The registry holds the renewal, so the next check compares with it.
    for (const r of w.records.values()) {
      expect(r).toMatchObject({ servedFingerprint256: fp(renewed), servedNotAfter: renewed.leaf.cert.notAfter.toISOString(), drift: [] });
    }

    // The next check: nothing newer at the source, nothing imported, nothing renewed.
    const importsBefore = w.imports.length;
    const again = await runWorkflow({ check: {} }, w.functions);
    expect(again.status).toBe("SUCCEEDED");
    expect(summaries(again)).toEqual([
      ["a", [], false, fp(renewed)],
      ["b", [], false, fp(renewed)],
    ]);
    expect(w.imports).toHaveLength(importsBefore);
  });

  it("a target whose certificate was already re-imported (by another target's check) is renewed without importing again", async () => {
    const w = world({ acm: renewed, source: renewed, recorded: { a: renewed, b: old } });
    const run = await runWorkflow({ check: {} }, w.functions);
    expect(run.status).toBe("SUCCEEDED");
    expect(w.imports).toEqual([]);
    expect(summaries(run)).toEqual([
      ["a", [], false, fp(renewed)],
      ["b", [], true, fp(renewed)],
    ]);
    expect(w.records.get("us-east-2/milvus-eks/milvus/b")?.servedFingerprint256).toBe(fp(renewed));
  });

  it("a certificate within the expiry threshold whose source holds nothing newer is a finding: the check alerts", async () => {
    const w = world({ acm: expiring, source: expiring, recorded: { a: expiring } });
    const run = await runWorkflow({ check: {} }, w.functions);
    expect(w.imports).toEqual([]);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("DriftFound");
    expect(run.cause).toMatch(new RegExp(`The certificate in ${ARN} expires in (9|10) days \\(${expiring.leaf.cert.notAfter.toISOString()}\\) and its source \\(secret ${SECRET}\\) holds nothing newer`));
  });

  it("an older certificate at the source is never imported; a certificate re-imported outside milvus-l7 is still drift", async () => {
    const w = world({ acm: outside, source: renewed, recorded: { a: renewed } });
    const run = await runWorkflow({ check: {} }, w.functions);
    expect(w.imports).toEqual([]);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("DriftFound");
    expect(run.cause).toContain(`ACM holds ${fp(outside)} in ${ARN}, but milvus-l7 recorded ${fp(renewed)}: it was re-imported outside milvus-l7.`);
    // The record keeps what milvus-l7 served; only the finding is added.
    expect(w.records.get("us-east-2/milvus-eks/milvus/a")?.servedFingerprint256).toBe(fp(renewed));
  });
});

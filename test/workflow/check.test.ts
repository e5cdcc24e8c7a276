// The drift check's path through the ASL with fake steps: a clean check inspects, verifies and records without any
// Kubernetes write; drift with policy report ends as DriftFound with every target's findings; with repair the Ingress
// is re-applied with force, the Service cut over again and the target verified before it is recorded.
import { describe, expect, it } from "vitest";
import { EndpointNotReady } from "../../functions/lib/errors";
import { recordTarget, summariseCheck } from "../../functions/record-check/core";
import type { CheckItem, CheckPlan, CheckSummary, Target } from "../../functions/lib/state";
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
  certificateRequest: { arn: ARN },
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
      expect(e.certificate).toEqual({ arn: ARN });
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

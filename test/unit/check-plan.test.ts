// How the drift check's input is planned from the registry: which targets, and what each one's drift policy is.
import { describe, expect, it } from "vitest";
import { InvalidRequest } from "../../functions/lib/errors";
import type { DeploymentRecord } from "../../functions/lib/registry";
import type { Target } from "../../functions/lib/state";
import { planCheck } from "../../functions/resolve-request/check";

const ARN = "arn:aws:acm:us-east-2:123456789012:certificate/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11";

function record(ingress: string, driftPolicy?: Target["driftPolicy"]): DeploymentRecord {
  const target: Target = {
    cluster: { name: "milvus-eks", region: "us-east-2" },
    namespace: "milvus",
    service: { name: ingress, port: 19530 },
    ingress: { name: ingress, host: `${ingress}.milvus.io`, scheme: "internet-facing", annotations: {} },
    ...(driftPolicy ? { driftPolicy } : {}),
  };
  return {
    targetId: `us-east-2/milvus-eks/milvus/${ingress}`,
    target,
    certificateArn: ARN,
    albHostname: `k8s-milvus-${ingress}-0123456789-1.us-east-2.elb.amazonaws.com`,
    servedFingerprint256: "AA",
    servedNotAfter: "2027-03-01T00:00:00.000Z",
    lastVerified: "2026-12-01T00:00:00.000Z",
    lastExecution: "arn:aws:states:us-east-2:123456789012:execution:milvus-l7:first",
  };
}

const registry = (...records: DeploymentRecord[]) => ({ list: async () => records });

describe("planCheck", () => {
  it("checks every recorded target with its own drift policy; one recorded before the field is reported", async () => {
    const plan = await planCheck({ check: {} }, registry(record("b", "repair"), record("a"), record("c", "report")));
    expect(plan.checks.map((c) => [c.targetId, c.policy])).toEqual([
      ["us-east-2/milvus-eks/milvus/a", "report"],
      ["us-east-2/milvus-eks/milvus/b", "repair"],
      ["us-east-2/milvus-eks/milvus/c", "report"],
    ]);
    expect(plan.check.repair).toBe(false);
  });

  it("repairs every target when the check is started with repair", async () => {
    const plan = await planCheck({ check: { repair: true } }, registry(record("a"), record("b", "report")));
    expect(plan.checks.map((c) => c.policy)).toEqual(["repair", "repair"]);
  });

  it("checks the one target named, and refuses an unknown one naming the field and what the registry holds", async () => {
    const plan = await planCheck({ check: { targetId: "us-east-2/milvus-eks/milvus/b" } }, registry(record("a"), record("b")));
    expect(plan.checks.map((c) => c.targetId)).toEqual(["us-east-2/milvus-eks/milvus/b"]);
    const error = await planCheck({ check: { targetId: "us-east-2/milvus-eks/milvus/z" } }, registry(record("a"))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequest);
    expect((error as Error).message).toContain("check.targetId");
    expect((error as Error).message).toContain("us-east-2/milvus-eks/milvus/a");
  });

  it("refuses options it does not know and a repair that is not a boolean, naming each", async () => {
    const error = await planCheck({ check: { repair: "yes", force: true } }, registry()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequest);
    expect((error as Error).message).toContain("check.force");
    expect((error as Error).message).toContain("check.repair");
  });
});

// Target health end to end in the sandbox: the simulated controller keeps a TargetGroupBinding per target group
// (as the real one does), and when the targets never pass their health checks — here because no security group of
// the pods' ENIs is tagged for the cluster — the run fails as EndpointNotReady with a Cause that says why: ELB's
// reason code, the binding's FailedNetworkReconcile warning and what to fix. The Layer-4 endpoint stays.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER, type Sandbox, startSandbox } from "../../sandbox";
import type { WorkflowRun } from "../../sandbox/workflow";
import { INGRESS, NS, deleteIngress, entered, serviceType, until } from "./faults/harness";

interface Tgb {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; finalizers?: string[] };
  spec: { targetGroupARN: string; targetType: string; serviceRef: { name: string; port: number }; ipAddressType: string; networking?: unknown };
}

describe("target health diagnosis in the sandbox", () => {
  let sb: Sandbox;
  let secretArn: string;
  let run: WorkflowRun;

  beforeAll(async () => {
    sb = await startSandbox();
    secretArn = await sb.storeInSecret(await sb.newCertificate());
    sb.alb.setFault({ unhealthyTargets: "untagged-security-groups" });
    run = await sb.run(sb.request(secretArn));
  }, 90_000);
  afterAll(async () => {
    await sb?.stop();
  });

  it("fails as EndpointNotReady after the retries, with ELB's reason, the binding's warning and the fix in the Cause", () => {
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("EndpointNotReady");
    expect(entered(run, "DiagnoseTargets")).toBe(1);
    // The verification's own Cause first, then the diagnosis.
    expect(run.cause).toMatch(/503/);
    expect(run.cause).toContain("Diagnosis: Target health (ELB DescribeTargetHealth): target group k8s-milvus-milvusde-");
    expect(run.cause).toContain('0 of 1 targets healthy; 1 unhealthy with Target.Timeout ("Request timed out")');
    expect(run.cause).toContain(
      `FailedNetworkReconcile: expected exactly one securityGroup tagged with kubernetes.io/cluster/${CLUSTER} for eni eni-`,
    );
    expect(run.cause).toContain(`got: [] (clusterName: ${CLUSTER})`);
    expect(run.cause).toContain(`tagged kubernetes.io/cluster/${CLUSTER}: exactly one of the ENI's security groups must carry that tag`);
    expect(run.cause).toContain("allow the ALB's security group on the target port");
    expect(run.cause).not.toContain("Could not be read");
  });

  it("leaves the Service a LoadBalancer: the Layer-4 endpoint is untouched", () => {
    expect(serviceType(sb)).toBe("LoadBalancer");
  });

  it("keeps a TargetGroupBinding in the Service's namespace as the controller does", () => {
    const [tgb, ...others] = sb.kube.list<Tgb>("TargetGroupBinding", NS);
    expect(others).toEqual([]);
    expect(tgb?.metadata.name).toMatch(/^k8s-milvus-milvusde-[0-9a-f]{10}$/);
    expect(tgb?.metadata.labels).toEqual({ "ingress.k8s.aws/stack-namespace": NS, "ingress.k8s.aws/stack-name": INGRESS });
    expect(tgb?.metadata.finalizers).toEqual(["elbv2.k8s.aws/resources"]);
    expect(tgb?.spec).toMatchObject({
      targetGroupARN: expect.stringMatching(new RegExp(`^arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/${tgb?.metadata.name}/[0-9a-f]{16}$`)),
      targetType: "ip",
      serviceRef: { name: "milvus-demo", port: 19530 },
      ipAddressType: "ipv4",
    });
    // The warning is the TargetGroupBinding controller's, on the binding, not on the Ingress.
    const events = sb.kube.list<{ involvedObject: { kind: string; name: string }; reason: string; source?: { component?: string } }>("Event", NS);
    const warning = events.find((e) => e.reason === "FailedNetworkReconcile");
    expect(warning?.involvedObject).toMatchObject({ kind: "TargetGroupBinding", name: tgb?.metadata.name });
    expect(warning?.source?.component).toBe("targetGroupBinding");
  });

  it("serves again once the security groups are fixed, and deletes the binding with the Ingress", async () => {
    sb.alb.setFault({});
    const again = await sb.run(sb.request(secretArn));
    expect(again.cause).toBeUndefined();
    expect(again.status).toBe("SUCCEEDED");
    await deleteIngress(sb);
    await until("the TargetGroupBinding to be gone", () => sb.kube.list("TargetGroupBinding", NS).length === 0);
  }, 60_000);
});

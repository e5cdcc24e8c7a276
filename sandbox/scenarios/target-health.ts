// Target health: an ALB whose targets never pass their health checks answers 503 itself, whatever Milvus does.
// Here the Milvus pods' security groups are not tagged for the cluster, so the load balancer controller cannot
// open them to the ALB (its TargetGroupBinding says so in a FailedNetworkReconcile warning) and every health check
// times out. The verification fails once its retries are spent, and the diagnosis says why and what to fix.
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Sandbox } from "../index";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

interface BindingEvent {
  involvedObject?: { kind?: string; name?: string };
  type?: string;
  reason?: string;
  message?: string;
}

/** What ELB and the cluster say about the demo ALB's targets: ELB's target health, and the bindings' warnings. */
async function targetHealth(sandbox: Sandbox): Promise<Record<string, unknown>> {
  const hostname = sandbox.alb.listeners().find((l) => l.namespace === DEMO_TARGET.namespace && l.name === DEMO_TARGET.ingress)?.hostname;
  const bindings = sandbox.kube.list<{ metadata: { name: string }; spec: { targetGroupARN: string } }>("TargetGroupBinding", DEMO_TARGET.namespace);
  const health: string[] = [];
  for (const binding of bindings) {
    const groups = await sandbox.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [binding.spec.targetGroupARN] }));
    const name = groups.TargetGroups?.[0]?.TargetGroupName ?? binding.metadata.name;
    const { TargetHealthDescriptions = [] } = await sandbox.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: binding.spec.targetGroupARN }));
    for (const d of TargetHealthDescriptions) {
      health.push(`${name} ${d.Target?.Id}:${d.Target?.Port} ${d.TargetHealth?.State} ${d.TargetHealth?.Reason ?? ""}`.trim());
    }
  }
  const names = new Set(bindings.map((b) => b.metadata.name));
  const warnings = sandbox.kube
    .list<BindingEvent>("Event", DEMO_TARGET.namespace)
    .filter((e) => e.type === "Warning" && e.involvedObject?.kind === "TargetGroupBinding" && names.has(e.involvedObject.name ?? ""))
    .map((e) => `${e.involvedObject?.name}: ${e.reason}: ${e.message}`);
  return { alb: hostname ?? "none", targetHealth: health, bindingWarnings: [...new Set(warnings)] };
}

export const targetsUnhealthy: Scenario = {
  name: "targets-unhealthy",
  summary:
    "the Milvus pods' security groups are not tagged for the cluster, so the ALB's targets never pass a health check: the run fails as EndpointNotReady with ELB's reason, the TargetGroupBinding's warning and the fix; the Service stays LoadBalancer",
  async run(sandbox, ctx) {
    const { secretArn } = await demoSecret(sandbox);
    ctx.say(
      "No security group of the Milvus pods' network interfaces is tagged kubernetes.io/cluster/<cluster>: the load balancer controller cannot let the ALB in, and every health check times out",
    );
    sandbox.alb.setFault({ unhealthyTargets: "untagged-security-groups" });
    try {
      return [await observedRun(sandbox, ctx, "deployment whose targets never become healthy", sandbox.request(secretArn), () => targetHealth(sandbox))];
    } finally {
      sandbox.alb.setFault({});
    }
  },
};

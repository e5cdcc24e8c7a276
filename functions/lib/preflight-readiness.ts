// The readiness-gate advisory. With ip targets (milvus-l7's), a pod counts as Ready for a rolling update as soon as
// its own probes pass, while the ALB may still be registering it; with few replicas a rollout can leave the target
// group with only "initial" and "draining" targets, and Milvus clients see errors. The AWS Load Balancer
// Controller's pod readiness gate holds each new pod un-Ready until its target is healthy. Sources,
// kubernetes-sigs/aws-load-balancer-controller v2.17.1:
//   - docs/deploy/pod_readiness_gate.md: the namespace label elbv2.k8s.aws/pod-readiness-gate-inject=enabled, ip
//     targets only, injection at pod creation;
//   - pkg/inject/pod_readiness/pod_readiness_gate.go: the webhook adds a gate only for a TargetGroupBinding (which
//     the controller creates once it has built the Ingress's ALB) whose Service selects the pod;
//   - pkg/targetgroupbinding/utils.go: the condition type prefix target-health.elbv2.k8s.aws;
//   - helm/aws-load-balancer-controller/templates/webhook.yaml: the pod webhook's namespaceSelector on that label.
// EKS Auto Mode does not inject this gate (the request to support it is open on the aws/containers-roadmap).
// A warning, never a failure: the path works, and the gap shows only during Milvus's own rollouts.
import type { AlbController, Pod } from "./preflight-objects";

export const READINESS_GATE_PREFIX = "target-health.elbv2.k8s.aws/";
export const READINESS_GATE_INJECT_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject";

export interface ReadinessContext {
  namespace: string;
  serviceName: string;
  /** Undefined when the IngressClass could not be read. */
  controller: AlbController | undefined;
  /** The namespace's labels, undefined when it could not be read. */
  namespaceLabels: Readonly<Record<string, string>> | undefined;
}

const hasGate = (pod: Pod) => (pod.spec?.readinessGates ?? []).some((g) => g.conditionType.startsWith(READINESS_GATE_PREFIX));

/** The advisory for the Service's pods, or undefined when every pod has the gate (or there is no pod to look at). */
export function readinessGateAdvice(pods: readonly Pod[], ctx: ReadinessContext): string | undefined {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
  const without = live.filter((p) => !hasGate(p));
  if (live.length === 0 || without.length === 0) return undefined;
  const which = `${without.length} of the ${live.length} pods of Service ${ctx.namespace}/${ctx.serviceName}`;
  const risk = `${which} have no AWS Load Balancer Controller readiness gate (${READINESS_GATE_PREFIX}…), so during a rolling update of Milvus a new pod counts as ready before the ALB has registered it as healthy, and requests can fail while the old pods drain.`;
  if (ctx.controller === "auto-mode") {
    return `${risk} EKS Auto Mode does not inject that gate: make rollouts wait for the ALB instead, with minReadySeconds on the Milvus proxy Deployment of at least the target group's time to become healthy (healthy-threshold-count × healthcheck-interval-seconds) and at least two replicas.`;
  }
  const labelled = ctx.namespaceLabels?.[READINESS_GATE_INJECT_LABEL] === "enabled";
  const restart = `the controller's webhook adds the gate only when a pod is created and its Ingress's target group exists, so once this run has finished recreate the Milvus pods (kubectl rollout restart on the Milvus Deployments in ${ctx.namespace}, one at a time).`;
  if (labelled) return `${risk} Namespace ${ctx.namespace} already has ${READINESS_GATE_INJECT_LABEL}=enabled, but ${restart}`;
  return `${risk} To get it, label the namespace (kubectl label namespace ${ctx.namespace} ${READINESS_GATE_INJECT_LABEL}=enabled); ${restart}`;
}

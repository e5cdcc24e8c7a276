// The cutover: the Milvus Service from LoadBalancer (or NodePort) to ClusterIP, as a merge patch a real
// apiserver accepts. The apiserver itself drops nodePorts, healthCheckNodePort, loadBalancerClass and
// allocateLoadBalancerNodePorts on the type change (pkg/registry/core/service/strategy.go,
// dropTypeDependentFields) but rejects a ClusterIP Service that still has externalTrafficPolicy (when this patch
// changes it), loadBalancerSourceRanges (the Milvus chart sets 0.0.0.0/0) or, when that field is empty, the
// annotation service.beta.kubernetes.io/load-balancer-source-ranges (pkg/apis/core/validation/validation.go,
// ValidateService), so those are cleared with null.
// A Service the Milvus Operator owns is never patched: the cutover goes through its Milvus CR (operator.ts).
import { FIELD_MANAGER } from "../lib/ingress";
import type { ClusterConnector } from "../lib/kube";
import { type Service, servicePath } from "../lib/kube-client";
import { operatorPreflight } from "../lib/milvus-operator";
import type { PatchServiceResult, Target } from "../lib/state";
import { OPERATOR_WAIT_SECONDS, cutOverThroughOperator } from "./operator";

export interface PatchServiceInput {
  target: Target;
}

export interface PatchServiceDeps {
  connect: ClusterConnector;
  /** How long one invocation waits for the Milvus Operator to apply the CR's change to the Service. */
  operatorWaitSeconds?: number;
}

/** Fields valid only for LoadBalancer/NodePort that the apiserver does not drop by itself. */
const LOAD_BALANCER_ONLY_FIELDS = ["externalTrafficPolicy", "loadBalancerSourceRanges", "loadBalancerIP"] as const;

/** The older, annotation form of loadBalancerSourceRanges, which the apiserver also refuses on a ClusterIP Service. */
export const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

export function cutoverPatch(resourceVersion: string | undefined) {
  return {
    // Optimistic concurrency: if the Service changed since we read it, the apiserver answers 409.
    metadata: { resourceVersion, annotations: { [SOURCE_RANGES_ANNOTATION]: null } },
    spec: { type: "ClusterIP", ...Object.fromEntries(LOAD_BALANCER_ONLY_FIELDS.map((f) => [f, null])) },
  };
}

const OPEN_TO_ALL = new Set(["0.0.0.0/0", "::/0"]);

/**
 * Sources the Layer-4 load balancer admitted, when restricted (the field wins over the annotation, as in the
 * apiserver). The ALB does not inherit them: said in a warning, with the annotation that restricts the ALB.
 */
function sourceRestriction(service: Service): string[] | undefined {
  const field = service.spec?.loadBalancerSourceRanges ?? [];
  const annotation = service.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION];
  const ranges = (field.length > 0 ? field : (annotation ?? "").split(",")).map((r) => r.trim()).filter(Boolean);
  return ranges.length > 0 && !ranges.some((r) => OPEN_TO_ALL.has(r)) ? ranges : undefined;
}

export async function patchService(input: PatchServiceInput, deps: PatchServiceDeps): Promise<PatchServiceResult> {
  const { target } = input;
  const name = target.service.name;
  const namespace = target.namespace;
  const ref = `Service ${namespace}/${name}`;
  const kube = await deps.connect(target.cluster);
  const path = servicePath(namespace, name);

  const service = await kube.get<Service>(`read ${ref}`, path);
  const managed = await operatorPreflight(kube, namespace, service);
  if (managed) return cutOverThroughOperator(kube, namespace, service, managed, deps.operatorWaitSeconds ?? OPERATOR_WAIT_SECONDS);
  const previousType = service.spec?.type ?? "ClusterIP";
  const warnings: string[] = [];
  const labels = service.metadata?.labels ?? {};
  if (labels["app.kubernetes.io/managed-by"] === "Helm") {
    const release = service.metadata?.annotations?.["meta.helm.sh/release-name"] ?? labels["app.kubernetes.io/instance"] ?? "<release>";
    warnings.push(
      `${ref} is managed by Helm release ${release}: set service.type=ClusterIP in its values (helm upgrade ${release} milvus/milvus -n ${namespace} --reuse-values --set service.type=ClusterIP), or the next helm upgrade brings the Layer-4 load balancer back.`,
    );
  }
  // externalIPs are valid on every Service type and the apiserver keeps them on the switch to ClusterIP: kube-proxy
  // then still forwards those addresses to Milvus on Layer 4, past the ALB. Removing them is the owner's call.
  const externalIPs = service.spec?.externalIPs ?? [];
  if (externalIPs.length > 0) {
    warnings.push(
      `${ref} lists spec.externalIPs ${externalIPs.join(", ")}: kube-proxy keeps forwarding them to Milvus on Layer 4 after the cutover, past the ALB and its TLS. Remove spec.externalIPs (and the Helm value or manifest that sets them) if the ALB should be the only way in.`,
    );
  }
  if (previousType === "ClusterIP") return { previousType, type: "ClusterIP", changed: false, via: "service", warnings };
  const restricted = sourceRestriction(service);
  if (restricted) {
    warnings.push(
      `${ref}'s load balancer admitted only ${restricted.join(", ")}; the ALB does not inherit that: set the annotation alb.ingress.kubernetes.io/inbound-cidrs to the same ranges in the request's ingress.annotations and re-run.`,
    );
  }

  await kube.mergePatch(`patch ${ref} to ClusterIP`, path, cutoverPatch(service.metadata?.resourceVersion), FIELD_MANAGER);
  return { previousType, type: "ClusterIP", changed: true, via: "service", warnings };
}

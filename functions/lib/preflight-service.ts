// The Milvus Service's own `alb.ingress.kubernetes.io/*` annotations. The controller builds each target group from
// the Service's annotations merged over the Ingress's, the Service's winning (kubernetes-sigs/
// aws-load-balancer-controller v2.17.1 pkg/ingress/model_build_target_group.go buildTargetGroupSpec:
// `algorithm.MergeStringMap(svc.Annotations, ing.Ing.Annotations)`, and pkg/algorithm/maps.go: "if a key already
// exists, the value from previous map is kept"). So a target-group annotation on the Service silently replaces what
// milvus-l7 sets (GRPC, ip targets) or what the request asks for; refused before any write, naming it. Annotations
// that do not concern the target group, or that agree, pass.
import { ALB_ANNOTATION_PREFIX, validateAlbAnnotations } from "./alb-annotations";
import { ClusterRefused } from "./errors";
import type { Service } from "./kube-client";

const A = ALB_ANNOTATION_PREFIX;

/** The suffixes model_build_target_group.go reads from the merged Service-over-Ingress annotations. */
const TARGET_GROUP_SUFFIXES = new Set([
  "target-type",
  "backend-protocol",
  "backend-protocol-version",
  "healthcheck-port",
  "healthcheck-protocol",
  "healthcheck-path",
  "success-codes",
  "healthcheck-interval-seconds",
  "healthcheck-timeout-seconds",
  "healthy-threshold-count",
  "unhealthy-threshold-count",
  "target-group-attributes",
  "target-node-labels",
  "multi-cluster-target-group",
]);

function isTargetGroupKey(key: string): boolean {
  if (!key.startsWith(A)) return false;
  const suffix = key.slice(A.length);
  // buildTargetGroupTargetControlPort: `target-control-port.<service>.<port>`.
  return TARGET_GROUP_SUFFIXES.has(suffix) || suffix.startsWith("target-control-port.");
}

/** The Service's annotations that the controller applies to the target group over the Ingress's. */
export function serviceTargetGroupAnnotations(service: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(service.metadata?.annotations ?? {}).filter(([k]) => isTargetGroupKey(k)));
}

/**
 * Refuses a Service whose target-group annotations would break the gRPC path or override the request. `ingress` is
 * the Ingress's annotations as milvus-l7 applies them (the plan's plus its own).
 */
export function checkServiceAnnotations(service: Service, ingress: Readonly<Record<string, string>>): void {
  const ref = `Service ${service.metadata?.namespace}/${service.metadata?.name}`;
  const fromService = serviceTargetGroupAnnotations(service);
  const how = (key: string) =>
    `remove it from the Service (kubectl annotate service ${service.metadata?.name} -n ${service.metadata?.namespace} ${key}-), or, if a Helm chart sets it, from the chart's values, and re-run.`;
  const remove = (key: string) => `R${how(key).slice(1)}`;

  for (const [key, value] of Object.entries(fromService)) {
    const suffix = key.slice(A.length);
    if (suffix === "target-type" && value !== "ip") {
      throw new ClusterRefused(
        `${ref} has the annotation ${key}: ${value}, which wins over the Ingress's target-type: ip. ${value === "instance" ? "Instance targets reach pods through the Service's NodePort, and the cutover makes the Service ClusterIP, which has none: the ALB would lose every target." : "The controller accepts only ip or instance, and milvus-l7 needs ip."} ${remove(key)}`,
      );
    }
    if (suffix === "backend-protocol-version" && value !== "GRPC") {
      throw new ClusterRefused(
        `${ref} has the annotation ${key}: ${value}, which wins over the Ingress's GRPC: the ALB would send Milvus's gRPC calls to an ${value} target group, where they fail. ${remove(key)}`,
      );
    }
    const asked = ingress[key];
    if (asked !== undefined && asked !== value) {
      throw new ClusterRefused(
        `${ref} has the annotation ${key}: ${value}, which wins over the Ingress's ${asked} (from ingress.annotations): the request's value would be ignored. Make them agree, or ${how(key)}`,
      );
    }
  }

  // Values the target group would get from the Service are held to the rules the request's own annotations are
  // (a GRPC target group: gRPC success codes, a gRPC method as health-check path, ...), checked on the merged set.
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...ingress, ...fromService })) {
    const suffix = k.slice(A.length);
    if (isTargetGroupKey(k) && suffix !== "target-type" && suffix !== "backend-protocol-version") merged[k] = v;
  }
  for (const issue of validateAlbAnnotations(merged)) {
    if (!Object.hasOwn(fromService, issue.key)) continue;
    throw new ClusterRefused(
      `${ref} has the annotation ${issue.key}: ${fromService[issue.key]}, which the controller applies to Milvus's target group over the Ingress's, and it ${issue.message}. ${remove(issue.key)}`,
    );
  }

  // A health check speaking another protocol than the target on the same port fails on every target: TLS against
  // plaintext Milvus, or plaintext against a Milvus with TLS (buildTargetGroupHealthCheckProtocol defaults to the
  // backend protocol, which defaults to HTTP).
  const hcKey = `${A}healthcheck-protocol`;
  const hcProtocol = fromService[hcKey];
  const backend = fromService[`${A}backend-protocol`] ?? ingress[`${A}backend-protocol`] ?? "HTTP";
  const hcPort = fromService[`${A}healthcheck-port`] ?? ingress[`${A}healthcheck-port`] ?? "traffic-port";
  if (hcProtocol !== undefined && hcProtocol !== backend && hcPort === "traffic-port") {
    throw new ClusterRefused(
      `${ref} has the annotation ${hcKey}: ${hcProtocol}, but the target group's backend protocol is ${backend} on the same port: every health check would fail and the ALB would mark all Milvus targets unhealthy. ${remove(hcKey)}`,
    );
  }
}

// What each ELB target-health reason code means and what to check for it, for a Milvus gRPC target group behind an
// ALB the AWS Load Balancer Controller manages. The codes and their meanings are ELB's (ELBv2 API reference,
// TargetHealth: Reason); what to check follows from how the controller wires a target group (the security-group rule
// it adds for each TargetGroupBinding, the health-check defaults for GRPC target groups) and is ours.

/** The advice for one reason code; `cluster` names the EKS cluster whose tag the controller looks for. */
export function adviceFor(reason: string, cluster: string): string {
  switch (reason) {
    case "Target.Timeout":
      return (
        "the health checks time out, which is almost always the network: the security group of the Milvus pods' (or nodes') ENIs must allow the ALB's security group on the target port. " +
        `The controller adds that rule itself, to the one security group per ENI tagged kubernetes.io/cluster/${cluster}: exactly one of the ENI's security groups must carry that tag (a FailedNetworkReconcile warning on the TargetGroupBinding names the ENI it could not resolve); ` +
        "also check the subnets' network ACLs allow the ALB to reach the target port"
      );
    case "Target.FailedHealthChecks":
      return (
        "the ALB could not connect to the targets or their answer was malformed: check that the target port is Milvus's gRPC port (19530) and the pods listen on it, " +
        "and that the target group speaks what Milvus serves (alb.ingress.kubernetes.io/backend-protocol HTTP for plaintext Milvus, HTTPS for Milvus with TLS; backend-protocol-version GRPC)"
      );
    case "Target.ResponseCodeMismatch":
      return (
        "the health checks got an answer the matcher does not accept: for a GRPC target group the health-check path is /package.service/method (default /AWS.ALB/healthcheck, " +
        "which Milvus answers with gRPC code 12, UNIMPLEMENTED) and alb.ingress.kubernetes.io/success-codes must include the code it answers (the default matcher for GRPC is 12); " +
        "check healthcheck-path, healthcheck-protocol and success-codes on the Ingress"
      );
    case "Elb.InitialHealthChecking":
    case "Elb.RegistrationInProgress":
      return "the targets are still being registered or health-checked: re-run the same input in a few minutes; if they never leave this state, check the health-check interval and healthy-threshold annotations";
    case "Target.NotRegistered":
      return "no Milvus pod is registered: check that the pods behind the Service are Ready (kubectl get pods, kubectl get endpointslices for the Service) and that the Service's selector matches the Milvus proxy pods";
    case "Target.NotInUse":
      return "the targets are in Availability Zones the ALB has no subnet in: check the ALB's subnets (alb.ingress.kubernetes.io/subnets, or the subnets tagged for the controller's discovery) cover the pods' zones";
    case "Target.DeregistrationInProgress":
      return "the targets are being deregistered, as when pods are replaced: re-run the same input once the rollout has finished";
    case "Target.InvalidState":
      return "the instance targets are stopped or terminated: check the nodes behind the target group";
    case "Target.IpUnusable":
      return "the target IP is unusable (for example, it belongs to a load balancer): check the pods' IPs are in the VPC and not a load balancer's";
    case "Target.HealthCheckDisabled":
      return "health checks are disabled on the target group: enable them (the controller enables them unless told otherwise)";
    case "Elb.InternalError":
      return "ELB reported an internal error while health-checking: re-run the same input; if it persists, contact AWS Support";
    default:
      return "see the ELB user guide, \"Health checks for your target groups\", for this reason code";
  }
}

/** The order reasons are explained in: the ones that explain a 503 best first. */
const PRIORITY = [
  "Target.Timeout",
  "Target.FailedHealthChecks",
  "Target.ResponseCodeMismatch",
  "Target.NotRegistered",
  "Target.NotInUse",
  "Target.IpUnusable",
  "Target.InvalidState",
  "Target.HealthCheckDisabled",
  "Elb.InternalError",
  "Target.DeregistrationInProgress",
  "Elb.InitialHealthChecking",
  "Elb.RegistrationInProgress",
];

export function byPriority(a: string, b: string): number {
  const rank = (r: string) => (PRIORITY.includes(r) ? PRIORITY.indexOf(r) : PRIORITY.length);
  return rank(a) - rank(b);
}

// The simulator's public surface: what sandbox/index.ts and the tests use (re-exported by index.ts).
import type { ACMClient } from "@aws-sdk/client-acm";

export interface AlbControllerOptions {
  kube: { url: string; caPem: string; token: string };
  acm: ACMClient;
  /** ACM never returns an imported key; the sandbox's key store does. */
  privateKeyFor: (certificatePem: string) => string | undefined;
  /** The pod IPs target-type ip would register: the Milvus stand-in. `port` is the Service port. */
  targetFor: (namespace: string, service: string, port: number) => { host: string; port: number } | undefined;
  /** Region in the ALB hostname; defaults to the ACM client's region. */
  region?: string;
  /** Time from a successful deploy to the hostname in the Ingress status (ALB provisioning). Default 300. */
  publishDelayMs?: number;
  /** Time from publishing to healthy targets; until then the ALB answers 503. Default 500. */
  healthyDelayMs?: number;
  /**
   * Load-balancer nodes per ALB, each its own address (a listener on its own local port). Default 2: an ALB needs
   * at least two Availability Zones, with a node in each.
   */
  nodes?: number;
  /** How often the ALB re-reads the listener's certificate from ACM. Default 200. */
  certificateRefreshMs?: number;
  /**
   * First retry delay after a failed reconcile; it doubles per failure up to 1000 s. Default 5, which is
   * controller-runtime's default per-item rate limiter (ItemExponentialFailureRateLimiter(5ms, 1000s)).
   */
  retryBaseMs?: number;
  /** Diagnostics; silent by default so test output stays readable. */
  log?: (message: string) => void;
  /**
   * `self-managed` (default): the AWS Load Balancer Controller as its Helm chart installs it (controller
   * `ingress.k8s.aws/alb`, the IngressClass `alb`, the validating webhook). `auto`: EKS Auto Mode's load balancing
   * (controller `eks.amazonaws.com/alb`, `eks.amazonaws.com/v1` IngressClassParams, no webhook, nothing installed).
   */
  mode?: "self-managed" | "auto";
  /** Self-managed only: run and register the validating webhook (the chart's default, true). */
  webhook?: boolean;
  /** The controller flag --disable-ingress-group-name-annotation (the webhook then refuses new `group.name`s). */
  disableGroupNameAnnotation?: boolean;
  /** The controller's `--cluster-name`: the tag its security-group resolution looks for. Default "milvus-l7-sandbox". */
  clusterName?: string;
  /** The account in ELB's ARNs. Default moto's, 123456789012. */
  accountId?: string;
}

export interface AlbFault {
  /**
   * The validating webhook stops accepting connections (its pod is gone); with failurePolicy Fail the apiserver
   * then refuses Ingress writes. Clearing it serves again on the same address.
   */
  webhookUnreachable?: boolean;
  /** Never patch the Ingress status (the controller hangs before publishing). Clearing it publishes. */
  neverPublish?: boolean;
  /**
   * How long deleting an ALB takes after its listeners and load balancer are gone: the controller keeps retrying the
   * deletion of its security group (DependencyViolation until the ALB's network interfaces are released) and only
   * then removes the Ingress's finalizer, so a deleted Ingress stays terminating that long. `Infinity` holds it until
   * the fault is cleared.
   */
  teardownDelayMs?: number;
  /** Keep serving the previous certificate this long after ACM's copy changed (ALB propagation delay), on every node. */
  servedCertificateLagMs?: number;
  /**
   * The same for single nodes, by index in `resolve`'s order, overriding `servedCertificateLagMs` for them: one
   * node picking up a re-import later than the others. `Infinity` (or any long time) lags until the fault is cleared.
   */
  nodeCertificateLagMs?: Record<number, number>;
  /**
   * All targets fail health checks, so the ALB answers 503, and DescribeTargetHealth says why: `true` is
   * Target.FailedHealthChecks; a reason code is that reason; `"untagged-security-groups"` is Target.Timeout together
   * with the controller's FailedNetworkReconcile warning on each TargetGroupBinding, as when none of the pods' ENI
   * security groups is tagged `kubernetes.io/cluster/<cluster>` and no rule lets the ALB in.
   */
  unhealthyTargets?: boolean | UnhealthyReason | "untagged-security-groups";
}

/** The reason codes of an unhealthy target the simulator produces (ELBv2 API reference, TargetHealth). */
export type UnhealthyReason = "Target.Timeout" | "Target.FailedHealthChecks" | "Target.ResponseCodeMismatch";

export interface AlbListenerInfo {
  /** The Ingress this ALB serves (one entry per member of an IngressGroup). */
  namespace: string;
  name: string;
  /** The explicit IngressGroup's name, when the ALB is shared. */
  group?: string;
  /** The ALB's DNS name, the value the Ingress status gets. */
  hostname: string;
  /** Local port of the first node's HTTPS listener on 127.0.0.1 (0 when the Ingress has no HTTPS listen port). */
  port: number;
  /** Every node's local port, in `resolve`'s order (empty without an HTTPS listener). */
  ports: number[];
  /** The listener's default certificate (first of `certificate-arn`, or the discovered one). */
  certificateArn: string | undefined;
  scheme: "internet-facing" | "internal";
  /** Whether the hostname has been written to the Ingress status. */
  published: boolean;
}

export interface AlbController {
  /** What DNS would answer for the ALB hostname: every node's HTTPS listener, in node order; empty for an unknown name. */
  resolve(hostname: string): { address: string; port: number }[];
  listeners(): AlbListenerInfo[];
  /** The ELBv2 Query API stand-in (DescribeLoadBalancers, DescribeTargetGroups, DescribeTargetHealth) on 127.0.0.1. */
  elbv2Endpoint: string;
  /** Replaces the current fault set; `setFault({})` clears all faults. */
  setFault(f: AlbFault): void;
  /** Stops the watches, all listeners and every open socket. */
  close(): Promise<void>;
}

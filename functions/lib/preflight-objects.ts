// The cluster objects ApplyIngress's preflight reads besides the Service and the Ingress, with their REST paths, and
// how a read the Lambdas' access does not cover becomes a warning instead of a failure. The shapes are the fields
// the preflight looks at, from the upstream types: networking.k8s.io/v1 IngressClass and core/v1 Pod and Namespace
// (kubernetes/kubernetes staging/src/k8s.io/api), IngressClassParams from kubernetes-sigs/aws-load-balancer-controller
// v2.17.1 apis/elbv2/v1beta1/ingressclassparams_types.go and, for EKS Auto Mode, the Amazon EKS User Guide
// ("Create an IngressClass to configure an Application Load Balancer", IngressClassParams reference).
import { KubernetesForbidden } from "./errors";
import type { ObjectMeta } from "./kube-client";

/** spec.controller of an IngressClass the self-managed AWS Load Balancer Controller serves (class_loader.go). */
export const SELF_MANAGED_CONTROLLER = "ingress.k8s.aws/alb";
/** spec.controller of an IngressClass EKS Auto Mode serves (EKS User Guide, "Create ingress class"). */
export const AUTO_MODE_CONTROLLER = "eks.amazonaws.com/alb";

export type AlbController = "self-managed" | "auto-mode";

/** Each controller's IngressClassParams: the API group and version the IngressClass's spec.parameters must name. */
export const PARAMS_API: Record<AlbController, { group: string; version: string; certificatesField: "certificateArn" | "certificateARNs" }> = {
  "self-managed": { group: "elbv2.k8s.aws", version: "v1beta1", certificatesField: "certificateArn" },
  "auto-mode": { group: "eks.amazonaws.com", version: "v1", certificatesField: "certificateARNs" },
};

export const ingressClassesPath = "/apis/networking.k8s.io/v1/ingressclasses";
export const ingressClassPath = (name: string) => `${ingressClassesPath}/${name}`;
/** Cluster-scoped (`+kubebuilder:resource:scope=Cluster`), plural ingressclassparams. */
export const ingressClassParamsPath = (controller: AlbController, name: string) =>
  `/apis/${PARAMS_API[controller].group}/${PARAMS_API[controller].version}/ingressclassparams/${name}`;
export const allIngressesPath = "/apis/networking.k8s.io/v1/ingresses";
export const namespacePath = (name: string) => `/api/v1/namespaces/${name}`;
export const podsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/pods`;

/** metav1.LabelSelector */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface IngressClass {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    controller?: string;
    parameters?: { apiGroup?: string; kind: string; name: string; scope?: string; namespace?: string };
  };
}

/** The fields of IngressClassParams that can override what milvus-l7 guarantees or the request asks for. */
export interface IngressClassParamsSpec {
  loadBalancerName?: string;
  /** Self-managed controller. */
  certificateArn?: string[];
  /** EKS Auto Mode. */
  certificateARNs?: string[];
  namespaceSelector?: LabelSelector;
  group?: { name: string };
  scheme?: string;
  inboundCIDRs?: string[];
  sslPolicy?: string;
  sslRedirectPort?: string;
  subnets?: unknown;
  ipAddressType?: string;
  targetType?: string;
  loadBalancerAttributes?: { key: string; value: string }[];
  minimumLoadBalancerCapacity?: unknown;
  ipamConfiguration?: unknown;
  PrefixListsIDs?: string[];
  prefixListsIDs?: string[];
  wafv2AclArn?: string;
  wafv2AclName?: string;
}

export interface IngressClassParams {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: IngressClassParamsSpec;
}

export interface Pod {
  metadata?: ObjectMeta;
  spec?: { readinessGates?: { conditionType: string }[] };
  status?: { phase?: string };
}

export interface Namespace {
  metadata?: ObjectMeta;
}

/** A read that may be forbidden: the value, or `forbidden` when the Lambdas' access does not cover it. */
export type Readable<T> = { ok: true; value: T } | { ok: false; forbidden: true };

/**
 * Runs a read; a 401/403 (KubernetesForbidden) becomes `{ ok: false }` so the caller can warn and go on. Anything
 * else (404, 5xx, a deadline) is the caller's to handle or to fail with.
 */
export async function readable<T>(read: () => Promise<T>): Promise<Readable<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (e) {
    if (e instanceof KubernetesForbidden) return { ok: false, forbidden: true };
    throw e;
  }
}

/**
 * The warning for a read the Lambdas may not make: what was not checked, and the read-only grant that would let
 * milvus-l7 check it. The Lambda role's edit access is scoped to the Milvus namespace; these objects are
 * cluster-scoped (or, for the Ingress list, in every namespace), so they need a ClusterRole of their own.
 */
export function cannotCheck(what: string, unchecked: string, grant: { verbs: string; resource: string; apiGroup: string }): string {
  const group = grant.apiGroup === "" ? 'the core API group ("")' : `apiGroup ${grant.apiGroup}`;
  return `milvus-l7 could not read ${what} (forbidden), so it did not check ${unchecked}. To let it, bind a ClusterRole allowing ${grant.verbs} on ${grant.resource} (${group}) to a Kubernetes group of the Lambda role's EKS access entry, or to user milvus-l7 on aws-auth clusters; it needs no write access there.`;
}

/** apimachinery metav1.LabelSelectorAsSelector, evaluated: matchLabels and the In/NotIn/Exists/DoesNotExist operators. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        if (!has || !(e.values ?? []).includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && (e.values ?? []).includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        // LabelSelectorAsSelector refuses an unknown operator; the controller then cannot use the selector at all.
        return false;
    }
  }
  return true;
}

/** A Service selector as the `labelSelector` query of a list (equality requirements, comma-separated). */
export function labelSelectorQuery(selector: Readonly<Record<string, string>>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

// The resources the stand-in serves (Namespaces, Services, Pods, Secrets, core/v1 Events, networking.k8s.io/v1 Ingresses and
// IngressClasses, admission webhook configurations, RBAC Roles and bindings, and the custom resources of the Milvus Operator and the AWS Load
// Balancer Controller), with
// what each one's registry and OpenAPI schema decide: scope, short names, the status subresource, selectable
// fields, and the list semantics strategic merge patch and server-side apply need.
import type { JsonObject } from "./json";

/** SSA list semantics (x-kubernetes-list-type): associative by keys, or a set of scalars; others are atomic. */
type ListType = { keys: string[]; defaults?: JsonObject } | "set";

export interface ResourceInfo {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  hasStatus: boolean;
  /** Services are created by PUT when absent (svcStrategy.AllowCreateOnUpdate); other resources answer 404. */
  allowCreateOnUpdate: boolean;
  /** DELETE answers with the object (true) or with a Success Status (generic registry default). */
  returnDeletedObject: boolean;
  /** Field-selector labels besides metadata.name and metadata.namespace. */
  selectableFields: string[];
  /** Keyed by dotted path without indexes ("spec.ports"). */
  lists: Record<string, ListType>;
  /** Strategic-merge patchMergeKey by dotted path; "" merges a list of scalars as a set. */
  mergeKeys: Record<string, string>;
  /**
   * A custom resource (a CRD's kind): no strategic merge patch, no built-in validation beyond the name, status
   * dropped on create, generation on every spec change (apiextensions-apiserver pkg/registry/customresource).
   */
  custom?: boolean;
  /** The status a create starts with, when the registry's PrepareForCreate sets one (custom resources drop it). */
  initialStatus?: JsonObject;
}

const metadataLists: Record<string, ListType> = {
  "metadata.finalizers": "set",
  "metadata.ownerReferences": { keys: ["uid"] },
};
const metadataMergeKeys: Record<string, string> = { "metadata.finalizers": "", "metadata.ownerReferences": "uid" };

export const RESOURCES: ResourceInfo[] = [
  {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    categories: [],
    hasStatus: false,
    allowCreateOnUpdate: false,
    returnDeletedObject: true,
    selectableFields: ["status.phase"],
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
  },
  {
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
    categories: ["all"],
    hasStatus: true,
    allowCreateOnUpdate: true,
    returnDeletedObject: true,
    selectableFields: ["spec.clusterIP", "spec.type"],
    initialStatus: { loadBalancer: {} },
    lists: {
      ...metadataLists,
      // +listType=map +listMapKey=port +listMapKey=protocol; protocol defaults to TCP.
      "spec.ports": { keys: ["port", "protocol"], defaults: { protocol: "TCP" } },
      "status.conditions": { keys: ["type"] },
    },
    mergeKeys: { ...metadataMergeKeys, "spec.ports": "port", "status.conditions": "type" },
  },
  {
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    shortNames: ["ev"],
    categories: [],
    hasStatus: false,
    allowCreateOnUpdate: true,
    returnDeletedObject: false,
    // pkg/registry/core/event/strategy.go ToSelectableFields
    selectableFields: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "source",
      "type",
    ],
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
  },
  // core/v1 Secrets (pkg/registry/core/secret/strategy.go: no status, not created by PUT, SelectableFields adds
  // `type`; storage.go sets no ReturnDeletedObject): what cert-manager writes a certificate into.
  {
    group: "",
    version: "v1",
    plural: "secrets",
    singular: "secret",
    kind: "Secret",
    namespaced: true,
    shortNames: [],
    categories: [],
    hasStatus: false,
    allowCreateOnUpdate: false,
    returnDeletedObject: false,
    selectableFields: ["type"],
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
  },
  {
    group: "networking.k8s.io",
    version: "v1",
    plural: "ingresses",
    singular: "ingress",
    kind: "Ingress",
    namespaced: true,
    shortNames: ["ing"],
    categories: [],
    hasStatus: true,
    allowCreateOnUpdate: false,
    returnDeletedObject: false,
    selectableFields: [],
    initialStatus: { loadBalancer: {} },
    // Ingress rules, paths and tls are all atomic lists.
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
  },
  // The Milvus Operator's CRDs (zilliztech/milvus-operator v1.3.8, config/crd/bases/milvus.io_milvuses.yaml and
  // milvus.io_milvusclusters.yaml): names, short names, scope and the status subresource as declared there. The
  // schemas are not enforced (README.md).
  {
    group: "milvus.io",
    version: "v1beta1",
    plural: "milvuses",
    singular: "milvus",
    kind: "Milvus",
    namespaced: true,
    shortNames: ["mi"],
    categories: [],
    hasStatus: true,
    allowCreateOnUpdate: false,
    returnDeletedObject: true,
    selectableFields: [],
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
    custom: true,
  },
  {
    group: "milvus.io",
    version: "v1alpha1",
    plural: "milvusclusters",
    singular: "milvuscluster",
    kind: "MilvusCluster",
    namespaced: true,
    shortNames: ["mc", "mic"],
    categories: [],
    hasStatus: true,
    allowCreateOnUpdate: false,
    returnDeletedObject: true,
    selectableFields: [],
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
    custom: true,
  },
  // core/v1 Pods (pkg/registry/core/pod/strategy.go: PrepareForCreate sets phase Pending and the QoS class, main
  // writes keep status; ToSelectableFields; pkg/registry/core/pod/storage/storage.go ReturnDeletedObject).
  {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
    categories: ["all"],
    hasStatus: true,
    allowCreateOnUpdate: false,
    returnDeletedObject: true,
    selectableFields: [
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "spec.hostNetwork",
      "status.phase",
      "status.podIP",
      "status.podIPs",
      "status.nominatedNodeName",
    ],
    initialStatus: { phase: "Pending", qosClass: "BestEffort" },
    lists: {
      ...metadataLists,
      "spec.containers": { keys: ["name"] },
      "status.conditions": { keys: ["type"] },
    },
    mergeKeys: { ...metadataMergeKeys, "spec.containers": "name", "status.conditions": "type" },
  },
  // networking.k8s.io/v1 IngressClass: cluster-scoped, no status (pkg/registry/networking/ingressclass/strategy.go).
  builtinClusterScoped("networking.k8s.io", "ingressclasses", "ingressclass", "IngressClass", {}),
  // admissionregistration.k8s.io/v1 webhook configurations: cluster-scoped; `webhooks` is a map keyed by name.
  builtinClusterScoped("admissionregistration.k8s.io", "validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", {
    webhooks: "name",
  }),
  builtinClusterScoped("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", {
    webhooks: "name",
  }),
  // The AWS Load Balancer Controller's CRDs (kubernetes-sigs/aws-load-balancer-controller v2.17.1,
  // config/crd/bases/elbv2.k8s.aws_ingressclassparams.yaml, elbv2.k8s.aws_targetgroupbindings.yaml): v1beta1 only
  // (TargetGroupBinding's v1alpha1 is not served here).
  customResource("elbv2.k8s.aws", "v1beta1", "ingressclassparams", "ingressclassparams", "IngressClassParams", false, false),
  customResource("elbv2.k8s.aws", "v1beta1", "targetgroupbindings", "targetgroupbinding", "TargetGroupBinding", true, true),
  // EKS Auto Mode's IngressClassParams (eks.amazonaws.com/v1, cluster-scoped; EKS user guide "Create an
  // IngressClass to configure an Application Load Balancer"; the CRD is not public: guess beyond name and scope).
  customResource("eks.amazonaws.com", "v1", "ingressclassparams", "ingressclassparams", "IngressClassParams", false, false),
  // rbac.authorization.k8s.io/v1 (kubernetes/kubernetes v1.32.5 pkg/registry/rbac/{role,rolebinding,clusterrole,
  // clusterrolebinding}/strategy.go: no status, DELETE answers a Status; rules and subjects are atomic lists), which
  // the RBAC authorizer (authz.ts) evaluates for IAM principals with access-entry groups.
  rbacResource("roles", "role", "Role", true),
  rbacResource("rolebindings", "rolebinding", "RoleBinding", true),
  rbacResource("clusterroles", "clusterrole", "ClusterRole", false),
  rbacResource("clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false),
];

function rbacResource(plural: string, singular: string, kind: string, namespaced: boolean): ResourceInfo {
  return { ...builtinClusterScoped("rbac.authorization.k8s.io", plural, singular, kind, {}), namespaced };
}

function builtinClusterScoped(group: string, plural: string, singular: string, kind: string, keyed: Record<string, string>): ResourceInfo {
  const lists: Record<string, ListType> = { ...metadataLists };
  for (const [path, key] of Object.entries(keyed)) lists[path] = { keys: [key] };
  return {
    group,
    version: "v1",
    plural,
    singular,
    kind,
    namespaced: false,
    shortNames: [],
    categories: [],
    hasStatus: false,
    allowCreateOnUpdate: false,
    returnDeletedObject: false,
    selectableFields: [],
    lists,
    mergeKeys: { ...metadataMergeKeys, ...keyed },
  };
}

function customResource(
  group: string,
  version: string,
  plural: string,
  singular: string,
  kind: string,
  namespaced: boolean,
  hasStatus: boolean,
): ResourceInfo {
  return {
    group,
    version,
    plural,
    singular,
    kind,
    namespaced,
    shortNames: [],
    categories: [],
    hasStatus,
    allowCreateOnUpdate: false,
    returnDeletedObject: true,
    selectableFields: [],
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
    custom: true,
  };
}

export const apiVersionOf = (info: ResourceInfo): string => (info.group ? `${info.group}/${info.version}` : info.version);
/** "services" / "ingresses.networking.k8s.io", as errors name a resource. */
export const qualifiedResource = (info: ResourceInfo): string => (info.group ? `${info.plural}.${info.group}` : info.plural);
export const qualifiedKind = (info: ResourceInfo): string => (info.group ? `${info.kind}.${info.group}` : info.kind);

/**
 * A resource by kind, plural, singular or short name, optionally qualified by group ("IngressClassParams.eks.amazonaws.com")
 * or narrowed by apiVersion; the first match wins where a name is served by two groups.
 */
export function findResource(kindOrPlural: string, apiVersion?: string): ResourceInfo | undefined {
  const [head = "", ...groupParts] = kindOrPlural.toLowerCase().split(".");
  const group = groupParts.join(".");
  return RESOURCES.find(
    (r) =>
      (r.kind.toLowerCase() === head || r.plural === head || r.singular === head || r.shortNames.includes(head)) &&
      (groupParts.length === 0 || r.group === group) &&
      (apiVersion === undefined || apiVersionOf(r) === apiVersion),
  );
}

/** Status details name the API group, except the core group's empty one (omitempty). */
export function groupOf(info: ResourceInfo): JsonObject {
  return info.group ? { group: info.group } : {};
}

// Looked up once for the strategies and validators.
export const RESOURCE_SERVICE = findResource("Service") as ResourceInfo;
export const RESOURCE_INGRESS = findResource("Ingress") as ResourceInfo;
export const RESOURCE_NAMESPACE = findResource("Namespace") as ResourceInfo;
export const RESOURCE_INGRESS_CLASS = findResource("IngressClass") as ResourceInfo;
export const RESOURCE_POD = findResource("Pod") as ResourceInfo;
export const RESOURCE_SECRET = findResource("Secret") as ResourceInfo;

/** What a request's path names: a collection, an object or an object's subresource. */
export interface Target {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** /api/v1/namespaces/{ns}/{plural}/{name}/{sub} and /apis/{group}/{version}/…, cluster-scoped forms too. */
export function parseTarget(path: string): Target | undefined {
  const segments = path.split("/").filter((s) => s !== "");
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === "api" && segments[1] === "v1") {
    group = "";
    version = "v1";
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    group = segments[1] ?? "";
    version = segments[2] ?? "";
    rest = segments.slice(3);
  } else return undefined;
  const resource = (plural: string | undefined): ResourceInfo | undefined =>
    RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3 && resource(rest[2])?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }

  const info = resource(rest[0]);
  if (!info || rest.length > 3) return undefined;
  if (info.namespaced && namespace === undefined && rest.length > 1) return undefined;
  return { info, namespace, name: rest[1], subresource: rest[2] };
}

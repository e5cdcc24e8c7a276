// The Kubernetes RBAC the steps need, rule by rule, and the manifests `milvus-l7 rbac` prints from it. It lives
// here, next to the steps whose calls it lists, rather than in cli/: a change of a step's Kubernetes calls and of
// this table belong in the same review, and the CLI, the sandbox's `rbac` scenario and the docs all render the one
// table (the sandbox's RBAC authorizer does not read it: it evaluates whatever Roles the cluster holds).
//
// Verbs are the apiserver's request verbs (k8s.io/apiserver endpoints/request/requestinfo.go): GET of an object is
// `get`, of a collection `list` (or `watch` with ?watch=true), PATCH is `patch` — a server-side apply that creates
// the object too (handlers/patch.go creates on apply without asking the authorizer for `create`), DELETE `delete`.
import YAML from "yaml";

/** The Kubernetes group the EKS access entry gives the role (`kubernetesAccess=rbac`) and the bindings name. */
export const DEFAULT_KUBERNETES_GROUP = "milvus-l7";

/**
 * The group of import-certificate's own role, which alone reads certificate Secrets: the Kubernetes-facing steps'
 * group never gets them, so a Secret Role is bound to this one (the stack gives that role an access entry with it).
 */
export const certificateReaderGroup = (group: string = DEFAULT_KUBERNETES_GROUP): string => `${group}-certificates`;

/** One rule of a Role, with why each verb is there: `calls[verb]` names the steps and the calls that use it. */
export interface AccessRule {
  apiGroup: string;
  resource: string;
  verbs: string[];
  calls: Record<string, string>;
}

/**
 * What the steps call in each Milvus namespace. Every verb is one a step sends (read from the steps' code, not
 * from what a role "usually" has); test/integration/rbac-minimal.sandbox.test.ts removes each in turn and names
 * the run that then fails or loses something.
 */
export const NAMESPACE_RULES: AccessRule[] = [
  {
    apiGroup: "",
    resource: "services",
    verbs: ["get", "patch", "watch", "list"],
    calls: {
      get: "apply-ingress reads the backend Service; patch-service reads it before the cutover; remove-ingress reads it to tell the rollback's message; check-target reads it (still ClusterIP?)",
      patch: "patch-service merge-patches spec.type to ClusterIP (guarded by the resourceVersion)",
      watch: "patch-service, Operator cutover: a bounded watch (fieldSelector metadata.name) until the Operator has applied ClusterIP",
      list: "patch-service, Operator cutover: the relist after a watch whose resourceVersion expired (410), as client-go's reflector does",
    },
  },
  {
    apiGroup: "networking.k8s.io",
    resource: "ingresses",
    verbs: ["get", "patch", "watch", "list", "delete"],
    calls: {
      get: "apply-ingress reads an existing Ingress of the name; get-ingress-status reads it before each poll; remove-ingress reads its uid; check-target compares it with what was applied",
      patch: "apply-ingress: server-side apply as field manager milvus-l7 (creates it when absent)",
      watch: "get-ingress-status: the bounded watch until the controller publishes an address; apply-ingress: waiting out a terminating Ingress",
      list: "get-ingress-status and apply-ingress: the relist after a watch whose resourceVersion expired (410)",
      delete: "remove-ingress (onFailure: remove-ingress), with a uid precondition",
    },
  },
  {
    apiGroup: "",
    resource: "events",
    verbs: ["list"],
    calls: {
      list: "get-ingress-status lists the Ingress's Warning events; diagnose-targets the TargetGroupBindings' latest Warning",
    },
  },
  {
    apiGroup: "",
    resource: "pods",
    verbs: ["list"],
    calls: { list: "apply-ingress's preflight: the Service's pods, for the readiness-gate advisory (a warning when unreadable)" },
  },
  {
    apiGroup: "elbv2.k8s.aws",
    resource: "targetgroupbindings",
    verbs: ["list"],
    calls: { list: "diagnose-targets finds the Ingress's target groups (without it: through ELB by the ALB's DNS name)" },
  },
  {
    apiGroup: "milvus.io",
    resource: "milvuses",
    verbs: ["get", "patch"],
    calls: {
      get: "apply-ingress's and patch-service's Operator preflight read the Milvus CR that owns the Service; check-target reads its serviceType",
      patch: "patch-service sets the CR's spec.components.<proxy|standalone>.serviceType to ClusterIP",
    },
  },
];

/** A certificate Secret (cert-manager source): import-certificate GETs this one Secret, nothing else. */
export const SECRET_RULE_CALLS: Record<string, string> = {
  get: "import-certificate reads the kubernetes.io/tls Secret named by certificate.source.kubernetesSecret",
};

/**
 * The optional cluster-wide reads of apply-ingress's preflight (functions/lib/preflight.ts). Without them each
 * check is a warning naming what went unchecked, never a failure (docs/deploy.md, "Optional: read access for the
 * cluster checks").
 */
export const CLUSTER_READ_RULES: AccessRule[] = [
  {
    apiGroup: "networking.k8s.io",
    resource: "ingressclasses",
    verbs: ["get", "list"],
    calls: {
      get: "preflight reads the Ingress's IngressClass and its peers' classes",
      list: "preflight lists IngressClasses to find the default class of an Ingress that names none",
    },
  },
  {
    apiGroup: "elbv2.k8s.aws",
    resource: "ingressclassparams",
    verbs: ["get"],
    calls: { get: "preflight reads the self-managed controller's IngressClassParams the class names" },
  },
  {
    apiGroup: "eks.amazonaws.com",
    resource: "ingressclassparams",
    verbs: ["get"],
    calls: { get: "preflight reads EKS Auto Mode's IngressClassParams the class names" },
  },
  {
    apiGroup: "networking.k8s.io",
    resource: "ingresses",
    verbs: ["list"],
    calls: { list: "preflight lists the Ingresses of all namespaces for the other members of an IngressGroup" },
  },
  {
    apiGroup: "",
    resource: "namespaces",
    verbs: ["get"],
    calls: { get: "preflight reads the Milvus namespace's labels (IngressClassParams namespaceSelector, readiness-gate label)" },
  },
];

export interface RbacOptions {
  /** The Milvus namespaces: one Role and RoleBinding in each. */
  namespaces: string[];
  /** Certificate Secrets as namespace/name: a Role per namespace allowing `get` on exactly those names. */
  secrets?: { namespace: string; name: string }[];
  /** The Kubernetes group the bindings name (default DEFAULT_KUBERNETES_GROUP). */
  group?: string;
  /** Also the read-only ClusterRole and ClusterRoleBinding for the preflight's cluster-wide checks. */
  clusterRead?: boolean;
  /** Leaves rules out (the minimality test): each entry `apiGroup/resource:verb`, or without `:verb` the whole rule. */
  omit?: string[];
}

const RBAC_API = "rbac.authorization.k8s.io/v1";
export const ROLE_NAME = "milvus-l7";
export const SECRET_ROLE_NAME = "milvus-l7-certificate-secrets";
export const CLUSTER_ROLE_NAME = "milvus-l7-cluster-read";

/** `apiGroup/resource`, the core group as "core" (a key the minimality test and omit use). */
export const ruleKey = (rule: Pick<AccessRule, "apiGroup" | "resource">): string => `${rule.apiGroup || "core"}/${rule.resource}`;

type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

function policyRules(rules: AccessRule[], omit: string[]): PolicyRule[] {
  return rules.flatMap((rule) => {
    const key = ruleKey(rule);
    if (omit.includes(key)) return [];
    const verbs = rule.verbs.filter((v) => !omit.includes(`${key}:${v}`));
    return verbs.length > 0 ? [{ apiGroups: [rule.apiGroup], resources: [rule.resource], verbs }] : [];
  });
}

function binding(kind: "RoleBinding" | "ClusterRoleBinding", name: string, namespace: string | undefined, roleKind: "Role" | "ClusterRole", group: string) {
  return {
    apiVersion: RBAC_API,
    kind,
    metadata: namespace ? { name, namespace } : { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
  };
}

/** The objects, in the order kubectl should apply them (each Role before its binding). */
export function rbacObjects(options: RbacOptions): Record<string, unknown>[] {
  const group = options.group ?? DEFAULT_KUBERNETES_GROUP;
  const omit = options.omit ?? [];
  const objects: Record<string, unknown>[] = [];
  for (const namespace of [...new Set(options.namespaces)]) {
    objects.push({ apiVersion: RBAC_API, kind: "Role", metadata: { name: ROLE_NAME, namespace }, rules: policyRules(NAMESPACE_RULES, omit) });
    objects.push(binding("RoleBinding", ROLE_NAME, namespace, "Role", group));
  }
  const secretsByNamespace = new Map<string, string[]>();
  for (const { namespace, name } of options.secrets ?? []) {
    const names = secretsByNamespace.get(namespace) ?? [];
    if (!names.includes(name)) names.push(name);
    secretsByNamespace.set(namespace, names);
  }
  for (const [namespace, names] of secretsByNamespace) {
    // resourceNames confines `get` to these Secrets (RBAC cannot confine list or watch that way, and neither is needed).
    const rules: PolicyRule[] = omit.includes("core/secrets") ? [] : [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: names }];
    objects.push({ apiVersion: RBAC_API, kind: "Role", metadata: { name: SECRET_ROLE_NAME, namespace }, rules });
    objects.push(binding("RoleBinding", SECRET_ROLE_NAME, namespace, "Role", certificateReaderGroup(group)));
  }
  if (options.clusterRead) {
    objects.push({ apiVersion: RBAC_API, kind: "ClusterRole", metadata: { name: CLUSTER_ROLE_NAME }, rules: policyRules(CLUSTER_READ_RULES, omit) });
    objects.push(binding("ClusterRoleBinding", CLUSTER_ROLE_NAME, undefined, "ClusterRole", group));
  }
  return objects;
}

/** The objects as one `---`-separated YAML stream for `kubectl apply -f -`, each rule commented with its calls. */
export function rbacYaml(options: RbacOptions): string {
  const header = [
    "# Kubernetes RBAC for milvus-l7's Kubernetes-facing Lambdas: exactly the calls the workflow's steps make.",
    `# Bound to the Kubernetes group "${options.group ?? DEFAULT_KUBERNETES_GROUP}", which the stack's EKS access entry gives the role`,
    "# with -c kubernetesAccess=rbac (docs/deploy.md, \"Granting cluster access\").",
    ...(options.secrets?.length
      ? [`# Certificate Secrets are bound to "${certificateReaderGroup(options.group)}", the group of import-certificate's own access entry.`]
      : []),
  ];
  const documents = rbacObjects(options).map((object) => {
    const doc = new YAML.Document(object);
    const rules = doc.get("rules") as YAML.YAMLSeq | undefined;
    for (const item of rules?.items ?? []) {
      const rule = (item as YAML.YAMLMap).toJSON() as PolicyRule;
      const source = [...NAMESPACE_RULES, ...CLUSTER_READ_RULES].find(
        (r) => r.apiGroup === rule.apiGroups[0] && r.resource === rule.resources[0] && (object.kind === "ClusterRole") === CLUSTER_READ_RULES.includes(r),
      );
      const calls = rule.resources[0] === "secrets" ? SECRET_RULE_CALLS : (source?.calls ?? {});
      (item as YAML.YAMLMap).commentBefore = rule.verbs.map((v) => ` ${v}: ${calls[v] ?? ""}`).join("\n");
    }
    return doc.toString({ lineWidth: 0 });
  });
  return `${header.join("\n")}\n${documents.map((d) => `---\n${d}`).join("")}`;
}

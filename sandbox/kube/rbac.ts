// The Kubernetes RBAC authorizer over the Roles, ClusterRoles and their bindings the stand-in stores. Ported from
// kubernetes/kubernetes v1.32.5: plugin/pkg/auth/authorizer/rbac/rbac.go (Authorize: allowed by the first rule of any
// binding that applies to the user), pkg/registry/rbac/validation/rule.go (VisitRulesFor: ClusterRoleBindings first,
// then the RoleBindings of the request's namespace; appliesToUser: User, Group and ServiceAccount subjects;
// GetRoleReferenceRules: a RoleBinding's roleRef names a Role of its own namespace or a ClusterRole), and
// pkg/apis/rbac/v1/evaluation_helpers.go (RuleAllows, VerbMatches, APIGroupMatches, ResourceMatches with `*` and
// `*/subresource`, ResourceNameMatches). Non-resource URLs (/healthz, discovery) are not authorized by the stand-in.
// Aggregated ClusterRoles (aggregationRule) are not modelled: their rules are what is stored.
import { isObject, type Json, type JsonObject, str } from "./json";

/** The request attributes RBAC decides on (k8s.io/apiserver/pkg/authorization/authorizer.Attributes). */
export interface RequestAttributes {
  user: string;
  groups: string[];
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** The stored RBAC objects of a kind ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"), in a namespace. */
export type RbacObjects = (kind: string, namespace?: string) => JsonObject[];

const ALL = "*";
const strings = (value: Json | undefined): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
const has = (list: string[], value: string) => list.includes(value);

/** evaluation_helpers.go RuleAllows, for resource requests. */
export function ruleAllows(attrs: RequestAttributes, rule: JsonObject): boolean {
  const verbs = strings(rule.verbs);
  const apiGroups = strings(rule.apiGroups);
  const resourceNames = strings(rule.resourceNames);
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return (
    (has(verbs, ALL) || has(verbs, attrs.verb)) &&
    (has(apiGroups, ALL) || has(apiGroups, attrs.apiGroup)) &&
    resourceMatches(strings(rule.resources), combined, attrs.subresource) &&
    (resourceNames.length === 0 || has(resourceNames, attrs.name ?? ""))
  );
}

/** ResourceMatches: `*`, the exact (resource/subresource) name, or `*\/subresource` for any resource's subresource. */
function resourceMatches(resources: string[], combined: string, subresource: string | undefined): boolean {
  return resources.some(
    (r) => r === ALL || r === combined || (subresource !== undefined && subresource !== "" && r === `*/${subresource}`),
  );
}

/** rule.go appliesToUser. A ServiceAccount subject without a namespace takes the binding's. */
function appliesToUser(attrs: RequestAttributes, subject: JsonObject, bindingNamespace: string | undefined): boolean {
  const name = str(subject.name) ?? "";
  switch (str(subject.kind)) {
    case "User":
      return attrs.user === name;
    case "Group":
      return has(attrs.groups, name);
    case "ServiceAccount": {
      const namespace = str(subject.namespace) || bindingNamespace;
      return !!namespace && attrs.user === `system:serviceaccount:${namespace}:${name}`;
    }
    default:
      return false;
  }
}

/** GetRoleReferenceRules: the referenced role's rules, or undefined when it does not exist (an error, not a deny rule). */
function roleRules(objects: RbacObjects, binding: JsonObject, bindingNamespace: string | undefined): JsonObject[] | undefined {
  const ref = isObject(binding.roleRef) ? binding.roleRef : {};
  const kind = str(ref.kind);
  const name = str(ref.name);
  if (str(ref.apiGroup) !== "rbac.authorization.k8s.io" || !name) return undefined;
  const role =
    kind === "ClusterRole"
      ? objects("ClusterRole").find((r) => isObject(r.metadata) && r.metadata.name === name)
      : kind === "Role" && bindingNamespace
        ? objects("Role", bindingNamespace).find((r) => isObject(r.metadata) && r.metadata.name === name)
        : undefined;
  if (!role) return undefined;
  return (Array.isArray(role.rules) ? role.rules : []).filter(isObject);
}

/**
 * Whether RBAC allows the request, and why not when a binding that applies names a missing role (rbac.go reports
 * those errors as the denial's reason: `RBAC: role.rbac.authorization.k8s.io "x" not found`).
 */
export function rbacAllows(attrs: RequestAttributes, objects: RbacObjects): { allowed: boolean; reason?: string } {
  const errors: string[] = [];
  const visit = (binding: JsonObject, bindingNamespace: string | undefined): boolean => {
    const subjects = (Array.isArray(binding.subjects) ? binding.subjects : []).filter(isObject);
    if (!subjects.some((s) => appliesToUser(attrs, s, bindingNamespace))) return false;
    const rules = roleRules(objects, binding, bindingNamespace);
    if (rules === undefined) {
      const ref = isObject(binding.roleRef) ? binding.roleRef : {};
      errors.push(`${String(ref.kind ?? "").toLowerCase()}.rbac.authorization.k8s.io "${String(ref.name ?? "")}" not found`);
      return false;
    }
    return rules.some((rule) => ruleAllows(attrs, rule));
  };
  if (objects("ClusterRoleBinding").some((b) => visit(b, undefined))) return { allowed: true };
  if (attrs.namespace && objects("RoleBinding", attrs.namespace).some((b) => visit(b, attrs.namespace))) return { allowed: true };
  // utilerrors.NewAggregate prints one error as itself, several as [a, b].
  if (errors.length === 0) return { allowed: false };
  return { allowed: false, reason: `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`}` };
}

// Who may do what. Two kinds of identity reach the stand-in, as on EKS: IAM principals with an EKS token, whose
// access comes from their access entry — an access policy (cluster or namespace scope), or Kubernetes groups that
// RBAC bindings name — and the cluster's own controllers with service-account tokens, bound to ClusterRoles that
// give them what they need (full access here). The access-policy model is a simplification of EKS access policies
// (README.md): one scope for every IAM principal, every verb allowed inside it. RBAC is the real authorizer's
// (rbac.ts), and, as on EKS, either one allowing a request is enough: the apiserver's union authorizer asks RBAC and
// the EKS access-policy webhook in turn (EKS User Guide, "Associate access policies with access entries": RBAC and
// access policies both apply; kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/authorization/union/union.go).
// The request attributes follow kubernetes/kubernetes v1.32.5
// staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go (the verb of a request; a Namespace object's
// namespace is its own name; a list or watch with fieldSelector metadata.name=N names N), and the denial
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go (the authorizer's reason after ": ").
import type { Call } from "./call";
import { forbiddenRequest, StatusError } from "./errors";
import { type RbacObjects, rbacAllows } from "./rbac";
import { RESOURCE_NAMESPACE, type Target } from "./resources";
import type { AccessScope } from "./types";

/** The service-account username the token authenticator reports (serviceaccount.MakeUsername). */
export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

/** The RBAC verb of a request (requestinfo.go): GET without a name is list, or watch with ?watch=true. */
export function verbOf(call: Call, target: Target | undefined): string {
  const method = call.record.method;
  switch (method) {
    case "GET":
      if (target?.name) return "get";
      return ["true", "1"].includes(call.url.searchParams.get("watch") ?? "") ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return target?.name ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

/** The namespace attribute of a request: the path's, or for a Namespace object its own name. */
export function namespaceOf(target: Target): string | undefined {
  return target.info === RESOURCE_NAMESPACE ? target.name : target.namespace;
}

/** The name a request names: the path's, or for a list or watch an exact `metadata.name` field selector's. */
export function nameOf(call: Call, target: Target, verb: string): string | undefined {
  if (target.name || (verb !== "list" && verb !== "watch")) return target.name;
  const selector = call.url.searchParams.get("fieldSelector") ?? "";
  const terms = selector.split(",").map((t) => t.trim());
  // RequiresExactMatch: the one term metadata.name=N (or ==N) among the selector's terms.
  const exact = terms.map((t) => /^metadata\.name==?([^=!]+)$/.exec(t)?.[1]).filter((n) => n !== undefined);
  return exact.length === 1 ? exact[0] : undefined;
}

/** The groups the EKS authenticator gives an IAM principal: its access entry's, and system:authenticated. */
export function groupsOf(scope: AccessScope): string[] {
  const entryGroups = typeof scope === "object" && "kubernetesGroups" in scope ? scope.kubernetesGroups : [];
  return [...entryGroups, "system:authenticated"];
}

/** Throws the 403 an authorizer's denial answers when neither the access policy nor RBAC covers the request. */
export function authorize(call: Call, target: Target, scope: AccessScope, rbacObjects: RbacObjects): void {
  if (scope === "cluster") return;
  const namespace = namespaceOf(target);
  if ("namespaces" in scope && namespace !== undefined && scope.namespaces.includes(namespace)) return;
  const verb = verbOf(call, target);
  const user = call.record.user ?? "system:anonymous";
  const decision = rbacAllows(
    {
      user,
      groups: groupsOf(scope),
      verb,
      apiGroup: target.info.group,
      resource: target.info.plural,
      subresource: target.subresource,
      namespace,
      name: nameOf(call, target, verb),
    },
    rbacObjects,
  );
  if (decision.allowed) return;
  const denied = forbiddenRequest(user, verb, target.info, target.subresource, namespace, target.name ?? "");
  if (!decision.reason) throw denied;
  throw new StatusError(403, "Forbidden", `${denied.message}: ${decision.reason}`, denied.details);
}

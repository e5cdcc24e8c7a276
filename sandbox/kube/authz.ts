// Who may do what. Two kinds of identity reach the stand-in, as on EKS: IAM principals with an EKS token, whose
// access comes from an access entry's access policy (cluster or namespace scope), and the cluster's own controllers
// with service-account tokens, bound to ClusterRoles that give them what they need (full access here). The
// scope model is a simplification of EKS access policies (README.md): one scope for every IAM principal, every verb
// allowed inside it. The request attributes follow kubernetes/kubernetes v1.32.5
// staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go (the verb of a request; a Namespace object's
// namespace is its own name), and the denial staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go.
import type { Call } from "./call";
import { forbiddenRequest } from "./errors";
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

/** Throws the 403 an authorizer's denial answers when `scope` does not cover the request. */
export function authorize(call: Call, target: Target, scope: AccessScope): void {
  if (scope === "cluster") return;
  const namespace = namespaceOf(target);
  if (namespace !== undefined && scope.namespaces.includes(namespace)) return;
  throw forbiddenRequest(call.record.user ?? "system:anonymous", verbOf(call, target), target.info, target.subresource, namespace, target.name ?? "");
}

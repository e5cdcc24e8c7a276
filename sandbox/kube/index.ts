// Kubernetes API server stand-in: HTTPS on 127.0.0.1 with a serving certificate from its own CA, so that
// @kubernetes/client-node and the real `kubectl` talk to it unmodified. It implements what milvus-l7 touches on
// a real EKS cluster — discovery, Namespaces, Services, core/v1 Events, networking.k8s.io/v1 Ingresses and the
// Milvus Operator's custom resources — with the apiserver behaviours the workflow depends on: the four patch
// types, server-side apply with field managers and conflicts, resourceVersion preconditions, watches, the
// /status subresource, and the Service registry's type-change rules and validation; plus what the AWS Load
// Balancer Controller reads and registers (IngressClasses, its CRDs, Pods, admission webhook configurations, which
// the stand-in calls), the watch cache's window (410 Expired, 504 Too large resource version), service-account
// tokens for the sandbox's controllers, and for IAM principals an EKS access-policy scope or access-entry groups
// that the RBAC authorizer (rbac.ts) evaluates against the stored Roles and bindings. Where it simplifies, the
// comment there says so; README.md in this folder lists each behaviour with the upstream source it was ported
// from and what it leaves out.
//
// This is the public surface; the modules beside it are the stand-in's own.
export { type AuthenticatorPartition, eksTokenAuthenticator, partitionOfRegion } from "./auth";
export { serviceAccountUser } from "./authz";
export type { Json, JsonObject } from "./json";
export { kubeconfigYaml } from "./kubeconfig";
export { type KubectlResult, kubectl, kubectlApply } from "./kubectl";
export { loadMilvusDemoService, milvusProxyPod, seedMilvusRelease } from "./seed";
export { startKubeApiServer } from "./server";
export type {
  AccessScope,
  AuthResult,
  Fault,
  KubeApiServer,
  KubeApiServerOptions,
  KubeObject,
  ManagedFieldsEntry,
  MutationRecord,
  ObjectMeta,
  RequestRecord,
  WatchEvent,
} from "./types";

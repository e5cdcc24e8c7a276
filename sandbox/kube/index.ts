// Kubernetes API server stand-in: HTTPS on 127.0.0.1 with a serving certificate from its own CA, so that
// @kubernetes/client-node and the real `kubectl` talk to it unmodified. It implements what milvus-l7 touches on
// a real EKS cluster — discovery, Namespaces, Services, core/v1 Events, networking.k8s.io/v1 Ingresses and the
// Milvus Operator's custom resources — with the apiserver behaviours the workflow depends on: the four patch
// types, server-side apply with field managers and conflicts, resourceVersion preconditions, watches, the
// /status subresource, and the Service registry's type-change rules and validation. Where it simplifies, the
// comment there says so; README.md in this folder lists each behaviour with the upstream source it was ported
// from and what it leaves out.
//
// This is the public surface; the modules beside it are the stand-in's own.
export { type AuthenticatorPartition, eksTokenAuthenticator, partitionOfRegion } from "./auth";
export type { Json, JsonObject } from "./json";
export { kubeconfigYaml } from "./kubeconfig";
export { loadMilvusDemoService, seedMilvusRelease } from "./seed";
export { startKubeApiServer } from "./server";
export type {
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

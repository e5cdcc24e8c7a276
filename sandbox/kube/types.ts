// The stand-in's public types: what the sandbox, the tests and the benchmark see of it.
import type { JsonObject } from "./json";

/**
 * What an IAM principal's EKS access entry gives it: `"cluster"` (an access policy with cluster scope), the
 * namespaces of a namespace-scoped association, or `{ kubernetesGroups }`: an entry with those Kubernetes groups and
 * no access policy, so that only RBAC Roles bound to the groups (or to system:authenticated) grant anything.
 */
export type AccessScope = "cluster" | { namespaces: string[] } | { kubernetesGroups: string[] };

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: JsonObject;
  subresource?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

/** A stored object as the API returns it; cast to client-node's typed models (V1Service …) where convenient. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type AuthResult = { ok: true; user: string } | { ok: false; reason: string };

export interface Fault {
  /** Both optional; `pathIncludes` is matched against the path plus query string, so `watch=true` works. */
  match: { method?: string; pathIncludes?: string };
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /** A Status error, a dropped connection ('reset'), or a request never answered ('timeout', until close). */
  respond: { status: 429 | 500 | 503 | 409 | 403 | 404 | 401; retryAfterSeconds?: number } | "reset" | "timeout";
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  fieldManager?: string;
  userAgent?: string;
  /** Who the bearer token authenticated as. */
  user?: string;
  /** Why authentication failed, when it did (a real apiserver only logs this). */
  authError?: string;
  /** HTTP status sent; 0 while unanswered or when a 'reset'/'timeout' fault swallowed the request. */
  status: number;
  fault?: "status" | "reset" | "timeout";
}

export interface MutationRecord {
  method: string;
  path: string;
  verb: "create" | "update" | "patch" | "apply" | "delete";
  kind: string;
  namespace?: string;
  name: string;
  subresource?: string;
  fieldManager: string;
  contentType?: string;
  /** The resourceVersion the change produced. */
  resourceVersion: string;
  /** The object as stored after the change (for deletes: its last state). */
  object: KubeObject;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
}

export interface KubeApiServer {
  /** https://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** The CA that issued the serving certificate (certificate-authority-data for a kubeconfig). */
  caPem: string;
  /** Every request, in arrival order. */
  readonly requests: RequestRecord[];
  /** Requests that changed stored state, in order. */
  readonly mutations: MutationRecord[];
  /** Seeds or replaces an object directly (no validation, no field managers), bumping its resourceVersion. */
  put(obj: object): KubeObject;
  get<T extends object = KubeObject>(kind: string, namespace: string | undefined, name: string): T | undefined;
  list<T extends object = KubeObject>(kind: string, namespace?: string): T[];
  /** Calls `listener` on every stored change (API writes and put()); returns an unsubscribe function. */
  onChange(listener: (event: WatchEvent) => void): () => void;
  /**
   * The access every IAM principal (EKS token) gets, as an EKS access entry gives it: an access policy of scope
   * "cluster" (the default) or of the listed namespaces (namespaced resources there only), or `{ kubernetesGroups }`
   * (no access policy: the RBAC objects stored bound to those groups decide). Static service-account tokens keep
   * full access.
   */
  setAccessScope(scope: AccessScope): void;
  /** Drops the watch history up to now, as an etcd compaction: a watch from an older resourceVersion gets 410. */
  compact(): void;
  /** The store's current resourceVersion. */
  readonly resourceVersion: string;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  /** Stops listening and ends every open connection, including watches and 'timeout' faults. */
  close(): Promise<void>;
}

export interface KubeApiServerOptions {
  /** Bearer-token check; without it any non-empty bearer token is accepted. */
  authenticate?: (token: string) => AuthResult;
  /** Clock for timestamps (creationTimestamp, managedFields time, deletionTimestamp). */
  now?: () => Date;
  /**
   * Static bearer tokens of in-cluster identities (the sandbox's controllers), checked before `authenticate`, as the
   * apiserver's token-file authenticator; they have full access whatever the access scope.
   */
  staticTokens?: { token: string; user: string; groups?: string[] }[];
  /** Changes kept per resource for watches to resume from (the watch cache's window); default 1024. */
  watchHistory?: number;
}

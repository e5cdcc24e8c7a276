// The Lambdas' Kubernetes client: the REST calls our steps make, straight over node:https, with one keep-alive
// connection per cluster, a deadline per call, a short Retry-After honoured once, and a watch that can be ended from
// the moment it starts. Why this and not @kubernetes/client-node (which stays the source of the object types below,
// and the CLI's kubeconfig loader): docs/architecture.md, "Decisions". The wire format of these calls is the stable
// core of the Kubernetes API (API concepts: "Efficient detection of changes", "Server-Side Apply", "Patch").
import type { CoreV1Event, V1Ingress, V1ObjectMeta, V1Service } from "@kubernetes/client-node";
import type { IncomingMessage } from "node:http";
import { Agent, type AgentOptions, request } from "node:https";
import {
  AdmissionDenied,
  KubernetesConflict,
  KubernetesForbidden,
  KubernetesNotFound,
  KubernetesRejected,
  KubernetesUnavailable,
} from "./errors";

// ---------------------------------------------------------------------------------------------------------------
// The objects: @kubernetes/client-node's own model types (type imports only: nothing of the library is bundled).
// Those describe objects after its ObjectSerializer, with timestamps as Date; this client hands out the JSON the
// apiserver sent, where timestamps are RFC 3339 strings, hence Wire<…>.

type Wire<T> = T extends Date ? string : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

export type ObjectMeta = Wire<V1ObjectMeta>;
export type Service = Wire<V1Service>;
export type Ingress = Wire<V1Ingress>;
export type KubeEvent = Wire<CoreV1Event>;

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: T;
}

export const servicePath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/services/${name}`;
export const ingressesPath = (namespace: string) => `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`;
export const ingressPath = (namespace: string, name: string) => `${ingressesPath(namespace)}/${name}`;
export const eventsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/events`;
export const servicesPath = (namespace: string) => `/api/v1/namespaces/${namespace}/services`;
/** A Milvus Operator `Milvus` (milvus.io/v1beta1, the CRD's storage version; zilliztech/milvus-operator). */
export const milvusPath = (namespace: string, name: string) => `/apis/milvus.io/v1beta1/namespaces/${namespace}/milvuses/${name}`;

/**
 * The fields of a `Milvus` the cutover reads (apis/milvus.io/v1beta1/milvus_types.go and components_types.go in
 * zilliztech/milvus-operator v1.3.8; client-node has no type for a custom resource).
 */
export interface MilvusResource {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    /** `cluster` or `standalone` (the default). */
    mode?: string;
    components?: Partial<Record<"proxy" | "standalone", { serviceType?: string }>>;
  };
  status?: { status?: string };
}

// ---------------------------------------------------------------------------------------------------------------
// The connection

/** What every step needs to reach one cluster; the EKS connector and the CLI's kubeconfig both produce it. */
export interface KubeConnection {
  /** https URL of the API server, without a trailing slash. */
  server: string;
  /** The cluster's keep-alive agent (see keepAliveAgent): its CA, and a kubeconfig's client certificate. */
  agent: Agent;
  /** Authentication headers (the bearer token); a refreshed token is a new header on the same agent. */
  headers: Record<string, string>;
}

/**
 * One agent per cluster, kept for the life of the process: a warm Lambda reuses its connection across calls and
 * invocations instead of a TCP and TLS handshake per call. maxSockets stays unlimited, so a long watch never
 * holds up another call; idle sockets are unref'd by the agent and never keep a process alive.
 */
export function keepAliveAgent(tls: Pick<AgentOptions, "ca" | "cert" | "key" | "pfx" | "passphrase" | "servername">): Agent {
  return new Agent({ keepAlive: true, ...tls });
}

/** One call's deadline: a hung apiserver must not eat the Lambda's timeout. */
const KUBE_CALL_TIMEOUT_MS = 10_000;
/**
 * A 429 or 5xx with a Retry-After this short is retried once inside the call, as client-go does for any 429/5xx
 * with Retry-After (rest/request.go, checkWait): the apiserver's throttling asks for 1 s, far less than a Retry of
 * the step (a Lambda invocation and a state transition, its first interval jittered over 0–2 s, so possibly sooner
 * than asked). A longer one is left to the step's Retry, and its message carries the server's suggestion.
 */
const MAX_RETRY_AFTER_MS = 5_000;
/** Time the retried request must still have before the deadline. */
const RETRY_MIN_REMAINING_MS = 1_000;

// Shown as the Cause once the ASL's retries are used up, so it says what to check rather than "retrying".
const TRANSIENT_ADVICE =
  "This is usually transient and the workflow retries it; if it persists, check the cluster API server's health and the Lambdas' network path to it (VPC, security group, endpoint access).";

const NETWORK_ERROR_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"]);

/** A non-2xx answer: the HTTP status, the Status body's message and the Retry-After header. */
class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(
    readonly statusCode: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined>;

interface KubeRequest {
  method: "GET" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
  contentType?: string;
}

export class KubeClient {
  constructor(
    readonly connection: KubeConnection,
    private readonly timeoutMs = KUBE_CALL_TIMEOUT_MS,
  ) {}

  get<T>(what: string, path: string, query?: Query): Promise<T> {
    return this.call(what, { method: "GET", path, query });
  }

  /** A read where 404 means "absent", not a mistake in the request. */
  getIfExists<T>(what: string, path: string): Promise<T | undefined> {
    return absentOn404(this.get<T>(what, path));
  }

  list<T>(what: string, path: string, query?: Query): Promise<{ items: T[] }> {
    return this.call(what, { method: "GET", path, query });
  }

  mergePatch<T>(what: string, path: string, body: unknown, fieldManager: string): Promise<T> {
    return this.call(what, { method: "PATCH", path, query: { fieldManager }, body, contentType: "application/merge-patch+json" });
  }

  /** Server-side apply; without force, a field another manager owns is a 409 conflict. */
  apply<T>(what: string, path: string, body: unknown, options: { fieldManager: string; force: boolean }): Promise<T> {
    return this.call(what, {
      method: "PATCH",
      path,
      query: options,
      body,
      // JSON is YAML: the apiserver takes an apply configuration as either under this type (kubectl sends JSON too).
      contentType: "application/apply-patch+yaml",
    });
  }

  /** Deletes; a 404 (already gone) resolves. */
  async delete(what: string, path: string, options?: { preconditions?: { uid?: string } }): Promise<void> {
    // A typed DeleteOptions, as client-go and kubectl send it (the apiserver would infer the kind, but need not).
    const body = { kind: "DeleteOptions", apiVersion: "v1", ...options };
    await absentOn404(this.call(what, { method: "DELETE", path, body, contentType: "application/json" }));
  }

  /** One call with the deadline, a short Retry-After honoured once, and failures translated. */
  private call<T>(what: string, req: KubeRequest): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const exchange = async (signal: AbortSignal) => (await readJson(await this.respond(req, signal), signal)) as T;
    return kubeCall(
      what,
      async (signal) => {
        try {
          return await exchange(signal);
        } catch (e) {
          const waitMs = retryAfterMs(e);
          if (waitMs === undefined || waitMs > MAX_RETRY_AFTER_MS || Date.now() + waitMs + RETRY_MIN_REMAINING_MS > deadline) throw e;
          await sleep(waitMs, signal);
          return await exchange(signal);
        }
      },
      this.timeoutMs,
    );
  }

  /**
   * Watches a collection until `onEvent` returns true (the watch has what it waited for), `seconds` pass, or the
   * server ends it. The request is abortable from its start and always ended: a response that never starts costs
   * the bounded wait, not a socket. An `onEvent` that throws ends the watch with that error.
   *
   * A watch whose resourceVersion the server no longer has (410 Expired, as an ERROR event or the answer) re-lists
   * the collection with the same selectors, hands each listed object to `onEvent` as ADDED (what client-go's
   * reflector does on a relist), and watches again from the list's resourceVersion, within the same bound. A 504
   * "Too large resource version" (the server's cache is behind the version we read) is retried once after its short
   * Retry-After, as other calls are.
   */
  async watch<T>(what: string, path: string, query: Query, seconds: number, onEvent: (event: WatchEvent<T>) => boolean): Promise<void> {
    const controller = new AbortController();
    const { signal } = controller;
    const deadline = Date.now() + seconds * 1000;
    const bound = setTimeout(() => controller.abort(), seconds * 1000);
    const { labelSelector, fieldSelector } = query;
    let resourceVersion = query.resourceVersion;
    let retriedTooLarge = false;
    try {
      for (;;) {
        // `watch` first, as client-go sends it; timeoutSeconds (whole seconds) also has the server end the watch.
        const timeoutSeconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
        const res = await this.respond({ method: "GET", path, query: { watch: true, ...query, resourceVersion, timeoutSeconds } }, signal);
        let expired = res.statusCode === 410;
        if (res.statusCode !== 200 && !expired) {
          try {
            await readJson(res, signal);
          } catch (e) {
            const waitMs = retryAfterMs(e);
            const tooLarge = e instanceof KubeApiError && e.statusCode === 504;
            if (!tooLarge || retriedTooLarge || waitMs === undefined || waitMs > MAX_RETRY_AFTER_MS || Date.now() + waitMs >= deadline) throw e;
            retriedTooLarge = true;
            await sleep(waitMs, signal);
            continue;
          }
        }
        let satisfied = false;
        if (!expired) {
          await readEvents(res, signal, (event: WatchEvent<T> | { type: "ERROR"; object: StatusBody }) => {
            if (event.type !== "ERROR") {
              satisfied = onEvent(event);
              return satisfied;
            }
            if (event.object.code === 410) {
              expired = true;
              return true;
            }
            throw new KubeApiError(event.object.code ?? 500, event.object.message ?? "watch error");
          });
        } else res.resume();
        if (satisfied || !expired) return;
        // Too old to resume from: read the collection afresh, then watch on from there.
        const list = (await readJson(await this.respond({ method: "GET", path, query: { labelSelector, fieldSelector } }, signal), signal)) as {
          metadata?: { resourceVersion?: string };
          items?: T[];
        };
        for (const object of list.items ?? []) if (onEvent({ type: "ADDED", object })) return;
        resourceVersion = list.metadata?.resourceVersion;
      }
    } catch (e) {
      if (!signal.aborted) throw translateKubeError(e, what);
    } finally {
      clearTimeout(bound);
      controller.abort();
    }
  }

  /**
   * Sends one request and resolves with its response (body unread). A kept-alive socket the server has closed
   * meanwhile (a Lambda thawed after idling finds its socket dead) fails with ECONNRESET or EPIPE before any
   * response; Node documents `request.reusedSocket` for retrying exactly that. Each such failure drops one dead
   * socket from the pool, so the retry ends on a fresh connection at the latest. Safe for our writes: an apply is
   * idempotent, the Service patch carries its resourceVersion and the delete its uid as preconditions.
   */
  private async respond(req: KubeRequest, signal: AbortSignal): Promise<IncomingMessage> {
    for (;;) {
      try {
        return await this.send(req, signal);
      } catch (e) {
        const { reusedSocket, code } = e as { reusedSocket?: boolean; code?: string };
        if (!(reusedSocket && (code === "ECONNRESET" || code === "EPIPE")) || signal.aborted) throw e;
      }
    }
  }

  private send(req: KubeRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const { server, agent, headers } = this.connection;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) query.set(k, String(v));
    const url = `${server}${req.path}${query.size ? `?${query}` : ""}`;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const r = request(
        url,
        {
          method: req.method,
          agent,
          headers: {
            ...headers,
            Accept: "application/json",
            "User-Agent": "milvus-l7",
            ...(body === undefined ? {} : { "Content-Type": req.contentType ?? "application/json", "Content-Length": Buffer.byteLength(body) }),
          },
        },
        resolve,
      );
      // Until the response is read, aborting destroys the request and its socket: nothing is left open after a
      // deadline or a watch's bound.
      const abort = () => r.destroy(signal.reason);
      signal.addEventListener("abort", abort, { once: true });
      r.on("close", () => signal.removeEventListener("abort", abort));
      r.on("error", (err) => reject(Object.assign(err, { reusedSocket: r.reusedSocket })));
      r.end(body);
    });
  }
}

/** The wait a 429 or 5xx asked for with Retry-After (in seconds, as the apiserver sends it). */
function retryAfterMs(e: unknown): number | undefined {
  if (!(e instanceof KubeApiError) || e.retryAfterSeconds === undefined) return undefined;
  return e.statusCode === 429 || e.statusCode >= 500 ? e.retryAfterSeconds * 1000 : undefined;
}

const absentOn404 = <T>(p: Promise<T>): Promise<T | undefined> =>
  p.catch((e) => {
    if (e instanceof KubernetesNotFound) return undefined;
    throw e;
  });

interface StatusBody {
  code?: number;
  message?: string;
}

/** Reads a response: the parsed JSON of a 2xx, else a KubeApiError with the Status body's message. */
async function readJson(res: IncomingMessage, signal: AbortSignal): Promise<unknown> {
  const text = await readBody(res, signal);
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return text ? JSON.parse(text) : undefined;
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as StatusBody;
    message = typeof parsed?.message === "string" ? parsed.message : "";
  } catch {
    // not a Status (a proxy's error page): keep the text
  }
  const retryAfter = Number(res.headers["retry-after"]);
  throw new KubeApiError(status, message, res.headers["retry-after"] !== undefined && Number.isInteger(retryAfter) ? retryAfter : undefined);
}

function readBody(res: IncomingMessage, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      text += chunk;
    });
    res.on("end", () => resolve(text));
    res.on("error", reject);
    // The request's destroy() on abort ends the response without 'end' or 'error' once it has started.
    res.on("close", () => reject(signal.reason ?? Object.assign(new Error("response ended early"), { code: "ECONNRESET" })));
  });
}

/** Newline-delimited watch events until the stream ends or `onEvent` returns true. */
function readEvents<E>(res: IncomingMessage, signal: AbortSignal, onEvent: (event: E) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        try {
          if (line && onEvent(JSON.parse(line) as E)) return resolve();
        } catch (e) {
          return reject(e);
        }
        newline = buffered.indexOf("\n");
      }
    });
    res.on("end", () => resolve());
    res.on("error", reject);
    res.on("close", () => reject(signal.reason ?? Object.assign(new Error("watch ended early"), { code: "ECONNRESET" })));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Deadline and errors (docs/architecture.md, "Errors")

class DeadlineExceeded extends Error {}

/**
 * Runs one Kubernetes call with a deadline, translating failures. The call gets the deadline's signal and must
 * abort its request with it, so a hung apiserver costs the step the deadline and no socket.
 */
async function kubeCall<T>(what: string, call: (signal: AbortSignal) => Promise<T>, timeoutMs = KUBE_CALL_TIMEOUT_MS): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded()), timeoutMs);
  try {
    return await call(controller.signal);
  } catch (e) {
    if (controller.signal.reason instanceof DeadlineExceeded) {
      throw new KubernetesUnavailable(`Kubernetes API did not answer ${what} within ${timeoutMs} ms. ${TRANSIENT_ADVICE}`);
    }
    throw translateKubeError(e, what);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/**
 * Kubernetes failures → our errors. `what` names the operation and object, e.g. `patch Service milvus/milvus-demo`.
 * 429/5xx/network → retryable; 401/403/404/409/400/422 → terminal with the fix in the message; a webhook's denial
 * (any code) → AdmissionDenied.
 */
function translateKubeError(e: unknown, what: string): Error {
  if (e instanceof KubernetesUnavailable || e instanceof KubernetesNotFound || e instanceof KubernetesForbidden || e instanceof AdmissionDenied) return e;
  if (e instanceof KubeApiError) {
    const code = e.statusCode;
    const suffix = e.message ? `: ${e.message.replace(/\.$/, "")}` : "";
    const unreachableWebhook = code >= 500 ? /failed calling webhook "([^"]*)"/.exec(e.message) : null;
    if (unreachableWebhook) {
      return new KubernetesUnavailable(
        `Kubernetes API answered ${code} to ${what}${suffix}. The API server could not reach the admission webhook "${unreachableWebhook[1]}", which must approve this write (failurePolicy Fail). This is usually transient (its pods restarting) and the workflow retries it; if it persists, check the webhook's service and pods (for the AWS Load Balancer Controller: kubectl -n kube-system get pods,svc -l app.kubernetes.io/name=aws-load-balancer-controller).`,
      );
    }
    if (code === 429 || code >= 500) {
      const asked = e.retryAfterSeconds === undefined ? "" : ` (it asked to retry after ${e.retryAfterSeconds} s)`;
      return new KubernetesUnavailable(`Kubernetes API answered ${code} to ${what}${suffix}${asked}. ${TRANSIENT_ADVICE}`);
    }
    const denial = /admission webhook "([^"]*)" denied the request(?:: ([\s\S]*)| without explanation)/.exec(e.message);
    if (denial) {
      const reason = denial[2] ? `: ${denial[2].replace(/\.$/, "")}` : " without explanation";
      return new AdmissionDenied(
        `The cluster's admission policy refused ${what} (${code}): the admission webhook "${denial[1]}" denied it${reason}. This is a policy the cluster enforces on the object (a validating or mutating webhook), not a missing IAM or RBAC permission: change the request so the object satisfies it, or ask the cluster's administrators about the webhook "${denial[1]}".`,
      );
    }
    if (code === 401) {
      return new KubernetesForbidden(
        `Kubernetes API refused ${what} (401)${suffix}: the cluster did not accept the token, so this is authentication, not permissions. Either the milvus-l7 Lambda role has no EKS access entry on this cluster (an access entry is what makes EKS accept its tokens), or the token was presigned for another region or partition than the cluster's. Grant the milvus-l7 Lambda role an EKS access entry (see README "Granting cluster access") and check that the request names the cluster's region.`,
      );
    }
    if (code === 403) return new KubernetesForbidden(`Kubernetes API refused ${what} (403)${suffix}. ${forbiddenAdvice(e.message)}`);
    if (code === 404) {
      return new KubernetesNotFound(`Not found: ${what}${suffix}. Check cluster, milvus.namespace and milvus.service in the request.`);
    }
    // The optimistic-lock conflict (registry/generic/registry/store.go OptimisticLockErrorMsg): the object changed
    // between our read and our write. The step re-reads it on the next attempt, so this one is worth a retry; a
    // server-side-apply conflict with another field manager ("Apply failed with …") is not.
    if (code === 409 && e.message.includes("the object has been modified")) {
      return new KubernetesUnavailable(
        `Kubernetes API answered 409 to ${what}: the object changed between read and write${suffix}. The step re-reads it and retries; if this persists, another controller keeps rewriting the object.`,
      );
    }
    if (code === 409) {
      return new KubernetesConflict(
        `Conflict on ${what}${suffix}. Another tool manages these fields or the object changed meanwhile; resolve the ownership (or remove the other manager's fields) and re-run.`,
      );
    }
    return new KubernetesRejected(`Kubernetes API rejected ${what} (${code})${suffix}.`);
  }
  const err = e as { code?: string; name?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  if ((code && NETWORK_ERROR_CODES.has(code)) || err?.name === "AbortError") {
    return new KubernetesUnavailable(`Kubernetes API unreachable during ${what} (${code ?? err.name}). ${TRANSIENT_ADVICE}`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * What to grant for an authorizer's 403, read from its message (the apiserver's responsewriters.forbiddenMessage:
 * `User "<name>" cannot <verb> resource "<resource>" in API group "<group>" in the namespace "<ns>"` or `… at the
 * cluster scope`).
 */
function forbiddenAdvice(message: string): string {
  const m = /cannot (\S+) resource "([^"]*)" in API group "([^"]*)" (?:in the namespace "([^"]*)"|at the cluster scope)/.exec(message);
  const generic =
    'Grant the milvus-l7 Lambda role an EKS access entry with AmazonEKSEditPolicy scoped to the Milvus namespace (see README "Granting cluster access").';
  if (!m) return generic;
  const [, verb, resource, group, namespace] = m;
  const qualified = group ? `${resource}.${group}` : resource;
  if (namespace) {
    return `The role authenticates, but may not ${verb} ${qualified} in namespace ${namespace}. Grant the milvus-l7 Lambda role an EKS access entry with AmazonEKSEditPolicy scoped to namespace ${namespace}, or bind it an RBAC Role in ${namespace} that allows ${verb} on ${qualified} (see README "Granting cluster access").`;
  }
  return `The role authenticates, but may not ${verb} ${qualified} at the cluster scope, which a namespace-scoped access policy never covers. Grant the milvus-l7 Lambda role an EKS access entry whose access policy (AmazonEKSEditPolicy does not reach cluster-scoped objects) has cluster scope for this, or bind it an RBAC ClusterRole that allows ${verb} on ${qualified} (see README "Granting cluster access").`;
}

// Dynamic admission: the Mutating- and ValidatingWebhookConfigurations stored in the stand-in are called for the
// writes they match, with an admission.k8s.io/v1 AdmissionReview, and their answers honoured. Ported from
// kubernetes/kubernetes v1.32.5, staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/:
//   predicates/rules/rules.go        (operations, apiGroups, apiVersions, resources with "*" and "*/status", scope)
//   predicates/namespace/matcher.go  (namespaceSelector: cluster-scoped objects other than Namespaces always match)
//   predicates/object/matcher.go     (objectSelector against the object or the old object)
//   request/admissionreview.go       (the AdmissionReview request, VerifyAdmissionResponse's uid check)
//   validating/dispatcher.go, mutating/dispatcher.go (failurePolicy, ErrCallingWebhook → NewInternalError)
//   errors/statuserror.go            (ToStatusErr: the denial's message and a code of at least 400)
//   staging/src/k8s.io/apiserver/pkg/util/webhook/error.go (ErrCallingWebhook's message)
//   generic/webhook.go               (configuration objects themselves are exempt)
// Differences (README.md): `clientConfig.service` is not supported (only `url`, http or https), matchConditions and
// matchPolicy are not evaluated, validating webhooks are called one after another instead of in parallel.
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { StatusError } from "./errors";
import { clone, dig, isObject, type Json, type JsonObject, str } from "./json";
import { jsonPatch } from "./patch";
import { findResource, RESOURCE_NAMESPACE, type ResourceInfo, type Target } from "./resources";
import type { ObjectStore } from "./store";

export type Operation = "CREATE" | "UPDATE" | "DELETE";

export interface AdmissionRequest {
  target: Target;
  operation: Operation;
  /** The object being written (absent for DELETE). */
  object?: JsonObject;
  oldObject?: JsonObject;
  user: string;
  dryRun: boolean;
  /** The verb's options as the webhook sees them (CreateOptions, UpdateOptions, PatchOptions, DeleteOptions). */
  options: JsonObject;
}

const VALIDATING = findResource("ValidatingWebhookConfiguration") as ResourceInfo;
const MUTATING = findResource("MutatingWebhookConfiguration") as ResourceInfo;
const DEFAULT_TIMEOUT_SECONDS = 10;

/** A label selector (matchLabels, matchExpressions), as metav1.LabelSelectorAsSelector reads it; empty matches all. */
export function labelSelectorMatches(selector: Json | undefined, labels: Json | undefined): boolean {
  if (!isObject(selector)) return true;
  const set = isObject(labels) ? labels : {};
  const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(matchLabels)) if (set[k] !== v) return false;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isObject) : [];
  return expressions.every((e) => {
    const key = String(e.key ?? "");
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const value = str(set[key]);
    switch (e.operator) {
      case "In":
        return value !== undefined && values.includes(value);
      case "NotIn":
        return value === undefined || !values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        return false;
    }
  });
}

const listOf = (value: Json | undefined): string[] => (Array.isArray(value) ? value.map(String) : []);

/** rules.go Matcher.Matches for one RuleWithOperations. */
export function ruleMatches(rule: JsonObject, req: AdmissionRequest): boolean {
  const { info, subresource, namespace } = req.target;
  const has = (values: string[], value: string) => values.includes("*") || values.includes(value);
  if (!has(listOf(rule.operations), req.operation)) return false;
  if (!has(listOf(rule.apiGroups), info.group) || !has(listOf(rule.apiVersions), info.version)) return false;
  const resources = listOf(rule.resources);
  const wanted = subresource ? `${info.plural}/${subresource}` : info.plural;
  const resourceOk = resources.some((r) => {
    if (r === "*/*" || r === wanted) return true;
    const [res, sub] = r.split("/");
    if (sub === undefined) return res === "*" && !subresource;
    return (res === "*" && sub === subresource) || (res === info.plural && sub === "*" && !!subresource);
  });
  if (!resourceOk) return false;
  const scope = str(rule.scope) ?? "*";
  if (scope === "Namespaced") return info !== RESOURCE_NAMESPACE && namespace !== undefined;
  if (scope === "Cluster") return info === RESOURCE_NAMESPACE || namespace === undefined;
  return true;
}

export class AdmissionChain {
  constructor(private readonly store: ObjectStore) {}

  /** Mutating webhooks in order, each seeing the previous one's patch; returns the object to continue with. */
  async mutate(req: AdmissionRequest): Promise<JsonObject | undefined> {
    let object = req.object;
    for (const hook of this.hooks(MUTATING, req)) {
      const response = await this.call(hook, { ...req, object });
      if (!response) continue;
      const patch = str(response.patch);
      if (patch && object) {
        if (str(response.patchType) !== "JSONPatch") {
          throw callFailure(hook, `received invalid webhook response: webhook returned patchType ${String(response.patchType)}, expected JSONPatch`);
        }
        object = jsonPatch(object, JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as Json);
      }
    }
    return object;
  }

  /** Validating webhooks: the first denial or failure (with failurePolicy Fail) fails the request. */
  async validate(req: AdmissionRequest): Promise<void> {
    for (const hook of this.hooks(VALIDATING, req)) await this.call(hook, req);
  }

  private hooks(config: ResourceInfo, req: AdmissionRequest): JsonObject[] {
    // generic/webhook.go: writes to the webhook configurations themselves are never sent to webhooks.
    if (req.target.info === VALIDATING || req.target.info === MUTATING) return [];
    return this.store.select(config, undefined).flatMap((cfg) => {
      const webhooks = Array.isArray(cfg.webhooks) ? cfg.webhooks.filter(isObject) : [];
      return webhooks.filter((hook) => this.matches(hook, req));
    });
  }

  private matches(hook: JsonObject, req: AdmissionRequest): boolean {
    const rules = Array.isArray(hook.rules) ? hook.rules.filter(isObject) : [];
    if (!rules.some((rule) => ruleMatches(rule, req))) return false;
    const { info, namespace, name } = req.target;
    if (namespace !== undefined || info === RESOURCE_NAMESPACE) {
      const labels =
        info === RESOURCE_NAMESPACE
          ? dig(req.object ?? req.oldObject ?? {}, "metadata.labels")
          : dig(this.store.get(RESOURCE_NAMESPACE, undefined, namespace ?? name ?? ""), "metadata.labels");
      if (!labelSelectorMatches(hook.namespaceSelector, labels)) return false;
    }
    if (!isObject(hook.objectSelector) || Object.keys(hook.objectSelector).length === 0) return true;
    return (
      (req.object !== undefined && labelSelectorMatches(hook.objectSelector, dig(req.object, "metadata.labels"))) ||
      (req.oldObject !== undefined && labelSelectorMatches(hook.objectSelector, dig(req.oldObject, "metadata.labels")))
    );
  }

  /** One webhook call: the response when allowed, undefined when it failed open, a StatusError otherwise. */
  private async call(hook: JsonObject, req: AdmissionRequest): Promise<JsonObject | undefined> {
    const name = String(hook.name ?? "");
    const failOpen = hook.failurePolicy === "Ignore";
    const uid = randomUUID();
    let response: JsonObject;
    try {
      response = await post(hook, review(uid, req));
      if (str(response.uid) !== uid) throw new Error(`received invalid webhook response: expected response.uid="${uid}", got "${String(response.uid ?? "")}"`);
    } catch (err) {
      if (failOpen) return undefined;
      throw callFailure(hook, (err as Error).message);
    }
    if (response.allowed === true) return response;
    throw toStatusErr(name, isObject(response.status) ? response.status : undefined);
  }
}

/** ErrCallingWebhook wrapped by NewInternalError, as both dispatchers answer a failing webhook with failurePolicy Fail. */
function callFailure(hook: JsonObject, reason: string): StatusError {
  const message = `failed calling webhook "${String(hook.name ?? "")}": ${reason}`;
  return new StatusError(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** errors/statuserror.go ToStatusErr. */
export function toStatusErr(webhookName: string, result: JsonObject | undefined): StatusError {
  const deniedBy = `admission webhook "${webhookName}" denied the request`;
  const status = result ?? {};
  const code = typeof status.code === "number" && status.code >= 400 ? status.code : 400;
  const message = str(status.message)
    ? `${deniedBy}: ${String(status.message)}`
    : str(status.reason)
      ? `${deniedBy}: ${String(status.reason)}`
      : `${deniedBy} without explanation`;
  return new StatusError(code, str(status.reason) ?? "", message, isObject(status.details) ? status.details : undefined);
}

/** request/admissionreview.go CreateV1AdmissionReview. */
function review(uid: string, req: AdmissionRequest): JsonObject {
  const { info, namespace, name, subresource } = req.target;
  const kind = { group: info.group, version: info.version, kind: info.kind };
  const resource = { group: info.group, version: info.version, resource: info.plural };
  const request: JsonObject = {
    uid,
    kind,
    resource,
    requestKind: kind,
    requestResource: resource,
    name: name ?? str(dig(req.object ?? {}, "metadata.name")) ?? "",
    operation: req.operation,
    userInfo: { username: req.user },
    object: req.object ? clone(req.object) : null,
    oldObject: req.oldObject ? clone(req.oldObject) : null,
    dryRun: req.dryRun,
    options: { apiVersion: "meta.k8s.io/v1", ...req.options },
  };
  if (subresource) {
    request.subResource = subresource;
    request.requestSubResource = subresource;
  }
  if (namespace !== undefined) request.namespace = namespace;
  return { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1", request };
}

/** POSTs the review to clientConfig.url (with ?timeout=, as the webhook client adds it) and returns `response`. */
function post(hook: JsonObject, body: JsonObject): Promise<JsonObject> {
  const clientConfig = isObject(hook.clientConfig) ? hook.clientConfig : {};
  const timeoutSeconds = typeof hook.timeoutSeconds === "number" ? hook.timeoutSeconds : DEFAULT_TIMEOUT_SECONDS;
  const target = str(clientConfig.url);
  if (!target) return Promise.reject(new Error("clientConfig.service is not supported by this stand-in; use clientConfig.url"));
  const url = new URL(target);
  url.searchParams.set("timeout", `${timeoutSeconds}s`);
  const caBundle = str(clientConfig.caBundle);
  const text = JSON.stringify(body);
  const shown = `Post "${url.toString()}"`;
  return new Promise((resolve, reject) => {
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    const r = send(
      url,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Content-Length": Buffer.byteLength(text) },
        ...(caBundle ? { ca: Buffer.from(caBundle, "base64").toString("utf8") } : {}),
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          data += chunk;
        });
        res.on("end", () => {
          clearTimeout(timer);
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
            return reject(new Error(`failed to call webhook: the server responded with the status code ${res.statusCode} but did not return more information`));
          }
          try {
            const parsed = JSON.parse(data) as JsonObject;
            if (!isObject(parsed.response)) return reject(new Error("received invalid webhook response: webhook response was absent"));
            resolve(parsed.response);
          } catch (err) {
            reject(new Error(`failed to call webhook: ${(err as Error).message}`));
          }
        });
      },
    );
    const timer = setTimeout(() => r.destroy(Object.assign(new Error("context deadline exceeded"), { code: "DEADLINE" })), timeoutSeconds * 1000);
    r.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`failed to call webhook: ${shown}: ${goNetError(err, url)}`));
    });
    r.end(text);
  });
}

/** Node's network errors in the words Go's net/http and crypto/tls use (guess beyond the common cases). */
function goNetError(err: NodeJS.ErrnoException, url: URL): string {
  const port = url.port || (url.protocol === "http:" ? "80" : "443");
  switch (err.code) {
    case "ECONNREFUSED":
      return `dial tcp ${url.hostname}:${port}: connect: connection refused`;
    case "DEADLINE":
      return "context deadline exceeded";
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    default:
      return err.message;
  }
}

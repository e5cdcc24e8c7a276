// Kubernetes API server stand-in: HTTPS on 127.0.0.1 with a serving certificate from its own CA, so that
// @kubernetes/client-node and the real `kubectl` talk to it unmodified. It implements what milvus-l7 touches on
// a real EKS cluster — discovery, Namespaces, Services, core/v1 Events and networking.k8s.io/v1 Ingresses — with
// the apiserver behaviours the workflow depends on: the four patch types, server-side apply with field
// managers and conflicts, resourceVersion preconditions, watches, the /status subresource, and the Service
// registry's type-change rules and validation (DESIGN.md §5). Where it simplifies, the comment says so.
//
// Upstream references for the rules below:
//   kubernetes pkg/registry/core/service/strategy.go     (dropTypeDependentFields, patchAllocatedValues)
//   kubernetes pkg/apis/core/validation/validation.go    (ValidateService, ValidateServiceUpdate)
//   kubernetes pkg/apis/core/v1/defaults.go              (SetDefaults_Service)
//   k8s.io/apiserver pkg/endpoints/handlers              (fieldManager default, Status errors)
//   sigs.k8s.io/structured-merge-diff + apiserver fieldmanager (apply, managedFields, conflict messages)
//   aws-iam-authenticator pkg/token/token.go             (EKS bearer token checks)
// @peculiar/x509 (through tsyringe) needs the Reflect polyfill loaded before it.
import "reflect-metadata";
import { randomInt, randomUUID, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import * as x509 from "@peculiar/x509";
import YAML from "yaml";
import { type Issued, issue } from "./pki";

// ------------------------------------------------------------------------------------------------------------
// Public types
// ------------------------------------------------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

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
}

// ------------------------------------------------------------------------------------------------------------
// Small JSON helpers
// ------------------------------------------------------------------------------------------------------------

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const str = (value: Json | undefined): string | undefined => (typeof value === "string" ? value : undefined);

function clone<T>(value: T): T {
  return structuredClone(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The object at `obj[key]`, created empty when absent (or not an object). */
function child(obj: JsonObject, key: string): JsonObject {
  const existing = obj[key];
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  obj[key] = created;
  return created;
}

/** A dotted-path lookup for field selectors and strategies: "involvedObject.kind". */
function dig(obj: Json | undefined, dotted: string): Json | undefined {
  let cur: Json | undefined = obj;
  for (const part of dotted.split(".")) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/**
 * Drops null-valued keys recursively. The apiserver decodes into Go structs, where an explicit null for an
 * optional field is the same as leaving it out; clients (kubectl apply, merge patches) rely on that.
 */
function dropNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
  return out;
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ------------------------------------------------------------------------------------------------------------
// Status errors (k8s.io/apimachinery/pkg/api/errors)
// ------------------------------------------------------------------------------------------------------------

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "StatusError";
  }

  body(): JsonObject {
    const status: JsonObject = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
    };
    if (this.details) status.details = this.details;
    status.code = this.code;
    return status;
  }
}

/** One entry of a field.ErrorList; `type` is the CauseType the Status carries. */
interface FieldError {
  type:
    | "FieldValueInvalid"
    | "FieldValueForbidden"
    | "FieldValueRequired"
    | "FieldValueNotSupported"
    | "FieldValueDuplicate";
  field: string;
  detail: string;
  value?: Json;
  supported?: string[];
}

/** Go's %q / %v of a field value, as field.Error.ErrorBody prints it. */
function formatValue(value: Json | undefined): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value ?? null);
}

function errorBody(e: FieldError): string {
  switch (e.type) {
    case "FieldValueInvalid":
      return `Invalid value: ${formatValue(e.value)}: ${e.detail}`;
    case "FieldValueForbidden":
      return `Forbidden: ${e.detail}`;
    case "FieldValueRequired":
      return e.detail ? `Required value: ${e.detail}` : "Required value";
    case "FieldValueNotSupported": {
      const supported = (e.supported ?? []).map((s) => JSON.stringify(s)).join(", ");
      return `Unsupported value: ${formatValue(e.value)}: supported values: ${supported}`;
    }
    case "FieldValueDuplicate":
      return `Duplicate value: ${formatValue(e.value)}`;
  }
}

const invalidValue = (field: string, value: Json | undefined, detail: string): FieldError => ({
  type: "FieldValueInvalid",
  field,
  value: value ?? null,
  detail,
});
const forbidden = (field: string, detail: string): FieldError => ({ type: "FieldValueForbidden", field, detail });
const required = (field: string, detail = ""): FieldError => ({ type: "FieldValueRequired", field, detail });
const notSupported = (field: string, value: Json | undefined, supported: string[]): FieldError => ({
  type: "FieldValueNotSupported",
  field,
  value: value ?? null,
  detail: "",
  supported,
});

// ------------------------------------------------------------------------------------------------------------
// Resource registry
// ------------------------------------------------------------------------------------------------------------

/** SSA list semantics (x-kubernetes-list-type): associative by keys, or a set of scalars; others are atomic. */
type ListType = { keys: string[]; defaults?: JsonObject } | "set";

interface ResourceInfo {
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
}

const metadataLists: Record<string, ListType> = {
  "metadata.finalizers": "set",
  "metadata.ownerReferences": { keys: ["uid"] },
};
const metadataMergeKeys: Record<string, string> = { "metadata.finalizers": "", "metadata.ownerReferences": "uid" };

const RESOURCES: ResourceInfo[] = [
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
    // Ingress rules, paths and tls are all atomic lists.
    lists: metadataLists,
    mergeKeys: metadataMergeKeys,
  },
];

const apiVersionOf = (info: ResourceInfo): string => (info.group ? `${info.group}/${info.version}` : info.version);
/** "services" / "ingresses.networking.k8s.io", as errors name a resource. */
const qualifiedResource = (info: ResourceInfo): string => (info.group ? `${info.plural}.${info.group}` : info.plural);
const qualifiedKind = (info: ResourceInfo): string => (info.group ? `${info.kind}.${info.group}` : info.kind);

function findResource(kindOrPlural: string): ResourceInfo | undefined {
  const needle = kindOrPlural.toLowerCase();
  return RESOURCES.find(
    (r) => r.kind.toLowerCase() === needle || r.plural === needle || r.singular === needle || r.shortNames.includes(needle),
  );
}

/** Status details name the API group, except the core group's empty one (omitempty). */
function groupOf(info: ResourceInfo): JsonObject {
  return info.group ? { group: info.group } : {};
}

function notFound(info: ResourceInfo, name: string): StatusError {
  return new StatusError(404, "NotFound", `${qualifiedResource(info)} "${name}" not found`, {
    name,
    ...groupOf(info),
    kind: info.plural,
  });
}

function namespaceNotFound(namespace: string): StatusError {
  return new StatusError(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" });
}

function alreadyExists(info: ResourceInfo, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${qualifiedResource(info)} "${name}" already exists`, {
    name,
    ...groupOf(info),
    kind: info.plural,
  });
}

function conflict(info: ResourceInfo, name: string): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...groupOf(info), kind: info.plural },
  );
}

function methodNotAllowed(): StatusError {
  return new StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

/** errors.NewInvalid: one error is printed bare, several as "[a, b]" (utilerrors.Aggregate). */
function invalid(info: ResourceInfo, name: string, errors: FieldError[]): StatusError {
  const printed = errors.map((e) => `${e.field}: ${errorBody(e)}`);
  const aggregate = printed.length === 1 ? printed[0] : `[${printed.join(", ")}]`;
  return new StatusError(422, "Invalid", `${qualifiedKind(info)} "${name}" is invalid: ${aggregate}`, {
    name,
    ...groupOf(info),
    kind: info.kind,
    causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });
}

// ------------------------------------------------------------------------------------------------------------
// Names (k8s.io/apimachinery/pkg/util/validation)
// ------------------------------------------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push("must be no more than 63 characters");
  if (!DNS1123_LABEL.test(value)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return errs;
}

function dns1035LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push("must be no more than 63 characters");
  if (!DNS1035_LABEL.test(value)) {
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return errs;
}

function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push("must be no more than 253 characters");
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return errs;
}

/** Services are DNS-1035 labels (ValidateServiceName), namespaces DNS-1123 labels, the rest DNS-1123 subdomains. */
function nameErrors(info: ResourceInfo, name: string): FieldError[] {
  const check =
    info.kind === "Service" ? dns1035LabelErrors : info.kind === "Namespace" ? dns1123LabelErrors : dns1123SubdomainErrors;
  return check(name).map((msg) => invalidValue("metadata.name", name, msg));
}

// ------------------------------------------------------------------------------------------------------------
// Selectors
// ------------------------------------------------------------------------------------------------------------

interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

/** Splits on commas outside parentheses: "a in (x,y),b=c" → ["a in (x,y)", "b=c"]. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

function parseLabelSelector(selector: string | null): Requirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((term) => {
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set?.[1] && set[2] && set[3] !== undefined) {
      const values = set[3].split(",").map((v) => v.trim());
      return { key: set[1], op: set[2] as "in" | "notin", values };
    }
    const eq = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/.exec(term);
    if (eq?.[1] && eq[2] && eq[3] !== undefined) {
      return { key: eq[1], op: eq[2] === "!=" ? "!=" : "=", values: [eq[3]] };
    }
    if (/^![^\s!=]+$/.test(term)) return { key: term.slice(1), op: "!", values: [] };
    if (/^[^\s!=(),]+$/.test(term)) return { key: term, op: "exists", values: [] };
    throw badRequest(`unable to parse requirement: found '${term}', expected: '=', '!=', '==', 'in', notin'`);
  });
}

function matchesRequirements(requirements: Requirement[], get: (key: string) => string | undefined): boolean {
  return requirements.every(({ key, op, values }) => {
    const value = get(key);
    switch (op) {
      case "=":
        return value === values[0];
      case "!=":
        return value !== values[0];
      case "in":
        return value !== undefined && values.includes(value);
      case "notin":
        return value === undefined || !values.includes(value);
      case "exists":
        return value !== undefined;
      default: // "!"
        return value === undefined;
    }
  });
}

/** fields.ParseSelector: equality only; unknown labels are a 400 like the registry's field-label conversion. */
function parseFieldSelector(info: ResourceInfo, selector: string | null): Requirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((term) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!m?.[1] || !m[2] || m[3] === undefined) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const key = m[1].trim();
    const supported = ["metadata.name", "metadata.namespace", ...info.selectableFields];
    if (!supported.includes(key)) throw badRequest(`field label not supported: ${key}`);
    return { key, op: m[2] === "!=" ? "!=" : "=", values: [m[3].trim()] };
  });
}

/** A selectable field's value; absent fields read as "" as in the registries' ToSelectableFields. */
function fieldValue(obj: JsonObject, key: string): string {
  const value = key === "source" ? dig(obj, "source.component") : dig(obj, key);
  return value === undefined || value === null ? "" : String(value);
}

function selectorMatches(
  selector: { namespace?: string; labels: Requirement[]; fields: Requirement[] },
  obj: JsonObject | undefined,
): boolean {
  if (!obj) return false;
  if (selector.namespace !== undefined && dig(obj, "metadata.namespace") !== selector.namespace) return false;
  const labels = dig(obj, "metadata.labels");
  return (
    matchesRequirements(selector.labels, (key) => (isObject(labels) ? str(labels[key]) : undefined)) &&
    matchesRequirements(selector.fields, (key) => fieldValue(obj, key))
  );
}

// ------------------------------------------------------------------------------------------------------------
// Patches
// ------------------------------------------------------------------------------------------------------------

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, everything else replaces. */
function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Strategic merge patch for the lists these resources declare (patchMergeKey), with the directives kubectl
 * emits: $patch (replace/delete), $setElementOrder/<list>, $deleteFromPrimitiveList/<list>, $retainKeys.
 * Lists without a merge key are replaced, as their patchStrategy is "replace".
 */
function strategicMerge(target: Json | undefined, patch: Json, info: ResourceInfo, dotted: string): Json | undefined {
  if (!isObject(patch)) return patch;
  const directive = patch.$patch;
  if (directive === "delete") return undefined;
  if (directive === "replace") {
    const { $patch: _, ...rest } = patch;
    return rest;
  }
  const result: JsonObject = isObject(target) ? { ...target } : {};
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  const orders: [string, Json[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys") continue;
    if (key.startsWith("$setElementOrder/")) {
      if (Array.isArray(value)) orders.push([key.slice("$setElementOrder/".length), value]);
      continue;
    }
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      }
      continue;
    }
    const path = dotted ? `${dotted}.${key}` : key;
    if (value === null) {
      delete result[key];
      continue;
    }
    const mergeKey = info.mergeKeys[path];
    let merged: Json | undefined;
    if (Array.isArray(value) && mergeKey !== undefined) {
      merged = mergeKey === "" ? mergePrimitiveList(result[key], value) : mergeKeyedList(result[key], value, mergeKey, info, path);
    } else if (isObject(value)) {
      merged = strategicMerge(result[key], value, info, path);
    } else {
      merged = value;
    }
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  for (const [field, order] of orders) {
    const list = result[field];
    const mergeKey = info.mergeKeys[dotted ? `${dotted}.${field}` : field];
    if (Array.isArray(list) && mergeKey !== undefined) result[field] = reorder(list, order, mergeKey);
  }
  return result;
}

function mergePrimitiveList(current: Json | undefined, patch: Json[]): Json[] {
  const out = Array.isArray(current) ? [...current] : [];
  for (const item of patch) if (!out.some((existing) => deepEqual(existing, item))) out.push(item);
  return out;
}

function mergeKeyedList(current: Json | undefined, patch: Json[], mergeKey: string, info: ResourceInfo, path: string): Json[] {
  if (patch.some((item) => isObject(item) && item.$patch === "replace")) {
    return patch.filter((item) => !(isObject(item) && item.$patch === "replace"));
  }
  const out = Array.isArray(current) ? [...current] : [];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((existing) => isObject(existing) && deepEqual(existing[mergeKey], item[mergeKey]));
    if (item.$patch === "delete") {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    const existing = index >= 0 ? out[index] : undefined;
    const merged = strategicMerge(existing, item, info, path);
    if (merged === undefined) continue;
    if (index >= 0) out[index] = merged;
    else out.push(merged);
  }
  return out;
}

/** $setElementOrder: items named in `order` first, in that order; the rest keep their relative order. */
function reorder(list: Json[], order: Json[], mergeKey: string): Json[] {
  const keyOf = (item: Json): Json | undefined => (mergeKey === "" ? item : isObject(item) ? item[mergeKey] : undefined);
  const position = (item: Json): number => {
    const index = order.findIndex((o) => deepEqual(keyOf(o), keyOf(item)));
    return index < 0 ? order.length : index;
  };
  return [...list].sort((a, b) => position(a) - position(b));
}

/** RFC 6902 JSON patch over a clone of `doc`. */
function jsonPatch(doc: JsonObject, operations: Json): JsonObject {
  if (!Array.isArray(operations)) throw badRequest("json patch must be an array of operations");
  let root: Json = clone(doc);
  const pointer = (path: Json | undefined): string[] => {
    if (typeof path !== "string" || (path !== "" && !path.startsWith("/"))) {
      throw new StatusError(422, "Invalid", `invalid JSON pointer: ${JSON.stringify(path)}`);
    }
    return path === "" ? [] : path.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  };
  const fail = (message: string): never => {
    throw new StatusError(422, "Invalid", message);
  };
  const resolve = (tokens: string[]): Json | undefined => {
    let cur: Json | undefined = root;
    for (const token of tokens) {
      if (Array.isArray(cur)) cur = cur[Number(token)];
      else if (isObject(cur)) cur = cur[token];
      else return undefined;
    }
    return cur;
  };
  const parentOf = (tokens: string[], op: string): [JsonObject | Json[], string] => {
    const parent = resolve(tokens.slice(0, -1));
    const last = tokens[tokens.length - 1];
    if (last === undefined || !(isObject(parent) || Array.isArray(parent))) {
      return fail(`${op} operation does not apply: doc is missing path: "/${tokens.join("/")}"`);
    }
    return [parent, last];
  };
  const add = (tokens: string[], value: Json): void => {
    if (tokens.length === 0) {
      root = value;
      return;
    }
    const [parent, last] = parentOf(tokens, "add");
    if (Array.isArray(parent)) {
      const index = last === "-" ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) fail(`add operation does not apply: index out of range: ${last}`);
      parent.splice(index, 0, value);
    } else parent[last] = value;
  };
  const remove = (tokens: string[], op: string): Json => {
    const [parent, last] = parentOf(tokens, op);
    if (Array.isArray(parent)) {
      const index = Number(last);
      if (!Number.isInteger(index) || index < 0 || index >= parent.length) fail(`${op} operation does not apply: doc is missing path: "/${tokens.join("/")}"`);
      return parent.splice(index, 1)[0] ?? null;
    }
    if (!(last in parent)) fail(`${op} operation does not apply: doc is missing path: "/${tokens.join("/")}"`);
    const value = parent[last] ?? null;
    delete parent[last];
    return value;
  };
  for (const op of operations) {
    if (!isObject(op)) fail("json patch operation must be an object");
    const operation = op as JsonObject;
    const path = pointer(operation.path);
    switch (operation.op) {
      case "add":
        add(path, clone(operation.value ?? null));
        break;
      case "remove":
        remove(path, "remove");
        break;
      case "replace":
        remove(path, "replace");
        add(path, clone(operation.value ?? null));
        break;
      case "move":
        add(path, remove(pointer(operation.from), "move"));
        break;
      case "copy": {
        const value = resolve(pointer(operation.from));
        if (value === undefined) fail(`copy operation does not apply: doc is missing from path: ${String(operation.from)}`);
        add(path, clone(value ?? null));
        break;
      }
      case "test":
        if (!deepEqual(resolve(path), operation.value)) fail(`testing value /${path.join("/")} failed: test failed`);
        break;
      default:
        fail(`Unexpected kind: ${String(operation.op)}`);
    }
  }
  if (!isObject(root)) fail("json patch must produce an object");
  return root as JsonObject;
}

// ------------------------------------------------------------------------------------------------------------
// Field ownership (server-side apply). Paths use the FieldsV1 element syntax: "f:spec", "k:{...}" for an
// associative-list item, "v:<json>" for a set member. A set of paths is a Set of JSON-encoded path arrays.
// Ownership is tracked on leaves (scalars, atomic lists, empty maps) plus list items; that is coarser than
// structured-merge-diff in places (no ownership of non-empty maps) but gives the same conflicts and removals
// for the objects here.
// ------------------------------------------------------------------------------------------------------------

type FieldPath = string[];

interface Owner {
  manager: string;
  operation: "Apply" | "Update";
  subresource: string;
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

/** Fields nobody owns: identity and server-maintained metadata (fieldmanager's stripMeta). */
const UNOWNED_METADATA = [
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
];

const pathKey = (path: FieldPath): string => JSON.stringify(path);
const parsePath = (key: string): FieldPath => JSON.parse(key) as FieldPath;
const isItemPath = (path: FieldPath): boolean => (path[path.length - 1] ?? "").startsWith("k:");

function dottedOf(path: FieldPath): string {
  return path
    .filter((el) => el.startsWith("f:"))
    .map((el) => el.slice(2))
    .join(".");
}

/** The associative-list key of an item: its key fields (sorted, as FieldsV1 encodes them), defaults filled. */
function itemKey(item: JsonObject, list: { keys: string[]; defaults?: JsonObject }): string {
  const key: JsonObject = {};
  for (const name of [...list.keys].sort()) {
    const value = item[name] ?? list.defaults?.[name];
    if (value !== undefined) key[name] = value;
  }
  return `k:${JSON.stringify(key)}`;
}

/** The part of an object field managers can own, for the main resource or the status subresource. */
function ownableView(obj: JsonObject, subresource: string): JsonObject {
  if (subresource === "status") return obj.status === undefined ? {} : { status: clone(obj.status) };
  const view: JsonObject = {};
  for (const [key, value] of Object.entries(obj)) {
    if (key === "apiVersion" || key === "kind" || key === "status") continue;
    if (key === "metadata" && isObject(value)) {
      const meta: JsonObject = {};
      for (const [mk, mv] of Object.entries(value)) if (!UNOWNED_METADATA.includes(mk)) meta[mk] = clone(mv);
      if (Object.keys(meta).length > 0) view.metadata = meta;
      continue;
    }
    view[key] = clone(value);
  }
  return view;
}

/** Every ownable path in `value` with the value found there. */
function leafPaths(value: Json, info: ResourceInfo, prefix: FieldPath = [], out = new Map<string, Json>()): Map<string, Json> {
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix.length > 0) out.set(pathKey(prefix), {});
    for (const [key, v] of entries) leafPaths(v, info, [...prefix, `f:${key}`], out);
    return out;
  }
  const list = Array.isArray(value) && value.length > 0 ? info.lists[dottedOf(prefix)] : undefined;
  if (!Array.isArray(value) || list === undefined) {
    out.set(pathKey(prefix), value); // a scalar or an atomic list
  } else if (list === "set") {
    for (const item of value) out.set(pathKey([...prefix, `v:${JSON.stringify(item)}`]), item);
  } else {
    for (const item of value) {
      if (!isObject(item)) continue;
      const itemPath = [...prefix, itemKey(item, list)];
      out.set(pathKey(itemPath), item);
      leafPaths(item, info, itemPath, out);
    }
  }
  return out;
}

/** Finds the value at a field path; `found` is false when any step is missing. */
function lookup(root: Json, path: FieldPath, info: ResourceInfo): { found: boolean; value?: Json } {
  let cur: Json | undefined = root;
  for (let i = 0; i < path.length; i++) {
    const el = path[i] ?? "";
    if (el.startsWith("f:")) {
      if (!isObject(cur)) return { found: false };
      cur = cur[el.slice(2)];
    } else if (el.startsWith("k:")) {
      const list = info.lists[dottedOf(path.slice(0, i))];
      if (!Array.isArray(cur) || !list || list === "set") return { found: false };
      cur = cur.find((item) => isObject(item) && itemKey(item, list) === el);
    } else if (el.startsWith("v:")) {
      if (!Array.isArray(cur)) return { found: false };
      const member: Json = JSON.parse(el.slice(2)) as Json;
      cur = cur.find((item) => deepEqual(item, member));
    } else return { found: false };
    if (cur === undefined) return { found: false };
  }
  return { found: true, value: cur };
}

/** Removes the field, list item or set member at `path` (no-op when absent). */
function removeAt(root: JsonObject, path: FieldPath, info: ResourceInfo): void {
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1];
  const parent = lookup(root, parentPath, info);
  if (!parent.found || last === undefined) return;
  const container = parentPath.length === 0 ? root : parent.value;
  if (last.startsWith("f:") && isObject(container)) {
    delete container[last.slice(2)];
  } else if (Array.isArray(container)) {
    const list = info.lists[dottedOf(parentPath)];
    const index = last.startsWith("k:")
      ? container.findIndex((item) => isObject(item) && list && list !== "set" && itemKey(item, list) === last)
      : container.findIndex((item) => deepEqual(item, JSON.parse(last.slice(2)) as Json));
    if (index >= 0) container.splice(index, 1);
  }
}

function toFieldsV1(fields: Set<string>): JsonObject {
  const root: JsonObject = {};
  for (const key of [...fields].sort()) {
    const path = parsePath(key);
    let node = root;
    for (const el of path) node = child(node, el);
    if (isItemPath(path)) node["."] = {};
  }
  return root;
}

function fromFieldsV1(tree: JsonObject, prefix: FieldPath = [], out = new Set<string>()): Set<string> {
  for (const [el, sub] of Object.entries(tree)) {
    if (el === ".") {
      out.add(pathKey(prefix));
      continue;
    }
    const path = [...prefix, el];
    if (isObject(sub) && Object.keys(sub).length > 0) fromFieldsV1(sub, path, out);
    else out.add(pathKey(path));
  }
  return out;
}

function readOwners(obj: JsonObject | undefined): Owner[] {
  const entries = dig(obj ?? {}, "metadata.managedFields");
  if (!Array.isArray(entries)) return [];
  return entries.filter(isObject).map((e) => ({
    manager: String(e.manager ?? ""),
    operation: e.operation === "Apply" ? "Apply" : "Update",
    subresource: typeof e.subresource === "string" ? e.subresource : "",
    apiVersion: String(e.apiVersion ?? ""),
    time: String(e.time ?? ""),
    fields: isObject(e.fieldsV1) ? fromFieldsV1(e.fieldsV1) : new Set<string>(),
  }));
}

function writeOwners(owners: Owner[]): Json[] {
  return owners
    .filter((o) => o.fields.size > 0)
    .map((o) => {
      const entry: JsonObject = {
        manager: o.manager,
        operation: o.operation,
        apiVersion: o.apiVersion,
        time: o.time,
        fieldsType: "FieldsV1",
        fieldsV1: toFieldsV1(o.fields),
      };
      if (o.subresource) entry.subresource = o.subresource;
      return entry;
    });
}

function sameFields(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((k) => b.has(k));
}

/** ".spec.ports[port=19530,protocol=\"TCP\"].nodePort", as fieldpath.Path.String() prints conflicts. */
function printPath(path: FieldPath): string {
  return path
    .map((el) => {
      if (el.startsWith("f:")) return `.${el.slice(2)}`;
      if (el.startsWith("k:")) {
        const key = JSON.parse(el.slice(2)) as JsonObject;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(",")}]`;
      }
      return `[=${el.slice(2)}]`;
    })
    .join("");
}

/** printManager in apiserver's fieldmanager: Update managers carry the time of their last change. */
function printManager(owner: Owner): string {
  let name = JSON.stringify(owner.manager);
  if (owner.subresource) name += ` with subresource ${JSON.stringify(owner.subresource)}`;
  if (owner.operation === "Update" && owner.time) return `${name} using ${owner.apiVersion} at ${owner.time}`;
  return `${name} using ${owner.apiVersion}`;
}

function applyConflict(conflicts: { owner: Owner; path: FieldPath }[]): StatusError {
  const causes = conflicts.map(({ owner, path }) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(owner)}`,
    field: printPath(path),
  }));
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(first.owner)}: ${printPath(first.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const { owner, path } of conflicts) {
      const name = printManager(owner);
      byManager.set(name, [...(byManager.get(name) ?? []), printPath(path)]);
    }
    const lines: string[] = [];
    for (const name of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${name}:`);
      for (const p of byManager.get(name) ?? []) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new StatusError(409, "Conflict", message, { causes });
}

/** Applies a configuration onto the live object the way SSA merges: maps and keyed lists merge, the rest replaces. */
function mergeApplied(live: Json | undefined, config: Json, info: ResourceInfo, prefix: FieldPath): Json | undefined {
  if (config === null) return undefined;
  if (isObject(config)) {
    const result: JsonObject = isObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(config)) {
      const merged = mergeApplied(result[key], value, info, [...prefix, `f:${key}`]);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
    return result;
  }
  const list = info.lists[dottedOf(prefix)];
  if (!Array.isArray(config) || list === undefined) return config;
  if (list === "set") return mergePrimitiveList(live, config);
  const out = Array.isArray(live) ? [...live] : [];
  for (const item of config) {
    if (!isObject(item)) continue;
    const key = itemKey(item, list);
    const index = out.findIndex((existing) => isObject(existing) && itemKey(existing, list) === key);
    const merged = mergeApplied(index >= 0 ? out[index] : undefined, item, info, [...prefix, key]) ?? {};
    if (index >= 0) out[index] = merged;
    else out.push(merged);
  }
  return out;
}

/** Update-operation ownership: the writer takes every field it changed; removed fields lose all owners. */
function ownUpdate(
  owners: Owner[],
  before: JsonObject | undefined,
  after: JsonObject,
  info: ResourceInfo,
  manager: string,
  subresource: string,
  now: string,
): Owner[] {
  const old = leafPaths(before ? ownableView(before, subresource) : {}, info);
  const next = leafPaths(ownableView(after, subresource), info);
  const changed = new Set<string>();
  for (const [key, value] of next) {
    if (!old.has(key) || (!isItemPath(parsePath(key)) && !deepEqual(old.get(key), value))) changed.add(key);
  }
  const removed = [...old.keys()].filter((key) => !next.has(key));
  const result = owners.map((o) => ({ ...o, fields: new Set(o.fields) }));
  for (const o of result) for (const key of [...changed, ...removed]) o.fields.delete(key);
  let me = result.find((o) => o.manager === manager && o.operation === "Update" && o.subresource === subresource);
  if (!me) {
    me = { manager, operation: "Update", subresource, apiVersion: apiVersionOf(info), time: now, fields: new Set() };
    result.push(me);
  }
  for (const key of changed) me.fields.add(key);
  return result;
}

// ------------------------------------------------------------------------------------------------------------
// Service strategy: defaults, the registry's type-change rules, validation
// ------------------------------------------------------------------------------------------------------------

const portsOf = (spec: JsonObject): JsonObject[] => (Array.isArray(spec.ports) ? spec.ports.filter(isObject) : []);
const needsNodePort = (type: string | undefined): boolean => type === "NodePort" || type === "LoadBalancer";

/** SetDefaults_Service (pkg/apis/core/v1/defaults.go): runs on every decode, so on updates too. */
function defaultService(spec: JsonObject): void {
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  for (const port of portsOf(spec)) {
    port.protocol ??= "TCP";
    if (port.targetPort === undefined && port.port !== undefined) port.targetPort = port.port;
  }
  const type = str(spec.type);
  const externalIPs = Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0;
  if (needsNodePort(type) || (type === "ClusterIP" && externalIPs)) spec.externalTrafficPolicy ??= "Cluster";
  if (type !== "ExternalName") spec.internalTrafficPolicy ??= "Cluster";
  if (type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
}

function nodePortSet(spec: JsonObject): Set<number> {
  return new Set(portsOf(spec).flatMap((p) => (typeof p.nodePort === "number" && p.nodePort !== 0 ? [p.nodePort] : [])));
}

/** patchAllocatedValues + dropTypeDependentFields (pkg/registry/core/service/strategy.go). */
function prepareServiceUpdate(spec: JsonObject, oldSpec: JsonObject): void {
  const oldType = str(oldSpec.type);
  const newType = str(spec.type);
  // A client that resubmits a manifest without the allocated values keeps them.
  if (oldType !== "ExternalName" && newType !== "ExternalName") {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!Array.isArray(spec.clusterIPs) && Array.isArray(oldSpec.clusterIPs)) spec.clusterIPs = clone(oldSpec.clusterIPs);
  }
  if (needsNodePort(oldType) && needsNodePort(newType)) {
    const byName = new Map(portsOf(oldSpec).map((p) => [String(p.name ?? ""), p.nodePort]));
    for (const port of portsOf(spec)) {
      const previous = byName.get(String(port.name ?? ""));
      if (!port.nodePort && typeof previous === "number") port.nodePort = previous;
    }
  }
  // Wipe what the new type does not use, but only when the write did not also change it (then validation
  // reports it): the user may not have known the apiserver had filled it in.
  const newPorts = nodePortSet(spec);
  const oldPorts = nodePortSet(oldSpec);
  if (needsNodePort(oldType) && !needsNodePort(newType) && [...newPorts].every((p) => oldPorts.has(p))) {
    for (const port of portsOf(spec)) delete port.nodePort;
  }
  const needsHc = (s: JsonObject): boolean => s.type === "LoadBalancer" && s.externalTrafficPolicy === "Local";
  if (needsHc(oldSpec) && !needsHc(spec) && spec.healthCheckNodePort === oldSpec.healthCheckNodePort) {
    delete spec.healthCheckNodePort;
  }
  if (oldType === "LoadBalancer" && newType !== "LoadBalancer") {
    if (
      typeof spec.allocateLoadBalancerNodePorts === "boolean" &&
      spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts
    ) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
}

/** What the ipallocator and the node-port allocator would hand out. */
function allocateServiceAddresses(spec: JsonObject, taken: Set<number>): void {
  if (spec.type !== "ExternalName") {
    if (!spec.clusterIP) spec.clusterIP = `172.20.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    if (!Array.isArray(spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP];
    spec.ipFamilies ??= ["IPv4"];
    spec.ipFamilyPolicy ??= "SingleStack";
  }
  const wantsNodePorts =
    spec.type === "NodePort" || (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false);
  if (!wantsNodePorts) return;
  for (const port of portsOf(spec)) {
    if (port.nodePort) continue;
    let candidate = randomInt(30000, 32768);
    while (taken.has(candidate)) candidate = candidate === 32767 ? 30000 : candidate + 1;
    taken.add(candidate);
    port.nodePort = candidate;
  }
}

/** validateLoadBalancerClassField: called with the old object on update and again without it. */
function loadBalancerClassErrors(spec: JsonObject, oldSpec: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (oldSpec?.type === "LoadBalancer" && oldSpec.loadBalancerClass !== undefined && spec.type === "LoadBalancer") {
    if (spec.loadBalancerClass !== oldSpec.loadBalancerClass) {
      errs.push(invalidValue("spec.loadBalancerClass", spec.loadBalancerClass, "may not change once set"));
    }
  }
  if (spec.type !== "LoadBalancer" && spec.loadBalancerClass !== undefined) {
    errs.push(forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

/** ValidateService / ValidateServiceUpdate, the parts that apply to Services without dual-stack. */
function validateService(svc: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObject(svc.spec) ? svc.spec : {};
  const type = str(spec.type);
  if (old) errs.push(...loadBalancerClassErrors(spec, isObject(old.spec) ? old.spec : {}));
  else errs.push(...nameErrors(RESOURCE_SERVICE, String(dig(svc, "metadata.name") ?? "")));

  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = spec.clusterIP === "None";
  if (ports.length === 0 && !headless && type !== "ExternalName") errs.push(required("spec.ports"));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    const port = isObject(p) ? p : {};
    const name = str(port.name) ?? "";
    if (ports.length > 1 && name === "") errs.push(required(`${at}.name`));
    else if (name !== "") {
      for (const msg of dns1123LabelErrors(name)) errs.push(invalidValue(`${at}.name`, name, msg));
      if (names.has(name)) errs.push({ type: "FieldValueDuplicate", field: `${at}.name`, value: name, detail: "" });
      names.add(name);
    }
    if (typeof port.port !== "number" || port.port < 1 || port.port > 65535) {
      errs.push(invalidValue(`${at}.port`, port.port, "must be between 1 and 65535, inclusive"));
    }
    if (!["TCP", "UDP", "SCTP"].includes(String(port.protocol))) {
      errs.push(notSupported(`${at}.protocol`, port.protocol, ["SCTP", "TCP", "UDP"]));
    }
  });

  if (!["None", "ClientIP"].includes(String(spec.sessionAffinity))) {
    errs.push(notSupported("spec.sessionAffinity", spec.sessionAffinity, ["ClientIP", "None"]));
  }
  if (!type) errs.push(required("spec.type"));
  else if (!["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"].includes(type)) {
    errs.push(notSupported("spec.type", type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]));
  }
  if (type === "ClusterIP") {
    ports.forEach((p, i) => {
      if (isObject(p) && p.nodePort) {
        errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
      }
    });
  }
  // Upstream's field path really is capitalised here ("LoadBalancerSourceRanges").
  if (Array.isArray(spec.loadBalancerSourceRanges) && spec.loadBalancerSourceRanges.length > 0) {
    if (type !== "LoadBalancer") {
      errs.push(forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"));
    }
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== "LoadBalancer") {
    errs.push(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
  }
  errs.push(...loadBalancerClassErrors(spec, undefined));

  const externallyAccessible =
    type === "LoadBalancer" ||
    type === "NodePort" ||
    (type === "ClusterIP" && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
  const etp = str(spec.externalTrafficPolicy) ?? "";
  if (!externallyAccessible) {
    if (etp !== "") {
      errs.push(invalidValue("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"));
    }
  } else if (etp === "") errs.push(required("spec.externalTrafficPolicy"));
  else if (!["Cluster", "Local"].includes(etp)) errs.push(notSupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]));
  const needsHealthCheck = type === "LoadBalancer" && etp === "Local";
  if (!needsHealthCheck && spec.healthCheckNodePort) {
    errs.push(
      invalidValue(
        "spec.healthCheckNodePort",
        spec.healthCheckNodePort,
        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
      ),
    );
  }
  const itp = spec.internalTrafficPolicy;
  if (itp === undefined && type !== "ExternalName") errs.push(required("spec.internalTrafficPolicy"));
  else if (itp !== undefined && !["Cluster", "Local"].includes(String(itp))) {
    errs.push(notSupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]));
  }
  return errs;
}

// ------------------------------------------------------------------------------------------------------------
// Ingress validation (pkg/apis/networking/validation), the checks an Ingress built by code can trip
// ------------------------------------------------------------------------------------------------------------

function validateIngress(ing: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!old) errs.push(...nameErrors(RESOURCE_INGRESS, String(dig(ing, "metadata.name") ?? "")));
  const spec = isObject(ing.spec) ? ing.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (rules.length === 0 && spec.defaultBackend === undefined) {
    errs.push(invalidValue("spec", null, "either `defaultBackend` or `rules` must be specified"));
  }
  rules.forEach((r, i) => {
    const rule = isObject(r) ? r : {};
    const host = str(rule.host);
    if (host) {
      const bare = host.startsWith("*.") ? host.slice(2) : host;
      for (const msg of dns1123SubdomainErrors(bare)) errs.push(invalidValue(`spec.rules[${i}].host`, host, msg));
    }
    const paths = dig(rule, "http.paths");
    (Array.isArray(paths) ? paths : []).forEach((p, j) => {
      const at = `spec.rules[${i}].http.paths[${j}]`;
      const path = isObject(p) ? p : {};
      const pathType = str(path.pathType);
      if (!pathType) errs.push(required(`${at}.pathType`, "pathType must be specified"));
      else if (!["Exact", "ImplementationSpecific", "Prefix"].includes(pathType)) {
        errs.push(notSupported(`${at}.pathType`, pathType, ["Exact", "ImplementationSpecific", "Prefix"]));
      } else if (pathType !== "ImplementationSpecific" && !String(path.path ?? "").startsWith("/")) {
        errs.push(invalidValue(`${at}.path`, path.path, "must be an absolute path"));
      }
      const service = dig(path, "backend.service");
      if (isObject(service)) {
        if (!str(service.name)) errs.push(required(`${at}.backend.service.name`));
        const port = isObject(service.port) ? service.port : {};
        if (port.name !== undefined && port.number !== undefined) {
          errs.push(invalidValue(`${at}.backend.service.port`, port, "cannot set both port name & port number"));
        } else if (port.name === undefined && port.number === undefined) {
          errs.push(required(`${at}.backend.service.port`, "port name or number is required"));
        }
      } else if (dig(path, "backend.resource") === undefined) {
        errs.push(invalidValue(`${at}.backend`, null, "one backend (`service` or `resource`) must be specified"));
      }
    });
  });
  return errs;
}

// Looked up once for the validators above.
const RESOURCE_SERVICE = findResource("Service") as ResourceInfo;
const RESOURCE_INGRESS = findResource("Ingress") as ResourceInfo;
const RESOURCE_NAMESPACE = findResource("Namespace") as ResourceInfo;

// ------------------------------------------------------------------------------------------------------------
// Server-side printing: `kubectl get` without -o asks for a meta.k8s.io Table and prints its columns as they
// come. Columns follow pkg/printers/internalversion/printers.go; other kinds get the default Name/Created At.
// ------------------------------------------------------------------------------------------------------------

interface TableColumn {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (obj: JsonObject, now: number) => Json;
}

/** duration.HumanDuration, the AGE column. */
function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 120) return `${Math.max(seconds, 0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 192) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 730) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

const nameColumn: TableColumn = { name: "Name", type: "string", format: "name", cell: (o) => String(dig(o, "metadata.name") ?? "") };
const ageColumn: TableColumn = {
  name: "Age",
  type: "string",
  cell: (o, now) => humanDuration(now - Date.parse(String(dig(o, "metadata.creationTimestamp") ?? ""))),
};

/** Hostnames and IPs of status.loadBalancer.ingress, comma-separated. */
function loadBalancerAddresses(obj: JsonObject): string {
  const ingress = dig(obj, "status.loadBalancer.ingress");
  return (Array.isArray(ingress) ? ingress.filter(isObject) : [])
    .map((i) => str(i.ip) ?? str(i.hostname) ?? "")
    .filter((a) => a !== "")
    .join(",");
}

const TABLE_COLUMNS: Record<string, TableColumn[]> = {
  Service: [
    nameColumn,
    { name: "Type", type: "string", cell: (o) => String(dig(o, "spec.type") ?? "") },
    { name: "Cluster-IP", type: "string", cell: (o) => String(dig(o, "spec.clusterIP") ?? "<none>") },
    {
      name: "External-IP",
      type: "string",
      cell: (o) => {
        const external = dig(o, "spec.externalIPs");
        const addresses = [loadBalancerAddresses(o), ...(Array.isArray(external) ? external.map(String) : [])].filter(Boolean);
        if (addresses.length > 0) return addresses.join(",");
        return dig(o, "spec.type") === "LoadBalancer" ? "<pending>" : "<none>";
      },
    },
    {
      name: "Port(s)",
      type: "string",
      cell: (o) => {
        const ports = portsOf(isObject(o.spec) ? o.spec : {});
        if (ports.length === 0) return "<none>";
        return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
      },
    },
    ageColumn,
    {
      name: "Selector",
      type: "string",
      priority: 1,
      cell: (o) => {
        const selector = dig(o, "spec.selector");
        if (!isObject(selector) || Object.keys(selector).length === 0) return "<none>";
        return Object.entries(selector)
          .map(([k, v]) => `${k}=${String(v)}`)
          .sort()
          .join(",");
      },
    },
  ],
  Ingress: [
    nameColumn,
    { name: "Class", type: "string", cell: (o) => String(dig(o, "spec.ingressClassName") ?? "<none>") },
    {
      name: "Hosts",
      type: "string",
      cell: (o) => {
        const rules = dig(o, "spec.rules");
        const hosts = (Array.isArray(rules) ? rules : []).map((r) => str(dig(r, "host")) ?? "*");
        return hosts.length > 0 ? hosts.join(",") : "*";
      },
    },
    { name: "Address", type: "string", cell: (o) => loadBalancerAddresses(o) },
    {
      name: "Ports",
      type: "string",
      cell: (o) => (Array.isArray(dig(o, "spec.tls")) && (dig(o, "spec.tls") as Json[]).length > 0 ? "80, 443" : "80"),
    },
    ageColumn,
  ],
  Namespace: [nameColumn, { name: "Status", type: "string", cell: (o) => String(dig(o, "status.phase") ?? "") }, ageColumn],
};

const DEFAULT_COLUMNS: TableColumn[] = [
  nameColumn,
  { name: "Created At", type: "date", cell: (o) => String(dig(o, "metadata.creationTimestamp") ?? "") },
];

/** The Table version the Accept header asks for ("v1" or "v1beta1"), if it asks for one. */
function tableVersion(accept: string | undefined): string | undefined {
  for (const range of (accept ?? "").split(",")) {
    const params = new Map(
      range
        .split(";")
        .slice(1)
        .map((p) => p.trim().split("=") as [string, string]),
    );
    if (params.get("as") === "Table" && params.get("g") === "meta.k8s.io") return params.get("v") ?? "v1";
  }
  return undefined;
}

interface TableOptions {
  version: string;
  /** includeObject=Object|Metadata|None; the apiserver defaults to Metadata (a PartialObjectMetadata). */
  includeObject: string;
  headers: boolean;
  now: number;
}

function toTable(info: ResourceInfo, objects: JsonObject[], resourceVersion: string, opts: TableOptions): JsonObject {
  const columns = TABLE_COLUMNS[info.kind] ?? DEFAULT_COLUMNS;
  const rowObject = (obj: JsonObject): Json => {
    if (opts.includeObject === "Object") return obj;
    if (opts.includeObject === "None") return null;
    return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${opts.version}`, metadata: clone(obj.metadata ?? {}) };
  };
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: { resourceVersion },
    columnDefinitions: opts.headers
      ? columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? "", description: "", priority: c.priority ?? 0 }))
      : [],
    rows: objects.map((obj) => ({ cells: columns.map((c) => c.cell(obj, opts.now)), object: rowObject(obj) })),
  };
}

// ------------------------------------------------------------------------------------------------------------
// Serving certificate: pki.ts issues DNS SANs only; clients dial 127.0.0.1, so the leaf needs an IP SAN.
// ------------------------------------------------------------------------------------------------------------

const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as EcKeyGenParams;

async function servingCertificate(ca: Issued): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: now.toString(16),
    subject: "CN=kube-apiserver",
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + 7 * 24 * 60 * 60 * 1000),
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: "ip", value: "127.0.0.1" },
        { type: "dns", value: "localhost" },
        { type: "dns", value: "kubernetes.default.svc" },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
  return { certPem: `${cert.toString("pem")}\n`, keyPem };
}

// ------------------------------------------------------------------------------------------------------------
// The server
// ------------------------------------------------------------------------------------------------------------

interface Target {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface Change {
  rv: number;
  type: WatchEvent["type"];
  info: ResourceInfo;
  object: JsonObject;
  previous?: JsonObject;
}

interface Selector {
  info: ResourceInfo;
  namespace?: string;
  labels: Requirement[];
  fields: Requirement[];
}

interface Watcher extends Selector {
  res: ServerResponse;
  timer?: NodeJS.Timeout;
  /** Set when the client asked for Table events (kubectl get -w); headers go with the first one only. */
  table?: TableOptions;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  record: RequestRecord;
}

interface WriteOptions {
  call: Call;
  verb: MutationRecord["verb"];
  manager: string;
  /** Precomputed owners (apply); otherwise the write is an Update by `manager`. */
  owners?: Owner[];
  dryRun: boolean;
}

const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.5-eks-sandbox",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.8",
  compiler: "gc",
  platform: "linux/amd64",
};

const VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"];

/** The fieldManager a write without ?fieldManager= is recorded under (handlers/create.go prefixFromUserAgent). */
function defaultManager(userAgent: string | undefined): string {
  const prefix = (userAgent ?? "").split("/")[0]?.replace(/[^\x20-\x7e]/g, "").slice(0, 128) ?? "";
  return prefix || "unknown";
}

class SandboxApiServer implements KubeApiServer {
  url = "";
  caPem = "";
  readonly requests: RequestRecord[] = [];
  readonly mutations: MutationRecord[] = [];
  private readonly objects = new Map<string, JsonObject>();
  private readonly history: Change[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly listeners = new Set<(event: WatchEvent) => void>();
  private readonly sockets = new Set<Socket>();
  private faults: Fault[] = [];
  private revision = 0;
  private server?: Server;

  constructor(private readonly options: KubeApiServerOptions) {}

  async start(): Promise<void> {
    const ca = await issue({ commonName: "kubernetes", isCa: true, keyType: "ec256" });
    const serving = await servingCertificate(ca);
    this.caPem = ca.certPem;
    for (const name of ["default", "kube-system", "milvus"]) {
      this.put({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      });
    }
    const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      void this.handle(req, res);
    });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("kube-apiserver stand-in: no address");
    this.url = `https://127.0.0.1:${address.port}`;
    this.server = server;
  }

  // ---- direct access ---------------------------------------------------------------------------------------

  put(input: object): KubeObject {
    const obj = clone(input) as JsonObject;
    const info = findResource(String(obj.kind ?? ""));
    if (!info || obj.apiVersion !== apiVersionOf(info)) {
      throw new Error(`kube-apiserver stand-in: cannot store ${String(obj.apiVersion)}/${String(obj.kind)}`);
    }
    const meta = child(obj, "metadata");
    const name = str(meta.name);
    if (!name) throw new Error("kube-apiserver stand-in: put() needs metadata.name");
    const namespace = info.namespaced ? (str(meta.namespace) ?? "default") : undefined;
    if (namespace) meta.namespace = namespace;
    const old = this.objects.get(this.key(info, namespace, name));
    meta.uid ??= str(dig(old, "metadata.uid")) ?? randomUUID();
    meta.creationTimestamp ??= str(dig(old, "metadata.creationTimestamp")) ?? this.timestamp();
    if (info.kind === "Ingress") meta.generation ??= 1;
    this.store(info, old, obj);
    return clone(obj) as unknown as KubeObject;
  }

  get<T extends object = KubeObject>(kind: string, namespace: string | undefined, name: string): T | undefined {
    const info = findResource(kind);
    if (!info) throw new Error(`kube-apiserver stand-in: unknown kind ${kind}`);
    const obj = this.objects.get(this.key(info, info.namespaced ? namespace : undefined, name));
    return obj ? (clone(obj) as unknown as T) : undefined;
  }

  list<T extends object = KubeObject>(kind: string, namespace?: string): T[] {
    const info = findResource(kind);
    if (!info) throw new Error(`kube-apiserver stand-in: unknown kind ${kind}`);
    return this.select(info, namespace).map((o) => clone(o) as unknown as T);
  }

  onChange(listener: (event: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  close(): Promise<void> {
    for (const watcher of this.watchers) this.endWatch(watcher);
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  // ---- storage ---------------------------------------------------------------------------------------------

  private key(info: ResourceInfo, namespace: string | undefined, name: string): string {
    return `${qualifiedResource(info)}/${namespace ?? ""}/${name}`;
  }

  private timestamp(): string {
    return rfc3339(this.options.now?.() ?? new Date());
  }

  private select(info: ResourceInfo, namespace: string | undefined): JsonObject[] {
    const prefix = `${qualifiedResource(info)}/${namespace ?? ""}`;
    return [...this.objects.entries()]
      .filter(([key]) => (namespace === undefined ? key.startsWith(`${qualifiedResource(info)}/`) : key.startsWith(`${prefix}/`)))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, obj]) => obj);
  }

  /** Stores (or, with `obj` undefined, deletes) and tells watchers; returns the new resourceVersion. */
  private store(info: ResourceInfo, old: JsonObject | undefined, obj: JsonObject | undefined): string {
    const rv = ++this.revision;
    const subject = obj ?? clone(old ?? {});
    const meta = child(subject, "metadata");
    meta.resourceVersion = String(rv);
    const key = this.key(info, str(meta.namespace), String(meta.name));
    if (obj) this.objects.set(key, obj);
    else this.objects.delete(key);
    const change: Change = {
      rv,
      type: obj ? (old ? "MODIFIED" : "ADDED") : "DELETED",
      info,
      object: clone(subject),
      previous: old ? clone(old) : undefined,
    };
    this.history.push(change);
    for (const watcher of this.watchers) this.deliver(watcher, change);
    for (const listener of this.listeners) listener({ type: change.type, object: clone(subject) as unknown as KubeObject });
    return String(rv);
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const record: RequestRecord = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    const contentType = req.headers["content-type"];
    if (contentType) record.contentType = contentType;
    const fieldManager = url.searchParams.get("fieldManager");
    if (fieldManager) record.fieldManager = fieldManager;
    if (req.headers["user-agent"]) record.userAgent = req.headers["user-agent"];
    this.requests.push(record);
    const call: Call = { req, res, url, record };
    try {
      this.authenticate(call);
      // Faults act after authentication, where API Priority and Fairness throttles and RBAC denies.
      if (this.applyFault(call)) return;
      await this.route(call);
    } catch (err) {
      const status =
        err instanceof StatusError
          ? err
          : new StatusError(500, "InternalError", `Internal error occurred: ${(err as Error).message}`);
      if (!res.headersSent) this.send(call, status.code, status.body(), status.headers);
      else res.end();
    }
  }

  private send(call: Call, code: number, body: Json | string, headers: Record<string, string> = {}): void {
    call.record.status = code;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    call.res.writeHead(code, {
      "Content-Type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
      "Cache-Control": "no-cache, private",
      ...headers,
    });
    call.res.end(text);
  }

  private applyFault(call: Call): boolean {
    const target = `${call.url.pathname}${call.url.search}`;
    const fault = this.faults.find(
      (f) =>
        (!f.match.method || f.match.method.toUpperCase() === call.record.method) &&
        (!f.match.pathIncludes || target.includes(f.match.pathIncludes)),
    );
    if (!fault) return false;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults = this.faults.filter((f) => f !== fault);
    if (fault.respond === "reset") {
      call.record.fault = "reset";
      call.req.socket.destroy();
      return true;
    }
    if (fault.respond === "timeout") {
      // Left unanswered; close() destroys the socket like every other.
      call.record.fault = "timeout";
      return true;
    }
    call.record.fault = "status";
    const error = this.faultError(call, fault.respond.status, fault.respond.retryAfterSeconds);
    this.send(call, error.code, error.body(), error.headers);
    return true;
  }

  /** The Status the real component answers with for each injected code, naming the request's object. */
  private faultError(call: Call, code: number, retryAfterSeconds?: number): StatusError {
    const target = this.parseTarget(call.url.pathname);
    const info = target?.info;
    const name = target?.name ?? "";
    const headers: Record<string, string> = retryAfterSeconds !== undefined ? { "Retry-After": String(retryAfterSeconds) } : {};
    switch (code) {
      case 429:
        return new StatusError(
          429,
          "TooManyRequests",
          "Too many requests, please try again later.",
          { retryAfterSeconds: retryAfterSeconds ?? 1 },
          { "Retry-After": String(retryAfterSeconds ?? 1) },
        );
      case 503:
        return new StatusError(
          503,
          "ServiceUnavailable",
          "the server is currently unable to handle the request",
          retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined,
          headers,
        );
      case 409:
        return info ? conflict(info, name) : new StatusError(409, "Conflict", "Operation cannot be fulfilled");
      case 404:
        return info ? notFound(info, name) : new StatusError(404, "NotFound", "the server could not find the requested resource");
      case 403: {
        const verb = this.verbOf(call, target);
        const resource = info ? qualifiedResource(info) : "";
        const scope = target?.namespace ? ` in the namespace "${target.namespace}"` : " at the cluster scope";
        const message = `${resource}${name ? ` "${name}"` : ""} is forbidden: User "${call.record.user ?? "system:anonymous"}" cannot ${verb} resource "${info?.plural ?? ""}" in API group "${info?.group ?? ""}"${scope}`;
        return new StatusError(403, "Forbidden", message, info ? { name, ...groupOf(info), kind: info.plural } : undefined);
      }
      case 401:
        return new StatusError(401, "Unauthorized", "Unauthorized");
      default:
        return new StatusError(500, "InternalError", "Internal error occurred: injected fault", {
          causes: [{ message: "injected fault" }],
        });
    }
  }

  /** The RBAC verb of a request, as a Forbidden message names it. */
  private verbOf(call: Call, target: Target | undefined): string {
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
        return "delete";
      default:
        return method.toLowerCase();
    }
  }

  private authenticate(call: Call): void {
    const header = call.req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const unauthorized = new StatusError(401, "Unauthorized", "Unauthorized");
    if (!match?.[1]) {
      call.record.authError = "no bearer token";
      throw unauthorized;
    }
    const result: AuthResult = this.options.authenticate?.(match[1]) ?? { ok: true, user: "sandbox-user" };
    if (!result.ok) {
      call.record.authError = result.reason;
      throw unauthorized;
    }
    call.record.user = result.user;
  }

  private async route(call: Call): Promise<void> {
    const path = call.url.pathname.replace(/\/+$/, "") || "/";
    const discovery = this.discovery(path);
    if (discovery !== undefined) {
      if (call.record.method !== "GET") throw methodNotAllowed();
      this.send(call, 200, discovery);
      return;
    }
    if (["/healthz", "/livez", "/readyz"].includes(path)) {
      this.send(call, 200, "ok");
      return;
    }
    const target = this.parseTarget(path);
    if (!target) throw new StatusError(404, "NotFound", "the server could not find the requested resource", {});
    if (target.subresource && !(target.subresource === "status" && target.info.hasStatus)) {
      throw new StatusError(404, "NotFound", "the server could not find the requested resource", {});
    }
    const watch = ["true", "1"].includes(call.url.searchParams.get("watch") ?? "");
    switch (`${call.record.method} ${target.name ? "object" : "collection"}`) {
      case "GET collection":
        if (watch) this.watch(call, target);
        else this.listObjects(call, target);
        break;
      case "POST collection":
        this.create(call, target, await this.body(call));
        break;
      case "GET object":
        this.getObject(call, target);
        break;
      case "PUT object":
        this.update(call, target, await this.body(call));
        break;
      case "PATCH object":
        this.patch(call, target, await this.rawBody(call));
        break;
      case "DELETE object":
        if (target.subresource) throw methodNotAllowed();
        this.remove(call, target, await this.rawBody(call));
        break;
      default:
        throw methodNotAllowed();
    }
  }

  /** /api/v1/namespaces/{ns}/{plural}/{name}/{sub} and /apis/{group}/{version}/…, cluster-scoped forms too. */
  private parseTarget(path: string): Target | undefined {
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

  private discovery(path: string): Json | undefined {
    const resourceList = (group: string): JsonObject => ({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/v1` : "v1",
      resources: RESOURCES.filter((r) => r.group === group).flatMap((r) => {
        const main: JsonObject = {
          name: r.plural,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: VERBS,
        };
        if (r.shortNames.length > 0) main.shortNames = r.shortNames;
        if (r.categories.length > 0) main.categories = r.categories;
        const status: JsonObject = { name: `${r.plural}/status`, singularName: "", namespaced: r.namespaced, kind: r.kind, verbs: ["get", "patch", "update"] };
        return r.hasStatus ? [main, status] : [main];
      }),
    });
    const networking = {
      name: "networking.k8s.io",
      versions: [{ groupVersion: "networking.k8s.io/v1", version: "v1" }],
      preferredVersion: { groupVersion: "networking.k8s.io/v1", version: "v1" },
    };
    switch (path) {
      case "/version":
        return SERVER_VERSION;
      case "/api":
        return {
          kind: "APIVersions",
          versions: ["v1"],
          serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: this.url.replace("https://", "") }],
        };
      case "/api/v1":
        return resourceList("");
      case "/apis":
        return { kind: "APIGroupList", apiVersion: "v1", groups: [networking] };
      case "/apis/networking.k8s.io":
        return { kind: "APIGroup", apiVersion: "v1", ...networking };
      case "/apis/networking.k8s.io/v1":
        return resourceList("networking.k8s.io");
      default:
        return undefined;
    }
  }

  private async rawBody(call: Call): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of call.req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  /** A create/update body: JSON, or YAML (which the apiserver also accepts). */
  private async body(call: Call): Promise<JsonObject> {
    const text = await this.rawBody(call);
    const type = (call.record.contentType ?? "application/json").split(";")[0]?.trim() ?? "";
    if (!["application/json", "application/yaml"].includes(type)) {
      // Protobuf (what kubectl's typed clients send for built-in kinds) is not decoded here.
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
      );
    }
    let parsed: unknown;
    try {
      parsed = type === "application/yaml" ? YAML.parse(text) : JSON.parse(text);
    } catch (err) {
      throw badRequest(`error decoding request body: ${(err as Error).message}`);
    }
    if (!isObject(parsed)) throw badRequest("the request body must be an object");
    return parsed;
  }

  // ---- reads -----------------------------------------------------------------------------------------------

  private getObject(call: Call, target: Target): void {
    const obj = this.objects.get(this.key(target.info, target.namespace, target.name ?? ""));
    if (!obj) throw notFound(target.info, target.name ?? "");
    const table = this.tableOptions(call);
    this.send(call, 200, table ? toTable(target.info, [obj], String(dig(obj, "metadata.resourceVersion")), table) : obj);
  }

  private tableOptions(call: Call): TableOptions | undefined {
    const version = tableVersion(call.req.headers.accept);
    if (!version) return undefined;
    const includeObject = call.url.searchParams.get("includeObject") ?? "Metadata";
    return { version, includeObject, headers: true, now: (this.options.now?.() ?? new Date()).getTime() };
  }

  private selector(call: Call, target: Target): Selector {
    return {
      info: target.info,
      namespace: target.namespace,
      labels: parseLabelSelector(call.url.searchParams.get("labelSelector")),
      fields: parseFieldSelector(target.info, call.url.searchParams.get("fieldSelector")),
    };
  }

  /** Lists carry no kind/apiVersion on their items, as the apiserver serialises typed lists. */
  private listObjects(call: Call, target: Target): void {
    const selector = this.selector(call, target);
    const matching = this.select(target.info, target.namespace).filter((obj) => selectorMatches(selector, obj));
    const table = this.tableOptions(call);
    if (table) {
      this.send(call, 200, toTable(target.info, matching, String(this.revision), table));
      return;
    }
    const items = matching.map((obj) => {
        const { apiVersion: _a, kind: _k, ...rest } = obj;
        return rest;
      });
    this.send(call, 200, {
      kind: `${target.info.kind}List`,
      apiVersion: apiVersionOf(target.info),
      metadata: { resourceVersion: String(this.revision) },
      items,
    });
  }

  /**
   * Newline-delimited watch events. Without resourceVersion (or "0") the current matches come first as ADDED;
   * with one, every later change is replayed from history, then live changes follow. An object that starts or
   * stops matching the selectors arrives as ADDED or DELETED, as the watch cache filters it.
   */
  private watch(call: Call, target: Target): void {
    const rvParam = call.url.searchParams.get("resourceVersion");
    const since = rvParam && rvParam !== "0" ? Number(rvParam) : undefined;
    if (since !== undefined && !Number.isInteger(since)) throw badRequest(`invalid resource version: ${rvParam}`);
    const watcher: Watcher = { ...this.selector(call, target), res: call.res, table: this.tableOptions(call) };
    call.record.status = 200;
    call.res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    // Headers go out now: a client waits for them before it reads events, and there may be none for a while.
    call.res.flushHeaders();
    call.res.socket?.setNoDelay(true);
    if (since === undefined) {
      for (const obj of this.select(target.info, target.namespace)) {
        if (selectorMatches(watcher, obj)) this.emit(watcher, "ADDED", obj);
      }
    } else {
      for (const change of this.history) if (change.rv > since) this.deliver(watcher, change);
    }
    this.watchers.add(watcher);
    const timeout = Number(call.url.searchParams.get("timeoutSeconds") ?? "");
    if (timeout > 0) watcher.timer = setTimeout(() => this.endWatch(watcher), timeout * 1000);
    call.res.on("close", () => this.endWatch(watcher));
  }

  private deliver(watcher: Watcher, change: Change): void {
    if (watcher.info !== change.info) return;
    const now = change.type !== "DELETED" && selectorMatches(watcher, change.object);
    const before = selectorMatches(watcher, change.type === "DELETED" ? change.object : change.previous);
    if (now && before) this.emit(watcher, "MODIFIED", change.object);
    else if (now) this.emit(watcher, "ADDED", change.object);
    else if (before) this.emit(watcher, "DELETED", change.object);
  }

  private emit(watcher: Watcher, type: WatchEvent["type"], object: JsonObject): void {
    if (watcher.res.writableEnded) return;
    let sent: Json = object;
    if (watcher.table) {
      const rv = String(dig(object, "metadata.resourceVersion"));
      sent = toTable(watcher.info, [object], rv, { ...watcher.table, now: (this.options.now?.() ?? new Date()).getTime() });
      watcher.table.headers = false;
    }
    watcher.res.write(`${JSON.stringify({ type, object: sent })}\n`);
  }

  private endWatch(watcher: Watcher): void {
    if (!this.watchers.delete(watcher)) return;
    clearTimeout(watcher.timer);
    if (!watcher.res.writableEnded) watcher.res.end();
  }

  // ---- writes ----------------------------------------------------------------------------------------------

  private requireNamespace(target: Target): void {
    if (target.namespace !== undefined && !this.objects.has(this.key(RESOURCE_NAMESPACE, undefined, target.namespace))) {
      throw namespaceNotFound(target.namespace);
    }
  }

  private manager(call: Call): string {
    return call.url.searchParams.get("fieldManager") || defaultManager(call.record.userAgent);
  }

  private dryRun(call: Call): boolean {
    return call.url.searchParams.getAll("dryRun").includes("All");
  }

  /** The body must describe the resource the URL names. */
  private checkIdentity(target: Target, obj: JsonObject, name: string | undefined): void {
    const apiVersion = apiVersionOf(target.info);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== target.info.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${target.info.kind})`);
    }
    const namespace = str(dig(obj, "metadata.namespace"));
    if (namespace && target.namespace !== undefined && namespace !== target.namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    const bodyName = str(dig(obj, "metadata.name"));
    if (name !== undefined && bodyName !== undefined && bodyName !== name) {
      throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    }
  }

  private create(call: Call, target: Target, obj: JsonObject): void {
    this.checkIdentity(target, obj, undefined);
    const meta = child(obj, "metadata");
    if (!str(meta.name) && str(meta.generateName)) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    const name = str(meta.name);
    if (!name) throw invalid(target.info, "", [required("metadata.name", "name or generateName is required")]);
    this.requireNamespace(target);
    if (this.objects.has(this.key(target.info, target.namespace, name))) throw alreadyExists(target.info, name);
    const stored = this.write({ ...target, name }, undefined, obj, {
      call,
      verb: "create",
      manager: this.manager(call),
      dryRun: this.dryRun(call),
    });
    this.send(call, 201, stored);
  }

  private update(call: Call, target: Target, obj: JsonObject): void {
    const name = target.name ?? "";
    this.checkIdentity(target, obj, name);
    const old = this.objects.get(this.key(target.info, target.namespace, name));
    if (!old) {
      if (!target.info.allowCreateOnUpdate || target.subresource) throw notFound(target.info, name);
      this.requireNamespace(target);
    }
    const rv = str(dig(obj, "metadata.resourceVersion"));
    if (old && rv && rv !== dig(old, "metadata.resourceVersion")) throw conflict(target.info, name);
    const stored = this.write(target, old, obj, {
      call,
      verb: old ? "update" : "create",
      manager: this.manager(call),
      dryRun: this.dryRun(call),
    });
    this.send(call, old ? 200 : 201, stored);
  }

  private patch(call: Call, target: Target, text: string): void {
    const name = target.name ?? "";
    const type = (call.record.contentType ?? "").split(";")[0]?.trim() ?? "";
    const old = this.objects.get(this.key(target.info, target.namespace, name));
    if (type === "application/apply-patch+yaml") {
      this.apply(call, target, old, text);
      return;
    }
    const parse = (): Json => {
      try {
        return JSON.parse(text) as Json;
      } catch (err) {
        throw badRequest(`error decoding patch: ${(err as Error).message}`);
      }
    };
    let patched: Json | undefined;
    switch (type) {
      case "application/json-patch+json":
        if (!old) throw notFound(target.info, name);
        patched = jsonPatch(old, parse());
        break;
      case "application/merge-patch+json":
        if (!old) throw notFound(target.info, name);
        patched = mergePatch(old, parse());
        break;
      case "application/strategic-merge-patch+json":
        if (!old) throw notFound(target.info, name);
        patched = strategicMerge(old, parse(), target.info, "");
        break;
      default:
        throw new StatusError(
          415,
          "UnsupportedMediaType",
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        );
    }
    if (!isObject(patched)) throw new StatusError(422, "Invalid", "the patch must produce an object");
    this.checkIdentity(target, patched, name);
    // A resourceVersion carried by the patch is a precondition, as for an update.
    if (dig(patched, "metadata.resourceVersion") !== dig(old, "metadata.resourceVersion")) throw conflict(target.info, name);
    const stored = this.write(target, old, patched, {
      call,
      verb: "patch",
      manager: this.manager(call),
      dryRun: this.dryRun(call),
    });
    this.send(call, 200, stored);
  }

  /**
   * Server-side apply. The configuration's fields become the manager's Apply set; a field another manager owns
   * with a different value is a conflict unless force=true (which moves ownership); fields this manager applied
   * before and now omits are removed unless someone else still owns them. Creates the object when absent.
   */
  private apply(call: Call, target: Target, old: JsonObject | undefined, text: string): void {
    const { info } = target;
    const name = target.name ?? "";
    const subresource = target.subresource ?? "";
    const manager = call.url.searchParams.get("fieldManager");
    if (!manager) {
      throw invalid({ ...info, kind: "PatchOptions", group: "meta.k8s.io" }, "", [
        required("fieldManager", "is required for apply patch"),
      ]);
    }
    const force = call.url.searchParams.get("force") === "true";
    let config: unknown;
    try {
      config = YAML.parse(text);
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    if (!isObject(config)) throw badRequest("the apply configuration must be an object");
    if (config.apiVersion === undefined || config.kind === undefined) {
      throw badRequest("apiVersion and kind must be set in an apply configuration");
    }
    this.checkIdentity(target, config, name);
    if (!old && subresource) throw notFound(info, name);
    if (!old) this.requireNamespace(target);
    const rv = str(dig(config, "metadata.resourceVersion"));
    if (old && rv && rv !== dig(old, "metadata.resourceVersion")) throw conflict(info, name);

    const view = ownableView(config, subresource);
    // An explicit null removes the field; the manager does not own it afterwards.
    const configured = leafPaths(view, info);
    const applied = new Map([...configured].filter(([, value]) => value !== null));
    const owners = readOwners(old);
    const mine = owners.find((o) => o.manager === manager && o.operation === "Apply" && o.subresource === subresource);
    const others = owners.filter((o) => o !== mine);

    const conflicts: { owner: Owner; path: FieldPath }[] = [];
    for (const [key, value] of configured) {
      const path = parsePath(key);
      if (isItemPath(path)) continue;
      const live = lookup(old ?? {}, path, info);
      if (!live.found || deepEqual(live.value, value)) continue;
      for (const owner of others) if (owner.fields.has(key)) conflicts.push({ owner, path });
    }
    if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
    for (const { owner, path } of conflicts) owner.fields.delete(pathKey(path));

    const base: JsonObject = old ? clone(old) : { apiVersion: apiVersionOf(info), kind: info.kind, metadata: {} };
    const merged = (mergeApplied(base, view, info, []) ?? {}) as JsonObject;
    // A path stays while anyone owns it or something beneath it. Keys are JSON arrays, so a descendant's key
    // starts with the ancestor's key minus its closing bracket, plus a comma.
    const ownedElsewhere = [...others.flatMap((o) => [...o.fields]), ...applied.keys()];
    const stillOwned = (key: string): boolean =>
      ownedElsewhere.some((k) => k === key || k.startsWith(`${key.slice(0, -1)},`));
    const dropped = [...(mine?.fields ?? [])].filter((key) => !applied.has(key) && !stillOwned(key));
    // Deepest first, so removing a list item never shifts a path still to be removed.
    for (const key of dropped.sort((a, b) => b.length - a.length)) removeAt(merged, parsePath(key), info);

    const me: Owner = {
      manager,
      operation: "Apply",
      subresource,
      apiVersion: apiVersionOf(info),
      time: this.timestamp(),
      fields: new Set(applied.keys()),
    };
    const stored = this.write(target, old, merged, {
      call,
      verb: "apply",
      manager,
      owners: mine ? owners.map((o) => (o === mine ? me : o)) : [...owners, me],
      dryRun: this.dryRun(call),
    });
    this.send(call, old ? 200 : 201, stored);
  }

  private remove(call: Call, target: Target, text: string): void {
    const { info } = target;
    const name = target.name ?? "";
    const old = this.objects.get(this.key(info, target.namespace, name));
    if (!old) throw notFound(info, name);
    let options: Json = {};
    try {
      if (text.trim()) options = JSON.parse(text) as Json;
    } catch (err) {
      throw badRequest(`error decoding DeleteOptions: ${(err as Error).message}`);
    }
    const preconditions = dig(options, "preconditions");
    if (isObject(preconditions)) {
      if (preconditions.resourceVersion && preconditions.resourceVersion !== dig(old, "metadata.resourceVersion")) {
        throw conflict(info, name);
      }
      if (preconditions.uid && preconditions.uid !== dig(old, "metadata.uid")) throw conflict(info, name);
    }
    const dryRun = this.dryRun(call);
    const finalizers = dig(old, "metadata.finalizers");
    if (Array.isArray(finalizers) && finalizers.length > 0) {
      // Finalizers hold the object: it is marked for deletion and stays until the last one is removed.
      if (dig(old, "metadata.deletionTimestamp") !== undefined || dryRun) {
        this.send(call, 200, old);
        return;
      }
      const marked = clone(old);
      const meta = child(marked, "metadata");
      meta.deletionTimestamp = this.timestamp();
      meta.deletionGracePeriodSeconds = 0;
      this.store(info, old, marked);
      this.recordMutation(call, target, "delete", this.manager(call), marked);
      this.send(call, 200, marked);
      return;
    }
    if (!dryRun) this.commitDelete(call, target, "delete", old);
    if (info.returnDeletedObject) {
      this.send(call, 200, old);
      return;
    }
    this.send(call, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, ...groupOf(info), kind: info.plural, uid: str(dig(old, "metadata.uid")) ?? "" },
    });
  }

  private commitDelete(call: Call, target: Target, verb: MutationRecord["verb"], last: JsonObject): void {
    const previous = this.objects.get(this.key(target.info, target.namespace, target.name ?? ""));
    const rv = this.store(target.info, previous, undefined);
    if (target.info === RESOURCE_NAMESPACE) {
      // Namespace deletion takes what it contains with it (the namespace controller, done at once).
      for (const info of RESOURCES.filter((r) => r.namespaced)) {
        for (const obj of this.select(info, target.name)) this.store(info, obj, undefined);
      }
    }
    const deleted = clone(last);
    child(deleted, "metadata").resourceVersion = rv;
    this.recordMutation(call, target, verb, this.manager(call), deleted);
  }

  private recordMutation(
    call: Call,
    target: Target,
    verb: MutationRecord["verb"],
    manager: string,
    obj: JsonObject,
  ): void {
    const mutation: MutationRecord = {
      method: call.record.method,
      path: call.record.path,
      verb,
      kind: target.info.kind,
      name: target.name ?? String(dig(obj, "metadata.name")),
      fieldManager: manager,
      resourceVersion: String(dig(obj, "metadata.resourceVersion")),
      object: clone(obj) as unknown as KubeObject,
    };
    if (target.namespace !== undefined) mutation.namespace = target.namespace;
    if (target.subresource) mutation.subresource = target.subresource;
    if (call.record.contentType) mutation.contentType = call.record.contentType;
    this.mutations.push(mutation);
  }

  /**
   * The registry's write path: server-owned metadata, status/spec separation, strategy (defaults, type
   * rules), validation, managedFields, then a store unless nothing changed (no new resourceVersion then).
   */
  private write(target: Target, old: JsonObject | undefined, incoming: JsonObject, opts: WriteOptions): JsonObject {
    const { info } = target;
    const name = target.name ?? "";
    const subresource = target.subresource ?? "";
    let obj = dropNulls(incoming) as JsonObject;
    obj.apiVersion = apiVersionOf(info);
    obj.kind = info.kind;
    if (subresource === "status" && old) {
      // The status subresource changes status only.
      obj = { ...clone(old), status: obj.status ?? {} };
    } else if (info.hasStatus) {
      // Main-resource writes never change status; creates start with an empty one.
      obj.status = old?.status !== undefined ? clone(old.status) : { loadBalancer: {} };
    } else if (info === RESOURCE_NAMESPACE) {
      obj.status = old?.status !== undefined ? clone(old.status) : { phase: "Active" };
    }

    // Identity and server-maintained metadata come from the stored object, never from the request.
    const meta = child(obj, "metadata");
    const oldMeta = isObject(old?.metadata) ? old.metadata : {};
    meta.name = name;
    if (target.namespace !== undefined) meta.namespace = target.namespace;
    for (const key of ["uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"]) {
      const value = oldMeta[key];
      if (value !== undefined) meta[key] = clone(value);
      else delete meta[key];
    }
    if (!old) {
      meta.uid = randomUUID();
      meta.creationTimestamp = this.timestamp();
    }
    delete meta.resourceVersion;
    delete meta.managedFields;
    if (info === RESOURCE_NAMESPACE) child(meta, "labels")["kubernetes.io/metadata.name"] = name;

    if (subresource !== "status") {
      if (info === RESOURCE_SERVICE) this.prepareService(obj, old);
      if (info === RESOURCE_INGRESS) {
        const specChanged = !old || !deepEqual(obj.spec, old.spec);
        meta.generation = Number(oldMeta.generation ?? 0) + (specChanged ? 1 : 0);
      }
      const errors =
        info === RESOURCE_SERVICE
          ? validateService(obj, old)
          : info === RESOURCE_INGRESS
            ? validateIngress(obj, old)
            : old
              ? []
              : nameErrors(info, name);
      if (errors.length > 0) throw invalid(info, name, errors);
    }

    // Empty maps and lists are omitted when the Go object is serialised.
    for (const key of ["labels", "annotations", "finalizers"]) {
      const value = meta[key];
      if ((isObject(value) && Object.keys(value).length === 0) || (Array.isArray(value) && value.length === 0)) {
        delete meta[key];
      }
    }
    const managedFields = this.managedFields(target, old, obj, opts);
    if (managedFields.length > 0) meta.managedFields = managedFields;

    if (old) {
      const withoutVersion = (o: JsonObject): JsonObject => {
        const copy = clone(o);
        delete child(copy, "metadata").resourceVersion;
        return copy;
      };
      if (deepEqual(withoutVersion(old), withoutVersion(obj))) return old;
    }
    if (opts.dryRun) {
      if (oldMeta.resourceVersion !== undefined) meta.resourceVersion = oldMeta.resourceVersion;
      return obj;
    }
    // Removing the last finalizer of an object marked for deletion completes the deletion.
    if (old && meta.deletionTimestamp !== undefined && meta.finalizers === undefined) {
      this.commitDelete(opts.call, target, opts.verb, obj);
      return obj;
    }
    this.store(info, old, obj);
    this.recordMutation(opts.call, target, opts.verb, opts.manager, obj);
    return obj;
  }

  /** The managedFields after a write: Apply owners as computed, or the writer's Update ownership. */
  private managedFields(target: Target, old: JsonObject | undefined, obj: JsonObject, opts: WriteOptions): Json[] {
    const { info } = target;
    const now = this.timestamp();
    const previous = readOwners(old);
    const owners = opts.owners ?? ownUpdate(previous, old, obj, info, opts.manager, target.subresource ?? "", now);
    return writeOwners(
      owners.map((o) => {
        // Fields the strategy removed (nodePorts dropped on a type change …) have no owner any more.
        const fields = new Set([...o.fields].filter((key) => lookup(obj, parsePath(key), info).found));
        const before = previous.find(
          (p) => p.manager === o.manager && p.operation === o.operation && p.subresource === o.subresource,
        );
        // A manager's timestamp moves only when its field set changes, so a repeated write stays a no-op.
        const time = before && sameFields(before.fields, fields) ? before.time : now;
        return { ...o, fields, time };
      }),
    );
  }

  /** Defaults, allocation and the type-change rules of the Service registry, plus the LB controller's reaction. */
  private prepareService(svc: JsonObject, old: JsonObject | undefined): void {
    const spec = child(svc, "spec");
    defaultService(spec);
    const oldSpec = isObject(old?.spec) ? old.spec : undefined;
    if (oldSpec) prepareServiceUpdate(spec, oldSpec);
    const taken = new Set(this.select(RESOURCE_SERVICE, undefined).flatMap((s) => [...nodePortSet(isObject(s.spec) ? s.spec : {})]));
    allocateServiceAddresses(spec, taken);
    if (oldSpec?.type === "LoadBalancer" && spec.type !== "LoadBalancer") {
      // Done synchronously here for determinism: the AWS Load Balancer Controller deletes the NLB, clears
      // status.loadBalancer and drops its finalizer once the Service stops being type LoadBalancer.
      child(svc, "status").loadBalancer = {};
      const meta = child(svc, "metadata");
      if (Array.isArray(meta.finalizers)) meta.finalizers = meta.finalizers.filter((f) => f !== "service.k8s.aws/resources");
    }
  }
}

export async function startKubeApiServer(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const server = new SandboxApiServer(opts);
  await server.start();
  return server;
}

// ------------------------------------------------------------------------------------------------------------
// EKS bearer tokens (aws-iam-authenticator pkg/token/token.go, Verify). The presigned URL is checked the way
// the authenticator does before it calls STS; STS itself is not called, so the signature is not verified.
// ------------------------------------------------------------------------------------------------------------

const TOKEN_PREFIX = "k8s-aws-v1.";
const MAX_TOKEN_BYTES = 4096;
const PRESIGNED_URL_EXPIRATION_MS = 15 * 60 * 1000;
const ALLOWED_PARAMETERS = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signature",
  "x-amz-signedheaders",
]);
/** The STS endpoints of the aws and aws-cn partitions: global and regional. */
const STS_HOST = /^sts(\.[a-z]{2}(-gov)?-[a-z]+-\d+)?\.amazonaws\.com(\.cn)?$/;

export function eksTokenAuthenticator(opts: { now?: () => Date } = {}): (token: string) => AuthResult {
  const fail = (message: string): AuthResult => ({ ok: false, reason: `input token was not properly formatted: ${message}` });
  return (token) => {
    if (token.length > MAX_TOKEN_BYTES) return fail("token is too large");
    if (!token.startsWith(TOKEN_PREFIX)) return fail(`token is missing expected "${TOKEN_PREFIX}" prefix`);
    const encoded = token.slice(TOKEN_PREFIX.length);
    // base64.RawURLEncoding: URL alphabet, no padding.
    if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return fail("illegal base64 data");
    let url: URL;
    try {
      url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
    } catch {
      return fail("pre-signed URL does not parse");
    }
    if (url.protocol !== "https:") return fail(`unexpected scheme "${url.protocol.replace(/:$/, "")}" in pre-signed URL`);
    if (!STS_HOST.test(url.host)) return fail(`unexpected hostname "${url.host}" in pre-signed URL`);
    if (url.pathname !== "/") return fail("unexpected path in pre-signed URL");
    const params = new Map<string, string>();
    for (const key of new Set(url.searchParams.keys())) {
      if (!ALLOWED_PARAMETERS.has(key.toLowerCase())) return fail(`non-whitelisted query parameter "${key}"`);
      const values = url.searchParams.getAll(key);
      if (values.length !== 1) return fail("query parameter with multiple values not supported");
      params.set(key.toLowerCase(), values[0] ?? "");
    }
    if (params.get("action") !== "GetCallerIdentity") return fail("unexpected action parameter in pre-signed URL");
    const signed = (params.get("x-amz-signedheaders") ?? "").split(";").map((h) => h.toLowerCase());
    if (!signed.includes("x-k8s-aws-id")) return fail("client did not sign the x-k8s-aws-id header in the pre-signed URL");
    const expires = Number(params.get("x-amz-expires"));
    if (!Number.isInteger(expires) || expires < 0 || expires > 900) {
      return fail(`invalid X-Amz-Expires parameter in pre-signed URL: ${params.get("x-amz-expires") ?? ""}`);
    }
    const date = params.get("x-amz-date");
    if (!date) return fail("X-Amz-Date parameter must be present in pre-signed URL");
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!m) return fail(`error parsing X-Amz-Date parameter ${date} into format 20060102T150405Z`);
    const signedAt = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    const now = (opts.now?.() ?? new Date()).getTime();
    if (now > signedAt + PRESIGNED_URL_EXPIRATION_MS) {
      return fail(`X-Amz-Date parameter is expired (15 minute expiration) ${new Date(signedAt).toISOString()}`);
    }
    // What STS would refuse before answering: a request that is not SigV4-signed, dated in the future or for
    // another API version.
    if (now < signedAt - PRESIGNED_URL_EXPIRATION_MS) return fail("X-Amz-Date parameter is in the future");
    if (params.get("version") !== "2011-06-15") return fail("unexpected Version parameter in pre-signed URL");
    if (params.get("x-amz-algorithm") !== "AWS4-HMAC-SHA256") return fail("unexpected X-Amz-Algorithm in pre-signed URL");
    const credential = params.get("x-amz-credential") ?? "";
    if (!params.get("x-amz-signature") || !/^[^/]+\/\d{8}\/[a-z0-9-]+\/sts\/aws4_request$/.test(credential)) {
      return fail("pre-signed URL is not signed");
    }
    return { ok: true, user: credential.split("/")[0] ?? "" };
  };
}

// ------------------------------------------------------------------------------------------------------------
// The Milvus release the workflow starts from
// ------------------------------------------------------------------------------------------------------------

const FIXTURE = new URL("./fixtures/milvus-demo-service-loadbalancer.json", import.meta.url);

/** The Milvus Service as the Helm chart leaves it (type LoadBalancer behind an NLB); a fresh copy per call. */
export function loadMilvusDemoService(): KubeObject {
  return JSON.parse(readFileSync(FIXTURE, "utf8")) as KubeObject;
}

/** Puts the Milvus Service into the stand-in, as after `helm install milvus-demo milvus/milvus -n milvus`. */
export function seedMilvusRelease(server: KubeApiServer): KubeObject {
  return server.put(loadMilvusDemoService());
}

/** A kubeconfig for `kubectl --kubeconfig` (and KubeConfig.loadFromString) pointing at the stand-in. */
export function kubeconfigYaml(server: KubeApiServer, token: string, namespace = "milvus"): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "sandbox",
        cluster: { server: server.url, "certificate-authority-data": Buffer.from(server.caPem).toString("base64") },
      },
    ],
    users: [{ name: "sandbox", user: { token } }],
    contexts: [{ name: "sandbox", context: { cluster: "sandbox", user: "sandbox", namespace } }],
    "current-context": "sandbox",
  });
}

// Status errors as the apiserver sends them, and field errors as validation reports them. Ported from
// kubernetes/kubernetes (the version each file was read at: README.md):
//   staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists, NewConflict,
//     NewInvalid, NewBadRequest, NewMethodNotSupported)
//   staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go (Error.ErrorBody, the CauseTypes)
//   staging/src/k8s.io/apiserver/pkg/storage/errors.go (StorageError, NewInvalidObjError, NewTooLargeResourceVersionError)
//   staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go (checkPreconditions' messages)
//   staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage)
import type { Json, JsonObject } from "./json";
import { groupOf, qualifiedKind, qualifiedResource, type ResourceInfo } from "./resources";

export class StatusError extends Error {
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
    };
    // omitempty: a webhook's denial may carry no reason.
    if (this.reason) status.reason = this.reason;
    if (this.details) status.details = this.details;
    status.code = this.code;
    return status;
  }
}

/** One entry of a field.ErrorList; `type` is the CauseType the Status carries. */
export interface FieldError {
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
  // %#v of a []string
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return `[]string{${value.map((v) => JSON.stringify(v)).join(", ")}}`;
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

export const invalidValue = (field: string, value: Json | undefined, detail: string): FieldError => ({
  type: "FieldValueInvalid",
  field,
  value: value ?? null,
  detail,
});
export const forbidden = (field: string, detail: string): FieldError => ({ type: "FieldValueForbidden", field, detail });
export const required = (field: string, detail = ""): FieldError => ({ type: "FieldValueRequired", field, detail });
export const notSupported = (field: string, value: Json | undefined, supported: string[]): FieldError => ({
  type: "FieldValueNotSupported",
  field,
  value: value ?? null,
  detail: "",
  supported,
});

export function notFound(info: ResourceInfo, name: string): StatusError {
  return new StatusError(404, "NotFound", `${qualifiedResource(info)} "${name}" not found`, {
    name,
    ...groupOf(info),
    kind: info.plural,
  });
}

export function namespaceNotFound(namespace: string): StatusError {
  return new StatusError(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" });
}

export function alreadyExists(info: ResourceInfo, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${qualifiedResource(info)} "${name}" already exists`, {
    name,
    ...groupOf(info),
    kind: info.plural,
  });
}

export function conflict(info: ResourceInfo, name: string): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...groupOf(info), kind: info.plural },
  );
}

export function methodNotAllowed(): StatusError {
  return new StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

/**
 * errors.NewInvalid: one error is printed bare, several as "[a, b]" (utilerrors.Aggregate); field.ErrorList.ToAggregate
 * drops repeated messages from the text, while the causes keep every entry.
 */
export function invalid(info: ResourceInfo, name: string, errors: FieldError[]): StatusError {
  const printed = [...new Set(errors.map((e) => `${e.field}: ${errorBody(e)}`))];
  const aggregate = printed.length === 1 ? printed[0] : `[${printed.join(", ")}]`;
  return new StatusError(422, "Invalid", `${qualifiedKind(info)} "${name}" is invalid: ${aggregate}`, {
    name,
    ...groupOf(info),
    kind: info.kind,
    causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });
}

/** errors.NewResourceExpired with the watch cache's message (cacher/watch_cache.go getAllEventsSinceLocked). */
export function resourceExpired(requested: number, oldest: number): StatusError {
  return new StatusError(410, "Expired", `too old resource version: ${requested} (${oldest})`);
}

/**
 * storage.NewTooLargeResourceVersionError: errors.NewTimeoutError ("Timeout: " + message, details.retryAfterSeconds)
 * with a ResourceVersionTooLarge cause; responsewriters turns retryAfterSeconds into a Retry-After header.
 */
export function tooLargeResourceVersion(requested: number, current: number): StatusError {
  const retryAfterSeconds = 1;
  return new StatusError(
    504,
    "Timeout",
    `Timeout: Too large resource version: ${requested}, current: ${current}`,
    { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds },
    { "Retry-After": String(retryAfterSeconds) },
  );
}

/** The etcd key a resource is stored under (the registry's KeyFunc); `services/specs` as the Service registry names it. */
function storageKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  const prefix = info.custom ? `${info.group}/${info.plural}` : info.plural === "services" ? "services/specs" : info.plural === "ingresses" ? "ingress" : info.plural;
  return `/registry/${prefix}${namespace ? `/${namespace}` : ""}/${name}`;
}

/**
 * A failed uid or resourceVersion precondition: etcd3 checkPreconditions returns NewInvalidObjError, which
 * storage.InterpretUpdateError / InterpretDeleteError turn into errors.NewConflict with the StorageError's text. The
 * Namespace registry checks its own preconditions first and says it without the StorageError wrapping
 * (pkg/registry/core/namespace/storage/storage.go, Delete).
 */
export function preconditionFailed(
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  field: "UID" | "ResourceVersion",
  expected: string,
  actual: string,
): StatusError {
  const detail = `Precondition failed: ${field} in precondition: ${expected}, ${field} in object meta: ${actual}`;
  const cause =
    info.kind === "Namespace"
      ? detail
      : `StorageError: invalid object, Code: 4, Key: ${storageKey(info, namespace, name)}, ResourceVersion: 0, AdditionalErrorMsg: ${detail}`;
  return new StatusError(409, "Conflict", `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": ${cause}`, {
    name,
    ...groupOf(info),
    kind: info.plural,
  });
}

/** What an authorizer's denial answers: responsewriters.Forbidden → errors.NewForbidden (no reason appended). */
export function forbiddenRequest(
  user: string,
  verb: string,
  info: ResourceInfo | undefined,
  subresource: string | undefined,
  namespace: string | undefined,
  name: string,
): StatusError {
  const resource = `${info?.plural ?? ""}${subresource ? `/${subresource}` : ""}`;
  const scope = namespace ? ` in the namespace "${namespace}"` : " at the cluster scope";
  const reason = `User "${user}" cannot ${verb} resource "${resource}" in API group "${info?.group ?? ""}"${scope}`;
  const subject = info ? qualifiedResource(info) : "";
  const message = !subject ? `forbidden: ${reason}` : name ? `${subject} "${name}" is forbidden: ${reason}` : `${subject} is forbidden: ${reason}`;
  return new StatusError(403, "Forbidden", message, info ? { name, ...groupOf(info), kind: info.plural } : undefined);
}

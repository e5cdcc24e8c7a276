// The registry's write path, shared by every verb that changes an object: server-owned metadata, the
// status/spec split, the Service strategy and validation, managedFields, then a store, unless nothing changed.
// Ported from kubernetes/kubernetes (versions: README.md):
//   staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (Create, Update, Delete, finalizers and
//     deletionTimestamp)
//   staging/src/k8s.io/apiserver/pkg/registry/rest/create.go, update.go (BeforeCreate, BeforeUpdate: identity and
//     metadata the client may not set)
//   staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go, patch.go and store.go's createValidation /
//     updateValidation (the order: mutating admission, then the strategy and validation, then validating admission)
//   staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/time.go (metav1.Time decodes RFC 3339 and encodes whole seconds)
//   staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/managedfieldsupdater.go (a manager's time moves
//     only when its write changed the object)
import { randomUUID } from "node:crypto";
import type { AdmissionChain, AdmissionRequest } from "./admission";
import { type Owner, lookup, ownUpdate, parsePath, readOwners, writeOwners } from "./apply";
import { type Call, fieldManagerOf } from "./call";
import type { Clock } from "./clock";
import { badRequest, invalid, namespaceNotFound } from "./errors";
import { child, clone, deepEqual, dig, dropNulls, isObject, type Json, type JsonObject } from "./json";
import {
  apiVersionOf,
  RESOURCE_INGRESS,
  RESOURCE_INGRESS_CLASS,
  RESOURCE_SECRET,
  RESOURCE_NAMESPACE,
  RESOURCE_SERVICE,
  RESOURCES,
  type Target,
} from "./resources";
import type { ObjectStore } from "./store";
import { allocateServiceAddresses, defaultService, nodePortSet, prepareServiceUpdate } from "./strategy";

/**
 * The object changed while a write to it awaited admission. The apiserver's storage retries such a write from a
 * fresh read (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go GuaranteedUpdate: the update function runs
 * again on the current object), so a patch is applied to the latest version; a precondition the client sent
 * (resourceVersion, uid) is checked again on that retry and fails as a 409 then.
 */
export class StaleRead extends Error {
  constructor() {
    super("the object changed during admission");
  }
}
import type { KubeObject, MutationRecord } from "./types";
import { defaultIngressClass, defaultSecret, nameErrors, validateIngress, validateIngressClass, validateSecret, validateService } from "./validation";

interface WriteOptions {
  call: Call;
  verb: MutationRecord["verb"];
  manager: string;
  /** Precomputed owners (apply); otherwise the write is an Update by `manager`. */
  owners?: Owner[];
  dryRun: boolean;
}

export class WritePath {
  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    /** The server's record of writes, appended to in order. */
    private readonly mutations: MutationRecord[],
    private readonly admission: AdmissionChain,
  ) {}

  requireNamespace(target: Target): void {
    if (target.namespace !== undefined && !this.store.has(RESOURCE_NAMESPACE, undefined, target.namespace)) {
      throw namespaceNotFound(target.namespace);
    }
  }

  /**
   * The registry's write path: server-owned metadata, status/spec separation, strategy (defaults, type
   * rules), validation, managedFields, then a store unless nothing changed (no new resourceVersion then).
   */
  /** Throws StaleRead when the stored object is no longer the one a write was computed from. */
  requireUnchanged(target: Target, old: JsonObject | undefined): void {
    const current = this.store.get(target.info, target.namespace, target.name ?? "");
    if (dig(current, "metadata.resourceVersion") !== dig(old, "metadata.resourceVersion")) throw new StaleRead();
  }

  async write(target: Target, old: JsonObject | undefined, incoming: JsonObject, opts: WriteOptions): Promise<JsonObject> {
    const { info } = target;
    const name = target.name ?? "";
    const subresource = target.subresource ?? "";
    const decoded = dropNulls(incoming) as JsonObject;
    decoded.apiVersion = apiVersionOf(info);
    decoded.kind = info.kind;
    if (!info.custom) truncateTimes(decoded);
    const review: AdmissionRequest = {
      target: { ...target, name },
      operation: old ? "UPDATE" : "CREATE",
      object: decoded,
      oldObject: old,
      user: opts.call.record.user ?? "system:anonymous",
      dryRun: opts.dryRun,
      options: operationOptions(opts),
    };
    let obj = (await this.admission.mutate(review)) ?? decoded;
    if (subresource === "status" && old) {
      // The status subresource changes status only.
      obj = { ...clone(old), status: obj.status ?? {} };
    } else if (info.hasStatus && info.custom) {
      // A custom resource's main-resource writes keep the stored status; a create drops the one sent
      // (apiextensions-apiserver pkg/registry/customresource/strategy.go, PrepareForCreate/PrepareForUpdate).
      if (old?.status !== undefined) obj.status = clone(old.status);
      else delete obj.status;
    } else if (info.hasStatus) {
      // Main-resource writes never change status; creates start with the one the registry's PrepareForCreate sets.
      obj.status = old?.status !== undefined ? clone(old.status) : clone(info.initialStatus ?? {});
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
      meta.creationTimestamp = this.clock.timestamp();
    }
    delete meta.resourceVersion;
    delete meta.managedFields;
    if (info === RESOURCE_NAMESPACE) child(meta, "labels")["kubernetes.io/metadata.name"] = name;

    if (subresource !== "status") {
      if (info === RESOURCE_SERVICE) this.prepareService(obj, old);
      if (info === RESOURCE_INGRESS_CLASS) defaultIngressClass(obj);
      if (info === RESOURCE_SECRET) defaultSecret(obj);
      if (info === RESOURCE_INGRESS || info.custom) {
        const specChanged = !old || !deepEqual(obj.spec, old.spec);
        meta.generation = Number(oldMeta.generation ?? 0) + (specChanged ? 1 : 0);
      }
      const errors =
        info === RESOURCE_SERVICE
          ? validateService(obj, old)
          : info === RESOURCE_INGRESS
            ? validateIngress(obj, old)
            : info === RESOURCE_INGRESS_CLASS
              ? validateIngressClass(obj, old)
              : info === RESOURCE_SECRET
                ? validateSecret(obj, old)
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
    await this.admission.validate({ ...review, object: obj });
    // Admission may have awaited webhooks since `old` was read: storage commits only onto the version the write
    // was computed from (GuaranteedUpdate's compare-and-swap), else the handler computes it again.
    this.requireUnchanged(target, old);

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
    this.store.commit(info, old, obj);
    this.recordMutation(opts.call, target, opts.verb, opts.manager, obj);
    return obj;
  }

  commitDelete(call: Call, target: Target, verb: MutationRecord["verb"], last: JsonObject): void {
    const previous = this.store.get(target.info, target.namespace, target.name ?? "");
    const rv = this.store.commit(target.info, previous, undefined);
    if (target.info === RESOURCE_NAMESPACE) {
      // Namespace deletion takes what it contains with it (the namespace controller, done at once).
      for (const info of RESOURCES.filter((r) => r.namespaced)) {
        for (const obj of this.store.select(info, target.name)) this.store.commit(info, obj, undefined);
      }
    }
    const deleted = clone(last);
    child(deleted, "metadata").resourceVersion = rv;
    this.recordMutation(call, target, verb, fieldManagerOf(call), deleted);
  }

  recordMutation(
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
   * The managedFields after a write: Apply owners as computed, or the writer's Update ownership. Only the writer's
   * entry gets a new time, and only when its write changed the object; everyone else's stays as it was.
   */
  private managedFields(target: Target, old: JsonObject | undefined, obj: JsonObject, opts: WriteOptions): Json[] {
    const { info } = target;
    const now = this.clock.timestamp();
    const subresource = target.subresource ?? "";
    const previous = readOwners(old);
    let owners: Owner[];
    let changed: boolean;
    if (opts.owners) {
      owners = opts.owners;
      changed = !old || !deepEqual(withoutServerMeta(old), withoutServerMeta(obj));
    } else {
      ({ owners, changed } = ownUpdate(previous, old, obj, info, opts.manager, subresource, now));
    }
    const operation = opts.owners ? "Apply" : "Update";
    return writeOwners(
      owners.map((o) => {
        // Fields the strategy removed (nodePorts dropped on a type change …) have no owner any more.
        const fields = new Set([...o.fields].filter((key) => lookup(obj, parsePath(key), info).found));
        const before = previous.find(
          (p) => p.manager === o.manager && p.operation === o.operation && p.subresource === o.subresource,
        );
        const writer = o.manager === opts.manager && o.operation === operation && o.subresource === subresource;
        const time = before && !(writer && changed) ? before.time : writer ? now : o.time;
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
    const taken = new Set(this.store.select(RESOURCE_SERVICE, undefined).flatMap((s) => [...nodePortSet(isObject(s.spec) ? s.spec : {})]));
    allocateServiceAddresses(spec, taken);
    if (oldSpec?.type === "LoadBalancer" && spec.type !== "LoadBalancer") {
      // Once the Service stops being type LoadBalancer, the registry clears status.loadBalancer itself
      // (dropTypeDependentFields) and the AWS Load Balancer Controller deletes the NLB and drops its finalizer
      // (controllers/service/service_controller.go, cleanupLoadBalancerResources); both at once here, for
      // determinism.
      child(svc, "status").loadBalancer = {};
      const meta = child(svc, "metadata");
      if (Array.isArray(meta.finalizers)) meta.finalizers = meta.finalizers.filter((f) => f !== "service.k8s.aws/resources");
    }
  }
}

/** The object without what the server maintains, to tell whether a write changed anything. */
function withoutServerMeta(o: JsonObject): JsonObject {
  const copy = clone(o);
  const meta = child(copy, "metadata");
  delete meta.resourceVersion;
  delete meta.managedFields;
  return copy;
}

/** The options object an AdmissionReview carries for the verb. */
function operationOptions(opts: WriteOptions): JsonObject {
  const kind = opts.verb === "create" ? "CreateOptions" : opts.verb === "update" ? "UpdateOptions" : "PatchOptions";
  const options: JsonObject = { kind, fieldManager: opts.manager };
  if (opts.dryRun) options.dryRun = ["All"];
  return options;
}

/**
 * Fields of type metav1.Time in the built-in kinds served here: decoding parses RFC 3339 (fractions allowed) and
 * encoding writes whole seconds in UTC, so a client's milliseconds never survive a round trip. eventTime and
 * series.lastObservedTime are MicroTime and keep microseconds. Custom resources are stored as sent.
 */
const TIME_PATHS = [
  "metadata.creationTimestamp",
  "metadata.deletionTimestamp",
  "firstTimestamp",
  "lastTimestamp",
  "status.startTime",
];
const CONDITION_TIMES = ["lastTransitionTime", "lastProbeTime", "lastHeartbeatTime", "lastUpdateTime"];

function truncateTimes(obj: JsonObject): void {
  const fix = (holder: JsonObject, key: string, at: string): void => {
    const value = holder[key];
    if (typeof value !== "string") return;
    const ms = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(ms)) {
      throw badRequest(`error decoding ${at}: parsing time "${value}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
    }
    holder[key] = new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  };
  for (const path of TIME_PATHS) {
    const parts = path.split(".");
    const key = parts.pop() ?? "";
    const holder = parts.length === 0 ? obj : dig(obj, parts.join("."));
    if (isObject(holder)) fix(holder, key, path);
  }
  const conditions = dig(obj, "status.conditions");
  for (const condition of Array.isArray(conditions) ? conditions.filter(isObject) : []) {
    for (const key of CONDITION_TIMES) fix(condition, key, `status.conditions.${key}`);
  }
}

// The registry's write path, shared by every verb that changes an object: server-owned metadata, the
// status/spec split, the Service strategy and validation, managedFields, then a store, unless nothing changed.
// Ported from kubernetes/kubernetes (versions: README.md):
//   staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (Create, Update, Delete, finalizers and
//     deletionTimestamp)
//   staging/src/k8s.io/apiserver/pkg/registry/rest/create.go, update.go (BeforeCreate, BeforeUpdate: identity and
//     metadata the client may not set)
import { randomUUID } from "node:crypto";
import { type Owner, lookup, ownUpdate, parsePath, readOwners, sameFields, writeOwners } from "./apply";
import { type Call, fieldManagerOf } from "./call";
import type { Clock } from "./clock";
import { invalid, namespaceNotFound } from "./errors";
import { child, clone, deepEqual, dig, dropNulls, isObject, type Json, type JsonObject } from "./json";
import { apiVersionOf, RESOURCE_INGRESS, RESOURCE_NAMESPACE, RESOURCE_SERVICE, RESOURCES, type Target } from "./resources";
import type { ObjectStore } from "./store";
import { allocateServiceAddresses, defaultService, nodePortSet, prepareServiceUpdate } from "./strategy";
import type { KubeObject, MutationRecord } from "./types";
import { nameErrors, validateIngress, validateService } from "./validation";

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
  write(target: Target, old: JsonObject | undefined, incoming: JsonObject, opts: WriteOptions): JsonObject {
    const { info } = target;
    const name = target.name ?? "";
    const subresource = target.subresource ?? "";
    let obj = dropNulls(incoming) as JsonObject;
    obj.apiVersion = apiVersionOf(info);
    obj.kind = info.kind;
    if (subresource === "status" && old) {
      // The status subresource changes status only.
      obj = { ...clone(old), status: obj.status ?? {} };
    } else if (info.hasStatus && info.custom) {
      // A custom resource's main-resource writes keep the stored status; a create drops the one sent
      // (apiextensions-apiserver pkg/registry/customresource/strategy.go, PrepareForCreate/PrepareForUpdate).
      if (old?.status !== undefined) obj.status = clone(old.status);
      else delete obj.status;
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
      meta.creationTimestamp = this.clock.timestamp();
    }
    delete meta.resourceVersion;
    delete meta.managedFields;
    if (info === RESOURCE_NAMESPACE) child(meta, "labels")["kubernetes.io/metadata.name"] = name;

    if (subresource !== "status") {
      if (info === RESOURCE_SERVICE) this.prepareService(obj, old);
      if (info === RESOURCE_INGRESS || info.custom) {
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

  /** The managedFields after a write: Apply owners as computed, or the writer's Update ownership. */
  private managedFields(target: Target, old: JsonObject | undefined, obj: JsonObject, opts: WriteOptions): Json[] {
    const { info } = target;
    const now = this.clock.timestamp();
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

// What each REST verb does to a resource: get, list, create, update, the four patch types and delete. Ported
// from kubernetes/kubernetes (versions: README.md), staging/src/k8s.io/apiserver/pkg/endpoints/handlers (get.go, create.go,
// update.go, patch.go, delete.go): preconditions, content types, the fieldManager, dryRun and the answers.
import { randomUUID } from "node:crypto";
import YAML from "yaml";
import { serverSideApply } from "./apply";
import { type Call, fieldManagerOf, isDryRun, send } from "./call";
import type { Clock } from "./clock";
import type { AdmissionChain } from "./admission";
import { alreadyExists, badRequest, conflict, invalid, notFound, preconditionFailed, required, StatusError } from "./errors";
import { child, clone, dig, isObject, type Json, type JsonObject, str } from "./json";
import { jsonPatch, mergePatch, strategicMerge } from "./patch";
import { apiVersionOf, groupOf, type Target } from "./resources";
import { selectorMatches, selectorOf } from "./selectors";
import type { ObjectStore } from "./store";
import { requestedTable, toTable } from "./table";
import { requestedRevision, waitUntilFresh } from "./watch";
import { StaleRead, type WritePath } from "./write";

/** Runs a read-compute-write again while the object changes under it (see StaleRead). */
async function untilFresh(attempt: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof StaleRead)) throw e;
    }
  }
}

export class RestHandlers {
  constructor(
    private readonly store: ObjectStore,
    private readonly writes: WritePath,
    private readonly clock: Clock,
    private readonly admission: AdmissionChain,
  ) {}

  get(call: Call, target: Target): void {
    const obj = this.store.get(target.info, target.namespace, target.name ?? "");
    if (!obj) throw notFound(target.info, target.name ?? "");
    const table = requestedTable(call, this.clock);
    send(call, 200, table ? toTable(target.info, [obj], String(dig(obj, "metadata.resourceVersion")), table) : obj);
  }

  /** Lists carry no kind/apiVersion on their items, as the apiserver serialises typed lists. */
  async list(call: Call, target: Target): Promise<void> {
    // A list naming a resourceVersion is served from the cache once it is at least that fresh (NotOlderThan).
    const since = requestedRevision(call);
    if (since !== undefined) await waitUntilFresh(this.store, since);
    const selector = selectorOf(call, target);
    const matching = this.store.select(target.info, target.namespace).filter((obj) => selectorMatches(selector, obj));
    const table = requestedTable(call, this.clock);
    if (table) {
      send(call, 200, toTable(target.info, matching, this.store.resourceVersion, table));
      return;
    }
    const items = matching.map((obj) => {
      const { apiVersion: _a, kind: _k, ...rest } = obj;
      return rest;
    });
    send(call, 200, {
      kind: `${target.info.kind}List`,
      apiVersion: apiVersionOf(target.info),
      metadata: { resourceVersion: this.store.resourceVersion },
      items,
    });
  }

  create(call: Call, target: Target, obj: JsonObject): Promise<void> {
    return untilFresh(() => this.createOnce(call, target, obj));
  }

  private async createOnce(call: Call, target: Target, obj: JsonObject): Promise<void> {
    this.checkIdentity(target, obj, undefined);
    const meta = child(obj, "metadata");
    if (!str(meta.name) && str(meta.generateName)) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    const name = str(meta.name);
    if (!name) throw invalid(target.info, "", [required("metadata.name", "name or generateName is required")]);
    this.writes.requireNamespace(target);
    if (this.store.has(target.info, target.namespace, name)) throw alreadyExists(target.info, name);
    const stored = await this.writes.write({ ...target, name }, undefined, obj, {
      call,
      verb: "create",
      manager: fieldManagerOf(call),
      dryRun: isDryRun(call),
    });
    send(call, 201, stored);
  }

  update(call: Call, target: Target, obj: JsonObject): Promise<void> {
    return untilFresh(() => this.updateOnce(call, target, obj));
  }

  private async updateOnce(call: Call, target: Target, obj: JsonObject): Promise<void> {
    const name = target.name ?? "";
    this.checkIdentity(target, obj, name);
    const old = this.store.get(target.info, target.namespace, name);
    if (!old) {
      if (!target.info.allowCreateOnUpdate || target.subresource) throw notFound(target.info, name);
      this.writes.requireNamespace(target);
    }
    // The body's uid is a precondition (rest.DefaultUpdatedObjectInfo.Preconditions), checked by storage.
    const uid = str(dig(obj, "metadata.uid"));
    const oldUid = str(dig(old, "metadata.uid")) ?? "";
    if (old && uid && uid !== oldUid) throw preconditionFailed(target.info, target.namespace, name, "UID", uid, oldUid);
    const rv = str(dig(obj, "metadata.resourceVersion"));
    if (old && rv && rv !== dig(old, "metadata.resourceVersion")) throw conflict(target.info, name);
    const stored = await this.writes.write(target, old, obj, {
      call,
      verb: old ? "update" : "create",
      manager: fieldManagerOf(call),
      dryRun: isDryRun(call),
    });
    send(call, old ? 200 : 201, stored);
  }

  patch(call: Call, target: Target, text: string): Promise<void> {
    return untilFresh(() => this.patchOnce(call, target, text));
  }

  private async patchOnce(call: Call, target: Target, text: string): Promise<void> {
    const name = target.name ?? "";
    const type = (call.record.contentType ?? "").split(";")[0]?.trim() ?? "";
    const old = this.store.get(target.info, target.namespace, name);
    if (type === "application/apply-patch+yaml") {
      await this.apply(call, target, old, text);
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
    // Custom resources have no strategic-merge schema: apiextensions-apiserver's handler accepts the other three
    // (pkg/apiserver/customresource_handler.go, supportedTypes) and answers the rest as the generic handler does.
    if (target.info.custom && type === "application/strategic-merge-patch+json") {
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
      );
    }
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
    const stored = await this.writes.write(target, old, patched, {
      call,
      verb: "patch",
      manager: fieldManagerOf(call),
      dryRun: isDryRun(call),
    });
    send(call, 200, stored);
  }

  remove(call: Call, target: Target, text: string): Promise<void> {
    return untilFresh(() => this.removeOnce(call, target, text));
  }

  private async removeOnce(call: Call, target: Target, text: string): Promise<void> {
    const { info } = target;
    const name = target.name ?? "";
    const old = this.store.get(info, target.namespace, name);
    if (!old) throw notFound(info, name);
    let options: Json = {};
    try {
      if (text.trim()) options = JSON.parse(text) as Json;
    } catch (err) {
      throw badRequest(`error decoding DeleteOptions: ${(err as Error).message}`);
    }
    // Storage checks the uid first, then the resourceVersion (etcd3 store.go checkPreconditions).
    const preconditions = dig(options, "preconditions");
    if (isObject(preconditions)) {
      const uid = str(dig(old, "metadata.uid")) ?? "";
      if (str(preconditions.uid) && preconditions.uid !== uid) {
        throw preconditionFailed(info, target.namespace, name, "UID", String(preconditions.uid), uid);
      }
      const rv = str(dig(old, "metadata.resourceVersion")) ?? "";
      if (str(preconditions.resourceVersion) && preconditions.resourceVersion !== rv) {
        throw preconditionFailed(info, target.namespace, name, "ResourceVersion", String(preconditions.resourceVersion), rv);
      }
    }
    const dryRun = isDryRun(call);
    const deleteOptions: JsonObject = { kind: "DeleteOptions" };
    if (dryRun) deleteOptions.dryRun = ["All"];
    await this.admission.validate({
      target,
      operation: "DELETE",
      oldObject: old,
      user: call.record.user ?? "system:anonymous",
      dryRun,
      options: deleteOptions,
    });
    this.writes.requireUnchanged(target, old);
    const finalizers = dig(old, "metadata.finalizers");
    if (Array.isArray(finalizers) && finalizers.length > 0) {
      // Finalizers hold the object: it is marked for deletion and stays until the last one is removed.
      if (dig(old, "metadata.deletionTimestamp") !== undefined || dryRun) {
        send(call, 200, old);
        return;
      }
      const marked = clone(old);
      const meta = child(marked, "metadata");
      meta.deletionTimestamp = this.clock.timestamp();
      meta.deletionGracePeriodSeconds = 0;
      this.store.commit(info, old, marked);
      this.writes.recordMutation(call, target, "delete", fieldManagerOf(call), marked);
      send(call, 200, marked);
      return;
    }
    if (!dryRun) this.writes.commitDelete(call, target, "delete", old);
    if (info.returnDeletedObject) {
      send(call, 200, old);
      return;
    }
    send(call, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, ...groupOf(info), kind: info.plural, uid: str(dig(old, "metadata.uid")) ?? "" },
    });
  }

  /** Server-side apply (the merge and field ownership are in apply.ts). Creates the object when absent. */
  private async apply(call: Call, target: Target, old: JsonObject | undefined, text: string): Promise<void> {
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
    if (!old) this.writes.requireNamespace(target);
    const rv = str(dig(config, "metadata.resourceVersion"));
    if (old && rv && rv !== dig(old, "metadata.resourceVersion")) throw conflict(info, name);

    const { merged, owners } = serverSideApply(old, config, info, { manager, subresource, force, clock: this.clock });
    const stored = await this.writes.write(target, old, merged, {
      call,
      verb: "apply",
      manager,
      owners,
      dryRun: isDryRun(call),
    });
    send(call, old ? 200 : 201, stored);
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
}

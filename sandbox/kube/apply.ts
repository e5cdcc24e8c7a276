// Server-side apply and managedFields: which field manager owns which fields, the conflicts between them, and
// how an apply configuration merges into the live object. Ported from:
//   kubernetes-sigs/structured-merge-diff v4.4.2, the version Kubernetes v1.32.5 uses (fieldpath/element.go:
//     the FieldsV1 path elements and their String(); merge/update.go: the conflicts an apply meets, and what
//     it removes)
//   kubernetes/apimachinery v0.32.5 (= Kubernetes v1.32.5), pkg/util/managedfields/internal: stripmeta.go's
//     unowned metadata, conflict.go's messages, Update ownership
//
// Paths use the FieldsV1 element syntax: "f:spec", "k:{...}" for an associative-list item, "v:<json>" for a set
// member. A set of paths is a Set of JSON-encoded path arrays. Ownership is tracked on leaves (scalars, atomic
// lists, empty maps) plus list items; that is coarser than structured-merge-diff in places (no ownership of
// non-empty maps) but gives the same conflicts and removals for the objects here.
import type { Clock } from "./clock";
import { StatusError } from "./errors";
import { child, clone, deepEqual, dig, isObject, type Json, type JsonObject } from "./json";
import { mergePrimitiveList } from "./patch";
import { apiVersionOf, type ResourceInfo } from "./resources";

type FieldPath = string[];

export interface Owner {
  manager: string;
  operation: "Apply" | "Update";
  subresource: string;
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

/**
 * Fields nobody owns: identity and server-maintained metadata (stripmeta.go's NewStripMetaManager). The two
 * deletion fields are not in upstream's list; the write path copies them from the stored object anyway.
 */
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
export const parsePath = (key: string): FieldPath => JSON.parse(key) as FieldPath;
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
export function lookup(root: Json, path: FieldPath, info: ResourceInfo): { found: boolean; value?: Json } {
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

export function readOwners(obj: JsonObject | undefined): Owner[] {
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

export function writeOwners(owners: Owner[]): Json[] {
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

export function sameFields(a: Set<string>, b: Set<string>): boolean {
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

/**
 * printManager in conflict.go. Differs from v1.32.5, which prints Apply managers by name alone and Update managers
 * without a time (BuildManagerIdentifier strips it); this prints both with "using <apiVersion>" and Update managers
 * with the time of their last change, as older releases did. See README.md.
 */
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

/**
 * Update-operation ownership: the writer takes every field it changed; removed fields lose all owners. `changed`
 * says whether the writer took any field (managedfieldsupdater.go moves its timestamp only then).
 */
export function ownUpdate(
  owners: Owner[],
  before: JsonObject | undefined,
  after: JsonObject,
  info: ResourceInfo,
  manager: string,
  subresource: string,
  now: string,
): { owners: Owner[]; changed: boolean } {
  const old = leafPaths(before ? ownableView(before, subresource) : {}, info);
  const next = leafPaths(ownableView(after, subresource), info);
  const changed = new Set<string>();
  for (const [key, value] of next) {
    if (!old.has(key) || (!isItemPath(parsePath(key)) && !deepEqual(old.get(key), value))) changed.add(key);
  }

  const removed = [...old.keys()].filter((key) => !next.has(key));
  return { owners: takeFields(owners, changed, removed, info, manager, subresource, now), changed: changed.size > 0 };
}

function takeFields(
  owners: Owner[],
  changed: Set<string>,
  removed: string[],
  info: ResourceInfo,
  manager: string,
  subresource: string,
  now: string,
): Owner[] {
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

/**
 * Server-side apply of `config` by `manager` onto `old` (absent on create): the configuration's fields become the
 * manager's Apply set; a field another manager owns with a different value is a conflict unless `force` (which
 * moves ownership); fields this manager applied before and now omits are removed unless someone else still owns
 * them. Returns the merged object and the owners to record; the write path stores them.
 */
export function serverSideApply(
  old: JsonObject | undefined,
  config: JsonObject,
  info: ResourceInfo,
  opts: { manager: string; subresource: string; force: boolean; clock: Clock },
): { merged: JsonObject; owners: Owner[] } {
  const { manager, subresource } = opts;
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

  if (conflicts.length > 0 && !opts.force) throw applyConflict(conflicts);
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
    time: opts.clock.timestamp(),
    fields: new Set(applied.keys()),
  };
  return { merged, owners: mine ? owners.map((o) => (o === mine ? me : o)) : [...owners, me] };
}

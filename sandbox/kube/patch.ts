// The three patch types a PATCH request can carry besides apply. Ported from:
//   RFC 7386 (JSON merge patch), as evanphx/json-patch v4 (gopkg.in/evanphx/json-patch.v4) implements it for
//     the apiserver's handlers/patch.go
//   staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (kubernetes/kubernetes; versions: README.md)
//   RFC 6902 (JSON patch), as evanphx/json-patch implements it
import { badRequest, StatusError } from "./errors";
import { clone, deepEqual, isObject, type Json, type JsonObject } from "./json";
import type { ResourceInfo } from "./resources";

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, everything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
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
export function strategicMerge(target: Json | undefined, patch: Json, info: ResourceInfo, dotted: string): Json | undefined {
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

export function mergePrimitiveList(current: Json | undefined, patch: Json[]): Json[] {
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
export function jsonPatch(doc: JsonObject, operations: Json): JsonObject {
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

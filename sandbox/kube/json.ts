// JSON values as the apiserver decodes and serialises them, and the small helpers every module uses on them.

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const str = (value: Json | undefined): string | undefined => (typeof value === "string" ? value : undefined);

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
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
export function child(obj: JsonObject, key: string): JsonObject {
  const existing = obj[key];
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  obj[key] = created;
  return created;
}

/** A dotted-path lookup for field selectors and strategies: "involvedObject.kind". */
export function dig(obj: Json | undefined, dotted: string): Json | undefined {
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
export function dropNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
  return out;
}

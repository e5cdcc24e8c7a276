// Label and field selectors for lists and watches. Ported from kubernetes/kubernetes (versions: README.md):
//   staging/src/k8s.io/apimachinery/pkg/labels/selector.go   (Parse: =, ==, !=, in, notin, exists, !key)
//   staging/src/k8s.io/apimachinery/pkg/fields/selector.go   (ParseSelector: =, ==, != only)
//   pkg/registry/core/event/strategy.go                      (ToSelectableFields, the Event field labels)
import type { Call } from "./call";
import { badRequest } from "./errors";
import { dig, isObject, type JsonObject, str } from "./json";
import type { ResourceInfo, Target } from "./resources";

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

export function selectorMatches(
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

export interface Selector {
  info: ResourceInfo;
  namespace?: string;
  labels: Requirement[];
  fields: Requirement[];
}

/** The selector a list or watch request carries in ?labelSelector= and ?fieldSelector=. */
export function selectorOf(call: Call, target: Target): Selector {
  return {
    info: target.info,
    namespace: target.namespace,
    labels: parseLabelSelector(call.url.searchParams.get("labelSelector")),
    fields: parseFieldSelector(target.info, call.url.searchParams.get("fieldSelector")),
  };
}

// The controller's grammar for `alb.ingress.kubernetes.io/*` annotation values, ported from
// kubernetes-sigs/aws-load-balancer-controller v3.5.0: pkg/annotations/parser.go (ParseBoolAnnotation,
// ParseInt32Annotation, ParseStringSliceAnnotation with splitCommaSeparatedString, ParseStringMapAnnotation with
// splitKeyValuePairs) and pkg/ingress/model_build_listener.go (computeIngressListenPorts: encoding/json into
// []map[string]int32, then the range and protocol checks). Failures carry the controller's own texts, because they
// end up in FailedBuildModel events that the product reads.
//
// The product has its own parser of the same grammar (functions/lib/alb-annotation-grammar.ts). The duplication is
// deliberate: the simulator is an independent model of the controller and never imports the product's code, or it
// could not catch the product's mistakes. test/unit/alb-annotation-grammar.test.ts runs one table of the
// controller's cases (test/fixtures/alb-annotation-grammar.json) against both.
import { BuildError, errorText } from "./errors";

export const PREFIX = "alb.ingress.kubernetes.io/";

export type ListenProtocol = "HTTP" | "HTTPS";

/**
 * Go's strings.TrimSpace: Unicode White_Space at both ends. Unlike String.prototype.trim it removes U+0085 and keeps
 * U+FEFF, which is not a space to Go.
 */
function goTrimSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/, "").replace(
    /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/,
    "",
  );
}

/** strconv.Quote, close enough for the values people put in annotations. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** ParseStringSliceAnnotation (splitCommaSeparatedString): split on ',', trim, drop empties. */
export function stringSlice(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(",")
    .map(goTrimSpace)
    .filter((s) => s.length > 0);
}

/**
 * splitKeyValuePairs: `\` takes the next character literally (so `\,` is a comma inside a value). A comma splits only
 * when what follows it contains '='; a comma with only blanks after it stays in the value; a comma followed by text
 * without '=' ends the split and that text becomes one more (invalid) pair.
 */
function splitKeyValuePairs(s: string): string[] {
  const result: string[] = [];
  let current = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && i + 1 < s.length) {
      current += s[i + 1];
      i++;
    } else if (c === ",") {
      const remaining = goTrimSpace(s.slice(i + 1));
      if (remaining.includes("=")) {
        result.push(goTrimSpace(current));
        current = "";
      } else if (remaining.length > 0) {
        result.push(goTrimSpace(current), remaining);
        return result;
      } else {
        current += c;
      }
    } else {
      current += c;
    }
  }
  if (current.length > 0) result.push(goTrimSpace(current));
  return result;
}

/** ParseStringMapAnnotation: `k=v` pairs (see splitKeyValuePairs); a pair without '=' or with an empty key fails. */
export function stringMap(annotation: string, raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of splitKeyValuePairs(raw)) {
    const i = pair.indexOf("=");
    const key = i < 0 ? "" : goTrimSpace(pair.slice(0, i));
    if (key.length === 0) {
      throw new BuildError(`failed to parse stringMap annotation, ${PREFIX}${annotation}: ${raw}`);
    }
    out[key] = goTrimSpace(pair.slice(i + 1));
  }
  return out;
}

/** strconv.ParseBool's spellings. */
const GO_BOOLS = new Map<string, boolean>([
  ["1", true],
  ["t", true],
  ["T", true],
  ["TRUE", true],
  ["true", true],
  ["True", true],
  ["0", false],
  ["f", false],
  ["F", false],
  ["FALSE", false],
  ["false", false],
  ["False", false],
]);

/** ParseBoolAnnotation (strconv.ParseBool). */
export function bool(annotation: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  const value = GO_BOOLS.get(raw);
  if (value === undefined) {
    throw new BuildError(
      `failed to parse bool annotation, ${PREFIX}${annotation}: ${raw}: strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`,
    );
  }
  return value;
}

/** ParseInt32Annotation (strconv.ParseInt(raw, 10, 32)): optional sign, decimal digits, int32 range. */
export function int32(annotation: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const fail = (why: string) =>
    new BuildError(
      `failed to parse int32 annotation, ${PREFIX}${annotation}: ${raw}: strconv.ParseInt: parsing ${goQuote(raw)}: ${why}`,
    );
  if (!/^[+-]?\d+$/.test(raw)) throw fail("invalid syntax");
  const n = Number(raw);
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw fail("value out of range");
  return n === 0 ? 0 : n; // not -0
}

/** The number literals of a valid JSON text in document order: Go keeps them as written, JSON.parse does not. */
function numberLiterals(json: string): string[] {
  return json.replace(/"(?:[^"\\]|\\.)*"/g, '""').match(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g) ?? [];
}

/**
 * encoding/json's SyntaxError text for what JSON.parse refused: the offending character and where the scanner was
 * (encoding/json/scanner.go), or a text cut short. V8 names the place in its own words; the common ones map over.
 */
function goJsonSyntaxError(raw: string, v8Message: string): string {
  const at = /at position (\d+)/.exec(v8Message);
  const ch = at ? raw[Number(at[1])] : /^Unexpected token '(.)'/u.exec(v8Message)?.[1];
  if (ch === undefined) return "unexpected end of JSON input";
  const context = [
    [/after JSON/, "after top-level value"],
    [/after array element/, "after array element"],
    [/after property value/, "after object key:value pair"],
    [/after property name/, "after object key"],
    [/property name/, "looking for beginning of object key string"],
  ] as const;
  const where = context.find(([pattern]) => pattern.test(v8Message))?.[1] ?? "looking for beginning of value";
  return `invalid character '${ch}' ${where}`;
}

/** encoding/json's UnmarshalTypeError.Value: the JSON kind, numbers with their literal. */
function goJsonValue(v: unknown, literal: string | undefined): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return `number ${literal ?? String(v)}`;
  return typeof v;
}

/**
 * computeIngressListenPorts for a present annotation: json.Unmarshal into []map[string]int32 (the first type error
 * wins and is reported after the whole text is decoded; `null` decodes to nothing and a null port to 0), then an
 * empty list is refused, then each port must be in [1, 65535] and each key HTTP or HTTPS. A port listed twice keeps
 * the last protocol.
 */
export function parseListenPorts(raw: string): Map<number, ListenProtocol> {
  const fail = (cause: string) => new BuildError(`failed to parse listen-ports configuration: \`${raw}\`: ${cause}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw fail(goJsonSyntaxError(raw, errorText(e)));
  }
  const literals = numberLiterals(raw);
  let nextLiteral = 0;
  const literalOf = (v: unknown) => (typeof v === "number" ? literals[nextLiteral++] : undefined);
  let typeError: string | undefined;
  const mismatch = (v: unknown, goType: string) => {
    typeError ??= `json: cannot unmarshal ${goJsonValue(v, literalOf(v))} into Go value of type ${goType}`;
  };

  const pairs: [string, number][] = [];
  if (parsed !== null && !Array.isArray(parsed)) mismatch(parsed, "[]map[string]int32");
  for (const entry of Array.isArray(parsed) ? parsed : []) {
    if (entry === null) continue;
    if (typeof entry !== "object" || Array.isArray(entry)) {
      mismatch(entry, "map[string]int32");
      continue;
    }
    for (const [protocol, port] of Object.entries(entry as Record<string, unknown>)) {
      if (port === null) {
        pairs.push([protocol, 0]);
        continue;
      }
      if (typeof port !== "number") {
        mismatch(port, "int32");
        continue;
      }
      const literal = literalOf(port) ?? String(port);
      if (!/^-?\d+$/.test(literal) || port < -(2 ** 31) || port > 2 ** 31 - 1) {
        typeError ??= `json: cannot unmarshal number ${literal} into Go value of type int32`;
        continue;
      }
      pairs.push([protocol, port]);
    }
  }
  if (typeError !== undefined) throw fail(typeError);
  if (!Array.isArray(parsed) || parsed.length === 0) throw new BuildError(`empty listen-ports configuration: \`${raw}\``);

  const out = new Map<number, ListenProtocol>();
  for (const [protocol, port] of pairs) {
    if (port < 1 || port > 65535) throw new BuildError(`listen port must be within [1, 65535]: ${port}`);
    if (protocol !== "HTTP" && protocol !== "HTTPS") {
      throw new BuildError(`listen protocol must be within [HTTP, HTTPS]: ${protocol}`);
    }
    out.set(port, protocol);
  }
  return out;
}

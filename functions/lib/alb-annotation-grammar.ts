// The grammar of `alb.ingress.kubernetes.io/*` annotation values as the AWS Load Balancer Controller reads them, so
// that a value means here what it means to the controller: ported from kubernetes-sigs/aws-load-balancer-controller
// v3.5.0, pkg/annotations/parser.go (strconv.ParseBool, strconv.ParseInt, splitCommaSeparatedString,
// splitKeyValuePairs) and pkg/ingress/model_build_listener.go (computeIngressListenPorts), plus the ELB security
// policies a listener accepts. The per-annotation checks built on it are in alb-annotations.ts.
//
// The sandbox's ALB controller simulator has its own parser of the same grammar (sandbox/alb/annotation-grammar.ts).
// The duplication is deliberate: the simulator is an independent model of the controller, so a mistake here cannot
// hide there. test/unit/alb-annotation-grammar.test.ts runs one table of the controller's own cases
// (test/fixtures/alb-annotation-grammar.json) against both parsers.

/** Shortens a value quoted in a message. */
export function clip(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Go's strings.TrimSpace (Unicode White_Space): unlike String.prototype.trim it removes U+0085 and keeps U+FEFF. */
const GO_SPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, "g");
function goTrim(s: string): string {
  return s.replace(GO_TRIM, "");
}

// ---------------------------------------------------------------------------------------------------------------
// Security policies. From "Security policies for your Application Load Balancer" (ELB user guide) and aws-cdk's
// `SslPolicy` enum (packages/aws-cdk-lib/aws-elasticloadbalancingv2/lib/shared/enums.ts, v2.276.0). Only policies
// whose minimum is TLS 1.2 are accepted: Milvus clients are gRPC libraries that all speak TLS 1.2+, and the older
// protocols only widen the attack surface.

export const allowedSslPolicies: readonly string[] = [
  "ELBSecurityPolicy-TLS13-1-2-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
  "ELBSecurityPolicy-TLS13-1-3-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS-1-2-2017-01",
  "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
  "ELBSecurityPolicy-FS-1-2-2019-08",
  "ELBSecurityPolicy-FS-1-2-Res-2019-08",
  "ELBSecurityPolicy-FS-1-2-Res-2020-10",
];

/** Real ELB policies that still accept TLS 1.0 or 1.1: named so the message can say why they are refused. */
export const legacySslPolicies: ReadonlySet<string> = new Set([
  "ELBSecurityPolicy-2016-08",
  "ELBSecurityPolicy-2015-05",
  "ELBSecurityPolicy-TLS-1-0-2015-04",
  "ELBSecurityPolicy-TLS-1-1-2017-01",
  "ELBSecurityPolicy-FS-2018-06",
  "ELBSecurityPolicy-FS-1-1-2019-08",
  "ELBSecurityPolicy-TLS13-1-0-2021-06",
  "ELBSecurityPolicy-TLS13-1-1-2021-06",
  "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09",
]);

// ---------------------------------------------------------------------------------------------------------------
// Value parsers (pkg/annotations/parser.go).

/** strconv.ParseBool's accepted spellings. */
const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

export function parseGoBool(raw: string): boolean | undefined {
  if (GO_TRUE.has(raw)) return true;
  if (GO_FALSE.has(raw)) return false;
  return undefined;
}

/** strconv.ParseInt(raw, 10, 32): optional sign, decimal digits (leading zeros allowed), no spaces, int32 range. */
export function parseGoInt32(raw: string): number | undefined {
  if (!/^[+-]?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  if (n < -2147483648 || n > 2147483647) return undefined;
  return n === 0 ? 0 : n;
}

/** splitCommaSeparatedString: split on ',', trim, drop empties. */
export function parseStringList(raw: string): string[] {
  return raw
    .split(",")
    .map(goTrim)
    .filter((s) => s.length > 0);
}

/** splitKeyValuePairs + ParseStringMapAnnotation: `k=v` pairs, `\` escapes the next character (e.g. `\,`). */
export function parseStringMap(raw: string): { ok: true; map: Record<string, string> } | { ok: false } {
  const pairs: string[] = [];
  let current = "";
  let done = false;
  for (let i = 0; i < raw.length && !done; i++) {
    const c = raw[i] as string;
    if (c === "\\" && i + 1 < raw.length) {
      current += raw[i + 1];
      i++;
    } else if (c === ",") {
      const remaining = goTrim(raw.slice(i + 1));
      if (remaining.includes("=")) {
        pairs.push(goTrim(current));
        current = "";
      } else if (remaining.length > 0) {
        // The controller ends the split here and keeps the tail as one (invalid, '='-less) pair.
        pairs.push(goTrim(current), remaining);
        current = "";
        done = true;
      } else {
        current += c;
      }
    } else {
      current += c;
    }
  }
  if (!done && current.length > 0) pairs.push(goTrim(current));
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 0) return { ok: false };
    const key = goTrim(pair.slice(0, eq));
    if (key.length === 0) return { ok: false };
    map[key] = goTrim(pair.slice(eq + 1));
  }
  return { ok: true, map };
}

/**
 * computeIngressListenPorts: the JSON is decoded into []map[string]int32 (`null` decodes to nothing, a null port to
 * 0, and a number written with a fraction or exponent is refused even when whole), then an empty list is refused,
 * then every port must be 1-65535 and every key HTTP or HTTPS. A port listed twice keeps its last protocol.
 * Returns port→protocol, or a problem.
 */
export function parseListenPorts(raw: string): Map<number, "HTTP" | "HTTPS"> | string {
  const shape = `must be a JSON list of {"HTTPS": port} or {"HTTP": port} objects, e.g. [{"HTTPS":443}]`;
  const portRange = "listen port must be an integer from 1 to 65535";
  let entries: unknown;
  try {
    entries = JSON.parse(raw);
  } catch {
    return `${shape}; it is not valid JSON`;
  }
  if (entries !== null && !Array.isArray(entries)) return shape;
  // Go decodes numbers from their text: 443.0 or 4.43e2 is not an int32 even though JSON.parse makes it 443.
  if (/\d[.eE]/.test(raw.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) return portRange;
  const pairs: [string, number][] = [];
  for (const entry of entries ?? []) {
    if (entry === null) continue;
    if (typeof entry !== "object" || Array.isArray(entry)) return shape;
    for (const [protocol, port] of Object.entries(entry)) {
      if (port !== null && typeof port !== "number") return portRange;
      pairs.push([protocol, port ?? 0]);
    }
  }
  if (entries === null || entries.length === 0) return `${shape}; the list is empty`;
  const ports = new Map<number, "HTTP" | "HTTPS">();
  for (const [protocol, port] of pairs) {
    if (protocol !== "HTTP" && protocol !== "HTTPS") return `listen protocol must be HTTP or HTTPS, not "${clip(protocol)}"`;
    if (port < 1 || port > 65535) return portRange;
    ports.set(port, protocol);
  }
  return ports;
}

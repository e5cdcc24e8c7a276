// The building blocks of the annotation checks in alb-annotations.ts: small value checks shared by several
// annotations, and the load balancer and target group attributes ELB accepts.
import { clip, parseGoBool, parseGoInt32, parseStringList, parseStringMap } from "./alb-annotation-grammar";

// ---------------------------------------------------------------------------------------------------------------
// Small checks shared by several annotations. Each returns a message, or undefined when the value is fine.

export type Check = (value: string, all: Readonly<Record<string, string>>) => string | undefined;

export const boolean: Check = (v) => (parseGoBool(v) === undefined ? "must be true or false" : undefined);

export function intRange(min: number, max: number, unit = ""): Check {
  return (v) => {
    const n = parseGoInt32(v);
    return n === undefined || n < min || n > max ? `must be an integer from ${min} to ${max}${unit}` : undefined;
  };
}

export function oneOf(...values: string[]): Check {
  return (v) => (values.includes(v) ? undefined : `must be one of ${values.join(", ")}`);
}

export function listOf(item: (s: string) => boolean, what: string): Check {
  return (v) => {
    const items = parseStringList(v);
    if (items.length === 0) return `must be a comma-separated list of ${what}`;
    const bad = items.find((s) => !item(s));
    return bad === undefined ? undefined : `must be a comma-separated list of ${what}; "${clip(bad)}" is not one`;
  };
}

export function json(kind: "object" | "array", check?: (parsed: unknown) => string | undefined): Check {
  return (v) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return `must be a JSON ${kind}; it is not valid JSON`;
    }
    const isArray = Array.isArray(parsed);
    const isObject = typeof parsed === "object" && parsed !== null && !isArray;
    if (kind === "array" ? !isArray : !isObject) return `must be a JSON ${kind}`;
    return check?.(parsed);
  };
}

export function stringMap(checkEntry?: (key: string, value: string) => string | undefined): Check {
  return (v) => {
    const parsed = parseStringMap(v);
    if (!parsed.ok) return "must be a comma-separated list of key=value pairs (escape a literal comma as \\,)";
    if (checkEntry === undefined) return undefined;
    for (const [key, value] of Object.entries(parsed.map)) {
      const problem = checkEntry(key, value);
      if (problem) return problem;
    }
    return undefined;
  };
}

// Identifiers of AWS resources (EC2 IDs are 8 or 17 hex digits).
export const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d+";
export const isSubnetRef = (s: string) => /^subnet-[0-9a-f]{8,17}$/.test(s) || isTagValue(s);
export const isSecurityGroupRef = (s: string) => /^sg-[0-9a-f]{8,17}$/.test(s) || isTagValue(s);
export const isPrefixListId = (s: string) => /^pl-[0-9a-f]{8,17}$/.test(s);
export const isEipAllocation = (s: string) => /^eipalloc-[0-9a-f]{8,17}$/.test(s);
const isTagValue = (s: string) => s.length >= 1 && s.length <= 256 && /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(s);

export function isCidr(s: string): boolean {
  const slash = s.indexOf("/");
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) {
    return n <= 32 && addr.split(".").every((o) => Number(o) <= 255 && (o === "0" || !o.startsWith("0")));
  }
  return n <= 128 && isIpv6(addr);
}

function isIpv6(addr: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(addr)) return false;
  const halves = addr.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const parts = halves.flatMap(groups);
  let count = 0;
  for (const [i, p] of parts.entries()) {
    if (i === parts.length - 1 && p.includes(".")) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(p) || p.split(".").some((o) => Number(o) > 255)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

/** AWS tag rules (ELB AddTags): key 1–128, value 0–256, letters/digits/spaces and _ . : / = + - @; no aws: keys. */
export function tagEntry(key: string, value: string): string | undefined {
  const chars = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  if (key.length > 128 || !chars.test(key)) {
    return `tag key "${clip(key)}" must be 1-128 letters, digits, spaces or _ . : / = + - @`;
  }
  if (value.length > 256 || !chars.test(value)) {
    return `tag value for "${clip(key)}" must be at most 256 letters, digits, spaces or _ . : / = + - @`;
  }
  if (key.toLowerCase().startsWith("aws:")) return `tag key "${clip(key)}" must not start with aws: (reserved by AWS)`;
  // The controller tags everything it creates with these and finds its resources by them
  // (pkg/deploy/tracking/provider.go, trackingTagKeys in pkg/config/controller_config.go).
  if (/^(elbv2\.k8s\.aws|ingress\.k8s\.aws|service\.k8s\.aws)\//.test(key)) {
    return `tag key "${clip(key)}" is reserved: the controller tracks its resources with it`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Load balancer and target group attributes (ELBv2 API reference: LoadBalancerAttribute, TargetGroupAttribute).
// Unknown attribute keys are refused: ELB would reject them only when the controller deploys the model.

const bucketName = (v: string) =>
  /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) && !v.includes("..")
    ? undefined
    : "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'";

export const loadBalancerAttributes: Record<string, Check> = {
  "deletion_protection.enabled": boolean,
  "load_balancing.cross_zone.enabled": (v) =>
    parseGoBool(v) === true ? undefined : "is always true on an Application Load Balancer and cannot be changed",
  "access_logs.s3.enabled": boolean,
  "access_logs.s3.bucket": bucketName,
  "access_logs.s3.prefix": () => undefined,
  "connection_logs.s3.enabled": boolean,
  "connection_logs.s3.bucket": bucketName,
  "connection_logs.s3.prefix": () => undefined,
  "health_check_logs.s3.enabled": boolean,
  "health_check_logs.s3.bucket": bucketName,
  "health_check_logs.s3.prefix": () => undefined,
  "ipv6.deny_all_igw_traffic": boolean,
  "zonal_shift.config.enabled": boolean,
  "idle_timeout.timeout_seconds": intRange(1, 4000, " seconds"),
  "client_keep_alive.seconds": intRange(60, 604800, " seconds"),
  "routing.http.desync_mitigation_mode": oneOf("monitor", "defensive", "strictest"),
  "routing.http.drop_invalid_header_fields.enabled": boolean,
  "routing.http.preserve_host_header.enabled": boolean,
  "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": boolean,
  "routing.http.xff_client_port.enabled": boolean,
  "routing.http.xff_header_processing.mode": oneOf("append", "preserve", "remove"),
  // gRPC runs over HTTP/2; an ALB with HTTP/2 off answers Milvus clients over HTTP/1.1 and every call fails.
  "routing.http2.enabled": (v) =>
    parseGoBool(v) === true ? undefined : "must be true: Milvus clients speak gRPC, which needs HTTP/2",
  "waf.fail_open.enabled": boolean,
};

const percentOrOff = (v: string) =>
  v === "off" || intRange(1, 100)(v, {}) === undefined ? undefined : "must be off or an integer from 1 to 100";
const countOrOff = (v: string) =>
  v === "off" || intRange(1, 2147483647)(v, {}) === undefined ? undefined : "must be off or a positive integer";

export const targetGroupAttributes: Record<string, Check> = {
  "deregistration_delay.timeout_seconds": intRange(0, 3600, " seconds"),
  "stickiness.enabled": boolean,
  "stickiness.type": oneOf("lb_cookie", "app_cookie"),
  "stickiness.lb_cookie.duration_seconds": intRange(1, 604800, " seconds"),
  "stickiness.app_cookie.duration_seconds": intRange(1, 604800, " seconds"),
  "stickiness.app_cookie.cookie_name": (v) =>
    /^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,64}$/.test(v) && !/^AWSALB/i.test(v)
      ? undefined
      : "must be a cookie name (letters, digits, !#$%&'*+-.^_`|~) not starting with AWSALB",
  "slow_start.duration_seconds": (v) =>
    v === "0" || intRange(30, 900)(v, {}) === undefined ? undefined : "must be 0 (off) or an integer from 30 to 900 seconds",
  "load_balancing.algorithm.type": oneOf("round_robin", "least_outstanding_requests", "weighted_random"),
  "load_balancing.algorithm.anomaly_mitigation": oneOf("on", "off"),
  "load_balancing.cross_zone.enabled": oneOf("true", "false", "use_load_balancer_configuration"),
  "target_group_health.dns_failover.minimum_healthy_targets.count": countOrOff,
  "target_group_health.dns_failover.minimum_healthy_targets.percentage": percentOrOff,
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": (v) =>
    intRange(1, 2147483647)(v, {}) === undefined ? undefined : "must be a positive integer",
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": percentOrOff,
};

export function attributeMap(kind: string, known: Record<string, Check>): Check {
  return stringMap((key, value) => {
    const check = known[key];
    if (check === undefined) {
      return `"${clip(key, 80)}" is not an Application Load Balancer ${kind} attribute; allowed: ${Object.keys(known).join(", ")}`;
    }
    const problem = check(value, {});
    return problem ? `${key} ${problem}` : undefined;
  });
}


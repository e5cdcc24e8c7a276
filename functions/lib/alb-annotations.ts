// Validation of the `alb.ingress.kubernetes.io/*` annotations a request may add to the Ingress.
//
// The AWS Load Balancer Controller only reports a bad annotation as a Warning event (`FailedBuildModel` /
// `FailedDeployModel`) on the Ingress, after we have applied it, and ELB rejects some values (a `'200'` success
// code on a GRPC target group) only when the controller calls it. A bad request must be rejected before anything
// is changed (docs/request.md), so this module re-checks what the controller and ELB would refuse. The value grammar
// (bool, int, lists, key=value maps, listen-ports, security policies) is in alb-annotation-grammar.ts. Sources, from
// kubernetes-sigs/aws-load-balancer-controller v3.5.0:
//   - docs/guide/ingress/annotations.md: the documented annotation set, types and examples;
//   - pkg/annotations/constants.go: the suffixes;
//   - pkg/ingress/model_build_listener.go: computeIngressExplicitInboundCIDRs, validateMutualAuthenticationConfig;
//   - pkg/ingress/model_build_target_group.go: backend protocol, health-check protocol/path/matcher/intervals;
//   - pkg/ingress/model_build_load_balancer.go: ip-address-type; pkg/ingress/group_loader.go: group.name/order;
//   - pkg/ingress/model_builder.go: buildSSLRedirectConfig; pkg/ingress/config_types.go: actions/conditions/
//     transforms JSON; pkg/ingress/model_build_tags.go + pkg/config/controller_config.go: tracking tag keys.
// Ranges the controller passes through unchecked come from the ELBv2 API reference (CreateTargetGroup,
// LoadBalancerAttribute, TargetGroupAttribute) and "Security policies for your Application Load Balancer".

import { allowedSslPolicies, clip, legacySslPolicies, parseGoInt32, parseListenPorts, parseStringMap } from "./alb-annotation-grammar";
import { type Check, REGION, attributeMap, boolean, intRange, isCidr, isEipAllocation, isPrefixListId, isSecurityGroupRef, isSubnetRef, json, listOf, loadBalancerAttributes, oneOf, stringMap, tagEntry, targetGroupAttributes } from "./alb-annotation-checks";

// Importers read these from here, with the checks that use them.
export { allowedSslPolicies, parseStringMap };

export const ALB_ANNOTATION_PREFIX = "alb.ingress.kubernetes.io/";

/** One problem with one annotation; `key` is the whole annotation key. */
export interface AnnotationIssue {
  key: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------------------------
// What milvus-l7 sets itself.

/** Annotations milvus-l7 writes on every Ingress; a request may not set them, because they carry its guarantees. */
export const milvusL7OwnedAnnotations: Readonly<Record<string, string>> = {
  [`${ALB_ANNOTATION_PREFIX}scheme`]: "is set by milvus-l7 from ingress.scheme; set ingress.scheme instead",
  [`${ALB_ANNOTATION_PREFIX}certificate-arn`]:
    "is set by milvus-l7 to the certificate it imports or uses; set certificate.arn / certificate.source instead",
  [`${ALB_ANNOTATION_PREFIX}backend-protocol-version`]:
    "is set by milvus-l7 to GRPC, the protocol Milvus speaks; it cannot be changed",
  [`${ALB_ANNOTATION_PREFIX}target-type`]:
    "is set by milvus-l7 to ip: the ALB must reach the Milvus pods directly so the Service can become ClusterIP",
  [`${ALB_ANNOTATION_PREFIX}create-acm-cert`]:
    "is not allowed: milvus-l7 manages the certificate (certificate.arn / certificate.source), the controller must not create one",
  [`${ALB_ANNOTATION_PREFIX}acm-pca-arn`]:
    "is not allowed: milvus-l7 manages the certificate (certificate.arn / certificate.source), the controller must not create one",
};

/**
 * ALB idle timeout for Milvus. ELB's default is 60 s, and the ALB does not count HTTP/2 PINGs as activity,
 * so gRPC keepalives cannot hold a connection open: any Milvus call that sends nothing for a minute
 * while the server works (a large search or query, a synchronous flush, create_index/load waits, a bulk insert)
 * is cut with a reset and surfaces as UNAVAILABLE. Five minutes covers those calls; much longer only keeps idle
 * client connections pinned on the ALB.
 */
export const MILVUS_IDLE_TIMEOUT_SECONDS = 300;

/** The TLS 1.2 + 1.3 policy (ELB's own default, ELBSecurityPolicy-2016-08, still allows TLS 1.0). */
export const MILVUS_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * Annotations milvus-l7 adds unless the request sets them. `listen-ports` mirrors the Milvus doc (HTTPS 443 only);
 * a request's `load-balancer-attributes` is merged attribute by attribute (see {@link withMilvusL7Defaults}), so
 * adding access logs does not drop the idle timeout.
 */
export const milvusL7Defaults: Readonly<Record<string, string>> = {
  [`${ALB_ANNOTATION_PREFIX}ssl-policy`]: MILVUS_SSL_POLICY,
  [`${ALB_ANNOTATION_PREFIX}load-balancer-attributes`]: `idle_timeout.timeout_seconds=${MILVUS_IDLE_TIMEOUT_SECONDS}`,
  [`${ALB_ANNOTATION_PREFIX}listen-ports`]: '[{"HTTPS":443}]',
};

/** The request's (validated) annotations with milvus-l7's defaults filled in. */
export function withMilvusL7Defaults(annotations: Readonly<Record<string, string>>): Record<string, string> {
  const merged: Record<string, string> = { ...milvusL7Defaults, ...annotations };
  const lbKey = `${ALB_ANNOTATION_PREFIX}load-balancer-attributes`;
  const requested = annotations[lbKey];
  if (requested !== undefined) {
    const parsed = parseStringMap(requested);
    if (parsed.ok && !Object.hasOwn(parsed.map, "idle_timeout.timeout_seconds")) {
      // Put ours first: the controller's splitter treats `\` as an escape, so appending after a value that ends
      // in a backslash would glue the two pairs together.
      merged[lbKey] = `idle_timeout.timeout_seconds=${MILVUS_IDLE_TIMEOUT_SECONDS},${requested}`;
    }
  }
  return merged;
}

/** HTTPS ports the ALB will listen on for these annotations (after defaults): where verify-connection must connect. */
export function httpsListenPorts(annotations: Readonly<Record<string, string>>): number[] {
  const parsed = effectiveListenPorts(annotations);
  if (!parsed) return [443];
  return [...parsed.entries()].filter(([, proto]) => proto === "HTTPS").map(([port]) => port);
}

// ---------------------------------------------------------------------------------------------------------------
// Health checks. milvus-l7 always creates a GRPC target group (backend-protocol-version: GRPC), so the matcher
// is a gRPC code and the path a gRPC method (model_build_target_group.go buildTargetGroupHealthCheckMatcher
// passes success-codes straight into Matcher.GrpcCode; ELB: "values between 0 and 99").

/** Defaults the controller applies when an annotation is absent (annotations.md table). */
const HEALTHCHECK_DEFAULTS = { interval: 15, timeout: 5 };

const grpcSuccessCodes: Check = (v) => {
  const msg =
    "must be gRPC status codes from 0 to 99 (the target group is GRPC): one code (12), a list (0,12) or a range (0-99); HTTP codes such as 200 are rejected by ELB";
  const single = /^\d{1,2}$/;
  if (single.test(v)) return undefined;
  if (/^\d{1,2}(,\d{1,2})+$/.test(v)) return undefined;
  const range = /^(\d{1,2})-(\d{1,2})$/.exec(v);
  if (range && Number(range[1]) <= Number(range[2])) return undefined;
  return msg;
};

const httpSuccessCodes: Check = (v) => {
  const codes = /^(\d{3})(?:-(\d{3})|(?:,\d{3})*)$/.exec(v);
  const ok =
    codes !== null &&
    v.split(/[,-]/).every((c) => Number(c) >= 200 && Number(c) <= 599) &&
    (codes[2] === undefined || Number(codes[1]) <= Number(codes[2]));
  return ok ? undefined : "must be HTTP status codes from 200 to 599: one code (200), a list (200,202) or a range (200-299)";
};

const grpcHealthCheckPath: Check = (v) =>
  /^\/[A-Za-z_][A-Za-z0-9_.]*\/[A-Za-z_][A-Za-z0-9_]*$/.test(v) && v.length <= 1024
    ? undefined
    : "must be a gRPC method path /package.Service/Method (the target group is GRPC), e.g. /AWS.ALB/healthcheck";

const healthCheckPort: Check = (v) => {
  if (v === "traffic-port") return undefined;
  const n = parseGoInt32(v);
  if (n !== undefined && n >= 1 && n <= 65535) return undefined;
  // buildTargetGroupHealthCheckPort: a named port needs a numeric targetPort with target-type ip, and the Milvus
  // chart's targetPort is the name "milvus".
  return "must be traffic-port or a port number from 1 to 65535 (a named port does not work with target-type ip)";
};

function effectiveInt(all: Readonly<Record<string, string>>, suffix: string, fallback: number): number {
  const raw = all[ALB_ANNOTATION_PREFIX + suffix];
  const n = raw === undefined ? undefined : parseGoInt32(raw);
  return n ?? fallback;
}

/** ELB: "The timeout must be smaller than the interval." Checked with the controller's defaults for the missing one. */
const healthCheckTimeout: Check = (v, all) => {
  const range = intRange(2, 120, " seconds")(v, all);
  if (range) return range;
  const interval = effectiveInt(all, "healthcheck-interval-seconds", HEALTHCHECK_DEFAULTS.interval);
  const source = `${ALB_ANNOTATION_PREFIX}healthcheck-interval-seconds` in all ? "" : ", the default";
  return Number(v) < interval ? undefined : `must be less than healthcheck-interval-seconds (${interval}${source})`;
};

const healthCheckInterval: Check = (v, all) => {
  const range = intRange(5, 300, " seconds")(v, all);
  if (range) return range;
  if (`${ALB_ANNOTATION_PREFIX}healthcheck-timeout-seconds` in all) return undefined; // reported on the timeout
  return Number(v) > HEALTHCHECK_DEFAULTS.timeout
    ? undefined
    : `must be greater than healthcheck-timeout-seconds (${HEALTHCHECK_DEFAULTS.timeout}, the default)`;
};

// ---------------------------------------------------------------------------------------------------------------
// Listeners.

function effectiveListenPorts(all: Readonly<Record<string, string>>): Map<number, "HTTP" | "HTTPS"> | undefined {
  const raw = all[`${ALB_ANNOTATION_PREFIX}listen-ports`] ?? milvusL7Defaults[`${ALB_ANNOTATION_PREFIX}listen-ports`];
  const parsed = raw === undefined ? undefined : parseListenPorts(raw);
  return typeof parsed === "string" ? undefined : parsed;
}

/** A port listed with both protocols: the controller silently keeps the last one, which is rarely what was meant. */
function portListedTwice(raw: string): number | undefined {
  const seen = new Map<unknown, string>();
  for (const entry of JSON.parse(raw) as (Record<string, unknown> | null)[]) {
    for (const [protocol, port] of Object.entries(entry ?? {})) {
      const before = seen.get(port);
      if (before !== undefined && before !== protocol) return port as number;
      seen.set(port, protocol);
    }
  }
  return undefined;
}

const listenPorts: Check = (v, all) => {
  const parsed = parseListenPorts(v);
  if (typeof parsed === "string") return parsed;
  const twice = portListedTwice(v);
  if (twice !== undefined) return `port ${twice} is listed twice (HTTP and HTTPS); the controller would keep only the last`;
  // Milvus clients connect with TLS (functions/verify-connection); without an HTTPS listener nothing would serve them.
  if (![...parsed.values()].includes("HTTPS")) return `must include an HTTPS listener, e.g. [{"HTTPS":443}]`;
  // Without ssl-redirect the controller forwards an HTTP listener to the same target group, which is GRPC
  // (backend-protocol-version): ELB only lets HTTPS listeners forward to GRPC target groups.
  const http = [...parsed.entries()].find(([, protocol]) => protocol === "HTTP")?.[0];
  if (http !== undefined && !(`${ALB_ANNOTATION_PREFIX}ssl-redirect` in all)) {
    return `lists an HTTP listener (${http}) without ${ALB_ANNOTATION_PREFIX}ssl-redirect: it would forward plaintext to Milvus's gRPC target group, which an ALB accepts only behind HTTPS; add ssl-redirect to an HTTPS port, or drop the HTTP listener`;
  }
  return undefined;
};

/**
 * ALB authentication (OIDC, Cognito) answers an unauthenticated request with a redirect to the identity provider's
 * login page: a browser follows it, a gRPC client (every Milvus SDK) only sees an error.
 */
const authType: Check = (v) => {
  if (v === "none") return undefined;
  if (v === "oidc" || v === "cognito") {
    return `must be none: ${v} makes the ALB redirect unauthenticated requests to a login page, which gRPC clients (the Milvus SDKs) cannot follow; use Milvus's own authentication (milvus.credentials) instead`;
  }
  return "must be none";
};

const sslRedirect: Check = (v, all) => {
  const n = parseGoInt32(v);
  if (n === undefined || n < 1 || n > 65535) return "must be a port number from 1 to 65535";
  const ports = effectiveListenPorts(all);
  if (ports && ports.get(n) !== "HTTPS") return `must be one of the HTTPS ports in listen-ports; ${n} is not`;
  return undefined;
};

const sslPolicy: Check = (v) => {
  if (allowedSslPolicies.includes(v)) return undefined;
  if (legacySslPolicies.has(v)) {
    return `allows TLS 1.0/1.1; milvus-l7 requires TLS 1.2 or later: use one of ${allowedSslPolicies.join(", ")}`;
  }
  return `must be an ELB security policy with TLS 1.2 or later: one of ${allowedSslPolicies.join(", ")}`;
};

const mutualAuthentication: Check = (v, all) =>
  json("array", (parsed) => {
    const ports = effectiveListenPorts(all);
    for (const entry of parsed as unknown[]) {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        return `must be a JSON list of {"port": <HTTPS port>, "mode": "off"|"passthrough"|"verify", "trustStore": ...} objects`;
      }
      const e = entry as Record<string, unknown>;
      if (typeof e.port !== "number" || (ports && ports.get(e.port) !== "HTTPS")) {
        return "each entry's port must be one of the HTTPS ports in listen-ports";
      }
      // model_build_listener.go validateMutualAuthenticationConfig: mode is required; trustStore and
      // ignoreClientCertificateExpiry belong to verify only.
      if (e.mode !== "off" && e.mode !== "passthrough" && e.mode !== "verify") {
        return "each entry's mode must be off, passthrough or verify";
      }
      if (e.mode === "verify" && (typeof e.trustStore !== "string" || e.trustStore.length === 0)) {
        return "an entry with mode verify needs a trustStore (ARN or name)";
      }
      if (e.mode !== "verify" && (e.trustStore !== undefined || e.ignoreClientCertificateExpiry !== undefined)) {
        return `an entry with mode ${e.mode} takes no trustStore and no ignoreClientCertificateExpiry (verify only)`;
      }
      if (e.ignoreClientCertificateExpiry !== undefined && typeof e.ignoreClientCertificateExpiry !== "boolean") {
        return "ignoreClientCertificateExpiry must be true or false";
      }
    }
    return undefined;
  })(v, all);

// ---------------------------------------------------------------------------------------------------------------
// actions / conditions / transforms JSON (pkg/ingress/config_types.go).

const actionJson = json("object", (parsed) => {
  const a = parsed as Record<string, unknown>;
  switch (a.type) {
    case "fixed-response":
      return typeof a.fixedResponseConfig === "object" && a.fixedResponseConfig !== null
        ? undefined
        : "a fixed-response action needs fixedResponseConfig";
    case "redirect":
      return typeof a.redirectConfig === "object" && a.redirectConfig !== null
        ? undefined
        : "a redirect action needs redirectConfig";
    case "forward": {
      const byTg = a.targetGroupARN != null || a.targetGroupName != null;
      if (!byTg && a.forwardConfig == null) return "a forward action needs forwardConfig or targetGroupARN/targetGroupName";
      if (byTg && a.forwardConfig != null) return "a forward action takes forwardConfig or targetGroupARN/targetGroupName, not both";
      return undefined;
    }
    default:
      return `must be a JSON action object whose "type" is forward, redirect or fixed-response`;
  }
});

const CONDITION_FIELDS = ["http-header", "http-request-method", "host-header", "path-pattern", "query-string", "source-ip"];
const conditionsJson = json("array", (parsed) => {
  for (const c of parsed as unknown[]) {
    const field = typeof c === "object" && c !== null ? (c as Record<string, unknown>).field : undefined;
    if (typeof field !== "string" || !CONDITION_FIELDS.includes(field)) {
      return `must be a JSON list of conditions whose "field" is one of ${CONDITION_FIELDS.join(", ")}`;
    }
  }
  return undefined;
});

const transformsJson = json("array", (parsed) => {
  for (const t of parsed as unknown[]) {
    const type = typeof t === "object" && t !== null ? (t as Record<string, unknown>).type : undefined;
    if (type !== "url-rewrite" && type !== "host-header-rewrite") {
      return `must be a JSON list of transforms whose "type" is url-rewrite or host-header-rewrite`;
    }
  }
  return undefined;
});

// ---------------------------------------------------------------------------------------------------------------
// The documented Ingress annotation set (docs/guide/ingress/annotations.md, "Annotations" table), by suffix.

const anyText: Check = () => undefined;
const wafArnOrNone: Check = (v) =>
  v === "none" ||
  new RegExp(`^arn:aws[a-z-]*:wafv2:${REGION}:\\d{12}:regional/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}$`).test(v)
    ? undefined
    : "must be a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>) or none";

const exactAnnotations: Record<string, Check> = {
  "load-balancer-name": (v) =>
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(v) && !v.startsWith("internal-")
      ? undefined
      : "must be 1-32 letters, digits and '-', not starting or ending with '-' nor starting with internal-",
  // group_loader.go validateGroupName.
  "group.name": (v) =>
    /^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$/.test(v) && v.length <= 63
      ? undefined
      : "must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 63 characters",
  "group.order": intRange(-1000, 1000),
  tags: stringMap(tagEntry),
  "ip-address-type": oneOf("ipv4", "dualstack", "dualstack-without-public-ipv4"),
  subnets: listOf(isSubnetRef, "subnet IDs (subnet-…) or Name tags"),
  "security-groups": listOf(isSecurityGroupRef, "security group IDs (sg-…) or Name tags"),
  "manage-backend-security-group-rules": boolean,
  "customer-owned-ipv4-pool": (v) =>
    /^ipv4pool-coip-[0-9a-f]{8,17}$/.test(v) ? undefined : "must be a customer-owned IPv4 pool ID (ipv4pool-coip-…)",
  "load-balancer-attributes": attributeMap("load balancer", loadBalancerAttributes),
  "wafv2-acl-arn": wafArnOrNone,
  "wafv2-acl-name": (v) => (/^[A-Za-z0-9_-]{1,128}$/.test(v) ? undefined : "must be a WAFv2 web ACL name: 1-128 letters, digits, '_' and '-'"),
  "waf-acl-id": (v) =>
    v === "none" || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v)
      ? undefined
      : "must be a WAF Classic web ACL ID (a UUID) or none",
  "shield-advanced-protection": boolean,
  "listen-ports": listenPorts,
  "ssl-redirect": sslRedirect,
  "inbound-cidrs": listOf(isCidr, "CIDR blocks such as 10.0.0.0/16 or ::/0"),
  "security-group-prefix-lists": listOf(isPrefixListId, "managed prefix list IDs (pl-…)"),
  "ssl-policy": sslPolicy,
  "backend-protocol": oneOf("HTTP", "HTTPS"),
  "target-group-attributes": attributeMap("target group", targetGroupAttributes),
  "healthcheck-port": healthCheckPort,
  "healthcheck-protocol": oneOf("HTTP", "HTTPS"),
  "healthcheck-path": grpcHealthCheckPath,
  "healthcheck-interval-seconds": healthCheckInterval,
  "healthcheck-timeout-seconds": healthCheckTimeout,
  "healthy-threshold-count": intRange(2, 10),
  "unhealthy-threshold-count": intRange(2, 10),
  "success-codes": grpcSuccessCodes,
  "auth-type": authType,
  "auth-idp-cognito": json("object"),
  "auth-idp-oidc": json("object"),
  "auth-on-unauthenticated-request": oneOf("authenticate", "allow", "deny"),
  "auth-scope": (v) => (/^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(v) ? undefined : "must be space-separated scope names"),
  "auth-session-cookie": (v) =>
    /^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,64}$/.test(v) ? undefined : "must be a cookie name (letters, digits, !#$%&'*+-.^_`|~)",
  "auth-session-timeout": intRange(1, 604800, " seconds"),
  "jwt-validation": json("object"),
  "use-regex-path-match": boolean,
  "target-node-labels": stringMap(),
  "mutual-authentication": mutualAuthentication,
  "multi-cluster-target-group": boolean,
  "minimum-load-balancer-capacity": stringMap((k, v) =>
    k === "CapacityUnits" && parseGoInt32(v) !== undefined && Number(v) >= 0
      ? undefined
      : "must be CapacityUnits=<non-negative integer>",
  ),
  "ipam-ipv4-pool-id": (v) => (/^ipam-pool-[0-9a-f]{8,17}$/.test(v) ? undefined : "must be an IPAM pool ID (ipam-pool-…)"),
  "enable-frontend-nlb": boolean,
  "frontend-nlb-scheme": oneOf("internal", "internet-facing"),
  "frontend-nlb-subnets": listOf(isSubnetRef, "subnet IDs (subnet-…) or Name tags"),
  "frontend-nlb-security-groups": listOf(isSecurityGroupRef, "security group IDs (sg-…) or Name tags"),
  "frontend-nlb-listener-port-mapping": stringMap((k, v) =>
    [k, v].every((p) => {
      const n = parseGoInt32(p);
      return n !== undefined && n >= 1 && n <= 65535;
    })
      ? undefined
      : "must be <nlb port>=<alb port> pairs of port numbers",
  ),
  "frontend-nlb-healthcheck-port": healthCheckPort,
  "frontend-nlb-healthcheck-protocol": oneOf("HTTP", "HTTPS"),
  "frontend-nlb-healthcheck-path": (v) =>
    /^\/[\x21-\x7e]{0,1023}$/.test(v) ? undefined : "must be an HTTP path starting with '/', at most 1024 characters",
  "frontend-nlb-healthcheck-interval-seconds": intRange(5, 300, " seconds"),
  "frontend-nlb-healthcheck-timeout-seconds": intRange(2, 120, " seconds"),
  "frontend-nlb-healthcheck-healthy-threshold-count": intRange(2, 10),
  "frontend-nlb-healthcheck-unhealthy-threshold-count": intRange(2, 10),
  "frontend-nlb-healthcheck-success-codes": httpSuccessCodes,
  "frontend-nlb-attributes": stringMap(),
  "frontend-nlb-tags": stringMap(tagEntry),
  "frontend-nlb-eip-allocations": listOf(isEipAllocation, "Elastic IP allocation IDs (eipalloc-…)"),
  // Owned by milvus-l7: present so they count as documented; refused before their value is looked at.
  scheme: anyText,
  "certificate-arn": anyText,
  "backend-protocol-version": anyText,
  "target-type": anyText,
  "create-acm-cert": anyText,
  "acm-pca-arn": anyText,
};

/** Documented annotations whose suffix carries a name: `${prefix}.${name}`. */
const patternAnnotations: { pattern: RegExp; doc: string; check: Check }[] = [
  { pattern: /^actions\.[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, doc: "actions.<action-name>", check: actionJson },
  { pattern: /^conditions\.[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, doc: "conditions.<conditions-name>", check: conditionsJson },
  { pattern: /^transforms\.[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, doc: "transforms.<transforms-name>", check: transformsJson },
  {
    pattern: /^listener-attributes\.(HTTP|HTTPS)-\d{1,5}$/,
    doc: "listener-attributes.<Protocol>-<Port>",
    check: stringMap((k) => (/^[a-z0-9_.]+$/.test(k) ? undefined : `"${clip(k)}" is not a listener attribute name`)),
  },
  {
    pattern: /^target-control-port\.[a-z]([-a-z0-9]*[a-z0-9])?\.\d{1,5}$/,
    doc: "target-control-port.<serviceName>.<servicePort>",
    check: intRange(1, 65535),
  },
];

/** Every documented Ingress annotation key (patterns spelled as in the docs), for messages and for the docs. */
export const documentedAlbAnnotations: readonly string[] = [
  ...Object.keys(exactAnnotations),
  ...patternAnnotations.map((p) => p.doc),
].map((s) => ALB_ANNOTATION_PREFIX + s);

// ---------------------------------------------------------------------------------------------------------------

/** Kubernetes annotation key name part (apimachinery IsQualifiedName): ≤63, alphanumeric at both ends. */
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/**
 * Values reach kubectl output, logs and operators' terminals. None of the controller's formats needs shell
 * substitution syntax, so refuse it outright rather than hope every consumer quotes correctly.
 */
const SHELL_SUBSTITUTION = /\$\(|\$\{|`/;

function closest(suffix: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of Object.keys(exactAnnotations)) {
    // A truncated key (healthcheck-interval) is as likely as a misspelt one (sucess-codes).
    const d = name.startsWith(suffix) && suffix.length >= 6 ? 1 : editDistance(suffix, name);
    if (d <= 3 && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * Checks `ingress.annotations` the way the controller (and ELB behind it) would, for the Ingress milvus-l7
 * builds: a GRPC, ip-target, HTTPS target group behind the request's host. Non-string values are reported too,
 * so one call lists every problem.
 */
export function validateAlbAnnotations(annotations: Readonly<Record<string, unknown>>): AnnotationIssue[] {
  const issues: AnnotationIssue[] = [];
  const strings: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (typeof value === "string") strings[key] = value;
  }
  for (const [key, value] of Object.entries(annotations)) {
    const problem = checkOne(key, value, strings);
    if (problem) issues.push({ key, message: problem });
  }
  return issues;
}

function checkOne(key: string, value: unknown, all: Readonly<Record<string, string>>): string | undefined {
  if (!key.startsWith(ALB_ANNOTATION_PREFIX)) {
    return `only ${ALB_ANNOTATION_PREFIX}* annotations are accepted: milvus-l7 owns the rest of the Ingress`;
  }
  const suffix = key.slice(ALB_ANNOTATION_PREFIX.length);
  if (!QUALIFIED_NAME.test(suffix) || suffix.length > 63) {
    return "is not a valid annotation key: the part after the prefix must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
  }
  const owned = milvusL7OwnedAnnotations[key];
  if (owned) return owned;
  const check = exactAnnotations[suffix] ?? patternAnnotations.find((p) => p.pattern.test(suffix))?.check;
  if (check === undefined) {
    const hint = closest(suffix);
    return `is not a documented AWS Load Balancer Controller Ingress annotation${hint ? ` (did you mean ${ALB_ANNOTATION_PREFIX}${hint}?)` : ""}; see docs/guide/ingress/annotations.md`;
  }
  if (typeof value !== "string") return "must be a string (quote numbers and booleans, e.g. \"10\", \"true\")";
  if (SHELL_SUBSTITUTION.test(value)) return "must not contain shell substitution syntax: '$(', '${' or a backtick";
  return check(value, all);
}

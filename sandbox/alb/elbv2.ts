// What ELBv2 itself refuses when the controller deploys a model: the controller passes these values through
// unchecked, so the errors come back from the AWS API as FailedDeployModel (see errors.ts for their text).
// Sources: the ELBv2 API reference (CreateTargetGroup Matcher, LoadBalancerAttribute) and "Security policies for
// your Application Load Balancer" in the ELB user guide; the policy names are also aws/aws-cdk's SslPolicy enum
// (packages/aws-cdk-lib/aws-elasticloadbalancingv2/lib/shared/enums.ts, v2.276.0).
import { elbv2Error } from "./errors";
import type { ProtocolVersion } from "./model";

/**
 * ELB's predefined security policies for HTTPS listeners (DescribeSSLPolicies); anything else is SSLPolicyNotFound.
 * The product keeps its own list of the ones it allows (functions/lib/alb-annotation-grammar.ts): the duplication is
 * deliberate, the simulator models ELB independently, and test/unit/alb-annotation-grammar.test.ts checks both
 * against one table.
 */
export const SSL_POLICIES: ReadonlySet<string> = new Set([
  "ELBSecurityPolicy-2016-08",
  "ELBSecurityPolicy-2015-05",
  "ELBSecurityPolicy-TLS-1-0-2015-04",
  "ELBSecurityPolicy-TLS-1-1-2017-01",
  "ELBSecurityPolicy-TLS-1-2-2017-01",
  "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
  "ELBSecurityPolicy-FS-2018-06",
  "ELBSecurityPolicy-FS-1-1-2019-08",
  "ELBSecurityPolicy-FS-1-2-2019-08",
  "ELBSecurityPolicy-FS-1-2-Res-2019-08",
  "ELBSecurityPolicy-FS-1-2-Res-2020-10",
  "ELBSecurityPolicy-TLS13-1-0-2021-06",
  "ELBSecurityPolicy-TLS13-1-1-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
  "ELBSecurityPolicy-TLS13-1-3-2021-06",
  "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-0-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
]);

/** ALB load balancer attribute keys (ELBv2 LoadBalancerAttribute); others fail ModifyLoadBalancerAttributes. */
const LB_ATTRIBUTE_KEYS = new Set([
  "deletion_protection.enabled",
  "access_logs.s3.enabled",
  "access_logs.s3.bucket",
  "access_logs.s3.prefix",
  "connection_logs.s3.enabled",
  "connection_logs.s3.bucket",
  "connection_logs.s3.prefix",
  "health_check_logs.s3.enabled",
  "health_check_logs.s3.bucket",
  "health_check_logs.s3.prefix",
  "idle_timeout.timeout_seconds",
  "client_keep_alive.seconds",
  "ipv6.deny_all_igw_traffic",
  "routing.http.desync_mitigation_mode",
  "routing.http.drop_invalid_header_fields.enabled",
  "routing.http.preserve_host_header.enabled",
  "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
  "routing.http.xff_client_port.enabled",
  "routing.http.xff_header_processing.mode",
  "routing.http2.enabled",
  "waf.fail_open.enabled",
  "load_balancing.cross_zone.enabled",
  "zonal_shift.config.enabled",
]);

/** The TLS floor a policy sets on the listener: TLS 1.3-only policies refuse TLS 1.2; Node's floor covers the rest. */
export function minTlsVersion(sslPolicy: string): "TLSv1.3" | "TLSv1.2" {
  return /TLS13-1-3/.test(sslPolicy) ? "TLSv1.3" : "TLSv1.2";
}

/** ELBv2 Matcher: "0,1" or "0-5"; GRPC codes 0–99, ALB HTTP codes 200–499. */
export function checkSuccessCodes(codes: string, version: ProtocolVersion, operation: string): void {
  const [kind, lo, hi] = version === "GRPC" ? ["GRPC", 0, 99] : ["HTTP", 200, 499];
  for (const item of codes.split(",").map((s) => s.trim())) {
    const bounds = item.split("-");
    const ok =
      item.length > 0 &&
      bounds.length <= 2 &&
      bounds.every((b) => /^\d+$/.test(b) && Number(b) >= lo && Number(b) <= hi) &&
      (bounds.length === 1 || Number(bounds[0]) <= Number(bounds[1]));
    if (!ok) {
      throw elbv2Error(
        operation,
        "ValidationError",
        `Health check matcher ${kind} code '${item}' must be within '${lo}-${hi}' inclusive`,
        false,
      );
    }
  }
}

/** ModifyLoadBalancerAttributes: known keys only, and the idle timeout within its range. */
export function checkLoadBalancerAttributes(attributes: Record<string, string>): void {
  const op = "ModifyLoadBalancerAttributes";
  for (const [k, v] of Object.entries(attributes)) {
    if (!LB_ATTRIBUTE_KEYS.has(k)) {
      throw elbv2Error(op, "ValidationError", `Load balancer attribute key '${k}' is not recognized`, false);
    }
    if (k === "idle_timeout.timeout_seconds" && !(/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 4000)) {
      throw elbv2Error(
        op,
        "ValidationError",
        `Load balancer attribute value '${v}' for key '${k}' is not valid: must be between 1 and 4000`,
        false,
      );
    }
  }
}

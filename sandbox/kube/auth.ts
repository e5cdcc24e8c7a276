// EKS bearer tokens (kubernetes-sigs/aws-iam-authenticator v0.7.18, pkg/token/token.go, tokenVerifier.Verify).
// The presigned URL is checked the way the authenticator does before it calls STS; STS itself is not called,
// so the signature is not verified.
import type { AuthResult } from "./types";

const TOKEN_PREFIX = "k8s-aws-v1.";
const MAX_TOKEN_BYTES = 4096;
const PRESIGNED_URL_EXPIRATION_MS = 15 * 60 * 1000;
const ALLOWED_PARAMETERS = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signature",
  "x-amz-signedheaders",
]);
/** The partitions an EKS cluster's authenticator is configured for (its `--partition`). */
export type AuthenticatorPartition = "aws" | "aws-cn" | "aws-us-gov";

/** pkg/endpoints/partitions.go: each partition's DNS domain and its dual-stack domain. */
const PARTITION_DOMAINS: Record<AuthenticatorPartition, { domain: string; dualStack: string }> = {
  aws: { domain: "amazonaws.com", dualStack: "api.aws" },
  "aws-cn": { domain: "amazonaws.com.cn", dualStack: "api.amazonwebservices.com.cn" },
  "aws-us-gov": { domain: "amazonaws.com", dualStack: "api.aws" },
};
const REGION_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** The partition a region belongs to, as the AWS SDK's partition table matches region names. */
export function partitionOfRegion(region: string): AuthenticatorPartition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * pkg/token/token.go verifySTSHostnameFormat (v0.7.18): the global endpoint only in partition aws; otherwise the host
 * must be one the AWS SDK's STS resolver gives for the region in its second label (plain, FIPS, dual-stack), and
 * its domain the partition's. The resolver's table is reduced here to what it yields for the commercial, China and
 * GovCloud regions: `sts[-fips].<region>.<domain of the region's partition>` or its dual-stack form.
 */
function stsHostnameProblem(host: string, partition: AuthenticatorPartition): string | undefined {
  if (host === "sts.amazonaws.com") return partition === "aws" ? undefined : `global endpoint unsupported in partition ${partition}`;
  const labels = host.split(".");
  const region = labels[1] ?? "";
  if (!REGION_LABEL.test(region)) return `invalid region identifier format provided: ${region}`;
  const { domain, dualStack } = PARTITION_DOMAINS[partitionOfRegion(region)];
  const resolved = ["sts", "sts-fips"].flatMap((service) => [`${service}.${region}.${domain}`, `${service}.${region}.${dualStack}`]);
  if (!resolved.includes(host)) return `unexpected hostname "${host}" in pre-signed URL`;
  const hostDomain = labels.slice(2).join(".");
  const allowed = PARTITION_DOMAINS[partition];
  if (hostDomain !== allowed.domain && hostDomain !== allowed.dualStack) return `partition {${partition}} does not support hostname ${host}`;
  return undefined;
}

export function eksTokenAuthenticator(
  opts: { now?: () => Date; partition?: AuthenticatorPartition } = {},
): (token: string) => AuthResult {
  const partition = opts.partition ?? "aws";
  const fail = (message: string): AuthResult => ({ ok: false, reason: `input token was not properly formatted: ${message}` });
  return (token) => {
    if (token.length > MAX_TOKEN_BYTES) return fail("token is too large");
    if (!token.startsWith(TOKEN_PREFIX)) return fail(`token is missing expected "${TOKEN_PREFIX}" prefix`);
    const encoded = token.slice(TOKEN_PREFIX.length);
    // base64.RawURLEncoding: URL alphabet, no padding.
    if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return fail("illegal base64 data");
    let url: URL;
    try {
      url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
    } catch {
      return fail("pre-signed URL does not parse");
    }
    if (url.protocol !== "https:") return fail(`unexpected scheme "${url.protocol.replace(/:$/, "")}" in pre-signed URL`);
    const hostProblem = stsHostnameProblem(url.host, partition);
    if (hostProblem) return fail(hostProblem);
    if (url.pathname !== "/") return fail("unexpected path in pre-signed URL");
    const params = new Map<string, string>();
    for (const key of new Set(url.searchParams.keys())) {
      if (!ALLOWED_PARAMETERS.has(key.toLowerCase())) return fail(`non-whitelisted query parameter "${key}"`);
      const values = url.searchParams.getAll(key);
      if (values.length !== 1) return fail("query parameter with multiple values not supported");
      params.set(key.toLowerCase(), values[0] ?? "");
    }
    if (params.get("action") !== "GetCallerIdentity") return fail("unexpected action parameter in pre-signed URL");
    const signed = (params.get("x-amz-signedheaders") ?? "").split(";").map((h) => h.toLowerCase());
    if (!signed.includes("x-k8s-aws-id")) return fail("client did not sign the x-k8s-aws-id header in the pre-signed URL");
    const expires = Number(params.get("x-amz-expires"));
    if (!Number.isInteger(expires) || expires < 0 || expires > 900) {
      return fail(`invalid X-Amz-Expires parameter in pre-signed URL: ${params.get("x-amz-expires") ?? ""}`);
    }
    const date = params.get("x-amz-date");
    if (!date) return fail("X-Amz-Date parameter must be present in pre-signed URL");
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!m) return fail(`error parsing X-Amz-Date parameter ${date} into format 20060102T150405Z`);
    const signedAt = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    const now = (opts.now?.() ?? new Date()).getTime();
    if (now > signedAt + PRESIGNED_URL_EXPIRATION_MS) {
      return fail(`X-Amz-Date parameter is expired (15 minute expiration) ${new Date(signedAt).toISOString()}`);
    }
    // What STS would refuse before answering: a request that is not SigV4-signed, dated in the future or for
    // another API version.
    if (now < signedAt - PRESIGNED_URL_EXPIRATION_MS) return fail("X-Amz-Date parameter is in the future");
    if (params.get("version") !== "2011-06-15") return fail("unexpected Version parameter in pre-signed URL");
    if (params.get("x-amz-algorithm") !== "AWS4-HMAC-SHA256") return fail("unexpected X-Amz-Algorithm in pre-signed URL");
    const credential = params.get("x-amz-credential") ?? "";
    if (!params.get("x-amz-signature") || !/^[^/]+\/\d{8}\/[a-z0-9-]+\/sts\/aws4_request$/.test(credential)) {
      return fail("pre-signed URL is not signed");
    }
    return { ok: true, user: credential.split("/")[0] ?? "" };
  };
}

// The stack's configuration: what a platform engineer passes with `cdk deploy -c key=value` (or puts under
// "context" in cdk.json), parsed and checked here so a mistake fails the synth with a message that names the
// key and says what is allowed. Everything has an offline default so `cdk synth` works on a clean clone.
//
// Context keys (all optional for synth; set the first ones for a real deployment):
//   clusterName           EKS cluster the workflow may reach (default "milvus-eks", a placeholder for synth);
//                         deploy the stack in the cluster's region (ACM certificates, the access entry and VPC
//                         Lambdas all live there)
//   milvusNamespaces      namespace(s) the Lambdas may edit: JSON list or comma-separated (default ["milvus"])
//   certificateSecretArns Secrets Manager secret ARNs holding PEMs: JSON list or comma-separated (default none)
//   certificateBuckets    S3 PEM locations: JSON list of {"bucket","prefix"} or "bucket/prefix,bucket2" (default none)
//   kmsKeyArns            customer-managed KMS keys encrypting those secrets/objects (default none)
//   milvusCredentialSecretArns  Secrets Manager secret ARNs holding Milvus credentials ({"username","password"} or
//                         {"token"}) that requests may name in `milvus.credentials`: JSON list or comma-separated
//                         (default none: verify-connection may read no secret)
//   route53HostedZoneIds  hosted zones upsert-dns may write alias records (A/AAAA, UPSERT only) in, for requests
//                         that name `ingress.route53HostedZoneId`: JSON list or comma-separated (default none: a
//                         request naming a zone then fails at UpsertDns with access denied)
//   vpcId, vpcSubnetIds, securityGroupId   all three, for a cluster with a private API endpoint: apply-ingress,
//                         get-ingress-status, patch-service and verify-connection then run in those subnets with
//                         that security group. The cluster's security group must admit it on 443, and the subnets
//                         need a route to the EKS API (NAT, or an interface endpoint for eks) and to the ALB (an
//                         internet-facing ALB needs NAT).
//   alarmEmail            e-mail address subscribed to the failure topic
//   alarmTopicArn         an existing SNS topic to alert instead of the one this stack creates
//   expiryWarningDays     a renewal that finds no newer certificate while the one in use expires within this many days
//                         fails as CertificateExpiring (alerting) instead of ending SKIPPED, and the dashboard's
//                         days-to-expiry alarm fires below it (default 14; 1-365)
//   createAccessEntry     "false" for clusters on the aws-auth ConfigMap (default true)
//   kubernetesAccess      what the role may do inside the cluster: "edit-policy" (default) an access entry with
//                         AmazonEKSEditPolicy scoped to milvusNamespaces, nothing to apply by hand; "rbac" an access
//                         entry with the Kubernetes group kubernetesGroup and no access policy, the least-privilege
//                         Role then applied from `milvus-l7 rbac` (docs/deploy.md, "Granting cluster access")
//   kubernetesGroup       that group (default "milvus-l7"; at most 63 characters, not starting with "system:")
//   checkSchedule         when the drift check runs: an EventBridge schedule expression, rate(…) or cron(…) (default
//                         "rate(1 day)"), or "off" for no scheduled check (infra/constructs/check-schedule.ts)
//   logRetentionDays      CloudWatch Logs retention for the Lambdas, the state machine and the API (default 30)
//   apiVpcEndpointIds     execute-api interface VPC endpoint(s): JSON list or comma-separated. Given → the HTTP API is
//                         PRIVATE, callable only through those endpoints; none (default) → REGIONAL. Either way every
//                         method is AWS_IAM-authorised.
//   apiRateLimit, apiBurstLimit   the API stage's throttling: steady requests per second (default 10) and burst (20)
//   setApiGatewayLogsRole "true" to have the stack create a role and set it as the region's API Gateway account
//                         "CloudWatch log role" (API Gateway needs one for the stage's access and execution logs; it
//                         is one setting per account and region, so leave this false when one is already set)
//   account, region       pin the stack's environment (default: environment-agnostic)
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { DEFAULT_KUBERNETES_GROUP } from "../functions/lib/kubernetes-access";
import { DEFAULT_EXPIRY_WARNING_DAYS } from "../functions/lib/state";

export interface CertificateBucket {
  bucket: string;
  /** Key prefix without leading or trailing "/"; "" means the whole bucket. */
  prefix: string;
}

export interface VpcPlacement {
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
}

export interface MilvusL7Config {
  clusterName: string;
  milvusNamespaces: string[];
  certificateSecretArns: string[];
  certificateBuckets: CertificateBucket[];
  kmsKeyArns: string[];
  milvusCredentialSecretArns: string[];
  route53HostedZoneIds: string[];
  vpc?: VpcPlacement;
  alarmEmail?: string;
  alarmTopicArn?: string;
  /** Days before expiry at which a renewal with nothing newer alerts, and the days-to-expiry alarm's threshold. */
  expiryWarningDays: number;
  createAccessEntry: boolean;
  /** How the role is granted access inside the cluster (see KubernetesAccess). */
  kubernetesAccess: KubernetesAccess;
  /** The Kubernetes group of the access entry (rbac) and of the aws-auth mapping. */
  kubernetesGroup: string;
  logRetention: RetentionDays;
  api: ApiConfig;
  /** The drift check's schedule expression; undefined: `checkSchedule=off`, no scheduled check. */
  checkSchedule?: string;
}

export interface ApiConfig {
  /** execute-api interface VPC endpoints: non-empty → a PRIVATE API reachable only through them. */
  vpcEndpointIds: string[];
  /** Stage throttling: steady-state requests per second and burst. */
  rateLimit: number;
  burstLimit: number;
  /** Create the region's API Gateway CloudWatch Logs role (an account-level setting) in this stack. */
  setAccountLogsRole: boolean;
}

/**
 * `edit-policy`: AmazonEKSEditPolicy scoped to the Milvus namespaces (zero-touch); `rbac`: the access entry carries
 * kubernetesGroup and no access policy, and the Role `milvus-l7 rbac` prints grants exactly what the steps call.
 */
export type KubernetesAccess = "edit-policy" | "rbac";
export const KUBERNETES_ACCESS_MODES: readonly KubernetesAccess[] = ["edit-policy", "rbac"];
export { DEFAULT_KUBERNETES_GROUP };

/** The placeholder cluster name `cdk synth` uses when none is given; a deployment should name its own. */
export const DEFAULT_CLUSTER_NAME = "milvus-eks";
export const DEFAULT_NAMESPACES = ["milvus"];
export const DEFAULT_LOG_RETENTION_DAYS = 30;
export const DEFAULT_API_RATE_LIMIT = 10;
export const DEFAULT_API_BURST_LIMIT = 20;

export class ConfigError extends Error {
  constructor(key: string, message: string) {
    super(`milvus-l7 context "${key}" ${message}`);
    this.name = "ConfigError";
  }
}

/** Reads one context value; `node.tryGetContext` in the app, a plain object in tests. */
export type ContextReader = (key: string) => unknown;

// EKS: 1-100 characters, alphanumerics, hyphens, underscores, starting with an alphanumeric.
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
// RFC 1123 label, which is what Kubernetes requires of a namespace name.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
// A full secret ARN ends in "-" plus 6 random characters; a partial one may end in "-??????" (IAM wildcard).
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@?-]+$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
// S3 bucket naming rules (general purpose buckets): 3-63 of lowercase letters, digits, dots and hyphens.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ACCOUNT = /^\d{12}$/;
const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;
// EKS CreateAccessEntry kubernetesGroups: a group name may not start with "system:"; 63 characters at most here.
const KUBERNETES_GROUP = /^(?!system:)[^\s]{1,63}$/;
// As functions/lib/request.ts checks ingress.route53HostedZoneId.
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

/** A list from context: a JSON array (cdk.json, or `-c 'k=["a","b"]'`) or a comma-separated string (`-c k=a,b`). */
function list(key: string, value: unknown): unknown[] {
  if (value === undefined || value === null || value === "") return [];
  if (Array.isArray(value)) return value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("[")) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed)) return parsed;
      } catch {
        // fall through to the error below
      }
      throw new ConfigError(key, `is not a valid JSON list: ${text}`);
    }
    return text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }
  throw new ConfigError(key, "must be a list (JSON array or comma-separated string)");
}

function strings(key: string, value: unknown, pattern: RegExp, what: string): string[] {
  const items = list(key, value);
  return items.map((item) => {
    if (typeof item !== "string" || !pattern.test(item)) {
      throw new ConfigError(key, `has ${JSON.stringify(item)}: each item must be ${what}`);
    }
    return item;
  });
}

function optionalString(key: string, value: unknown, pattern: RegExp, what: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new ConfigError(key, `is ${JSON.stringify(value)}: must be ${what}`);
  }
  return value;
}

function bool(key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === "") return fallback;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ConfigError(key, `is ${JSON.stringify(value)}: must be true or false`);
}

function bucket(key: string, item: unknown): CertificateBucket {
  let name: unknown;
  let prefix: unknown;
  if (typeof item === "string") {
    // "bucket" or "bucket/some/prefix" (an s3:// scheme is tolerated).
    const [head, ...rest] = item.replace(/^s3:\/\//, "").split("/");
    name = head;
    prefix = rest.join("/");
  } else if (item && typeof item === "object") {
    ({ bucket: name, prefix } = item as { bucket?: unknown; prefix?: unknown });
  }
  if (typeof name !== "string" || !BUCKET.test(name)) {
    throw new ConfigError(key, `has ${JSON.stringify(item)}: each item must be {"bucket": "<s3 bucket name>", "prefix": "<key prefix>"} or "bucket/prefix"`);
  }
  if (prefix !== undefined && typeof prefix !== "string") {
    throw new ConfigError(key, `has ${JSON.stringify(item)}: "prefix" must be a string`);
  }
  const cleaned = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (/[*?]/.test(cleaned)) {
    throw new ConfigError(key, `has ${JSON.stringify(item)}: "prefix" is a literal key prefix; * and ? are not allowed`);
  }
  return { bucket: name, prefix: cleaned };
}

function positiveInteger(key: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ConfigError(key, `is ${JSON.stringify(value)}: must be a whole number from 1 to ${max}`);
  }
  return n;
}

function retention(value: unknown): RetentionDays {
  if (value === undefined || value === null || value === "") return DEFAULT_LOG_RETENTION_DAYS as RetentionDays;
  const days = Number(value);
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === "number" && v !== RetentionDays.INFINITE);
  if (!allowed.includes(days)) {
    throw new ConfigError("logRetentionDays", `is ${JSON.stringify(value)}: must be one of ${allowed.join(", ")}`);
  }
  return days as RetentionDays;
}

export function parseConfig(read: ContextReader): MilvusL7Config {
  const clusterName = optionalString("clusterName", read("clusterName"), CLUSTER_NAME, "an EKS cluster name") ?? DEFAULT_CLUSTER_NAME;

  const namespaces = strings("milvusNamespaces", read("milvusNamespaces"), NAMESPACE, "a Kubernetes namespace name");
  const milvusNamespaces = namespaces.length > 0 ? [...new Set(namespaces)] : [...DEFAULT_NAMESPACES];

  const certificateSecretArns = [
    ...new Set(strings("certificateSecretArns", read("certificateSecretArns"), SECRET_ARN, "a Secrets Manager secret ARN")),
  ];
  const certificateBuckets = list("certificateBuckets", read("certificateBuckets")).map((item) => bucket("certificateBuckets", item));
  const milvusCredentialSecretArns = [
    ...new Set(strings("milvusCredentialSecretArns", read("milvusCredentialSecretArns"), SECRET_ARN, "a Secrets Manager secret ARN")),
  ];
  const kmsKeyArns = [...new Set(strings("kmsKeyArns", read("kmsKeyArns"), KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"))];

  const route53HostedZoneIds = [
    ...new Set(strings("route53HostedZoneIds", read("route53HostedZoneIds"), HOSTED_ZONE_ID, "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")),
  ];

  const vpcId = optionalString("vpcId", read("vpcId"), VPC_ID, "a VPC id such as vpc-0123456789abcdef0");
  const subnetIds = strings("vpcSubnetIds", read("vpcSubnetIds"), SUBNET_ID, "a subnet id such as subnet-0123456789abcdef0");
  const securityGroupId = optionalString("securityGroupId", read("securityGroupId"), SECURITY_GROUP_ID, "a security group id such as sg-0123456789abcdef0");
  let vpc: VpcPlacement | undefined;
  const vpcKeys = { vpcId, vpcSubnetIds: subnetIds.length > 0 ? subnetIds : undefined, securityGroupId };
  const given = Object.entries(vpcKeys).filter(([, v]) => v !== undefined);
  if (given.length > 0) {
    const missing = Object.entries(vpcKeys)
      .filter(([, v]) => v === undefined)
      .map(([k]) => k);
    if (missing.length > 0) {
      throw new ConfigError(
        missing[0] ?? "vpcId",
        `is missing: a private cluster endpoint needs vpcId, vpcSubnetIds and securityGroupId together (got ${given.map(([k]) => k).join(", ")})`,
      );
    }
    vpc = { vpcId: vpcId as string, subnetIds: [...new Set(subnetIds)], securityGroupId: securityGroupId as string };
  }

  return {
    clusterName,
    milvusNamespaces,
    certificateSecretArns,
    certificateBuckets,
    kmsKeyArns,
    milvusCredentialSecretArns,
    route53HostedZoneIds,
    vpc,
    alarmEmail: optionalString("alarmEmail", read("alarmEmail"), EMAIL, "an e-mail address"),
    alarmTopicArn: optionalString("alarmTopicArn", read("alarmTopicArn"), SNS_TOPIC_ARN, "an SNS topic ARN"),
    expiryWarningDays: expiryWarningDays(read("expiryWarningDays")),
    createAccessEntry: bool("createAccessEntry", read("createAccessEntry"), true),
    kubernetesAccess: kubernetesAccess(read("kubernetesAccess")),
    kubernetesGroup:
      optionalString("kubernetesGroup", read("kubernetesGroup"), KUBERNETES_GROUP, 'a Kubernetes group name (1-63 characters, no spaces, not starting with "system:")') ??
      DEFAULT_KUBERNETES_GROUP,
    logRetention: retention(read("logRetentionDays")),
    api: apiConfig(read),
    checkSchedule: checkSchedule(read("checkSchedule")),
  };
}

function expiryWarningDays(value: unknown): number {
  if (value === undefined || value === null || value === "") return DEFAULT_EXPIRY_WARNING_DAYS;
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 365) {
    throw new ConfigError("expiryWarningDays", `must be a whole number of days from 1 to 365 (got ${JSON.stringify(value)})`);
  }
  return n;
}

export const DEFAULT_CHECK_SCHEDULE = "rate(1 day)";

/**
 * EventBridge's two forms (Amazon EventBridge User Guide, "Creating an Amazon EventBridge rule that runs on a
 * schedule"): rate(value unit), unit minute/hour/day, singular exactly for 1; cron( six fields ). "off": none.
 */
function checkSchedule(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return DEFAULT_CHECK_SCHEDULE;
  if (value === "off") return undefined;
  const text = typeof value === "string" ? value.trim() : "";
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(text);
  if (rate) {
    const n = Number(rate[1]);
    const plural = (rate[2] ?? "").endsWith("s");
    if (n >= 1 && plural === (n !== 1)) return text;
  }
  if (/^cron\(\S+( \S+){5}\)$/.test(text)) return text;
  throw new ConfigError(
    "checkSchedule",
    `is ${JSON.stringify(value)}: must be "off", rate(N unit) (unit minute, hour or day, plural unless N is 1; e.g. rate(1 day), rate(12 hours)) or cron(six fields) (e.g. cron(0 6 * * ? *))`,
  );
}

function kubernetesAccess(value: unknown): KubernetesAccess {
  if (value === undefined || value === null || value === "") return "edit-policy";
  if (typeof value === "string" && (KUBERNETES_ACCESS_MODES as readonly string[]).includes(value)) return value as KubernetesAccess;
  throw new ConfigError("kubernetesAccess", `is ${JSON.stringify(value)}: must be one of ${KUBERNETES_ACCESS_MODES.join(", ")}`);
}

function apiConfig(read: ContextReader): ApiConfig {
  const vpcEndpointIds = [
    ...new Set(strings("apiVpcEndpointIds", read("apiVpcEndpointIds"), VPC_ENDPOINT_ID, "an interface VPC endpoint id such as vpce-0123456789abcdef0")),
  ];
  // API Gateway's account-level default is 10,000 requests/s with a burst of 5,000; a stage cannot exceed it.
  const rateLimit = positiveInteger("apiRateLimit", read("apiRateLimit"), DEFAULT_API_RATE_LIMIT, 10_000);
  const burstLimit = positiveInteger("apiBurstLimit", read("apiBurstLimit"), DEFAULT_API_BURST_LIMIT, 5_000);
  return { vpcEndpointIds, rateLimit, burstLimit, setAccountLogsRole: bool("setApiGatewayLogsRole", read("setApiGatewayLogsRole"), false) };
}

/** The stack's environment: pinned when both account and region are given, otherwise environment-agnostic. */
export function parseEnv(read: ContextReader): { account: string; region: string } | undefined {
  const account = optionalString("account", read("account"), ACCOUNT, "a 12-digit AWS account id");
  const region = optionalString("region", read("region"), REGION, "an AWS region code such as us-east-2");
  if (account === undefined && region === undefined) return undefined;
  if (account === undefined || region === undefined) {
    throw new ConfigError(account === undefined ? "account" : "region", "is missing: give account and region together, or neither");
  }
  return { account, region };
}

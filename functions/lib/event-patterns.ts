// The EventBridge event patterns of milvus-l7's rules, as plain JSON-shaped objects, so the CDK stack, the
// resolve-request classifier and the tests share one definition and cannot drift.
//
// Patterns are written in EventBridge's own JSON form ("detail-type", not CDK's `detailType`); hand one to
// `events.Rule({ eventPattern: toCdkEventPattern(p) })`. Matching rules (EventBridge User Guide, "Amazon
// EventBridge event patterns"): every field of the pattern must be present in the event with the same nesting,
// a leaf is a list of allowed values, strings match exactly, and `{ "prefix": "..." }` matches the start of a
// string value.

/** One allowed value of a pattern leaf: an exact JSON value or a `prefix` filter (the only filter used here). */
export type PatternValue = string | number | boolean | null | { prefix: string };

export interface EventPattern {
  [field: string]: PatternValue[] | EventPattern;
}

/** Where renewal tools write PEMs: the stack's `certificateBuckets` context (infra/config.ts CertificateBucket). */
export interface CertificatePrefix {
  bucket: string;
  /** Key prefix (a "folder"); leading/trailing '/' are ignored; "" means the whole bucket. */
  prefix: string;
}

/** ACM's daily event for a certificate that expires within the account's DaysBeforeExpiry (45 by default). */
export const ACM_APPROACHING_EXPIRATION = {
  source: "aws.acm",
  detailType: "ACM Certificate Approaching Expiration",
} as const;

/** S3's event for a new object version (PutObject, POST Object, CopyObject, CompleteMultipartUpload). The bucket
 * must have "Send notifications to Amazon EventBridge" turned on, or S3 sends none. */
export const S3_OBJECT_CREATED = { source: "aws.s3", detailType: "Object Created" } as const;

export const STEP_FUNCTIONS_STATUS_CHANGE = {
  source: "aws.states",
  detailType: "Step Functions Execution Status Change",
} as const;

/** Execution statuses that alert. */
export const FAILED_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"] as const;

/**
 * Every ACM "Approaching Expiration" event of the account and region. Not narrowed by `resources`: the set of
 * certificates in use changes with every deployment, so resolve-request looks the ARN up in the registry and
 * ends cleanly for certificates no deployment uses.
 */
export function acmExpiringPattern(): EventPattern {
  return {
    source: [ACM_APPROACHING_EXPIRATION.source],
    "detail-type": [ACM_APPROACHING_EXPIRATION.detailType],
  };
}

/**
 * The key prefix a configured location matches: `live` → `live/` (a folder, as the IAM grant `live/*` is, so
 * `live-backup/…` is not included); "" → "" (the whole bucket).
 */
export function keyPrefixOf(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, "");
  if (trimmed === "") return "";
  return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/** Whether an object lies under a configured location. */
export function objectIsUnder(location: CertificatePrefix, bucket: string, key: string): boolean {
  return location.bucket === bucket && key.startsWith(keyPrefixOf(location.prefix));
}

/**
 * S3 "Object Created" under the configured certificate locations: ONE PATTERN PER BUCKET, so each bucket is
 * paired with its own prefixes only (a single pattern listing all buckets and all prefixes would also match
 * bucket A's objects under bucket B's prefix). A bucket configured with the "" prefix matches all its keys.
 * Create one rule per returned pattern; no locations → no patterns (and no rule).
 */
export function s3CertificateObjectPatterns(locations: readonly CertificatePrefix[]): EventPattern[] {
  const byBucket = new Map<string, Set<string>>();
  for (const { bucket, prefix } of locations) {
    const prefixes = byBucket.get(bucket) ?? new Set<string>();
    prefixes.add(keyPrefixOf(prefix));
    byBucket.set(bucket, prefixes);
  }
  return [...byBucket.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([bucket, prefixes]) => {
      const detail: EventPattern = { bucket: { name: [bucket] } };
      // A "" prefix is the whole bucket, which subsumes every other prefix of it.
      if (!prefixes.has("")) {
        detail.object = { key: [...prefixes].sort().map((prefix) => ({ prefix })) };
      }
      return {
        source: [S3_OBJECT_CREATED.source],
        "detail-type": [S3_OBJECT_CREATED.detailType],
        detail,
      };
    });
}

/** This state machine's executions that failed, timed out or were aborted (alerting). */
export function failedExecutionPattern(stateMachineArn: string): EventPattern {
  return {
    source: [STEP_FUNCTIONS_STATUS_CHANGE.source],
    "detail-type": [STEP_FUNCTIONS_STATUS_CHANGE.detailType],
    detail: {
      status: [...FAILED_STATUSES],
      stateMachineArn: [stateMachineArn],
    },
  };
}

/** The shape of aws-cdk-lib's `events.EventPattern` for the fields used here (structural: no CDK import). */
export interface CdkEventPattern {
  version?: string[];
  id?: string[];
  detailType?: string[];
  source?: string[];
  account?: string[];
  time?: string[];
  region?: string[];
  resources?: string[];
  detail?: Record<string, unknown>;
}

const CDK_FIELDS: Record<string, keyof CdkEventPattern> = {
  version: "version",
  id: "id",
  "detail-type": "detailType",
  source: "source",
  account: "account",
  time: "time",
  region: "region",
  resources: "resources",
  detail: "detail",
};

/** EventBridge JSON form → CDK's camelCase `EventPattern` (the CDK renders `detailType` back as "detail-type"). */
export function toCdkEventPattern(pattern: EventPattern): CdkEventPattern {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(pattern)) {
    const cdkField = CDK_FIELDS[field];
    if (cdkField === undefined) throw new Error(`event pattern field "${field}" has no aws-cdk-lib EventPattern property`);
    out[cdkField] = value;
  }
  return out as CdkEventPattern;
}

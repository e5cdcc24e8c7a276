// Renewal triggers: the EventBridge events that start the workflow instead of a deployment request
// (infra/constructs/renewal-triggers.ts). classifyInput tells them apart from a request; planRenewal turns one into a plan from the
// deployments registry: every target that serves the certificate, re-imported from its recorded source only if
// the source holds a newer certificate. Certificates and objects that no deployment uses give a plan with no
// targets and a reason, on which the workflow ends cleanly.
//
// Like every plan, a renewal plan is visible in the Step Functions console and history (docs/architecture.md, "The state"): it carries
// ARNs, secret IDs and S3 keys, never PEM material, and nothing here reads a secret or an object.

import { InvalidRequest } from "../lib/errors";
import { ACM_APPROACHING_EXPIRATION, type CertificatePrefix, S3_OBJECT_CREATED, objectIsUnder } from "../lib/event-patterns";
import { type CertificateSource, DEFAULT_EXPIRY_WARNING_DAYS, type Plan, type PlannedCertificate, type Target } from "../lib/state";
import { maxPollsFor } from "../lib/polling";
import type { DeploymentRecord, Registry } from "../lib/registry";
import { ACM_CERTIFICATE_ARN } from "../lib/request";

export interface AcmExpiring {
  kind: "acm-expiring";
  certificateArn: string;
  daysToExpiry?: number;
  commonName?: string;
}

export interface S3ObjectCreated {
  kind: "s3-object-created";
  bucket: string;
  /** As the event carries it (see keyCandidates for the encoding question). */
  key: string;
}

export type RenewalTrigger = AcmExpiring | S3ObjectCreated;

export type ClassifiedInput = { kind: "request"; request: unknown } | RenewalTrigger;

/** A renewal's plan always says why it was made (and, with no targets, why nothing is done). */
export type RenewalPlan = Plan & { renewal: { reason: string } };

/** All a renewal reads from the deployments registry. */
export type RenewalRegistry = Pick<Registry, "forCertificate" | "forSourceObject">;

export interface RenewalOptions {
  /** The configured certificate locations; an S3 event outside all of them plans nothing. */
  prefixes?: readonly CertificatePrefix[];
  /** Seconds one get-ingress-status poll holds its watch (as for a request). */
  watchSeconds?: number;
  /**
   * A renewal that finds no newer certificate while the one in use expires within this many days alerts
   * (CertificateExpiring) instead of ending SKIPPED. Stack-wide (EXPIRY_WARNING_DAYS), not a request field: a
   * renewal is started by an event, which carries no request, and the threshold is the operator's alerting policy.
   */
  expiryWarningDays?: number;
}

/** How long a renewal waits for addresses: the request default (`waitForAddressMinutes: 20`). */
const RENEWAL_WAIT_SECONDS = 20 * 60;
/** Target IDs named in a reason before "and N more". */
const LISTED_TARGETS = 5;

const SUPPORTED =
  `"${ACM_APPROACHING_EXPIRATION.detailType}" from ${ACM_APPROACHING_EXPIRATION.source}, ` +
  `"${S3_OBJECT_CREATED.detailType}" from ${S3_OBJECT_CREATED.source}, or a deployment request (events/console-start.json)`;

// ---------------------------------------------------------------------------------------------------------------
// Classification.

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * An EventBridge event (it has `source` and `detail-type`, which a deployment request never has) or a request.
 * An event of a kind milvus-l7 does not handle is an InvalidRequest: the rules only forward the two kinds above,
 * so anything else means a rule or a hand-started execution is wrong.
 */
export function classifyInput(input: unknown): ClassifiedInput {
  if (!isRecord(input) || !("source" in input) || !("detail-type" in input)) return { kind: "request", request: input };
  const source = input.source;
  const detailType = input["detail-type"];
  if (source === ACM_APPROACHING_EXPIRATION.source && detailType === ACM_APPROACHING_EXPIRATION.detailType) {
    return acmExpiring(input);
  }
  if (source === S3_OBJECT_CREATED.source && detailType === S3_OBJECT_CREATED.detailType) {
    return s3ObjectCreated(input);
  }
  throw new InvalidRequest([
    {
      path: "detail-type",
      message: `${shown(detailType)} from ${shown(source)} is not an event milvus-l7 handles; supported: ${SUPPORTED}`,
    },
  ]);
}

function acmExpiring(event: Record<string, unknown>): AcmExpiring {
  const resources = event.resources;
  const arn = Array.isArray(resources) ? resources[0] : undefined;
  if (typeof arn !== "string" || !ACM_CERTIFICATE_ARN.test(arn)) {
    throw new InvalidRequest([
      {
        path: "resources",
        message:
          "must hold the certificate's ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>) as its first item, as ACM's events do",
      },
    ]);
  }
  const trigger: AcmExpiring = { kind: "acm-expiring", certificateArn: arn };
  const detail = isRecord(event.detail) ? event.detail : {};
  if (typeof detail.DaysToExpiry === "number" && Number.isFinite(detail.DaysToExpiry)) trigger.daysToExpiry = detail.DaysToExpiry;
  if (typeof detail.CommonName === "string" && detail.CommonName !== "") trigger.commonName = detail.CommonName;
  return trigger;
}

function s3ObjectCreated(event: Record<string, unknown>): S3ObjectCreated {
  const detail = isRecord(event.detail) ? event.detail : {};
  const bucket = isRecord(detail.bucket) ? detail.bucket.name : undefined;
  const key = isRecord(detail.object) ? detail.object.key : undefined;
  const issues = [];
  if (typeof bucket !== "string" || bucket === "") {
    issues.push({ path: "detail.bucket.name", message: "is required: an S3 Object Created event names its bucket" });
  }
  if (typeof key !== "string" || key === "") {
    issues.push({ path: "detail.object.key", message: "is required: an S3 Object Created event names its object key" });
  }
  if (issues.length > 0 || typeof bucket !== "string" || typeof key !== "string") throw new InvalidRequest(issues);
  return { kind: "s3-object-created", bucket, key };
}

// ---------------------------------------------------------------------------------------------------------------
// Planning.

/**
 * The keys to look up for a key as an event carries it. S3's own notifications (SQS/SNS/Lambda) document the
 * key as URL-encoded form-style (`a b` → `a+b`, `=` → `%3D`); the EventBridge "Object Created" documentation
 * says nothing either way and its samples cannot tell. Certificate keys are limited to characters that survive
 * both (request.ts KEY_CHARS: no '%', no space), so: the key as given first, and, when it holds a '%' escape
 * (which only an encoded key can), its form-decoding too.
 */
export function keyCandidates(key: string): string[] {
  const candidates = [key];
  if (key.includes("%")) {
    try {
      const decoded = decodeURIComponent(key.replace(/\+/g, " "));
      if (decoded !== key) candidates.push(decoded);
    } catch {
      // Not valid percent-encoding: the key is literal.
    }
  }
  return candidates;
}

export async function planRenewal(trigger: RenewalTrigger, registry: RenewalRegistry, opts: RenewalOptions = {}): Promise<RenewalPlan> {
  const maxPolls = maxPollsFor(RENEWAL_WAIT_SECONDS, opts.watchSeconds);
  const expiryWarningDays = opts.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  return trigger.kind === "acm-expiring"
    ? planForCertificate(trigger, registry, maxPolls, expiryWarningDays)
    : planForObject(trigger, registry, maxPolls, opts.prefixes, expiryWarningDays);
}

async function planForCertificate(
  trigger: AcmExpiring,
  registry: RenewalRegistry,
  maxPolls: number,
  expiryWarningDays: number,
): Promise<RenewalPlan> {
  const arn = trigger.certificateArn;
  const records = await registry.forCertificate(arn);
  if (records.length === 0) {
    return emptyPlan(`No milvus-l7 deployment uses ${arn}; nothing to renew.`, maxPolls, arn);
  }
  const expiry = `ACM reports ${arn}${trigger.commonName ? ` (${printable(trigger.commonName)})` : ""} ${
    trigger.daysToExpiry === undefined ? "is approaching expiration" : `expires in ${trigger.daysToExpiry} days`
  }`;
  const withSource = records.filter((r) => r.certificateSource !== undefined);
  const chosen = mostRecentlyVerified(withSource);
  if (chosen?.certificateSource === undefined) {
    return emptyPlan(
      `${expiry}, but renewal needs a certificate source and ${countTargets(records)} using it ` +
        `(${listTargets(records)}) recorded none: the certificate was used as is. Redeploy with certificate.source ` +
        `naming where renewed PEMs are written, or re-import the renewed certificate into ${arn} yourself.`,
      maxPolls,
      arn,
    );
  }
  const source = chosen.certificateSource;
  const others = withSource.filter((r) => !sameSource(r.certificateSource, source));
  const note =
    others.length === 0
      ? ""
      : ` ${countTargets(others)} (${listTargets(others)}) recorded a different source for ${arn}; the one verified most recently is used.`;
  return renewalPlan(
    { arn, source, onlyIfNewer: true, expiryWarningDays },
    records,
    `${expiry}: re-importing from ${describeSource(source)} if it holds a newer certificate, then verifying ` +
      `${countTargets(records)} (${listTargets(records)}).${note}`,
    maxPolls,
  );
}

async function planForObject(
  trigger: S3ObjectCreated,
  registry: RenewalRegistry,
  maxPolls: number,
  prefixes: readonly CertificatePrefix[] | undefined,
  expiryWarningDays: number,
): Promise<RenewalPlan> {
  const { bucket } = trigger;
  const uri = `s3://${printable(bucket)}/${printable(trigger.key)}`;
  const keys = keyCandidates(trigger.key);
  if (prefixes !== undefined && prefixes.length > 0 && !keys.some((key) => prefixes.some((p) => objectIsUnder(p, bucket, key)))) {
    const configured = prefixes.map((p) => `s3://${p.bucket}/${p.prefix}`).join(", ");
    return emptyPlan(`${uri} is outside the configured certificate locations (${configured}); nothing to renew.`, maxPolls);
  }

  let sourceRecords: DeploymentRecord[] = [];
  for (const key of keys) {
    sourceRecords = await registry.forSourceObject(bucket, key);
    if (sourceRecords.length > 0) break;
  }
  const chosen = mostRecentlyVerified(sourceRecords);
  if (chosen?.certificateSource === undefined) {
    return emptyPlan(
      `No milvus-l7 deployment reads ${uri} as its certificate, chain or private key; nothing to renew.`,
      maxPolls,
    );
  }
  // One plan renews one ACM certificate. The same PEMs may feed several (say, one per region): renew the one
  // verified most recently and name the rest.
  const arn = chosen.certificateArn;
  const source = chosen.certificateSource;
  const elsewhere = [...new Set(sourceRecords.map((r) => r.certificateArn).filter((a) => a !== arn))].sort();
  // Every target serving the ARN gets the re-imported certificate (listeners follow the ARN), so all are verified.
  const users = dedupe([...sourceRecords.filter((r) => r.certificateArn === arn), ...(await registry.forCertificate(arn))]);
  const note =
    elsewhere.length === 0
      ? ""
      : ` The same source also feeds ${elsewhere.join(", ")}, not renewed by this run: start a renewal for each ` +
        "(an ACM Approaching Expiration event for it does so too).";
  return renewalPlan(
    { arn, source, onlyIfNewer: true, expiryWarningDays },
    users,
    `${uri} was written: re-importing ${describeSource(source)} into ${arn} if it holds a newer certificate, then ` +
      `verifying ${countTargets(users)} (${listTargets(users)}).${note}`,
    maxPolls,
  );
}

function renewalPlan(
  certificate: PlannedCertificate,
  records: readonly DeploymentRecord[],
  reason: string,
  maxPolls: number,
): RenewalPlan {
  return {
    certificate,
    // The targets already serve through the ALB; patch-service finds the Service ClusterIP and changes nothing.
    cutover: "after-verify",
    // The Ingress is live and serving: a failed verification must never delete it.
    onFailure: "keep-ingress",
    wait: { maxPolls },
    targets: dedupe(records).map((r) => copyTarget(r.target)),
    renewal: { reason },
  };
}

function emptyPlan(reason: string, maxPolls: number, arn?: string): RenewalPlan {
  // With an ARN and no source, the certificate would only be "used as is": harmless even if a workflow went on.
  return {
    certificate: arn === undefined ? {} : { arn },
    cutover: "after-verify",
    onFailure: "keep-ingress",
    wait: { maxPolls },
    targets: [],
    renewal: { reason },
  };
}

/** Only the plan's own fields: a registry item may carry more than a Target (and must not leak into the plan). */
export function copyTarget(t: Target): Target {
  return {
    cluster: { name: t.cluster.name, region: t.cluster.region },
    namespace: t.namespace,
    service: { name: t.service.name, port: t.service.port },
    // The credentials secret's id only (never a value): a renewal verifies an authenticated Milvus as the first run did.
    ...(t.milvusCredentials ? { milvusCredentials: { secretsManager: { secretId: t.milvusCredentials.secretsManager.secretId } } } : {}),
    ingress: {
      name: t.ingress.name,
      ...(t.ingress.className ? { className: t.ingress.className } : {}),
      host: t.ingress.host,
      scheme: t.ingress.scheme,
      ...(t.ingress.route53HostedZoneId ? { route53HostedZoneId: t.ingress.route53HostedZoneId } : {}),
      annotations: { ...t.ingress.annotations },
    },
    ...(t.driftPolicy ? { driftPolicy: t.driftPolicy } : {}),
  };
}

/** One record per target, ordered by target ID so plans are deterministic. */
function dedupe(records: readonly DeploymentRecord[]): DeploymentRecord[] {
  const byId = new Map<string, DeploymentRecord>();
  for (const r of records) if (!byId.has(r.targetId)) byId.set(r.targetId, r);
  return [...byId.values()].sort((a, b) => (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0));
}

function mostRecentlyVerified(records: readonly DeploymentRecord[]): DeploymentRecord | undefined {
  let best: DeploymentRecord | undefined;
  for (const r of records) {
    if (
      best === undefined ||
      r.lastVerified > best.lastVerified ||
      (r.lastVerified === best.lastVerified && r.targetId < best.targetId)
    ) {
      best = r;
    }
  }
  return best;
}

function sameSource(a: CertificateSource | undefined, b: CertificateSource): boolean {
  if (a === undefined) return false;
  if ("secretsManager" in a || "secretsManager" in b) {
    return "secretsManager" in a && "secretsManager" in b && a.secretsManager.secretId === b.secretsManager.secretId;
  }
  if ("kubernetesSecret" in a || "kubernetesSecret" in b) {
    if (!("kubernetesSecret" in a && "kubernetesSecret" in b)) return false;
    const [x, y] = [a.kubernetesSecret, b.kubernetesSecret];
    return x.cluster.name === y.cluster.name && x.cluster.region === y.cluster.region && x.namespace === y.namespace && x.name === y.name;
  }
  return (
    a.s3.bucket === b.s3.bucket &&
    a.s3.certificateKey === b.s3.certificateKey &&
    a.s3.chainKey === b.s3.chainKey &&
    a.s3.privateKeyKey === b.s3.privateKeyKey
  );
}

function describeSource(source: CertificateSource): string {
  if ("secretsManager" in source) return `Secrets Manager secret ${source.secretsManager.secretId}`;
  if ("kubernetesSecret" in source) {
    const { cluster, namespace, name } = source.kubernetesSecret;
    return `Kubernetes Secret ${namespace}/${name} in cluster ${cluster.name} (${cluster.region})`;
  }
  const { bucket, certificateKey, chainKey, privateKeyKey } = source.s3;
  return `s3://${bucket}/ (${certificateKey}, ${chainKey}, ${privateKeyKey})`;
}

function countTargets(records: readonly DeploymentRecord[]): string {
  const n = dedupe(records).length;
  return n === 1 ? "1 target" : `${n} targets`;
}

function listTargets(records: readonly DeploymentRecord[]): string {
  const ids = dedupe(records).map((r) => r.targetId);
  const listed = ids.slice(0, LISTED_TARGETS).join(", ");
  return ids.length > LISTED_TARGETS ? `${listed} and ${ids.length - LISTED_TARGETS} more` : listed;
}

// ---------------------------------------------------------------------------------------------------------------
// Printing event values, which come from outside: reasons and messages end up on consoles and terminals.

const MAX_SHOWN = 200;

/** Escapes characters that could forge lines or reorder text (C0/C1 controls, separators, bidi, BOM). */
function printable(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    const unsafe =
      c < 0x20 ||
      (c >= 0x7f && c <= 0x9f) ||
      c === 0x2028 ||
      c === 0x2029 ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) ||
      c === 0xfeff;
    out += unsafe ? `\\u${c.toString(16).padStart(4, "0")}` : ch;
  }
  return out.length > MAX_SHOWN ? `${out.slice(0, MAX_SHOWN)}…` : out;
}

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(printable(value));
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return json === undefined ? typeof value : printable(json);
}

/**
 * The configured certificate locations from the Lambda's environment (proposed: CERTIFICATE_BUCKETS, the
 * stack's `certificateBuckets` as JSON). Unset or empty → none (no prefix check).
 */
export function certificatePrefixesFrom(json: string | undefined): CertificatePrefix[] {
  if (json === undefined || json.trim() === "") return [];
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((p) => isRecord(p) && typeof p.bucket === "string" && typeof p.prefix === "string")) {
    throw new Error('certificate locations must be a JSON list of {"bucket": "...", "prefix": "..."}');
  }
  return parsed.map((p: { bucket: string; prefix: string }) => ({ bucket: p.bucket, prefix: p.prefix }));
}

// The drift check's input, `{"check": {"targetId"?: string, "repair"?: boolean}}` (what the check schedule and
// `milvus-l7 check` send), planned from the deployments registry: every recorded target, or the one named, with
// what was recorded of it (certificate ARN, fingerprint, notAfter, ALB hostname) for InspectTarget and the verify
// Task to compare with, and its certificate source for ReadRecordedCertificate to pick up a renewal from
// (docs/architecture.md, "The drift check"). References only, as every plan.
import { InvalidRequest } from "../lib/errors";
import { maxPollsFor } from "../lib/polling";
import type { DeploymentRecord, Registry } from "../lib/registry";
import { type CheckItem, type CheckPlan, DEFAULT_EXPIRY_WARNING_DAYS } from "../lib/state";
import { copyTarget } from "./triggers";

export type CheckRegistry = Pick<Registry, "list">;

export interface CheckInput {
  targetId?: string;
  repair: boolean;
}

/** How long a repair waits for a re-created Ingress's address: the request default (20 minutes). */
const REPAIR_WAIT_SECONDS = 20 * 60;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A check input has the one key `check`, which neither a deployment request nor an EventBridge event has. */
export function isCheckInput(input: unknown): input is { check: unknown } {
  return isRecord(input) && "check" in input;
}

export function parseCheckInput(input: { check: unknown }): CheckInput {
  const issues = [];
  const extra = Object.keys(input).filter((k) => k !== "check");
  if (extra.length > 0) issues.push({ path: extra[0] as string, message: 'is not allowed next to "check" (a check input is {"check": {"targetId"?, "repair"?}})' });
  const check = input.check;
  if (!isRecord(check)) throw new InvalidRequest([{ path: "check", message: 'must be an object: {"targetId"?: "<region>/<cluster>/<namespace>/<ingress>", "repair"?: true|false}' }, ...issues]);
  for (const key of Object.keys(check)) {
    if (key !== "targetId" && key !== "repair") issues.push({ path: `check.${key}`, message: "is not a check option (allowed: targetId, repair)" });
  }
  if (check.targetId !== undefined && (typeof check.targetId !== "string" || check.targetId === "")) {
    issues.push({ path: "check.targetId", message: "must be a target ID from the registry: <region>/<cluster>/<namespace>/<ingress>" });
  }
  if (check.repair !== undefined && typeof check.repair !== "boolean") issues.push({ path: "check.repair", message: "must be true or false" });
  if (issues.length > 0) throw new InvalidRequest(issues);
  return { repair: check.repair === true, ...(typeof check.targetId === "string" ? { targetId: check.targetId } : {}) };
}

export async function planCheck(
  input: { check: unknown },
  registry: CheckRegistry,
  opts: { watchSeconds?: number; expiryWarningDays?: number } = {},
): Promise<CheckPlan> {
  const expiryWarningDays = opts.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  const parsed = parseCheckInput(input);
  const records = [...(await registry.list())].sort((a, b) => (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0));
  let chosen = records;
  if (parsed.targetId !== undefined) {
    chosen = records.filter((r) => r.targetId === parsed.targetId);
    if (chosen.length === 0) {
      const known = records.map((r) => r.targetId);
      throw new InvalidRequest([
        {
          path: "check.targetId",
          message: `${JSON.stringify(parsed.targetId)} is no target in the deployments registry (${known.length ? `it holds ${known.slice(0, 5).join(", ")}${known.length > 5 ? ` and ${known.length - 5} more` : ""}` : "it is empty"})`,
        },
      ]);
    }
  }
  // A check started with repair repairs every target; otherwise each target's recorded policy decides.
  const policyOf = (r: DeploymentRecord): CheckItem["policy"] => (parsed.repair ? "repair" : (r.target.driftPolicy ?? "report"));
  const policy = parsed.repair ? "repair" : "each target's driftPolicy";
  const count = `${chosen.length} target${chosen.length === 1 ? "" : "s"}`;
  return {
    check: {
      reason: `Drift check of ${count} (policy ${policy}): served certificate, Milvus, Service type and our Ingress against what was recorded.`,
      repair: parsed.repair,
      ...(parsed.targetId !== undefined ? { targetId: parsed.targetId } : {}),
    },
    wait: { maxPolls: maxPollsFor(REPAIR_WAIT_SECONDS, opts.watchSeconds) },
    checks: chosen.map((r) => checkItem(r, policyOf(r), expiryWarningDays)),
  };
}

function checkItem(r: DeploymentRecord, policy: CheckItem["policy"], expiryWarningDays: number): CheckItem {
  return {
    targetId: r.targetId,
    target: copyTarget(r.target),
    policy,
    recorded: {
      certificateArn: r.certificateArn,
      fingerprint256: r.servedFingerprint256,
      notAfter: r.servedNotAfter,
      albHostname: r.albHostname,
      lastVerified: r.lastVerified,
    },
    // With a recorded source, ReadRecordedCertificate re-imports into the ARN what the source holds if it is newer
    // (a cert-manager renewal, a rotated secret): the renewal rule, so the check never puts back an older one.
    certificateRequest: {
      arn: r.certificateArn,
      ...(r.certificateSource ? { source: structuredClone(r.certificateSource), onlyIfNewer: true } : {}),
      // InspectTarget reports a certificate this close to expiry (with nothing newer at its source) as a finding.
      expiryWarningDays,
    },
  };
}

// The end of a drift check: per target, RecordCheck writes what the check found into the registry (lastChecked,
// drift, and after a repair or a renewal the new verification) and releases the lease in the same transaction; once
// every target is done, SummariseCheck ends the run — cleanly when nothing drifted or every drift was repaired,
// otherwise as DriftFound with each target's findings in the Cause (docs/architecture.md, "The drift check").
import { DriftFound } from "../lib/errors";
import type { Registry } from "../lib/registry";
import type {
  CheckInspection,
  CheckItem,
  CheckPlan,
  CheckSummary,
  ImportedCertificate,
  PatchServiceResult,
  VerifyResult,
} from "../lib/state";

/** A target's state in the check's Map when RecordCheck runs: the plan's item plus what each Task added. */
export interface CheckedTargetState extends CheckItem {
  certificate: ImportedCertificate;
  inspection: CheckInspection;
  /** VerifyCheckedTarget's result, or after a repair VerifyRepairedTarget's. */
  verification?: VerifyResult;
  /** VerifyCheckedTarget's caught failure: itself a finding. */
  verifyError?: { Error: string; Cause?: string };
  /** Set by RepairCutOver: present only when the target was repaired. */
  service?: PatchServiceResult;
}

export type RecordCheckInput =
  | { action: "record"; state: CheckedTargetState; executionArn: string }
  | { action: "summarise"; check: CheckPlan["check"]; results: CheckSummary[] };

export interface RecordCheckDeps {
  registry: Pick<Registry, "recordCheck">;
  now?: () => Date;
}

export async function recordCheck(input: RecordCheckInput, deps: RecordCheckDeps): Promise<unknown> {
  return input.action === "summarise" ? summariseCheck(input.check, input.results) : recordTarget(input.state, input.executionArn, deps);
}

/** Every finding of one target: the inspection's, and the failed verification through the ALB as one more. */
export function findingsOf(state: Pick<CheckedTargetState, "inspection" | "verifyError">): string[] {
  const findings = [...state.inspection.findings];
  if (state.verifyError) {
    findings.push(`Verification through the ALB failed: ${state.verifyError.Error}: ${state.verifyError.Cause ?? "(no cause)"}`);
  }
  return findings;
}

export async function recordTarget(state: CheckedTargetState, executionArn: string, deps: RecordCheckDeps): Promise<CheckSummary> {
  const { target, inspection, recorded } = state;
  const drift = findingsOf(state);
  const repaired = state.service !== undefined;
  // A renewal from the recorded source (re-imported into the same ARN) is no finding, but changes what is served.
  const renewed = inspection.renewed === true;
  const verification = repaired || !state.verifyError ? state.verification : undefined;
  const lastChecked = (deps.now?.() ?? new Date()).toISOString();
  await deps.registry.recordCheck(state.targetId, {
    lastChecked,
    drift,
    lastExecution: executionArn,
    // A repair, or a renewal proven served, verified the target again: what it serves now is the record's, so the
    // next check compares with the renewed certificate. An unproven renewal is not recorded, and the next check
    // (finding it in ACM, not at the source) verifies it again.
    ...((repaired || renewed) && verification
      ? {
          albHostname: verification.albHostname,
          servedFingerprint256: verification.servedFingerprint256,
          servedNotAfter: verification.servedNotAfter,
          milvusAuth: verification.milvusAuth,
          lastVerified: lastChecked,
        }
      : {}),
  });
  return {
    targetId: state.targetId,
    host: target.ingress.host,
    namespace: target.namespace,
    service: target.service.name,
    ingress: target.ingress.name,
    albHostname: verification?.albHostname ?? recorded.albHostname,
    addressesVerified: verification?.addresses.length ?? 0,
    // Empty when verification failed: what was served (if anything) is in the finding.
    servedFingerprint256: verification?.servedFingerprint256 ?? "",
    servedNotAfter: verification?.servedNotAfter ?? recorded.notAfter,
    milvusVersion: verification?.milvusVersion ?? "",
    milvusAuth: verification?.milvusAuth ?? "none",
    serviceType: state.service?.type ?? inspection.serviceType,
    previousServiceType: state.service?.previousType ?? inspection.serviceType,
    warnings: [...(state.service?.warnings ?? []), ...(verification?.warnings ?? [])],
    drift,
    daysToExpiry: inspection.daysToExpiry,
    policy: state.policy,
    repaired,
    renewed,
    lastChecked,
  };
}

/** The check run's output; with unrepaired drift, DriftFound naming every drifted target and its findings. */
export function summariseCheck(check: CheckPlan["check"], results: readonly CheckSummary[]) {
  const drifted = results.filter((r) => r.drift.length > 0 && !r.repaired);
  if (drifted.length > 0) {
    const listed = drifted.map((r) => `${r.targetId}: ${r.drift.join(" ")}`).join(" | ");
    throw new DriftFound(
      `${drifted.length} of ${results.length} target${results.length === 1 ? "" : "s"} drifted from what milvus-l7 applied: ${listed} ` +
        "Re-run with repair (milvus-l7 check --repair, or the input {\"check\": {\"repair\": true}}) to re-apply the Ingress, cut over again and verify.",
    );
  }
  return { status: "SUCCEEDED", check, targets: results };
}

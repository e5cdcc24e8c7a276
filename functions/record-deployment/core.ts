// The end of a target's path: record it in the deployments registry (so renewals know where a certificate is
// served), release its lease in the same transaction, and return the target's summary for the execution output.
import type { ImportedCertificate, IngressState, PatchServiceResult, PlannedCertificate, Target, TargetSummary, VerifyResult } from "../lib/state";
import type { StepMetrics } from "../lib/metrics";
import { type Registry, targetIdOf } from "../lib/registry";

export interface RecordDeploymentInput {
  target: Target;
  certificate: ImportedCertificate;
  /** The plan's certificate: where renewals read the next PEMs from. */
  certificateRequest: PlannedCertificate;
  verification: VerifyResult;
  service: PatchServiceResult;
  /**
   * `$.ingress`, for ApplyIngress's preflight warnings. Optional: an execution keeps the definition it started
   * with, so one started before the ASL passed it reaches an updated function without it.
   */
  ingress?: Pick<IngressState, "preflightWarnings">;
  executionArn: string;
}

export interface RecordDeploymentDeps {
  registry: Registry;
  now?: () => Date;
  /** Where DaysToExpiry goes (functions/lib/metrics.ts); absent, nothing is emitted. */
  metrics?: StepMetrics;
}

const DAY_MS = 86_400_000;

export async function recordDeployment(input: RecordDeploymentInput, deps: RecordDeploymentDeps): Promise<TargetSummary> {
  const { target, verification, service } = input;
  const targetId = targetIdOf(target);
  const now = deps.now?.() ?? new Date();
  await deps.registry.record({
    targetId,
    target,
    certificateArn: input.certificate.arn,
    ...(input.certificateRequest.source ? { certificateSource: input.certificateRequest.source } : {}),
    albHostname: verification.albHostname,
    servedFingerprint256: verification.servedFingerprint256,
    servedNotAfter: verification.servedNotAfter,
    milvusAuth: verification.milvusAuth,
    lastVerified: now.toISOString(),
    lastExecution: input.executionArn,
  });
  // From what the ALB was seen to serve, not what was imported: the dashboard's days left per target.
  const daysToExpiry = Math.floor((Date.parse(verification.servedNotAfter) - now.getTime()) / DAY_MS);
  deps.metrics?.add("DaysToExpiry", daysToExpiry, { targetId });
  return {
    targetId,
    host: target.ingress.host,
    namespace: target.namespace,
    service: target.service.name,
    ingress: target.ingress.name,
    albHostname: verification.albHostname,
    // Every address resolved was verified, or the step failed.
    addressesVerified: verification.addresses.length,
    servedFingerprint256: verification.servedFingerprint256,
    servedNotAfter: verification.servedNotAfter,
    milvusVersion: verification.milvusVersion,
    milvusAuth: verification.milvusAuth,
    serviceType: service.type,
    previousServiceType: service.previousType,
    warnings: [...(input.ingress?.preflightWarnings ?? []), ...service.warnings, ...verification.warnings],
  };
}

// Records a verified target in the deployments registry, so renewals know where a certificate is served.
import type { ImportedCertificate, PlannedCertificate, Target } from "../lib/plan";
import { type Registry, targetIdOf } from "../lib/registry";
import type { VerifyResult } from "../verify-connection/core";

export interface RecordDeploymentInput {
  target: Target;
  certificate: ImportedCertificate;
  /** The plan's certificate: where renewals read the next PEMs from. */
  certificateRequest: PlannedCertificate;
  verification: VerifyResult;
  executionArn: string;
}

export interface RecordDeploymentDeps {
  registry: Registry;
  now?: () => Date;
}

export async function recordDeployment(input: RecordDeploymentInput, deps: RecordDeploymentDeps) {
  const targetId = targetIdOf(input.target);
  const lastVerified = (deps.now?.() ?? new Date()).toISOString();
  await deps.registry.record({
    targetId,
    target: input.target,
    certificateArn: input.certificate.arn,
    ...(input.certificateRequest.source ? { certificateSource: input.certificateRequest.source } : {}),
    albHostname: input.verification.albHostname,
    servedFingerprint256: input.verification.servedFingerprint256,
    servedNotAfter: input.verification.servedNotAfter,
    lastVerified,
    lastExecution: input.executionArn,
  });
  return { targetId, lastVerified };
}

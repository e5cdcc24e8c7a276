// The expiry safety net: a certificate 10 days from expiry, and ACM's approaching-expiration event while its
// source still holds that same certificate (the renewal at the source never happened). The renewal imports
// nothing, and instead of ending SKIPPED the run fails as CertificateExpiring, which the failure alert publishes
// with the days left and the source to renew.
import { HOST } from "../index";
import { approachingExpiration } from "./renewal";
import { type Scenario, observedRun } from "./scenario";

/** Inside the default 14-day threshold (DEFAULT_EXPIRY_WARNING_DAYS in functions/lib/state.ts). */
export const EXPIRING_IN_DAYS = 10;

export const expiring: Scenario = {
  name: "expiring",
  summary:
    "a certificate 10 days from expiry whose source holds nothing newer: the renewal ends FAILED as CertificateExpiring and the alert topic gets the days left",
  async run(sandbox, ctx) {
    // A few minutes past the 10 days, so that whole days left read 10 whatever the run's duration.
    const notAfter = new Date(Date.now() + EXPIRING_IN_DAYS * 86_400_000 + 5 * 60_000);
    const certificate = await sandbox.newCertificate([HOST], { notAfter });
    const secretArn = await sandbox.storeInSecret(certificate);
    ctx.say(`A deployment with a certificate for ${HOST} that expires ${notAfter.toISOString()} (in ${EXPIRING_IN_DAYS} days):`);
    const deployed = await observedRun(sandbox, ctx, "first deployment", sandbox.request(secretArn));
    const output = deployed.run.output as { certificate?: { arn?: string } } | undefined;
    const certificateArn = deployed.run.status === "SUCCEEDED" ? output?.certificate?.arn : undefined;
    if (!certificateArn) return [deployed];

    ctx.say(`Nobody renewed it at the source (${secretArn} still holds it). ACM reports ${certificateArn} approaching expiration:`);
    const renewal = await observedRun(sandbox, ctx, "renewal", approachingExpiration(certificateArn));
    return [deployed, renewal];
  },
};

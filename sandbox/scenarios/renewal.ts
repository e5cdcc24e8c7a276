// Renewal: a deployed certificate renewed by the same CA. ACM's "Certificate Approaching Expiration" event starts
// the workflow (as the stack's EventBridge rule does), which finds the deployments that use the certificate in the
// registry, re-imports the renewed one from their source into the same ARN, and verifies the ALB serves it.
import { readFileSync } from "node:fs";
import { fingerprintOf } from "../../functions/lib/certificates";
import { HOST, type Sandbox } from "../index";
import { type Scenario, type ScenarioContext, observedRun } from "./scenario";

const APPROACHING_EXPIRATION = new URL("../../events/acm-approaching-expiration.json", import.meta.url);

/** The sample ACM event, about `certificateArn`. */
export function approachingExpiration(certificateArn: string): Record<string, unknown> {
  const event = JSON.parse(readFileSync(APPROACHING_EXPIRATION, "utf8")) as Record<string, unknown>;
  return { ...event, resources: [certificateArn] };
}

export const RENEWED_VALIDITY_DAYS = 180;

/** The first run of a renewal story: a deployment from a new secret, and what a renewal needs of it. */
export async function deploymentToRenew(sandbox: Sandbox, ctx: ScenarioContext) {
  ctx.say("First, a deployment to renew:");
  const first = await sandbox.newCertificate();
  const secretArn = await sandbox.storeInSecret(first);
  const deployed = await observedRun(sandbox, ctx, "first deployment", sandbox.request(secretArn));
  const output = deployed.run.output as { certificate?: { arn?: string }; targets?: { albHostname?: string }[] } | undefined;
  const certificateArn = deployed.run.status === "SUCCEEDED" ? output?.certificate?.arn : undefined;
  return { first, secretArn, deployed, certificateArn, albHostname: output?.targets?.[0]?.albHostname };
}

export const renewal: Scenario = {
  name: "renewal",
  summary:
    "a deployment, then ACM's approaching-expiration event: the certificate renewed by the same CA is re-imported into the same ARN and the ALB verified to serve it",
  async run(sandbox, ctx) {
    const { first, secretArn, deployed, certificateArn } = await deploymentToRenew(sandbox, ctx);
    if (!certificateArn) return [deployed];

    const renewed = await sandbox.newCertificate([HOST], { ca: first, notAfter: new Date(Date.now() + RENEWED_VALIDITY_DAYS * 86_400_000) });
    await sandbox.storeInSecret(renewed);
    ctx.say(
      `${renewed.leaf.cert.issuer} issued a renewed certificate for ${HOST} (new key, valid until ${renewed.leaf.cert.notAfter.toISOString()}) into ${secretArn}`,
    );
    ctx.say(`ACM reports ${certificateArn} approaching expiration:`);
    const renewedRun = await observedRun(sandbox, ctx, "renewal", approachingExpiration(certificateArn), async () => ({
      previousCertificate: { issuer: first.leaf.cert.issuer, fingerprint256: fingerprintOf(first.leaf.certPem) },
      renewedCertificate: { issuer: renewed.leaf.cert.issuer, fingerprint256: fingerprintOf(renewed.leaf.certPem) },
    }));
    return [deployed, renewedRun];
  },
};

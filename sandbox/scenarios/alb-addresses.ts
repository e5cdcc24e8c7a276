// Where the ALB is reached: every node of it, and only from where its addresses are. An ALB has a node per
// Availability Zone and DNS hands clients any of them, so verification proves each; an internal ALB's addresses are
// in the VPC only, so a stack whose verifier runs outside the VPC refuses it up front.
import { fingerprintOf } from "../../functions/lib/certificates";
import { HOST } from "../index";
import { RENEWED_VALIDITY_DAYS, approachingExpiration, deploymentToRenew } from "./renewal";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

/** The node that lags: the second address DNS returns for the ALB. */
const STALE_NODE = 1;

export const staleAlbNode: Scenario = {
  name: "stale-alb-node",
  summary:
    "a renewal by the same CA that one ALB node never picks up: verification checks every address, fails with EndpointNotReady naming that node and the certificate it serves, and the registry keeps what was proven",
  async run(sandbox, ctx) {
    const { first, secretArn, deployed, certificateArn, albHostname } = await deploymentToRenew(sandbox, ctx);
    if (!certificateArn || !albHostname) return [deployed];

    const addresses = sandbox.alb.resolve(albHostname).map((a) => `${a.address}:${a.port}`);
    ctx.say(`${albHostname} resolves to ${addresses.length} addresses, one per ALB node: ${addresses.join(", ")}`);
    const renewed = await sandbox.newCertificate([HOST], { notAfter: new Date(Date.now() + RENEWED_VALIDITY_DAYS * 86_400_000) });
    await sandbox.storeInSecret(renewed);
    ctx.say(`${renewed.leaf.cert.issuer}, the same CA, issued a renewed certificate for ${HOST} into ${secretArn}`);
    ctx.say(`ALB node ${addresses[STALE_NODE]} keeps serving the previous certificate after the re-import, for the whole run`);
    sandbox.alb.setFault({ nodeCertificateLagMs: { [STALE_NODE]: Number.POSITIVE_INFINITY } });
    const event = approachingExpiration(certificateArn);
    try {
      const renewal = await observedRun(sandbox, ctx, "renewal", event, async () => ({
        albAddresses: addresses,
        staleNode: addresses[STALE_NODE],
        previousCertificate: fingerprintOf(first.leaf.certPem),
        renewedCertificate: fingerprintOf(renewed.leaf.certPem),
        sameIssuer: renewed.leaf.cert.issuer === first.leaf.cert.issuer,
        registryServedFingerprint256: (await sandbox.registry.forCertificate(certificateArn)).map((r) => r.servedFingerprint256),
      }));
      return [deployed, renewal];
    } finally {
      sandbox.alb.setFault({});
    }
  },
};

export const internalAlbRefused: Scenario = {
  name: "internal-alb-refused",
  summary:
    "ingress.scheme internal in a stack whose verify-connection runs outside the VPC: refused by the first step, naming the field and the VPC context to deploy with; nothing is imported or changed",
  async run(sandbox, ctx) {
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { ingress: Record<string, unknown> };
    request.ingress.scheme = "internal";
    ctx.say("The stack was deployed without vpcId, vpcSubnetIds and securityGroupId: verify-connection runs outside the VPC");
    ctx.say(`The request asks for an internal ALB in front of Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service}`);
    sandbox.setVerifierInVpc(false);
    try {
      return [await observedRun(sandbox, ctx, "internal ALB, verifier outside the VPC", request)];
    } finally {
      sandbox.setVerifierInVpc(true);
    }
  },
};

// cert-manager as the certificate source: cert-manager issues the demo host's certificate into a kubernetes.io/tls
// Secret in the cluster (sandbox/cert-manager.ts writes it as its issuing controller does); milvus-l7 deploys from
// that Secret, reading it with one GET, and imports it into ACM. cert-manager then renews it (same CA, new key,
// later expiry) and the scheduled drift check, `{"check": {}}`, finds the newer certificate in the recorded Secret,
// re-imports it into the same ARN and verifies the target against it: the ALB serves the renewed certificate without
// any write to the cluster.
import { GetCertificateCommand } from "@aws-sdk/client-acm";
import { fingerprintOf } from "../../functions/lib/certificates";
import { HOST, type Sandbox } from "../index";
import type { WorkflowRun } from "../workflow";
import { settled } from "./drift";
import { DEMO_TARGET, type Scenario, type ScenarioRun, observedRun } from "./scenario";

/** The Secret a cert-manager Certificate for the demo host names as its spec.secretName. */
export const TLS_SECRET = { namespace: DEMO_TARGET.namespace, name: "milvus-demo-tls", certificateName: "milvus-demo" } as const;
export const RENEWED_VALIDITY_DAYS = 90;

/** The sandbox's request with `certificate.source.kubernetesSecret` (and `arn`, to re-import into it). */
export function requestFromTlsSecret(sandbox: Sandbox, arn?: string): Record<string, unknown> {
  const request = sandbox.request("unused");
  request.certificate = { ...(arn ? { arn } : {}), source: { kubernetesSecret: { namespace: TLS_SECRET.namespace, name: TLS_SECRET.name } } };
  return request;
}

/** What milvus-l7 asked of the apiserver about Secrets during a run: `GET /api/v1/namespaces/…/secrets/…`. */
function secretRequests(sandbox: Sandbox, from: number): string[] {
  return sandbox.kube.requests
    .slice(from)
    .filter((r) => r.path.includes("/secrets") && !r.user?.startsWith("system:serviceaccount:"))
    .map((r) => `${r.method} ${r.path}`);
}

/** What ACM holds in `arn` now: the check's output names no certificate, so the scenario looks it up. */
async function acmHolds(sandbox: Sandbox, arn: string): Promise<{ arn: string; fingerprint256: string }> {
  const out = await sandbox.aws.acm.send(new GetCertificateCommand({ CertificateArn: arn }));
  return { arn, fingerprint256: out.Certificate ? fingerprintOf(out.Certificate) : "(none)" };
}

const arnOf = (run: WorkflowRun) =>
  run.status === "SUCCEEDED" ? (run.output as { certificate?: { arn?: string } } | undefined)?.certificate?.arn : undefined;

export const certManager: Scenario = {
  name: "cert-manager",
  summary:
    "deploy from the kubernetes.io/tls Secret cert-manager wrote (read with one GET); cert-manager renews it and the drift check re-imports the renewal into the same ARN",
  async run(sandbox, ctx) {
    const first = await sandbox.newCertificate();
    await sandbox.storeInTlsSecret(first, TLS_SECRET);
    const secret = `${TLS_SECRET.namespace}/${TLS_SECRET.name}`;
    ctx.say(`cert-manager issued ${HOST} into Secret ${secret} (kubernetes.io/tls: tls.crt with its chain, tls.key, ca.crt).`);
    let requestsBefore = sandbox.kube.requests.length;
    const deployed = await observedRun(sandbox, ctx, "deploy from the Secret", requestFromTlsSecret(sandbox), async () => ({
      secretRequests: secretRequests(sandbox, requestsBefore),
      issuedCertificate: { fingerprint256: fingerprintOf(first.leaf.certPem) },
    }));
    const arn = arnOf(deployed.run);
    if (!arn) return [deployed];

    const renewed = await sandbox.newCertificate([HOST], { ca: first, notAfter: new Date(Date.now() + RENEWED_VALIDITY_DAYS * 86_400_000) });
    await sandbox.storeInTlsSecret(renewed, TLS_SECRET);
    ctx.say(`cert-manager renewed the certificate in ${secret} (same CA, new key, valid until ${renewed.leaf.cert.notAfter.toISOString()}).`);
    // cert-manager's write is its own, not the check's: let the cluster settle before the check counts writes.
    await settled(sandbox);
    ctx.say('The check schedule starts the workflow with {"check": {}}; the registry recorded the Secret as the source:');
    requestsBefore = sandbox.kube.requests.length;
    const checked: ScenarioRun = await observedRun(sandbox, ctx, "drift check", { check: {} }, async () => ({
      secretRequests: secretRequests(sandbox, requestsBefore),
      certificateInAcm: await acmHolds(sandbox, arn),
      previousCertificate: { fingerprint256: fingerprintOf(first.leaf.certPem) },
      renewedCertificate: { fingerprint256: fingerprintOf(renewed.leaf.certPem) },
    }));
    return [deployed, checked];
  },
};

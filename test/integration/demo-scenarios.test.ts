// Every `milvus-l7 demo --scenario NAME` as a user runs it — a separate process, the JSON summary on stdout — with
// what each scenario is there to show; plus --list and the usage errors. A scenario added to the registry
// without an entry in OUTCOMES below fails the coverage test.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runDemo } from "../../cli/demo";
import { SCENARIOS } from "../../sandbox/scenarios";
import { BAD_FIELD } from "../../sandbox/scenarios/failures";
import { MISSING_CLASS, PARAMS_SCHEME, SERVICE_ANNOTATION } from "../../sandbox/scenarios/cluster-config";
import { PEER, REQUESTED_SSL_POLICY } from "../../sandbox/scenarios/ingress-groups";
import { captured } from "../cli-io";

const exec = promisify(execFile);
/** A separate process on a shared, sometimes saturated machine: generous, and not a speed test. */
const PROCESS_TIMEOUT_MS = 170_000;
const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

interface Target {
  host: string;
  albHostname: string;
  addressesVerified: number;
  servedFingerprint256: string;
  servedNotAfter: string;
  serviceType: string;
  previousServiceType: string;
  milvusAuth: string;
  warnings: string[];
}
interface RunSummary {
  label: string;
  status: string;
  certificateArn?: string;
  certificateImported?: boolean;
  targets: Target[];
  serviceTypeInCluster?: string;
  ingressInCluster: string;
  changesInCluster: string[];
  kubernetesWrites: number;
  transitions: number;
  wallMs: number;
  error?: string;
  cause?: string;
  alerts?: string[];
  observed?: Record<string, unknown>;
}
interface Summary extends RunSummary {
  scenario: string;
  runs?: RunSummary[];
}

async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["bin/milvus-l7.mjs", "demo", ...args], { timeout: PROCESS_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

async function scenarioJson(name: string): Promise<{ code: number; summary: Summary }> {
  const { code, stdout, stderr } = await demo(["--scenario", name, "--json"]);
  const lines = stdout.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  return { code, summary: JSON.parse(lines[0] ?? "") as Summary };
}

const DEMO_INGRESS = "milvus/milvus-demo";
const DEPLOYED_CHANGES = [`apply Ingress ${DEMO_INGRESS}`, `patch Service ${DEMO_INGRESS}`];

/** A refusal found in the cluster by ApplyIngress's preflight: nothing was written, the Layer-4 path is as it was. */
function refusedBeforeAnyWrite(s: RunSummary, error: string) {
  expect(s).toMatchObject({ status: "FAILED", error, serviceTypeInCluster: "LoadBalancer", ingressInCluster: "absent" });
  expect(s.changesInCluster).toEqual([]);
  expect(s.targets).toEqual([]);
}

/** What each scenario shows, checked on its JSON summary and exit status. */
const OUTCOMES: Record<string, (code: number, s: Summary) => void> = {
  "source-ranges-annotation"(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "source-ranges-annotation", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    expect(s.changesInCluster).toEqual(DEPLOYED_CHANGES);
    expect(s.observed).toEqual({ sourceRangesAnnotationAfter: null });
    expect(s.targets[0]?.warnings).toContainEqual(
      expect.stringContaining("admitted only 10.0.0.0/8, 192.168.0.0/16; the ALB does not inherit that: set the annotation alb.ingress.kubernetes.io/inbound-cidrs"),
    );
  },
  "china-region"(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "china-region", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    expect(s.certificateArn).toMatch(/:acm:cn-north-1:/);
    expect(s.targets[0]?.albHostname).toMatch(/\.cn-north-1\.elb\.amazonaws\.com\.cn$/);
    // The cluster's authenticator (partition aws-cn) accepted every token the steps presented.
    expect(s.observed).toMatchObject({ region: "cn-north-1", refusedTokens: [] });
    expect((s.observed as { kubernetesRequests: number }).kubernetesRequests).toBeGreaterThan(0);
  },
  deploy(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "deploy", status: "SUCCEEDED", certificateImported: true, serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    expect(s.changesInCluster).toEqual(DEPLOYED_CHANGES);
    expect(s.targets).toEqual([
      expect.objectContaining({ host: "milvus-demo.milvus.io", servedFingerprint256: expect.stringMatching(FINGERPRINT), previousServiceType: "LoadBalancer", serviceType: "ClusterIP" }),
    ]);
    // The demo's Milvus has no authentication and the ALB is internet-facing: said, with how to close it.
    expect(s.targets[0]?.milvusAuth).toBe("none");
    expect(s.targets[0]?.warnings).toContainEqual(expect.stringContaining("anyone who can resolve the host can read and write its collections"));
    expect(s).not.toHaveProperty("runs");
  },

  renewal(code, s) {
    expect(code).toBe(0);
    const [deployed, renewed] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status])).toEqual([
      ["first deployment", "SUCCEEDED"],
      ["renewal", "SUCCEEDED"],
    ]);
    // The top level is the last run's outcome.
    expect(s).toMatchObject({ scenario: "renewal", status: "SUCCEEDED", label: "renewal", certificateArn: renewed?.certificateArn });
    // Re-imported into the same ARN; the ALB now serves the renewed certificate, issued by the same CA.
    expect(renewed?.certificateArn).toBe(deployed?.certificateArn);
    expect(renewed?.certificateImported).toBe(true);
    const before = deployed?.targets[0];
    const after = renewed?.targets[0];
    const observed = renewed?.observed as { previousCertificate: { issuer: string; fingerprint256: string }; renewedCertificate: { issuer: string; fingerprint256: string } };
    expect(before?.servedFingerprint256).toBe(observed.previousCertificate.fingerprint256);
    expect(after?.servedFingerprint256).toBe(observed.renewedCertificate.fingerprint256);
    expect(after?.servedFingerprint256).not.toBe(before?.servedFingerprint256);
    expect(observed.renewedCertificate.issuer).toBe(observed.previousCertificate.issuer);
    expect(Date.parse(after?.servedNotAfter ?? "")).toBeGreaterThan(Date.parse(before?.servedNotAfter ?? ""));
    // Same Ingress, same ALB: a renewal changes nothing in the cluster.
    expect(after?.albHostname).toBe(before?.albHostname);
    expect(deployed?.changesInCluster).toEqual(DEPLOYED_CHANGES);
    expect(renewed?.changesInCluster).toEqual([]);
    expect(renewed?.serviceTypeInCluster).toBe("ClusterIP");
  },

  expiring(code, s) {
    expect(code).toBe(1);
    const [deployed, renewal] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status, r.error])).toEqual([
      ["first deployment", "SUCCEEDED", undefined],
      ["renewal", "FAILED", "CertificateExpiring"],
    ]);
    // A successful deployment alerts nobody; the renewal that found nothing newer does, with the days left.
    expect(deployed?.alerts).toBeUndefined();
    expect(renewal?.cause).toMatch(/^Certificate arn:aws:acm:\S+ expires in 10 days \(notAfter [^)]+\) and its source, secret arn:aws:secretsmanager:\S+, holds no newer certificate/);
    expect(renewal?.cause).toContain("Renew it at the source");
    expect(renewal?.alerts).toHaveLength(1);
    expect(renewal?.alerts?.[0]).toContain(`ended FAILED: CertificateExpiring: ${renewal?.cause}`);
    expect(renewal?.alerts?.[0]).toContain("expires in 10 days");
    // Nothing was imported and nothing in the cluster changed.
    expect(renewal?.changesInCluster).toEqual([]);
    expect(renewal?.serviceTypeInCluster).toBe("ClusterIP");
  },

  drift(code, s) {
    expect(code).toBe(0);
    const [deployed, check] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status])).toEqual([
      ["deployment", "SUCCEEDED"],
      ["drift check (repair)", "SUCCEEDED"],
    ]);
    expect(deployed?.kubernetesWrites).toBeGreaterThan(0);
    const target = check?.targets[0] as (Target & { drift: string[]; repaired: boolean; daysToExpiry: number }) | undefined;
    // Both findings, each naming the object, the field and who changed it.
    expect(target?.drift).toEqual([
      expect.stringMatching(/^Service milvus\/milvus-demo is type LoadBalancer, not ClusterIP \(spec\.type set by helm\)/),
      expect.stringMatching(
        /^Ingress milvus\/milvus-demo: annotation alb\.ingress\.kubernetes\.io\/ssl-policy is "ELBSecurityPolicy-2016-08", milvus-l7 applied "ELBSecurityPolicy-TLS13-1-2-2021-06" \(changed by kubectl-annotate\)/,
      ),
    ]);
    // Repaired: our annotation back (and ours again), the Service ClusterIP again, and verified through the ALB.
    expect(target).toMatchObject({ repaired: true, serviceType: "ClusterIP", previousServiceType: "LoadBalancer", addressesVerified: 2 });
    expect(target?.servedFingerprint256).toBe(deployed?.targets[0]?.servedFingerprint256);
    expect(target?.daysToExpiry).toBeGreaterThan(0);
    expect(check?.observed).toEqual({ sslPolicyInCluster: "ELBSecurityPolicy-TLS13-1-2-2021-06", sslPolicyOwnedBy: ["milvus-l7"] });
    expect(check?.serviceTypeInCluster).toBe("ClusterIP");
    expect(check?.changesInCluster).toEqual(DEPLOYED_CHANGES);
  },

  "drift-clean"(code, s) {
    expect(code).toBe(0);
    const [deployed, check] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status])).toEqual([
      ["deployment", "SUCCEEDED"],
      ["drift check", "SUCCEEDED"],
    ]);
    const target = check?.targets[0] as (Target & { drift: string[]; repaired: boolean; daysToExpiry: number }) | undefined;
    expect(target).toMatchObject({ drift: [], repaired: false, serviceType: "ClusterIP", addressesVerified: 2 });
    expect(target?.servedFingerprint256).toBe(deployed?.targets[0]?.servedFingerprint256);
    // A clean check reads: not one mutating request reached the apiserver during it, from anyone.
    expect(check?.kubernetesWrites).toBe(0);
    expect(check?.changesInCluster).toEqual([]);
    expect(check?.alerts).toBeUndefined();
  },

  "cert-manager"(code, s) {
    expect(code).toBe(0);
    const [deployed, check] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status])).toEqual([
      ["deploy from the Secret", "SUCCEEDED"],
      ["drift check", "SUCCEEDED"],
    ]);
    // Each run read the Secret with exactly one GET of that one object (what the RBAC grant allows).
    for (const run of [deployed, check]) {
      expect(run?.observed?.secretRequests).toEqual(["GET /api/v1/namespaces/milvus/secrets/milvus-demo-tls"]);
    }
    const issued = deployed?.observed as { issuedCertificate: { fingerprint256: string } };
    expect(deployed).toMatchObject({ certificateImported: true, serviceTypeInCluster: "ClusterIP" });
    expect(deployed?.targets[0]?.servedFingerprint256).toBe(issued.issuedCertificate.fingerprint256);
    expect(deployed?.changesInCluster).toEqual(DEPLOYED_CHANGES);
    // The check found cert-manager's renewal in the recorded Secret and re-imported it into the same ARN; the ALB
    // serves it. A renewal, not drift, and an ACM write only: the cluster is not touched.
    const observed = check?.observed as {
      certificateInAcm: { arn: string; fingerprint256: string };
      previousCertificate: { fingerprint256: string };
      renewedCertificate: { fingerprint256: string };
    };
    expect(observed.renewedCertificate.fingerprint256).not.toBe(observed.previousCertificate.fingerprint256);
    expect(observed.certificateInAcm).toEqual({ arn: deployed?.certificateArn, fingerprint256: observed.renewedCertificate.fingerprint256 });
    const target = check?.targets[0] as (Target & { drift: string[]; renewed: boolean; repaired: boolean; daysToExpiry: number }) | undefined;
    expect(target).toMatchObject({ drift: [], renewed: true, repaired: false, serviceType: "ClusterIP", addressesVerified: 2 });
    expect(target?.servedFingerprint256).toBe(observed.renewedCertificate.fingerprint256);
    expect(target?.albHostname).toBe(deployed?.targets[0]?.albHostname);
    expect(target?.daysToExpiry).toBeGreaterThan(80);
    expect(check?.kubernetesWrites).toBe(0);
    expect(check?.changesInCluster).toEqual([]);
    expect(check?.alerts).toBeUndefined();
    expect(s).toMatchObject({ scenario: "cert-manager", status: "SUCCEEDED", label: "drift check" });
  },

  rollback(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "rollback", status: "FAILED", error: "EndpointNotReady", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "absent" });
    expect(s.cause).toContain("UNAVAILABLE (14)");
    expect(s.changesInCluster).toEqual([`apply Ingress ${DEMO_INGRESS}`, `delete Ingress ${DEMO_INGRESS}`]);
    expect(s.observed).toEqual({ albForIngress: "deleted by the load balancer controller" });
    expect(s.targets).toEqual([]);
  },

  "targets-unhealthy"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "targets-unhealthy", status: "FAILED", error: "EndpointNotReady", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "present" });
    // What ELB and the TargetGroupBinding say, in the Cause, with what to fix.
    expect(s.cause).toContain("Diagnosis: Target health (ELB DescribeTargetHealth)");
    expect(s.cause).toContain('0 of 1 targets healthy; 1 unhealthy with Target.Timeout ("Request timed out")');
    expect(s.cause).toMatch(/FailedNetworkReconcile: expected exactly one securityGroup tagged with kubernetes\.io\/cluster\/milvus-eks for eni eni-[0-9a-f]+, got: \[\]/);
    expect(s.cause).toContain("must allow the ALB's security group on the target port");
    expect(s.cause).toContain("exactly one of the ENI's security groups must carry that tag");
    // The Cause agrees with what ELB and the cluster hold after the run.
    const observed = s.observed as { targetHealth: string[]; bindingWarnings: string[] };
    expect(observed.targetHealth).toEqual([expect.stringMatching(/^k8s-milvus-milvusde-[0-9a-f]{10} \S+ unhealthy Target\.Timeout$/)]);
    expect(observed.bindingWarnings).toHaveLength(1);
    expect(s.cause).toContain(observed.bindingWarnings[0]?.replace(/^[^:]+: /, ""));
    // The Layer-4 path is untouched: only the Ingress was written.
    expect(s.changesInCluster).toEqual([`apply Ingress ${DEMO_INGRESS}`]);
    expect(s.targets).toEqual([]);
  },

  "ingress-deleting"(code, s) {
    expect(code).toBe(0);
    const [rolledBack, rerun] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status])).toEqual([
      ["deployment rolled back", "FAILED"],
      ["re-run while the Ingress is terminating", "SUCCEEDED"],
    ]);
    // The rollback deleted the Ingress; the controller still held it by its finalizer when the run ended.
    expect(rolledBack).toMatchObject({ error: "EndpointNotReady", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "deleting" });
    expect(rolledBack?.changesInCluster).toEqual([`apply Ingress ${DEMO_INGRESS}`, `delete Ingress ${DEMO_INGRESS}`]);
    expect(rolledBack?.observed).toEqual({ ingressFinalizers: ["ingress.k8s.aws/resources"], ingressDeletionRequested: true });
    // The re-run found it terminating, watched it go, then applied a new one and cut over.
    expect(rerun?.observed).toMatchObject({ ingressAtStart: "deleting", watchedTheTerminatingIngress: true, newIngress: true });
    expect((rerun?.observed as { applyIngressSeconds?: number } | undefined)?.applyIngressSeconds ?? 0).toBeGreaterThan(1);
    expect(s).toMatchObject({ scenario: "ingress-deleting", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    expect(rerun?.changesInCluster).toEqual(DEPLOYED_CHANGES);
  },

  "stale-alb-node"(code, s) {
    expect(code).toBe(1);
    const [deployed, renewal] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status])).toEqual([
      ["first deployment", "SUCCEEDED"],
      ["renewal", "FAILED"],
    ]);
    // Every node was verified on the way in.
    expect(deployed?.targets[0]?.addressesVerified).toBe(2);
    const observed = renewal?.observed as {
      albAddresses: string[];
      staleNode: string;
      previousCertificate: string;
      renewedCertificate: string;
      sameIssuer: boolean;
      registryServedFingerprint256: string[];
    };
    expect(observed.albAddresses).toHaveLength(2);
    expect(observed.sameIssuer).toBe(true);
    // The Cause names the node, what it served and what was imported.
    expect(s).toMatchObject({ scenario: "stale-alb-node", status: "FAILED", error: "EndpointNotReady", serviceTypeInCluster: "ClusterIP" });
    expect(s.cause).toContain(`(${observed.staleNode}, address 2 of 2) serves a different certificate`);
    expect(s.cause).toContain(`served SHA-256 ${observed.previousCertificate}`);
    expect(s.cause).toContain(`imported SHA-256 ${observed.renewedCertificate}`);
    // Nothing changed in the cluster, and the registry still holds what every node provably served.
    expect(s.changesInCluster).toEqual([]);
    expect(observed.registryServedFingerprint256).toEqual([observed.previousCertificate]);
  },

  "internal-alb-refused"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "internal-alb-refused", status: "FAILED", error: "InvalidRequest", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "absent" });
    expect(s.cause).toContain("ingress.scheme: is internal, but this stack runs verify-connection outside the VPC");
    for (const key of ["vpcId", "vpcSubnetIds", "securityGroupId"]) expect(s.cause).toContain(`-c ${key}=`);
    // Refused by the first step: no certificate imported, nothing written to the cluster.
    expect(s.certificateArn).toBeUndefined();
    expect(s.changesInCluster).toEqual([]);
  },

  "bad-request"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "bad-request", status: "FAILED", error: "InvalidRequest", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "absent" });
    expect(s.cause).toContain(`${BAD_FIELD.path}: must be one of internet-facing, internal`);
    // Rejected by the first step: no certificate imported, nothing written to the cluster.
    expect(s.certificateArn).toBeUndefined();
    expect(s.changesInCluster).toEqual([]);
  },

  "milvus-auth"(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "milvus-auth", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP" });
    expect(s.targets[0]?.milvusAuth).toBe("password");
    expect(s.targets[0]?.warnings.join(" ")).not.toContain("anyone who can resolve");
  },

  "milvus-auth-token"(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "milvus-auth-token", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP" });
    expect(s.targets[0]?.milvusAuth).toBe("token");
  },

  "milvus-auth-missing"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "milvus-auth-missing", status: "FAILED", error: "MilvusUnauthenticated", serviceTypeInCluster: "LoadBalancer" });
    expect(s.cause).toContain("requires authentication");
    expect(s.cause).toContain("milvus.credentials");
    expect(s.changesInCluster).toEqual([`apply Ingress ${DEMO_INGRESS}`]);
  },

  "milvus-auth-wrong"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "milvus-auth-wrong", status: "FAILED", error: "MilvusUnauthenticated", serviceTypeInCluster: "LoadBalancer" });
    expect(s.cause).toMatch(/refused the credentials in secret arn:aws:secretsmanager:[^ ]+:secret:milvus-l7\/milvus-credentials-/);
    expect(s.changesInCluster).toEqual([`apply Ingress ${DEMO_INGRESS}`]);
  },

  dns(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "dns", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    const alb = s.targets[0]?.albHostname;
    expect(alb).toContain(".elb.amazonaws.com");
    expect(s.observed).toMatchObject({
      hostedZoneId: expect.any(String),
      aliasRecords: [`milvus-demo.milvus.io A → dualstack.${alb}`, `milvus-demo.milvus.io AAAA → dualstack.${alb}`],
      finalVerificationVia: "dns",
    });
  },

  "milvus-operator"(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "milvus-operator", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    expect(s.targets[0]).toMatchObject({ service: "milvus-op-milvus", previousServiceType: "LoadBalancer", serviceType: "ClusterIP" });
    // Through the CR: milvus-l7 patched the Milvus, never the Service, which only the Operator changed.
    expect(s.changesInCluster).toEqual([`apply Ingress ${DEMO_INGRESS}`, "patch Milvus milvus/milvus-op"]);
    expect(s.observed).toEqual({
      milvusServiceType: "ClusterIP",
      milvusStatus: "Healthy",
      serviceController: "Milvus milvus-op",
      serviceWrites: ["update by manager"],
    });
    const warnings = s.targets[0]?.warnings ?? [];
    expect(warnings.join(" ")).not.toMatch(/helm/i);
    expect(warnings).toContainEqual(expect.stringContaining("Milvus milvus/milvus-op now holds spec.components.proxy.serviceType=ClusterIP"));
  },

  "auto-mode"(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "auto-mode", status: "SUCCEEDED", certificateImported: true, serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    expect(s.changesInCluster).toEqual(DEPLOYED_CHANGES);
    // EKS Auto Mode serves the class, and its ALB serves exactly the certificate milvus-l7 imported.
    expect(s.observed).toEqual({
      ingressClassController: "eks.amazonaws.com/alb",
      ingressClassParams: "eks.amazonaws.com/IngressClassParams alb",
      albListenerCertificateIsImported: true,
    });
    expect(s.targets).toEqual([
      expect.objectContaining({ host: "milvus-demo.milvus.io", servedFingerprint256: expect.stringMatching(FINGERPRINT), previousServiceType: "LoadBalancer", serviceType: "ClusterIP" }),
    ]);
    // Auto Mode injects no readiness gate: the advice is minReadySeconds, not the namespace label.
    const warnings = s.targets[0]?.warnings ?? [];
    expect(warnings).toContainEqual(expect.stringContaining("EKS Auto Mode does not inject that gate"));
    expect(warnings.join(" ")).not.toContain("elbv2.k8s.aws/pod-readiness-gate-inject");
  },

  "ingress-class-missing"(code, s) {
    expect(code).toBe(1);
    expect(s.runs?.map((r) => [r.label, r.status, r.error])).toEqual([
      ["deployment naming a class that does not exist", "FAILED", "ClusterRefused"],
      ["the same deployment, without read access to IngressClasses", "FAILED", "AdmissionDenied"],
    ]);
    const [refused, denied] = s.runs ?? [];
    // The preflight names the class and what the cluster has instead.
    refusedBeforeAnyWrite(refused as RunSummary, "ClusterRefused");
    expect(refused?.cause).toContain(`IngressClass ${MISSING_CLASS} (ingress.className) does not exist`);
    expect(refused?.cause).toContain("The cluster has: alb (ingress.k8s.aws/alb), nginx (k8s.io/ingress-nginx).");
    expect(refused?.cause).toContain("the AWS Load Balancer Controller serves alb: set ingress.className to one of them");
    expect(refused?.observed).toEqual({ ingressClassesInCluster: ["alb (ingress.k8s.aws/alb)", "nginx (k8s.io/ingress-nginx)"] });
    // Unable to read the class, milvus-l7 applies; the controller's webhook (failurePolicy Fail) denies the Ingress.
    expect(s).toMatchObject({ scenario: "ingress-class-missing", label: "the same deployment, without read access to IngressClasses" });
    refusedBeforeAnyWrite(s, "AdmissionDenied");
    expect(denied?.cause).toBe(s.cause);
    expect(s.cause).toContain('the admission webhook "vingress.elbv2.k8s.aws" denied it: invalid ingress class: ingressclasses.networking.k8s.io "alb-public" not found');
    expect(s.cause).toContain("not a missing IAM or RBAC permission");
    expect(s.cause).not.toMatch(/AmazonEKSEditPolicy|IAM role/);
    // What the preflight could not check, and why: the Cause carries it, as a failed run has no summary.
    expect(s.cause).toContain("The preflight could not check everything: milvus-l7 could not read IngressClass alb-public (forbidden)");
    expect(s.observed).toEqual({ lambdaAccess: "namespace milvus only", admissionWebhooks: ["vingress.elbv2.k8s.aws (failurePolicy Fail)"] });
  },

  rbac(code, s) {
    expect(code).toBe(0);
    expect(s.runs?.map((r) => [r.label, r.status, r.serviceTypeInCluster, r.ingressInCluster])).toEqual([
      ["deployment under the least-privilege Role", "SUCCEEDED", "ClusterIP", "present"],
      ["re-run with the read-only ClusterRole", "SUCCEEDED", "ClusterIP", "present"],
    ]);
    const [deployed, rerun] = s.runs ?? [];
    expect(deployed?.changesInCluster).toEqual(DEPLOYED_CHANGES);
    // Under the Role alone, only the preflight's cluster-scoped reads are refused, and the run says what went unchecked.
    expect(deployed?.observed).toEqual({
      lambdaAccess: "RBAC group milvus-l7, Role milvus/milvus-l7",
      refusedRequests: ["GET /apis/networking.k8s.io/v1/ingressclasses/alb", "GET /api/v1/namespaces/milvus"],
    });
    expect(deployed?.targets[0]?.warnings).toContainEqual(expect.stringContaining("milvus-l7 could not read IngressClass alb (forbidden)"));
    // With --cluster-read, nothing is refused and the checks are made; the re-run writes nothing.
    expect(rerun?.observed).toEqual({
      lambdaAccess: "RBAC group milvus-l7, Role milvus/milvus-l7 and ClusterRole milvus-l7-cluster-read",
      refusedRequests: [],
    });
    expect(rerun?.targets[0]?.warnings.join(" ")).not.toContain("could not read");
    expect(rerun?.changesInCluster).toEqual([]);
  },

  "ingress-class-params-override"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "ingress-class-params-override" });
    refusedBeforeAnyWrite(s, "ClusterRefused");
    expect(s.cause).toContain(
      `IngressClassParams alb (of IngressClass alb) sets spec.scheme: ${PARAMS_SCHEME.params}, which wins over the Ingress's alb.ingress.kubernetes.io/scheme, but the request asks for ingress.scheme ${PARAMS_SCHEME.request}`,
    );
    expect(s.cause).toContain(`Set ingress.scheme to ${PARAMS_SCHEME.params} if that is what you want`);
    expect(s.observed).toEqual({ ingressClassParams: { scheme: PARAMS_SCHEME.params }, albsBuilt: 0 });
  },

  "service-annotation-override"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "service-annotation-override" });
    refusedBeforeAnyWrite(s, "ClusterRefused");
    expect(s.cause).toContain(`Service milvus/milvus-demo has the annotation ${SERVICE_ANNOTATION.key}: ${SERVICE_ANNOTATION.value}, which wins over the Ingress's GRPC`);
    expect(s.cause).toContain("the ALB would send Milvus's gRPC calls to an HTTP1 target group, where they fail");
    expect(s.cause).toContain(`kubectl annotate service milvus-demo -n milvus ${SERVICE_ANNOTATION.key}-`);
    expect(s.observed).toEqual({ serviceAnnotation: `${SERVICE_ANNOTATION.key}: ${SERVICE_ANNOTATION.value}`, albsBuilt: 0 });
  },

  "ingress-group-conflict"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "ingress-group-conflict" });
    refusedBeforeAnyWrite(s, "ClusterRefused");
    // The peer, the setting and both values.
    expect(s.cause).toContain(`Ingress ${PEER.namespace}/${PEER.ingress} is in IngressGroup ${PEER.group} too`);
    expect(s.cause).toContain(`ssl-policy on listener port 443 ${PEER.sslPolicy}`);
    expect(s.cause).toContain(`milvus-l7's Ingress gets ${REQUESTED_SSL_POLICY}`);
    // The other team's Ingress keeps its ALB, and the controller never saw a conflicting group.
    expect(s.observed).toEqual({
      peerIngress: `${PEER.namespace}/${PEER.ingress}`,
      peerAlbHostname: expect.stringMatching(/^k8s-shared-[0-9a-f]{10}-\d+\.us-east-2\.elb\.amazonaws\.com$/),
      peerAlbUnchanged: true,
      peerAlbServing: true,
      peerWarningEvents: [],
    });
  },

  "milvus-cluster-v1alpha1"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "milvus-cluster-v1alpha1", status: "FAILED", error: "KubernetesConflict", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "absent" });
    expect(s.cause).toContain("is controlled by MilvusCluster milvus-legacy (milvus.io/v1alpha1)");
    expect(s.cause).toContain("Migrate it to a Milvus (milvus.io/v1beta1)");
    // Refused by ApplyIngress's preflight: nothing written to the cluster.
    expect(s.changesInCluster).toEqual([]);
  },
};

describe("milvus-l7 demo --scenario", () => {
  it("every scenario in the registry has its outcome tested here", () => {
    expect(Object.keys(OUTCOMES).sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.summary}`, async () => {
      const outcome = OUTCOMES[scenario.name];
      if (!outcome) throw new Error(`no outcome for scenario ${scenario.name}`);
      const { code, summary } = await scenarioJson(scenario.name);
      outcome(code, summary);
    }, PROCESS_TIMEOUT_MS + 10_000);
  }

  it("tells the story on a terminal: each run's progress, its summary, and the outcome last", async () => {
    const { code, stdout } = await demo(["--scenario", "bad-request"]);
    expect(code).toBe(1);
    const lines = stdout.split("\n");
    expect(lines).toContain(`Scenario bad-request: ${SCENARIOS.find((s) => s.name === "bad-request")?.summary}`);
    expect(lines).toContain("Running statemachine/milvus-l7.asl.json (invalid request):");
    expect(lines.some((l) => /✗ ResolveRequest: InvalidRequest: .*ingress\.scheme/.test(l))).toBe(true);
    expect(lines).toContain("in cluster:    Service LoadBalancer, Ingress absent");
    expect(lines).toContain("changes:       none");
    expect(lines.filter(Boolean).at(-1)).toMatch(/^FAILED: scenario bad-request, 1 run, in \d/);
  }, PROCESS_TIMEOUT_MS + 10_000);
});

describe("milvus-l7 demo usage", () => {
  it("--list prints every scenario with its one line, and --json as data", async () => {
    let io = captured();
    expect(await runDemo(["--list"], io)).toBe(0);
    const lines = io.out().trimEnd().split("\n");
    expect(lines).toHaveLength(SCENARIOS.length);
    // Name, then its one line, the lines aligned.
    const width = Math.max(...SCENARIOS.map((s) => s.name.length));
    expect(lines).toEqual(SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`));
    io = captured();
    expect(await runDemo(["--list", "--json"], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual(SCENARIOS.map(({ name, summary }) => ({ name, summary })));
  });

  it("an unknown scenario or flag is a usage error (exit 2) that lists the scenarios", async () => {
    for (const args of [["--scenario", "nope"], ["--frobnicate"], ["deploy"], ["--list", "--scenario", "dns"]]) {
      const io = captured();
      expect(await runDemo(args, io), args.join(" ")).toBe(2);
      expect(io.out()).toBe("");
      expect(io.err()).toContain("usage: milvus-l7 demo");
      for (const s of SCENARIOS) expect(io.err()).toContain(`  ${s.name}`);
    }
    const io = captured();
    await runDemo(["--scenario", "nope"], io);
    expect(io.err().split("\n")[0]).toBe(`milvus-l7 demo: --scenario nope: no such scenario (choose one of ${SCENARIOS.map((s) => s.name).join(", ")})`);
  });

  it("the process exits 2 for an unknown scenario, before starting the sandbox", async () => {
    const { code, stdout, stderr } = await demo(["--scenario", "nope"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("no such scenario");
  }, PROCESS_TIMEOUT_MS);
});

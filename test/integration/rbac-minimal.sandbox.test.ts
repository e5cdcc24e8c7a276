// The Role `milvus-l7 rbac` prints is minimal and sufficient. Sufficient: under it alone (an access entry with the
// group and no access policy, the stand-in's RBAC authorizer deciding), a deployment, a re-run, a rollback
// (onFailure: remove-ingress), a diagnosis and the Milvus Operator cutover all succeed as they do with full access.
// Minimal: for every verb of every rule, the Role without that verb makes one of those runs fail, or lose what it
// otherwise reports — each case names the run. One sandbox; every run has its own Milvus Service and Ingress.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KUBERNETES_GROUP, NAMESPACE_RULES, certificateReaderGroup, rbacObjects, rbacYaml, ruleKey } from "../../functions/lib/kubernetes-access";
import { type Sandbox, startSandbox } from "../../sandbox";
import { kubectlApply } from "../../sandbox/kube";
import { TLS_SECRET, requestFromTlsSecret } from "../../sandbox/scenarios/cert-manager";
import type { WorkflowRun } from "../../sandbox/workflow";
import { runWith } from "./faults/harness";

const NS = "milvus";
const UNCHECKED_PODS = "milvus-l7 could not read the pods of Service";

let sandbox: Sandbox;
let secretArn: string;
let serial = 0;

beforeAll(async () => {
  // The address takes longer than an ApplyIngress, so GetIngressStatus always watches for it.
  sandbox = await startSandbox({ watchSeconds: 2, publishDelayMs: 400, healthyDelayMs: 0 });
  secretArn = await sandbox.storeInSecret(await sandbox.newCertificate());
  await sandbox.startMilvusOperator();
  // The Role as an operator installs it: the printed YAML through the real kubectl.
  const applied = await kubectlApply(sandbox.kube, sandbox.kubeAdminToken, rbacYaml({ namespaces: [NS] }));
  expect(applied).toEqual(["role.rbac.authorization.k8s.io/milvus-l7 created", "rolebinding.rbac.authorization.k8s.io/milvus-l7 created"]);
  // Every step signs with the same IAM principal in the sandbox; the stack gives import-certificate a role of its
  // own, whose access entry alone has the certificate readers' group.
  sandbox.kube.setAccessScope({ kubernetesGroups: [DEFAULT_KUBERNETES_GROUP, certificateReaderGroup()] });
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
});

/** Replaces the Role with the printed one less `omit` (`group/resource:verb`). */
function grant(omit: string[] = []): void {
  for (const object of rbacObjects({ namespaces: [NS], omit })) sandbox.kube.put(object);
}

type Kind = "deploy" | "operator" | "rollback" | "unhealthy";

/** A request for a Milvus Service and Ingress of its own: the chart's Service, or one the Milvus Operator owns. */
async function requestFor(kind: Kind): Promise<{ request: Record<string, unknown>; service: string; ingress: string }> {
  serial += 1;
  const ingress = `rbac-${kind}-${serial}`;
  let service = ingress;
  if (kind === "operator") {
    await sandbox.addOperatorMilvus(ingress, { mode: "cluster", serviceType: "LoadBalancer" });
    service = `${ingress}-milvus`;
  } else sandbox.addMilvusService(service);
  const request = sandbox.request(secretArn) as Record<string, unknown> & { milvus: Record<string, unknown>; ingress: Record<string, unknown> };
  request.milvus.service = service;
  request.ingress.name = ingress;
  if (kind === "rollback") request.onFailure = "remove-ingress";
  return { request, service, ingress };
}

interface Outcome {
  request: Record<string, unknown>;
  run: WorkflowRun;
  /** The product's requests the apiserver refused: `VERB path`. */
  refused: string[];
  /** The product's requests, `METHOD path?watch` (to tell a relist from a watch). */
  requests: string[];
  ingressLeft: boolean;
  serviceType?: string;
  warnings: string[];
}

/**
 * One run of `kind`. `relist` drops the apiserver's watch history just before the step that watches, after an
 * unrelated write, so its watch from the version it read gets 410 Expired and the step relists (a compaction).
 */
async function runCase(kind: Kind, opts: { relist?: "GetIngressStatusFunctionArn" | "PatchServiceFunctionArn" } = {}): Promise<Outcome> {
  const { request, service, ingress } = await requestFor(kind);
  const from = sandbox.kube.requests.length;
  if (kind === "rollback") sandbox.milvus.setFault("unavailable");
  if (kind === "unhealthy") sandbox.alb.setFault({ unhealthyTargets: "untagged-security-groups" });
  const compact = async () => {
    sandbox.kube.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: `scratch-${serial}` } });
    sandbox.kube.compact();
  };
  try {
    const run = await runWith(sandbox, request, opts.relist ? { [opts.relist]: { before: compact } } : {}, { retryMs: 0, waitMs: 20 });
    const ours = sandbox.kube.requests.slice(from).filter((r) => r.user !== undefined && !r.user.startsWith("system:serviceaccount:") && r.user !== "kubernetes-admin");
    const output = run.output as { targets?: { warnings: string[] }[] } | undefined;
    const ing = sandbox.kube.get<{ metadata?: { deletionTimestamp?: string } }>("Ingress", NS, ingress);
    return {
      request,
      run,
      refused: ours.filter((r) => r.status === 403).map((r) => `${r.method} ${r.path}`),
      requests: ours.map((r) => `${r.method} ${r.path}${r.query.watch ? "?watch" : ""}`),
      ingressLeft: ing !== undefined && !ing.metadata?.deletionTimestamp,
      serviceType: sandbox.kube.get<{ spec?: { type?: string } }>("Service", NS, service)?.spec?.type,
      warnings: output?.targets?.[0]?.warnings ?? [],
    };
  } finally {
    sandbox.milvus.setFault(undefined);
    sandbox.alb.setFault({});
  }
}

function failedForbidden(o: Outcome, refused: RegExp): void {
  expect(o.run.status).toBe("FAILED");
  expect(o.run.error).toBe("KubernetesForbidden");
  expect(o.refused).toContainEqual(expect.stringMatching(refused));
}

describe("the printed Role is sufficient", () => {
  it("holds every verb the steps send, each rule commented with the call that needs it", () => {
    const yaml = rbacYaml({ namespaces: [NS] });
    for (const rule of NAMESPACE_RULES) for (const verb of rule.verbs) expect(yaml).toContain(`# ${verb}: ${rule.calls[verb]}`);
  });

  it("deploys, re-runs without a write, rolls back, diagnoses and cuts over through the Operator under it alone", async () => {
    grant();
    const deployed = await runCase("deploy");
    expect(deployed.run.status).toBe("SUCCEEDED");
    expect(deployed.serviceType).toBe("ClusterIP");
    // Only the preflight's cluster-scoped reads are refused (warnings), nothing in the namespace.
    expect(deployed.refused.every((r) => /ingressclasses|\/api\/v1\/namespaces\/milvus$/.test(r))).toBe(true);
    expect(deployed.warnings.join(" ")).not.toContain(UNCHECKED_PODS);

    const writes = sandbox.kube.mutations.length;
    const rerun = await runWith(sandbox, deployed.request, {}, { retryMs: 0, waitMs: 20 });
    expect(rerun.cause).toBeUndefined();
    expect(rerun.status).toBe("SUCCEEDED");
    expect(sandbox.kube.mutations.slice(writes).filter((m) => m.fieldManager === "milvus-l7")).toEqual([]);

    const rolledBack = await runCase("rollback");
    expect(rolledBack.run.status).toBe("FAILED");
    expect(rolledBack.ingressLeft).toBe(false);
    expect(rolledBack.serviceType).toBe("LoadBalancer");

    const unhealthy = await runCase("unhealthy");
    expect(unhealthy.run.error).toBe("EndpointNotReady");
    expect(unhealthy.run.cause).toMatch(/FailedNetworkReconcile/);
    expect(unhealthy.run.cause).not.toContain("could not be listed");

    const operator = await runCase("operator");
    expect(operator.run.status).toBe("SUCCEEDED");
    expect(operator.serviceType).toBe("ClusterIP");
  }, 120_000);

  it("relists after an expired watch (410) on Ingresses and on the Operator's Service", async () => {
    grant();
    const ingress = await runCase("deploy", { relist: "GetIngressStatusFunctionArn" });
    expect(ingress.run.status).toBe("SUCCEEDED");
    expect(ingress.requests).toContainEqual(expect.stringMatching(/^GET \/apis\/networking\.k8s\.io\/v1\/namespaces\/milvus\/ingresses$/));
    const service = await runCase("operator", { relist: "PatchServiceFunctionArn" });
    expect(service.run.status).toBe("SUCCEEDED");
    expect(service.requests).toContainEqual("GET /api/v1/namespaces/milvus/services");
  }, 60_000);
});

/** For each verb: the Role without it, the run that needs it, and what that run then shows. */
const WITHOUT: Record<string, () => Promise<void>> = {
  "core/services:get": async () => failedForbidden(await runCase("deploy"), /^GET \/api\/v1\/namespaces\/milvus\/services\/rbac-deploy-/),
  "core/services:patch": async () => {
    const o = await runCase("deploy");
    failedForbidden(o, /^PATCH \/api\/v1\/namespaces\/milvus\/services\//);
    expect(o.serviceType).toBe("LoadBalancer");
  },
  "core/services:watch": async () => failedForbidden(await runCase("operator"), /^GET \/api\/v1\/namespaces\/milvus\/services$/),
  "core/services:list": async () => failedForbidden(await runCase("operator", { relist: "PatchServiceFunctionArn" }), /^GET \/api\/v1\/namespaces\/milvus\/services$/),
  "networking.k8s.io/ingresses:get": async () => failedForbidden(await runCase("deploy"), /^GET \/apis\/networking\.k8s\.io\/v1\/namespaces\/milvus\/ingresses\//),
  "networking.k8s.io/ingresses:patch": async () => {
    const o = await runCase("deploy");
    failedForbidden(o, /^PATCH \/apis\/networking\.k8s\.io\/v1\/namespaces\/milvus\/ingresses\//);
    expect(o.ingressLeft).toBe(false);
  },
  "networking.k8s.io/ingresses:watch": async () => failedForbidden(await runCase("deploy"), /^GET \/apis\/networking\.k8s\.io\/v1\/namespaces\/milvus\/ingresses$/),
  "networking.k8s.io/ingresses:list": async () =>
    failedForbidden(await runCase("deploy", { relist: "GetIngressStatusFunctionArn" }), /^GET \/apis\/networking\.k8s\.io\/v1\/namespaces\/milvus\/ingresses$/),
  // The rollback: RemoveIngress is refused, so the Ingress (and its ALB) outlive the failed run.
  "networking.k8s.io/ingresses:delete": async () => {
    const o = await runCase("rollback");
    expect(o.run.status).toBe("FAILED");
    expect(o.refused).toContainEqual(expect.stringMatching(/^DELETE \/apis\/networking\.k8s\.io\/v1\/namespaces\/milvus\/ingresses\//));
    expect(o.ingressLeft).toBe(true);
  },
  "core/events:list": async () => failedForbidden(await runCase("deploy"), /^GET \/api\/v1\/namespaces\/milvus\/events$/),
  // The deployment succeeds, but without the readiness-gate advisory: a warning says the pods went unchecked.
  "core/pods:list": async () => {
    const o = await runCase("deploy");
    expect(o.run.status).toBe("SUCCEEDED");
    expect(o.warnings).toContainEqual(expect.stringContaining(UNCHECKED_PODS));
  },
  // The diagnosis no longer finds the target groups from their TargetGroupBindings (it falls back to ELB by the ALB's
  // name) and says so in the Cause.
  "elbv2.k8s.aws/targetgroupbindings:list": async () => {
    const o = await runCase("unhealthy");
    expect(o.run.error).toBe("EndpointNotReady");
    expect(o.run.cause).toContain("Could not be read: the TargetGroupBindings could not be listed (KubernetesForbidden");
  },
  "milvus.io/milvuses:get": async () => failedForbidden(await runCase("operator"), /^GET \/apis\/milvus\.io\/v1beta1\/namespaces\/milvus\/milvuses\//),
  "milvus.io/milvuses:patch": async () => {
    const o = await runCase("operator");
    failedForbidden(o, /^PATCH \/apis\/milvus\.io\/v1beta1\/namespaces\/milvus\/milvuses\//);
    expect(o.serviceType).toBe("LoadBalancer");
  },
};

describe("the printed Role is minimal", () => {
  it("has a case below for every verb of every rule", () => {
    const verbs = NAMESPACE_RULES.flatMap((rule) => rule.verbs.map((verb) => `${ruleKey(rule)}:${verb}`));
    expect(Object.keys(WITHOUT).sort()).toEqual(verbs.sort());
  });

  for (const [omitted, check] of Object.entries(WITHOUT)) {
    it(`without ${omitted}, a run fails or loses what it reports`, async () => {
      grant([omitted]);
      await check();
    }, 60_000);
  }
});

describe("--secret NS/NAME: get on that one certificate Secret (cert-manager source)", () => {
  const secretRef = { namespace: TLS_SECRET.namespace, name: TLS_SECRET.name };
  /** import-certificate's request for the cert-manager Secret, deploying to a Service and Ingress of its own. */
  async function fromSecret(): Promise<WorkflowRun> {
    const { request } = await requestFor("deploy");
    const fromTls = requestFromTlsSecret(sandbox) as { certificate: unknown };
    return runWith(sandbox, { ...request, certificate: fromTls.certificate }, {}, { retryMs: 0, waitMs: 20 });
  }
  const refusedSecrets = (from: number) =>
    sandbox.kube.requests.slice(from).filter((r) => r.status === 403 && r.path.includes("/secrets/")).map((r) => `${r.method} ${r.path}`);

  it("imports from the Secret with the Role, and is refused without it or for another name", async () => {
    await sandbox.storeInTlsSecret(await sandbox.newCertificate(), TLS_SECRET);
    const put = (secrets: { namespace: string; name: string }[]) => {
      for (const object of rbacObjects({ namespaces: [NS], secrets })) sandbox.kube.put(object);
    };
    put([secretRef]);
    const granted = await fromSecret();
    expect(granted.cause).toBeUndefined();
    expect(granted.status).toBe("SUCCEEDED");

    // resourceNames confines the grant: a Role for another Secret of the namespace does not reach this one.
    put([{ namespace: TLS_SECRET.namespace, name: "another-tls" }]);
    let from = sandbox.kube.requests.length;
    const otherName = await fromSecret();
    expect(otherName.status).toBe("FAILED");
    expect(refusedSecrets(from)).toEqual([`GET /api/v1/namespaces/${TLS_SECRET.namespace}/secrets/${TLS_SECRET.name}`]);

    // Without the Secret Role at all (the namespace Role has nothing on secrets).
    sandbox.kube.put({ ...(rbacObjects({ namespaces: [NS], secrets: [secretRef], omit: ["core/secrets"] }).find((o) => o.kind === "Role" && (o.metadata as { name: string }).name !== "milvus-l7") as object) });
    from = sandbox.kube.requests.length;
    const none = await fromSecret();
    expect(none.status).toBe("FAILED");
    expect(refusedSecrets(from)).toHaveLength(1);
  }, 60_000);
});

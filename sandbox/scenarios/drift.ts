// The drift check: the workflow started with {"check": {...}}, as the check schedule starts it. `drift`: after a
// deployment, a `helm upgrade` puts the Service back to LoadBalancer (a merge patch by field manager helm) and
// someone edits our Ingress with kubectl (kubectl annotate takes the ssl-policy annotation); the check with policy
// repair reports both, takes the field back, cuts over again and verifies. `drift-clean`: the check of an untouched
// deployment finds nothing and writes nothing (0 mutating requests reach the apiserver during it).
import { kubectl } from "../kube";
import type { Sandbox } from "../index";
import { DEMO_TARGET, type Scenario, type ScenarioRun, demoSecret, observedRun } from "./scenario";

const SSL_POLICY = "alb.ingress.kubernetes.io/ssl-policy";
/** An older TLS policy (TLS 1.0–1.2) someone might set by hand; milvus-l7's default allows TLS 1.2 and 1.3 only. */
const EDITED_SSL_POLICY = "ELBSecurityPolicy-2016-08";

/** Waits until the apiserver has received no mutating request for `quietMs` (the controller done reconciling). */
export async function settled(sandbox: Sandbox, quietMs = 1500, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = sandbox.kube.requests.length;
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs) {
    if (Date.now() > deadline) throw new Error("the sandbox's controllers kept writing; the cluster did not settle");
    await new Promise((r) => setTimeout(r, 100));
    const now = sandbox.kube.requests.length;
    if (sandbox.kube.requests.slice(seen).some((r) => r.method !== "GET")) quietSince = Date.now();
    seen = now;
  }
}

async function deployed(sandbox: Sandbox, ctx: Parameters<Scenario["run"]>[1]): Promise<ScenarioRun> {
  const { secretArn, subject } = await demoSecret(sandbox);
  ctx.say(`First, a deployment of Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service} with a certificate for ${subject}:`);
  return observedRun(sandbox, ctx, "deployment", sandbox.request(secretArn));
}

async function asAdmin(sandbox: Sandbox, args: string[]): Promise<void> {
  const run = await kubectl(sandbox.kube, sandbox.kubeAdminToken, args);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (exit ${run.code}): ${run.stderr.trim()}`);
}

export const drift: Scenario = {
  name: "drift",
  summary:
    "a deployment, then a helm upgrade brings the Service back to LoadBalancer and kubectl edits our Ingress's ssl-policy: the check (policy repair) reports both, re-applies, cuts over again and verifies",
  async run(sandbox, ctx) {
    const first = await deployed(sandbox, ctx);
    if (first.run.status !== "SUCCEEDED") return [first];
    await settled(sandbox);
    ctx.say(`helm upgrade without service.type=ClusterIP: Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service} back to LoadBalancer (merge patch, field manager helm)`);
    await asAdmin(sandbox, [
      "patch", "service", DEMO_TARGET.service, "-n", DEMO_TARGET.namespace, "--type", "merge", "--field-manager", "helm",
      "-p", '{"spec":{"type":"LoadBalancer"}}',
    ]);
    ctx.say(`kubectl annotate --overwrite: Ingress ${DEMO_TARGET.namespace}/${DEMO_TARGET.ingress} ${SSL_POLICY}=${EDITED_SSL_POLICY}`);
    await asAdmin(sandbox, ["annotate", "ingress", DEMO_TARGET.ingress, "-n", DEMO_TARGET.namespace, "--overwrite", `${SSL_POLICY}=${EDITED_SSL_POLICY}`]);
    await settled(sandbox);
    ctx.say('The check schedule starts the workflow with {"check": {"repair": true}}:');
    const check = await observedRun(sandbox, ctx, "drift check (repair)", { check: { repair: true } }, async () => {
      const ingress = sandbox.kube.get<{ metadata?: { annotations?: Record<string, string>; managedFields?: { manager: string; fieldsV1?: unknown }[] } }>(
        "Ingress",
        DEMO_TARGET.namespace,
        DEMO_TARGET.ingress,
      );
      const owners = (ingress?.metadata?.managedFields ?? [])
        .filter((f) => JSON.stringify(f.fieldsV1 ?? {}).includes(`f:${SSL_POLICY}`))
        .map((f) => f.manager);
      return { sslPolicyInCluster: ingress?.metadata?.annotations?.[SSL_POLICY] ?? "(none)", sslPolicyOwnedBy: owners };
    });
    return [first, check];
  },
};

export const driftClean: Scenario = {
  name: "drift-clean",
  summary: "a deployment, then the drift check: everything is as milvus-l7 left it, so drift is empty and the check makes no Kubernetes write",
  async run(sandbox, ctx) {
    const first = await deployed(sandbox, ctx);
    if (first.run.status !== "SUCCEEDED") return [first];
    // The controller's own writes after the deployment (status, events) belong to it, not to the check.
    await settled(sandbox);
    ctx.say('The check schedule starts the workflow with {"check": {}} (policy report):');
    return [first, await observedRun(sandbox, ctx, "drift check", { check: {} })];
  },
};

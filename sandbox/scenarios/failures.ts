// Failures milvus-l7 handles on purpose: a request it refuses before touching anything, and a deployment whose
// ALB path never works, rolled back as the request asks.
import { setTimeout as sleep } from "node:timers/promises";
import type { Sandbox } from "../index";
import { DEMO_TARGET, type Scenario, demoIngressState, demoSecret, observedRun } from "./scenario";

/** Long enough for the sandbox's load balancer controller to delete an ALB; it takes well under a second. */
const CONTROLLER_SETTLE_MS = 10_000;

/**
 * After milvus-l7 deletes its Ingress, the load balancer controller deletes the ALB, then removes its finalizer and
 * the Ingress is gone. Waits for that, so the demo shows the end state rather than the deletion in progress.
 */
async function controllerCleanUp(sandbox: Sandbox): Promise<Record<string, unknown>> {
  const deadline = Date.now() + CONTROLLER_SETTLE_MS;
  while (demoIngressState(sandbox) === "deleting" && Date.now() < deadline) await sleep(50);
  const albs = sandbox.alb.listeners().filter((l) => l.namespace === DEMO_TARGET.namespace && l.name === DEMO_TARGET.ingress);
  return { albForIngress: albs.length ? albs.map((l) => l.hostname) : "deleted by the load balancer controller" };
}

export const rollback: Scenario = {
  name: "rollback",
  summary:
    "Milvus never answers through the ALB and the request says onFailure remove-ingress: the run fails, the Ingress is removed, the Service stays LoadBalancer",
  async run(sandbox, ctx) {
    const { secretArn } = await demoSecret(sandbox);
    const request = { ...sandbox.request(secretArn), onFailure: "remove-ingress" };
    ctx.say("Milvus answers UNAVAILABLE to every call through the ALB (a proxy that never becomes ready), for the whole run");
    sandbox.milvus.setFault("unavailable");
    try {
      return [await observedRun(sandbox, ctx, "deployment that cannot be verified", request, () => controllerCleanUp(sandbox))];
    } finally {
      sandbox.milvus.setFault(undefined);
    }
  },
};

/** The field the bad request gets wrong, and how. */
export const BAD_FIELD = { path: "ingress.scheme", value: "public" } as const;

export const badRequest: Scenario = {
  name: "bad-request",
  summary: `a request with ${BAD_FIELD.path} "${BAD_FIELD.value}" is rejected by the first step, naming the field and what it allows; nothing is imported or changed`,
  async run(sandbox, ctx) {
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { ingress: Record<string, unknown> };
    request.ingress.scheme = BAD_FIELD.value;
    ctx.say(`The request asks for ${BAD_FIELD.path} "${BAD_FIELD.value}" for Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service}`);
    return [await observedRun(sandbox, ctx, "invalid request", request)];
  },
};

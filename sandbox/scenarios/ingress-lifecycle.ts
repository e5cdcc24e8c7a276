// The Ingress's life across runs: a rollback deletes the Ingress, but the load balancer controller holds it by its
// finalizer until it has deleted the ALB (its security group last, which AWS refuses while the ALB's network
// interfaces are still being released). A re-run right away finds the Ingress terminating: it waits it out, then
// applies a new one and succeeds.
import type { Sandbox } from "../index";
import type { WorkflowRun } from "../workflow";
import { DEMO_TARGET, type Scenario, demoIngressState, demoSecret, observedRun } from "./scenario";

/** How long the controller takes to delete the ALB after the Ingress is deleted: well past the re-run's first steps. */
const ALB_DELETION_MS = 10_000;

interface IngressMeta {
  metadata?: { uid?: string; finalizers?: string[]; deletionTimestamp?: string };
}

const demoIngress = (sandbox: Sandbox) => sandbox.kube.get<IngressMeta>("Ingress", DEMO_TARGET.namespace, DEMO_TARGET.ingress);

/** How long a state of the run took, first entry to last exit, in seconds. */
function stateSeconds(run: WorkflowRun, state: string): number | undefined {
  const times = run.events
    .filter((e) => (e.type === "StateEntered" || e.type === "StateExited") && "state" in e && e.state.name === state)
    .map((e) => e.timestamp);
  if (times.length < 2) return undefined;
  return Math.round((Math.max(...times) - Math.min(...times)) / 100) / 10;
}

/**
 * The watches milvus-l7 (not the controller, which watches every namespace with its service account) held on the
 * demo Ingress by name since request `from`: what ApplyIngress does only for an Ingress it found terminating.
 */
function watchesOnTheIngress(sandbox: Sandbox, from: number): number {
  return sandbox.kube.requests
    .slice(from)
    .filter(
      (r) =>
        r.method === "GET" &&
        r.path === `/apis/networking.k8s.io/v1/namespaces/${DEMO_TARGET.namespace}/ingresses` &&
        r.query.watch === "true" &&
        r.query.fieldSelector === `metadata.name=${DEMO_TARGET.ingress}` &&
        !r.user?.startsWith("system:serviceaccount:"),
    ).length;
}

export const ingressDeleting: Scenario = {
  name: "ingress-deleting",
  summary:
    "a run fails and its rollback deletes the Ingress, which the load balancer controller holds by its finalizer while it deletes the ALB; a re-run right away waits the terminating Ingress out, then applies it again and succeeds",
  async run(sandbox, ctx) {
    const { secretArn } = await demoSecret(sandbox);
    const request = { ...sandbox.request(secretArn), onFailure: "remove-ingress" };
    ctx.say(`Deleting an ALB takes the load balancer controller ${ALB_DELETION_MS / 1000} s here; it keeps the Ingress's finalizer until it is done`);
    ctx.say("Milvus answers UNAVAILABLE to every call through the ALB for the first run, which asks for onFailure remove-ingress");
    sandbox.alb.setFault({ teardownDelayMs: ALB_DELETION_MS });
    sandbox.milvus.setFault("unavailable");
    try {
      let firstUid: string | undefined;
      const failed = await observedRun(sandbox, ctx, "deployment rolled back", request, async () => {
        const ingress = demoIngress(sandbox);
        firstUid = ingress?.metadata?.uid;
        return { ingressFinalizers: ingress?.metadata?.finalizers ?? [], ingressDeletionRequested: ingress?.metadata?.deletionTimestamp !== undefined };
      });
      sandbox.milvus.setFault(undefined);
      ctx.say("Milvus is ready now; the same request again, at once, while the controller is still deleting the ALB:");
      const ingressAtStart = demoIngressState(sandbox);
      const requestsBefore = sandbox.kube.requests.length;
      const rerun = await observedRun(sandbox, ctx, "re-run while the Ingress is terminating", request, async (run) => ({
        ingressAtStart,
        watchedTheTerminatingIngress: watchesOnTheIngress(sandbox, requestsBefore) > 0,
        applyIngressSeconds: stateSeconds(run, "ApplyIngress"),
        newIngress: firstUid !== undefined && demoIngress(sandbox)?.metadata?.uid !== firstUid,
      }));
      return [failed, rerun];
    } finally {
      sandbox.milvus.setFault(undefined);
      sandbox.alb.setFault({});
    }
  },
};

// One poll of the address wait. Holds a bounded watch on the Ingress so an address is noticed the moment the
// controller publishes it, and reports the controller's Warning events so an operator sees why it is not.
import { KubernetesNotFound } from "../lib/errors";
import { ingressClassOf } from "../lib/ingress";
import type { ClusterConnector } from "../lib/kube";
import { type Ingress, type KubeClient, type KubeEvent, eventsPath, ingressPath, ingressesPath } from "../lib/kube-client";
import type { IngressState, IngressStatus, Target } from "../lib/state";
import { nextWaitSeconds } from "../lib/polling";

export interface GetIngressStatusInput {
  target: Target;
  ingress: IngressState;
  maxPolls: number;
}

export interface GetIngressStatusDeps {
  connect: ClusterConnector;
  /** How long one poll may hold its watch (the Lambda timeout must exceed it). */
  watchSeconds: number;
}

const MAX_WARNINGS = 5;

function hostnameOf(ingress: Ingress | undefined): string | undefined {
  const entry = ingress?.status?.loadBalancer?.ingress?.[0];
  return entry?.hostname ?? entry?.ip ?? undefined;
}

function eventTime(e: KubeEvent): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/**
 * apply-ingress created the Ingress, so its absence (or its deletion under way: the ALB controller's finalizer
 * holds it while the load balancer goes) means someone removed it during the wait. The generic 404 advice (check
 * the request's fields) would send the operator the wrong way.
 */
function deletedWhileWaiting(ref: string): KubernetesNotFound {
  return new KubernetesNotFound(
    `${ref} was deleted while the workflow waited for its ALB address, by another tool or a person (kubectl delete, a Helm or GitOps sync that prunes objects it does not own). Re-run the same input to create it again; if it disappears again, find out who deletes it (the API server's audit log names the user) and stop that first.`,
  );
}

/** Resolves with the Ingress once it has an address, or undefined when the watch ends without one. */
async function watchForAddress(kube: KubeClient, state: IngressState, ref: string, resourceVersion: string | undefined, seconds: number) {
  let found: Ingress | undefined;
  await kube.watch<Ingress>(
    `watch ${ref}`,
    ingressesPath(state.namespace),
    { fieldSelector: `metadata.name=${state.name}`, resourceVersion, allowWatchBookmarks: false },
    seconds,
    ({ type, object }) => {
      if (type === "DELETED" || object.metadata?.deletionTimestamp) throw deletedWhileWaiting(ref);
      if ((type === "ADDED" || type === "MODIFIED") && hostnameOf(object)) found = object;
      return found !== undefined;
    },
  );
  return found;
}

export async function getIngressStatus(input: GetIngressStatusInput, deps: GetIngressStatusDeps): Promise<IngressStatus> {
  const { target, ingress: state } = input;
  const ref = `Ingress ${state.namespace}/${state.name}`;
  const kube = await deps.connect(target.cluster);

  let ingress = await kube.getIfExists<Ingress>(`read ${ref}`, ingressPath(state.namespace, state.name));
  if (!ingress || ingress.metadata?.deletionTimestamp) throw deletedWhileWaiting(ref);
  if (!hostnameOf(ingress) && deps.watchSeconds > 0) {
    ingress = (await watchForAddress(kube, state, ref, ingress.metadata?.resourceVersion, deps.watchSeconds)) ?? ingress;
  }
  const hostname = hostnameOf(ingress);

  const events = await kube.list<KubeEvent>(`list events of ${ref}`, eventsPath(state.namespace), {
    fieldSelector: `involvedObject.kind=Ingress,involvedObject.name=${state.name}`,
  });
  const uid = ingress.metadata?.uid;
  const ofThisIngress = events.items
    .filter((e) => !uid || !e.involvedObject.uid || e.involvedObject.uid === uid)
    .sort((a, b) => eventTime(a) - eventTime(b));
  const warnings = ofThisIngress
    .filter((e) => e.type === "Warning")
    .slice(-MAX_WARNINGS)
    .map((e) => ({
      reason: e.reason ?? "",
      message: e.message ?? "",
      count: e.count ?? 1,
      lastSeen: new Date(eventTime(e)).toISOString(),
    }));
  // A Warning after our write means the controller could not deploy it (even if an older address exists);
  // a later Normal event (SuccessfullyReconciled) means it recovered.
  const appliedAt = new Date(state.appliedAt).getTime();
  const latestSinceApply = ofThisIngress.filter((e) => eventTime(e) >= appliedAt - 1000).at(-1);
  const failingNow = latestSinceApply?.type === "Warning";
  const polls = state.polls + 1;
  const ready = Boolean(hostname) && !failingNow;

  const last = warnings.at(-1);
  const failureCause = [
    `The AWS Load Balancer Controller did not ${hostname ? "finish deploying" : "publish an address for"} ${ref} after ${polls} polls.`,
    last
      ? `Latest controller warning: ${last.reason}: ${last.message}`
      : `The controller recorded no Warning events: check that it runs in the cluster and watches IngressClass ${ingressClassOf(target)} (kubectl -n kube-system logs deploy/aws-load-balancer-controller).`,
    "Fix the cause and re-run the same input; completed steps are skipped.",
  ].join(" ");

  return {
    ...state,
    polls,
    hostname,
    ready,
    nextWaitSeconds: nextWaitSeconds(polls),
    warnings,
    failureCause,
  };
}

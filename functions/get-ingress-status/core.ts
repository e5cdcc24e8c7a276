// One poll of the address wait. Holds a bounded watch on the Ingress so an address is noticed the moment the
// controller publishes it, and reports the controller's Warning events so an operator sees why it is not.
import { CoreV1Api, type CoreV1Event, type KubeConfig, NetworkingV1Api, type V1Ingress, Watch } from "@kubernetes/client-node";
import type { IngressState } from "../apply-ingress/core";
import { type ClusterConnector, kubeCall, translateKubeError } from "../lib/kube";
import type { Target } from "../lib/plan";
import { nextWaitSeconds } from "../lib/polling";

export interface ControllerWarning {
  reason: string;
  message: string;
  count: number;
  lastSeen: string;
}

export interface IngressStatus extends IngressState {
  hostname?: string;
  /** Address published and no controller Warning since our last write that a later success has not cleared. */
  ready: boolean;
  nextWaitSeconds: number;
  warnings: ControllerWarning[];
  /** Ready-made Cause for the ASL's Fail state when the poll budget runs out. */
  failureCause: string;
}

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

function hostnameOf(ingress: V1Ingress | undefined): string | undefined {
  const entry = ingress?.status?.loadBalancer?.ingress?.[0];
  return entry?.hostname ?? entry?.ip ?? undefined;
}

function eventTime(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/** Resolves with the Ingress once it has an address, or undefined when the watch ends without one. */
async function watchForAddress(kc: KubeConfig, state: IngressState, resourceVersion: string | undefined, seconds: number) {
  return new Promise<V1Ingress | undefined>((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const finish = (value: V1Ingress | undefined, error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      error ? reject(error) : resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), seconds * 1000);
    new Watch(kc)
      .watch(
        `/apis/networking.k8s.io/v1/namespaces/${state.namespace}/ingresses`,
        { fieldSelector: `metadata.name=${state.name}`, resourceVersion, timeoutSeconds: seconds, allowWatchBookmarks: false },
        (phase, obj: V1Ingress) => {
          if ((phase === "ADDED" || phase === "MODIFIED") && hostnameOf(obj)) finish(obj);
        },
        (err) => (err && err.name !== "AbortError" ? finish(undefined, err) : finish(undefined)),
      )
      .then((c) => {
        controller = c;
        if (settled) c.abort();
      }, (err) => finish(undefined, err));
  });
}

export async function getIngressStatus(input: GetIngressStatusInput, deps: GetIngressStatusDeps): Promise<IngressStatus> {
  const { target, ingress: state } = input;
  const ref = `Ingress ${state.namespace}/${state.name}`;
  const kc = await deps.connect(target.cluster);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const core = kc.makeApiClient(CoreV1Api);

  let ingress = await kubeCall(`read ${ref}`, () => networking.readNamespacedIngress({ name: state.name, namespace: state.namespace }));
  if (!hostnameOf(ingress) && deps.watchSeconds > 0) {
    try {
      ingress = (await watchForAddress(kc, state, ingress.metadata?.resourceVersion, deps.watchSeconds)) ?? ingress;
    } catch (e) {
      throw translateKubeError(e, `watch ${ref}`);
    }
  }
  const hostname = hostnameOf(ingress);

  const events = await kubeCall(`list events of ${ref}`, () =>
    core.listNamespacedEvent({
      namespace: state.namespace,
      fieldSelector: `involvedObject.kind=Ingress,involvedObject.name=${state.name}`,
    }),
  );
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
      : "The controller recorded no Warning events: check that it runs in the cluster and watches IngressClass 'alb' (kubectl -n kube-system logs deploy/aws-load-balancer-controller).",
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

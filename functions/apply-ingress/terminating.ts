// An Ingress of the same name that is being deleted (metadata.deletionTimestamp set) is waited out before the apply.
// The usual case is milvus-l7's own rollback (onFailure: remove-ingress) of an earlier run: the AWS Load Balancer
// Controller holds the Ingress with its finalizer (ingress.k8s.aws/resources, or group.ingress.k8s.aws/<group> in an
// IngressGroup; kubernetes-sigs/aws-load-balancer-controller v2.17.1 pkg/shared_constants/finalizers.go) until it has
// deleted the ALB. Applying into that object would only update something about to disappear, taking our new
// Ingress with it; so the step holds a bounded watch until it is gone, and otherwise fails retryably, leaving the
// waiting to the ASL's Retry between invocations.
import { KubernetesUnavailable } from "../lib/errors";
import { type Ingress, type KubeClient, ingressPath, ingressesPath } from "../lib/kube-client";

/**
 * How long one invocation watches a terminating Ingress. ApplyIngress's function timeout is 50 s (its Task's 60 s
 * less the margin, statemachine/steps.ts): this leaves room for the preflight's reads and the apply.
 */
export const TERMINATING_WAIT_SECONDS = 25;

/** The controller's finalizers: what they guard, for the Cause. */
function finalizersOf(ingress: Ingress): string[] {
  return ingress.metadata?.finalizers ?? [];
}

export function stillTerminating(ingress: Ingress, waitedSeconds: number): KubernetesUnavailable {
  const ns = ingress.metadata?.namespace ?? "";
  const name = ingress.metadata?.name ?? "";
  const finalizers = finalizersOf(ingress);
  const held = finalizers.length
    ? `held by the finalizer${finalizers.length > 1 ? "s" : ""} ${finalizers.join(", ")}`
    : "not yet removed by the API server";
  const controllers = finalizers.some((f) => f === "ingress.k8s.aws/resources" || f.startsWith("group.ingress.k8s.aws/"));
  return new KubernetesUnavailable(
    [
      `Ingress ${ns}/${name} is being deleted (since ${ingress.metadata?.deletionTimestamp}) and is ${held}`,
      controllers
        ? ": the AWS Load Balancer Controller removes it once it has deleted the Ingress's ALB, listeners, target groups and security groups."
        : ".",
      ` milvus-l7 waits for it to be gone before creating the Ingress again (it waited ${waitedSeconds} s in this attempt; the workflow retries this a few times).`,
      ` If it persists, check why the controller cannot finish: the Ingress's events (kubectl describe ingress ${name} -n ${ns}) and, for the self-managed controller, its logs (kubectl -n kube-system logs deploy/aws-load-balancer-controller), for IAM permissions it lacks, deletion_protection on the load balancer, or a resource still in use.`,
      " Do not remove the finalizer to hurry it: that leaves the ALB, its target groups and security groups in the AWS account, unmanaged and still billed (and still serving if it was), until you delete them yourself.",
    ].join(""),
  );
}

/**
 * Holds a bounded watch until the terminating Ingress is gone; returns what is there afterwards (undefined, or an
 * Ingress someone created meanwhile). Throws the retryable `stillTerminating` if it is still being deleted.
 */
export async function waitUntilGone(kube: KubeClient, terminating: Ingress, seconds: number): Promise<Ingress | undefined> {
  const ns = terminating.metadata?.namespace ?? "";
  const name = terminating.metadata?.name ?? "";
  const uid = terminating.metadata?.uid;
  const ref = `Ingress ${ns}/${name}`;
  if (seconds > 0) {
    await kube.watch<Ingress>(
      `watch ${ref} until it is deleted`,
      ingressesPath(ns),
      { fieldSelector: `metadata.name=${name}`, resourceVersion: terminating.metadata?.resourceVersion, allowWatchBookmarks: false },
      seconds,
      ({ type, object }) => type === "DELETED" || (object.metadata?.uid !== undefined && object.metadata.uid !== uid),
    );
  }
  // Whatever the watch saw (or missed, if it ended on a 410), the object as it is now decides.
  const now = await kube.getIfExists<Ingress>(`read ${ref}`, ingressPath(ns, name));
  if (now?.metadata?.deletionTimestamp) throw stillTerminating(now, seconds);
  return now;
}

// The optional rollback: when the ALB path could not be proven before the cutover, delete the Ingress
// milvus-l7 created — only ours (by label), never one another tool owns, and only while the Layer-4 endpoint
// still serves: once a previous run has cut the Service over to ClusterIP, the ALB is the only way to Milvus.
import { MANAGED_BY_LABEL } from "../lib/ingress";
import type { ClusterConnector } from "../lib/kube";
import { type Ingress, type Service, ingressPath, servicePath } from "../lib/kube-client";
import type { Target } from "../lib/state";

export interface RemoveIngressInput {
  target: Target;
}

export interface RemoveIngressDeps {
  connect: ClusterConnector;
}

export async function removeIngress(input: RemoveIngressInput, deps: RemoveIngressDeps) {
  const { namespace } = input.target;
  const name = input.target.ingress.name;
  const ref = `Ingress ${namespace}/${name}`;
  const kube = await deps.connect(input.target.cluster);
  const serviceRef = `Service ${namespace}/${input.target.service.name}`;
  const service = await kube.getIfExists<Service>(`read ${serviceRef}`, servicePath(namespace, input.target.service.name));
  if (service?.spec?.type === "ClusterIP") {
    return { removed: false, reason: `${ref} left in place: ${serviceRef} is already ClusterIP, so this Ingress's ALB is the only way to Milvus` };
  }
  const ingress = await kube.getIfExists<Ingress>(`read ${ref}`, ingressPath(namespace, name));
  if (!ingress) return { removed: false, reason: `${ref} does not exist` };
  const labels = ingress.metadata?.labels ?? {};
  if (!Object.entries(MANAGED_BY_LABEL).every(([k, v]) => labels[k] === v)) {
    return { removed: false, reason: `${ref} was not created by milvus-l7; left in place` };
  }
  // Preconditioned on the uid we read: never delete a same-named Ingress created in between.
  await kube.delete(`delete ${ref}`, ingressPath(namespace, name), { preconditions: { uid: ingress.metadata?.uid } });
  return { removed: true, reason: `${ref} deleted: the ALB controller removes its load balancer` };
}

// The optional rollback: when the ALB path could not be proven before the cutover, delete the Ingress
// milvus-l7 created — only ours (by label), never one another tool owns, and only while the Layer-4 endpoint
// still serves: once a previous run has cut the Service over to ClusterIP, the ALB is the only way to Milvus.
import { CoreV1Api, NetworkingV1Api } from "@kubernetes/client-node";
import { MANAGED_BY_LABEL } from "../lib/ingress";
import { type ClusterConnector, kubeCall } from "../lib/kube";
import type { Target } from "../lib/plan";

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
  const kc = await deps.connect(input.target.cluster);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const serviceRef = `Service ${namespace}/${input.target.service.name}`;
  const service = await kubeCall(`read ${serviceRef}`, () =>
    kc
      .makeApiClient(CoreV1Api)
      .readNamespacedService({ name: input.target.service.name, namespace })
      .catch((e: { code?: number }) => {
        if (e?.code === 404) return undefined;
        throw e;
      }),
  );
  if (service?.spec?.type === "ClusterIP") {
    return { removed: false, reason: `${ref} left in place: ${serviceRef} is already ClusterIP, so this Ingress's ALB is the only way to Milvus` };
  }
  const ingress = await kubeCall(`read ${ref}`, () =>
    networking.readNamespacedIngress({ name, namespace }).catch((e: { code?: number }) => {
      if (e?.code === 404) return undefined;
      throw e;
    }),
  );
  if (!ingress) return { removed: false, reason: `${ref} does not exist` };
  const labels = ingress.metadata?.labels ?? {};
  if (!Object.entries(MANAGED_BY_LABEL).every(([k, v]) => labels[k] === v)) {
    return { removed: false, reason: `${ref} was not created by milvus-l7; left in place` };
  }
  // Preconditioned on the uid we read: never delete a same-named Ingress created in between.
  await kubeCall(`delete ${ref}`, () =>
    networking.deleteNamespacedIngress({ name, namespace, body: { preconditions: { uid: ingress.metadata?.uid } } }).catch((e: { code?: number }) => {
      if (e?.code === 404) return undefined;
      throw e;
    }),
  );
  return { removed: true, reason: `${ref} deleted: the ALB controller removes its load balancer` };
}

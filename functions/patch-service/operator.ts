// The cutover of a Service the Milvus Operator owns. The Operator sets the Service's type from its `Milvus` CR on
// every reconcile (zilliztech/milvus-operator v1.3.8, pkg/controllers/services.go updateService), so a patch of the
// Service would be undone: milvus-l7 sets the CR's serviceType to ClusterIP instead and waits for the Operator to
// apply it. A change of the CR is reconciled at once (the controller watches Milvus objects), so the wait is short
// when the Operator runs; it only notices a direct Service edit on its periodic resync, which is no help here.
import { KubernetesUnavailable } from "../lib/errors";
import { FIELD_MANAGER } from "../lib/ingress";
import { type KubeClient, type Service, milvusPath, servicePath, servicesPath } from "../lib/kube-client";
import { type OperatorManaged, serviceTypeOf, withOperatorRbacAdvice } from "../lib/milvus-operator";
import type { PatchServiceResult } from "../lib/state";

/**
 * One invocation's wait for the Operator, inside the function's timeout (the Task's 60 s less the margin) with room
 * for the step's reads and the patch, which normally take milliseconds each (10 s at most). A retry of the step
 * waits again without writing.
 */
export const OPERATOR_WAIT_SECONDS = 20;

/** Sets the CR's serviceType to ClusterIP (unless it already is) and waits for the Operator to switch the Service. */
export async function cutOverThroughOperator(
  kube: KubeClient,
  namespace: string,
  service: Service,
  managed: OperatorManaged,
  waitSeconds: number,
): Promise<PatchServiceResult> {
  const { crName, crRef, milvus, component, field } = managed;
  const serviceName = service.metadata?.name ?? "";
  const serviceRef = `Service ${namespace}/${serviceName}`;
  const previousType = service.spec?.type ?? "ClusterIP";

  let patched = false;
  if (serviceTypeOf(milvus) !== "ClusterIP") {
    const body = {
      // Optimistic concurrency: a CR changed since we read it is a 409, which the step retries after a fresh read.
      metadata: { resourceVersion: milvus.metadata?.resourceVersion },
      spec: { components: { [component]: { serviceType: "ClusterIP" } } },
    };
    try {
      await kube.mergePatch(`patch ${crRef} ${field} to ClusterIP`, milvusPath(namespace, crName), body, FIELD_MANAGER);
    } catch (e) {
      throw withOperatorRbacAdvice(e, namespace);
    }
    patched = true;
  }

  const result: PatchServiceResult = {
    previousType,
    type: "ClusterIP",
    changed: patched || previousType !== "ClusterIP",
    via: "milvus-operator",
    field: `${crRef} ${field}`,
    warnings: patched
      ? [
          `${crRef} now holds ${field}=ClusterIP, which the Milvus Operator applies to ${serviceRef}; if the Milvus manifest comes from Git or a chart, set it there too, or the next sync brings the Layer-4 load balancer back.`,
        ]
      : [],
  };
  if (previousType === "ClusterIP") return result;
  const now = await waitForType(kube, namespace, serviceName, service.metadata?.resourceVersion, waitSeconds);
  if (now === "ClusterIP") return result;
  throw new KubernetesUnavailable(
    `${crRef} holds ${field}=ClusterIP, but the Milvus Operator has not applied it to ${serviceRef} (still ${now}) within ${waitSeconds} s; it normally does within seconds of the change. The workflow retries this; if it persists, the Operator is not running or not reconciling this Milvus: check its pods and its logs for errors about ${crRef}, and kubectl get milvus ${crName} -n ${namespace} (status and conditions).`,
  );
}

/** Watches the Service from the version read until its type is ClusterIP or the bound passes; its type then. */
async function waitForType(kube: KubeClient, namespace: string, name: string, resourceVersion: string | undefined, seconds: number): Promise<string> {
  let type: string | undefined;
  await kube.watch<Service>(
    `watch Service ${namespace}/${name}`,
    servicesPath(namespace),
    { fieldSelector: `metadata.name=${name}`, resourceVersion },
    seconds,
    (event) => {
      type = event.object.spec?.type;
      return type === "ClusterIP";
    },
  );
  if (type === "ClusterIP") return type;
  // The watch may have ended early (a closed stream): the Service as it is now decides.
  const current = await kube.get<Service>(`read Service ${namespace}/${name}`, servicePath(namespace, name));
  return current.spec?.type ?? "ClusterIP";
}

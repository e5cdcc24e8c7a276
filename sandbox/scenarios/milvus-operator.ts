// Milvus run by the Milvus Operator: the Operator owns the Service and rewrites its type from the `Milvus` CR, so
// the cutover goes through the CR, and a Service of a deprecated MilvusCluster is refused before anything is written.
import { loadMilvusDemoService } from "../kube";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

/** The Milvus CR of the Operator scenarios, and the Service the Operator makes of it (`<name>-milvus`). */
export const OPERATOR_MILVUS = { cr: "milvus-op", service: "milvus-op-milvus" } as const;
export const LEGACY_MILVUS = { cr: "milvus-legacy", service: "milvus-legacy-milvus" } as const;

interface Written {
  kind: string;
  name: string;
  verb: string;
  fieldManager: string;
}

export const milvusOperator: Scenario = {
  name: "milvus-operator",
  summary:
    "Milvus run by the Milvus Operator: the cutover sets the Milvus CR's serviceType to ClusterIP and the Operator switches the Service; milvus-l7 never patches the Service",
  async run(sandbox, ctx) {
    await sandbox.addOperatorMilvus(OPERATOR_MILVUS.cr, { mode: "cluster", serviceType: "LoadBalancer" });
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { milvus: Record<string, unknown> };
    request.milvus.service = OPERATOR_MILVUS.service;
    ctx.say(
      `The Milvus Operator runs Milvus ${DEMO_TARGET.namespace}/${OPERATOR_MILVUS.cr} (cluster mode, spec.components.proxy.serviceType LoadBalancer) and owns its Service ${OPERATOR_MILVUS.service}; a direct patch of that Service would be undone on its next reconcile`,
    );
    const writesBefore = sandbox.kube.mutations.length;
    const run = await observedRun(
      sandbox,
      ctx,
      "deployment through the Milvus Operator",
      request,
      async () => {
        const milvus = sandbox.kube.get<{ spec?: { components?: { proxy?: { serviceType?: string } } }; status?: { status?: string } }>(
          "Milvus",
          DEMO_TARGET.namespace,
          OPERATOR_MILVUS.cr,
        );
        const service = sandbox.kube.get<{ metadata?: { ownerReferences?: { kind: string; name: string; controller?: boolean }[] } }>(
          "Service",
          DEMO_TARGET.namespace,
          OPERATOR_MILVUS.service,
        );
        const owner = service?.metadata?.ownerReferences?.find((r) => r.controller);
        const written = sandbox.kube.mutations.slice(writesBefore) as Written[];
        return {
          milvusServiceType: milvus?.spec?.components?.proxy?.serviceType,
          milvusStatus: milvus?.status?.status,
          serviceController: owner ? `${owner.kind} ${owner.name}` : undefined,
          // Who changed the Service during the run: the Operator only.
          serviceWrites: written
            .filter((m) => m.kind === "Service" && m.name === OPERATOR_MILVUS.service)
            .map((m) => `${m.verb} by ${m.fieldManager}`),
        };
      },
      OPERATOR_MILVUS.service,
    );
    return [run];
  },
};

export const milvusClusterV1alpha1: Scenario = {
  name: "milvus-cluster-v1alpha1",
  summary:
    "a Milvus Service owned by a deprecated MilvusCluster (milvus.io/v1alpha1) is refused before the Ingress is created, saying to migrate to a Milvus (v1beta1)",
  async run(sandbox, ctx) {
    const legacy = sandbox.kube.put({
      apiVersion: "milvus.io/v1alpha1",
      kind: "MilvusCluster",
      metadata: { name: LEGACY_MILVUS.cr, namespace: DEMO_TARGET.namespace },
      spec: { components: { proxy: { serviceType: "LoadBalancer" } } },
    });
    // The Service as an operator release from before the Milvus kind left it: controlled by the MilvusCluster.
    const service = loadMilvusDemoService();
    service.metadata = {
      name: LEGACY_MILVUS.service,
      namespace: DEMO_TARGET.namespace,
      labels: { "app.kubernetes.io/instance": LEGACY_MILVUS.cr, "app.kubernetes.io/name": "milvus", "app.kubernetes.io/managed-by": "milvus-operator" },
      ownerReferences: [
        { apiVersion: "milvus.io/v1alpha1", kind: "MilvusCluster", name: LEGACY_MILVUS.cr, uid: legacy.metadata.uid ?? "", controller: true, blockOwnerDeletion: true },
      ],
    };
    sandbox.kube.put(service);
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { milvus: Record<string, unknown> };
    request.milvus.service = LEGACY_MILVUS.service;
    ctx.say(`Service ${DEMO_TARGET.namespace}/${LEGACY_MILVUS.service} is controlled by MilvusCluster ${LEGACY_MILVUS.cr} (milvus.io/v1alpha1, deprecated)`);
    return [await observedRun(sandbox, ctx, "deployment of a MilvusCluster's Service", request, undefined, LEGACY_MILVUS.service)];
  },
};

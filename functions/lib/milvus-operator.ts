// A Milvus Service managed by the Milvus Operator (zilliztech/milvus-operator): the Operator owns the Service
// `<name>-milvus` (ownerReferences, controller: true) and rewrites its type from the `Milvus` CR on every
// reconcile (pkg/controllers/services.go, updateService), so the cutover goes through the CR. Why, and what the
// Operator does when: docs/architecture.md and README.md, "Milvus Operator".
import { KubernetesConflict, KubernetesForbidden, KubernetesNotFound } from "./errors";
import { type KubeClient, type MilvusResource, type Service, milvusPath } from "./kube-client";

export const MILVUS_GROUP = "milvus.io";

/** The Service's controller owner when it is a milvus.io object (a `Milvus`, or a deprecated `MilvusCluster`). */
export function milvusOwnerOf(service: Service): { kind: string; name: string; apiVersion: string } | undefined {
  const owner = service.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!owner || owner.apiVersion.split("/")[0] !== MILVUS_GROUP) return undefined;
  return { kind: owner.kind, name: owner.name, apiVersion: owner.apiVersion };
}

const migrate = (what: string, owner: { name: string; apiVersion: string }) =>
  new KubernetesConflict(
    `${what} is controlled by MilvusCluster ${owner.name} (${owner.apiVersion}), which the Milvus Operator deprecated: it rewrites its Milvus from the MilvusCluster on every reconcile, so a change milvus-l7 made there would be undone. Migrate it to a Milvus (milvus.io/v1beta1) as the Milvus Operator's documentation describes, then re-run.`,
  );

/**
 * Refuses, before anything is written, a Service milvus-l7 cannot cut over: one whose controller is a deprecated
 * `MilvusCluster` (milvus.io/v1alpha1), or another milvus.io kind it does not know. Returns the `Milvus` owner's name
 * when the Operator manages the Service, undefined when nothing of milvus.io does.
 */
export function operatorOwnedMilvus(service: Service, ref: string): string | undefined {
  const owner = milvusOwnerOf(service);
  if (!owner) return undefined;
  if (owner.kind === "Milvus") return owner.name;
  if (owner.kind === "MilvusCluster") throw migrate(ref, owner);
  throw new KubernetesConflict(
    `${ref} is controlled by ${owner.kind} ${owner.name} (${owner.apiVersion}), which milvus-l7 does not know how to change; only a Service owned by a Milvus (milvus.io/v1beta1) or by no milvus.io object is supported.`,
  );
}

/** The component whose serviceType decides the Service's type: GetServiceComponent in milvus_types.go. */
export function serviceComponentOf(milvus: MilvusResource): "proxy" | "standalone" {
  return milvus.spec?.mode === "cluster" ? "proxy" : "standalone";
}

/** The CRD's default when the field is unset (`+kubebuilder:default="ClusterIP"`). */
export function serviceTypeOf(milvus: MilvusResource): string {
  return milvus.spec?.components?.[serviceComponentOf(milvus)]?.serviceType || "ClusterIP";
}

/** milvus_controller.go, PauseReconcileAnnotation: with "true" the Operator skips the CR entirely. */
export const PAUSE_RECONCILE_ANNOTATION = "milvus.io/pause-reconcile";

/**
 * The edit permissions milvus-l7 is given (AmazonEKSEditPolicy, or the `edit` ClusterRole on aws-auth clusters) do
 * not cover the CR: the Milvus Operator's chart and manifests (v1.3.8) aggregate no ClusterRole into `edit`, and an
 * EKS access policy cannot be extended (Amazon EKS User Guide, "Review access policy permissions"). So a 403 on the
 * CR needs its own grant.
 */
export function withOperatorRbacAdvice(e: unknown, namespace: string): unknown {
  if (!(e instanceof KubernetesForbidden)) return e;
  return new KubernetesForbidden(
    `${e.message.replace(/\s*Grant the milvus-l7 Lambda role[\s\S]*$/, "")} The edit permissions milvus-l7 gets do not cover milvuses.milvus.io (the Milvus Operator aggregates no role into edit, and AmazonEKSEditPolicy cannot be extended). Bind a Role in namespace ${namespace} that allows get and patch on milvuses (apiGroup milvus.io) to a Kubernetes group of the Lambda role's EKS access entry, or to user milvus-l7 on aws-auth clusters (docs/deploy.md, "Milvus Operator").`,
  );
}

/** A Service the Milvus Operator manages: its `Milvus` and the field that holds the Service's type. */
export interface OperatorManaged {
  crName: string;
  crRef: string;
  milvus: MilvusResource;
  component: "proxy" | "standalone";
  /** `spec.components.<component>.serviceType` */
  field: string;
}

/**
 * Everything the cluster can say against the cutover of an Operator-managed Service, checked before any write
 * (apply-ingress runs it before the Ingress exists, patch-service before it touches the CR): the owner's kind, the
 * CR readable (403 with the RBAC advice), not itself controlled by a MilvusCluster, not paused, and no
 * loadBalancerSourceRanges the Operator could not carry to ClusterIP. Undefined for a Service no Operator owns.
 */
export async function operatorPreflight(kube: KubeClient, namespace: string, service: Service): Promise<OperatorManaged | undefined> {
  const serviceName = service.metadata?.name ?? "";
  const serviceRef = `Service ${namespace}/${serviceName}`;
  const crName = operatorOwnedMilvus(service, serviceRef);
  if (crName === undefined) return undefined;
  const crRef = `Milvus ${namespace}/${crName}`;
  let milvus: MilvusResource;
  try {
    milvus = await kube.get<MilvusResource>(`read ${crRef}`, milvusPath(namespace, crName));
  } catch (e) {
    if (e instanceof KubernetesNotFound) {
      throw new KubernetesNotFound(
        `${serviceRef} names ${crRef} as its controller, but that Milvus does not exist (deleted, so the Service is about to be garbage-collected?). Check kubectl get milvus -n ${namespace}.`,
      );
    }
    throw withOperatorRbacAdvice(e, namespace);
  }
  const crOwner = milvus.metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === "MilvusCluster");
  if (crOwner) throw migrate(crRef, crOwner);
  const component = serviceComponentOf(milvus);
  const field = `spec.components.${component}.serviceType`;
  if (milvus.metadata?.annotations?.[PAUSE_RECONCILE_ANNOTATION] === "true") {
    throw new KubernetesConflict(
      `${crRef} has the annotation ${PAUSE_RECONCILE_ANNOTATION}: "true", so the Milvus Operator does not reconcile it and ${serviceRef} would never follow a change of ${field}. Remove the annotation (kubectl annotate milvus ${crName} -n ${namespace} ${PAUSE_RECONCILE_ANNOTATION}-) and re-run.`,
    );
  }
  if (service.spec?.type !== "ClusterIP" && (service.spec?.loadBalancerSourceRanges?.length ?? 0) > 0) {
    // The Operator updates the whole Service it read, keeping fields it does not manage; the apiserver refuses
    // loadBalancerSourceRanges on a ClusterIP Service, so each of its reconciles would fail.
    throw new KubernetesConflict(
      `${serviceRef} has spec.loadBalancerSourceRanges, which the Milvus Operator keeps when it changes the type, and the Kubernetes API refuses them on a ClusterIP Service, so the Operator could not apply ${field}=ClusterIP. Remove them first (kubectl patch service ${serviceName} -n ${namespace} --type merge -p '{"spec":{"loadBalancerSourceRanges":null}}'; the Operator never sets them) and re-run.`,
    );
  }
  return { crName, crRef, milvus, component, field };
}

// Server-side apply of the Milvus Ingress. Idempotent: re-applying the same manifest changes nothing (the
// apiserver keeps the resourceVersion), and an Ingress someone else created under the same name is refused
// before we touch it.
import { KubernetesConflict, KubernetesNotFound } from "../lib/errors";
import { FIELD_MANAGER, MANAGED_BY_LABEL, ingressManifest } from "../lib/ingress";
import type { ClusterConnector } from "../lib/kube";
import { type Ingress, type Service, ingressPath, servicePath } from "../lib/kube-client";
import { operatorPreflight } from "../lib/milvus-operator";
import type { ImportedCertificate, IngressState, Target } from "../lib/state";

export interface ApplyIngressInput {
  target: Target;
  certificate: Pick<ImportedCertificate, "arn">;
}

export interface ApplyIngressDeps {
  connect: ClusterConnector;
}

function isOurs(labels: Record<string, string> | undefined): boolean {
  return Object.entries(MANAGED_BY_LABEL).every(([k, v]) => labels?.[k] === v);
}

export async function applyIngress(input: ApplyIngressInput, deps: ApplyIngressDeps): Promise<IngressState> {
  const { target } = input;
  const { namespace } = target;
  const kube = await deps.connect(target.cluster);
  const serviceRef = `Service ${namespace}/${target.service.name}`;
  const ingressRef = `Ingress ${namespace}/${target.ingress.name}`;
  const path = ingressPath(namespace, target.ingress.name);

  // Fail before writing anything if the backend cannot work: the controller would only say so in an Event.
  const service = await kube.get<Service>(`read ${serviceRef}`, servicePath(namespace, target.service.name));
  // A Service the cutover could not switch (a deprecated MilvusCluster owns it, the Operator's CR is unreadable or
  // paused, ...) is refused before the Ingress exists.
  await operatorPreflight(kube, namespace, service);
  const ports = service.spec?.ports ?? [];
  if (!ports.some((p) => p.port === target.service.port)) {
    throw new KubernetesNotFound(
      `${serviceRef} has no port ${target.service.port} (it has ${ports.map((p) => `${p.name ?? "?"}:${p.port}`).join(", ") || "none"}); set milvus.port to the Milvus gRPC port.`,
    );
  }

  const existing = await kube.getIfExists<Ingress>(`read ${ingressRef}`, path);
  if (existing && !isOurs(existing.metadata?.labels)) {
    throw new KubernetesConflict(
      `${ingressRef} already exists and was not created by milvus-l7 (no app.kubernetes.io/managed-by=milvus-l7 label); choose another ingress.name, or delete that Ingress (e.g. the Helm chart's ingress.enabled) and re-run.`,
    );
  }

  // No force: a field another manager owns (kubectl edit, Helm) is a 409 we report, not silently take over.
  const applied = await kube.apply<Ingress>(`apply ${ingressRef}`, path, ingressManifest(target, input.certificate.arn), {
    fieldManager: FIELD_MANAGER,
    force: false,
  });
  const ourEntry = applied.metadata?.managedFields?.find((f) => f.manager === FIELD_MANAGER && f.operation === "Apply");
  return {
    namespace,
    name: target.ingress.name,
    appliedAt: new Date(ourEntry?.time ?? Date.now()).toISOString(),
    changed: applied.metadata?.resourceVersion !== existing?.metadata?.resourceVersion,
    polls: 0,
  };
}

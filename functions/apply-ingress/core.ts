// Server-side apply of the Milvus Ingress. Idempotent: re-applying the same manifest changes nothing (the
// apiserver keeps the resourceVersion), and an Ingress someone else created under the same name is refused
// before we touch it.
import { CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { KubernetesConflict, KubernetesNotFound } from "../lib/errors";
import { FIELD_MANAGER, MANAGED_BY_LABEL, ingressManifest } from "../lib/ingress";
import { type ClusterConnector, kubeCall } from "../lib/kube";
import type { ImportedCertificate, Target } from "../lib/plan";

export interface ApplyIngressInput {
  target: Target;
  certificate: Pick<ImportedCertificate, "arn">;
}

/** Also the loop state of the address wait: get-ingress-status reads and returns this shape. */
export interface IngressState {
  namespace: string;
  name: string;
  /** The apiserver's time of our last write (managedFields), so older controller events can be told apart. */
  appliedAt: string;
  changed: boolean;
  polls: number;
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
  const kc = await deps.connect(target.cluster);
  const core = kc.makeApiClient(CoreV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const serviceRef = `Service ${namespace}/${target.service.name}`;
  const ingressRef = `Ingress ${namespace}/${target.ingress.name}`;

  // Fail before writing anything if the backend cannot work: the controller would only say so in an Event.
  const service = await kubeCall(`read ${serviceRef}`, () =>
    core.readNamespacedService({ name: target.service.name, namespace }),
  );
  const ports = service.spec?.ports ?? [];
  if (!ports.some((p) => p.port === target.service.port)) {
    throw new KubernetesNotFound(
      `${serviceRef} has no port ${target.service.port} (it has ${ports.map((p) => `${p.name ?? "?"}:${p.port}`).join(", ") || "none"}); set milvus.port to the Milvus gRPC port.`,
    );
  }

  const existing = await kubeCall(`read ${ingressRef}`, () =>
    networking.readNamespacedIngress({ name: target.ingress.name, namespace }).catch((e: { code?: number }) => {
      if (e?.code === 404) return undefined;
      throw e;
    }),
  );
  if (existing && !isOurs(existing.metadata?.labels)) {
    throw new KubernetesConflict(
      `${ingressRef} already exists and was not created by milvus-l7 (no app.kubernetes.io/managed-by=milvus-l7 label); choose another ingress.name, or delete that Ingress (e.g. the Helm chart's ingress.enabled) and re-run.`,
    );
  }

  // No force: a field another manager owns (kubectl edit, Helm) is a 409 we report, not silently take over.
  const applied = await kubeCall(`apply ${ingressRef}`, () =>
    networking.patchNamespacedIngress(
      {
        name: target.ingress.name,
        namespace,
        body: ingressManifest(target, input.certificate.arn),
        fieldManager: FIELD_MANAGER,
        force: false,
      },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    ),
  );
  const ourEntry = applied.metadata?.managedFields?.find((f) => f.manager === FIELD_MANAGER && f.operation === "Apply");
  return {
    namespace,
    name: target.ingress.name,
    appliedAt: new Date(ourEntry?.time ?? Date.now()).toISOString(),
    changed: applied.metadata?.resourceVersion !== existing?.metadata?.resourceVersion,
    polls: 0,
  };
}

// Server-side apply of the Milvus Ingress. Idempotent: re-applying the same manifest changes nothing (the
// apiserver keeps the resourceVersion), and an Ingress someone else created under the same name is refused
// before we touch it. Before the first write, the cluster is checked as it is (lib/preflight.ts: the IngressClass
// and its parameters, the Service's annotations, the IngressGroup's other members, the readiness gate), and an
// Ingress of the same name that is being deleted is waited out (terminating.ts).
import { KubernetesConflict, KubernetesNotFound } from "../lib/errors";
import { FIELD_MANAGER, MANAGED_BY_LABEL, ingressManifest } from "../lib/ingress";
import type { ClusterConnector } from "../lib/kube";
import { type Ingress, type Service, ingressPath, servicePath } from "../lib/kube-client";
import { operatorPreflight } from "../lib/milvus-operator";
import { clusterPreflight } from "../lib/preflight";
import type { ImportedCertificate, IngressState, Target } from "../lib/state";
import { TERMINATING_WAIT_SECONDS, waitUntilGone } from "./terminating";

export interface ApplyIngressInput {
  target: Target;
  certificate: Pick<ImportedCertificate, "arn">;
  /**
   * `repair`: the drift check's RepairIngress only. Applies with force, taking back the fields of our manifest that
   * another manager (kubectl edit, Helm) took since: re-asserting what was verified is the repair's point. The
   * deploy path never sets it, so there a field someone else owns stays a 409 that names them.
   */
  force?: "repair";
}

export interface ApplyIngressDeps {
  connect: ClusterConnector;
  /** How long one invocation watches a terminating Ingress of the same name; TERMINATING_WAIT_SECONDS by default. */
  terminatingWaitSeconds?: number;
}

function isOurs(labels: Record<string, string> | undefined): boolean {
  return Object.entries(MANAGED_BY_LABEL).every(([k, v]) => labels?.[k] === v);
}

const notOurs = (ingressRef: string) =>
  new KubernetesConflict(
    `${ingressRef} already exists and was not created by milvus-l7 (no app.kubernetes.io/managed-by=milvus-l7 label); choose another ingress.name, or delete that Ingress (e.g. the Helm chart's ingress.enabled) and re-run.`,
  );

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

  let existing = await kube.getIfExists<Ingress>(`read ${ingressRef}`, path);
  // One being deleted is not refused for its owner: it is going away, and is waited out below.
  if (existing && !existing.metadata?.deletionTimestamp && !isOurs(existing.metadata?.labels)) {
    throw notOurs(ingressRef);
  }

  const manifest = ingressManifest(target, input.certificate.arn);
  const preflight = await clusterPreflight(kube, { namespace, service, ingress: manifest, certificateArn: input.certificate.arn });

  if (existing?.metadata?.deletionTimestamp) {
    existing = await waitUntilGone(kube, existing, deps.terminatingWaitSeconds ?? TERMINATING_WAIT_SECONDS);
    if (existing && !isOurs(existing.metadata?.labels)) throw notOurs(ingressRef);
  }

  // No force (but for a repair): a field another manager owns (kubectl edit, Helm) is a 409 we report, not silently take over.
  const applied = await kube
    .apply<Ingress>(`apply ${ingressRef}`, path, manifest, { fieldManager: FIELD_MANAGER, force: input.force === "repair" })
    .catch((e: unknown) => {
      // What the preflight could not check of the Ingress may be why the apply failed (say, an IngressClass it could
      // not read and a webhook then refused): a failed run has no summary to carry the warnings, so its Cause does.
      if (e instanceof Error && preflight.uncheckedIngress.length > 0) {
        e.message = `${e.message} The preflight could not check everything: ${preflight.uncheckedIngress.join(" ")}`;
      }
      throw e;
    });
  const ourEntry = applied.metadata?.managedFields?.find((f) => f.manager === FIELD_MANAGER && f.operation === "Apply");
  return {
    namespace,
    name: target.ingress.name,
    appliedAt: new Date(ourEntry?.time ?? Date.now()).toISOString(),
    changed: applied.metadata?.resourceVersion !== existing?.metadata?.resourceVersion,
    polls: 0,
    preflightWarnings: preflight.warnings,
  };
}

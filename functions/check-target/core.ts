// InspectTarget: what the drift check reads of one target's cluster, with Kubernetes reads only (a clean check
// writes nothing: docs/architecture.md, "The drift check"). Three questions:
//  1. Is the Service still ClusterIP? A `helm upgrade` without service.type=ClusterIP, or someone's edit, brings
//     the Layer-4 load balancer back; for a Service the Milvus Operator owns, its CR's serviceType is what counts.
//  2. Does our Ingress still carry what milvus-l7 applied? The manifest ingressManifest() would apply now is
//     compared with the live object field by field, and with the fields our field manager owns in managedFields:
//     under server-side apply, an Update by another manager (kubectl edit, kubectl annotate, Helm) takes
//     ownership of the fields it changes, so a field of ours owned by someone else names who changed it.
//  3. Whether ACM holds the recorded certificate, or a renewal from the recorded source, and how many days are left
//     on the one the ALB should serve.
// The served certificate and Milvus are the verify Task's (verify-connection, reused); its failure is a finding too.
import { FIELD_MANAGER, MANAGED_BY_LABEL, ingressManifest } from "../lib/ingress";
import type { ClusterConnector } from "../lib/kube";
import { type Ingress, type MilvusResource, type Service, ingressPath, milvusPath, servicePath } from "../lib/kube-client";
import { milvusOwnerOf, serviceComponentOf, serviceTypeOf } from "../lib/milvus-operator";
import type { StepMetrics } from "../lib/metrics";
import { targetIdOf } from "../lib/registry";
import type { CheckInspection, ImportedCertificate, RecordedDeployment, Target } from "../lib/state";

export interface CheckTargetInput {
  target: Target;
  recorded: RecordedDeployment;
  /**
   * What ACM holds for the recorded ARN now (ReadRecordedCertificate, after re-importing a newer certificate from the
   * recorded source): its trust anchors verify the served chain.
   */
  certificate: ImportedCertificate;
  /** A certificate with this many days left or fewer is a finding: the expiry safety net, on every check. */
  expiryWarningDays?: number;
}

export interface CheckTargetDeps {
  connect: ClusterConnector;
  now?: () => Date;
  /** DriftFound (the number of findings, per target) goes here; the handler gives the shared EMF metrics. */
  metrics?: StepMetrics;
}

const DAY_MS = 86_400_000;

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

export async function checkTarget(input: CheckTargetInput, deps: CheckTargetDeps): Promise<CheckInspection> {
  const { target, recorded } = input;
  const { namespace } = target;
  const now = deps.now?.() ?? new Date();
  const kube = await deps.connect(target.cluster);
  const findings: string[] = [];

  // 1. The Service.
  const serviceRef = `Service ${namespace}/${target.service.name}`;
  const service = await kube.getIfExists<Service>(`read ${serviceRef}`, servicePath(namespace, target.service.name));
  const serviceType = service?.spec?.type ?? "(none)";
  if (!service) {
    findings.push(`${serviceRef} no longer exists: Milvus was uninstalled or renamed; the Ingress has no backend.`);
  } else {
    const owner = milvusOwnerOf(service);
    if (owner?.kind === "Milvus") {
      const crRef = `Milvus ${namespace}/${owner.name}`;
      const milvus = await kube.getIfExists<MilvusResource>(`read ${crRef}`, milvusPath(namespace, owner.name));
      const crType = milvus ? serviceTypeOf(milvus) : undefined;
      if (milvus && crType !== "ClusterIP") {
        findings.push(
          `${crRef} has spec.components.${serviceComponentOf(milvus)}.serviceType ${crType}, not ClusterIP: the Milvus Operator brings the Layer-4 load balancer back.`,
        );
      } else if (serviceType !== "ClusterIP") {
        findings.push(`${serviceRef} is type ${serviceType}, not ClusterIP (the Milvus Operator has not applied its CR yet?).`);
      }
    } else if (serviceType !== "ClusterIP") {
      const by = ownersOf(service.metadata?.managedFields as ManagedFieldsEntry[] | undefined, ["f:spec", "f:type"]);
      findings.push(
        `${serviceRef} is type ${serviceType}, not ClusterIP${by.length ? ` (spec.type set by ${by.join(", ")})` : ""}: the Layer-4 load balancer is back, reachable past the ALB and its TLS.`,
      );
    }
  }

  // 2. The Ingress.
  const ingressRef = `Ingress ${namespace}/${target.ingress.name}`;
  const live = await kube.getIfExists<Ingress>(`read ${ingressRef}`, ingressPath(namespace, target.ingress.name));
  if (!live || live.metadata?.deletionTimestamp) {
    findings.push(`${ingressRef} ${live ? "is being deleted" : "no longer exists"}: the ALB is gone or going.`);
  } else {
    findings.push(...ingressDrift(ingressRef, ingressManifest(target, recorded.certificateArn), live));
  }

  // 3. The certificate. ACM holding the recorded source's certificate, other than the recorded one, is a renewal:
  // ReadRecordedCertificate re-imported a newer one from the source (or another target's check of the same ARN did,
  // which is why this is judged on what ACM holds and not on `imported`), and the ALB must now serve it. ACM holding
  // any other certificate in the recorded ARN (re-imported outside milvus-l7) is drift, and the ALB should still
  // serve the recorded one.
  const { certificate } = input;
  const renewed = certificate.readFrom !== undefined && !certificate.sourceNotNewer && certificate.fingerprint256 !== recorded.fingerprint256;
  if (!renewed && certificate.fingerprint256 !== recorded.fingerprint256) {
    findings.push(
      `ACM holds ${certificate.fingerprint256} in ${recorded.certificateArn}, but milvus-l7 recorded ${recorded.fingerprint256}: it was re-imported outside milvus-l7.`,
    );
  }
  const notAfter = renewed ? certificate.notAfter : recorded.notAfter;
  const daysToExpiry = Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
  // The renewal's safety net, daily: ACM sends no "expired" event for an imported certificate, and a source that
  // never renews would otherwise go unnoticed until clients fail. ReadRecordedCertificate already re-imported
  // anything newer the recorded source holds, so what is served here is the newest there is.
  if (input.expiryWarningDays !== undefined && daysToExpiry <= input.expiryWarningDays) {
    findings.push(
      `The certificate in ${recorded.certificateArn} expires in ${daysToExpiry} day${daysToExpiry === 1 ? "" : "s"} (${notAfter}) and ${
        certificate.readFrom ? `its source (${certificate.readFrom}) holds nothing newer` : "no certificate source is recorded for it"
      }: renew it at the source (or re-run with a new certificate); renewals re-import into the same ARN.`,
    );
  }
  // 0 too: a clean check's zero keeps the alarm's series dense, so "no data" means "no check ran".
  deps.metrics?.add("DriftFound", findings.length, { targetId: targetIdOf(target) });
  return {
    findings,
    serviceType,
    ingressFound: live !== undefined && !live.metadata?.deletionTimestamp,
    daysToExpiry,
    // Verification proves the ALB serves exactly that certificate, with the chain ACM holds. After a renewal,
    // `imported` tells it the ALB may still serve the previous certificate for a while (EndpointNotReady, retried).
    expected: renewed
      ? { ...certificate, daysToExpiry, imported: true }
      : { ...certificate, fingerprint256: recorded.fingerprint256, notAfter: recorded.notAfter, daysToExpiry, imported: false },
    ...(renewed ? { renewed: true as const } : {}),
  };
}

/**
 * Every field the manifest sets, compared with the live Ingress: a value that differs, or one our field manager no
 * longer owns, is a finding naming the field, both values and who owns it now.
 */
export function ingressDrift(ref: string, manifest: Ingress, live: Ingress): string[] {
  const entries = (live.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
  const ours = entries.find((e) => e.manager === FIELD_MANAGER && e.operation === "Apply" && !e.subresource);
  const findings: string[] = [];
  const check = (field: string, path: string[], wanted: unknown, actual: unknown) => {
    const others = ownersOf(entries, path).filter((m) => m !== FIELD_MANAGER);
    const owned = ours?.fieldsV1 !== undefined && hasPath(ours.fieldsV1, path);
    if (!sameJson(wanted, actual)) {
      findings.push(
        `${ref}: ${field} is ${actual === undefined ? "absent" : JSON.stringify(actual)}, milvus-l7 applied ${JSON.stringify(wanted)}${others.length ? ` (changed by ${others.join(", ")})` : ""}.`,
      );
    } else if (!owned && others.length > 0) {
      findings.push(`${ref}: ${field} is owned by ${others.join(", ")}, no longer by milvus-l7 (same value for now; their next change wins).`);
    }
  };
  for (const [key, value] of Object.entries(manifest.metadata?.labels ?? {})) {
    check(`label ${key}`, ["f:metadata", "f:labels", `f:${key}`], value, live.metadata?.labels?.[key]);
  }
  for (const [key, value] of Object.entries(manifest.metadata?.annotations ?? {})) {
    check(`annotation ${key}`, ["f:metadata", "f:annotations", `f:${key}`], value, live.metadata?.annotations?.[key]);
  }
  check("spec.ingressClassName", ["f:spec", "f:ingressClassName"], manifest.spec?.ingressClassName, live.spec?.ingressClassName);
  check("spec.rules", ["f:spec", "f:rules"], manifest.spec?.rules, live.spec?.rules);
  // Without our label the rollback and re-runs would no longer treat the Ingress as ours.
  if (!Object.entries(MANAGED_BY_LABEL).every(([k, v]) => live.metadata?.labels?.[k] === v) && findings.length === 0) {
    findings.push(`${ref} lost the label ${Object.keys(MANAGED_BY_LABEL)[0]}.`);
  }
  return findings;
}

/** Managers (other than status writers) whose managedFields own `path`, e.g. ["f:spec", "f:type"]. */
function ownersOf(entries: readonly ManagedFieldsEntry[] | undefined, path: string[]): string[] {
  const owners = (entries ?? []).filter((e) => !e.subresource && e.fieldsV1 && hasPath(e.fieldsV1, path)).map((e) => e.manager ?? "?");
  return [...new Set(owners)];
}

function hasPath(fields: Record<string, unknown>, path: string[]): boolean {
  let node: unknown = fields;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !(key in (node as Record<string, unknown>))) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/** Deep equality of JSON values, keys in any order; absent and null are the same to the apiserver. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b || ((a === undefined || a === null) && (b === undefined || b === null))) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

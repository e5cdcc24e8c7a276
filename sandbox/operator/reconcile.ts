// What one reconcile of a `Milvus` (milvus.io/v1beta1) does to its Service and its status, ported from
// zilliztech/milvus-operator v1.3.8 (commit 31b2ec588d19). Pure functions over plain JSON objects, so the tests can
// check them and the controller (index.ts) only does the Kubernetes calls. README.md in this folder cites each rule.

/** The parts of a Milvus CR the reconcile reads. */
export interface MilvusObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec?: {
    mode?: string;
    components?: Record<string, unknown> & { targetPortType?: string };
  };
  status?: Record<string, unknown>;
}

interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

/** A Service as JSON (what the apiserver sends and takes). */
export interface ServiceObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Record<string, unknown>[];
    resourceVersion?: string;
    [key: string]: unknown;
  };
  spec?: { type?: string; ports?: ServicePort[]; selector?: Record<string, string>; [key: string]: unknown };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** pkg/controllers/milvus_controller.go: PauseReconcileAnnotation. */
export const PAUSE_RECONCILE_ANNOTATION = "milvus.io/pause-reconcile";
/** pkg/controllers/components.go: MetricPort, MetricPortName; the Milvus port's default (GetComponentPort). */
const METRIC_PORT = 9091;
const DEFAULT_MILVUS_PORT = 19530;

interface ServiceComponent {
  serviceType?: string;
  port?: number;
  serviceRestfulPort?: number;
  serviceLabels?: Record<string, string>;
  serviceAnnotations?: Record<string, string>;
}

/** apis/milvus.io/v1beta1/milvus_types.go: GetServiceComponent (cluster → proxy; otherwise, the default, standalone). */
export function serviceComponent(mc: MilvusObject): { name: "proxy" | "standalone"; component: ServiceComponent } {
  const name = mc.spec?.mode === "cluster" ? "proxy" : "standalone";
  const component = mc.spec?.components?.[name];
  return { name, component: (component && typeof component === "object" ? component : {}) as ServiceComponent };
}

/** pkg/controllers/components.go: GetServiceInstanceName. */
export const serviceNameOf = (crName: string): string => `${crName}-milvus`;

/** pkg/controllers/utils.go: NewAppLabels, NewComponentAppLabels (ManagerName = "milvus-operator"). */
function appLabels(instance: string): Record<string, string> {
  return { "app.kubernetes.io/instance": instance, "app.kubernetes.io/name": "milvus", "app.kubernetes.io/managed-by": "milvus-operator" };
}

/** pkg/controllers/utils.go: MergeLabels — existing keys kept, the new ones win. */
const mergeLabels = (current: Record<string, string> | undefined, add: Record<string, string> | undefined) => ({ ...(current ?? {}), ...(add ?? {}) });

/** pkg/controllers/components.go: GetServicePorts (without sidecars), targetPort by name unless targetPortType is integer. */
function desiredPorts(mc: MilvusObject, component: ServiceComponent): ServicePort[] {
  const integer = mc.spec?.components?.targetPortType === "integer";
  const port = component.port && component.port > 0 ? component.port : DEFAULT_MILVUS_PORT;
  const ports: ServicePort[] = [
    { name: "milvus", protocol: "TCP", port, targetPort: integer ? port : "milvus" },
    { name: "metrics", protocol: "TCP", port: METRIC_PORT, targetPort: integer ? METRIC_PORT : "metrics" },
  ];
  const restful = component.serviceRestfulPort ?? 0;
  if (restful !== 0) ports.push({ name: "restful", protocol: "TCP", port: restful, targetPort: integer ? restful : "restful" });
  return ports;
}

/** pkg/controllers/utils.go: MergeServicePort — matched by name; unmatched desired ports appended, extra ones kept. */
function mergeServicePorts(current: ServicePort[] | undefined, desired: ServicePort[]): ServicePort[] {
  if (!current || current.length === 0) return desired;
  const merged = current.map((p) => ({ ...p }));
  for (const want of desired) {
    const found = merged.find((p) => p.name === want.name);
    if (!found) {
      merged.push(want);
      continue;
    }
    Object.assign(found, { name: want.name, protocol: want.protocol, port: want.port, targetPort: want.targetPort });
    if (want.nodePort) found.nodePort = want.nodePort;
  }
  return merged;
}

/**
 * controller-runtime v0.19.6 controllerutil.SetControllerReference, as the operator's SetControllerReference
 * (pkg/controllers/utils.go) calls it: the reference replaces one to the same owner (group, kind, name); a
 * different controller already set is an error.
 */
function withControllerReference(refs: Record<string, unknown>[] | undefined, mc: MilvusObject): Record<string, unknown>[] {
  const name = mc.metadata?.name;
  const other = (refs ?? []).find((r) => r.controller === true && !(r.kind === "Milvus" && r.name === name));
  if (other) throw new Error(`Object is already owned by another ${String(other.kind)} controller ${String(other.name)}`);
  const ref = { apiVersion: "milvus.io/v1beta1", kind: "Milvus", name, uid: mc.metadata?.uid, controller: true, blockOwnerDeletion: true };
  return [...(refs ?? []).filter((r) => !(String(r.apiVersion).startsWith("milvus.io/") && r.kind === "Milvus" && r.name === name)), ref];
}

/**
 * pkg/controllers/services.go: updateService. Labels and annotations merged, the controller reference, ports
 * merged, the selector and the type overwritten from the CR; every other field of `current` kept as it is.
 */
export function desiredService(mc: MilvusObject, current: ServiceObject | undefined): ServiceObject {
  const crName = mc.metadata?.name ?? "";
  const { name: componentName, component } = serviceComponent(mc);
  const service: ServiceObject = current
    ? (JSON.parse(JSON.stringify(current)) as ServiceObject)
    : { apiVersion: "v1", kind: "Service", metadata: { name: serviceNameOf(crName), namespace: mc.metadata?.namespace }, spec: {} };
  const meta = service.metadata ?? {};
  const spec = service.spec ?? {};
  meta.labels = mergeLabels(mergeLabels(meta.labels, appLabels(crName)), component.serviceLabels);
  const annotations = mergeLabels(meta.annotations, component.serviceAnnotations);
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  meta.ownerReferences = withControllerReference(meta.ownerReferences, mc);
  spec.ports = mergeServicePorts(spec.ports, desiredPorts(mc, component));
  // Before the pod-service label migration (IsPodServiceLabelAdded false): the component's app labels.
  spec.selector = { ...appLabels(crName), "app.kubernetes.io/component": componentName };
  // The CRD defaults serviceType to ClusterIP (+kubebuilder:default="ClusterIP").
  spec.type = component.serviceType || "ClusterIP";
  service.metadata = meta;
  service.spec = spec;
  return service;
}

/** pkg/controllers/conditions.go: GetMilvusEndpoint (LoadBalancer: the first ingress IP, so "" host for a hostname). */
export function endpointOf(mc: MilvusObject, service: ServiceObject): string {
  const { component } = serviceComponent(mc);
  const port = component.port && component.port > 0 ? component.port : DEFAULT_MILVUS_PORT;
  switch (service.spec?.type) {
    case "LoadBalancer": {
      const ingress = service.status?.loadBalancer?.ingress ?? [];
      return ingress.length > 0 ? `${ingress[0]?.ip ?? ""}:${port}` : "";
    }
    case "ClusterIP":
      return `${service.metadata?.name}.${service.metadata?.namespace}:${port}`;
    default:
      return "";
  }
}

/**
 * The status after a successful reconcile: Healthy with MilvusReady True (status_cluster.go GetMilvusHealthStatus;
 * the stand-in has no pods to check, so readiness is a guess: always ready), the endpoint, and observedGeneration.
 * A condition keeps its lastTransitionTime while its status stays the same.
 */
export function desiredStatus(mc: MilvusObject, service: ServiceObject, now: string): Record<string, unknown> {
  const previous = (mc.status?.conditions as { type?: string; status?: string; lastTransitionTime?: string }[] | undefined)?.find(
    (c) => c.type === "MilvusReady",
  );
  return {
    ...(mc.status ?? {}),
    status: "Healthy",
    conditions: [
      {
        type: "MilvusReady",
        status: "True",
        reason: "ReasonMilvusHealthy",
        lastTransitionTime: previous?.status === "True" ? previous.lastTransitionTime : now,
      },
    ],
    endpoint: endpointOf(mc, service),
    observedGeneration: mc.metadata?.generation ?? 0,
  };
}

/** JSON with sorted keys: equality as equality.Semantic.DeepEqual sees it for these JSON objects. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(
          Object.keys(val as Record<string, unknown>)
            .sort()
            .map((k) => [k, (val as Record<string, unknown>)[k]]),
        )
      : val,
  );
}

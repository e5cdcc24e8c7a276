// The controller's caches of Ingresses and Services, kept by list+watch, and which changes queue a reconcile
// (kubernetes-sigs/aws-load-balancer-controller v3.5.0, controllers/ingress/eventhandlers/ingress_events.go and
// service_events.go): an Ingress update counts only when its annotations, spec or deletion state changed, so the
// controller's own status patch does not loop; a backend Service appearing or changing re-reconciles the Ingresses
// that use it. Which IngressGroups an Ingress event queues is the controller's business (`onIngress`).
import type { CoreV1Api, NetworkingV1Api, V1Ingress, V1Service, Watch } from "@kubernetes/client-node";
import { objectKey, stableJson } from "./kube";
import { ListWatch } from "./list-watch";
import { backendServices } from "./model";

function keyOf(obj: V1Ingress | V1Service): string {
  return objectKey(obj.metadata?.namespace ?? "default", obj.metadata?.name ?? "");
}

export interface InformerDeps {
  watch: Watch;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  /** An Ingress changed, appeared or went away (the last state seen): queue the groups it belongs to. */
  onIngress: (ing: V1Ingress) => void;
  log: (m: string) => void;
}

export class Informers {
  /** The Ingress cache, by `namespace/name`: what the reconciler reads. */
  readonly ingresses = new Map<string, V1Ingress>();
  /** Fingerprints (annotations and spec) of the Services seen, to tell a change from a resync. */
  private readonly serviceSeen = new Map<string, string>();
  private serviceInitial = true;
  private readonly ingressWatch: ListWatch<V1Ingress>;
  private readonly serviceWatch: ListWatch<V1Service>;

  constructor(private readonly deps: InformerDeps) {
    this.ingressWatch = new ListWatch<V1Ingress>(
      deps.watch,
      "/apis/networking.k8s.io/v1/ingresses",
      () => deps.networking.listIngressForAllNamespaces(),
      (items) => this.onIngressSync(items),
      (type, ing) => this.onIngress(type, ing),
      deps.log,
    );
    this.serviceWatch = new ListWatch<V1Service>(
      deps.watch,
      "/api/v1/services",
      () => deps.core.listServiceForAllNamespaces(),
      (items) => this.onServiceSync(items),
      (type, svc) => this.onService(type, svc),
      deps.log,
    );
  }

  /** Every cached Ingress whose class is one of `classNames` (the ingress-class field index), for class events. */
  ingressesOfClasses(classNames: string[]): V1Ingress[] {
    return [...this.ingresses.values()].filter((i) => classNames.includes(i.spec?.ingressClassName ?? ""));
  }

  /** Resolves once both caches hold their first list (Services first, so the Ingresses' backends are known). */
  async start(): Promise<void> {
    await this.serviceWatch.start();
    await this.ingressWatch.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.ingressWatch.stop(), this.serviceWatch.stop()]);
  }

  private onIngress(type: string, ing: V1Ingress): void {
    const key = keyOf(ing);
    if (type === "DELETED") {
      this.ingresses.delete(key);
      this.deps.onIngress(ing);
      return;
    }
    const prev = this.ingresses.get(key);
    this.ingresses.set(key, ing);
    const changed =
      !prev ||
      stableJson(prev.metadata?.annotations ?? {}) !== stableJson(ing.metadata?.annotations ?? {}) ||
      stableJson(prev.spec ?? {}) !== stableJson(ing.spec ?? {}) ||
      !prev.metadata?.deletionTimestamp !== !ing.metadata?.deletionTimestamp ||
      prev.metadata?.uid !== ing.metadata?.uid;
    if (changed) this.deps.onIngress(ing);
  }

  /** A (re)list: every listed Ingress is an ADDED, and those no longer listed are gone. */
  private onIngressSync(items: V1Ingress[]): void {
    const present = new Set<string>();
    for (const ing of items) {
      present.add(keyOf(ing));
      this.onIngress("ADDED", ing);
    }
    for (const key of [...this.ingresses.keys()]) {
      const gone = this.ingresses.get(key);
      if (!present.has(key) && gone) {
        this.ingresses.delete(key);
        this.deps.onIngress(gone);
      }
    }
  }

  private onService(type: string, svc: V1Service, initial = false): void {
    const ns = svc.metadata?.namespace ?? "default";
    const name = svc.metadata?.name ?? "";
    const skey = objectKey(ns, name);
    const fingerprint = type === "DELETED" ? "" : stableJson({ a: svc.metadata?.annotations ?? {}, s: svc.spec });
    const before = this.serviceSeen.get(skey);
    if (type === "DELETED") this.serviceSeen.delete(skey);
    else this.serviceSeen.set(skey, fingerprint);
    if (initial || before === fingerprint) return;
    for (const ing of this.ingresses.values()) {
      if ((ing.metadata?.namespace ?? "default") !== ns) continue;
      if (backendServices(ing).some((b) => b.service?.name === name)) this.deps.onIngress(ing);
    }
  }

  /** A (re)list of Services; the first one only fills the cache. */
  private onServiceSync(items: V1Service[]): void {
    const present = new Set<string>();
    for (const svc of items) {
      present.add(keyOf(svc));
      this.onService("ADDED", svc, this.serviceInitial);
    }
    for (const skey of [...this.serviceSeen.keys()]) {
      if (present.has(skey)) continue;
      const [ns, name] = skey.split("/");
      this.onService("DELETED", { metadata: { namespace: ns, name } }, this.serviceInitial);
    }
    this.serviceInitial = false;
  }
}

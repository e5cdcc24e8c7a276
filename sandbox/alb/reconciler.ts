// The AWS Load Balancer Controller's Ingress reconciler, as the simulator runs it. It talks to the Kubernetes API
// stand-in only through the real Kubernetes API with @kubernetes/client-node, as the real controller does (list+watch
// Ingresses and Services in all namespaces, merge-patch the Ingress `/status` subresource, create/patch core v1
// Events, add and remove its finalizer), and to ACM only through @aws-sdk/client-acm. One reconcile, after
// kubernetes-sigs/aws-load-balancer-controller v3.5.0 controllers/ingress/group_controller.go and
// pkg/ingress/finalizer.go: add the finalizer, build the model (model.ts), deploy it (load-balancers.ts), then patch
// the status once the ALB is provisioned; a deleted Ingress loses its ALB, then its finalizer. What is modelled and
// what is not: README.md in this folder.
import { setTimeout as sleep } from "node:timers/promises";
import type { ACMClient } from "@aws-sdk/client-acm";
import {
  ApiException,
  CoreV1Api,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
  Watch,
} from "@kubernetes/client-node";
import type { AlbController, AlbControllerOptions, AlbFault } from "./api";
import { certificateReader } from "./certificates";
import { errorText } from "./errors";
import { EventRecorder } from "./events";
import { Informers } from "./informers";
import { kubeConfig, stableJson } from "./kube";
import { type LoadBalancer, LoadBalancers } from "./load-balancers";
import { buildModel, isAlbIngress, type Model } from "./model";
import { WorkQueue } from "./work-queue";

/** pkg/shared_constants/finalizers.go: the finalizer of an implicit (one-Ingress) group. */
const FINALIZER = "ingress.k8s.aws/resources";

const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

interface ReconcilerDeps {
  core: CoreV1Api;
  networking: NetworkingV1Api;
  acm: ACMClient;
  recorder: EventRecorder;
  loadBalancers: LoadBalancers;
  /** The informer's Ingress cache. */
  ingresses: ReadonlyMap<string, V1Ingress>;
  enqueue: (key: string, delayMs?: number) => void;
  fault: () => AlbFault;
  closed: () => boolean;
}

class IngressReconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<void> {
    const { recorder, loadBalancers } = this.deps;
    const ing = this.deps.ingresses.get(key);
    if (!ing) {
      await loadBalancers.teardown(key);
      return;
    }
    if (!isAlbIngress(ing) || ing.metadata?.deletionTimestamp) {
      // Not (or no longer) ours, or being deleted: delete the ALB, then let the Ingress go.
      await loadBalancers.teardown(key);
      await this.removeFinalizer(ing);
      return;
    }
    if (!(await this.addFinalizer(ing))) return;

    let model: Model;
    try {
      model = await buildModel(ing, this.deps);
    } catch (e) {
      recorder.record(ing, "Warning", "FailedBuildModel", `Failed build model due to ${errorText(e)}`);
      throw e;
    }
    if (this.deps.closed()) return;
    let lb: LoadBalancer;
    try {
      lb = await loadBalancers.deploy(key, ing, model);
    } catch (e) {
      recorder.record(ing, "Warning", "FailedDeployModel", `Failed deploy model due to ${errorText(e)}`);
      throw e;
    }
    if (this.deps.closed()) return;

    // The ALB is still provisioning: come back when it is, as the real controller's reconcile would take that long.
    const wait = lb.publishAt - Date.now();
    if (wait > 0) {
      this.deps.enqueue(key, wait);
      return;
    }
    if (this.deps.fault().neverPublish) return;

    const current = this.deps.ingresses.get(key) ?? ing;
    if (!(await this.publishStatus(current, lb, model))) return;
    lb.published = true;
    recorder.record(current, "Normal", "SuccessfullyReconciled", "Successfully reconciled");
  }

  /**
   * updateIngressStatus: Status().Patch(MergeFrom) of a single entry with the hostname and listener ports, only when
   * the status differs. False when the Ingress is gone meanwhile (the watch will tell).
   */
  private async publishStatus(ing: V1Ingress, lb: LoadBalancer, model: Model): Promise<boolean> {
    const ports = [...model.listenPorts.keys()].sort((x, y) => x - y);
    const have = ing.status?.loadBalancer?.ingress ?? [];
    const upToDate =
      have.length === 1 &&
      have[0]?.hostname === lb.hostname &&
      !have[0]?.ip &&
      stableJson((have[0]?.ports ?? []).map((p) => p.port)) === stableJson(ports);
    if (upToDate) return true;
    // The controller fills only IngressPortStatus.Port; Protocol has no omitempty, so Go sends "".
    const entry = { hostname: lb.hostname, ports: ports.map((port) => ({ port, protocol: "" })) };
    try {
      await this.deps.networking.patchNamespacedIngressStatus(
        {
          name: ing.metadata?.name ?? "",
          namespace: ing.metadata?.namespace ?? "default",
          body: { status: { loadBalancer: { ingress: [entry] } } },
        },
        mergePatch(),
      );
      return true;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return false;
      this.deps.recorder.record(ing, "Warning", "FailedUpdateStatus", `Failed update status due to ${errorText(e)}`);
      throw e;
    }
  }

  /** Adds the finalizer before anything is built. False when the Ingress is gone meanwhile (the watch will tell). */
  private async addFinalizer(ing: V1Ingress): Promise<boolean> {
    if ((ing.metadata?.finalizers ?? []).includes(FINALIZER)) return true;
    try {
      await this.patchFinalizers(ing, (f) => (f.includes(FINALIZER) ? undefined : [...f, FINALIZER]));
      return true;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return false;
      this.deps.recorder.record(ing, "Warning", "FailedAddFinalizer", `Failed add finalizer due to ${errorText(e)}`);
      throw e;
    }
  }

  private async removeFinalizer(ing: V1Ingress): Promise<void> {
    if (!(ing.metadata?.finalizers ?? []).includes(FINALIZER)) return;
    try {
      await this.patchFinalizers(ing, (f) => (f.includes(FINALIZER) ? f.filter((x) => x !== FINALIZER) : undefined));
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      this.deps.recorder.record(ing, "Warning", "FailedRemoveFinalizer", `Failed remove finalizer due to ${errorText(e)}`);
      throw e;
    }
  }

  /** finalizer.go: Get, modify, merge patch with the resourceVersion as optimistic lock, retry on conflict. */
  private async patchFinalizers(ing: V1Ingress, update: (f: string[]) => string[] | undefined): Promise<void> {
    const name = ing.metadata?.name ?? "";
    const namespace = ing.metadata?.namespace ?? "default";
    const { networking } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const fresh = await networking.readNamespacedIngress({ name, namespace });
      const next = update(fresh.metadata?.finalizers ?? []);
      if (!next) return;
      try {
        await networking.patchNamespacedIngress(
          { name, namespace, body: { metadata: { finalizers: next, resourceVersion: fresh.metadata?.resourceVersion } } },
          mergePatch(),
        );
        return;
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 409) || attempt >= 4) throw e;
        await sleep(10 * 2 ** attempt);
      }
    }
  }
}

export async function startAlbController(opts: AlbControllerOptions): Promise<AlbController> {
  const log = opts.log ?? (() => undefined);
  const publishDelayMs = opts.publishDelayMs ?? 300;
  const healthyDelayMs = opts.healthyDelayMs ?? 500;
  const certificateRefreshMs = opts.certificateRefreshMs ?? 200;
  const retryBaseMs = opts.retryBaseMs ?? 5;
  const region = opts.region ?? (await opts.acm.config.region());

  const kc = kubeConfig(opts.kube);
  const core = kc.makeApiClient(CoreV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const recorder = new EventRecorder(core, log);

  let fault: AlbFault = {};
  let closed = false;
  const loadBalancers = new LoadBalancers({
    acm: opts.acm,
    region,
    publishDelayMs,
    healthyDelayMs,
    dataPlane: {
      nodes: opts.nodes ?? 2,
      loadCertificate: certificateReader(opts.acm, opts.privateKeyFor, certificateRefreshMs / 4),
      targetFor: opts.targetFor,
      fault: () => fault,
      certificateRefreshMs,
      log,
    },
    closed: () => closed,
  });
  const queue = new WorkQueue((key) => reconciler.reconcile(key), retryBaseMs, log);
  const informers = new Informers({ watch: new Watch(kc), core, networking, enqueue: (key) => queue.enqueue(key), log });
  const reconciler = new IngressReconciler({
    core,
    networking,
    acm: opts.acm,
    recorder,
    loadBalancers,
    ingresses: informers.ingresses,
    enqueue: (key, delayMs) => queue.enqueue(key, delayMs),
    fault: () => fault,
    closed: () => closed,
  });
  await informers.start();

  return {
    resolve: (hostname) => loadBalancers.resolve(hostname),
    listeners() {
      return loadBalancers.entries().map(([key, lb]) => {
        const [namespace = "", name = ""] = key.split("/");
        return {
          namespace,
          name,
          hostname: lb.hostname,
          port: lb.plane?.ports[0] ?? 0,
          ports: lb.plane?.ports ?? [],
          certificateArn: lb.plane?.defaultArn,
          scheme: lb.scheme,
          published: lb.published,
        };
      });
    },
    setFault(f) {
      const wasSuppressed = fault.neverPublish;
      fault = { ...f };
      // Publishing was held back: the next reconcile publishes.
      if (wasSuppressed && !fault.neverPublish) for (const [key] of loadBalancers.entries()) queue.enqueue(key);
    },
    async close() {
      closed = true;
      queue.close();
      await informers.stop();
      await queue.settled();
      await recorder.flush();
      await loadBalancers.closeAll();
    },
  };
}

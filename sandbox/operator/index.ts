// Milvus Operator stand-in: a controller that watches `Milvus` custom resources (milvus.io/v1beta1) through the
// Kubernetes API with @kubernetes/client-node, as the real operator (zilliztech/milvus-operator v1.3.8) does
// through controller-runtime, and reconciles each one's Service `<name>-milvus` and status. Only the Service and
// the status are modelled (no Deployments, dependencies or pods); README.md in this folder lists each behaviour
// with its upstream source.
//
// Triggers, as upstream's SetupWithManager sets them (pkg/controllers/milvus_controller.go): every watch event of
// a Milvus reconciles it at once; a Service is not watched (`Owns(&corev1.Service{})` is commented out), so a
// direct edit of the Service is undone only when the CR is next reconciled, at the latest on the cache resync
// (`resyncMs`, upstream's --sync-interval, default 600 s).
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Service, Watch } from "@kubernetes/client-node";
import { errorText } from "../alb/errors";
import { ListWatch } from "../alb/list-watch";
import {
  canonical,
  desiredService,
  desiredStatus,
  type MilvusObject,
  PAUSE_RECONCILE_ANNOTATION,
  type ServiceObject,
  serviceNameOf,
} from "./reconcile";

export { serviceNameOf } from "./reconcile";

const GROUP = "milvus.io";
const VERSION = "v1beta1";
const PLURAL = "milvuses";
/** pkg/config/config.go: SyncIntervalSec = 600 (the manager's SyncPeriod, --sync-interval). */
export const UPSTREAM_RESYNC_MS = 600_000;
/** controller-runtime's default per-item rate limiter: ItemExponentialFailureRateLimiter(5 ms, 1000 s). */
const RETRY_BASE_MS = 5;
const RETRY_MAX_MS = 1_000_000;
/**
 * The field manager the apiserver records for the operator's writes: client-go's default User-Agent starts with
 * the binary's name, `/manager` in the operator's image (Dockerfile ENTRYPOINT), and the apiserver takes that prefix.
 */
const FIELD_MANAGER = "manager";

export interface MilvusOperatorOptions {
  kube: { url: string; caPem: string; token: string };
  /** The cache resync: every cached Milvus is reconciled again this often. Default: upstream's 600 s. */
  resyncMs?: number;
  /** Diagnostics; silent by default. */
  log?: (message: string) => void;
}

export interface MilvusOperator {
  /** Reconciles run so far (`namespace/name` of each, in order). */
  readonly reconciled: string[];
  /** Resolves when nothing is queued or running (the tests' "the operator has caught up"). */
  idle(): Promise<void>;
  /** What the resync timer does, now: queues every cached Milvus. */
  resync(): void;
  close(): Promise<void>;
}

function kubeConfig(kube: MilvusOperatorOptions["kube"]): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sandbox", server: kube.url.replace(/\/+$/, ""), caData: Buffer.from(kube.caPem).toString("base64"), skipTLSVerify: false }],
    users: [{ name: "milvus-operator", token: kube.token }],
    contexts: [{ name: "sandbox", cluster: "sandbox", user: "milvus-operator" }],
    currentContext: "sandbox",
  });
  return kc;
}

const keyOf = (mc: MilvusObject) => `${mc.metadata?.namespace ?? "default"}/${mc.metadata?.name ?? ""}`;
const toJson = <T>(typed: unknown): T => JSON.parse(JSON.stringify(typed)) as T;
const isNotFound = (e: unknown) => (e as { code?: number }).code === 404;

class Controller implements MilvusOperator {
  readonly reconciled: string[] = [];
  /** The informer's cache of Milvus objects, by key. */
  private readonly cache = new Map<string, MilvusObject>();
  private readonly queue = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private running?: Promise<void>;
  private stopped = false;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly watch: ListWatch<MilvusObject>;
  private resyncTimer?: NodeJS.Timeout;

  constructor(
    kc: KubeConfig,
    private readonly opts: MilvusOperatorOptions,
    private readonly log: (m: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.watch = new ListWatch<MilvusObject>(
      new Watch(kc),
      `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      async () => (await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: MilvusObject[] },
      (items) => {
        this.cache.clear();
        for (const mc of items) this.onEvent("ADDED", mc);
      },
      (type, mc) => this.onEvent(type, mc),
      log,
    );
  }

  async start(): Promise<void> {
    await this.watch.start();
    const every = this.opts.resyncMs ?? UPSTREAM_RESYNC_MS;
    // A resync delivers every cached object as an update, which For(&Milvus{}) turns into a reconcile.
    this.resyncTimer = setInterval(() => this.resync(), every);
    this.resyncTimer.unref();
  }

  resync(): void {
    for (const key of this.cache.keys()) this.enqueue(key);
  }

  private onEvent(type: string, mc: MilvusObject): void {
    const key = keyOf(mc);
    if (type === "DELETED") this.cache.delete(key);
    else this.cache.set(key, mc);
    this.enqueue(key);
  }

  private enqueue(key: string): void {
    if (this.stopped) return;
    this.queue.add(key);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** One worker (MaxConcurrentReconciles is 1 unless configured); a key queued twice is reconciled once. */
  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.size > 0) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      try {
        await this.reconcile(key);
        this.failures.delete(key);
      } catch (e) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const delay = Math.min(RETRY_BASE_MS * 2 ** (n - 1), RETRY_MAX_MS);
        this.log(`reconcile ${key} failed (retry in ${delay} ms): ${errorText(e)}`);
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          this.enqueue(key);
        }, delay);
        this.retryTimers.add(timer);
      }
    }
  }

  /** pkg/controllers/milvus_controller.go Reconcile, reduced to ReconcileServices and the status. */
  private async reconcile(key: string): Promise<void> {
    const mc = this.cache.get(key);
    if (!mc) return;
    this.reconciled.push(key);
    if (mc.metadata?.annotations?.[PAUSE_RECONCILE_ANNOTATION] === "true") return;
    const namespace = mc.metadata?.namespace ?? "default";
    const name = serviceNameOf(mc.metadata?.name ?? "");

    let current: ServiceObject | undefined;
    try {
      current = toJson<ServiceObject>(await this.core.readNamespacedService({ name, namespace }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const wanted = desiredService(mc, current);
    let service = current;
    if (!current) {
      this.log(`Create Service ${namespace}/${name}`);
      service = toJson(await this.core.createNamespacedService({ namespace, body: wanted as V1Service, fieldManager: FIELD_MANAGER }));
    } else if (canonical(current) !== canonical(wanted)) {
      // r.Update: the whole object, with the resourceVersion it was read at (a concurrent change is a 409 and a retry).
      this.log(`Update Service ${namespace}/${name}`);
      service = toJson(await this.core.replaceNamespacedService({ name, namespace, body: wanted as V1Service, fieldManager: FIELD_MANAGER }));
    }

    // status_cluster.go: Status().Update only when the status changed.
    const status = desiredStatus(mc, service ?? wanted, new Date().toISOString().replace(/\.\d+Z$/, "Z"));
    if (canonical(status) !== canonical(mc.status ?? {})) {
      await this.custom.replaceNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name: mc.metadata?.name ?? "",
        body: { ...mc, status },
        fieldManager: FIELD_MANAGER,
      });
    }
  }

  async idle(): Promise<void> {
    while (this.running || this.retryTimers.size > 0) {
      await (this.running ?? new Promise((r) => setTimeout(r, 10)));
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    await this.watch.stop();
    await this.running;
  }
}

/** Starts the operator; resolves once its first list of Milvus objects is cached (and queued for reconcile). */
export async function startMilvusOperator(opts: MilvusOperatorOptions): Promise<MilvusOperator> {
  const controller = new Controller(kubeConfig(opts.kube), opts, opts.log ?? (() => undefined));
  await controller.start();
  return controller;
}

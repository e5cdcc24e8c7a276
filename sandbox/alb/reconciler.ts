// The AWS Load Balancer Controller, as the simulator runs it: what its Helm chart installs (the IngressClass `alb`
// and, unless disabled, the validating webhook and its ValidatingWebhookConfiguration), its caches (Ingresses,
// Services, IngressClasses, IngressClassParams), and the IngressGroup reconciler (group-reconciler.ts). It talks to
// the Kubernetes API stand-in only through the real Kubernetes API with @kubernetes/client-node, as the real
// controller does, and to ACM only through @aws-sdk/client-acm. `mode: "auto"` runs it as EKS Auto Mode's load
// balancing capability instead (auto-mode.ts). What is modelled and what is not: README.md in this folder.
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api, Watch } from "@kubernetes/client-node";
import type { AlbController, AlbControllerOptions, AlbFault, AlbListenerInfo } from "./api";
import { profileOf } from "./auto-mode";
import { certificateReader } from "./certificates";
import { installIngressClass, registerWebhook } from "./chart";
import { ClassLoader } from "./classes";
import { errorText } from "./errors";
import { EventRecorder } from "./events";
import { GroupReconciler } from "./group-reconciler";
import { GroupLoader } from "./groups";
import { Informers } from "./informers";
import { kubeConfig } from "./kube";
import { LoadBalancers } from "./load-balancers";
import { WebhookServer } from "./webhook";
import { startElbv2Api } from "./elbv2-api";
import { TargetGroupBindings } from "./target-group-bindings";
import { WorkQueue } from "./work-queue";

export async function startAlbController(opts: AlbControllerOptions): Promise<AlbController> {
  const log = opts.log ?? (() => undefined);
  const publishDelayMs = opts.publishDelayMs ?? 300;
  const healthyDelayMs = opts.healthyDelayMs ?? 500;
  const certificateRefreshMs = opts.certificateRefreshMs ?? 200;
  const retryBaseMs = opts.retryBaseMs ?? 5;
  const region = opts.region ?? (await opts.acm.config.region());

  const profile = profileOf(opts);

  const kc = kubeConfig(opts.kube);
  const core = kc.makeApiClient(CoreV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const recorder = new EventRecorder(core, log);
  const bindings = new TargetGroupBindings({
    core,
    custom,
    region,
    accountId: opts.accountId ?? "123456789012",
    clusterName: opts.clusterName ?? "milvus-l7-sandbox",
    fault: () => fault,
    log,
  });
  const elbv2 = await startElbv2Api({
    loadBalancers: () => bindings.loadBalancers(),
    fault: () => fault,
    targetFor: (tg) => opts.targetFor(tg.spec.namespace, tg.spec.service, tg.spec.servicePort),
  });

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
  if (profile.installIngressClass) await installIngressClass(networking, custom, log);

  const queue = new WorkQueue((key) => reconciler.reconcile(key), retryBaseMs, log);
  const onIngress = (ing: Parameters<GroupReconciler["onIngressEvent"]>[0]) =>
    void reconciler.onIngressEvent(ing).catch((e: unknown) => log(`ingress event: ${errorText(e)}`));
  const watch = new Watch(kc);
  const informers = new Informers({ watch, core, networking, onIngress, log });
  const classes = new ClassLoader({
    watch,
    core,
    networking,
    custom,
    controllerName: profile.controllerName,
    annotationClass: profile.annotationClass,
    // ingress_class_events.go: the Ingresses of the class (and those without a class, which may default to it).
    onClassChange: (names) => {
      for (const ing of informers.ingresses.values()) {
        const cls = ing.spec?.ingressClassName;
        if (cls === undefined || cls === null || names.includes(cls)) onIngress(ing);
      }
    },
    log,
  });
  const groups = new GroupLoader(classes, informers.ingresses, profile.groupAnnotation);
  const reconciler = new GroupReconciler({
    networking,
    sources: { core, acm: opts.acm, defaultTargetType: profile.defaultTargetType },
    recorder,
    loadBalancers,
    bindings,
    groups,
    ingresses: informers.ingresses,
    enqueue: (key, delayMs) => queue.enqueue(key, delayMs),
    fault: () => fault,
    closed: () => closed,
  });
  // The classes first, so the first Ingress list classifies against a full cache.
  await classes.start();
  let webhook: WebhookServer | undefined;
  if (profile.webhook) {
    webhook = new WebhookServer({ classes, disableGroupNameAnnotation: opts.disableGroupNameAnnotation, log });
    await webhook.start();
    await registerWebhook(kc, webhook, log);
  }
  await informers.start();

  return {
    resolve: (hostname) => loadBalancers.resolve(hostname),
    elbv2Endpoint: elbv2.endpoint,
    listeners() {
      return loadBalancers.entries().flatMap(([key, lb]) =>
        (reconciler.membersOf.get(key) ?? [key]).map((member): AlbListenerInfo => {
          const [namespace = "", name = ""] = member.split("/");
          return {
            namespace,
            name,
            ...(key.includes("/") ? {} : { group: key }),
            hostname: lb.hostname,
            port: lb.plane?.ports[0] ?? 0,
            ports: lb.plane?.ports ?? [],
            certificateArn: lb.plane?.defaultArn,
            scheme: lb.scheme,
            published: lb.published,
          };
        }),
      );
    },
    setFault(f) {
      const wasSuppressed = fault.neverPublish;
      fault = { ...f };
      void webhook?.setReachable(!fault.webhookUnreachable).catch((e: unknown) => log(`webhook: ${errorText(e)}`));
      // Publishing was held back: the next reconcile publishes.
      if (wasSuppressed && !fault.neverPublish) for (const [key] of loadBalancers.entries()) queue.enqueue(key);
      // The TargetGroupBinding controller's next networking reconcile sees the changed security groups.
      void bindings.reconcileNetworking();
    },
    async close() {
      closed = true;
      queue.close();
      await Promise.all([informers.stop(), classes.stop()]);
      await webhook?.close();
      await queue.settled();
      await recorder.flush();
      await loadBalancers.closeAll();
      await elbv2.close();
    },
  };
}

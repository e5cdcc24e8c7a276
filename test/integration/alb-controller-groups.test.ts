// The ALB controller stand-in's IngressGroups, against the kube-apiserver stand-in, on a cluster where the Helm
// chart's webhook is disabled (webhook: false), so an Ingress of a missing class reaches the controller.
import { ACMClient, ImportCertificateCommand } from "@aws-sdk/client-acm";
import {
  ApiException,
  type CoreV1Event,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlbController, startAlbController } from "../../sandbox/alb";
import { type KubeApiServer, seedMilvusRelease, startKubeApiServer } from "../../sandbox/kube";
import { type MilvusServer, startMilvusServer } from "../../sandbox/milvus-server";
import { type Moto, startMoto } from "../../sandbox/moto";
import { type CertificateSet, certificateSet } from "../../sandbox/pki";

const NS = "milvus";
const SERVICE = "milvus-demo";
const HOST = "groups.example.com";

let moto: Moto;
let kube: KubeApiServer;
let milvus: MilvusServer;
let alb: AlbController;
let acm: ACMClient;
let core: CoreV1Api;
let networking: NetworkingV1Api;
const keys = new Map<string, string>();
let certs: CertificateSet;
let certArn: string;

function ingress(name: string, annotations: Record<string, string>, opts: { cls?: string; service?: string } = {}): V1Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: NS, annotations },
    spec: {
      ingressClassName: opts.cls ?? "alb",
      rules: [
        {
          host: HOST,
          http: {
            paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: opts.service ?? SERVICE, port: { number: 19530 } } } }],
          },
        },
      ],
    },
  };
}

const grpcAnnotations = (extra: Record<string, string> = {}) => ({
  "alb.ingress.kubernetes.io/backend-protocol-version": "GRPC",
  "alb.ingress.kubernetes.io/target-type": "ip",
  "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
  ...extra,
});

async function apply(ing: V1Ingress): Promise<V1Ingress> {
  return networking.patchNamespacedIngress(
    { name: ing.metadata?.name ?? "", namespace: NS, body: ing, fieldManager: "milvus-l7", force: true },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  );
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function hostnameOf(name: string): Promise<string | undefined> {
  const ing = await networking.readNamespacedIngress({ name, namespace: NS });
  return ing.status?.loadBalancer?.ingress?.[0]?.hostname;
}

async function eventsFor(name: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.involvedObject.kind === "Ingress" && e.involvedObject.name === name);
}

beforeAll(async () => {
  [moto, kube, milvus] = await Promise.all([startMoto(), startKubeApiServer(), startMilvusServer()]);
  seedMilvusRelease(kube);
  acm = new ACMClient({ endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials });
  certs = await certificateSet([HOST]);
  const out = await acm.send(
    new ImportCertificateCommand({
      Certificate: Buffer.from(certs.leaf.certPem),
      CertificateChain: Buffer.from(certs.chainPem),
      PrivateKey: Buffer.from(certs.leaf.keyPem),
    }),
  );
  certArn = out.CertificateArn ?? "";
  keys.set(certs.leaf.certPem.trim(), certs.leaf.keyPem);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sandbox", server: kube.url, caData: Buffer.from(kube.caPem).toString("base64") }],
    users: [{ name: "test", token: "test-token" }],
    contexts: [{ name: "sandbox", cluster: "sandbox", user: "test" }],
    currentContext: "sandbox",
  });
  core = kc.makeApiClient(CoreV1Api);
  networking = kc.makeApiClient(NetworkingV1Api);
  alb = await startAlbController({
    kube: { url: kube.url, caPem: kube.caPem, token: "alb-controller-token" },
    acm,
    privateKeyFor: (pem: string) => keys.get(pem.trim()),
    targetFor: (ns, _service, port) => (ns === NS && port === 19530 ? { host: milvus.host, port: milvus.port } : undefined),
    publishDelayMs: 100,
    healthyDelayMs: 100,
    webhook: false,
  });
});

afterAll(async () => {
  await alb?.close();
  await Promise.all([milvus?.close(), kube?.close()]);
  await moto?.stop();
});

const member = (name: string, extra: Record<string, string> = {}) =>
  ingress(name, grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn, "alb.ingress.kubernetes.io/group.name": "shared", ...extra }));

async function gone(name: string): Promise<boolean> {
  try {
    await networking.readNamespacedIngress({ name, namespace: NS });
    return false;
  } catch (e) {
    return e instanceof ApiException && e.code === 404;
  }
}

describe("without the webhook", () => {
  it("an Ingress of a class that does not exist is written, then ignored with a FailedLoadGroupID warning", async () => {
    await apply(ingress("no-class", grpcAnnotations(), { cls: "nope" }));
    const event = await eventually("FailedLoadGroupID", async () =>
      (await eventsFor("no-class")).find((e) => e.reason === "FailedLoadGroupID"),
    );
    expect(event).toMatchObject({
      type: "Warning",
      message: 'failed load groupID due to invalid ingress class: ingressclasses.networking.k8s.io "nope" not found',
    });
    expect(await hostnameOf("no-class")).toBeUndefined();
    expect((await networking.readNamespacedIngress({ name: "no-class", namespace: NS })).metadata?.finalizers).toBeUndefined();
  });
});

describe("IngressGroups", () => {
  let shared: string;

  it("members of one group.name share one ALB and carry the group's finalizer", async () => {
    await apply(member("team-a"));
    await apply(member("team-b", { "alb.ingress.kubernetes.io/group.order": "-5" }));
    shared = await eventually("the team-a hostname", () => hostnameOf("team-a"));
    await eventually("the same hostname on team-b", async () => (await hostnameOf("team-b")) === shared);
    expect(shared).toMatch(/^internal-k8s-shared-[0-9a-f]{10}-\d+\.us-east-2\.elb\.amazonaws\.com$/);
    const b = await networking.readNamespacedIngress({ name: "team-b", namespace: NS });
    expect(b.metadata?.finalizers).toEqual(["group.ingress.k8s.aws/shared"]);
    expect(alb.listeners().filter((l) => l.group === "shared").map((l) => l.name)).toEqual(["team-b", "team-a"]);
  });

  it("a member disagreeing on ssl-policy fails the whole group: FailedBuildModel on every member", async () => {
    await apply(member("team-a", { "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06" }));
    await apply(member("team-c", { "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-2016-08" }));
    const expected =
      "Failed build model due to failed to merge listenPort config for port: 443: conflicting sslPolicy, milvus/team-a: ELBSecurityPolicy-TLS13-1-2-2021-06 | milvus/team-c: ELBSecurityPolicy-2016-08";
    for (const name of ["team-a", "team-b", "team-c"]) {
      const event = await eventually(`FailedBuildModel on ${name}`, async () =>
        (await eventsFor(name)).find((e) => e.reason === "FailedBuildModel" && e.message === expected),
      );
      expect(event.type).toBe("Warning");
    }
    // The ALB keeps its last good configuration; the newcomer never gets it.
    expect(await hostnameOf("team-c")).toBeUndefined();
    expect(alb.resolve(shared)).not.toEqual([]);
  });

  it("members disagreeing on scheme fail with the controller's set text", async () => {
    await apply(member("team-b", { "alb.ingress.kubernetes.io/group.order": "-5", "alb.ingress.kubernetes.io/scheme": "internal" }));
    await apply(member("team-c", { "alb.ingress.kubernetes.io/scheme": "internet-facing" }));
    const expected = "Failed build model due to conflicting scheme: map[internal:{} internet-facing:{}]";
    await eventually("the scheme conflict on team-b", async () =>
      (await eventsFor("team-b")).find((e) => e.reason === "FailedBuildModel" && e.message === expected),
    );
  });

  it("a member leaving the group gets its own ALB and the group reconciles again", async () => {
    await apply(ingress("team-c", grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn })));
    const own = await eventually("team-c's own hostname", () => hostnameOf("team-c"));
    expect(own).not.toBe(shared);
    // The group drops its finalizer from the leaver once it has reconciled without it.
    await eventually("only the implicit finalizer on team-c", async () => {
      const c = await networking.readNamespacedIngress({ name: "team-c", namespace: NS });
      return JSON.stringify(c.metadata?.finalizers) === JSON.stringify(["ingress.k8s.aws/resources"]);
    });
  });

  it("deleting one member keeps the ALB for the others; deleting the last deletes it", async () => {
    await apply(member("team-a"));
    await eventually("a reconciled group", async () =>
      (await eventsFor("team-a")).some((e) => e.reason === "SuccessfullyReconciled" && (e.count ?? 0) >= 2),
    );
    await networking.deleteNamespacedIngress({ name: "team-a", namespace: NS });
    await eventually("team-a gone", () => gone("team-a"));
    expect(alb.resolve(shared)).not.toEqual([]);
    expect(await hostnameOf("team-b")).toBe(shared);
    await networking.deleteNamespacedIngress({ name: "team-b", namespace: NS });
    await eventually("team-b gone", () => gone("team-b"));
    expect(alb.resolve(shared)).toEqual([]);
  });
});

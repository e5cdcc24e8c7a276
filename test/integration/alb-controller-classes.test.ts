// The ALB controller stand-in's IngressClasses, IngressClassParams, validating webhook, Service annotations and EKS
// Auto Mode, against the kube-apiserver stand-in (which calls the webhook as a real apiserver does). A self-managed
// controller (the Helm chart's defaults) and an Auto Mode controller share the cluster, as they can on EKS.
import { X509Certificate } from "node:crypto";
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { ACMClient, ImportCertificateCommand } from "@aws-sdk/client-acm";
import {
  AdmissionregistrationV1Api,
  ApiException,
  type CoreV1Event,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlbController, startAlbController } from "../../sandbox/alb";
import { type KubeApiServer, loadMilvusDemoService, seedMilvusRelease, startKubeApiServer } from "../../sandbox/kube";
import { type MilvusServer, startMilvusServer } from "../../sandbox/milvus-server";
import { type Moto, startMoto } from "../../sandbox/moto";
import { type CertificateSet, certificateSet } from "../../sandbox/pki";

const NS = "milvus";
const SERVICE = "milvus-demo";
const HOST = "classes.example.com";

let moto: Moto;
let kube: KubeApiServer;
let milvus: MilvusServer;
let alb: AlbController;
let auto: AlbController;
let acm: ACMClient;
let core: CoreV1Api;
let networking: NetworkingV1Api;
let custom: CustomObjectsApi;
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

/** The apiserver's Status for a refused write. */
async function refusal(write: Promise<unknown>): Promise<{ code: number; reason?: string; message?: string }> {
  try {
    await write;
  } catch (e) {
    if (e instanceof ApiException) return JSON.parse(String(e.body)) as { code: number; reason?: string; message?: string };
    throw e;
  }
  throw new Error("the write was accepted");
}

/** One gRPC request through the ALB: the HTTP status and grpc-status the client sees. */
async function grpcThrough(hostname: string): Promise<{ status: number; grpcStatus?: string }> {
  const [addr] = alb.resolve(hostname).length > 0 ? alb.resolve(hostname) : auto.resolve(hostname);
  if (!addr) throw new Error(`${hostname} does not resolve`);
  const session = http2.connect(`https://${HOST}`, {
    createConnection: () =>
      tls.connect({ host: addr.address, port: addr.port, servername: HOST, ca: certs.root.certPem, ALPNProtocols: ["h2"] }),
  });
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({
        ":method": "POST",
        ":path": "/milvus.proto.milvus.MilvusService/GetVersion",
        ":authority": HOST,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let status = 0;
      let grpcStatus: string | undefined;
      req.on("response", (h) => {
        status = Number(h[":status"]);
        grpcStatus = h["grpc-status"] as string | undefined;
      });
      req.on("trailers", (t) => {
        grpcStatus = (t["grpc-status"] as string | undefined) ?? grpcStatus;
      });
      req.on("data", () => undefined);
      req.on("end", () => resolve({ status, grpcStatus }));
      req.on("error", reject);
      req.end(Buffer.alloc(5));
    });
  } finally {
    session.close();
  }
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
  custom = kc.makeApiClient(CustomObjectsApi);

  const common = {
    kube: { url: kube.url, caPem: kube.caPem, token: "alb-controller-token" },
    acm,
    privateKeyFor: (pem: string) => keys.get(pem.trim()),
    targetFor: (ns: string, _service: string, port: number) =>
      ns === NS && port === 19530 ? { host: milvus.host, port: milvus.port } : undefined,
    publishDelayMs: 100,
    healthyDelayMs: 100,
  };
  alb = await startAlbController(common);
  auto = await startAlbController({ ...common, mode: "auto" });
});

afterAll(async () => {
  await auto?.close();
  await alb?.close();
  await Promise.all([milvus?.close(), kube?.close()]);
  await moto?.stop();
});

describe("what the Helm chart installs", () => {
  it("the IngressClass alb for ingress.k8s.aws/alb and the ValidatingWebhookConfiguration of the webhook", async () => {
    const cls = await networking.readIngressClass({ name: "alb" });
    expect(cls.spec).toEqual({ controller: "ingress.k8s.aws/alb" });
    const admission = new KubeConfig();
    admission.loadFromOptions({
      clusters: [{ name: "s", server: kube.url, caData: Buffer.from(kube.caPem).toString("base64") }],
      users: [{ name: "t", token: "test-token" }],
      contexts: [{ name: "s", cluster: "s", user: "t" }],
      currentContext: "s",
    });
    const vwc = await admission.makeApiClient(AdmissionregistrationV1Api).readValidatingWebhookConfiguration({ name: "aws-load-balancer-webhook" });
    const ingressHook = vwc.webhooks?.find((w) => w.name === "vingress.elbv2.k8s.aws");
    expect(ingressHook).toMatchObject({
      failurePolicy: "Fail",
      matchPolicy: "Equivalent",
      rules: [{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["ingresses"] }],
    });
    expect(ingressHook?.clientConfig.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/validate-networking-v1-ingress$/);
    expect(Buffer.from(String(ingressHook?.clientConfig.caBundle), "base64").toString()).toContain("BEGIN CERTIFICATE");
  });
});

describe("IngressClass", () => {
  it("an Ingress of the chart's class gets an ALB", async () => {
    await apply(ingress("cls-ok", grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn })));
    await eventually("the cls-ok hostname", () => hostnameOf("cls-ok"));
    expect(auto.listeners().find((l) => l.name === "cls-ok")).toBeUndefined();
  });

  it("a class that does not exist is refused by the webhook through the apiserver (403, the controller's text)", async () => {
    const status = await refusal(apply(ingress("cls-missing", grpcAnnotations(), { cls: "nope" })));
    expect(status).toMatchObject({
      code: 403,
      reason: "Forbidden",
      message:
        'admission webhook "vingress.elbv2.k8s.aws" denied the request: invalid ingress class: ingressclasses.networking.k8s.io "nope" not found',
    });
  });

  it("with the webhook unreachable, failurePolicy Fail makes the apiserver refuse Ingress writes", async () => {
    alb.setFault({ webhookUnreachable: true });
    try {
      const status = await eventually("a refused write", async () => {
        try {
          await apply(ingress("cls-blocked", grpcAnnotations()));
          return undefined;
        } catch (e) {
          return e instanceof ApiException ? (JSON.parse(String(e.body)) as { code: number; message: string }) : undefined;
        }
      });
      expect(status.code).toBe(500);
      expect(status.message).toMatch(/^Internal error occurred: failed calling webhook "vingress\.elbv2\.k8s\.aws": /);
    } finally {
      alb.setFault({});
    }
    await eventually("the webhook back", async () => (await apply(ingress("cls-blocked", grpcAnnotations()))) !== undefined);
  });

  it("an Ingress whose class names another controller is ignored", async () => {
    await networking.createIngressClass({ body: { metadata: { name: "other" }, spec: { controller: "example.com/other" } } });
    await apply(ingress("cls-other", grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn }), { cls: "other" }));
    await new Promise((r) => setTimeout(r, 400));
    expect(await hostnameOf("cls-other")).toBeUndefined();
    expect(await eventsFor("cls-other")).toEqual([]);
  });
});

describe("IngressClassParams", () => {
  it("the class's scheme and certificate win over the Ingress's annotations", async () => {
    await custom.createClusterCustomObject({
      group: "elbv2.k8s.aws",
      version: "v1beta1",
      plural: "ingressclassparams",
      body: {
        apiVersion: "elbv2.k8s.aws/v1beta1",
        kind: "IngressClassParams",
        metadata: { name: "public" },
        spec: { scheme: "internet-facing", certificateArn: [certArn] },
      },
    });
    await networking.createIngressClass({
      body: {
        metadata: { name: "public" },
        spec: { controller: "ingress.k8s.aws/alb", parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: "public" } },
      },
    });
    const missingArn = certArn.replace(/[0-9a-f]{12}$/, "000000000000");
    await apply(
      ingress(
        "params",
        grpcAnnotations({ "alb.ingress.kubernetes.io/scheme": "internal", "alb.ingress.kubernetes.io/certificate-arn": missingArn }),
        { cls: "public" },
      ),
    );
    const hostname = await eventually("the params hostname", () => hostnameOf("params"));
    expect(hostname).toMatch(/^k8s-milvus-params-/);
    expect(alb.listeners().find((l) => l.name === "params")).toMatchObject({ scheme: "internet-facing", certificateArn: certArn });
  });

  it("an Ingress in a namespace the parameters do not select fails to load its group (FailedLoadGroupID)", async () => {
    await custom.createClusterCustomObject({
      group: "elbv2.k8s.aws",
      version: "v1beta1",
      plural: "ingressclassparams",
      body: {
        apiVersion: "elbv2.k8s.aws/v1beta1",
        kind: "IngressClassParams",
        metadata: { name: "team-a" },
        spec: { namespaceSelector: { matchLabels: { team: "a" } } },
      },
    });
    await networking.createIngressClass({
      body: {
        metadata: { name: "team-a" },
        spec: { controller: "ingress.k8s.aws/alb", parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: "team-a" } },
      },
    });
    // The webhook loads classes without their parameters, so the write is allowed; the controller then refuses it.
    await apply(ingress("wrong-ns", grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn }), { cls: "team-a" }));
    const event = await eventually("FailedLoadGroupID", async () =>
      (await eventsFor("wrong-ns")).find((e) => e.reason === "FailedLoadGroupID"),
    );
    expect(event).toMatchObject({
      type: "Warning",
      message: "failed load groupID due to invalid ingress class: namespaceSelector of IngressClassParams team-a mismatch",
    });
    expect(await hostnameOf("wrong-ns")).toBeUndefined();
  });
});

describe("Service annotations", () => {
  it("backend-protocol-version HTTP1 on the Service wins over the Ingress's GRPC and breaks gRPC through the ALB", async () => {
    const svc = loadMilvusDemoService() as unknown as { metadata: Record<string, unknown> };
    svc.metadata = {
      name: "milvus-http1",
      namespace: NS,
      annotations: { "alb.ingress.kubernetes.io/backend-protocol-version": "HTTP1" },
    };
    kube.put(svc);
    await apply(ingress("svc-wins", grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn }), { service: "milvus-http1" }));
    const hostname = await eventually("the svc-wins hostname", () => hostnameOf("svc-wins"));
    // HTTP1 target group: the health check default is HTTP 200 on "/", and the ALB speaks HTTP/1.1 to the target,
    // which a gRPC server does not answer: the client never gets a gRPC OK.
    const answer = await eventually("healthy targets", async () => {
      const r = await grpcThrough(hostname);
      return r.status === 503 ? undefined : r;
    });
    expect(answer.grpcStatus).not.toBe("0");
    expect(answer.status).not.toBe(200);
  });
});

describe("EKS Auto Mode", () => {
  it("serves its own class with eks.amazonaws.com/v1 parameters; the self-managed controller ignores it", async () => {
    await custom.createClusterCustomObject({
      group: "eks.amazonaws.com",
      version: "v1",
      plural: "ingressclassparams",
      body: {
        apiVersion: "eks.amazonaws.com/v1",
        kind: "IngressClassParams",
        metadata: { name: "auto" },
        spec: { scheme: "internet-facing", certificateARNs: [certArn] },
      },
    });
    await networking.createIngressClass({
      body: {
        metadata: { name: "auto" },
        spec: { controller: "eks.amazonaws.com/alb", parameters: { apiGroup: "eks.amazonaws.com", kind: "IngressClassParams", name: "auto" } },
      },
    });
    // No target-type annotation: Auto Mode's default is IP mode, so the NodePort-less Service works.
    const annotations = {
      "alb.ingress.kubernetes.io/backend-protocol-version": "GRPC",
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
      // Auto Mode does not support group.name: each Ingress keeps its own ALB.
      "alb.ingress.kubernetes.io/group.name": "shared",
    };
    await apply(ingress("auto-a", annotations, { cls: "auto" }));
    await apply(ingress("auto-b", annotations, { cls: "auto" }));
    const a = await eventually("the auto-a hostname", () => hostnameOf("auto-a"));
    const b = await eventually("the auto-b hostname", () => hostnameOf("auto-b"));
    expect(a).not.toBe(b);
    expect(auto.listeners().find((l) => l.name === "auto-a")).toMatchObject({ scheme: "internet-facing", certificateArn: certArn });
    expect(alb.listeners().find((l) => l.name === "auto-a")).toBeUndefined();
    await eventually("a gRPC OK through the Auto Mode ALB", async () => (await grpcThrough(a)).grpcStatus === "0");
    const served = await new Promise<string>((resolve, reject) => {
      const [addr] = auto.resolve(a);
      const s = tls.connect({ host: addr?.address, port: addr?.port, servername: HOST, ca: certs.root.certPem, ALPNProtocols: ["h2"] });
      s.once("secureConnect", () => {
        resolve(s.getPeerX509Certificate()?.fingerprint256 ?? "");
        s.destroy();
      });
      s.once("error", reject);
    });
    expect(served).toBe(new X509Certificate(certs.leaf.certPem).fingerprint256);
  });
});

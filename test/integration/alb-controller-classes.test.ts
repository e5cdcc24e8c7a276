// The ALB controller stand-in's IngressClasses, IngressClassParams, validating webhook, Service annotations and EKS
// Auto Mode, against the kube-apiserver stand-in (which calls the webhook as a real apiserver does). A self-managed
// controller (the Helm chart's defaults) and an Auto Mode controller share the cluster, as they can on EKS.
import { X509Certificate } from "node:crypto";
import { AdmissionregistrationV1Api, ApiException, type CustomObjectsApi, type NetworkingV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import type { AlbController } from "../../sandbox/alb";
import { type KubeApiServer, loadMilvusDemoService } from "../../sandbox/kube";
import type { CertificateSet } from "../../sandbox/pki";
import { kubeConfig, rejection } from "../kube-api";
import { albNode, eventually, grpcAnnotations, grpcRequest, handshake, NS, useAlbSandbox } from "./alb-harness";

const HOST = "classes.example.com";

const sandbox = useAlbSandbox(HOST);
const { ingress, apply, hostnameOf, eventsFor } = sandbox;
let kube: KubeApiServer;
let alb: AlbController;
let auto: AlbController;
let networking: NetworkingV1Api;
let custom: CustomObjectsApi;
let certs: CertificateSet;
let certArn: string;

/** The apiserver's Status for a refused write. */
const refusal = async (write: Promise<unknown>) => (await rejection(write)).status;

/** One gRPC request through the ALB: the HTTP status and grpc-status the client sees. */
function grpcThrough(hostname: string): Promise<{ status: number; grpcStatus?: string }> {
  return grpcRequest(albNode([alb, auto], hostname), { servername: HOST, authority: HOST, ca: certs.root.certPem });
}

/** An IngressClass whose parameters are the IngressClassParams of the same name, in `group`'s API. */
async function classWithParams(name: string, group: "elbv2.k8s.aws" | "eks.amazonaws.com", spec: Record<string, unknown>): Promise<void> {
  const { version, controller } =
    group === "elbv2.k8s.aws" ? { version: "v1beta1", controller: "ingress.k8s.aws/alb" } : { version: "v1", controller: "eks.amazonaws.com/alb" };
  await custom.createClusterCustomObject({
    group,
    version,
    plural: "ingressclassparams",
    body: { apiVersion: `${group}/${version}`, kind: "IngressClassParams", metadata: { name }, spec },
  });
  await networking.createIngressClass({
    body: { metadata: { name }, spec: { controller, parameters: { apiGroup: group, kind: "IngressClassParams", name } } },
  });
}

beforeAll(async () => {
  ({ kube, networking, custom, certs, certArn } = sandbox);
  const delays = { publishDelayMs: 100, healthyDelayMs: 100 };
  alb = await sandbox.startController(delays);
  auto = await sandbox.startController({ ...delays, mode: "auto" });
});

describe("what the Helm chart installs", () => {
  it("the IngressClass alb for ingress.k8s.aws/alb and the ValidatingWebhookConfiguration of the webhook", async () => {
    const cls = await networking.readIngressClass({ name: "alb" });
    expect(cls.spec).toEqual({ controller: "ingress.k8s.aws/alb" });
    const vwc = await kubeConfig(kube, "test-token").makeApiClient(AdmissionregistrationV1Api).readValidatingWebhookConfiguration({ name: "aws-load-balancer-webhook" });
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
    await classWithParams("public", "elbv2.k8s.aws", { scheme: "internet-facing", certificateArn: [certArn] });
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
    await classWithParams("team-a", "elbv2.k8s.aws", { namespaceSelector: { matchLabels: { team: "a" } } });
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
    await classWithParams("auto", "eks.amazonaws.com", { scheme: "internet-facing", certificateARNs: [certArn] });
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
    const served = (await handshake(albNode(auto, a), HOST, certs.root.certPem)).fingerprint;
    expect(served).toBe(new X509Certificate(certs.leaf.certPem).fingerprint256);
  });
});

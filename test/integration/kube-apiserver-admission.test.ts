// Admission webhooks registered through the API (matching, AdmissionReview, denial and failure texts, mutation),
// the IAM principals' access scope against the controllers' service-account tokens, the kinds the AWS Load
// Balancer Controller reads (IngressClass, its CRDs, Pods, webhook configurations), and how the product's client
// reads what the stand-in answers.
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  type V1Ingress,
  type V1ValidatingWebhook,
} from "@kubernetes/client-node";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, keepAliveAgent } from "../../functions/lib/kube-client";
import { type KubeApiServer, type KubeObject, seedMilvusRelease, serviceAccountUser, startKubeApiServer } from "../../sandbox/kube";
import { type Issued, issue } from "../../sandbox/pki";
import { ingress, kubeConfig, mergePatch, rejection, serverSideApply } from "../kube-api";

let server: KubeApiServer;
let ca: Issued;
let serving: Issued;
const CONTROLLER_TOKEN = "lbc-service-account-token";

interface Review {
  request: { uid: string; operation: string; name: string; namespace?: string; kind: { kind: string }; resource: { resource: string }; userInfo: { username: string }; object: KubeObject | null; oldObject: KubeObject | null; dryRun: boolean };
}
type Answer = (review: Review) => Record<string, unknown>;
const reviews: Review[] = [];
let answer: Answer = () => ({ allowed: true });
/** How long the test webhook takes to answer. */
let answerDelayMs = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => {
    body += c;
  });
  req.on("end", () => {
    const review = JSON.parse(body) as Review;
    reviews.push(review);
    setTimeout(() => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: review.request.uid, ...answer(review) } }));
    }, answerDelayMs);
  });
}

const https = createServer();
const http = createHttpServer(handle);
let httpsUrl = "";
let httpUrl = "";

beforeAll(async () => {
  ca = await issue({ commonName: "webhook test CA", isCa: true });
  serving = await issue({ commonName: "localhost", issuer: ca });
  https.setSecureContext({ cert: serving.certPem, key: serving.keyPem });
  https.on("request", handle);
  await new Promise<void>((r) => https.listen(0, "localhost", r));
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  httpsUrl = `https://localhost:${(https.address() as AddressInfo).port}`;
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  server = await startKubeApiServer({ staticTokens: [{ token: CONTROLLER_TOKEN, user: serviceAccountUser("kube-system", "aws-load-balancer-controller") }] });
  seedMilvusRelease(server);
});

afterAll(async () => {
  await server.close();
  https.closeAllConnections();
  http.closeAllConnections();
  await new Promise((r) => https.close(r));
  await new Promise((r) => http.close(r));
});

const admission = () => kubeConfig(server).makeApiClient(AdmissionregistrationV1Api);
const networking = () => kubeConfig(server).makeApiClient(NetworkingV1Api);
const core = () => kubeConfig(server).makeApiClient(CoreV1Api);

afterEach(async () => {
  server.setAccessScope("cluster");
  answer = () => ({ allowed: true });
  answerDelayMs = 0;
  reviews.length = 0;
  for (const cfg of server.list("ValidatingWebhookConfiguration")) await admission().deleteValidatingWebhookConfiguration({ name: cfg.metadata.name });
  for (const cfg of server.list("MutatingWebhookConfiguration")) await admission().deleteMutatingWebhookConfiguration({ name: cfg.metadata.name });
  for (const ing of server.list("Ingress", "milvus")) await networking().deleteNamespacedIngress({ name: ing.metadata.name, namespace: "milvus" });
});

function webhook(name: string, extra: Partial<V1ValidatingWebhook> = {}): V1ValidatingWebhook {
  return {
    name,
    clientConfig: { url: `${httpsUrl}/validate`, caBundle: Buffer.from(ca.certPem).toString("base64") },
    rules: [{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], resources: ["ingresses"], operations: ["CREATE", "UPDATE"] }],
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    failurePolicy: "Fail",
    ...extra,
  };
}

async function register(...webhooks: V1ValidatingWebhook[]): Promise<void> {
  await admission().createValidatingWebhookConfiguration({ body: { metadata: { name: "test" }, webhooks } });
}

describe("validating admission webhooks", () => {
  it("sends an admission.k8s.io/v1 AdmissionReview over HTTPS trusted through caBundle, and honours a denial as upstream words it", async () => {
    await register(webhook("vingress.test"));
    answer = () => ({ allowed: false, status: { code: 403, message: "ingress class alb is reserved" } });
    const { code, status } = await rejection(networking().createNamespacedIngress({ namespace: "milvus", body: ingress("denied") }));
    expect(code).toBe(403);
    expect(status).toMatchObject({ kind: "Status", status: "Failure", code: 403, message: 'admission webhook "vingress.test" denied the request: ingress class alb is reserved' });
    expect(server.get("Ingress", "milvus", "denied")).toBeUndefined();
    const request = reviews[0]?.request;
    expect(request).toMatchObject({
      operation: "CREATE",
      name: "denied",
      namespace: "milvus",
      kind: { group: "networking.k8s.io", version: "v1", kind: "Ingress" },
      resource: { group: "networking.k8s.io", version: "v1", resource: "ingresses" },
      userInfo: { username: "sandbox-user" },
      oldObject: null,
      dryRun: false,
    });
    expect(request?.object?.spec).toMatchObject({ ingressClassName: "alb" });
    // A denial without a code is a 400; without a message it says so.
    answer = () => ({ allowed: false });
    const bare = await rejection(networking().createNamespacedIngress({ namespace: "milvus", body: ingress("bare") }));
    expect([bare.code, bare.status.message]).toEqual([400, 'admission webhook "vingress.test" denied the request without explanation']);
  });

  it("calls the webhook for updates, merge patches and server-side apply with the old object, and not for kinds or operations its rules leave out", async () => {
    await register(webhook("vingress.test", { rules: [{ apiGroups: ["networking.k8s.io"], apiVersions: ["*"], resources: ["ingresses"], operations: ["UPDATE"] }] }));
    await networking().createNamespacedIngress({ namespace: "milvus", body: ingress("l7") });
    await core().patchNamespacedService({ name: "milvus-demo", namespace: "milvus", body: { metadata: { labels: { x: "1" } } } }, mergePatch);
    expect(reviews).toHaveLength(0);
    await networking().patchNamespacedIngress({ name: "l7", namespace: "milvus", body: { metadata: { labels: { x: "1" } } } }, mergePatch);
    await networking().patchNamespacedIngress({ name: "l7", namespace: "milvus", fieldManager: "milvus-l7", force: true, body: ingress("l7") }, serverSideApply);
    expect(reviews.map((r) => r.request.operation)).toEqual(["UPDATE", "UPDATE"]);
    expect(reviews[0]?.request.oldObject?.metadata.labels?.x).toBeUndefined();
    expect(reviews[0]?.request.object?.metadata.labels?.x).toBe("1");
  });

  it("applies a write that waited for its webhook onto the object as it is then, not as it was read", async () => {
    // Only status writes are reviewed, slowly: a spec patch lands while the status patch waits for its webhook.
    await register(webhook("vstatus.test", { rules: [{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], resources: ["ingresses/status"], operations: ["UPDATE"] }] }));
    await networking().createNamespacedIngress({ namespace: "milvus", body: ingress("racing") });
    answerDelayMs = 300;
    const status = { loadBalancer: { ingress: [{ hostname: "k8s-alb.example" }] } };
    const statusPatch = networking().patchNamespacedIngressStatus({ name: "racing", namespace: "milvus", body: { status } }, mergePatch);
    while (reviews.length === 0) await new Promise((r) => setTimeout(r, 5));
    await networking().patchNamespacedIngress({ name: "racing", namespace: "milvus", body: { metadata: { labels: { edited: "yes" } } } }, mergePatch);
    await statusPatch;
    const stored = server.get<V1Ingress>("Ingress", "milvus", "racing");
    expect(stored?.metadata?.labels?.edited).toBe("yes");
    expect(stored?.status).toEqual(status);
  });

  it("matches namespaceSelector against the namespace's labels and objectSelector against the object's", async () => {
    await register(
      webhook("by-namespace", { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "default" } } }),
      webhook("by-object", { objectSelector: { matchExpressions: [{ key: "checked", operator: "Exists" }] } }),
    );
    answer = (r) => ({ allowed: false, status: { message: `${r.request.name} refused` } });
    await networking().createNamespacedIngress({ namespace: "milvus", body: ingress("plain") });
    const labelled = ingress("labelled");
    labelled.metadata = { ...labelled.metadata, labels: { checked: "yes" } };
    const { status } = await rejection(networking().createNamespacedIngress({ namespace: "milvus", body: labelled }));
    expect(status.message).toBe('admission webhook "by-object" denied the request: labelled refused');
  });

  it("fails the write with failurePolicy Fail when the webhook cannot be reached, and lets it through with Ignore", async () => {
    const closed = createHttpServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await register(webhook("unreachable", { clientConfig: { url: `https://127.0.0.1:${port}/validate` } }));
    const { code, status } = await rejection(networking().createNamespacedIngress({ namespace: "milvus", body: ingress("l7") }));
    expect(code).toBe(500);
    const reason = `failed calling webhook "unreachable": failed to call webhook: Post "https://127.0.0.1:${port}/validate?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`;
    expect(status).toMatchObject({ reason: "InternalError", message: `Internal error occurred: ${reason}`, details: { causes: [{ message: reason }] } });
    await admission().patchValidatingWebhookConfiguration({ name: "test", body: [{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Ignore" }] });
    await networking().createNamespacedIngress({ namespace: "milvus", body: ingress("l7") });
    expect(server.get("Ingress", "milvus", "l7")).toBeDefined();
  });

  it("refuses a certificate the caBundle does not vouch for, and calls a plain-HTTP url", async () => {
    await register(webhook("no-ca", { clientConfig: { url: `${httpsUrl}/validate` } }));
    const { status } = await rejection(networking().createNamespacedIngress({ namespace: "milvus", body: ingress("l7") }));
    expect(status.message).toContain("x509: certificate signed by unknown authority");
    await admission().deleteValidatingWebhookConfiguration({ name: "test" });
    await register(webhook("plain", { clientConfig: { url: `${httpUrl}/validate` }, rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["services"], operations: ["*"], scope: "Namespaced" }] }));
    answer = (r) => ({ allowed: r.request.operation !== "DELETE", status: { code: 422, reason: "Invalid", message: "keep it" } });
    const { code, status: refused } = await rejection(core().deleteNamespacedService({ name: "milvus-demo", namespace: "milvus" }));
    expect([code, refused.message, refused.reason]).toEqual([422, 'admission webhook "plain" denied the request: keep it', "Invalid"]);
    expect(reviews.at(-1)?.request).toMatchObject({ operation: "DELETE", object: null, oldObject: { metadata: { name: "milvus-demo" } } });
  });

  it("applies a mutating webhook's JSONPatch before validation and before the validating webhooks", async () => {
    await admission().createMutatingWebhookConfiguration({
      body: {
        metadata: { name: "mutate" },
        webhooks: [{ ...webhook("mingress.test"), clientConfig: { url: `${httpUrl}/mutate` } }],
      },
    });
    await register(webhook("vingress.test"));
    answer = (r) =>
      r.request.object?.metadata.labels?.mutated
        ? { allowed: true }
        : { allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify([{ op: "add", path: "/metadata/labels", value: { mutated: "yes" } }])).toString("base64") };
    await networking().createNamespacedIngress({ namespace: "milvus", body: ingress("l7") });
    expect(server.get<KubeObject>("Ingress", "milvus", "l7")?.metadata.labels).toEqual({ mutated: "yes" });
    expect(reviews.map((r) => r.request.object?.metadata.labels?.mutated ?? "-")).toEqual(["-", "yes"]);
  });
});

describe("access scope", () => {
  it("limits IAM principals to the namespaces of a namespace-scoped access policy, with the RBAC texts", async () => {
    await networking().createIngressClass({ body: { metadata: { name: "alb" }, spec: { controller: "ingress.k8s.aws/alb" } } });
    server.setAccessScope({ namespaces: ["milvus"] });
    const get = await rejection(networking().readIngressClass({ name: "alb" }));
    expect([get.code, get.status.reason, get.status.message]).toEqual([
      403,
      "Forbidden",
      'ingressclasses.networking.k8s.io "alb" is forbidden: User "sandbox-user" cannot get resource "ingressclasses" in API group "networking.k8s.io" at the cluster scope',
    ]);
    expect(get.status.details).toEqual({ name: "alb", group: "networking.k8s.io", kind: "ingressclasses" });
    const list = await rejection(networking().listIngressClass());
    expect(list.status.message).toBe('ingressclasses.networking.k8s.io is forbidden: User "sandbox-user" cannot list resource "ingressclasses" in API group "networking.k8s.io" at the cluster scope');
    const other = await rejection(core().listNamespacedService({ namespace: "default" }));
    expect(other.status.message).toBe('services is forbidden: User "sandbox-user" cannot list resource "services" in API group "" in the namespace "default"');
    const everywhere = await rejection(core().listServiceForAllNamespaces());
    expect(everywhere.status.message).toContain("at the cluster scope");
    await expect(core().readNamespacedService({ name: "milvus-demo", namespace: "milvus" })).resolves.toMatchObject({ spec: { type: "LoadBalancer" } });
    await expect(core().readNamespace({ name: "milvus" })).resolves.toMatchObject({ metadata: { name: "milvus" } });
    // The controller's service account is bound cluster-wide.
    const controller = kubeConfig(server, CONTROLLER_TOKEN).makeApiClient(NetworkingV1Api);
    await expect(controller.readIngressClass({ name: "alb" })).resolves.toMatchObject({ spec: { controller: "ingress.k8s.aws/alb" } });
    expect(server.requests.at(-1)?.user).toBe("system:serviceaccount:kube-system:aws-load-balancer-controller");
    server.setAccessScope("cluster");
    await networking().deleteIngressClass({ name: "alb" });
  });

  it("the product's client names what to grant for a 403 and tells a webhook denial apart", async () => {
    const kube = new KubeClient({ server: server.url, agent: keepAliveAgent({ ca: server.caPem }), headers: { Authorization: "Bearer t" } });
    server.setAccessScope({ namespaces: ["milvus"] });
    await expect(kube.get("read IngressClass alb", "/apis/networking.k8s.io/v1/ingressclasses/alb")).rejects.toMatchObject({
      name: "KubernetesForbidden",
      message: expect.stringContaining("may not get ingressclasses.networking.k8s.io at the cluster scope"),
    });
    server.setAccessScope("cluster");
    await register(webhook("vingress.test"));
    answer = () => ({ allowed: false, status: { message: "no" } });
    await expect(
      kube.apply("apply Ingress milvus/l7", "/apis/networking.k8s.io/v1/namespaces/milvus/ingresses/l7", ingress("l7"), { fieldManager: "milvus-l7", force: true }),
    ).rejects.toMatchObject({ name: "AdmissionDenied", message: expect.stringContaining('the admission webhook "vingress.test" denied it: no') });
  });
});

describe("the kinds the load balancer controller reads", () => {
  it("serves IngressClass with its defaults and validation: controller required and immutable, parameters rules", async () => {
    const created = await networking().createIngressClass({
      body: { metadata: { name: "alb", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } }, spec: { controller: "ingress.k8s.aws/alb", parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: "alb" } } },
    });
    expect(created.spec?.parameters?.scope).toBe("Cluster");
    const immutable = await rejection(networking().patchIngressClass({ name: "alb", body: { spec: { controller: "eks.amazonaws.com/alb" } } }, mergePatch));
    expect([immutable.code, immutable.status.message]).toEqual([422, 'IngressClass.networking.k8s.io "alb" is invalid: spec.controller: Invalid value: "eks.amazonaws.com/alb": field is immutable']);
    const bad = await rejection(
      networking().createIngressClass({ body: { metadata: { name: "bad" }, spec: { controller: "alb", parameters: { kind: "IngressClassParams", name: "p", scope: "Namespace" } } } }),
    );
    expect(bad.status.message).toBe(
      'IngressClass.networking.k8s.io "bad" is invalid: [spec.controller: Invalid value: "alb": must be a domain-prefixed path (such as "acme.io/foo"), spec.parameters.namespace: Required value: `parameters.scope` is set to \'Namespace\']',
    );
    await networking().deleteIngressClass({ name: "alb" });
  });

  it("serves the controllers' custom resources with their scope and TargetGroupBinding's status subresource", async () => {
    const custom = kubeConfig(server).makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({ group: "elbv2.k8s.aws", version: "v1beta1", plural: "ingressclassparams", body: { apiVersion: "elbv2.k8s.aws/v1beta1", kind: "IngressClassParams", metadata: { name: "alb" }, spec: { scheme: "internet-facing" } } });
    await custom.createClusterCustomObject({ group: "eks.amazonaws.com", version: "v1", plural: "ingressclassparams", body: { apiVersion: "eks.amazonaws.com/v1", kind: "IngressClassParams", metadata: { name: "alb" }, spec: { scheme: "internal" } } });
    expect(server.get<KubeObject>("IngressClassParams.eks.amazonaws.com", undefined, "alb")?.spec).toEqual({ scheme: "internal" });
    expect(server.get<KubeObject>("IngressClassParams", undefined, "alb")?.spec).toEqual({ scheme: "internet-facing" });
    const tgb = { apiVersion: "elbv2.k8s.aws/v1beta1", kind: "TargetGroupBinding", metadata: { name: "k8s-milvus" }, spec: { serviceRef: { name: "milvus-demo", port: 19530 }, targetGroupARN: "arn:aws:elasticloadbalancing:us-east-2:1:targetgroup/k8s/1" }, status: { observedGeneration: 9 } };
    await custom.createNamespacedCustomObject({ group: "elbv2.k8s.aws", version: "v1beta1", namespace: "milvus", plural: "targetgroupbindings", body: tgb });
    expect(server.get<KubeObject>("TargetGroupBinding", "milvus", "k8s-milvus")?.status).toBeUndefined();
    await custom.patchNamespacedCustomObjectStatus({ group: "elbv2.k8s.aws", version: "v1beta1", namespace: "milvus", plural: "targetgroupbindings", name: "k8s-milvus", body: { status: { observedGeneration: 1 } } }, mergePatch);
    expect(server.get<KubeObject>("TargetGroupBinding", "milvus", "k8s-milvus")?.status).toEqual({ observedGeneration: 1 });
  });

  it("lists the seeded proxy pods by the Service's selector, without readiness gates", async () => {
    const pods = await core().listNamespacedPod({ namespace: "milvus", labelSelector: "app.kubernetes.io/instance=milvus-demo,app.kubernetes.io/name=milvus,component=proxy" });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual(["milvus-demo-proxy-7c9d8f6b5d-x2k4p"]);
    expect(pods.items[0]?.spec?.readinessGates).toBeUndefined();
    expect(pods.items[0]?.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });
});

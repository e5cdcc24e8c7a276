// The ALB controller stand-in against the real kube-apiserver stand-in (through @kubernetes/client-node), moto's
// ACM and the Milvus stand-in, with the real @zilliz/milvus2-sdk-node client going through the "ALB". What the
// workflow relies on: the hostname appears in the Ingress status, the listener serves the certificate ACM holds
// for the ARN (re-imports included), gRPC is routed by :authority, and bad annotations surface only as Warning
// Events with the controller's own reasons and messages.
import { X509Certificate } from "node:crypto";
import type { CoreV1Api, NetworkingV1Api } from "@kubernetes/client-node";
import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AlbController } from "../../sandbox/alb";
import type { MilvusServer } from "../../sandbox/milvus-server";
import { type CertificateSet, certificateSet } from "../../sandbox/pki";
import { mergePatch } from "../kube-api";
import { albNode, eventually, grpcAnnotations, grpcRequest, handshake, NS, SERVICE, useAlbSandbox } from "./alb-harness";

const HOST = "milvus.example.com";
const PUBLISH_MS = 150;
const HEALTHY_MS = 250;
const ALB_HOSTNAME = /^k8s-milvus-[a-z0-9]{1,8}-[0-9a-f]{10}-\d+\.us-east-2\.elb\.amazonaws\.com$/;

const sandbox = useAlbSandbox(HOST);
const { apply, hostnameOf, eventsFor, warning, importCertificate } = sandbox;
let milvus: MilvusServer;
let alb: AlbController;
let core: CoreV1Api;
let networking: NetworkingV1Api;
let certs: CertificateSet;
let certArn: string;
const milvusClients: MilvusClient[] = [];

const ingress = (name: string, host: string, annotations: Record<string, string>, service = SERVICE) =>
  sandbox.ingress(name, annotations, { host, service });

/** The annotations of the Ingress in the Milvus guide "Set up a Layer-7 Load Balancer for Milvus on AWS". */
function milvusAnnotations(arn: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "alb.ingress.kubernetes.io/scheme": "internet-facing",
    ...grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": arn, ...extra }),
  };
}

/** SHA-256 fingerprint of the leaf the listener serves for SNI `servername`, and the negotiated ALPN. */
function served(hostname: string, servername = HOST): Promise<{ fingerprint: string; alpn: string | false }> {
  return handshake(albNode(alb, hostname), servername, certs.root.certPem);
}

/** One raw HTTP/2 request through the ALB, with SNI the host and `authority` as :authority. */
function rawRequest(hostname: string, authority: string, path?: string) {
  return grpcRequest(albNode(alb, hostname), { servername: HOST, authority, ca: certs.root.certPem, path });
}

function milvusThroughAlb(hostname: string, opts: { authority?: string } = {}): MilvusClient {
  const addr = albNode(alb, hostname);
  const client = new MilvusClient({
    address: `${addr.address}:${addr.port}`,
    ssl: true,
    // serverName sets SNI and the name checked on the certificate, but not :authority.
    tls: { rootCert: Buffer.from(certs.root.certPem), serverName: HOST },
    channelOptions: opts.authority ? { "grpc.default_authority": opts.authority } : {},
    maxRetries: 0,
    timeout: 5_000,
    telemetry: { enabled: false },
    logLevel: "warn",
  });
  milvusClients.push(client);
  return client;
}

beforeAll(async () => {
  ({ milvus, core, networking, certs, certArn } = sandbox);
  alb = await sandbox.startController({
    // target-type ip registers the Milvus pods: here, the stand-in.
    targetFor: (ns, service, port) =>
      ns === NS && service === SERVICE && port === 19530 ? { host: milvus.host, port: milvus.port } : undefined,
    publishDelayMs: PUBLISH_MS,
    healthyDelayMs: HEALTHY_MS,
    certificateRefreshMs: 100,
    nodes: 3,
  });
});

afterEach(async () => {
  alb.setFault({});
  await Promise.all(milvusClients.splice(0).map((c) => c.closeConnection()));
});

describe("ALB controller stand-in: a valid Ingress", () => {
  let hostname: string;

  beforeAll(async () => {
    await apply(ingress("milvus-demo", HOST, milvusAnnotations(certArn)));
    hostname = await eventually("the ALB hostname in the Ingress status", () => hostnameOf("milvus-demo"));
  });

  it("publishes a realistic ALB hostname, adds its finalizer and reports SuccessfullyReconciled", async () => {
    expect(hostname).toMatch(ALB_HOSTNAME);
    const ing = await networking.readNamespacedIngress({ name: "milvus-demo", namespace: NS });
    expect(ing.status?.loadBalancer?.ingress).toEqual([{ hostname, ports: [{ port: 443, protocol: "" }] }]);
    expect(ing.metadata?.finalizers).toContain("ingress.k8s.aws/resources");
    const ok = await eventually("SuccessfullyReconciled", async () =>
      (await eventsFor("milvus-demo")).find((e) => e.reason === "SuccessfullyReconciled"),
    );
    expect(ok).toMatchObject({
      type: "Normal",
      message: "Successfully reconciled",
      source: { component: "ingress" },
      involvedObject: { kind: "Ingress", apiVersion: "networking.k8s.io/v1", name: "milvus-demo", namespace: NS, uid: ing.metadata?.uid },
    });
    expect(alb.listeners()).toContainEqual(
      expect.objectContaining({ namespace: NS, name: "milvus-demo", hostname, certificateArn: certArn, published: true }),
    );
  });

  it("serves the certificate ACM holds for the ARN, with ALPN h2", async () => {
    const { fingerprint, alpn } = await served(hostname);
    expect(fingerprint).toBe(new X509Certificate(certs.leaf.certPem).fingerprint256);
    expect(alpn).toBe("h2");
  });

  it("carries a Milvus gRPC call (TLS, serverName + grpc.default_authority = host) to the target", async () => {
    await eventually("healthy targets", async () => (await rawRequest(hostname, HOST)).status === 200);
    const client = milvusThroughAlb(hostname, { authority: HOST });
    await expect(client.getVersion()).resolves.toMatchObject({ version: "v2.5.4" });
    // The target saw the client's :authority, and the gRPC status travelled back in the trailers.
    expect(milvus.calls).toContain(`GetVersion@${HOST}`);
    await expect(rawRequest(hostname, `${HOST}:443`)).resolves.toEqual({ status: 200, grpcStatus: "0" });
  });

  it("answers the controller's default 404 for an authority no rule matches", async () => {
    await expect(rawRequest(hostname, "other.example.com")).resolves.toMatchObject({ status: 404 });
    // Without grpc.default_authority the SDK sends "127.0.0.1:<port>" as :authority and gets the ALB's 404,
    // which grpc-js reports as UNIMPLEMENTED — and the SDK's retry interceptor turns UNIMPLEMENTED into an OK
    // empty message. So the call "succeeds" with {}: a connection check must look at the answer, not the promise.
    const client = milvusThroughAlb(hostname);
    await expect(client.getVersion()).resolves.toEqual({});
    expect(milvus.calls.filter((c) => c.startsWith("GetVersion@127.0.0.1"))).toEqual([]);
  });

  it("answers 503 while the targets are unhealthy", async () => {
    alb.setFault({ unhealthyTargets: true });
    await expect(rawRequest(hostname, HOST)).resolves.toMatchObject({ status: 503 });
    alb.setFault({});
    await expect(rawRequest(hostname, HOST)).resolves.toMatchObject({ status: 200 });
  });

  it("ignores Ingresses of another class", async () => {
    // The class must exist: the controller's webhook refuses an ingressClassName it cannot load, whoever's it is.
    await networking.createIngressClass({
      body: { metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } },
    });
    const other = ingress("nginx-one", "nginx.example.com", milvusAnnotations(certArn));
    if (other.spec) other.spec.ingressClassName = "nginx";
    await apply(other);
    await new Promise((r) => setTimeout(r, PUBLISH_MS * 3));
    expect(await hostnameOf("nginx-one")).toBeUndefined();
    expect(await eventsFor("nginx-one")).toEqual([]);
    const ing = await networking.readNamespacedIngress({ name: "nginx-one", namespace: NS });
    expect(ing.metadata?.finalizers).toBeUndefined();
  });
});

describe("ALB controller stand-in: invalid Ingresses warn and never get a hostname", () => {
  it("success-codes '200' on a GRPC target group fails at deploy with ELBv2's ValidationError", async () => {
    await apply(ingress("bad-codes", "bad-codes.example.com", milvusAnnotations(certArn, { "alb.ingress.kubernetes.io/success-codes": "200" })));
    const event = await warning("bad-codes", "FailedDeployModel");
    expect(event.message).toMatch(
      /^Failed deploy model due to operation error Elastic Load Balancing v2: CreateTargetGroup, https response error StatusCode: 400, RequestID: [0-9a-f-]{36}, api error ValidationError: Health check matcher GRPC code '200' must be within '0-99' inclusive$/,
    );
    // The controller retries with backoff; every AWS error has its own RequestID, so from the 10th distinct
    // message on client-go combines them into one Event whose count grows.
    const combined = await eventually("the combined event", async () =>
      (await eventsFor("bad-codes")).find((e) => e.message?.startsWith("(combined from similar events): ")),
    );
    expect(combined.message).toMatch(/: Failed deploy model due to .*Health check matcher GRPC code '200' must be within '0-99' inclusive$/);
    const all = (await eventsFor("bad-codes")).filter((e) => e.reason === "FailedDeployModel");
    expect(all.length).toBeLessThanOrEqual(10);
    expect(await hostnameOf("bad-codes")).toBeUndefined();
    expect(alb.listeners().find((l) => l.name === "bad-codes")?.published ?? false).toBe(false);
  });

  it("a certificate ARN that ACM does not hold fails CreateListener with CertificateNotFound", async () => {
    const missing = certArn.replace(/[0-9a-f]{12}$/, "000000000000");
    await apply(ingress("no-cert", "no-cert.example.com", milvusAnnotations(missing)));
    const event = await warning("no-cert", "FailedDeployModel");
    expect(event.message).toMatch(
      new RegExp(
        `^Failed deploy model due to operation error Elastic Load Balancing v2: CreateListener, https response error StatusCode: 400, RequestID: [0-9a-f-]{36}, CertificateNotFound: Certificate '${missing}' not found$`,
      ),
    );
    await new Promise((r) => setTimeout(r, PUBLISH_MS * 2));
    expect(await hostnameOf("no-cert")).toBeUndefined();
  });

  it("a backend Service that does not exist fails the model build", async () => {
    await apply(ingress("no-svc", "no-svc.example.com", milvusAnnotations(certArn), "nope"));
    const event = await warning("no-svc", "FailedBuildModel");
    expect(event.message).toBe('Failed build model due to ingress: milvus/no-svc: services "nope" not found');
    // Identical messages (no RequestID here) are one Event object whose count grows with every retry.
    await eventually("an aggregated count", async () => {
      const all = (await eventsFor("no-svc")).filter((e) => e.reason === "FailedBuildModel");
      return all.length === 1 && (all[0]?.count ?? 0) >= 3;
    });
    expect(await hostnameOf("no-svc")).toBeUndefined();
    // The controller watches Services too: once the backend exists, the Ingress reconciles and gets its ALB.
    await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: "nope", namespace: NS }, spec: { ports: [{ port: 19530, targetPort: 19530 }] } },
    });
    await eventually("the no-svc hostname", () => hostnameOf("no-svc"));
  });

  it.each([
    ["alb.ingress.kubernetes.io/scheme", "public", "unknown scheme: public"],
    ["alb.ingress.kubernetes.io/target-type", "pod", "ingress: milvus/bad-ann: unknown targetType: pod"],
    [
      "alb.ingress.kubernetes.io/backend-protocol-version",
      "GRPCS",
      "ingress: milvus/bad-ann: backend protocol version must be within [HTTP1, HTTP2, GRPC]: GRPCS",
    ],
    ["alb.ingress.kubernetes.io/listen-ports", '[{"HTTPS":"443"}]', "ingress: milvus/bad-ann: failed to parse listen-ports configuration: `[{\"HTTPS\":\"443\"}]`: json: cannot unmarshal string into Go value of type int32"],
    ["alb.ingress.kubernetes.io/listen-ports", '[{"TLS":443}]', "ingress: milvus/bad-ann: listen protocol must be within [HTTP, HTTPS]: TLS"],
    [
      "alb.ingress.kubernetes.io/load-balancer-attributes",
      "idle_timeout.timeout_seconds",
      "failed to parse stringMap annotation, alb.ingress.kubernetes.io/load-balancer-attributes: idle_timeout.timeout_seconds",
    ],
  ])("%s=%s → FailedBuildModel", async (key, value, cause) => {
    await apply(ingress("bad-ann", "bad-ann.example.com", milvusAnnotations(certArn, { [key]: value })));
    const expected = `Failed build model due to ${cause}`;
    await eventually(expected, async () =>
      (await eventsFor("bad-ann")).find((e) => e.type === "Warning" && e.reason === "FailedBuildModel" && e.message === expected),
    );
    expect(await hostnameOf("bad-ann")).toBeUndefined();
  });

  it.each([
    ["alb.ingress.kubernetes.io/ssl-policy", "ELBSecurityPolicy-Nope", "CreateListener, .*SSLPolicyNotFound: SSL policy 'ELBSecurityPolicy-Nope' not found"],
    [
      "alb.ingress.kubernetes.io/load-balancer-attributes",
      "idle_timeout.seconds=60",
      "ModifyLoadBalancerAttributes, .*api error ValidationError: Load balancer attribute key 'idle_timeout.seconds' is not recognized",
    ],
  ])("%s=%s → FailedDeployModel", async (key, value, cause) => {
    const name = `deploy-${key.includes("ssl") ? "ssl" : "attr"}`;
    await apply(ingress(name, `${name}.example.com`, milvusAnnotations(certArn, { [key]: value })));
    const event = await warning(name, "FailedDeployModel");
    expect(event.message).toMatch(new RegExp(`^Failed deploy model due to operation error Elastic Load Balancing v2: ${cause}$`));
  });
});

describe("ALB controller stand-in: certificates by discovery and a held-back publish", () => {
  it("finds the ACM certificate by host when certificate-arn is absent", async () => {
    const annotations = milvusAnnotations(certArn);
    delete annotations["alb.ingress.kubernetes.io/certificate-arn"];
    await apply(ingress("discover", HOST, annotations));
    const hostname = await eventually("the discover hostname", () => hostnameOf("discover"));
    expect(alb.listeners().find((l) => l.name === "discover")?.certificateArn).toBe(certArn);
    expect((await served(hostname)).fingerprint).toBe(new X509Certificate(certs.leaf.certPem).fingerprint256);
  });

  it("fails the build when no ACM certificate covers the host", async () => {
    const annotations = milvusAnnotations(certArn);
    delete annotations["alb.ingress.kubernetes.io/certificate-arn"];
    await apply(ingress("no-disc", "unknown.example.org", annotations));
    const event = await warning("no-disc", "FailedBuildModel");
    expect(event.message).toBe(
      "Failed build model due to ingress: milvus/no-disc: no certificate found for host: unknown.example.org",
    );
  });

  it("neverPublish holds the hostname back until the fault is cleared", async () => {
    alb.setFault({ neverPublish: true });
    await apply(ingress("held", "held.example.com", milvusAnnotations(certArn)));
    await eventually("the held ALB", () => alb.listeners().find((l) => l.name === "held"));
    await new Promise((r) => setTimeout(r, PUBLISH_MS * 3));
    expect(await hostnameOf("held")).toBeUndefined();
    expect(alb.listeners().find((l) => l.name === "held")?.published).toBe(false);
    alb.setFault({});
    const hostname = await eventually("the held hostname", () => hostnameOf("held"));
    expect(alb.listeners().find((l) => l.name === "held")).toMatchObject({ hostname, published: true });
  });
});

describe("ALB controller stand-in: changes after the ALB exists", () => {
  const host = "renew.example.com";
  let set: CertificateSet;
  let arn: string;
  let hostname: string;

  beforeAll(async () => {
    set = await certificateSet([host]);
    arn = await importCertificate(set);
    await apply(ingress("renew", host, milvusAnnotations(arn)));
    hostname = await eventually("the renew hostname", () => hostnameOf("renew"));
  });

  it("serves a certificate re-imported into the same ARN shortly after, like a real ALB", async () => {
    const before = new X509Certificate(set.leaf.certPem).fingerprint256;
    expect(await servedUnverified(hostname, host)).toBe(before);
    const renewed = await certificateSet([host]);
    await importCertificate(renewed, arn);
    const after = new X509Certificate(renewed.leaf.certPem).fingerprint256;
    // The client trusts the first root only, so check the served leaf without verification.
    await eventually("the renewed certificate", async () => (await servedUnverified(hostname, host)) === after, 5_000);
  });

  it("keeps serving the previous certificate for servedCertificateLagMs", async () => {
    const current = await servedUnverified(hostname, host);
    alb.setFault({ servedCertificateLagMs: 1_500 });
    const renewed = await certificateSet([host]);
    const changedAt = Date.now();
    await importCertificate(renewed, arn);
    const after = new X509Certificate(renewed.leaf.certPem).fingerprint256;
    await new Promise((r) => setTimeout(r, 600));
    expect(await servedUnverified(hostname, host)).toBe(current);
    await eventually("the lagged certificate", async () => (await servedUnverified(hostname, host)) === after, 5_000);
    expect(Date.now() - changedAt).toBeGreaterThanOrEqual(1_400);
  });

  it("resolves to every node, each its own listener serving the certificate and routing gRPC", async () => {
    const nodes = alb.resolve(hostname);
    expect(nodes).toHaveLength(3);
    expect(new Set(nodes.map((n) => n.port)).size).toBe(3);
    expect(alb.listeners().find((l) => l.name === "renew")?.ports).toEqual(nodes.map((n) => n.port));
    const first = await servedUnverified(hostname, host, 0);
    for (const i of [1, 2]) expect(await servedUnverified(hostname, host, i)).toBe(first);
  });

  it("one node keeps serving the previous certificate (nodeCertificateLagMs) until the fault is cleared", async () => {
    const current = await servedUnverified(hostname, host);
    alb.setFault({ nodeCertificateLagMs: { 1: Number.POSITIVE_INFINITY } });
    // A renewal from the same CA, as a real CA issues it: only the fingerprint tells the two apart.
    const renewed = await certificateSet([host], { ca: set });
    await importCertificate(renewed, arn);
    const after = new X509Certificate(renewed.leaf.certPem).fingerprint256;
    await eventually("nodes 0 and 2 on the renewal", async () =>
      (await servedUnverified(hostname, host, 0)) === after && (await servedUnverified(hostname, host, 2)) === after,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await servedUnverified(hostname, host, 1)).toBe(current);
    alb.setFault({});
    await eventually("node 1 on the renewal", async () => (await servedUnverified(hostname, host, 1)) === after, 5_000);
  });

  it("an Ingress that turns invalid warns and its ALB keeps the last good configuration", async () => {
    await apply(ingress("renew", host, milvusAnnotations(arn, { "alb.ingress.kubernetes.io/success-codes": "0-200" })));
    const event = await warning("renew", "FailedDeployModel");
    // The target group exists already, so the failing call is ModifyTargetGroup.
    expect(event.message).toMatch(/ModifyTargetGroup, .*Health check matcher GRPC code '0-200' must be within '0-99' inclusive$/);
    expect(await hostnameOf("renew")).toBe(hostname);
    expect(alb.resolve(hostname)).not.toEqual([]);
  });

  it("a scheme change is a new load balancer with an internal- DNS name", async () => {
    await apply(ingress("renew", host, milvusAnnotations(arn, { "alb.ingress.kubernetes.io/scheme": "internal" })));
    const internal = await eventually("the internal hostname", async () => {
      const h = await hostnameOf("renew");
      return h !== hostname ? h : undefined;
    });
    expect(internal).toMatch(/^internal-k8s-milvus-renew-[0-9a-f]{10}-\d+\.us-east-2\.elb\.amazonaws\.com$/);
    expect(alb.resolve(hostname)).toEqual([]);
    hostname = internal;
  });

  it("deleting the Ingress deletes the ALB and releases the finalizer", async () => {
    expect(alb.resolve(hostname)).not.toEqual([]);
    await networking.deleteNamespacedIngress({ name: "renew", namespace: NS });
    await eventually("the Ingress to be gone", () => sandbox.gone("renew"));
    expect(alb.resolve(hostname)).toEqual([]);
    expect(alb.listeners().find((l) => l.name === "renew")).toBeUndefined();
  });
});

/** The served leaf's fingerprint, not verifying the chain (a renewal in these tests has a new root). */
async function servedUnverified(hostname: string, servername: string, node = 0): Promise<string> {
  return (await handshake(albNode(alb, hostname, node), servername)).fingerprint;
}

describe("ALB controller stand-in: the Service cutover to ClusterIP", () => {
  it("keeps target-type ip working and breaks target-type instance (no NodePort)", async () => {
    const instance = milvusAnnotations(certArn, { "alb.ingress.kubernetes.io/target-type": "instance" });
    await apply(ingress("instance-tg", "instance.example.com", instance));
    await eventually("the instance-tg hostname", () => hostnameOf("instance-tg"));
    const ipHostname = await eventually("the milvus-demo hostname", () => hostnameOf("milvus-demo"));
    const reconciledBefore =
      (await eventsFor("milvus-demo")).find((e) => e.reason === "SuccessfullyReconciled")?.count ?? 0;

    // patch-service's change (functions/patch-service/core.ts): ClusterIP, clearing the fields the apiserver would otherwise reject.
    await core.patchNamespacedService(
      {
        name: SERVICE,
        namespace: NS,
        body: { spec: { type: "ClusterIP", externalTrafficPolicy: null, loadBalancerSourceRanges: null } },
      },
      mergePatch,
    );

    const event = await warning("instance-tg", "FailedBuildModel");
    expect(event.message).toBe(
      "Failed build model due to ingress: milvus/instance-tg: TargetGroup port is empty. When using Instance targets, your service be must of type 'NodePort' or 'LoadBalancer'",
    );
    // The ip Ingress re-reconciles on the Service change and keeps serving.
    await eventually("a new SuccessfullyReconciled", async () => {
      const ok = (await eventsFor("milvus-demo")).find((e) => e.reason === "SuccessfullyReconciled");
      return (ok?.count ?? 0) > reconciledBefore;
    });
    await expect(rawRequest(ipHostname, HOST)).resolves.toEqual({ status: 200, grpcStatus: "0" });
  });
});

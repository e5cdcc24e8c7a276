// apply-ingress, get-ingress-status and patch-service against the Kubernetes API stand-in, which enforces the
// apiserver's rules we depend on (Service type change validation, server-side apply ownership, watches).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyIngress } from "../../functions/apply-ingress/core";
import { getIngressStatus } from "../../functions/get-ingress-status/core";
import { withMilvusL7Defaults } from "../../functions/lib/alb-annotations";
import { eksClient } from "../../functions/lib/kube";
import { ingressPath, servicePath } from "../../functions/lib/kube-client";
import type { Target } from "../../functions/lib/state";
import { SOURCE_RANGES_ANNOTATION, cutoverPatch, patchService } from "../../functions/patch-service/core";
import { type KubeApiServer, type KubeObject, loadMilvusDemoService, seedMilvusRelease, startKubeApiServer } from "../../sandbox/kube";

const CERT = "arn:aws:acm:us-east-2:123456789012:certificate/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11";
const target: Target = {
  cluster: { name: "milvus-eks", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: withMilvusL7Defaults({}) },
};

let kube: KubeApiServer;
const connect = async () => eksClient({ endpoint: kube.url, caData: Buffer.from(kube.caPem).toString("base64") }, "token");
const deps = { connect };

type Service = KubeObject & { spec: Record<string, unknown> & { ports: Record<string, unknown>[] } };
type Ingress = KubeObject & { status?: { loadBalancer?: { ingress?: { hostname: string }[] } } };

// A fresh apiserver per test: ownership, events and faults must not leak from one test into the next.
beforeEach(async () => {
  kube = await startKubeApiServer();
  seedMilvusRelease(kube);
  // The IngressClass the AWS Load Balancer Controller's chart creates: apply-ingress checks it before writing.
  kube.put({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "alb" }, spec: { controller: "ingress.k8s.aws/alb" } });
});
afterEach(async () => {
  await kube.close();
});

function ingressWithHostname(hostname: string) {
  const ingress = kube.get<Ingress>("Ingress", "milvus", "milvus-demo");
  if (!ingress) throw new Error("no ingress");
  kube.put({ ...ingress, status: { loadBalancer: { ingress: [{ hostname }] } } });
}

describe("patch-service", () => {
  it("the doc's plain type change is rejected by the apiserver: the cutover patch must clear LoadBalancer-only fields", async () => {
    // What `kubectl patch svc --type merge -p '{"spec":{"type":"ClusterIP"}}'` does to the chart's Service.
    const client = await connect();
    await expect(
      client.mergePatch("patch Service milvus/milvus-demo", servicePath("milvus", "milvus-demo"), { spec: { type: "ClusterIP" } }, "kubectl-patch"),
    ).rejects.toMatchObject({ name: "KubernetesRejected", message: expect.stringContaining("(422)") });
    expect(cutoverPatch("1").spec).toMatchObject({ type: "ClusterIP", externalTrafficPolicy: null, loadBalancerSourceRanges: null });
  });

  it("switches the Helm chart's LoadBalancer Service to ClusterIP, keeping ports and selector", async () => {
    const result = await patchService({ target }, deps);
    expect(result).toMatchObject({ previousType: "LoadBalancer", type: "ClusterIP", changed: true, via: "service" });
    const svc = kube.get<Service>("Service", "milvus", "milvus-demo");
    expect(svc?.spec.type).toBe("ClusterIP");
    expect(svc?.spec.externalTrafficPolicy).toBeUndefined();
    expect(svc?.spec.loadBalancerSourceRanges).toBeUndefined();
    expect(svc?.spec.ports.map((p) => p.nodePort)).toEqual([undefined, undefined]);
    expect(svc?.spec.ports.map((p) => p.port)).toEqual([19530, 9091]);
    expect(svc?.spec.clusterIP).toBe("172.20.114.87");
    expect(svc?.spec.selector).toEqual((loadMilvusDemoService() as Service).spec.selector);
  });

  it("cuts over a Service whose sources are restricted by the annotation instead of the field, and says the ALB does not inherit them", async () => {
    const chart = loadMilvusDemoService() as Service;
    const { loadBalancerSourceRanges: _field, ...spec } = chart.spec;
    kube.put({
      ...chart,
      metadata: { ...chart.metadata, annotations: { ...chart.metadata?.annotations, [SOURCE_RANGES_ANNOTATION]: "10.0.0.0/8, 192.168.0.0/16" } },
      spec,
    });
    // A real apiserver refuses the annotation on a ClusterIP Service, as it does the field.
    const client = await connect();
    await expect(
      client.mergePatch("patch Service milvus/milvus-demo", servicePath("milvus", "milvus-demo"), { spec: { type: "ClusterIP" } }, "kubectl-patch"),
    ).rejects.toThrow(`metadata.annotations[${SOURCE_RANGES_ANNOTATION}]: Forbidden: may only be used when \`type\` is 'LoadBalancer'`);

    const result = await patchService({ target }, deps);
    expect(result).toMatchObject({ previousType: "LoadBalancer", type: "ClusterIP", changed: true });
    const after = kube.get<Service>("Service", "milvus", "milvus-demo");
    expect(after?.spec.type).toBe("ClusterIP");
    expect(after?.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION]).toBeUndefined();
    expect(result.warnings).toContainEqual(
      expect.stringContaining("admitted only 10.0.0.0/8, 192.168.0.0/16; the ALB does not inherit that: set the annotation alb.ingress.kubernetes.io/inbound-cidrs"),
    );
  });

  it("cuts over a Service with externalIPs (the apiserver keeps them) and warns they still reach Milvus on Layer 4", async () => {
    const chart = loadMilvusDemoService() as Service;
    kube.put({ ...chart, spec: { ...chart.spec, externalIPs: ["203.0.113.10"] } });
    const result = await patchService({ target }, deps);
    expect(result).toMatchObject({ previousType: "LoadBalancer", type: "ClusterIP", changed: true });
    expect(kube.get<Service>("Service", "milvus", "milvus-demo")?.spec.externalIPs).toEqual(["203.0.113.10"]);
    expect(result.warnings).toContainEqual(
      expect.stringContaining("lists spec.externalIPs 203.0.113.10: kube-proxy keeps forwarding them to Milvus on Layer 4 after the cutover"),
    );
  });

  it("does not warn about source ranges open to everyone, as the Milvus chart sets them", async () => {
    const result = await patchService({ target }, deps);
    expect(result.warnings.some((w) => w.includes("inbound-cidrs"))).toBe(false);
  });

  it("warns that Helm will revert the cutover, naming the release and the values change", async () => {
    const { warnings } = await patchService({ target }, deps);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("Helm release milvus-demo");
    expect(warnings[0]).toContain("--set service.type=ClusterIP");
  });

  it("is a no-op without a write when the Service is already ClusterIP", async () => {
    await patchService({ target }, deps);
    const writes = kube.mutations.length;
    const again = await patchService({ target }, deps);
    expect(again).toMatchObject({ previousType: "ClusterIP", changed: false });
    expect(kube.mutations.length).toBe(writes);
  });

  it("translates apiserver failures into named errors", async () => {
    kube.injectFault({ match: { method: "GET", pathIncludes: "/services/milvus-demo" }, respond: { status: 503 } });
    await expect(patchService({ target }, deps)).rejects.toMatchObject({ name: "KubernetesUnavailable" });
    // Throttled for longer than the call waits by itself: left to the step's Retry, with the server's suggestion.
    kube.injectFault({ match: { method: "PATCH" }, respond: { status: 429, retryAfterSeconds: 30 } });
    await expect(patchService({ target }, deps)).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringContaining("(it asked to retry after 30 s)"),
    });
    kube.injectFault({ match: { method: "GET" }, respond: { status: 403 } });
    await expect(patchService({ target }, deps)).rejects.toMatchObject({
      name: "KubernetesForbidden",
      message: expect.stringContaining("AmazonEKSEditPolicy"),
    });
    await expect(patchService({ target: { ...target, service: { name: "nope", port: 19530 } } }, deps)).rejects.toMatchObject({
      name: "KubernetesNotFound",
      message: expect.stringContaining("Service milvus/nope"),
    });
  });

  it("gives up on a hung apiserver with a retryable error instead of eating the Lambda's timeout", async () => {
    kube.injectFault({ match: { method: "GET" }, respond: "reset" });
    await expect(patchService({ target }, deps)).rejects.toMatchObject({ name: "KubernetesUnavailable" });
  });
});

describe("apply-ingress", () => {
  it("server-side applies the doc's Ingress with our owned annotations, label and field manager", async () => {
    const state = await applyIngress({ target, certificate: { arn: CERT } }, deps);
    expect(state).toMatchObject({ namespace: "milvus", name: "milvus-demo", changed: true, polls: 0 });
    const ing = kube.get<Ingress & { spec: unknown }>("Ingress", "milvus", "milvus-demo");
    expect(ing?.metadata.labels).toMatchObject({ "app.kubernetes.io/managed-by": "milvus-l7" });
    expect(ing?.metadata.annotations).toMatchObject({
      "alb.ingress.kubernetes.io/scheme": "internet-facing",
      "alb.ingress.kubernetes.io/backend-protocol-version": "GRPC",
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
      "alb.ingress.kubernetes.io/certificate-arn": CERT,
      "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    });
    expect(ing?.spec).toMatchObject({
      ingressClassName: "alb",
      rules: [{ host: "milvus-demo.milvus.io", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "milvus-demo", port: { number: 19530 } } } }] } }],
    });
    expect(ing?.metadata.managedFields?.map((f) => [f.manager, f.operation])).toContainEqual(["milvus-l7", "Apply"]);
    expect(new Date(state.appliedAt).getTime()).toBeGreaterThan(0);
  });

  it("changes nothing when re-applied", async () => {
    await applyIngress({ target, certificate: { arn: CERT } }, deps);
    const before = kube.get<Ingress>("Ingress", "milvus", "milvus-demo")?.metadata.resourceVersion;
    const again = await applyIngress({ target, certificate: { arn: CERT } }, deps);
    expect(again.changed).toBe(false);
    expect(kube.get<Ingress>("Ingress", "milvus", "milvus-demo")?.metadata.resourceVersion).toBe(before);
  });

  it("refuses, before writing, an Ingress of the same name that milvus-l7 did not create", async () => {
    const foreign = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "other", namespace: "milvus" }, spec: {} };
    kube.put(foreign);
    const writes = kube.mutations.length;
    await expect(
      applyIngress({ target: { ...target, ingress: { ...target.ingress, name: "other" } }, certificate: { arn: CERT } }, deps),
    ).rejects.toMatchObject({ name: "KubernetesConflict", message: expect.stringContaining("not created by milvus-l7") });
    expect(kube.mutations.length).toBe(writes);
  });

  it("reports a field another manager owns as a conflict instead of taking it over", async () => {
    await applyIngress({ target, certificate: { arn: CERT } }, deps);
    // Someone runs `kubectl apply --server-side` with another certificate on our Ingress.
    await (await connect()).apply(
      "apply Ingress milvus/milvus-demo",
      ingressPath("milvus", "milvus-demo"),
      { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "milvus-demo", annotations: { "alb.ingress.kubernetes.io/certificate-arn": "arn:other" } } },
      { fieldManager: "kubectl", force: true },
    );
    await expect(applyIngress({ target, certificate: { arn: CERT } }, deps)).rejects.toMatchObject({
      name: "KubernetesConflict",
      message: expect.stringContaining("certificate-arn"),
    });
  });

  it("fails before writing when the Service or its port does not exist", async () => {
    const writes = kube.mutations.length;
    await expect(
      applyIngress({ target: { ...target, service: { name: "milvus-demo", port: 19531 } }, certificate: { arn: CERT } }, deps),
    ).rejects.toMatchObject({ name: "KubernetesNotFound", message: expect.stringContaining("has no port 19531 (it has milvus:19530, metrics:9091)") });
    await expect(
      applyIngress({ target: { ...target, namespace: "absent" }, certificate: { arn: CERT } }, deps),
    ).rejects.toMatchObject({ name: "KubernetesNotFound" });
    expect(kube.mutations.length).toBe(writes);
  });
});

describe("get-ingress-status", () => {
  const input = async (polls = 0) => ({
    target,
    ingress: { ...(await applyIngress({ target, certificate: { arn: CERT } }, deps)), polls },
    maxPolls: 10,
  });

  it("reports no address yet, the next wait and a cause naming the missing controller", async () => {
    const status = await getIngressStatus(await input(), { ...deps, watchSeconds: 0 });
    expect(status).toMatchObject({ ready: false, polls: 1, nextWaitSeconds: 1, warnings: [] });
    expect(status.hostname).toBeUndefined();
    expect(status.failureCause).toContain("did not publish an address for Ingress milvus/milvus-demo after 1 polls");
    expect(status.failureCause).toContain("aws-load-balancer-controller");
  });

  it("returns as soon as the address is published during its watch", async () => {
    const pending = getIngressStatus(await input(2), { ...deps, watchSeconds: 20 });
    const started = Date.now();
    setTimeout(() => ingressWithHostname("k8s-milvus-milvusde-abc.us-east-2.elb.amazonaws.com"), 300);
    const status = await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(status).toMatchObject({ ready: true, polls: 3, hostname: "k8s-milvus-milvusde-abc.us-east-2.elb.amazonaws.com" });
  });

  it("carries the controller's Warning events, and is not ready while the latest event since our write is a Warning", async () => {
    const state = await input();
    const ingress = kube.get<Ingress>("Ingress", "milvus", "milvus-demo");
    const now = new Date(Date.now() + 1000).toISOString();
    kube.put({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "milvus-demo.1", namespace: "milvus" },
      involvedObject: { kind: "Ingress", namespace: "milvus", name: "milvus-demo", uid: ingress?.metadata.uid, apiVersion: "networking.k8s.io/v1" },
      type: "Warning",
      reason: "FailedDeployModel",
      message: "Failed deploy model due to ValidationError: 1 validation error detected",
      count: 3,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: "ingress" },
    });
    ingressWithHostname("k8s-milvus-milvusde-abc.us-east-2.elb.amazonaws.com");
    const status = await getIngressStatus(state, { ...deps, watchSeconds: 0 });
    expect(status.ready).toBe(false);
    expect(status.warnings).toEqual([
      { reason: "FailedDeployModel", message: "Failed deploy model due to ValidationError: 1 validation error detected", count: 3, lastSeen: expect.any(String) },
    ]);
    expect(status.failureCause).toContain("Latest controller warning: FailedDeployModel: Failed deploy model due to ValidationError");
  });

  it("says the Ingress was deleted during the wait, not that the request names the wrong objects", async () => {
    const state = await input();
    await (await connect()).delete("delete Ingress milvus/milvus-demo", ingressPath("milvus", "milvus-demo"));
    await expect(getIngressStatus(state, { ...deps, watchSeconds: 0 })).rejects.toMatchObject({
      name: "KubernetesNotFound",
      message: expect.stringMatching(/^Ingress milvus\/milvus-demo was deleted while the workflow waited for its ALB address, by another tool or a person/),
    });
  });

  it("ends its watch at once when the Ingress is deleted meanwhile", async () => {
    const pending = getIngressStatus(await input(), { ...deps, watchSeconds: 20 });
    const started = Date.now();
    setTimeout(() => void connect().then((k) => k.delete("delete Ingress milvus/milvus-demo", ingressPath("milvus", "milvus-demo"))), 300);
    await expect(pending).rejects.toMatchObject({ name: "KubernetesNotFound", message: expect.stringContaining("was deleted while the workflow waited") });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("turns a broken watch into a retryable error", async () => {
    const state = await input();
    kube.injectFault({ match: { pathIncludes: "watch" }, respond: { status: 500 } });
    await expect(getIngressStatus(state, { ...deps, watchSeconds: 5 })).rejects.toMatchObject({ name: "KubernetesUnavailable" });
  });
});

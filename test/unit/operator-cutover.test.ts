// patch-service and apply-ingress on a Milvus managed by the Milvus Operator, against the Kubernetes API stand-in
// and (where the Operator must act) the Milvus Operator stand-in: the cutover goes through the Milvus CR and never
// patches the Service; the Service follows only when the Operator reconciles; refusals come before any write.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyIngress } from "../../functions/apply-ingress/core";
import { withMilvusL7Defaults } from "../../functions/lib/alb-annotations";
import { eksClient } from "../../functions/lib/kube";
import type { Target } from "../../functions/lib/state";
import { patchService } from "../../functions/patch-service/core";
import { type KubeApiServer, startKubeApiServer } from "../../sandbox/kube";
import { type MilvusOperator, startMilvusOperator } from "../../sandbox/operator";

const NS = "milvus";
const CERT = "arn:aws:acm:us-east-2:123456789012:certificate/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11";

let kube: KubeApiServer;
let operator: MilvusOperator | undefined;
const connect = async () => eksClient({ endpoint: kube.url, caData: Buffer.from(kube.caPem).toString("base64") }, "token");
/** A short wait for the Operator, so the "Operator not running" cases end quickly. */
const deps = { connect, operatorWaitSeconds: 1 };

function targetFor(service: string): Target {
  return {
    cluster: { name: "milvus-eks", region: "us-east-2" },
    namespace: NS,
    service: { name: service, port: 19530 },
    ingress: { name: "milvus-op", host: "milvus-op.milvus.io", scheme: "internet-facing", annotations: withMilvusL7Defaults({}) },
  };
}

interface Mc {
  metadata: { uid: string; resourceVersion: string };
  spec: { mode?: string; components: Record<string, { serviceType?: string }> };
}
interface Svc {
  metadata: { labels?: Record<string, string> };
  spec: { type: string; loadBalancerSourceRanges?: string[] };
}

/** A Milvus CR and the Service the Operator made from it, without the Operator running. */
function seedOperatorMilvus(name: string, opts: { mode?: "cluster" | "standalone"; owner?: { apiVersion: string; kind: string }; annotations?: Record<string, string> } = {}) {
  const mode = opts.mode ?? "cluster";
  const component = mode === "cluster" ? "proxy" : "standalone";
  const owner = opts.owner ?? { apiVersion: "milvus.io/v1beta1", kind: "Milvus" };
  const cr = kube.put(
    owner.kind === "MilvusCluster"
      ? { apiVersion: owner.apiVersion, kind: owner.kind, metadata: { name, namespace: NS }, spec: {} }
      : { apiVersion: "milvus.io/v1beta1", kind: "Milvus", metadata: { name, namespace: NS, annotations: opts.annotations }, spec: { mode, components: { [component]: { serviceType: "LoadBalancer" } } } },
  );
  const labels = { "app.kubernetes.io/instance": name, "app.kubernetes.io/name": "milvus", "app.kubernetes.io/managed-by": "milvus-operator" };
  kube.put({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: `${name}-milvus`,
      namespace: NS,
      labels,
      ownerReferences: [{ ...owner, name, uid: cr.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      type: "LoadBalancer",
      ports: [
        { name: "milvus", port: 19530, protocol: "TCP", targetPort: "milvus", nodePort: 31530 },
        { name: "metrics", port: 9091, protocol: "TCP", targetPort: "metrics", nodePort: 31091 },
      ],
      selector: { ...labels, "app.kubernetes.io/component": component },
      externalTrafficPolicy: "Cluster",
      clusterIP: "172.20.10.10",
    },
  });
}

const milvusL7Writes = () => kube.mutations.filter((m) => m.fieldManager === "milvus-l7").map((m) => `${m.verb} ${m.kind} ${m.namespace}/${m.name}`);

beforeEach(async () => {
  kube = await startKubeApiServer();
  // What the AWS Load Balancer Controller's chart installs; ApplyIngress checks the class before it writes.
  kube.put({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "alb" }, spec: { controller: "ingress.k8s.aws/alb" } });
});
afterEach(async () => {
  await operator?.close();
  operator = undefined;
  await kube.close();
});

describe("patch-service on a Service the Milvus Operator owns", () => {
  it("sets the CR's proxy serviceType to ClusterIP (cluster mode) and the Operator switches the Service; the Service is never patched", async () => {
    seedOperatorMilvus("alpha");
    operator = await startMilvusOperator({ kube: { url: kube.url, caPem: kube.caPem, token: "operator" } });
    await operator.idle();
    const result = await patchService({ target: targetFor("alpha-milvus") }, { connect });
    expect(result).toMatchObject({
      previousType: "LoadBalancer",
      type: "ClusterIP",
      changed: true,
      via: "milvus-operator",
      field: "Milvus milvus/alpha spec.components.proxy.serviceType",
    });
    expect(kube.get<Mc>("Milvus", NS, "alpha")?.spec.components.proxy?.serviceType).toBe("ClusterIP");
    expect(kube.get<Svc>("Service", NS, "alpha-milvus")?.spec.type).toBe("ClusterIP");
    expect(milvusL7Writes()).toEqual(["patch Milvus milvus/alpha"]);
    // No Helm advice; one line on where the ClusterIP now lives.
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).not.toContain("helm");
    expect(result.warnings[0]).toContain("Milvus milvus/alpha now holds spec.components.proxy.serviceType=ClusterIP");
  });

  it("uses the standalone component in standalone mode, and a re-run changes nothing", async () => {
    seedOperatorMilvus("beta", { mode: "standalone" });
    operator = await startMilvusOperator({ kube: { url: kube.url, caPem: kube.caPem, token: "operator" } });
    await operator.idle();
    const first = await patchService({ target: targetFor("beta-milvus") }, deps);
    expect(first.field).toBe("Milvus milvus/beta spec.components.standalone.serviceType");
    expect(kube.get<Mc>("Milvus", NS, "beta")?.spec.components.standalone?.serviceType).toBe("ClusterIP");
    await operator.idle();
    const writes = kube.mutations.length;
    const again = await patchService({ target: targetFor("beta-milvus") }, deps);
    expect(again).toMatchObject({ previousType: "ClusterIP", changed: false, via: "milvus-operator", warnings: [] });
    expect(kube.mutations.length).toBe(writes);
    expect(milvusL7Writes()).toEqual(["patch Milvus milvus/beta"]);
  });

  it("without a running Operator: the CR is set, then a retryable error saying what to check; the retry does not write again", async () => {
    seedOperatorMilvus("gamma");
    const failure = patchService({ target: targetFor("gamma-milvus") }, deps);
    await expect(failure).rejects.toMatchObject({ name: "KubernetesUnavailable" });
    const message = ((await failure.catch((e: Error) => e)) as Error).message;
    expect(message).toContain("Milvus milvus/gamma holds spec.components.proxy.serviceType=ClusterIP");
    expect(message).toContain("has not applied it to Service milvus/gamma-milvus (still LoadBalancer) within 1 s");
    expect(message).toContain("the Operator is not running or not reconciling this Milvus");
    expect(milvusL7Writes()).toEqual(["patch Milvus milvus/gamma"]);
    await expect(patchService({ target: targetFor("gamma-milvus") }, deps)).rejects.toMatchObject({ name: "KubernetesUnavailable" });
    expect(milvusL7Writes()).toEqual(["patch Milvus milvus/gamma"]);
    // The Operator comes back: the next attempt finds the Service switched.
    operator = await startMilvusOperator({ kube: { url: kube.url, caPem: kube.caPem, token: "operator" } });
    const done = await patchService({ target: targetFor("gamma-milvus") }, deps);
    expect(done).toMatchObject({ via: "milvus-operator", type: "ClusterIP" });
    expect(kube.get<Svc>("Service", NS, "gamma-milvus")?.spec.type).toBe("ClusterIP");
    expect(milvusL7Writes()).toEqual(["patch Milvus milvus/gamma"]);
  });

  it("a CR changed between read and patch (409) is retryable, like the Service patch's conflict", async () => {
    seedOperatorMilvus("delta");
    kube.injectFault({ match: { method: "PATCH", pathIncludes: "/milvuses/delta" }, respond: { status: 409 } });
    await expect(patchService({ target: targetFor("delta-milvus") }, deps)).rejects.toMatchObject({
      name: "KubernetesUnavailable",
      message: expect.stringContaining("the object changed between read and write"),
    });
  });

  it("a 403 on the CR says that AmazonEKSEditPolicy does not cover milvuses and what to grant", async () => {
    seedOperatorMilvus("epsilon");
    kube.injectFault({ match: { method: "GET", pathIncludes: "/milvuses/epsilon" }, respond: { status: 403 } });
    const error = (await patchService({ target: targetFor("epsilon-milvus") }, deps).catch((e: Error) => e)) as Error;
    expect(error.name).toBe("KubernetesForbidden");
    expect(error.message).toContain('cannot get resource "milvuses" in API group "milvus.io"');
    expect(error.message).toContain("do not cover milvuses.milvus.io");
    expect(error.message).toContain("get and patch on milvuses");
    expect(milvusL7Writes()).toEqual([]);
  });

  it("refuses before any write: a paused CR, and a Service with loadBalancerSourceRanges the Operator could not switch", async () => {
    seedOperatorMilvus("zeta", { annotations: { "milvus.io/pause-reconcile": "true" } });
    await expect(patchService({ target: targetFor("zeta-milvus") }, deps)).rejects.toMatchObject({
      name: "KubernetesConflict",
      message: expect.stringContaining('milvus.io/pause-reconcile: "true"'),
    });
    seedOperatorMilvus("eta");
    const svc = kube.get<Svc & { apiVersion: string; kind: string }>("Service", NS, "eta-milvus");
    kube.put({ ...svc, spec: { ...svc?.spec, loadBalancerSourceRanges: ["10.0.0.0/8"] } });
    await expect(patchService({ target: targetFor("eta-milvus") }, deps)).rejects.toMatchObject({
      name: "KubernetesConflict",
      message: expect.stringContaining("Remove them first"),
    });
    expect(milvusL7Writes()).toEqual([]);
  });
});

describe("a Service owned by a deprecated MilvusCluster (milvus.io/v1alpha1)", () => {
  it("is refused by apply-ingress's preflight before the Ingress exists, and by patch-service before any write", async () => {
    seedOperatorMilvus("legacy", { owner: { apiVersion: "milvus.io/v1alpha1", kind: "MilvusCluster" } });
    const refusal = { name: "KubernetesConflict", message: expect.stringContaining("Migrate it to a Milvus (milvus.io/v1beta1)") };
    await expect(applyIngress({ target: targetFor("legacy-milvus"), certificate: { arn: CERT } }, deps)).rejects.toMatchObject(refusal);
    expect(kube.get("Ingress", NS, "milvus-op")).toBeUndefined();
    await expect(patchService({ target: targetFor("legacy-milvus") }, deps)).rejects.toMatchObject(refusal);
    expect(milvusL7Writes()).toEqual([]);
  });

  it("is refused too when the MilvusCluster's converted Milvus owns the Service (the conversion would undo the CR change)", async () => {
    seedOperatorMilvus("converted");
    const legacy = kube.put({ apiVersion: "milvus.io/v1alpha1", kind: "MilvusCluster", metadata: { name: "converted", namespace: NS }, spec: {} });
    const milvus = kube.get<Mc & { apiVersion: string; kind: string; metadata: Record<string, unknown> }>("Milvus", NS, "converted");
    kube.put({
      ...milvus,
      metadata: {
        ...milvus?.metadata,
        ownerReferences: [{ apiVersion: "milvus.io/v1alpha1", kind: "MilvusCluster", name: "converted", uid: legacy.metadata.uid, controller: true }],
      },
    });
    const refusal = { name: "KubernetesConflict", message: expect.stringContaining("Milvus milvus/converted is controlled by MilvusCluster converted") };
    await expect(applyIngress({ target: targetFor("converted-milvus"), certificate: { arn: CERT } }, deps)).rejects.toMatchObject(refusal);
    await expect(patchService({ target: targetFor("converted-milvus") }, deps)).rejects.toMatchObject(refusal);
    expect(milvusL7Writes()).toEqual([]);
  });
});

describe("apply-ingress's preflight on an Operator-managed Service", () => {
  it("reads the CR before creating the Ingress, so missing RBAC on milvuses fails before any write", async () => {
    seedOperatorMilvus("theta");
    kube.injectFault({ match: { method: "GET", pathIncludes: "/milvuses/theta" }, respond: { status: 403 } });
    await expect(applyIngress({ target: targetFor("theta-milvus"), certificate: { arn: CERT } }, deps)).rejects.toMatchObject({
      name: "KubernetesForbidden",
      message: expect.stringContaining("do not cover milvuses.milvus.io"),
    });
    expect(kube.get("Ingress", NS, "milvus-op")).toBeUndefined();
    // Readable and healthy: the Ingress is applied as for any Service.
    await expect(applyIngress({ target: targetFor("theta-milvus"), certificate: { arn: CERT } }, deps)).resolves.toMatchObject({ changed: true });
  });
});

// The Milvus Operator stand-in against the kube-apiserver stand-in, through @kubernetes/client-node as a user's
// tooling would drive them: the Operator creates `<name>-milvus` from a `Milvus` CR, a change of the CR's
// serviceType reaches the Service at once, a direct edit of the Service's type is undone on the next resync, and
// the Service carries the CR as its controller owner. Also the CRDs themselves: discovery, merge patch, get, and
// the strategic-merge refusal custom resources have.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeApiServer, kubeconfigYaml, startKubeApiServer } from "../../sandbox/kube";
import { type MilvusOperator, startMilvusOperator } from "../../sandbox/operator";

const exec = promisify(execFile);
const NS = "milvus";
/** Long enough that no resync falls inside a test by chance; the resync test calls resync() or runs its own operator. */
const RESYNC_MS = 60_000;

let kube: KubeApiServer;
let operator: MilvusOperator;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let kubeconfig: string;

interface Svc {
  metadata?: { labels?: Record<string, string>; ownerReferences?: Record<string, unknown>[]; uid?: string };
  spec?: { type?: string; ports?: { name?: string; port: number; targetPort?: unknown }[]; selector?: Record<string, string> };
}
interface Mc {
  metadata?: { uid?: string; resourceVersion?: string; generation?: number };
  spec?: { components?: { proxy?: { serviceType?: string } } };
  status?: { status?: string; endpoint?: string; observedGeneration?: number };
}

const svc = (name: string) => kube.get<Svc>("Service", NS, name);
const cr = (name: string) => kube.get<Mc>("Milvus", NS, name);

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function milvusCr(name: string, mode: "cluster" | "standalone", serviceType: string) {
  const component = mode === "cluster" ? "proxy" : "standalone";
  return { apiVersion: "milvus.io/v1beta1", kind: "Milvus", metadata: { name, namespace: NS }, spec: { mode, components: { [component]: { serviceType } } } };
}

const kubectl = async (args: string[]) => (await exec("kubectl", ["--kubeconfig", kubeconfig, ...args])).stdout;

beforeAll(async () => {
  kube = await startKubeApiServer();
  operator = await startMilvusOperator({ kube: { url: kube.url, caPem: kube.caPem, token: "operator" }, resyncMs: RESYNC_MS });
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(kube, "user"));
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  kubeconfig = join(mkdtempSync(join(tmpdir(), "milvus-operator-")), "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(kube, "user"));
});

afterAll(async () => {
  await operator?.close();
  await kube?.close();
});

describe("the Milvus CRDs in the apiserver stand-in", () => {
  it("kubectl discovers them: milvus.io v1beta1 milvuses (short name mi) and v1alpha1 milvusclusters", async () => {
    const resources = await kubectl(["api-resources", "--api-group", "milvus.io", "-o", "wide"]);
    expect(resources).toMatch(/milvusclusters\s+mc,mic\s+milvus\.io\/v1alpha1\s+true\s+MilvusCluster/);
    expect(resources).toMatch(/milvuses\s+mi\s+milvus\.io\/v1beta1\s+true\s+Milvus/);
  });

  it("serves get and merge patch with a resourceVersion precondition, drops status on create, and refuses a strategic merge patch", async () => {
    kube.put({ ...milvusCr("crd-only", "cluster", "LoadBalancer"), metadata: { name: "crd-only", namespace: NS, annotations: { "milvus.io/pause-reconcile": "true" } } });
    const got = (await custom.getNamespacedCustomObject({ group: "milvus.io", version: "v1beta1", namespace: NS, plural: "milvuses", name: "crd-only" })) as Mc;
    expect(got.spec?.components?.proxy?.serviceType).toBe("LoadBalancer");
    const patch = (resourceVersion?: string) =>
      custom.patchNamespacedCustomObject(
        {
          group: "milvus.io",
          version: "v1beta1",
          namespace: NS,
          plural: "milvuses",
          name: "crd-only",
          body: { metadata: { resourceVersion }, spec: { components: { proxy: { serviceType: "ClusterIP" } } } },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ) as Promise<Mc>;
    await expect(patch("1")).rejects.toMatchObject({ code: 409 });
    const patched = await patch(got.metadata?.resourceVersion);
    expect(patched.spec?.components?.proxy?.serviceType).toBe("ClusterIP");
    expect(patched.metadata?.generation).toBe((got.metadata?.generation ?? 0) + 1);
    await expect(
      custom.patchNamespacedCustomObject(
        { group: "milvus.io", version: "v1beta1", namespace: NS, plural: "milvuses", name: "crd-only", body: { spec: {} } },
        setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
      ),
    ).rejects.toMatchObject({ code: 415 });
    const created = (await custom.createNamespacedCustomObject({
      group: "milvus.io",
      version: "v1alpha1",
      namespace: NS,
      plural: "milvusclusters",
      body: { apiVersion: "milvus.io/v1alpha1", kind: "MilvusCluster", metadata: { name: "legacy" }, spec: {}, status: { status: "Healthy" } },
    })) as Mc;
    expect(created.status).toBeUndefined();
    expect(await kubectl(["get", "milvus", "-n", NS, "-o", "name"])).toContain("milvus.milvus.io/crd-only");
  });
});

describe("the Milvus Operator stand-in", () => {
  it("creates <name>-milvus from a Milvus CR: type, controller owner, labels, ports, selector, and a Healthy status", async () => {
    kube.put(milvusCr("alpha", "cluster", "LoadBalancer"));
    const service = await until("Service alpha-milvus", () => svc("alpha-milvus"));
    const owner = cr("alpha");
    expect(service.spec?.type).toBe("LoadBalancer");
    expect(service.metadata?.ownerReferences).toEqual([
      { apiVersion: "milvus.io/v1beta1", kind: "Milvus", name: "alpha", uid: owner?.metadata?.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(service.metadata?.labels).toMatchObject({
      "app.kubernetes.io/instance": "alpha",
      "app.kubernetes.io/name": "milvus",
      "app.kubernetes.io/managed-by": "milvus-operator",
    });
    expect(service.spec?.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ["milvus", 19530, "milvus"],
      ["metrics", 9091, "metrics"],
    ]);
    expect(service.spec?.selector).toMatchObject({ "app.kubernetes.io/component": "proxy" });
    const status = await until("Healthy", () => cr("alpha")?.status?.status === "Healthy" && cr("alpha")?.status);
    expect(status.observedGeneration).toBe(cr("alpha")?.metadata?.generation);
  });

  it("a change of the CR's serviceType reaches the Service at once (well before a resync)", async () => {
    kube.put(milvusCr("beta", "standalone", "LoadBalancer"));
    await until("Service beta-milvus", () => svc("beta-milvus"));
    await operator.idle();
    const current = cr("beta");
    await custom.patchNamespacedCustomObject(
      {
        group: "milvus.io",
        version: "v1beta1",
        namespace: NS,
        plural: "milvuses",
        name: "beta",
        body: { metadata: { resourceVersion: current?.metadata?.resourceVersion }, spec: { components: { standalone: { serviceType: "ClusterIP" } } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    // Within until's 5 s, far inside the 60 s resync: the CR's watch event did it.
    await until("ClusterIP", () => svc("beta-milvus")?.spec?.type === "ClusterIP");
    await until("endpoint", () => cr("beta")?.status?.endpoint === "beta-milvus.milvus:19530");
    const writes = kube.mutations.filter((m) => m.kind === "Service" && m.name === "beta-milvus");
    expect(writes.map((m) => [m.verb, m.fieldManager])).toEqual([
      ["create", expect.any(String)],
      ["update", expect.any(String)],
    ]);
  });

  it("undoes a direct edit of the Service's type on its next resync, not on the edit itself", async () => {
    kube.put(milvusCr("gamma", "cluster", "ClusterIP"));
    await until("Service gamma-milvus", () => svc("gamma-milvus"));
    // Settled: the Operator's own status write comes back as a watch event and one more reconcile.
    await until("Healthy", () => cr("gamma")?.status?.status === "Healthy");
    await new Promise((r) => setTimeout(r, 200));
    await operator.idle();
    const before = operator.reconciled.filter((k) => k === "milvus/gamma").length;
    await core.patchNamespacedService(
      { name: "gamma-milvus", namespace: NS, body: { spec: { type: "LoadBalancer" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    // No reconcile for the Service edit itself (the operator does not watch Services)...
    await new Promise((r) => setTimeout(r, 300));
    await operator.idle();
    expect(svc("gamma-milvus")?.spec?.type).toBe("LoadBalancer");
    expect(operator.reconciled.filter((k) => k === "milvus/gamma").length).toBe(before);
    // ...the resync reconciles the CR and puts the CR's type back, with the owner reference.
    operator.resync();
    await until("ClusterIP again", () => svc("gamma-milvus")?.spec?.type === "ClusterIP");
    expect(svc("gamma-milvus")?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Milvus", name: "gamma", controller: true });
  });

  it("resyncs on its own timer (resyncMs)", async () => {
    const fast = await startMilvusOperator({ kube: { url: kube.url, caPem: kube.caPem, token: "operator" }, resyncMs: 200 });
    try {
      await fast.idle();
      const count = () => fast.reconciled.filter((k) => k === "milvus/gamma").length;
      const first = count();
      await until("two resyncs", () => count() >= first + 2, 5_000);
    } finally {
      await fast.close();
    }
  });

  it("leaves a CR with milvus.io/pause-reconcile: true alone", async () => {
    operator.resync();
    await operator.idle();
    expect(operator.reconciled).toContain("milvus/crd-only");
    expect(svc("crd-only-milvus")).toBeUndefined();
  });
});

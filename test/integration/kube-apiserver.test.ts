// The Kubernetes API stand-in driven by @kubernetes/client-node v1, the client the Lambdas use: discovery, the
// Service cutover rules, creates and names, Events and selectors, and direct access. Server-side apply, the status
// subresource and watches are in kube-apiserver-apply.test.ts; faults and bearer tokens in
// kube-apiserver-faults.test.ts.
import { ApisApi, CoreV1Api, type KubeConfig, NetworkingV1Api, type V1Service, VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type KubeApiServer,
  type KubeObject,
  loadMilvusDemoService,
  seedMilvusRelease,
  startKubeApiServer,
} from "../../sandbox/kube";
import { jsonPatch, kubeConfig, mergePatch, NOW, rejection, strategicPatch } from "../kube-api";

let server: KubeApiServer;
let core: CoreV1Api;
let networking: NetworkingV1Api;
let kc: KubeConfig;

beforeAll(async () => {
  server = await startKubeApiServer({ now: () => NOW });
  kc = kubeConfig(server);
  core = kc.makeApiClient(CoreV1Api);
  networking = kc.makeApiClient(NetworkingV1Api);
});

afterAll(async () => {
  await server.close();
});

describe("discovery", () => {
  it("serves /version, /apis and the group versions a client discovers", async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.major).toBe("1");
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toContain("networking.k8s.io");
    const resources = await networking.getAPIResources();
    expect(resources.resources.map((r) => r.name)).toEqual(["ingresses", "ingresses/status", "ingressclasses"]);
    const coreResources = await core.getAPIResources();
    expect(coreResources.resources.find((r) => r.name === "services")?.shortNames).toEqual(["svc"]);
  });

  it("seeds the milvus and default namespaces", async () => {
    const names = (await core.listNamespace()).items.map((ns) => ns.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(["default", "milvus"]));
  });
});

describe("the Service cutover to ClusterIP", () => {
  beforeEach(() => {
    seedMilvusRelease(server);
  });

  it("rejects a patch that only sets type ClusterIP while loadBalancerSourceRanges remain (the unchanged externalTrafficPolicy is wiped)", async () => {
    const before = server.get<V1Service>("Service", "milvus", "milvus-demo");
    const mutations = server.mutations.length;
    const { code, status } = await rejection(
      core.patchNamespacedService(
        { name: "milvus-demo", namespace: "milvus", body: { spec: { type: "ClusterIP" } } },
        mergePatch,
      ),
    );
    expect(code).toBe(422);
    expect(status.reason).toBe("Invalid");
    expect(status.message).toBe(
      "Service \"milvus-demo\" is invalid: spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'",
    );
    expect(status.details?.causes?.map((c) => c.field)).toEqual(["spec.LoadBalancerSourceRanges"]);
    // Nothing was stored: still the L4 Service, same resourceVersion.
    const after = server.get<V1Service>("Service", "milvus", "milvus-demo");
    expect(after?.spec?.type).toBe("LoadBalancer");
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
    expect(server.mutations.length).toBe(mutations);
  });

  it("accepts the merge patch that also clears externalTrafficPolicy and loadBalancerSourceRanges", async () => {
    const patched = await core.patchNamespacedService(
      {
        name: "milvus-demo",
        namespace: "milvus",
        fieldManager: "milvus-l7",
        body: { spec: { type: "ClusterIP", externalTrafficPolicy: null, loadBalancerSourceRanges: null } },
      },
      mergePatch,
    );
    expect(patched.spec?.type).toBe("ClusterIP");
    // The registry drops what ClusterIP does not use, because the patch left those values unchanged.
    expect(patched.spec?.ports?.map((p) => p.nodePort)).toEqual([undefined, undefined]);
    expect(patched.spec?.allocateLoadBalancerNodePorts).toBeUndefined();
    expect(patched.spec?.loadBalancerClass).toBeUndefined();
    expect(patched.spec?.externalTrafficPolicy).toBeUndefined();
    expect(patched.spec?.clusterIP).toBe("172.20.114.87");
    // The controller deleted the NLB: no address, no finalizer.
    expect(patched.status?.loadBalancer).toEqual({});
    expect(patched.metadata?.finalizers).toBeUndefined();
    const stored = server.get<V1Service>("Service", "milvus", "milvus-demo");
    expect(stored?.spec?.type).toBe("ClusterIP");
    const last = server.mutations.at(-1);
    expect(last).toMatchObject({
      verb: "patch",
      kind: "Service",
      name: "milvus-demo",
      fieldManager: "milvus-l7",
      contentType: "application/merge-patch+json",
    });
    expect(stored?.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([["milvus-l7", "Update"]]);
  });

  it("is a no-op the second time: same resourceVersion, no mutation", async () => {
    const body = { spec: { type: "ClusterIP", externalTrafficPolicy: null, loadBalancerSourceRanges: null } };
    const first = await core.patchNamespacedService({ name: "milvus-demo", namespace: "milvus", body }, mergePatch);
    const mutations = server.mutations.length;
    const second = await core.patchNamespacedService({ name: "milvus-demo", namespace: "milvus", body }, mergePatch);
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(server.mutations.length).toBe(mutations);
  });

  it("wipes no nodePort when the write brings a new one, so validation rejects them all", async () => {
    const ports = loadMilvusDemoService().spec as { ports: { nodePort?: number }[] };
    const changed = ports.ports.map((p, i) => (i === 0 ? { ...p, nodePort: 31999 } : p));
    const { code, status } = await rejection(
      core.patchNamespacedService(
        {
          name: "milvus-demo",
          namespace: "milvus",
          body: { spec: { type: "ClusterIP", externalTrafficPolicy: null, loadBalancerSourceRanges: null, ports: changed } },
        },
        mergePatch,
      ),
    );
    expect(code).toBe(422);
    // sameNodePorts: the old set must be a superset of the new one for the registry to wipe them.
    expect(status.details?.causes).toEqual(
      [0, 1].map((i) => ({
        reason: "FieldValueForbidden",
        message: "Forbidden: may not be used when `type` is 'ClusterIP'",
        field: `spec.ports[${i}].nodePort`,
      })),
    );
  });

  it("merges ports by port in a strategic merge patch", async () => {
    const patched = await core.patchNamespacedService(
      { name: "milvus-demo", namespace: "milvus", body: { spec: { ports: [{ port: 19530, appProtocol: "grpc" }] } } },
      strategicPatch,
    );
    expect(patched.spec?.ports?.map((p) => [p.port, p.appProtocol, p.nodePort])).toEqual([
      [19530, "grpc", 31817],
      [9091, undefined, 30643],
    ]);
  });

  it("applies a JSON patch and fails it when a test operation does not hold", async () => {
    const patched = await core.patchNamespacedService(
      {
        name: "milvus-demo",
        namespace: "milvus",
        body: [
          { op: "test", path: "/spec/type", value: "LoadBalancer" },
          { op: "replace", path: "/spec/type", value: "NodePort" },
          { op: "remove", path: "/spec/loadBalancerSourceRanges" },
        ],
      },
      jsonPatch,
    );
    // NodePort keeps its node ports but not the load-balancer-only fields.
    expect(patched.spec?.type).toBe("NodePort");
    expect(patched.spec?.ports?.map((p) => p.nodePort)).toEqual([31817, 30643]);
    expect(patched.spec?.loadBalancerClass).toBeUndefined();
    const { code } = await rejection(
      core.patchNamespacedService(
        { name: "milvus-demo", namespace: "milvus", body: [{ op: "test", path: "/spec/type", value: "LoadBalancer" }] },
        jsonPatch,
      ),
    );
    expect(code).toBe(422);
  });

  it("refuses a replace carrying a stale resourceVersion with 409 Conflict", async () => {
    const current = await core.readNamespacedService({ name: "milvus-demo", namespace: "milvus" });
    await core.patchNamespacedService(
      { name: "milvus-demo", namespace: "milvus", body: { metadata: { labels: { touched: "yes" } } } },
      mergePatch,
    );
    const { code, status } = await rejection(
      core.replaceNamespacedService({ name: "milvus-demo", namespace: "milvus", body: current }),
    );
    expect(code).toBe(409);
    expect(status.reason).toBe("Conflict");
    expect(status.message).toBe(
      'Operation cannot be fulfilled on services "milvus-demo": the object has been modified; please apply your changes to the latest version and try again',
    );
  });
});

describe("create and names", () => {
  it("answers 409 AlreadyExists, 404 for a missing namespace and 422 for a name that is not a DNS label", async () => {
    seedMilvusRelease(server);
    const svc = loadMilvusDemoService() as unknown as V1Service;
    const exists = await rejection(core.createNamespacedService({ namespace: "milvus", body: svc }));
    expect([exists.code, exists.status.reason, exists.status.message]).toEqual([
      409,
      "AlreadyExists",
      'services "milvus-demo" already exists',
    ]);
    const elsewhere = { ...svc, metadata: { name: "milvus-demo", namespace: "nope" } };
    const missing = await rejection(core.createNamespacedService({ namespace: "nope", body: elsewhere }));
    expect([missing.code, missing.status.reason, missing.status.message]).toEqual([
      404,
      "NotFound",
      'namespaces "nope" not found',
    ]);
    const badName = { ...svc, metadata: { name: "Milvus_Demo", namespace: "milvus" } };
    const invalid = await rejection(core.createNamespacedService({ namespace: "milvus", body: badName }));
    expect(invalid.code).toBe(422);
    expect(invalid.status.details?.causes?.[0]?.field).toBe("metadata.name");
  });

  it("creates a Service with the apiserver's defaults and allocations", async () => {
    const created = await core.createNamespacedService({
      namespace: "default",
      body: { metadata: { name: "plain" }, spec: { type: "NodePort", ports: [{ port: 80 }] } },
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp?.toISOString()).toBe(NOW.toISOString());
    expect(created.spec).toMatchObject({ sessionAffinity: "None", externalTrafficPolicy: "Cluster" });
    expect(created.spec?.ports?.[0]).toMatchObject({ protocol: "TCP", targetPort: 80 });
    expect(created.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(created.spec?.clusterIP).toMatch(/^172\.20\./);
  });
});

describe("events", () => {
  it("lists Events by involvedObject and type with a field selector", async () => {
    const event = (name: string, kind: string, object: string, type: string, reason: string) =>
      core.createNamespacedEvent({
        namespace: "milvus",
        body: {
          metadata: { name },
          involvedObject: { kind, name: object, namespace: "milvus" },
          type,
          reason,
          message: `${reason} on ${object}`,
        },
      });
    await event("ev-1", "Ingress", "milvus-demo", "Warning", "FailedBuildModel");
    await event("ev-2", "Ingress", "milvus-demo", "Normal", "SuccessfullyReconciled");
    await event("ev-3", "Service", "milvus-demo", "Warning", "FailedDeployModel");
    await event("ev-4", "Ingress", "other", "Warning", "FailedBuildModel");
    const warnings = await core.listNamespacedEvent({
      namespace: "milvus",
      fieldSelector: "involvedObject.kind=Ingress,involvedObject.name=milvus-demo,type=Warning",
    });
    expect(warnings.items.map((e) => e.metadata.name)).toEqual(["ev-1"]);
    const byReason = await core.listNamespacedEvent({ namespace: "milvus", fieldSelector: "reason=FailedBuildModel" });
    expect(byReason.items.map((e) => e.metadata.name)).toEqual(["ev-1", "ev-4"]);
    const unsupported = await rejection(core.listNamespacedEvent({ namespace: "milvus", fieldSelector: "message=x" }));
    expect([unsupported.code, unsupported.status.message]).toEqual([400, "field label not supported: message"]);
  });

  it("filters lists by label selector", async () => {
    seedMilvusRelease(server);
    const helm = await core.listNamespacedService({ namespace: "milvus", labelSelector: "app.kubernetes.io/managed-by=Helm" });
    expect(helm.items.map((s) => s.metadata?.name)).toEqual(["milvus-demo"]);
    const none = await core.listNamespacedService({ namespace: "milvus", labelSelector: "component!=proxy" });
    expect(none.items).toEqual([]);
  });
});

describe("direct access", () => {
  it("put() bumps the resourceVersion and notifies onChange listeners; get() and list() return copies", () => {
    const events: string[] = [];
    const stop = server.onChange((e) => events.push(`${e.type} ${e.object.kind}/${e.object.metadata.name}`));
    const first = seedMilvusRelease(server);
    const second = seedMilvusRelease(server);
    stop();
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    // The release is its Service and the proxy pod the Service selects; the second seeding modifies both.
    const pod = "Pod/milvus-demo-proxy-7c9d8f6b5d-x2k4p";
    expect(events.map((e) => e.split(" ")[1])).toEqual(["Service/milvus-demo", pod, "Service/milvus-demo", pod]);
    expect(events.slice(2)).toEqual(["MODIFIED Service/milvus-demo", `MODIFIED ${pod}`]);
    const copy = server.get<KubeObject>("Service", "milvus", "milvus-demo");
    if (copy) copy.metadata.name = "changed";
    expect(server.get("svc", "milvus", "milvus-demo")?.metadata.name).toBe("milvus-demo");
    expect(server.list("Namespace").map((ns) => ns.metadata.name)).toEqual(["default", "kube-system", "milvus"]);
  });

  it("loadMilvusDemoService() returns a fresh copy of the fixture", () => {
    const a = loadMilvusDemoService();
    (a.spec as { type: string }).type = "ClusterIP";
    expect((loadMilvusDemoService().spec as { type: string }).type).toBe("LoadBalancer");
  });
});

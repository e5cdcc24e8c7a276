// The Kubernetes API stand-in driven by @kubernetes/client-node v1, the client the Lambdas use: the Service
// cutover rules (DESIGN.md §5), server-side apply with field managers, the status subresource and watches,
// Events, fault injection and EKS-shaped bearer tokens.
import { request } from "node:https";
import { Sha256 } from "@aws-crypto/sha256-js";
import {
  ApiException,
  ApisApi,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
  type V1Service,
  VersionApi,
  Watch,
} from "@kubernetes/client-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type AuthResult,
  eksTokenAuthenticator,
  type KubeApiServer,
  type KubeObject,
  loadMilvusDemoService,
  seedMilvusRelease,
  startKubeApiServer,
} from "../../sandbox/kube-apiserver";

const NOW = new Date("2026-11-26T10:00:00Z");
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const strategicPatch = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const serverSideApply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

function kubeConfig(server: KubeApiServer, token = "sandbox-token"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sandbox", server: server.url, caData: Buffer.from(server.caPem).toString("base64") }],
    users: [{ name: "sandbox", token }],
    contexts: [{ name: "sandbox", cluster: "sandbox", user: "sandbox" }],
    currentContext: "sandbox",
  });
  return kc;
}

interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; kind?: string; causes?: { reason: string; message: string; field: string }[] };
}

/** The rejection's HTTP code and Status body (client-node hands the body over as text). */
async function rejection(promise: Promise<unknown>): Promise<{ code: number; status: Status; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = typeof err.body === "string" && err.body ? (JSON.parse(err.body) as Status) : (err.body as Status);
    return { code: err.code, status: body, headers: err.headers };
  }
  throw new Error("expected the request to be rejected");
}

function ingress(name: string, annotations: Record<string, string> = {}): V1Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name,
      namespace: "milvus",
      annotations: { "alb.ingress.kubernetes.io/scheme": "internet-facing", ...annotations },
    },
    spec: {
      ingressClassName: "alb",
      rules: [
        {
          host: "milvus.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "milvus-demo", port: { number: 19530 } } },
              },
            ],
          },
        },
      ],
    },
  };
}

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
    expect(resources.resources.map((r) => r.name)).toEqual(["ingresses", "ingresses/status"]);
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

  it("rejects a patch that only sets type ClusterIP, naming externalTrafficPolicy and loadBalancerSourceRanges", async () => {
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
    expect(status.message).toContain(
      'spec.externalTrafficPolicy: Invalid value: "Cluster": may only be set for externally-accessible services',
    );
    expect(status.message).toContain("spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'");
    expect(status.details?.causes?.map((c) => c.field)).toEqual([
      "spec.LoadBalancerSourceRanges",
      "spec.externalTrafficPolicy",
    ]);
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

describe("server-side apply of the Ingress", () => {
  const apply = (name: string, manager: string, body: V1Ingress, force = false): Promise<V1Ingress> =>
    networking.patchNamespacedIngress({ name, namespace: "milvus", body, fieldManager: manager, force }, serverSideApply);

  it("creates, then re-applies without a change (same resourceVersion)", async () => {
    const created = await apply("ssa-create", "milvus-l7", ingress("ssa-create"));
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([["milvus-l7", "Apply"]]);
    expect(server.mutations.at(-1)).toMatchObject({ verb: "apply", name: "ssa-create", fieldManager: "milvus-l7" });
    const mutations = server.mutations.length;
    const again = await apply("ssa-create", "milvus-l7", ingress("ssa-create"));
    expect(again.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(server.mutations.length).toBe(mutations);
  });

  it("needs a fieldManager", async () => {
    const { code, status } = await rejection(
      networking.patchNamespacedIngress(
        { name: "ssa-nomanager", namespace: "milvus", body: ingress("ssa-nomanager") },
        serverSideApply,
      ),
    );
    expect(code).toBe(422);
    expect(status.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
  });

  it("answers 409 when another manager owns a field with a different value, and force takes it over", async () => {
    await apply("ssa-conflict", "kubectl", ingress("ssa-conflict", { foo: "from-kubectl" }));
    const { code, status } = await rejection(apply("ssa-conflict", "milvus-l7", ingress("ssa-conflict", { foo: "ours" })));
    expect(code).toBe(409);
    expect(status.reason).toBe("Conflict");
    expect(status.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl" using networking.k8s.io/v1: .metadata.annotations.foo',
    );
    expect(status.details?.causes).toEqual([
      {
        reason: "FieldManagerConflict",
        message: 'conflict with "kubectl" using networking.k8s.io/v1',
        field: ".metadata.annotations.foo",
      },
    ]);
    expect(server.get<V1Ingress>("Ingress", "milvus", "ssa-conflict")?.metadata?.annotations?.foo).toBe("from-kubectl");

    const forced = await apply("ssa-conflict", "milvus-l7", ingress("ssa-conflict", { foo: "ours" }), true);
    expect(forced.metadata?.annotations?.foo).toBe("ours");
    const owners = (manager: string) =>
      JSON.stringify(forced.metadata?.managedFields?.find((m) => m.manager === manager)?.fieldsV1);
    expect(owners("milvus-l7")).toContain('"f:foo"');
    expect(owners("kubectl")).not.toContain('"f:foo"');
  });

  it("shares a field applied with the same value, without a conflict", async () => {
    await apply("ssa-shared", "kubectl", ingress("ssa-shared"));
    const shared = await apply("ssa-shared", "milvus-l7", ingress("ssa-shared"));
    expect(shared.metadata?.managedFields?.map((m) => m.manager)).toEqual(["kubectl", "milvus-l7"]);
  });

  it("removes fields the manager stops applying unless another manager owns them", async () => {
    await apply("ssa-prune", "milvus-l7", ingress("ssa-prune", { mine: "1", both: "1" }));
    await apply("ssa-prune", "other", { ...ingress("ssa-prune", { both: "1" }), spec: undefined });
    const pruned = await apply("ssa-prune", "milvus-l7", ingress("ssa-prune"));
    expect(pruned.metadata?.annotations).toEqual({ "alb.ingress.kubernetes.io/scheme": "internet-facing", both: "1" });
    expect(pruned.metadata?.generation).toBe(1);
  });

  it("names an Update manager and the time of its change in a conflict", async () => {
    await apply("ssa-update", "milvus-l7", ingress("ssa-update"));
    await networking.patchNamespacedIngress(
      { name: "ssa-update", namespace: "milvus", fieldManager: "kubectl-edit", body: { spec: { ingressClassName: "nginx" } } },
      mergePatch,
    );
    const { status } = await rejection(apply("ssa-update", "milvus-l7", ingress("ssa-update")));
    expect(status.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-edit" using networking.k8s.io/v1 at 2026-11-26T10:00:00Z: .spec.ingressClassName',
    );
  });

  it("ignores status in a main-resource apply", async () => {
    const withStatus: V1Ingress = {
      ...ingress("ssa-status"),
      status: { loadBalancer: { ingress: [{ hostname: "forged.example.com" }] } },
    };
    const applied = await apply("ssa-status", "milvus-l7", withStatus);
    expect(applied.status).toEqual({ loadBalancer: {} });
  });
});

describe("the status subresource and watches", () => {
  const hostname = "k8s-milvus-abc123.us-east-2.elb.amazonaws.com";

  it("delivers MODIFIED to a watch from a resourceVersion when status is patched", async () => {
    const created = await networking.createNamespacedIngress({ namespace: "milvus", body: ingress("watched") });
    await networking.createNamespacedIngress({ namespace: "milvus", body: ingress("unwatched") });
    const events: { type: string; object: V1Ingress }[] = [];
    let eventArrived: () => void = () => undefined;
    const firstEvent = new Promise<void>((resolve) => {
      eventArrived = resolve;
    });
    const watch = await new Watch(kc).watch(
      "/apis/networking.k8s.io/v1/namespaces/milvus/ingresses",
      { resourceVersion: created.metadata?.resourceVersion, fieldSelector: "metadata.name=watched" },
      (type, object: V1Ingress) => {
        events.push({ type, object });
        eventArrived();
      },
      () => undefined,
    );
    await networking.patchNamespacedIngressStatus(
      { name: "unwatched", namespace: "milvus", body: { status: { loadBalancer: { ingress: [{ hostname }] } } } },
      mergePatch,
    );
    await networking.patchNamespacedIngressStatus(
      {
        name: "watched",
        namespace: "milvus",
        // The spec part is ignored: the status subresource changes status only.
        body: { spec: { ingressClassName: "changed" }, status: { loadBalancer: { ingress: [{ hostname }] } } },
      },
      mergePatch,
    );
    await firstEvent;
    watch.abort();
    expect(events.map((e) => [e.type, e.object.metadata?.name])).toEqual([["MODIFIED", "watched"]]);
    expect(events[0]?.object.status?.loadBalancer?.ingress?.[0]?.hostname).toBe(hostname);
    const stored = server.get<V1Ingress>("Ingress", "milvus", "watched");
    expect(stored?.spec?.ingressClassName).toBe("alb");
    expect(stored?.metadata?.generation).toBe(1);
  });

  it("starts a watch without resourceVersion with ADDED for what exists, and ends it at timeoutSeconds", async () => {
    await networking.createNamespacedIngress({ namespace: "milvus", body: ingress("existing") });
    const events: string[] = [];
    const ended = new Promise<void>((resolve) => {
      void new Watch(kc).watch(
        "/apis/networking.k8s.io/v1/namespaces/milvus/ingresses",
        { fieldSelector: "metadata.name=existing", timeoutSeconds: 1 },
        (type, object: V1Ingress) => events.push(`${type} ${object.metadata?.name}`),
        () => resolve(),
      );
    });
    await ended;
    expect(events).toEqual(["ADDED existing"]);
  });

  it("keeps status out of main-resource writes", async () => {
    await networking.createNamespacedIngress({ namespace: "milvus", body: ingress("status-kept") });
    await networking.patchNamespacedIngressStatus(
      { name: "status-kept", namespace: "milvus", body: { status: { loadBalancer: { ingress: [{ hostname }] } } } },
      mergePatch,
    );
    const patched = await networking.patchNamespacedIngress(
      {
        name: "status-kept",
        namespace: "milvus",
        body: { metadata: { labels: { a: "b" } }, status: { loadBalancer: {} } },
      },
      mergePatch,
    );
    expect(patched.status?.loadBalancer?.ingress?.[0]?.hostname).toBe(hostname);
    expect(patched.metadata?.labels).toEqual({ a: "b" });
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

describe("fault injection", () => {
  const read = () => core.readNamespacedService({ name: "milvus-demo", namespace: "milvus" });

  beforeEach(() => {
    server.clearFaults();
    seedMilvusRelease(server);
  });

  it("answers 429 with Retry-After and a TooManyRequests Status, then recovers", async () => {
    server.injectFault({ match: { method: "GET", pathIncludes: "/services/milvus-demo" }, respond: { status: 429, retryAfterSeconds: 3 } });
    const { code, status, headers } = await rejection(read());
    expect(code).toBe(429);
    expect(headers["retry-after"]).toBe("3");
    expect(status).toMatchObject({ kind: "Status", reason: "TooManyRequests", code: 429 });
    expect(server.requests.at(-1)).toMatchObject({ status: 429, fault: "status" });
    expect((await read()).metadata?.name).toBe("milvus-demo");
  });

  it.each([
    [500, "InternalError"],
    [503, "ServiceUnavailable"],
    [409, "Conflict"],
    [404, "NotFound"],
    [401, "Unauthorized"],
  ] as const)("answers %i with a %s Status", async (code, reason) => {
    server.injectFault({ match: { pathIncludes: "/services/milvus-demo" }, respond: { status: code } });
    const rejected = await rejection(read());
    expect(rejected.code).toBe(code);
    if (code !== 401) expect(rejected.status).toMatchObject({ kind: "Status", reason, code });
  });

  it("answers 403 naming the user, the verb and the namespace", async () => {
    server.injectFault({ match: { method: "PATCH" }, respond: { status: 403 } });
    const { code, status } = await rejection(
      core.patchNamespacedService({ name: "milvus-demo", namespace: "milvus", body: { spec: {} } }, mergePatch),
    );
    expect(code).toBe(403);
    expect(status.message).toBe(
      'services "milvus-demo" is forbidden: User "sandbox-user" cannot patch resource "services" in API group "" in the namespace "milvus"',
    );
  });

  it("applies a fault `times` times only", async () => {
    server.injectFault({ match: { pathIncludes: "milvus-demo" }, times: 2, respond: { status: 503 } });
    expect((await rejection(read())).code).toBe(503);
    expect((await rejection(read())).code).toBe(503);
    expect((await read()).metadata?.name).toBe("milvus-demo");
  });

  it("drops the connection on 'reset'", async () => {
    server.injectFault({ match: { pathIncludes: "milvus-demo" }, respond: "reset" });
    await expect(read()).rejects.toThrow(/socket hang up|ECONNRESET|reset/i);
    expect(server.requests.at(-1)).toMatchObject({ status: 0, fault: "reset" });
  });

  it("never answers on 'timeout', and close() still ends the connection", async () => {
    const own = await startKubeApiServer();
    try {
      own.injectFault({ match: { pathIncludes: "/api/v1" }, respond: "timeout" });
      const outcome = new Promise<string>((resolve) => {
        const req = request(`${own.url}/api/v1/namespaces`, {
          ca: own.caPem,
          headers: { authorization: "Bearer t" },
        });
        req.on("response", (res) => resolve(`answered ${res.statusCode}`));
        req.on("error", (err) => resolve(`error ${err.message}`));
        req.end();
      });
      const early = await Promise.race([outcome, new Promise((r) => setTimeout(() => r("pending"), 500))]);
      expect(early).toBe("pending");
      expect(own.requests.at(-1)).toMatchObject({ path: "/api/v1/namespaces", status: 0, fault: "timeout" });
      await own.close();
      expect(await outcome).toMatch(/^error /);
    } finally {
      await own.close();
    }
  });
});

// ------------------------------------------------------------------------------------------------------------
// EKS bearer tokens, made the way the Lambdas make them: a SigV4-presigned STS GetCallerIdentity URL.
// ------------------------------------------------------------------------------------------------------------

interface TokenOptions {
  signedAt?: Date;
  host?: string;
  action?: string;
  signClusterHeader?: boolean;
}

async function eksToken(opts: TokenOptions = {}): Promise<string> {
  const host = opts.host ?? "sts.us-east-2.amazonaws.com";
  const signer = new SignatureV4({
    service: "sts",
    region: "us-east-2",
    credentials: { accessKeyId: "AKIASANDBOX", secretAccessKey: "secret" },
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host };
  if (opts.signClusterHeader !== false) headers["x-k8s-aws-id"] = "milvus-cluster";
  const presigned = await signer.presign(
    new HttpRequest({
      method: "GET",
      protocol: "https:",
      hostname: host,
      path: "/",
      query: { Action: opts.action ?? "GetCallerIdentity", Version: "2011-06-15" },
      headers,
    }),
    { expiresIn: 60, signingDate: opts.signedAt ?? NOW },
  );
  const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
  return `k8s-aws-v1.${Buffer.from(`https://${host}/?${query}`).toString("base64url")}`;
}

describe("EKS bearer tokens", () => {
  const authenticate = eksTokenAuthenticator({ now: () => NOW });
  const reason = (result: AuthResult): string => (result.ok ? "accepted" : result.reason);

  it("accepts a presigned GetCallerIdentity URL with the cluster header signed", async () => {
    expect(authenticate(await eksToken())).toEqual({ ok: true, user: "AKIASANDBOX" });
    expect(authenticate(await eksToken({ host: "sts.amazonaws.com" })).ok).toBe(true);
    expect(authenticate(await eksToken({ signedAt: new Date(NOW.getTime() - 14 * 60_000) })).ok).toBe(true);
  });

  it("rejects expired, unsigned-cluster, wrong-host, wrong-action and malformed tokens", async () => {
    expect(reason(authenticate(await eksToken({ signedAt: new Date(NOW.getTime() - 16 * 60_000) })))).toContain(
      "X-Amz-Date parameter is expired (15 minute expiration)",
    );
    expect(reason(authenticate(await eksToken({ signClusterHeader: false })))).toContain(
      "client did not sign the x-k8s-aws-id header in the pre-signed URL",
    );
    expect(reason(authenticate(await eksToken({ host: "sts.evil.example.com" })))).toContain(
      'unexpected hostname "sts.evil.example.com"',
    );
    expect(reason(authenticate(await eksToken({ action: "AssumeRole" })))).toContain("unexpected action parameter");
    const good = await eksToken();
    expect(reason(authenticate(good.replace("k8s-aws-v1.", "k8s-aws-v2.")))).toContain("missing expected");
    const url = Buffer.from(good.slice("k8s-aws-v1.".length), "base64url").toString();
    let unpaddable = url;
    while (Buffer.byteLength(unpaddable) % 3 === 0) unpaddable += "0";
    const padded = `k8s-aws-v1.${Buffer.from(unpaddable).toString("base64")}`;
    expect(padded).toMatch(/=$/);
    expect(reason(authenticate(padded))).toContain("illegal base64 data");
    const extra = `k8s-aws-v1.${Buffer.from(`${url}&Foo=bar`).toString("base64url")}`;
    expect(reason(authenticate(extra))).toContain('non-whitelisted query parameter "Foo"');
  });

  it("guards the stand-in: 401 Unauthorized without a valid token, the user recorded with one", async () => {
    const guarded = await startKubeApiServer({ authenticate: eksTokenAuthenticator() });
    try {
      const valid = kubeConfig(guarded, await eksToken({ signedAt: new Date() })).makeApiClient(CoreV1Api);
      expect((await valid.listNamespace()).items.length).toBeGreaterThan(0);
      expect(guarded.requests.at(-1)).toMatchObject({ status: 200, user: "AKIASANDBOX" });

      const stale = kubeConfig(guarded, await eksToken({ signedAt: new Date(Date.now() - 20 * 60_000) }));
      const { code } = await rejection(stale.makeApiClient(CoreV1Api).listNamespace());
      expect(code).toBe(401);
      expect(guarded.requests.at(-1)?.authError).toContain("expired");

      // Without any bearer token the apiserver answers with the Unauthorized Status.
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(`${guarded.url}/api/v1/namespaces`, { ca: guarded.caPem }, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        });
        req.on("error", reject);
        req.end();
      });
      expect(body).toBe(
        '401 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
      );
    } finally {
      await guarded.close();
    }
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
    expect(events).toHaveLength(2);
    expect(events[1]).toBe("MODIFIED Service/milvus-demo");
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

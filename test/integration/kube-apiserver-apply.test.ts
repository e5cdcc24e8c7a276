// The Kubernetes API stand-in's server-side apply (field managers, conflicts, removals), the status subresource
// and watches, driven by @kubernetes/client-node v1 as the Lambdas drive them.
import { type KubeConfig, NetworkingV1Api, type V1Ingress, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeApiServer, startKubeApiServer } from "../../sandbox/kube";
import { ingress, kubeConfig, mergePatch, NOW, rejection, serverSideApply } from "../kube-api";

let server: KubeApiServer;
let networking: NetworkingV1Api;
let kc: KubeConfig;

beforeAll(async () => {
  server = await startKubeApiServer({ now: () => NOW });
  kc = kubeConfig(server);
  networking = kc.makeApiClient(NetworkingV1Api);
});

afterAll(async () => {
  await server.close();
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

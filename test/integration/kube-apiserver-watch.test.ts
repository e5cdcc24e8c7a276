// The stand-in's watch window and resourceVersion semantics (410 Expired, 504 Too large resource version), the
// uid precondition's text, and time as the apiserver keeps it (whole seconds; a manager's time moves only when its
// write changed something).
import { CoreV1Api, NetworkingV1Api, type V1Service } from "@kubernetes/client-node";
import { request } from "node:https";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KubeApiServer, type KubeObject, seedMilvusRelease, startKubeApiServer } from "../../sandbox/kube";
import { ingress, kubeConfig, mergePatch, rejection } from "../kube-api";

let server: KubeApiServer;
let now = new Date("2026-11-26T10:00:00.000Z");

beforeEach(async () => {
  now = new Date("2026-11-26T10:00:00.000Z");
  server = await startKubeApiServer({ now: () => now, watchHistory: 3 });
  seedMilvusRelease(server);
});

afterEach(async () => {
  await server.close();
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request, its whole answer (a watch is read until the server ends it). */
function raw(method: string, path: string, body?: unknown): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const r = request(
      `${server.url}${path}`,
      {
        method,
        ca: server.caPem,
        headers: { Authorization: "Bearer t", "Content-Type": "application/json", ...(text ? { "Content-Length": Buffer.byteLength(text) } : {}) },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          data += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: data }));
      },
    );
    r.on("error", reject);
    r.end(text);
  });
}

const servicePath = "/api/v1/namespaces/milvus/services";

let touches = 0;
/** Changes the Service `times` times (a label that takes a new value each time). */
async function touch(times: number): Promise<void> {
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  for (let i = 0; i < times; i++) {
    await core.patchNamespacedService({ name: "milvus-demo", namespace: "milvus", body: { metadata: { labels: { touch: String(touches++) } } } }, mergePatch);
  }
}

describe("watch window", () => {
  it("replays what is still in the window from a resourceVersion", async () => {
    touches = 0;
    const from = server.resourceVersion;
    await touch(2);
    const { text } = await raw("GET", `${servicePath}?watch=true&resourceVersion=${from}&timeoutSeconds=1`);
    const events = text.trim().split("\n").map((l) => JSON.parse(l) as { type: string; object: KubeObject });
    expect(events.map((e) => `${e.type} ${e.object.metadata.labels?.touch}`)).toEqual(["MODIFIED 0", "MODIFIED 1"]);
  });

  it("answers a resourceVersion older than the window with one ERROR event carrying a 410 Expired Status, then ends", async () => {
    const from = Number(server.resourceVersion);
    await touch(5); // window of 3: the first two Service changes are gone
    const { status, text } = await raw("GET", `${servicePath}?watch=true&resourceVersion=${from}&timeoutSeconds=5`);
    expect(status).toBe(200);
    const lines = text.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      type: "ERROR",
      object: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `too old resource version: ${from} (${from + 2})`,
        reason: "Expired",
        code: 410,
      },
    });
  });

  it("expires every older resourceVersion once compacted, and watches from the current one", async () => {
    const from = server.resourceVersion;
    await touch(1);
    server.compact();
    const current = server.resourceVersion;
    const expired = await raw("GET", `${servicePath}?watch=true&resourceVersion=${from}`);
    expect(JSON.parse(expired.text)).toMatchObject({ type: "ERROR", object: { code: 410, message: `too old resource version: ${from} (${current})` } });
    const fresh = raw("GET", `${servicePath}?watch=true&resourceVersion=${current}&timeoutSeconds=1`);
    await touch(1);
    const answer = await fresh;
    expect(answer.text, `${answer.status}`).toContain('"type":"MODIFIED"');
  });

  it("answers a watch or a list from a resourceVersion the store has not reached with 504 and Retry-After 1, after waiting for it", async () => {
    const ahead = Number(server.resourceVersion) + 5;
    const started = Date.now();
    for (const path of [`${servicePath}?watch=true&resourceVersion=${ahead}`, `${servicePath}?resourceVersion=${ahead}`]) {
      const { status, headers, text } = await raw("GET", path);
      expect(status).toBe(504);
      expect(headers["retry-after"]).toBe("1");
      expect(JSON.parse(text)).toEqual({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `Timeout: Too large resource version: ${ahead}, current: ${ahead - 5}`,
        reason: "Timeout",
        details: { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 },
        code: 504,
      });
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_900);
    // The store catching up within the wait serves the request.
    const next = Number(server.resourceVersion) + 1;
    const list = raw("GET", `${servicePath}?resourceVersion=${next}`);
    await touch(1);
    expect((await list).status).toBe(200);
  }, 15_000);
});

describe("preconditions", () => {
  it("answers a delete or an update whose uid precondition mismatches with 409 and the storage's text", async () => {
    const uid = server.get<KubeObject>("Service", "milvus", "milvus-demo")?.metadata.uid;
    const gone = await raw("DELETE", `${servicePath}/milvus-demo`, { kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "other" } });
    expect(gone.status).toBe(409);
    expect(JSON.parse(gone.text)).toMatchObject({
      reason: "Conflict",
      message: `Operation cannot be fulfilled on services "milvus-demo": StorageError: invalid object, Code: 4, Key: /registry/services/specs/milvus/milvus-demo, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: other, UID in object meta: ${uid}`,
      details: { name: "milvus-demo", kind: "services" },
    });
    const core = kubeConfig(server).makeApiClient(CoreV1Api);
    const svc = server.get<V1Service>("Service", "milvus", "milvus-demo") as V1Service;
    const put = await rejection(core.replaceNamespacedService({ name: "milvus-demo", namespace: "milvus", body: { ...svc, metadata: { ...svc.metadata, uid: "other" } } }));
    expect(put.code).toBe(409);
    expect(put.status.message).toContain(`Precondition failed: UID in precondition: other, UID in object meta: ${uid}`);
    const networking = kubeConfig(server).makeApiClient(NetworkingV1Api);
    await networking.createNamespacedIngress({ namespace: "milvus", body: ingress("l7") });
    const ing = await raw("DELETE", "/apis/networking.k8s.io/v1/namespaces/milvus/ingresses/l7", { preconditions: { uid: "u", resourceVersion: "1" } });
    expect(JSON.parse(ing.text).message).toMatch(/^Operation cannot be fulfilled on ingresses.networking.k8s.io "l7": StorageError: invalid object, Code: 4, Key: \/registry\/ingress\/milvus\/l7, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: u, UID in object meta: /);
  });
});

describe("time", () => {
  it("keeps metav1.Time fields in whole seconds, whatever precision the client sent", async () => {
    now = new Date("2026-11-26T10:00:07.654Z");
    const core = kubeConfig(server).makeApiClient(CoreV1Api);
    const event = await core.createNamespacedEvent({
      namespace: "milvus",
      body: {
        metadata: { name: "e1" },
        involvedObject: { kind: "Service", name: "milvus-demo", namespace: "milvus" },
        reason: "Test",
        message: "m",
        firstTimestamp: new Date("2026-11-26T10:00:01.999Z"),
        lastTimestamp: new Date("2026-11-26T10:00:02.500Z"),
      },
    });
    const stored = server.get<KubeObject>("Event", "milvus", "e1");
    expect([stored?.firstTimestamp, stored?.lastTimestamp, stored?.metadata.creationTimestamp]).toEqual([
      "2026-11-26T10:00:01Z",
      "2026-11-26T10:00:02Z",
      "2026-11-26T10:00:07Z",
    ]);
    expect(event.metadata?.managedFields?.[0]?.time?.toISOString()).toBe("2026-11-26T10:00:07.000Z");
  });

  it("moves a manager's managedFields time only when its write changed a value", async () => {
    const core = kubeConfig(server).makeApiClient(CoreV1Api);
    const patch = (value: string) =>
      core.patchNamespacedService({ name: "milvus-demo", namespace: "milvus", fieldManager: "tool", body: { metadata: { labels: { a: value } } } }, mergePatch);
    const timeOf = () => server.get<KubeObject>("Service", "milvus", "milvus-demo")?.metadata.managedFields?.find((m) => m.manager === "tool")?.time;
    now = new Date("2026-11-26T10:01:00Z");
    await patch("1");
    expect(timeOf()).toBe("2026-11-26T10:01:00Z");
    now = new Date("2026-11-26T10:02:00Z");
    await patch("1");
    expect(timeOf()).toBe("2026-11-26T10:01:00Z");
    now = new Date("2026-11-26T10:03:00Z");
    await patch("2"); // the same field set, another value
    expect(timeOf()).toBe("2026-11-26T10:03:00Z");
    // Another manager's change leaves this one's time alone.
    now = new Date("2026-11-26T10:04:00Z");
    await core.patchNamespacedService({ name: "milvus-demo", namespace: "milvus", fieldManager: "other", body: { metadata: { labels: { b: "x" } } } }, mergePatch);
    expect(timeOf()).toBe("2026-11-26T10:03:00Z");
  });
});

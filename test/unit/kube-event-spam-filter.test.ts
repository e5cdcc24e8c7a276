// The ALB controller stand-in's Event recorder applies client-go's EventSourceObjectSpamFilter (tools/record/
// events_cache.go): 25 events per source and object, then one more per 5 minutes; a filtered event still counts.
import type { CoreV1Api, V1Ingress } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { EventRecorder } from "../../sandbox/alb/events";

function fakeCore() {
  const calls: { verb: "create" | "patch"; count: number }[] = [];
  const core = {
    createNamespacedEvent: async ({ body }: { body: { count: number } }) => {
      calls.push({ verb: "create", count: body.count });
      return body;
    },
    patchNamespacedEvent: async ({ body }: { body: { count: number } }) => {
      calls.push({ verb: "patch", count: body.count });
      return body;
    },
  } as unknown as CoreV1Api;
  return { core, calls };
}

const ing = (name: string): V1Ingress => ({ metadata: { name, namespace: "milvus", uid: `uid-${name}` } });

describe("event spam filter", () => {
  it("lets 25 events about one object through, then one per 5 minutes, carrying the count of those it held back", async () => {
    const { core, calls } = fakeCore();
    let now = new Date("2026-11-26T10:00:00Z");
    const recorder = new EventRecorder(core, () => undefined, "ingress", () => now);
    for (let i = 0; i < 30; i++) recorder.record(ing("a"), "Warning", "FailedDeployModel", "same");
    await recorder.flush();
    expect(calls).toHaveLength(25);
    expect(calls[0]).toEqual({ verb: "create", count: 1 });
    expect(calls.at(-1)).toEqual({ verb: "patch", count: 25 });
    // Another object has its own bucket.
    recorder.record(ing("b"), "Warning", "FailedDeployModel", "same");
    await recorder.flush();
    expect(calls).toHaveLength(26);
    now = new Date(now.getTime() + 299_000);
    recorder.record(ing("a"), "Warning", "FailedDeployModel", "same");
    await recorder.flush();
    expect(calls).toHaveLength(26);
    now = new Date(now.getTime() + 2_000);
    recorder.record(ing("a"), "Warning", "FailedDeployModel", "same");
    await recorder.flush();
    expect(calls.at(-1)).toEqual({ verb: "patch", count: 32 });
  });
});

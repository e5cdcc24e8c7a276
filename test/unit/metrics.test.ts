// The step metrics as CloudWatch receives them: EMF lines (Powertools Metrics) written when a step ends.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createHandler } from "../../functions/lib/handler";
import { METRICS_NAMESPACE, flushStepMetrics, stepMetrics } from "../../functions/lib/metrics";
import { lambdaContext } from "../../sandbox/workflow";

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

beforeAll(() => {
  // As the local runs set it: Powertools then writes to the global console, which they capture.
  process.env.POWERTOOLS_DEV = "true";
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
});

/** The EMF lines written to the console while `fn` runs. */
async function emfOf(fn: () => unknown): Promise<Emf[]> {
  const lines: string[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    }),
  );
  try {
    await fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines.flatMap((l) => {
    try {
      const parsed = JSON.parse(l) as Partial<Emf>;
      return parsed._aws ? [parsed as Emf] : [];
    } catch {
      return [];
    }
  });
}

afterEach(() => flushStepMetrics());

describe("step metrics", () => {
  it("writes nothing, not even Powertools' empty-metrics warning, for a step that added none", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(" ")));
    try {
      flushStepMetrics();
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([]);
  });

  it("DaysToExpiry per target, and once more without TargetId for the alarm over all targets", async () => {
    const emf = await emfOf(() => {
      stepMetrics.add("DaysToExpiry", 42, { targetId: "milvus-eks/us-east-2/milvus/milvus-demo" });
      flushStepMetrics();
    });
    expect(emf).toHaveLength(2);
    const [perTarget, overall] = emf;
    expect(perTarget?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [["service", "TargetId"]],
      Metrics: [{ Name: "DaysToExpiry", Unit: "Count" }],
    });
    expect(perTarget).toMatchObject({ DaysToExpiry: 42, TargetId: "milvus-eks/us-east-2/milvus/milvus-demo", service: "milvus-l7" });
    expect(overall?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service"]]);
    expect(overall).toMatchObject({ DaysToExpiry: 42 });
  });

  it("flushes what a handler added when it ends, failed or not", async () => {
    const ok = createHandler("verify-connection", async () => {
      stepMetrics.add("VerificationLatency", 180);
      return {};
    });
    const failing = createHandler("verify-connection", async () => {
      stepMetrics.add("VerificationLatency", 950);
      throw new Error("boom");
    });
    const context = lambdaContext("milvus-l7-verify-connection", 30_000);
    const emf = await emfOf(async () => {
      await ok({}, context);
      await failing({}, context).catch(() => undefined);
    });
    expect(emf.map((e) => [e._aws.CloudWatchMetrics[0]?.Metrics[0], e.VerificationLatency])).toEqual([
      [{ Name: "VerificationLatency", Unit: "Milliseconds" }, 180],
      [{ Name: "VerificationLatency", Unit: "Milliseconds" }, 950],
    ]);
  });
});

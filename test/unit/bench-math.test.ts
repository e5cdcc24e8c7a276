// The benchmark's pure calculations (scripts/bench/math.ts, infra/bundle.ts). No timings are asserted here: speed
// is measured by `npm run bench`, never by a test.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_WATCH_SECONDS, WAIT_CAP_SECONDS, maxPollsFor } from "../../functions/lib/polling";
import type { Target } from "../../functions/lib/state";
import {
  atSingleRunDurations,
  estimateRunUsd,
  expandTargets,
  formatTable,
  independentLambdasRatio,
  lambdaInvocationUsd,
  longestWaitSeconds,
  maxDetectSeconds,
  median,
  monthlyCost,
  pollsWithin,
  ratio,
  scaleInvocations,
  scaleTransitions,
  summariseInvocations,
  transitionsUsd,
} from "../../scripts/bench/math";
import { stepMemorySizes } from "../../scripts/bench/step-memory";
import { CHECKS_PER_MONTH, PRICES } from "../../scripts/bench/targets";
import { REPO_ROOT, bundleOf, bytesByPackage, functionNames, initPath, packageOf } from "../../infra/bundle";

describe("statistics", () => {
  it("takes the median of odd and even samples without reordering the input", () => {
    const samples = [9, 1, 5];
    expect(median(samples)).toBe(5);
    expect(samples).toEqual([9, 1, 5]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it("gives ratios to two decimals, infinite over zero", () => {
    expect(ratio(1414, 89.9)).toBe(15.73);
    expect(ratio(1, 3)).toBe(0.33);
    expect(ratio(5, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("prices", () => {
  it("prices Standard transitions at $0.025 per 1,000", () => {
    expect(transitionsUsd(1000)).toBeCloseTo(0.025, 12);
    expect(transitionsUsd(22)).toBeCloseTo(0.00055, 12);
  });

  it("prices a Lambda invocation as GB-seconds per started millisecond plus the request", () => {
    // 1 GB for 1 s: one GB-second and one request.
    expect(lambdaInvocationUsd(1024, 1000)).toBeCloseTo(PRICES.lambdaGbSecondUsd + 0.2 / 1e6, 15);
    // 256 MB for 0.1 ms is billed as 1 ms.
    expect(lambdaInvocationUsd(256, 0.1)).toBeCloseTo(0.25 * 0.001 * PRICES.lambdaGbSecondUsd + PRICES.lambdaRequestUsd, 15);
  });

  it("adds a cold start's INIT time only to the first invocations of each function", () => {
    const estimate = estimateRunUsd({
      transitions: 10,
      invocations: [
        { fn: "a", ms: 1000 },
        { fn: "a", ms: 1000 },
        { fn: "b", ms: 500 },
      ],
      memoryMb: (fn) => (fn === "b" ? 512 : 1024),
      coldInitMs: () => 1000,
      coldStarts: () => 1,
    });
    // a: 2 s + 1 s INIT at 1 GB = 3 GB-s; b: 0.5 s + 1 s INIT at 0.5 GB = 0.75 GB-s.
    expect(estimate.gbSeconds).toBeCloseTo(3.75, 9);
    expect(estimate.invocations).toBe(3);
    expect(estimate.transitionsUsd).toBeCloseTo(0.00025, 12);
    expect(estimate.lambdaUsd).toBeCloseTo(3.75 * PRICES.lambdaGbSecondUsd + 3 * PRICES.lambdaRequestUsd, 12);
    expect(estimate.usd).toBeCloseTo(estimate.transitionsUsd + estimate.lambdaUsd, 15);
  });
});

describe("a month of daily checks", () => {
  it("prices a month as the runs' transitions, GB-seconds and requests, the same as pricing each run", () => {
    const run = estimateRunUsd({
      transitions: 120,
      invocations: [
        { fn: "check-target", ms: 40 },
        { fn: "verify-connection", ms: 300 },
      ],
      memoryMb: (fn) => (fn === "verify-connection" ? 512 : 256),
      coldInitMs: () => 100,
      coldStarts: () => 1,
    });
    const month = monthlyCost({ transitions: 120, invocations: run.invocations, gbSeconds: run.gbSeconds }, CHECKS_PER_MONTH, 20);
    expect(CHECKS_PER_MONTH).toBe(30);
    expect([month.runs, month.transitions, month.invocations]).toEqual([30, 3600, 60]);
    expect(month.gbSeconds).toBeCloseTo(30 * run.gbSeconds, 12);
    expect(month.usd).toBeCloseTo(30 * run.usd, 12);
    expect(month.transitionsUsd).toBeCloseTo(30 * run.transitionsUsd, 12);
    expect(month.lambdaUsd).toBeCloseTo(30 * run.lambdaUsd, 12);
    expect(month.usdPerTarget).toBeCloseTo(month.usd / 20, 15);
  });

  it("uses the list prices: $0.025 per 1,000 transitions, PRICES.lambdaGbSecondUsd per GB-s, $0.20 per million requests", () => {
    // 1,000 transitions, 1 GB-s and one request a run, 30 runs.
    const month = monthlyCost({ transitions: 1000, invocations: 1, gbSeconds: 1 }, 30, 1);
    expect(month.transitionsUsd).toBeCloseTo(0.75, 12);
    expect(month.lambdaUsd).toBeCloseTo(30 * PRICES.lambdaGbSecondUsd + 30 * 0.2e-6, 15);
    expect(month.usd).toBe(month.usdPerTarget);
    // No targets (an empty registry): the whole cost, not a division by zero.
    expect(monthlyCost({ transitions: 10, invocations: 1, gbSeconds: 0 }, 30, 0).usdPerTarget).toBeCloseTo(30 * (10 * 0.025e-3 + 0.2e-6), 15);
  });
});

describe("poll schedule", () => {
  it("waits at most WAIT_CAP_SECONDS between polls", () => {
    expect(longestWaitSeconds(1)).toBe(0);
    expect(longestWaitSeconds(3)).toBe(2);
    expect(longestWaitSeconds(maxPollsFor(20 * 60))).toBe(WAIT_CAP_SECONDS);
  });

  it("notices an address within the longest wait plus a poll's start-up", () => {
    expect(maxDetectSeconds(5, 0.25)).toBe(5.25);
  });

  it("counts polls started within a budget: watch, then 1, 2, 4, 5, 5 … seconds of Wait", () => {
    // Starts at 0, 31, 63, 97, then every 35 s: the 35th at 97 + 31 × 35 = 1,182 s; the 36th (1,217 s) is outside.
    expect(pollsWithin(20 * 60, 30)).toBe(35);
    expect(pollsWithin(20 * 60, DEFAULT_WATCH_SECONDS)).toBe(maxPollsFor(20 * 60, DEFAULT_WATCH_SECONDS));
    expect(pollsWithin(10, 30)).toBe(1);
    // Fixed 5 s polling without a watch would need 240 polls for the same 20 minutes.
    expect(pollsWithin(20 * 60, 0)).toBeGreaterThan(200);
    expect(pollsWithin(20 * 60, 30, 2)).toBeLessThan(pollsWithin(20 * 60, 30));
  });
});

describe("renewal helpers", () => {
  const target: Target = {
    cluster: { name: "milvus-eks", region: "us-east-2" },
    namespace: "milvus",
    service: { name: "milvus-demo", port: 19530 },
    ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: {} },
  };

  it("makes n distinct endpoints from one target, the first unchanged", () => {
    const targets = expandTargets(target, 20);
    expect(targets).toHaveLength(20);
    expect(targets[0]).toBe(target);
    expect(targets[1]).toMatchObject({
      service: { name: "milvus-demo-02", port: 19530 },
      ingress: { name: "milvus-demo-02", host: "milvus-demo-02.milvus.io", scheme: "internet-facing" },
    });
    expect(targets[19]?.ingress.host).toBe("milvus-demo-20.milvus.io");
    expect(new Set(targets.map((t) => t.ingress.host)).size).toBe(20);
    expect(new Set(targets.map((t) => t.service.name)).size).toBe(20);
    expect(target.ingress.name).toBe("milvus-demo");
  });

  it("scales a single-target run: steps before the Map once, per-target steps n times", () => {
    const single = [
      { fn: "resolve-request", ms: 10 },
      { fn: "import-certificate", ms: 100 },
      { fn: "apply-ingress", ms: 20 },
      { fn: "verify-connection", ms: 300 },
    ];
    const scaled = scaleInvocations(single, new Set(["resolve-request", "import-certificate"]), 3);
    expect(scaled).toHaveLength(2 + 2 * 3);
    expect(summariseInvocations(scaled)).toEqual({
      "apply-ingress": { count: 3, medianMs: 20 },
      "import-certificate": { count: 1, medianMs: 100 },
      "resolve-request": { count: 1, medianMs: 10 },
      "verify-connection": { count: 3, medianMs: 300 },
    });
  });

  it("prices a many-target run's own invocations at the single-target run's median duration per function", () => {
    // record-check runs once per target (RecordCheck) and once after the Map (SummariseCheck): counted as the
    // 20-target run made them, each at the single run's median for record-check.
    const single = [
      { fn: "resolve-request", ms: 10 },
      { fn: "check-target", ms: 30 },
      { fn: "record-check", ms: 20 },
      { fn: "record-check", ms: 4 },
    ];
    const many = [
      { fn: "resolve-request", ms: 90 },
      ...Array.from({ length: 3 }, () => [
        { fn: "check-target", ms: 300 },
        { fn: "record-check", ms: 200 },
      ]).flat(),
      { fn: "record-check", ms: 50 },
      { fn: "diagnose-targets", ms: 70 },
    ];
    const priced = atSingleRunDurations(many, single);
    expect(priced).toHaveLength(many.length);
    expect(summariseInvocations(priced)).toEqual({
      "check-target": { count: 3, medianMs: 30 },
      "diagnose-targets": { count: 1, medianMs: 70 },
      "record-check": { count: 4, medianMs: 12 },
      "resolve-request": { count: 1, medianMs: 10 },
    });
    expect(many[0]?.ms).toBe(90);
  });

  it("scales transitions: states outside the Map once, the iteration's states per target", () => {
    // 6 states outside the Map (no iteration index), 10 inside.
    const entered = [...Array.from({ length: 6 }, () => ({})), ...Array.from({ length: 10 }, () => ({ index: 0 }))];
    expect(scaleTransitions(entered, 1)).toBe(16);
    expect(scaleTransitions(entered, 20)).toBe(206);
  });

  it("models 20 targets at MaxConcurrency 10 as two waves of the per-target chain", () => {
    expect(independentLambdasRatio(1000, 4000, 20, 10)).toBe(1.8);
    expect(independentLambdasRatio(1000, 4000, 10, 10)).toBe(1);
    // Unbounded (no MaxConcurrency): one wave.
    expect(independentLambdasRatio(1000, 4000, 20, 0)).toBe(1);
  });
});

describe("reading the project", () => {
  it("prices each function with the memory the stack gives it", () => {
    const memory = stepMemorySizes();
    expect(memory["verify-connection"]).toBe(512);
    expect(memory.api).toBe(256);
    expect(Object.keys(memory).sort()).toEqual([...functionNames()].sort());
  });

  it("finds every function folder with a handler", () => {
    const names = functionNames();
    expect(names).toContain("verify-connection");
    expect(names).toContain("resolve-request");
    expect(names).not.toContain("lib");
    expect([...names].sort()).toEqual(names);
  });

  it("formats a table with the first column left-aligned", () => {
    expect(formatTable([["name", "MB"], ["api", "0.94"]])).toBe("name    MB\napi   0.94");
  });
});

describe("bundle metafile helpers", () => {
  it("names the package an input belongs to", () => {
    expect(packageOf("node_modules/@kubernetes/client-node/dist/gen/apis/CoreV1Api.js")).toBe("@kubernetes/client-node");
    expect(packageOf("node_modules/winston-transport/node_modules/readable-stream/lib/_stream_writable.js")).toBe("readable-stream");
    expect(packageOf("node_modules/zod/v4/core/schemas.js")).toBe("zod");
    expect(packageOf("functions/lib/kube.ts")).toBe("(milvus-l7)");
  });

  it("adds output bytes per package, biggest first", () => {
    const metafile = {
      inputs: {},
      outputs: {
        "out/index.mjs": {
          bytes: 350,
          imports: [],
          exports: [],
          inputs: {
            "node_modules/zod/a.js": { bytesInOutput: 100 },
            "node_modules/zod/b.js": { bytesInOutput: 50 },
            "node_modules/@aws-sdk/client-acm/x.js": { bytesInOutput: 180 },
            "functions/lib/x.ts": { bytesInOutput: 20 },
          },
        },
      },
    };
    expect(bytesByPackage(metafile)).toEqual([
      { package: "@aws-sdk/client-acm", bytes: 180 },
      { package: "zod", bytes: 150 },
      { package: "(milvus-l7)", bytes: 20 },
    ]);
  });

  it("counts every deployed JavaScript file as the bundle, and what the entry imports statically as its init path", () => {
    const output = (bytes: number, imports: { path: string; kind: string; external?: boolean }[]) => ({ bytes, imports, exports: [], inputs: {} });
    const metafile = {
      inputs: {},
      outputs: {
        "out/f/index.mjs": output(100, [
          { path: "out/f/chunk-A.mjs", kind: "import-statement" },
          { path: "node:https", kind: "import-statement", external: true },
          { path: "out/f/sso-B.mjs", kind: "dynamic-import" },
        ]),
        "out/f/index.mjs.map": output(900, []),
        "out/f/chunk-A.mjs": output(40, [{ path: "out/f/chunk-C.mjs", kind: "import-statement" }]),
        "out/f/chunk-C.mjs": output(7, []),
        "out/f/sso-B.mjs": output(30, [{ path: "out/f/chunk-C.mjs", kind: "import-statement" }]),
      },
    } as unknown as Parameters<typeof bundleOf>[0];
    expect(initPath(metafile, "out/f/index.mjs").sort()).toEqual(["out/f/chunk-A.mjs", "out/f/chunk-C.mjs", "out/f/index.mjs"]);
    const bundle = bundleOf(metafile, join(REPO_ROOT, "out/f"));
    expect(bundle.file).toBe(join(REPO_ROOT, "out/f/index.mjs"));
    expect([bundle.bytes, bundle.initBytes]).toEqual([177, 147]);
    expect(bundle.files).toHaveLength(4);
  });
});

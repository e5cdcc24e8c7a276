// `npm run bench` — how fast, small and cheap milvus-l7 is, measured in one run. Rerunnable by anyone:
// everything runs locally against the sandbox (moto, the Kubernetes API stand-in, the ALB simulator, the Milvus
// stand-in); nothing reaches AWS.
//
//   npm run bench                       human table on stderr
//   npm run -s bench -- --json          the same, plus ONE JSON object on stdout (everything else goes to stderr;
//                                       -s keeps npm's own "> milvus-l7 bench" header off stdout)
//   npm run bench -- --runs 7 --n 20    cold-start samples per bundle (default 5) / Kubernetes calls per op (10)
//   npm run bench -- --only workflow    the sandbox runs alone (demo, workflow, renewal20, check): no bundles, no
//                                       Kubernetes comparison, so no cold init in the costs and no polling figures
//
// What is measured (docs/benchmark.md explains each figure and its method):
//   functions[]  each Lambda bundled with infra/bundle.ts's BUNDLE_OPTIONS (as deployed: index.mjs and its
//                chunks) and with a naive baseline: bytes, and the median import time of the entry in fresh
//                `node` processes
//   kubernetes   patch Service / apply Ingress / read Ingress: our in-process client from the production bundle
//                (one keep-alive connection, as a warm Lambda keeps it) vs a `kubectl` process per operation
//                (CDK's provider)
//   demo         `npm run demo`'s work: sandbox start + one deployment, wall time and state transitions
//   workflow     state transitions and estimated USD for a single-target run whose address appears on the third
//                poll, and for a 20-target renewal
//   polling      worst-case delay from an address appearing to the workflow noticing, polls in 20 minutes
//   renewal20    a 20-target renewal (Map, bounded concurrency) vs the same renewal for one target
//   check        the drift check ({"check": {}}) of those 20 deployed targets vs the check of one: wall time,
//                transitions, Lambda GB-s, USD per run and per month of daily checks, next to the renewal's
// The machine may be shared and noisy: every timing is also given as a ratio to a baseline measured in the
// same run, interleaved with it.
//
// One module per concern in scripts/bench/: bundles.ts, kubernetes.ts, workflow-runs.ts (the sandbox runs),
// math.ts (the pure calculations), measure.ts, step-memory.ts, targets.ts, report.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_WATCH_SECONDS, WAIT_CAP_SECONDS, maxPollsFor } from "../functions/lib/polling";
import { benchBundles } from "./bench/bundles";
import { benchKubernetes } from "./bench/kubernetes";
import { type CostEstimate, type Invocation, estimateRunUsd, longestWaitSeconds, maxDetectSeconds, monthlyCost, pollsWithin, round } from "./bench/math";
import { say, timed } from "./bench/measure";
import { type Check, printReport, roundCost } from "./bench/report";
import { DEFAULT_MEMORY_MB, stepMemorySizes } from "./bench/step-memory";
import { CHECKS_PER_MONTH, TARGETS } from "./bench/targets";
import { benchSandbox } from "./bench/workflow-runs";

const TWENTY_MINUTES = 20 * 60;

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer`);
  return value;
}

/** `--only workflow`: the one part that can run alone (the others feed nothing into it but cold init). */
function only(argv: string[]): "workflow" | undefined {
  const i = argv.indexOf("--only");
  if (i < 0) return undefined;
  if (argv[i + 1] !== "workflow") throw new Error("--only takes one value: workflow");
  return "workflow";
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes("--json");
  const runs = flag(argv, "--runs", 5);
  const n = flag(argv, "--n", 10);
  const workflowOnly = only(argv) === "workflow";
  // Only the JSON result may reach stdout: anything else that writes there (a library, a handler's logger)
  // goes to stderr.
  const stdout = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  process.env.POWERTOOLS_DEV ??= "true";
  process.env.AWS_REGION ??= "us-east-2";
  // On Node 20 the AWS SDK warns on every client that it will need Node 22 (Lambda runs nodejs22.x): drop that
  // one, print the others.
  process.removeAllListeners("warning");
  process.on("warning", (w) => {
    if (!`${w.name} ${w.message}`.includes("NodeVersionSupportWarning")) say(`${w.name}: ${w.message}`);
  });

  const started = performance.now();
  const loadBefore = loadavg();
  const work = await mkdtemp(join(tmpdir(), "milvus-l7-bench-"));
  try {
    const phases: Record<string, number> = {};
    const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const [ms, value] = await timed(fn);
      phases[name] = round(ms / 1000, 1);
      say(`   (${name}: ${phases[name]} s)`);
      return value;
    };
    const bundles = workflowOnly
      ? { figures: [], references: [], files: new Map<string, string>() }
      : await phase("bundles", () => benchBundles(work, runs));
    const kubernetes = workflowOnly ? undefined : await phase("kubernetes", () => benchKubernetes(work, n));
    const sandbox = await phase("sandbox", () => benchSandbox(bundles.files.get("verify-connection")));

    // -- costs
    const configured = stepMemorySizes();
    const memoryAssumed = new Set<string>();
    const memoryMb = (fn: string) => {
      const mb = configured[fn];
      if (mb !== undefined) return mb;
      memoryAssumed.add(fn);
      return DEFAULT_MEMORY_MB;
    };
    const coldInit = new Map(bundles.figures.map((f) => [f.name, f.coldInitMs]));
    const coldInitMs = (fn: string) => coldInit.get(fn) ?? 0;
    // A poll that ends without an address held its watch for the deployed ADDRESS_WATCH_SECONDS.
    const heldWatch = (invocations: Invocation[], polls: number) => {
      let seen = 0;
      return invocations.map((i) =>
        i.fn === "get-ingress-status" && ++seen < polls ? { ...i, ms: i.ms + DEFAULT_WATCH_SECONDS * 1000 } : i,
      );
    };
    const single = estimateRunUsd({
      transitions: sandbox.thirdPoll.transitions,
      invocations: heldWatch(sandbox.thirdPoll.invocations, sandbox.thirdPoll.polls),
      memoryMb,
      coldInitMs,
      coldStarts: () => 1,
    });
    const r20 = sandbox.renewal20;
    const renewal = estimateRunUsd({
      transitions: r20.transitions,
      invocations: r20.scaledInvocations,
      memoryMb,
      coldInitMs,
      coldStarts: (fn) => Math.min(r20.scaledInvocations.filter((i) => i.fn === fn).length, Math.max(1, r20.maxConcurrency)),
    });
    const renewal1 = estimateRunUsd({ transitions: r20.singleTargetTransitions, invocations: r20.singleTargetInvocations, memoryMb, coldInitMs, coldStarts: () => 1 });

    // -- the drift check: a daily run finds every container cold (Lambda keeps an idle one minutes, not a day), so
    // each function pays INIT as often as the Map runs it at once.
    const c20 = sandbox.check20;
    const check1 = estimateRunUsd({ transitions: c20.singleTargetTransitions, invocations: c20.singleTargetInvocations, memoryMb, coldInitMs, coldStarts: () => 1 });
    const check20 = estimateRunUsd({
      transitions: c20.transitions,
      invocations: c20.scaledInvocations,
      memoryMb,
      coldInitMs,
      coldStarts: (fn) => Math.min(c20.scaledInvocations.filter((i) => i.fn === fn).length, Math.max(1, c20.maxConcurrency)),
    });
    const perMonth = (transitions: number, cost: CostEstimate, targets: number) => {
      const m = monthlyCost({ transitions, invocations: cost.invocations, gbSeconds: cost.gbSeconds }, CHECKS_PER_MONTH, targets);
      return { ...m, gbSeconds: round(m.gbSeconds, 1), usd: round(m.usd, 4), transitionsUsd: round(m.transitionsUsd, 4), lambdaUsd: round(m.lambdaUsd, 4), usdPerTarget: round(m.usdPerTarget, 5) };
    };

    // -- polling
    const budgetPolls = maxPollsFor(TWENTY_MINUTES, DEFAULT_WATCH_SECONDS);
    const longestWait = longestWaitSeconds(budgetPolls);
    const readMs = kubernetes?.operations.find((o) => o.op.startsWith("read"))?.oursMs ?? 0;
    const pollStartLatencySeconds = (coldInitMs("get-ingress-status") + readMs) / 1000;
    const polling = {
      maxDetectSeconds: round(maxDetectSeconds(longestWait, pollStartLatencySeconds), 2),
      pollsIn20Min: pollsWithin(TWENTY_MINUTES, DEFAULT_WATCH_SECONDS),
      longestWaitSeconds: longestWait,
      pollStartLatencySeconds: round(pollStartLatencySeconds, 3),
      watchSeconds: DEFAULT_WATCH_SECONDS,
      waitCapSeconds: WAIT_CAP_SECONDS,
      maxPollsBudget: budgetPolls,
    };

    const workflow = {
      transitions: sandbox.thirdPoll.transitions,
      usdPerRun: round(single.usd, 6),
      usdPerRenewal20: round(renewal.usd, 6),
      transitionsRenewal20: r20.transitions,
      perRun: { ...roundCost(single), polls: sandbox.thirdPoll.polls },
      perRenewal20: roundCost(renewal),
      perRenewal1: roundCost(renewal1),
      memoryMb: Object.fromEntries(bundles.figures.map((f) => [f.name, memoryMb(f.name)])),
      memoryAssumedMb: DEFAULT_MEMORY_MB,
      memoryAssumedFor: [...memoryAssumed].sort(),
      coldInitIncluded: !workflowOnly,
    };

    const { scaledInvocations: _checkScaled, singleTargetInvocations: _checkSingle, ...checkRuns } = c20;
    const check = {
      ...checkRuns,
      perRun: roundCost(check1),
      perRun20: roundCost(check20),
      checksPerMonth: CHECKS_PER_MONTH,
      monthly: perMonth(c20.singleTargetTransitions, check1, 1),
      monthly20: perMonth(c20.transitions, check20, c20.targets),
    };

    const checks: Check[] = [
      ...bundles.figures.flatMap((f) => [
        { target: `${f.name} bytes`, value: f.bytes, limit: `≤ ${f.limits.bytes / 1e6} MB`, met: f.met.bytes },
        { target: `${f.name} coldInitMs`, value: f.coldInitMs, limit: `≤ ${f.limits.coldInitMs} ms`, met: f.met.coldInit },
      ]),
      ...(kubernetes
        ? [{ target: "kubernetes ratio", value: kubernetes.ratio, limit: `≥ ${TARGETS.kubernetesRatio}×`, met: kubernetes.ratio >= TARGETS.kubernetesRatio }]
        : []),
      { target: "transitions (address on 3rd poll)", value: workflow.transitions, limit: `≤ ${TARGETS.transitions}`, met: workflow.transitions <= TARGETS.transitions },
      // The poll's start-up is cold init + one Ingress read, measured only in the full run.
      ...(workflowOnly
        ? []
        : [
            { target: "polling maxDetectSeconds", value: polling.maxDetectSeconds, limit: `≤ ${TARGETS.maxDetectSeconds} s`, met: polling.maxDetectSeconds <= TARGETS.maxDetectSeconds },
            { target: "polling pollsIn20Min", value: polling.pollsIn20Min, limit: `≤ ${TARGETS.pollsIn20Min}`, met: polling.pollsIn20Min <= TARGETS.pollsIn20Min },
          ]),
      {
        target: "renewal20 ratio",
        value: r20.ratio,
        limit: `≤ ${TARGETS.renewal20Ratio}×`,
        met: r20.status === "SUCCEEDED" && r20.ratio <= TARGETS.renewal20Ratio,
      },
    ];

    const { scaledInvocations: _scaled, singleTargetInvocations: _single, ...renewal20 } = r20;
    const result = {
      generatedAt: new Date().toISOString(),
      machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, loadAvgBefore: loadBefore.map((l) => round(l, 2)), loadAvgAfter: loadavg().map((l) => round(l, 2)) },
      options: { runs, n, ...(workflowOnly ? { only: "workflow" } : {}) },
      functions: bundles.figures,
      references: bundles.references,
      kubernetes,
      demo: sandbox.demo,
      workflow,
      ...(workflowOnly ? {} : { polling }),
      renewal20,
      check,
      verification: { verifyConnectionBundle: sandbox.verifyBundle, ...(kubernetes ? { kubernetesBundle: kubernetes.smoke } : {}) },
      targets: checks,
      phasesSeconds: phases,
      elapsedMs: 0,
    };
    result.elapsedMs = round(performance.now() - started);

    printReport(result);
    if (json) stdout(`${JSON.stringify(result)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}

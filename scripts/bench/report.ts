// The benchmark's report: the human tables on stderr (the JSON goes to stdout from scripts/bench.ts).
import type { FunctionFigures, ReferenceFigures } from "./bundles";
import type { KubernetesFigures } from "./kubernetes";
import { type CostEstimate, type MonthlyCost, formatTable, round } from "./math";
import { say } from "./measure";
import { DEFAULT_MEMORY_MB } from "./step-memory";
import type { SandboxFigures } from "./workflow-runs";

export interface Check {
  target: string;
  value: number;
  limit: string;
  met: boolean;
}

export function roundCost(c: CostEstimate) {
  return { usd: round(c.usd, 6), transitionsUsd: round(c.transitionsUsd, 6), lambdaUsd: round(c.lambdaUsd, 6), invocations: c.invocations, gbSeconds: round(c.gbSeconds, 3) };
}
type RoundedCost = ReturnType<typeof roundCost>;

export function printReport(r: {
  machine: { loadAvgBefore: number[]; cpus: number; node: string };
  functions: FunctionFigures[];
  references: ReferenceFigures[];
  /** Absent with `--only workflow`, as is polling. */
  kubernetes?: KubernetesFigures;
  demo: SandboxFigures["demo"];
  workflow: {
    transitions: number;
    usdPerRun: number;
    usdPerRenewal20: number;
    transitionsRenewal20: number;
    memoryAssumedFor: string[];
    perRenewal1: RoundedCost;
    perRenewal20: RoundedCost;
    coldInitIncluded: boolean;
  };
  polling?: { maxDetectSeconds: number; pollsIn20Min: number; longestWaitSeconds: number; pollStartLatencySeconds: number };
  renewal20: Omit<SandboxFigures["renewal20"], "scaledInvocations" | "singleTargetInvocations">;
  check: Omit<SandboxFigures["check20"], "scaledInvocations" | "singleTargetInvocations"> & {
    perRun: RoundedCost;
    perRun20: RoundedCost;
    checksPerMonth: number;
    monthly: MonthlyCost;
    monthly20: MonthlyCost;
  };
  targets: Check[];
  elapsedMs: number;
}): void {
  const mb = (b: number) => (b / 1e6).toFixed(2);
  say("");
  say(`milvus-l7 benchmark — node ${r.machine.node}, ${r.machine.cpus} CPUs, load ${r.machine.loadAvgBefore.join(" ")} at start`);
  say("");
  if (r.functions.length > 0) {
    say(
      formatTable([
        ["function", "MB", "init MB", "baseline MB", "×smaller", "init ms", "baseline ms", "×faster", "init CPU ms", "+srcmaps ms", "met"],
        ...r.functions.map((f) => [
          f.name,
          mb(f.bytes),
          mb(f.initBytes),
          mb(f.baselineBytes),
          f.bytesRatio.toFixed(2),
          f.coldInitMs.toFixed(0),
          f.baselineColdInitMs.toFixed(0),
          f.coldInitRatio.toFixed(2),
          f.coldInitCpuMs.toFixed(0),
          f.coldInitSourceMapsMs.toFixed(0),
          `${f.met.bytes ? "size ✓" : "size ✗"} ${f.met.coldInit ? "init ✓" : "init ✗"}`,
        ]),
        ...r.references.map((f) => [f.name, mb(f.bytes), mb(f.initBytes), "", "", f.coldInitMs.toFixed(0), "", "", f.coldInitCpuMs.toFixed(0), "", "reference"]),
      ]),
    );
  }
  if (r.kubernetes) {
    say("");
    say(
      formatTable([
        ["Kubernetes operation", "ours ms", "kubectl ms", "×faster"],
        ...r.kubernetes.operations.map((o) => [o.op, o.oursMs.toFixed(2), o.kubectlMs.toFixed(1), o.ratio.toFixed(1)]),
        ["all three", r.kubernetes.oursMs.toFixed(2), r.kubernetes.kubectlMs.toFixed(1), r.kubernetes.ratio.toFixed(1)],
      ]),
    );
  }
  say("");
  say(`demo:       ${(r.demo.wallMs / 1000).toFixed(2)} s wall (sandbox start + one run), ${r.demo.transitions} transitions`);
  say(
    `workflow:   ${r.workflow.transitions} transitions (address on 3rd poll) ≈ $${r.workflow.usdPerRun.toFixed(6)}/run; ` +
      `20-target renewal ${r.workflow.transitionsRenewal20} transitions ≈ $${r.workflow.usdPerRenewal20.toFixed(6)}` +
      (r.workflow.memoryAssumedFor.length ? ` (memory assumed ${DEFAULT_MEMORY_MB} MB for ${r.workflow.memoryAssumedFor.join(", ")})` : ""),
  );
  if (r.polling) {
    say(
      `polling:    address noticed within ${r.polling.maxDetectSeconds} s (Wait ${r.polling.longestWaitSeconds} s + poll start ${r.polling.pollStartLatencySeconds} s), ` +
        `${r.polling.pollsIn20Min} polls in 20 min`,
    );
  }
  say(
    `renewal20:  ${(r.renewal20.wallMs / 1000).toFixed(2)} s for 20 targets vs ${(r.renewal20.singleTargetWallMs / 1000).toFixed(2)} s for 1, ` +
      `medians of [${r.renewal20.samplesMs.map((ms) => (ms / 1000).toFixed(2)).join(", ")}] and [${r.renewal20.singleTargetSamplesMs.map((ms) => (ms / 1000).toFixed(2)).join(", ")}] s ` +
      `(${r.renewal20.ratio}×, MaxConcurrency ${r.renewal20.maxConcurrency}; ${r.renewal20.independentLambdasRatio}× if each invocation had its own Lambda)`,
  );
  const verify = (p: Record<string, { medianMs: number }>) => p["verify-connection"]?.medianMs.toFixed(0) ?? "?";
  say(
    `            the bench process used ${(r.renewal20.cpuMs / 1000).toFixed(1)} s CPU in ${(r.renewal20.wallMs / 1000).toFixed(1)} s for 20 targets ` +
      `(${(r.renewal20.singleTargetCpuMs / 1000).toFixed(1)} s in ${(r.renewal20.singleTargetWallMs / 1000).toFixed(1)} s for 1); ` +
      `verify-connection median ${verify(r.renewal20.perFunction)} ms vs ${verify(r.renewal20.singleTargetPerFunction)} ms; ` +
      `${r.renewal20.retries} retries vs ${r.renewal20.singleTargetRetries}`,
  );
  say("");
  printCheck(r.renewal20, r.workflow, r.check);
  say("");
  const missed = r.targets.filter((t) => !t.met);
  say(`targets: ${r.targets.length - missed.length} of ${r.targets.length} met${missed.length ? "; not met:" : ""}`);
  for (const t of missed) say(`  ✗ ${t.target}: ${t.value} (target ${t.limit})`);
  say(`(bench took ${(r.elapsedMs / 1000).toFixed(0)} s)`);
}

/** The drift check next to the deployment (the renewals: the same targets, the same sandbox, the same retries). */
function printCheck(
  renewal: { wallMs: number; singleTargetWallMs: number; transitions: number; singleTargetTransitions: number },
  workflow: { perRenewal1: RoundedCost; perRenewal20: RoundedCost; coldInitIncluded: boolean },
  check: Parameters<typeof printReport>[0]["check"],
): void {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const usd = (v: number) => `$${v.toFixed(6)}`;
  const row = (run: string, targets: number, wallMs: number, transitions: number, cost: RoundedCost, month?: MonthlyCost) => [
    run,
    String(targets),
    s(wallMs),
    String(transitions),
    String(cost.invocations),
    cost.gbSeconds.toFixed(2),
    usd(cost.usd),
    month ? `$${month.usd.toFixed(4)}` : "",
    month ? `$${month.usdPerTarget.toFixed(5)}` : "",
  ];
  say(
    formatTable([
      ["run (sandbox wall: Waits compressed)", "targets", "wall s", "transitions", "invocations", "Lambda GB-s", "USD/run", `USD/month (×${check.checksPerMonth})`, "USD/target/month"],
      row("deploy (renewal)", 1, renewal.singleTargetWallMs, renewal.singleTargetTransitions, workflow.perRenewal1),
      row("deploy (renewal)", 20, renewal.wallMs, renewal.transitions, workflow.perRenewal20),
      row(`check ${check.singleTargetStatus === "SUCCEEDED" ? "" : `(${check.singleTargetStatus})`}`.trim(), 1, check.singleTargetWallMs, check.singleTargetTransitions, check.perRun, check.monthly),
      row(`check ${check.status === "SUCCEEDED" ? "" : `(${check.status})`}`.trim(), check.targets, check.wallMs, check.transitions, check.perRun20, check.monthly20),
    ]),
  );
  say(
    `check20:    ${check.ratio}× the check of one (medians of [${check.samplesMs.map(s).join(", ")}] and [${check.singleTargetSamplesMs.map(s).join(", ")}] s, ` +
      `MaxConcurrency ${check.maxConcurrency}); ${s(check.wallMs)} s vs the 20-target deploy's ${s(renewal.wallMs)} s; ` +
      `the bench process used ${(check.cpuMs / 1000).toFixed(1)} s CPU; ${check.retries} retries` +
      (workflow.coldInitIncluded ? "" : "; costs without cold init (--only workflow)") +
      (check.error ? `; ${check.error.slice(0, 300)}` : ""),
  );
}

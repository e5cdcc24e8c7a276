// The benchmark's pure calculations: statistics, cost estimates, polling bounds, scaling a single-target run to
// many targets, and table layout (test/unit/bench-math.test.ts). No timing happens here.
import { nextWaitSeconds } from "../../functions/lib/polling";
import type { Target } from "../../functions/lib/state";
import { PRICES } from "./targets";

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `numerator / denominator`, e.g. baseline ÷ ours: how many times better; 2 decimals. */
export function ratio(numerator: number, denominator: number): number {
  if (denominator <= 0) return Number.POSITIVE_INFINITY;
  return round(numerator / denominator, 2);
}

/** One Lambda invocation: GB-seconds at its memory, billed per started millisecond, plus the request charge. */
export function lambdaInvocationUsd(memoryMb: number, billedMs: number): number {
  return (memoryMb / 1024) * (Math.ceil(billedMs) / 1000) * PRICES.lambdaGbSecondUsd + PRICES.lambdaRequestUsd;
}

export function transitionsUsd(transitions: number): number {
  return transitions * PRICES.transitionUsd;
}

export interface Invocation {
  /** Function folder name, e.g. get-ingress-status. */
  fn: string;
  ms: number;
}

export interface CostInput {
  transitions: number;
  invocations: readonly Invocation[];
  memoryMb: (fn: string) => number;
  /** INIT duration of a new container (billed like invocation time for managed runtimes). */
  coldInitMs: (fn: string) => number;
  /** New containers per function during the run. */
  coldStarts: (fn: string) => number;
}

export interface CostEstimate {
  usd: number;
  transitionsUsd: number;
  lambdaUsd: number;
  invocations: number;
  gbSeconds: number;
}

export function estimateRunUsd(input: CostInput): CostEstimate {
  let lambdaUsd = 0;
  let gbSeconds = 0;
  const started = new Map<string, number>();
  for (const { fn, ms } of input.invocations) {
    const n = started.get(fn) ?? 0;
    started.set(fn, n + 1);
    const billedMs = ms + (n < input.coldStarts(fn) ? input.coldInitMs(fn) : 0);
    lambdaUsd += lambdaInvocationUsd(input.memoryMb(fn), billedMs);
    gbSeconds += (input.memoryMb(fn) / 1024) * (Math.ceil(billedMs) / 1000);
  }
  const tUsd = transitionsUsd(input.transitions);
  return { usd: tUsd + lambdaUsd, transitionsUsd: tUsd, lambdaUsd, invocations: input.invocations.length, gbSeconds };
}

/** The figures a run is billed on: state transitions, Lambda invocations (requests) and their GB-seconds. */
export interface BilledUsage {
  transitions: number;
  invocations: number;
  gbSeconds: number;
}

export interface MonthlyCost extends BilledUsage {
  runs: number;
  usd: number;
  transitionsUsd: number;
  lambdaUsd: number;
  /** usd ÷ targets: what one more checked target adds, the runs' fixed steps shared out. */
  usdPerTarget: number;
}

/**
 * A month of `runsPerMonth` identical runs (a daily check: CHECKS_PER_MONTH), priced from the billed figures of one
 * run at PRICES; `targets` is how many targets each run covers. AWS's free tier is not subtracted: an account
 * running anything else has usually spent it.
 */
export function monthlyCost(run: BilledUsage, runsPerMonth: number, targets: number): MonthlyCost {
  const transitions = run.transitions * runsPerMonth;
  const invocations = run.invocations * runsPerMonth;
  const gbSeconds = run.gbSeconds * runsPerMonth;
  const tUsd = transitionsUsd(transitions);
  const lambdaUsd = gbSeconds * PRICES.lambdaGbSecondUsd + invocations * PRICES.lambdaRequestUsd;
  const usd = tUsd + lambdaUsd;
  return { runs: runsPerMonth, transitions, invocations, gbSeconds, usd, transitionsUsd: tUsd, lambdaUsd, usdPerTarget: usd / Math.max(1, targets) };
}

/**
 * Polls started within `budgetSeconds` when no address ever appears: each poll holds its watch for
 * `watchSeconds` (plus `pollLatencySeconds` of invoke and API time), then the Wait state sleeps nextWaitSeconds.
 */
export function pollsWithin(budgetSeconds: number, watchSeconds: number, pollLatencySeconds = 0): number {
  let polls = 0;
  for (let t = 0; t < budgetSeconds; t += watchSeconds + pollLatencySeconds + nextWaitSeconds(polls)) polls++;
  return polls;
}

/** The longest Wait between two of `maxPolls` polls (waits follow polls 1 … maxPolls-1). */
export function longestWaitSeconds(maxPolls: number): number {
  let longest = 0;
  for (let n = 1; n < maxPolls; n++) longest = Math.max(longest, nextWaitSeconds(n));
  return longest;
}

/**
 * Worst case from an address appearing to the workflow noticing it. While a poll holds its watch the address is
 * seen at once; the worst moment is just as a Wait starts: the whole Wait, then the next poll's start-up.
 */
export function maxDetectSeconds(longestWait: number, pollStartLatencySeconds: number): number {
  return longestWait + pollStartLatencySeconds;
}

/**
 * `count` targets from one: the first is `target` itself; the others get their own Milvus Service, Ingress and
 * host (`<name>-02`, `<first-label>-02.<rest of host>`), as 20 Milvus endpoints sharing one certificate would.
 */
export function expandTargets<T extends Pick<Target, "ingress" | "service">>(target: T, count: number): T[] {
  return Array.from({ length: count }, (_, i) => {
    if (i === 0) return target;
    const suffix = String(i + 1).padStart(2, "0");
    const [label, ...rest] = target.ingress.host.split(".");
    return {
      ...target,
      service: { ...target.service, name: `${target.service.name}-${suffix}` },
      ingress: { ...target.ingress, name: `${target.ingress.name}-${suffix}`, host: [`${label}-${suffix}`, ...rest].join(".") },
    };
  });
}

/**
 * The invocations of an n-target run built from a single-target run: the steps before the Map once, the
 * per-target steps n times, each with the single run's (uncontended) duration.
 */
export function scaleInvocations(single: readonly Invocation[], outsideMap: ReadonlySet<string>, targets: number): Invocation[] {
  const before = single.filter((i) => outsideMap.has(i.fn));
  const perTarget = single.filter((i) => !outsideMap.has(i.fn));
  return [...before, ...Array.from({ length: targets }, () => perTarget).flat()];
}

/**
 * An n-target run's own invocations, each at the median duration its function had in a single-target run (the
 * uncontended one; a function the single run never called keeps its own duration). For runs where one function
 * serves states both outside and inside the Map — the check's record-check is RecordCheck per target and
 * SummariseCheck once, its import-certificate is also the deployment's top-level ImportCertificate — so that
 * scaleInvocations' split by function name would count them wrong.
 */
export function atSingleRunDurations(many: readonly Invocation[], single: readonly Invocation[]): Invocation[] {
  const medians = new Map<string, number>();
  for (const fn of new Set(single.map((i) => i.fn))) medians.set(fn, median(single.filter((i) => i.fn === fn).map((i) => i.ms)));
  return many.map((i) => ({ fn: i.fn, ms: medians.get(i.fn) ?? i.ms }));
}

/**
 * State transitions of an n-target run from a single-target run's StateEntered events: those outside the Map
 * (no iteration index) once, those inside n times.
 */
export function scaleTransitions(entered: readonly { index?: number }[], targets: number): number {
  const inside = entered.filter((e) => e.index !== undefined).length;
  return entered.length - inside + targets * inside;
}

/** Count and median duration per function. */
export function summariseInvocations(invocations: readonly Invocation[]): Record<string, { count: number; medianMs: number }> {
  const byFn = new Map<string, number[]>();
  for (const { fn, ms } of invocations) byFn.set(fn, [...(byFn.get(fn) ?? []), ms]);
  return Object.fromEntries([...byFn.entries()].sort().map(([fn, ms]) => [fn, { count: ms.length, medianMs: round(median(ms)) }]));
}

/**
 * Wall-time ratio of an n-target run to a single-target run if every invocation had its own Lambda: the steps
 * before the Map, then ceil(n / maxConcurrency) waves of the per-target chain.
 */
export function independentLambdasRatio(beforeMapMs: number, perTargetMs: number, targets: number, maxConcurrency: number): number {
  const waves = Math.ceil(targets / Math.max(1, maxConcurrency || targets));
  return ratio(beforeMapMs + waves * perTargetMs, beforeMapMs + perTargetMs);
}

/** Left-aligned first column, right-aligned others. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "))
    .join("\n");
}

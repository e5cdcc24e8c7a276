// Progress of a workflow run, for people watching a long wait: which step each target is in, how many address
// polls, the controller's latest Warning, retries, elapsed time. Two sources feed the same model:
//   - aws-local-stepfunctions' event log (`milvus-l7 run` and `demo`), via fromLocalEvent;
//   - Step Functions' GetExecutionHistory (`milvus-l7 status`), via fromHistory.
// Everything here is a pure function of those events, except ProgressPrinter at the end (the one place that
// writes, and owns the heartbeat timer).
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import type { EventLog } from "../statemachine/runner";
import type { TargetSummary } from "../functions/lib/state";

// ---------------------------------------------------------------------------------------------------------------
// One model of "something happened", whichever source it came from.

export type StepEvent =
  | { kind: "entered"; at: number; state: string; stateType: string; index?: number; input?: unknown }
  | { kind: "exited"; at: number; state: string; stateType: string; index?: number; output?: unknown }
  /** One attempt of a state failed: a retry (after its backoff) or a Catch follows, or the execution fails. */
  | { kind: "failed"; at: number; state: string; index?: number; error: string; cause: string }
  | { kind: "retried"; at: number; state: string; index?: number; attempt: number }
  /** One target's path (a Map iteration) ended. */
  | { kind: "iterationEnded"; at: number; index: number; succeeded: boolean }
  | { kind: "started"; at: number }
  | { kind: "ended"; at: number; status: EndStatus; error?: string; cause?: string };

export type EndStatus = "SUCCEEDED" | "FAILED" | "ABORTED" | "TIMED_OUT";

const causeText = (cause: unknown): string => (typeof cause === "string" ? cause : cause === undefined ? "" : JSON.stringify(cause));

/** An aws-local-stepfunctions event → a StepEvent (undefined for the ones progress ignores). */
export function fromLocalEvent(e: EventLog): StepEvent | undefined {
  const index = "index" in e && typeof e.index === "number" && e.type.startsWith("State") ? e.index : undefined;
  const where = index === undefined ? {} : { index };
  switch (e.type) {
    case "ExecutionStarted":
      return { kind: "started", at: e.timestamp };
    case "StateEntered":
      return { kind: "entered", at: e.timestamp, state: e.state.name, stateType: e.state.type, input: e.state.input, ...where };
    case "StateExited":
      return { kind: "exited", at: e.timestamp, state: e.state.name, stateType: e.state.type, output: e.state.output, ...where };
    case "StateFailed":
      return { kind: "failed", at: e.timestamp, state: e.state.name, error: e.Error, cause: causeText(e.Cause), ...where };
    case "StateRetried":
      return { kind: "retried", at: e.timestamp, state: e.state.name, attempt: e.retry.attempt, ...where };
    case "MapIterationSucceeded":
    case "MapIterationFailed":
      return { kind: "iterationEnded", at: e.timestamp, index: e.index, succeeded: e.type === "MapIterationSucceeded" };
    case "ExecutionSucceeded":
      return { kind: "ended", at: e.timestamp, status: "SUCCEEDED" };
    case "ExecutionFailed":
      return { kind: "ended", at: e.timestamp, status: "FAILED", error: e.Error, cause: causeText(e.Cause) };
    case "ExecutionAborted":
      return { kind: "ended", at: e.timestamp, status: "ABORTED" };
    case "ExecutionTimeout":
      return { kind: "ended", at: e.timestamp, status: "TIMED_OUT", error: "States.Timeout" };
    default:
      return undefined;
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const ITERATION_ENDS = new Set(["MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"]);

/** The failure details of a task attempt, whichever integration reported it. */
function attemptFailure(e: HistoryEvent): { error?: string; cause?: string } | undefined {
  return (
    e.lambdaFunctionFailedEventDetails ??
    e.lambdaFunctionTimedOutEventDetails ??
    e.lambdaFunctionScheduleFailedEventDetails ??
    e.lambdaFunctionStartFailedEventDetails ??
    e.taskFailedEventDetails ??
    e.taskTimedOutEventDetails ??
    e.taskStartFailedEventDetails ??
    e.taskSubmitFailedEventDetails
  );
}

/** A Lambda error's Cause is the runtime's JSON (`{"errorType","errorMessage","trace"}`); people want the message. */
export function readableCause(cause: string): string {
  const parsed = parseJson(cause) as { errorMessage?: unknown } | undefined;
  return typeof parsed === "object" && parsed !== null && typeof parsed.errorMessage === "string" ? parsed.errorMessage : cause;
}

const ATTEMPT_FAILED = new Set([
  "LambdaFunctionFailed",
  "LambdaFunctionTimedOut",
  "LambdaFunctionScheduleFailed",
  "LambdaFunctionStartFailed",
  "TaskFailed",
  "TaskTimedOut",
  "TaskStartFailed",
  "TaskSubmitFailed",
]);
const ATTEMPT_SCHEDULED = new Set(["LambdaFunctionScheduled", "TaskScheduled"]);

/**
 * Step Functions history (in any order, several pages concatenated) → StepEvents in event order. Events inside a
 * Map iteration carry no index, so it is followed back through `previousEventId` to the MapIterationStarted.
 * History has no retry event: a task attempt scheduled again in the same state is one.
 */
export function fromHistory(history: readonly HistoryEvent[]): StepEvent[] {
  const events = [...history].filter((e) => typeof e.id === "number").sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const byId = new Map(events.map((e) => [e.id as number, e]));
  const iteration = new Map<number, number | undefined>();
  const indexOf = (e: HistoryEvent): number | undefined => {
    const details = e.mapIterationStartedEventDetails ?? e.mapIterationSucceededEventDetails ?? e.mapIterationFailedEventDetails ?? e.mapIterationAbortedEventDetails;
    if (typeof details?.index === "number") return details.index;
    const previous = e.previousEventId ? byId.get(e.previousEventId) : undefined;
    if (!previous || ITERATION_ENDS.has(previous.type ?? "")) return undefined;
    return iteration.get(previous.id as number);
  };
  // Per iteration (or "main"): the state entered last and its attempts so far.
  const current = new Map<string, { state: string; attempts: number }>();
  const out: StepEvent[] = [];
  for (const e of events) {
    const index = indexOf(e);
    iteration.set(e.id as number, index);
    const at = e.timestamp instanceof Date ? e.timestamp.getTime() : 0;
    const type = e.type ?? "";
    const where = index === undefined ? {} : { index };
    const key = index === undefined ? "main" : String(index);
    if (type === "ExecutionStarted") {
      out.push({ kind: "started", at });
    } else if ((type === "MapIterationSucceeded" || type === "MapIterationFailed" || type === "MapIterationAborted") && index !== undefined) {
      out.push({ kind: "iterationEnded", at, index, succeeded: type === "MapIterationSucceeded" });
    } else if (type.endsWith("StateEntered") && e.stateEnteredEventDetails?.name) {
      const state = e.stateEnteredEventDetails.name;
      current.set(key, { state, attempts: 0 });
      out.push({ kind: "entered", at, state, stateType: type.slice(0, -"StateEntered".length), input: parseJson(e.stateEnteredEventDetails.input), ...where });
    } else if (type.endsWith("StateExited") && e.stateExitedEventDetails?.name) {
      const state = e.stateExitedEventDetails.name;
      out.push({ kind: "exited", at, state, stateType: type.slice(0, -"StateExited".length), output: parseJson(e.stateExitedEventDetails.output), ...where });
    } else if (ATTEMPT_SCHEDULED.has(type)) {
      const c = current.get(key);
      if (c) {
        c.attempts += 1;
        if (c.attempts > 1) out.push({ kind: "retried", at, state: c.state, attempt: c.attempts - 1, ...where });
      }
    } else if (ATTEMPT_FAILED.has(type)) {
      const c = current.get(key);
      const details = attemptFailure(e);
      out.push({ kind: "failed", at, state: c?.state ?? "(task)", error: details?.error ?? type, cause: readableCause(details?.cause ?? ""), ...where });
    } else if (type === "ExecutionSucceeded") {
      out.push({ kind: "ended", at, status: "SUCCEEDED" });
    } else if (type === "ExecutionFailed") {
      const d = e.executionFailedEventDetails;
      out.push({ kind: "ended", at, status: "FAILED", error: d?.error, cause: d?.cause === undefined ? undefined : readableCause(d.cause) });
    } else if (type === "ExecutionAborted") {
      const d = e.executionAbortedEventDetails;
      out.push({ kind: "ended", at, status: "ABORTED", error: d?.error, cause: d?.cause });
    } else if (type === "ExecutionTimedOut") {
      const d = e.executionTimedOutEventDetails;
      out.push({ kind: "ended", at, status: "TIMED_OUT", error: d?.error ?? "States.Timeout", cause: d?.cause });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The model.

/** Where one path of the workflow is: the top level, or one target (Map iteration). */
export interface PathProgress {
  step: string;
  stepType: string;
  enteredAt: number;
  /** get-ingress-status polls so far, and the budget. */
  polls: number;
  maxPolls?: number;
  /** The ALB hostname once published. */
  address?: string;
  /** The controller's latest Warning event on the Ingress, as `Reason: message`. */
  latestWarning?: string;
  /** Seconds the current Wait state lasts (WaitForAddress). */
  waitSeconds?: number;
  retries: number;
  /** Between a failed attempt and what follows it (a retry after its backoff, a Catch, or the end). */
  failing?: { error: string; cause: string; at: number };
  /** The target's path (Map iteration) has ended. */
  finished?: boolean;
}

export interface Progress {
  startedAt: number;
  /** Time of the latest event. */
  at: number;
  status: "RUNNING" | EndStatus;
  /** Top-level states (ResolveRequest, ImportCertificate, DeployTargets …). */
  main?: PathProgress;
  /** Per target index, the states inside DeployTargets. */
  targets: Record<string, PathProgress>;
  retries: number;
  transitions: number;
  error?: string;
  cause?: string;
}

export function initialProgress(startedAt: number): Progress {
  return { startedAt, at: startedAt, status: "RUNNING", targets: {}, retries: 0, transitions: 0 };
}

type Json = Record<string, unknown> | undefined;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The latest controller Warning in a get-ingress-status result, as `Reason: message`. */
export function latestWarningOf(ingress: unknown): string | undefined {
  const warnings = obj(ingress)?.warnings;
  if (!Array.isArray(warnings)) return undefined;
  const last = obj(warnings.at(-1));
  if (!last) return undefined;
  const reason = str(last.reason) ?? "Warning";
  return str(last.message) ? `${reason}: ${last.message}` : reason;
}

/** Folds one event into the progress; returns a new object and leaves the old one as it was. */
export function applyStepEvent(p: Progress, ev: StepEvent): Progress {
  const next: Progress = { ...p, at: Math.max(p.at, ev.at), targets: { ...p.targets } };
  const key = "index" in ev && ev.index !== undefined ? String(ev.index) : undefined;
  const get = (): PathProgress | undefined => (key === undefined ? next.main : next.targets[key]);
  const set = (path: PathProgress) => {
    if (key === undefined) next.main = path;
    else next.targets[key] = path;
  };
  switch (ev.kind) {
    case "started":
      next.startedAt = ev.at;
      return next;
    case "entered": {
      next.transitions += 1;
      const before = get();
      const input = obj(ev.input);
      const path: PathProgress = {
        polls: 0,
        retries: 0,
        ...before,
        step: ev.state,
        stepType: ev.stateType,
        enteredAt: ev.at,
        failing: undefined,
        waitSeconds: undefined,
      };
      // The poll budget is in get-ingress-status's input; the Wait's length in the previous poll's result.
      const maxPolls = num(input?.maxPolls);
      if (maxPolls !== undefined) path.maxPolls = maxPolls;
      if (ev.stateType === "Wait") {
        const seconds = num(obj(input?.ingress)?.nextWaitSeconds);
        if (seconds !== undefined) path.waitSeconds = seconds;
      }
      set(path);
      return next;
    }
    case "exited": {
      const before = get();
      if (!before) return next;
      const path: PathProgress = { ...before, failing: undefined };
      const ingress = obj(obj(ev.output)?.ingress);
      if (ev.state === "GetIngressStatus" && ingress) {
        path.polls = num(ingress.polls) ?? path.polls + 1;
        const hostname = str(ingress.hostname);
        if (hostname) path.address = hostname;
        const warning = latestWarningOf(ingress);
        if (warning) path.latestWarning = warning;
        const maxPolls = num(obj(ev.output)?.maxPolls);
        if (maxPolls !== undefined) path.maxPolls = maxPolls;
      }
      set(path);
      return next;
    }
    case "failed": {
      const before = get();
      if (before) set({ ...before, failing: { error: ev.error, cause: ev.cause, at: ev.at } });
      return next;
    }
    case "iterationEnded": {
      const path = next.targets[String(ev.index)];
      if (path) next.targets[String(ev.index)] = { ...path, finished: true };
      return next;
    }
    case "retried": {
      next.retries += 1;
      const before = get();
      if (before) set({ ...before, retries: before.retries + 1, failing: undefined });
      return next;
    }
    case "ended":
      next.status = ev.status;
      if (ev.error !== undefined) next.error = ev.error;
      if (ev.cause !== undefined) next.cause = ev.cause;
      return next;
  }
}

/**
 * Whether an exit ends a failed attempt that no retry followed: the state's Catch took the error and the workflow
 * goes on along its failure path. aws-local-stepfunctions and Step Functions both log such a state as exited,
 * but a ✓ for it would read as success right after its ✗, so the printer shows no line for it.
 */
export function isCaughtExit(p: Progress, ev: StepEvent): boolean {
  if (ev.kind !== "exited") return false;
  const path = ev.index === undefined ? p.main : p.targets[String(ev.index)];
  return path?.failing !== undefined && path.step === ev.state;
}

export function progressOf(events: readonly StepEvent[], startedAt = events[0]?.at ?? 0): Progress {
  return events.reduce(applyStepEvent, initialProgress(startedAt));
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering.

/** 4.2s, 1m05s, 1h02m. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const clip = (text: string, max = 300) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

const targetTag = (index: number | undefined) => (index === undefined ? "" : ` [target ${index}]`);

/** What a Task's result says, in a few words (from the state's output, as the console shows it). */
export function exitDetail(state: string, output: unknown): string {
  const o = obj(output) ?? {};
  const part = (k: string) => obj(o[k]);
  switch (state) {
    case "ResolveRequest": {
      const targets = Array.isArray(o.targets) ? o.targets.length : undefined;
      const maxPolls = num(part("wait")?.maxPolls);
      return targets === undefined ? "" : ` — ${targets} target${targets === 1 ? "" : "s"}${maxPolls ? `, up to ${maxPolls} address polls each` : ""}`;
    }
    case "ImportCertificate": {
      const c = part("importedCertificate");
      return c ? ` — ${c.imported ? "imported" : "unchanged"} ${c.arn}` : "";
    }
    case "ClaimTarget": {
      const lease = part("lease");
      return lease ? ` — lease taken${str(lease.tookOverFrom) ? ` over from ${lease.tookOverFrom}` : ""}` : "";
    }
    case "ApplyIngress": {
      const i = part("ingress");
      return i ? ` — Ingress ${i.namespace}/${i.name} ${i.changed ? "applied" : "unchanged"}` : "";
    }
    case "GetIngressStatus": {
      const i = part("ingress");
      if (!i) return "";
      const polls = `poll ${i.polls}${num(o.maxPolls) ? `/${o.maxPolls}` : ""}`;
      const warning = latestWarningOf(i);
      const status = i.ready ? `address ${i.hostname}` : str(i.hostname) ? `address ${i.hostname}, controller still deploying` : "no address yet";
      return ` — ${polls}: ${status}${warning ? `; latest controller event: ${clip(warning, 200)}` : ""}`;
    }
    case "VerifyThroughAlb":
    case "VerifyAfterCutover": {
      const v = part("verification") ?? part("finalVerification");
      if (!v) return "";
      // An execution that verified before an upgrade has no list of addresses.
      const count = Array.isArray(v.addresses) ? v.addresses.length : undefined;
      const on = count ? ` on ${count} ${count === 1 ? "address" : "addresses"}` : "";
      return ` — Milvus ${v.milvusVersion}${on}, served SHA-256 ${v.servedFingerprint256}`;
    }
    case "CutOverFirst":
    case "CutOver": {
      const s = part("service");
      const via = s?.via === "milvus-operator" && str(s.field) ? ` through ${s.field}` : "";
      return s ? ` — Service ${s.previousType} → ${s.type}${via}` : "";
    }
    case "UpsertDns": {
      const d = part("dns");
      return d ? ` — ${d.changed ? `alias ${d.host} → ALB` : "no Route 53 zone: skipped"}` : "";
    }
    default:
      return "";
  }
}

/** One line per Task/Wait entry and exit, failed attempt, retry and end; undefined for the rest. */
export function describeStepEvent(ev: StepEvent, startedAt: number): string | undefined {
  const at = `${formatElapsed(ev.at - startedAt).padStart(7)}`;
  const where = "index" in ev ? targetTag(ev.index) : "";
  switch (ev.kind) {
    case "entered": {
      if (ev.stateType === "Task") return `${at}  ▶ ${ev.state}${where}`;
      if (ev.stateType === "Wait") {
        const seconds = num(obj(obj(ev.input)?.ingress)?.nextWaitSeconds);
        return `${at}  … ${ev.state}${where}${seconds !== undefined ? ` ${seconds} s` : ""}`;
      }
      return undefined;
    }
    case "exited":
      return ev.stateType === "Task" ? `${at}  ✓ ${ev.state}${where}${exitDetail(ev.state, ev.output)}` : undefined;
    case "failed":
      return `${at}  ✗ ${ev.state}${where}: ${ev.error}: ${clip(ev.cause)}`;
    case "retried":
      return `${at}  ↻ ${ev.state}${where} retry ${ev.attempt}`;
    case "ended":
      return ev.status === "SUCCEEDED"
        ? `${at}  ✓ execution succeeded`
        : `${at}  ✗ execution ${ev.status === "FAILED" ? "failed" : ev.status.toLowerCase().replace("_", " ")}${ev.error ? `: ${ev.error}` : ""}`;
    default:
      return undefined;
  }
}

/** describeStepEvent for an aws-local-stepfunctions event (what `demo` prints). */
export function describeEvent(event: EventLog, startedAt: number): string | undefined {
  const ev = fromLocalEvent(event);
  return ev ? describeStepEvent(ev, startedAt) : undefined;
}

function describePath(path: PathProgress, index: number | undefined, now: number): string {
  const parts = [`${path.step}${targetTag(index)}`];
  if (path.failing) parts.push(`attempt failed ${formatElapsed(now - path.failing.at)} ago (${path.failing.error}), retry pending`);
  else if (path.stepType === "Wait" && path.waitSeconds !== undefined) parts.push(`waiting ${path.waitSeconds} s before the next poll`);
  else parts.push(`for ${formatElapsed(now - path.enteredAt)}`);
  if (path.step === "GetIngressStatus" || path.step === "WaitForAddress") {
    parts.push(`poll ${path.polls + (path.step === "GetIngressStatus" ? 1 : 0)}${path.maxPolls ? `/${path.maxPolls}` : ""}`);
    parts.push(path.address ? `address ${path.address}` : "no address yet");
  }
  if (path.latestWarning) parts.push(`latest controller event: ${clip(path.latestWarning, 160)}`);
  if (path.retries > 0) parts.push(`${path.retries} retr${path.retries === 1 ? "y" : "ies"}`);
  return parts.join(" · ");
}

const MAX_TARGETS_SHOWN = 3;

/** Where each active path is, on one line: step, time in it or the wait, polls, address, latest warning, retries. */
export function activityLine(p: Progress, now: number): string {
  if (p.status !== "RUNNING") return `${p.status}${p.error ? `: ${p.error}` : ""}`;
  const active = Object.entries(p.targets)
    .filter(([, t]) => !t.finished)
    .sort(([a], [b]) => Number(a) - Number(b));
  if (active.length === 0) return p.main ? describePath(p.main, undefined, now) : "starting";
  const parts = active.slice(0, MAX_TARGETS_SHOWN).map(([index, path]) => describePath(path, Number(index), now));
  if (active.length > MAX_TARGETS_SHOWN) parts.push(`+${active.length - MAX_TARGETS_SHOWN} more targets`);
  return parts.join(" | ");
}

/** The heartbeat: elapsed time, then activityLine. */
export function progressLine(p: Progress, now: number): string {
  const elapsed = formatElapsed(now - p.startedAt).padStart(7);
  return p.status === "RUNNING" ? `${elapsed}  ⏳ ${activityLine(p, now)}` : `${elapsed}  ${activityLine(p, now)}`;
}

/** The step a person would name: the latest state entered, anywhere. */
export function currentStepOf(p: Progress): string | undefined {
  const paths = [p.main, ...Object.values(p.targets)].filter((x): x is PathProgress => x !== undefined);
  return paths.sort((a, b) => b.enteredAt - a.enteredAt)[0]?.step;
}

/** Totals over every target, for summaries: polls, the latest controller warning seen anywhere. */
export function pollTotals(p: Progress): { polls: number; latestWarning?: string } {
  const paths = Object.values(p.targets);
  const warned = paths.filter((t) => t.latestWarning).sort((a, b) => b.enteredAt - a.enteredAt)[0];
  return { polls: paths.reduce((n, t) => n + t.polls, 0), ...(warned?.latestWarning ? { latestWarning: warned.latestWarning } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// The printer: event lines as they happen, plus a heartbeat while nothing happens (a held watch, a Wait, a retry
// backoff). On a terminal the heartbeat is one line rewritten in place; elsewhere (CI logs, a pipe) it is a full
// line every `heartbeatMs` of silence.

export interface ProgressPrinterOptions {
  write: (text: string) => void;
  /** Rewrite the heartbeat in place (stdout is a terminal). */
  interactive: boolean;
  /** Terminal width, for the in-place line. */
  columns?: number;
  /** Silence before a heartbeat line when not interactive (default 30 s); the in-place line ticks every second. */
  heartbeatMs?: number;
  now?: () => number;
}

export class ProgressPrinter {
  private progress: Progress;
  private lastWriteAt: number;
  private statusShown = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly opts: ProgressPrinterOptions,
    startedAt = (opts.now ?? Date.now)(),
  ) {
    this.now = opts.now ?? Date.now;
    this.progress = initialProgress(startedAt);
    this.lastWriteAt = this.now();
  }

  get current(): Progress {
    return this.progress;
  }

  /** Starts the heartbeat; stop() ends it. */
  start(): this {
    const every = this.opts.interactive ? 1000 : Math.min(this.opts.heartbeatMs ?? 30_000, 5_000);
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    return this;
  }

  onEvent(ev: StepEvent): void {
    const caught = isCaughtExit(this.progress, ev);
    this.progress = applyStepEvent(this.progress, ev);
    const line = caught ? undefined : describeStepEvent(ev, this.progress.startedAt);
    if (line) this.line(line);
  }

  onLocalEvent(event: EventLog): void {
    const ev = fromLocalEvent(event);
    if (ev) this.onEvent(ev);
  }

  /** Prints a line of its own (above the in-place heartbeat). */
  line(text: string): void {
    this.clearStatus();
    this.opts.write(`${text}\n`);
    this.lastWriteAt = this.now();
  }

  tick(): void {
    if (this.progress.status !== "RUNNING") return;
    const now = this.now();
    const text = progressLine(this.progress, now);
    if (this.opts.interactive) {
      const width = Math.max(20, (this.opts.columns ?? 120) - 1);
      this.opts.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.statusShown = true;
    } else if (now - this.lastWriteAt >= (this.opts.heartbeatMs ?? 30_000)) {
      this.opts.write(`${text}\n`);
      this.lastWriteAt = now;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearStatus();
  }

  private clearStatus(): void {
    if (this.statusShown) this.opts.write("\r\x1b[2K");
    this.statusShown = false;
  }
}

/** The lines of a finished run's summary (demo and run): status, certificate, then each target's result. */
export function summaryLines(s: {
  status: string;
  certificateArn?: string;
  certificateImported?: boolean;
  targets: readonly TargetSummary[];
  error?: string;
  cause?: string;
}): string[] {
  const lines = ["", `status:        ${s.status}`];
  if (s.certificateArn) lines.push(`certificate:   ${s.certificateArn}${s.certificateImported ? " (imported)" : " (unchanged)"}`);
  for (const t of s.targets) {
    lines.push(
      `target:        ${t.host}  (${t.namespace}/${t.service}, Ingress ${t.ingress})`,
      `  ALB:         ${t.albHostname} (${t.addressesVerified} ${t.addressesVerified === 1 ? "address" : "addresses"} verified)`,
      `  served cert: SHA-256 ${t.servedFingerprint256}, valid until ${t.servedNotAfter}`,
      `  Milvus:      ${t.milvusVersion}`,
      // Absent in the summaries of runs made before it was recorded (status of an old execution).
      `  Milvus auth: ${t.milvusAuth ?? "not recorded"}`,
      `  Service:     ${t.previousServiceType} → ${t.serviceType}`,
      ...t.warnings.map((w) => `  warning:     ${w}`),
    );
  }
  if (s.error) lines.push(`error:         ${s.error}: ${s.cause}`);
  return lines;
}

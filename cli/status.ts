// `milvus-l7 status <id-or-arn>`: an execution of the deployed state machine — DescribeExecution for its status,
// GetExecutionHistory for where it is (current step per target, address polls, the controller's latest Warning,
// retries). `--watch` polls until it ends, printing each step as it happens and a heartbeat in between.
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { executionArnFor } from "../functions/api/core";
import {
  type PathProgress,
  type Progress,
  ProgressPrinter,
  type StepEvent,
  formatElapsed,
  fromHistory,
  pollTotals,
  activityLine,
  progressOf,
  readableCause,
} from "./progress";
import type { CliIo } from "./io";
import {
  EXECUTION_ARN,
  EXECUTION_NAME,
  STATE_MACHINE_ARN,
  STATE_MACHINE_ENV,
  type SfnInjections,
  awsProblem,
  defaultSfn,
  sfnWithoutCredentials,
  stateMachineFrom,
} from "./stack";

export const STATUS_USAGE = `usage: milvus-l7 status <execution-name-or-arn> [options]

Shows an execution of the deployed milvus-l7 state machine: its status, the current step of each target,
address polls and the controller's latest event.

  --state-machine <arn>  the state machine, to find an execution by name (default: $${STATE_MACHINE_ENV});
                         not needed with an execution ARN
  --watch                follow the execution until it ends
  --interval <seconds>   seconds between polls with --watch (default 5)
  --quiet                print only the final line
  --json                 print only a JSON summary

Exit status: 0 succeeded (or still running, without --watch), 1 failed/timed out/aborted or AWS error,
2 usage, 3 no such execution.`;

export interface TargetStatus {
  index: number;
  step: string;
  polls: number;
  maxPolls?: number;
  address?: string;
  latestControllerEvent?: string;
  retries: number;
  finished: boolean;
}

export interface StatusSummary {
  executionArn: string;
  name: string;
  status: string;
  startDate: string;
  stopDate?: string;
  elapsedMs: number;
  /** The state entered last (newest history event), while running. */
  currentStep?: string;
  targets: TargetStatus[];
  polls: number;
  latestControllerEvent?: string;
  retries: number;
  output?: unknown;
  error?: string;
  cause?: string;
}

export interface StatusInjections extends SfnInjections {
  /** Milliseconds between polls with --watch (overrides --interval). */
  pollMs?: number;
  now?: () => number;
  signal?: AbortSignal;
}

/** Step Functions keeps at most 25,000 events per execution; 1,000 a page. */
const HISTORY_PAGE = 1000;
const HISTORY_PAGES = 26;

/** The whole history, oldest first, with execution data (the polls and warnings are in the states' outputs). */
export async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: HISTORY_PAGE, includeExecutionData: true, nextToken }),
    );
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return events;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const targetStatus = ([index, t]: [string, PathProgress]): TargetStatus => ({
  index: Number(index),
  step: t.step,
  polls: t.polls,
  ...(t.maxPolls !== undefined ? { maxPolls: t.maxPolls } : {}),
  ...(t.address ? { address: t.address } : {}),
  ...(t.latestWarning ? { latestControllerEvent: t.latestWarning } : {}),
  retries: t.retries,
  finished: t.finished ?? false,
});

/** The summary from DescribeExecution (the status's authority) and the history's progress. */
export function summariseStatus(
  described: DescribeExecutionCommandOutput,
  events: readonly StepEvent[],
  progress: Progress,
  now: number,
): StatusSummary {
  const status = described.status ?? "UNKNOWN";
  const start = described.startDate instanceof Date ? described.startDate.getTime() : progress.startedAt;
  const stop = described.stopDate instanceof Date ? described.stopDate.getTime() : undefined;
  const totals = pollTotals(progress);
  const current = events.filter((e) => e.kind === "entered").at(-1);
  const summary: StatusSummary = {
    executionArn: described.executionArn ?? "",
    name: described.name ?? "",
    status,
    startDate: new Date(start).toISOString(),
    ...(stop !== undefined ? { stopDate: new Date(stop).toISOString() } : {}),
    elapsedMs: (stop ?? now) - start,
    ...(status === "RUNNING" && current && "state" in current ? { currentStep: current.state } : {}),
    targets: Object.entries(progress.targets)
      .map(targetStatus)
      .sort((a, b) => a.index - b.index),
    polls: totals.polls,
    ...(totals.latestWarning ? { latestControllerEvent: totals.latestWarning } : {}),
    retries: progress.retries,
  };
  if (described.output !== undefined) summary.output = parseJson(described.output);
  if (described.error) summary.error = described.error;
  if (described.cause) summary.cause = readableCause(described.cause);
  return summary;
}

/** The one line `--quiet` prints (and the last line otherwise). */
export function finalStatusLine(s: StatusSummary): string {
  const took = formatElapsed(s.elapsedMs);
  switch (s.status) {
    case "RUNNING":
      return `RUNNING for ${took}${s.currentStep ? `, at ${s.currentStep}` : ""}`;
    case "SUCCEEDED": {
      const targets = (s.output as { targets?: { host?: string; albHostname?: string }[] } | undefined)?.targets ?? [];
      const served = targets.map((t) => `https://${t.host} → ${t.albHostname}`).join(", ");
      return `SUCCEEDED in ${took}${served ? `: ${served}` : ""}`;
    }
    default:
      return `${s.status} after ${took}${s.error ? `: ${s.error}` : ""}${s.cause ? `: ${s.cause}` : ""}`;
  }
}

function printStatus(s: StatusSummary, progress: Progress, now: number, print: (line: string) => void) {
  print(`execution:   ${s.executionArn}`);
  print(`status:      ${s.status}${s.status === "RUNNING" ? ` (for ${formatElapsed(s.elapsedMs)})` : ""}`);
  print(`started:     ${s.startDate}${s.stopDate ? `, ended ${s.stopDate}` : ""}`);
  if (s.status === "RUNNING") {
    if (s.currentStep) print(`step:        ${s.currentStep}`);
    // Per target while the Map runs (the top level is the step above).
    if (s.targets.some((t) => !t.finished)) print(`progress:    ${activityLine(progress, now)}`);
  }
  for (const t of s.targets) {
    const parts = [`${t.step}${t.finished ? " (done)" : ""}`];
    if (t.polls) parts.push(`${t.polls}${t.maxPolls ? `/${t.maxPolls}` : ""} polls`);
    if (t.address) parts.push(`address ${t.address}`);
    if (t.retries) parts.push(`${t.retries} retries`);
    print(`target ${t.index}:    ${parts.join(" · ")}`);
    if (t.latestControllerEvent) print(`  controller: ${t.latestControllerEvent}`);
  }
  if (s.error) print(`error:       ${s.error}: ${s.cause ?? ""}`);
  if (s.status === "SUCCEEDED" && s.output !== undefined) print(`output:      ${JSON.stringify(s.output)}`);
}

const STATUS_OPTIONS = {
  "state-machine": { type: "string" },
  watch: { type: "boolean", default: false },
  interval: { type: "string" },
  quiet: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

export async function statusCommand(args: readonly string[], io: CliIo, inject: StatusInjections = {}): Promise<number> {
  const now = inject.now ?? Date.now;
  const usage = (message: string) => {
    io.stderr(`milvus-l7 status: ${message}\n${STATUS_USAGE}\n`);
    return 2;
  };
  const fail = (message: string, code = 1) => {
    io.stderr(`milvus-l7 status: ${message}\n`);
    return code;
  };
  let values: { "state-machine"?: string; watch?: boolean; interval?: string; quiet?: boolean; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: STATUS_OPTIONS }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    io.stdout(`${STATUS_USAGE}\n`);
    return 0;
  }
  const [id] = positionals;
  if (positionals.length !== 1 || !id) return usage("expected one execution name or ARN");
  if (values.quiet && values.json) return usage("--quiet and --json exclude each other");
  const intervalSeconds = values.interval === undefined ? 5 : Number(values.interval);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1) return usage("--interval must be a number of seconds, at least 1");

  let executionArn: string;
  let region: string;
  const byArn = EXECUTION_ARN.exec(id);
  if (byArn?.[1]) {
    executionArn = id;
    region = byArn[1];
  } else if (id.startsWith("arn:")) {
    return usage(`${id} is not an execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)`);
  } else {
    if (!EXECUTION_NAME.test(id)) return usage("an execution name is 1-80 letters, digits, '-' and '_'");
    const stateMachineArn = stateMachineFrom(values["state-machine"], inject.env ?? process.env);
    if (!stateMachineArn) return usage(`to find ${id} by name, name the state machine with --state-machine <arn> or ${STATE_MACHINE_ENV}, or pass the execution ARN`);
    const smRegion = STATE_MACHINE_ARN.exec(stateMachineArn)?.[1];
    if (!smRegion) return usage(`${stateMachineArn} is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
    executionArn = executionArnFor(stateMachineArn, id);
    region = smRegion;
  }
  const sfn = (inject.sfn ?? defaultSfn)(region);
  const noCredentials = await sfnWithoutCredentials(sfn);
  if (noCredentials) return fail(noCredentials);
  const showProgress = !values.quiet && !values.json;
  const print = (line: string) => io.stdout(`${line}\n`);

  const look = async (): Promise<{ described: DescribeExecutionCommandOutput; events: StepEvent[] } | number> => {
    let described: DescribeExecutionCommandOutput;
    try {
      described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    } catch (e) {
      if ((e as { name?: unknown }).name === "ExecutionDoesNotExist") {
        return fail(`there is no execution ${executionArn} (check the name, the state machine, the account and the region)`, 3);
      }
      return fail(awsProblem(e, `states:DescribeExecution on ${executionArn}`));
    }
    try {
      return { described, events: fromHistory(await readHistory(sfn, executionArn)) };
    } catch (e) {
      // The status matters more than the step: go on without the history, and say why.
      if (showProgress) io.stderr(`milvus-l7 status: no progress details: ${awsProblem(e, `states:GetExecutionHistory on ${executionArn}`)}\n`);
      return { described, events: [] };
    }
  };

  let seen = await look();
  if (typeof seen === "number") return seen;
  const startedAt = seen.described.startDate instanceof Date ? seen.described.startDate.getTime() : now();
  // DescribeExecution decides the status; the history's own end event is not replayed as progress.
  const progressEvents = (events: StepEvent[]) => events.filter((e) => e.kind !== "ended");

  if (values.watch && seen.described.status === "RUNNING") {
    const printer = new ProgressPrinter(
      { write: showProgress ? io.stdout : () => undefined, interactive: showProgress && (io.interactive ?? false), columns: io.columns, now },
      startedAt,
    );
    if (showProgress) print(`Following ${executionArn} (every ${intervalSeconds} s; Ctrl-C stops watching, not the execution)`);
    let printed = 0;
    const feed = (events: StepEvent[]) => {
      const shown = progressEvents(events);
      for (const ev of shown.slice(printed)) printer.onEvent(ev);
      printed = Math.max(printed, shown.length);
    };
    feed(seen.events);
    if (showProgress) printer.start();
    try {
      while (seen.described.status === "RUNNING" && !inject.signal?.aborted) {
        await sleep(inject.pollMs ?? intervalSeconds * 1000, undefined, inject.signal ? { signal: inject.signal } : undefined).catch(() => undefined);
        if (inject.signal?.aborted) break;
        const next = await look();
        if (typeof next === "number") return next;
        seen = next;
        feed(seen.events);
      }
    } finally {
      printer.stop();
    }
  }

  const progress = progressOf(progressEvents(seen.events), startedAt);
  const summary = summariseStatus(seen.described, seen.events, progress, now());
  if (values.json) io.stdout(`${JSON.stringify(summary)}\n`);
  else if (values.quiet) print(finalStatusLine(summary));
  else {
    if (!values.watch) printStatus(summary, progress, now(), print);
    else print("");
    print(finalStatusLine(summary));
  }
  // RUNNING after --watch only when the watch itself was stopped.
  return summary.status === "SUCCEEDED" || summary.status === "RUNNING" ? 0 : 1;
}

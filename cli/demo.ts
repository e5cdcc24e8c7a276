// `milvus-l7 demo`: the real ASL and the real handlers against the local sandbox, step by step, then a summary of
// each run. What the demo shows is a scenario (sandbox/scenarios): a first deployment by default, or a renewal,
// a rollback, a rejected request, a deployment with DNS.
import { parseArgs } from "node:util";
import type { TargetSummary } from "../functions/lib/state";
import type { Sandbox } from "../sandbox";
import { DEFAULT_SCENARIO, type IngressState, SCENARIOS, type ScenarioContext, type ScenarioRun, findScenario } from "../sandbox/scenarios";
import type { CliIo } from "./io";
import { ProgressPrinter, formatElapsed, summaryLines } from "./progress";

const scenarioList = () => {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  return SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`).join("\n");
};

export const demoUsage = () => `usage: milvus-l7 demo [--scenario NAME] [--json] [--verbose]
       milvus-l7 demo --list

Runs the workflow — the real state machine definition and step code — end to end in a local sandbox: moto for
AWS, and stand-ins for the Kubernetes API, the AWS Load Balancer Controller with its ALB, and Milvus. Needs
moto_server on PATH (pip install "moto[server]").

  --scenario NAME  what to show (default: ${DEFAULT_SCENARIO})
  --list           print every scenario with what it shows
  --json           print only a JSON summary on stdout
  --verbose        also copy the steps' logs to stderr

Scenarios:
${scenarioList()}

Exit status: 0 the scenario's last run succeeded, 1 it failed (also where that is the scenario's point), 2 usage.`;

/** One run of a scenario, as `--json` prints it. */
export interface DemoRunSummary {
  label: string;
  status: ScenarioRun["run"]["status"];
  executionArn: string;
  certificateArn?: string;
  certificateImported?: boolean;
  targets: TargetSummary[];
  /** The live Service type in the sandbox's apiserver after the run (not the workflow's own claim). */
  serviceTypeInCluster?: string;
  /** The demo's Ingress after the run: present, deleting (the controller still removing its ALB) or absent. */
  ingressInCluster: IngressState;
  /** What milvus-l7 wrote to the cluster during the run. */
  changesInCluster: string[];
  /** Mutating requests the apiserver received during the run, from anyone (milvus-l7 and the controllers). */
  kubernetesWrites: number;
  transitions: number;
  wallMs: number;
  error?: string;
  cause?: string;
  /** What the run would have published to the alert topic (the failure rule's message), when anything. */
  alerts?: string[];
  observed?: Record<string, unknown>;
}

/**
 * The scenario's outcome: its last run's summary, with `wallMs` the whole demo's time (sandbox start included),
 * and, when it took several runs, every run's summary in order.
 */
export interface DemoSummary extends DemoRunSummary {
  scenario: string;
  runs?: DemoRunSummary[];
}

export function summariseRun(r: ScenarioRun): DemoRunSummary {
  const { run } = r;
  const output = (run.output ?? {}) as { certificate?: { arn: string; imported: boolean }; targets?: TargetSummary[] };
  return {
    label: r.label,
    status: run.status,
    executionArn: run.executionArn,
    certificateArn: output.certificate?.arn,
    certificateImported: output.certificate?.imported,
    targets: output.targets ?? [],
    serviceTypeInCluster: r.cluster.serviceType,
    ingressInCluster: r.cluster.ingress,
    changesInCluster: r.cluster.changes,
    kubernetesWrites: r.cluster.kubernetesWrites,
    transitions: run.transitions,
    wallMs: r.wallMs,
    ...(run.error ? { error: run.error, cause: run.cause } : {}),
    ...(run.alerts.length > 0 ? { alerts: run.alerts } : {}),
    ...(r.observed ? { observed: r.observed } : {}),
  };
}

export function summariseScenario(scenario: string, runs: readonly ScenarioRun[], wallMs: number): DemoSummary {
  const summaries = runs.map(summariseRun);
  const last = summaries.at(-1);
  if (!last) throw new Error(`scenario ${scenario} made no run`);
  return { scenario, ...last, wallMs, ...(summaries.length > 1 ? { runs: summaries } : {}) };
}

/** A value the scenario observed, on one line: lists joined by "; ", objects as `key value` pairs. */
function describeObserved(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.map(describeObserved).join("; ") : "none";
  if (value !== null && typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k} ${describeObserved(v)}`)
      .join(", ");
  }
  return String(value);
}

function printRunSummary(s: DemoRunSummary, print: (line: string) => void) {
  for (const line of summaryLines(s)) print(line);
  print(`in cluster:    Service ${s.serviceTypeInCluster ?? "(none)"}, Ingress ${s.ingressInCluster}`);
  print(`changes:       ${s.changesInCluster.length ? s.changesInCluster.join(", ") : "none"}`);
  // A drift check's targets carry what it found (empty when clean).
  for (const t of s.targets as (TargetSummary & { drift?: string[]; repaired?: boolean })[]) {
    if (t.drift === undefined) continue;
    print(`drift:         ${t.targetId}: ${t.drift.length ? `${t.drift.join(" ")}${t.repaired ? " (repaired)" : ""}` : "none"}`);
  }
  print(`kube writes:   ${s.kubernetesWrites} (mutating requests the apiserver received, from anyone)`);
  for (const alert of s.alerts ?? []) print(`alert:         ${alert}`);
  for (const [key, value] of Object.entries(s.observed ?? {})) print(`${`${key}:`.padEnd(14)} ${describeObserved(value)}`);
  print(`transitions:   ${s.transitions}`);
  print(`run time:      ${formatElapsed(s.wallMs)}`);
}

const DEMO_OPTIONS = {
  scenario: { type: "string" },
  list: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Exit codes: 0 the scenario's last run succeeded, 1 it failed or the sandbox did not start, 2 usage. */
export async function runDemo(args: readonly string[], io: CliIo): Promise<number> {
  const usage = (message: string) => {
    io.stderr(`milvus-l7 demo: ${message}\n${demoUsage()}\n`);
    return 2;
  };
  let values: { scenario?: string; list?: boolean; json?: boolean; verbose?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], allowPositionals: false, strict: true, options: DEMO_OPTIONS }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    io.stdout(`${demoUsage()}\n`);
    return 0;
  }
  if (values.list) {
    if (values.scenario !== undefined) return usage("--list and --scenario exclude each other");
    io.stdout(values.json ? `${JSON.stringify(SCENARIOS.map(({ name, summary }) => ({ name, summary })))}\n` : `${scenarioList()}\n`);
    return 0;
  }
  const name = values.scenario ?? DEFAULT_SCENARIO;
  const scenario = findScenario(name);
  if (!scenario) return usage(`--scenario ${name}: no such scenario (choose one of ${SCENARIOS.map((s) => s.name).join(", ")})`);

  const json = values.json ?? false;
  const print = json ? () => undefined : (line: string) => io.stdout(`${line}\n`);
  const started = Date.now();
  print("Starting the sandbox: moto, Kubernetes API, ALB controller, Milvus …");
  let sandbox: Sandbox;
  try {
    const { startSandbox } = await import("../sandbox");
    sandbox = await startSandbox({ ...scenario.sandbox, echoLogs: values.verbose ?? false });
  } catch (e) {
    io.stderr(`milvus-l7 demo: the sandbox did not start: ${(e as Error).message}\n`);
    return 1;
  }
  print(`Scenario ${scenario.name}: ${scenario.summary}`);

  let printer: ProgressPrinter | undefined;
  const ctx: ScenarioContext = {
    say: (line) => print(line),
    starting: (label) => {
      print(`Running statemachine/milvus-l7.asl.json (${label}):`);
      printer = new ProgressPrinter({ write: json ? () => undefined : io.stdout, interactive: !json && (io.interactive ?? false), columns: io.columns });
      if (!json) printer.start();
      const current = printer;
      return { onEvent: (event) => current.onLocalEvent(event) };
    },
    finished: (run) => {
      printer?.stop();
      printer = undefined;
      printRunSummary(summariseRun(run), print);
      print("");
    },
  };
  try {
    const runs = await scenario.run(sandbox, ctx);
    const summary = summariseScenario(scenario.name, runs, Date.now() - started);
    if (json) io.stdout(`${JSON.stringify(summary)}\n`);
    else print(`${summary.status}: scenario ${scenario.name}, ${runs.length} run${runs.length === 1 ? "" : "s"}, in ${formatElapsed(summary.wallMs)}`);
    return summary.status === "SUCCEEDED" ? 0 : 1;
  } finally {
    printer?.stop();
    await sandbox.stop();
  }
}

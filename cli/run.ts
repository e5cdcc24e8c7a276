// `milvus-l7 run <file>`: the workflow on the operator's machine, for teams that do not deploy the stack —
// the same ASL through statemachine/runner, the same handlers with their production dependencies (SDK clients
// from the default credential chain, in the request's region), real Wait states and real retry backoff.
// Differences from the deployed workflow, all forced by "no stack":
//   - Kubernetes: the EKS path (DescribeCluster + a token, as in Lambda), or the operator's kubeconfig
//     (cli/kubeconfig);
//   - the deployments registry is a local file (cli/file-registry), not the stack's DynamoDB table;
//   - a lease's holder counts as running until its lease expires (there is no DescribeExecution for a local
//     run), except a local run on this machine whose process is gone (cli/local-steps);
//   - handler logs (Powertools JSON) go to a log file, not the terminal (cli/step-logs).
// This file is the command: its arguments, the checks before anything changes, the run and its summary. The run
// itself (credentials, cluster access, registry, progress, Ctrl-C, summary) is executeLocally, which `milvus-l7 check`
// shares for a drift check on this machine: one way of running the ASL locally, whatever its input.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import type { ClusterConnector } from "../functions/lib/kube";
import type { CheckSummary, TargetSummary } from "../functions/lib/state";
import { type DeploymentRequest, formatIssues } from "../functions/lib/request";
import { type RunOptions, type WorkflowRun, runWorkflow } from "../statemachine/runner";
import type { AwsClients } from "../statemachine/wire-steps";
import { type CredentialSource, missingCredentials, productionAws, sdkDefaultRegion } from "./aws";
import { DEFAULT_REGISTRY_PATH, fileRegistry } from "./file-registry";
import type { CliIo } from "./io";
import { kubeconfigConnector, loadKubeconfig } from "./kubeconfig";
import { type LocalStepsEnv, localExecutionId, localSteps } from "./local-steps";
import { ProgressPrinter, formatElapsed, pollTotals, summaryLines } from "./progress";
import { captureLogs } from "./step-logs";
import { validateFile } from "./validate";

/** The usage of the options every local execution has (run's and check's), in run's columns. */
export const LOCAL_ACCESS_USAGE = `  --kubeconfig <path>   reach the cluster through this kubeconfig (default: EKS DescribeCluster + an IAM token)
  --context <name>      the kubeconfig context to use (default: its current context)
  --registry <path>     the deployments registry file (default: ~/.milvus-l7/registry.json)
  --log-file <path>     where the steps' JSON logs go (default: ~/.milvus-l7/logs/<run>.jsonl)`;

export const RUN_USAGE = `usage: milvus-l7 run <request.json> [options]

Runs the workflow on this machine against your AWS account and cluster: the same state machine definition and
step code as the deployed stack, with real waits. AWS credentials and region come from the SDK's default chain.

${LOCAL_ACCESS_USAGE}
  --name <id>           the run's name (default: run-<time>-<random>)
  --verbose             also copy the steps' logs to stderr
  --quiet               print only the final line
  --json                print only a JSON summary on stdout

Exit status: 0 succeeded, 1 failed or invalid request, 2 usage, 130 interrupted (Ctrl-C).`;

/** Everything `run` reaches the world through; tests inject stand-ins, the CLI uses the defaults. */
export interface RunInjections {
  /** Default: SDK clients in the request's region, default credential chain. */
  aws?: AwsClients;
  /** Default: --kubeconfig, else the EKS path (defaultClusterConnector). */
  connect?: ClusterConnector;
  /** Resolves the credentials the run will sign with, checked before anything starts. Default: the ACM client's own. */
  credentials?: CredentialSource;
  /** verify-connection's DNS. Default: the system resolver. */
  resolve?: LocalStepsEnv["resolve"];
  /** Region for a request that names none. Default: the SDK's region chain (AWS_REGION, profile). */
  defaultRegion?: string;
  /** Seconds one address poll holds its Kubernetes watch. Default: DEFAULT_WATCH_SECONDS, as deployed. */
  watchSeconds?: number;
  verifyTimeoutMs?: number;
  /** Tests only: compressed waits and retry backoff. The CLI never sets it. */
  timing?: Pick<RunOptions, "waitMs" | "retryMs">;
  /** Stops the run (the CLI wires Ctrl-C to it). */
  signal?: AbortSignal;
  now?: () => number;
}

export interface RunSummary {
  status: WorkflowRun["status"];
  /** The run's name and its execution id (`$$.Execution.Id`, the lease owner and the record's lastExecution). */
  name: string;
  executionId: string;
  region: string;
  certificateArn?: string;
  certificateImported?: boolean;
  targets: TargetSummary[];
  transitions: number;
  retries: number;
  polls: number;
  latestControllerEvent?: string;
  wallMs: number;
  registry: string;
  logFile: string;
  error?: string;
  cause?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The command.

function defaultName(now: number, prefix: string): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${prefix}-${stamp}-${randomBytes(3).toString("hex")}`;
}

const NAME = /^[A-Za-z0-9_-]{1,80}$/;

export function summariseRun(run: WorkflowRun, ctx: { name: string; region: string; registry: string; logFile: string; wallMs: number; retries: number; polls: number; latestWarning?: string }): RunSummary {
  const output = (run.output ?? {}) as { certificate?: { arn?: string; imported?: boolean }; targets?: TargetSummary[] };
  return {
    status: run.status,
    name: ctx.name,
    executionId: run.executionArn,
    region: ctx.region,
    ...(output.certificate?.arn ? { certificateArn: output.certificate.arn, certificateImported: output.certificate.imported } : {}),
    targets: output.targets ?? [],
    transitions: run.transitions,
    retries: ctx.retries,
    polls: ctx.polls,
    ...(ctx.latestWarning ? { latestControllerEvent: ctx.latestWarning } : {}),
    wallMs: ctx.wallMs,
    registry: ctx.registry,
    logFile: ctx.logFile,
    ...(run.error ? { error: run.error, cause: run.cause } : {}),
  };
}

/** What a drift check found of each target; undefined for a deployment's targets, which carry no `drift`. */
const driftOf = (s: RunSummary) => s.targets.map((t) => (t as Partial<CheckSummary>).drift).filter((d) => d !== undefined);

/** The one line `--quiet` prints (and the last line otherwise). */
export function finalRunLine(s: RunSummary): string {
  const took = formatElapsed(s.wallMs);
  const checked = driftOf(s);
  if (s.status === "SUCCEEDED" && checked.length > 0) {
    // A check that succeeded left no drift behind: none was found, or all of it was repaired.
    const repaired = s.targets.filter((t) => (t as Partial<CheckSummary>).repaired).length;
    const n = `${checked.length} target${checked.length === 1 ? "" : "s"}`;
    return `SUCCEEDED drift check of ${n}: ${repaired ? `${repaired} repaired` : "no drift"} in ${took}`;
  }
  if (s.status === "SUCCEEDED") {
    const targets = s.targets.map((t) => `https://${t.host} → ${t.albHostname}`).join(", ");
    return `SUCCEEDED ${targets || "(no targets)"} in ${took}`;
  }
  if (s.status === "ABORTED") return `ABORTED after ${took}: interrupted; the run's leases were released (logs: ${s.logFile})`;
  return `FAILED after ${took}: ${s.error ?? "error"}: ${s.cause ?? ""} (logs: ${s.logFile})`;
}

function printSummary(s: RunSummary, print: (line: string) => void) {
  for (const line of summaryLines(s)) print(line);
  // A drift check's targets carry what it found (empty when clean), as `demo` prints them.
  for (const t of s.targets as Partial<CheckSummary>[]) {
    if (t.drift === undefined) continue;
    print(`drift:         ${t.targetId}: ${t.drift.length ? `${t.drift.join(" ")}${t.repaired ? " (repaired)" : ""}` : "none"}`);
  }
  print(`transitions:   ${s.transitions}, address polls ${s.polls}, retries ${s.retries}`);
  print(`registry:      ${s.registry}`);
  print(`step logs:     ${s.logFile}`);
  print("");
}

/** The options of a run on this machine, whatever it runs (`run`'s request, `check`'s drift check). */
export interface LocalOptions {
  kubeconfig?: string;
  context?: string;
  registry: string;
  logFile?: string;
  name?: string;
  verbose: boolean;
  quiet: boolean;
  json: boolean;
}

interface ParsedRunArgs extends LocalOptions {
  file: string;
}

/** parseArgs options of a local run; `check` adds its own to them. */
export const LOCAL_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  registry: { type: "string" },
  "log-file": { type: "string" },
  name: { type: "string" },
  verbose: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
} as const;

const RUN_OPTIONS = { ...LOCAL_OPTIONS, help: { type: "boolean", short: "h", default: false } } as const;

type LocalValues = { [K in keyof typeof LOCAL_OPTIONS]?: (typeof LOCAL_OPTIONS)[K]["type"] extends "string" ? string : boolean };

/** The local options parsed, or what is wrong with them. */
export function localOptions(values: LocalValues): LocalOptions | { error: string } {
  if (values.context !== undefined && values.kubeconfig === undefined) return { error: "--context needs --kubeconfig" };
  if (values.quiet && values.json) return { error: "--quiet and --json exclude each other" };
  if (values.name !== undefined && !NAME.test(values.name)) return { error: "--name must be 1-80 letters, digits, '-' and '_'" };
  return {
    kubeconfig: values.kubeconfig,
    context: values.context,
    registry: values.registry ?? DEFAULT_REGISTRY_PATH,
    logFile: values["log-file"],
    name: values.name,
    verbose: values.verbose ?? false,
    quiet: values.quiet ?? false,
    json: values.json ?? false,
  };
}

function parseRunArgs(args: readonly string[]): ParsedRunArgs | { help: true } | { error: string } {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: typeof RUN_OPTIONS }>>;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: RUN_OPTIONS });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1 || !positionals[0]) return { error: "expected exactly one request file" };
  const local = localOptions(values);
  return "error" in local ? local : { file: positionals[0], ...local };
}

/** Exit codes: 0 succeeded, 1 failed (or the request/kubeconfig is unusable), 2 usage, 130 interrupted. */
export const INTERNAL_ALB_WARNING =
  "ingress.scheme is internal: the ALB gets addresses in the cluster's VPC only, and this run verifies it from this " +
  "machine. Run it where the VPC is reachable (a bastion, a VPN, Direct Connect), or verification times out through " +
  "its retries after the Ingress is applied.";

export async function runCommand(args: readonly string[], io: CliIo, inject: RunInjections = {}): Promise<number> {
  const opts = parseRunArgs(args);
  if ("help" in opts) {
    io.stdout(`${RUN_USAGE}\n`);
    return 0;
  }
  if ("error" in opts) {
    io.stderr(`milvus-l7 run: ${opts.error}\n${RUN_USAGE}\n`);
    return 2;
  }
  const fail = (message: string) => {
    io.stderr(`milvus-l7 run: ${message}\n`);
    return 1;
  };

  // 1. The request, checked with the one schema before anything is touched.
  const checked = validateFile(opts.file);
  if (!checked.ok) {
    const n = checked.issues.length;
    return fail(`${opts.file}: invalid request (${n} problem${n === 1 ? "" : "s"}); nothing was changed\n${formatIssues(checked.issues)}`);
  }
  const request: DeploymentRequest = checked.request;
  // The workflow's input is the request as written: ResolveRequest validates and normalises it itself.
  const input: unknown = JSON.parse(readFileSync(opts.file, "utf8").replace(/^\uFEFF/, ""));
  const region = request.cluster.region ?? inject.defaultRegion ?? (await sdkDefaultRegion());
  if (!region) {
    return fail(`${opts.file} names no cluster.region and no default region is configured (set AWS_REGION or a profile region, or add cluster.region)`);
  }

  // An internal ALB has addresses in the cluster's VPC only, and verification connects to them from here. A stack
  // refuses such a request when its verifier is outside the VPC; this machine may well be inside it (a bastion, a
  // VPN), so it is a warning, said before anything changes.
  if (request.ingress.scheme === "internal") io.stderr(`milvus-l7 run: warning: ${INTERNAL_ALB_WARNING}\n`);

  return executeLocally(
    {
      command: "run",
      input,
      region,
      cluster: { name: request.cluster.name, region },
      intro: (name) => [
        `Running ${opts.file} on this machine as ${name}`,
        `  cluster ${request.cluster.name} in ${region}, Milvus ${request.milvus.namespace}/${request.milvus.service} → https://${request.ingress.host}`,
      ],
    },
    opts,
    io,
    inject,
  );
}

/** One execution of the ASL on this machine: what to run and how to introduce it. */
export interface LocalExecution {
  /** The command, for messages (`milvus-l7 <command>: …`) and the default run name (`<command>-<time>-<random>`). */
  command: string;
  /** The workflow input: a deployment request as written, or `{"check": {...}}`. */
  input: unknown;
  /** The region of the SDK clients (the request's; for a check, its target's or the default region). */
  region: string;
  /** The one cluster a --kubeconfig must reach, when known (a context visibly on another EKS cluster is refused). */
  cluster?: { name: string; region: string };
  /** The first lines the progress shows, given the run's name. */
  intro: (name: string) => string[];
}

/**
 * Runs `exec.input` through the ASL on this machine and prints its progress and summary: the AWS credentials checked
 * first, the cluster reached through --kubeconfig or the EKS path, the file registry, Ctrl-C as StopExecution.
 * Exit codes: 0 succeeded, 1 failed (or the kubeconfig is unusable), 130 interrupted.
 */
export async function executeLocally(exec: LocalExecution, opts: LocalOptions, io: CliIo, inject: RunInjections = {}): Promise<number> {
  const now = inject.now ?? Date.now;
  const { region } = exec;
  const fail = (message: string) => {
    io.stderr(`milvus-l7 ${exec.command}: ${message}\n`);
    return 1;
  };

  // 2. AWS credentials: every run needs them (ACM at least), and without any the first step would fail with
  // AWS refusing an unsigned request. Said plainly here, before any step starts or any file is written.
  const aws = inject.aws ?? productionAws(region);
  const noCredentials = await missingCredentials(inject.credentials ?? (() => aws.acm.config.credentials()));
  if (noCredentials) return fail(`${noCredentials}\nNothing was changed.`);

  // 3. Kubernetes access.
  let connect = inject.connect;
  let kubeAccess = "EKS DescribeCluster + IAM token (default credentials)";
  if (!connect && opts.kubeconfig) {
    try {
      const kc = loadKubeconfig(opts.kubeconfig, opts.context, exec.cluster);
      connect = kubeconfigConnector(kc);
      kubeAccess = `kubeconfig ${opts.kubeconfig}, context ${kc.getCurrentContext()} (${kc.getCurrentCluster()?.server})`;
    } catch (e) {
      return fail((e as Error).message);
    }
  }
  if (!connect) {
    const { defaultClusterConnector } = await import("../functions/lib/kube");
    connect = defaultClusterConnector();
  }

  // 4. Names, registry, logs.
  const started = now();
  const name = opts.name ?? defaultName(started, exec.command);
  const executionId = localExecutionId(name);
  const registry = fileRegistry(opts.registry);
  const logFile = opts.logFile ?? join(homedir(), ".milvus-l7", "logs", `${name}.jsonl`);
  const out = (line: string) => io.stdout(`${line}\n`);
  const showProgress = !opts.quiet && !opts.json;
  const printer = new ProgressPrinter(
    { write: showProgress ? io.stdout : () => undefined, interactive: showProgress && (io.interactive ?? false), columns: io.columns, now },
    started,
  );
  if (showProgress) {
    for (const line of exec.intro(name)) out(line);
    out(`  Kubernetes: ${kubeAccess}`);
    out(`  registry: ${registry.path}; step logs: ${logFile}`);
  }

  // 5. The run. Ctrl-C stops it like StopExecution; a second Ctrl-C quits at once.
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  inject.signal?.addEventListener("abort", onAbort, { once: true });
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    printer.line("Interrupted: stopping the run (Ctrl-C again to quit at once; the Ingress/Service keep their current state)");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const restoreConsole = captureLogs(logFile, opts.verbose ? (line) => io.stderr(`${line}\n`) : undefined);
  const inflight = new Map<Promise<unknown>, string>();
  let run: WorkflowRun;
  try {
    const functions = localSteps({
      inflight,
      region,
      aws,
      connect,
      registry,
      resolve: inject.resolve,
      watchSeconds: inject.watchSeconds,
      verifyTimeoutMs: inject.verifyTimeoutMs,
    });
    if (showProgress) printer.start();
    run = await runWorkflow(exec.input, functions, {
      executionName: name,
      executionArn: executionId,
      onEvent: (event) => printer.onLocalEvent(event),
      signal: controller.signal,
      ...inject.timing,
    });
    // Like a Lambda after StopExecution, a step in flight when the run was stopped finishes its call; only then
    // is it safe to free the target for another run.
    if (inflight.size > 0) {
      printer.line(`Waiting for ${[...new Set(inflight.values())].join(", ")} (in flight) to finish its call …`);
      await Promise.allSettled([...inflight.keys()]);
    }
  } finally {
    printer.stop();
    process.off("SIGINT", onSigint);
    inject.signal?.removeEventListener("abort", onAbort);
    await restoreConsole();
  }
  // The run is over, so nothing of it still holds a target: free what an interruption or a failure left.
  await registry.releaseAll(executionId).catch(() => undefined);

  const totals = pollTotals(printer.current);
  const summary = summariseRun(run, {
    name,
    region,
    registry: registry.path,
    logFile,
    wallMs: now() - started,
    retries: printer.current.retries,
    polls: totals.polls,
    latestWarning: totals.latestWarning,
  });
  if (opts.json) io.stdout(`${JSON.stringify(summary)}\n`);
  else {
    if (!opts.quiet) printSummary(summary, out);
    out(finalRunLine(summary));
  }
  return summary.status === "SUCCEEDED" ? 0 : summary.status === "ABORTED" ? 130 : 1;
}

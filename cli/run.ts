// `milvus-l7 run <file>`: the workflow on the operator's machine, for teams that do not deploy the stack —
// the same ASL through statemachine/runner, the same handlers with their production dependencies (SDK clients
// from the default credential chain, in the request's region), real Wait states and real retry backoff.
// Differences from the deployed workflow, all forced by "no stack":
//   - Kubernetes: the EKS path (DescribeCluster + a token, as in Lambda), or the operator's kubeconfig;
//   - the deployments registry is a local file (cli/file-registry), not the stack's DynamoDB table;
//   - a lease's holder counts as running until its lease expires (there is no DescribeExecution for a local
//     run), except a local run on this machine whose process is gone;
//   - handler logs (Powertools JSON) go to a log file, not the terminal.
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, join } from "node:path";
import { format, parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { ACMClient } from "@aws-sdk/client-acm";
import { Route53Client } from "@aws-sdk/client-route-53";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Agent, RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import type { ClusterConnector } from "../functions/lib/kube";
import { KubeClient, keepAliveAgent } from "../functions/lib/kube-client";
import type { TargetSummary } from "../functions/record-deployment/core";
import { type DeploymentRequest, formatIssues } from "../functions/lib/request";
import { DEFAULT_REGISTRY_PATH, type FileRegistry, fileRegistry } from "./file-registry";
import { ProgressPrinter, formatElapsed, pollTotals, summaryLines } from "./progress";
import { validateFile } from "./validate";
import {
  type FunctionKey,
  type LocalFunctions,
  type RunOptions,
  type WorkflowRun,
  allStates,
  functionArn,
  lambdaContext,
  loadDefinition,
  runWorkflow,
} from "../statemachine/runner";

export const RUN_USAGE = `usage: milvus-l7 run <request.json> [options]

Runs the workflow on this machine against your AWS account and cluster: the same state machine definition and
step code as the deployed stack, with real waits. AWS credentials and region come from the SDK's default chain.

  --kubeconfig <path>   reach the cluster through this kubeconfig (default: EKS DescribeCluster + an IAM token)
  --context <name>      the kubeconfig context to use (default: its current context)
  --registry <path>     the deployments registry file (default: ~/.milvus-l7/registry.json)
  --log-file <path>     where the steps' JSON logs go (default: ~/.milvus-l7/logs/<run>.jsonl)
  --name <id>           the run's name (default: run-<time>-<random>)
  --verbose             also copy the steps' logs to stderr
  --quiet               print only the final line
  --json                print only a JSON summary on stdout

Exit status: 0 succeeded, 1 failed or invalid request, 2 usage, 130 interrupted (Ctrl-C).`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stdout is a terminal: progress is one line rewritten in place. */
  interactive?: boolean;
  columns?: number;
}

export interface AwsClients {
  acm: ACMClient;
  secretsManager: SecretsManagerClient;
  s3: S3Client;
  route53: Route53Client;
}

/** Everything `run` reaches the world through; tests inject stand-ins, the CLI uses the defaults. */
export interface RunInjections {
  /** Default: SDK clients in the request's region, default credential chain. */
  aws?: AwsClients;
  /** Default: --kubeconfig, else the EKS path (defaultClusterConnector). */
  connect?: ClusterConnector;
  /** verify-connection's DNS. Default: the system resolver. */
  resolve?: (hostname: string, port: number) => Promise<{ address: string; port: number }>;
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
// Kubernetes through a kubeconfig.

const EKS_CLUSTER_ARN = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):\d{12}:cluster\/(.+)$/;
const EKS_ENDPOINT_REGION = /\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.eks\.amazonaws\.com(?::\d+)?\/?$/;

/**
 * Loads the kubeconfig and picks the context; throws an Error whose message says what is wrong. A context that
 * visibly belongs to another EKS cluster than the request's (its cluster is named by an EKS ARN, as
 * `aws eks update-kubeconfig` writes it, or its server is in another region) is refused: the run would change
 * the wrong cluster.
 */
export function loadKubeconfig(path: string, context: string | undefined, cluster: { name: string; region: string }): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`--kubeconfig ${path}: ${code === "ENOENT" ? "no such file" : code ?? (e as Error).message}`);
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new Error(`--context ${context}: not in ${path} (it has ${known.length ? known.join(", ") : "no contexts"})`);
    }
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  const server = kc.getCurrentCluster();
  if (!current || !server) throw new Error(`${path} has no current context; name one with --context`);
  const arn = EKS_CLUSTER_ARN.exec(server.name);
  if (arn && (arn[1] !== cluster.region || arn[2] !== cluster.name)) {
    throw new Error(
      `kubeconfig context ${current} points at EKS cluster ${arn[2]} in ${arn[1]}, but the request names ${cluster.name} in ${cluster.region}; pick the right --context`,
    );
  }
  const endpointRegion = EKS_ENDPOINT_REGION.exec(server.server)?.[1];
  if (endpointRegion && endpointRegion !== cluster.region) {
    throw new Error(
      `kubeconfig context ${current} points at an EKS endpoint in ${endpointRegion}, but the request's cluster is in ${cluster.region}; pick the right --context`,
    );
  }
  return kc;
}

/**
 * A connector over a loaded kubeconfig: every step talks to the cluster it names, with its credentials, through the
 * Lambdas' client. client-node's public applyToHTTPSOptions resolves the user as kubectl would (token, token file,
 * client certificate, exec plugin such as `aws eks get-token`, auth provider) into TLS options and headers; it runs
 * per step, so an exec plugin's token is renewed as it expires, while the TLS material makes one keep-alive agent
 * for the run. A cluster behind a kubeconfig `proxy-url` keeps the proxy agent client-node builds for it. TLS is
 * always verified, even where a kubeconfig asks to skip it.
 */
export function kubeconfigConnector(kc: KubeConfig): ClusterConnector {
  let agent: Agent | undefined;
  return async () => {
    const options: RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const { ca, cert, key, pfx, passphrase, servername } = options;
    agent ??= cluster.proxyUrl ? (options.agent as Agent) : keepAliveAgent({ ca, cert, key, pfx, passphrase, servername });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = String(value);
    if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString("base64")}`;
    return new KubeClient({ server: cluster.server.replace(/\/+$/, ""), agent, headers });
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Leases of local runs.

/** `local:<host>:<pid>:<name>`: a local run's execution id (never an ARN: nothing in AWS knows it). */
export const localExecutionId = (name: string, pid = process.pid, host = hostname()) => `local:${host}:${pid}:${name}`;

/**
 * Whether a lease holder still runs. A local run is its own only runner, so a holder is running until its lease
 * expires (the registry lets an expired lease be taken) — unless it is a local run on this machine whose
 * process no longer exists (killed, crashed): then it is not, and its lease is taken over at once.
 */
export async function localHolderRunning(owner: string, host = hostname()): Promise<boolean> {
  const m = /^local:([^:]+):(\d+):/.exec(owner);
  if (!m || m[1] !== host) return true;
  const pid = Number(m[2]);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The handlers with production dependencies.

/** The Lambda timeout each step would have: its Task's TimeoutSeconds less 10 s (the stack's rule). */
function functionTimeoutsMs(): Partial<Record<FunctionKey, number>> {
  const out: Partial<Record<FunctionKey, number>> = {};
  for (const [, state] of allStates(loadDefinition().States)) {
    const key = /^\$\{(\w+)\}$/.exec(state.Resource ?? "")?.[1] as FunctionKey | undefined;
    if (key && state.TimeoutSeconds) out[key] = Math.max(out[key] ?? 0, (state.TimeoutSeconds - 10) * 1000);
  }
  return out;
}

interface LocalEnv {
  /** Every step invocation's promise while it runs: an interrupted run waits for the one in flight. */
  inflight: Map<Promise<unknown>, string>;
  region: string;
  aws: AwsClients;
  connect: ClusterConnector;
  registry: FileRegistry;
  resolve?: RunInjections["resolve"];
  watchSeconds?: number;
  verifyTimeoutMs?: number;
}

async function localFunctions(env: LocalEnv): Promise<LocalFunctions> {
  // Powertools writes to the global console in dev mode (captured into the log file); it reads the variable
  // when functions/lib/handler loads, hence the dynamic imports.
  process.env.POWERTOOLS_DEV = "true";
  const [resolveRequest, importCertificate, applyIngress, getIngressStatus, verifyConnection, verifyCore, patchService] = await Promise.all([
    import("../functions/resolve-request/handler"),
    import("../functions/import-certificate/handler"),
    import("../functions/apply-ingress/handler"),
    import("../functions/get-ingress-status/handler"),
    import("../functions/verify-connection/handler"),
    import("../functions/verify-connection/core"),
    import("../functions/patch-service/handler"),
  ]);
  const [recordDeployment, targetLease, targetLeaseCore, removeIngress, upsertDns, polling] = await Promise.all([
    import("../functions/record-deployment/handler"),
    import("../functions/target-lease/handler"),
    import("../functions/target-lease/core"),
    import("../functions/remove-ingress/handler"),
    import("../functions/upsert-dns/handler"),
    import("../functions/lib/polling"),
  ]);
  const watchSeconds = env.watchSeconds ?? polling.DEFAULT_WATCH_SECONDS;
  const timeouts = functionTimeoutsMs();
  const lambda =
    <E, R>(key: FunctionKey, handler: (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>) =>
    (event: E) => {
      const name = functionArn(key).replace(/^.*:function:milvus-l7-/, "");
      const call = handler(event, lambdaContext(`milvus-l7-${name}`, timeouts[key]));
      env.inflight.set(call, name);
      const done = () => env.inflight.delete(call);
      call.then(done, done);
      return call;
    };
  const { connect, aws, registry } = env;
  return {
    ResolveRequestFunctionArn: lambda(
      "ResolveRequestFunctionArn",
      // A deployment request only (run validates it first), so no renewal needs the registry here.
      resolveRequest.makeHandler({ defaultRegion: env.region, watchSeconds, registry }),
    ),
    ImportCertificateFunctionArn: lambda("ImportCertificateFunctionArn", importCertificate.makeHandler(aws)),
    ApplyIngressFunctionArn: lambda("ApplyIngressFunctionArn", applyIngress.makeHandler({ connect })),
    GetIngressStatusFunctionArn: lambda("GetIngressStatusFunctionArn", getIngressStatus.makeHandler({ connect, watchSeconds })),
    VerifyConnectionFunctionArn: lambda(
      "VerifyConnectionFunctionArn",
      verifyConnection.makeHandler({
        resolve: env.resolve ?? verifyCore.resolveAlb,
        ...(env.verifyTimeoutMs ? { timeoutMs: env.verifyTimeoutMs } : {}),
      }),
    ),
    PatchServiceFunctionArn: lambda("PatchServiceFunctionArn", patchService.makeHandler({ connect })),
    RecordDeploymentFunctionArn: lambda("RecordDeploymentFunctionArn", recordDeployment.makeHandler({ registry })),
    TargetLeaseFunctionArn: lambda(
      "TargetLeaseFunctionArn",
      targetLease.makeHandler({ registry, ttlSeconds: targetLeaseCore.DEFAULT_LEASE_SECONDS, isRunning: (owner) => localHolderRunning(owner) }),
    ),
    RemoveIngressFunctionArn: lambda("RemoveIngressFunctionArn", removeIngress.makeHandler({ connect })),
    UpsertDnsFunctionArn: lambda("UpsertDnsFunctionArn", upsertDns.makeHandler({ route53: aws.route53 })),
  };
}

function productionAws(region: string): AwsClients {
  const config = { region };
  return {
    acm: new ACMClient(config),
    secretsManager: new SecretsManagerClient(config),
    // A certificate bucket may live in another region than the cluster.
    s3: new S3Client({ ...config, followRegionRedirects: true }),
    route53: new Route53Client(config),
  };
}

async function sdkDefaultRegion(): Promise<string | undefined> {
  try {
    return await new ACMClient({}).config.region();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Handler logs → a file.

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

/** Sends everything written to the global console (Powertools in dev mode) to `path`, one JSON object a line. */
function captureLogs(path: string, echo?: (line: string) => void): () => Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const file = createWriteStream(path, { flags: "a", mode: 0o600 });
  const saved = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
  for (const method of CONSOLE_METHODS) {
    console[method] = (...args: unknown[]) => {
      let line = format(...args);
      try {
        line = JSON.stringify(JSON.parse(line));
      } catch {
        line = line.replace(/\n/g, " ");
      }
      file.write(`${line}\n`);
      echo?.(line);
    };
  }
  return () => {
    for (const [method, fn] of saved) console[method] = fn;
    return new Promise((resolve) => file.end(resolve));
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The command.

function defaultName(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `run-${stamp}-${randomBytes(3).toString("hex")}`;
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

/** The one line `--quiet` prints (and the last line otherwise). */
export function finalRunLine(s: RunSummary): string {
  const took = formatElapsed(s.wallMs);
  if (s.status === "SUCCEEDED") {
    const targets = s.targets.map((t) => `https://${t.host} → ${t.albHostname}`).join(", ");
    return `SUCCEEDED ${targets || "(no targets)"} in ${took}`;
  }
  if (s.status === "ABORTED") return `ABORTED after ${took}: interrupted; the run's leases were released (logs: ${s.logFile})`;
  return `FAILED after ${took}: ${s.error ?? "error"}: ${s.cause ?? ""} (logs: ${s.logFile})`;
}

function printSummary(s: RunSummary, print: (line: string) => void) {
  for (const line of summaryLines(s)) print(line);
  print(`transitions:   ${s.transitions}, address polls ${s.polls}, retries ${s.retries}`);
  print(`registry:      ${s.registry}`);
  print(`step logs:     ${s.logFile}`);
  print("");
}

interface ParsedRunArgs {
  file: string;
  kubeconfig?: string;
  context?: string;
  registry: string;
  logFile?: string;
  name?: string;
  verbose: boolean;
  quiet: boolean;
  json: boolean;
}

const RUN_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  registry: { type: "string" },
  "log-file": { type: "string" },
  name: { type: "string" },
  verbose: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

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
  if (values.context !== undefined && values.kubeconfig === undefined) return { error: "--context needs --kubeconfig" };
  if (values.quiet && values.json) return { error: "--quiet and --json exclude each other" };
  if (values.name !== undefined && !NAME.test(values.name)) return { error: "--name must be 1-80 letters, digits, '-' and '_'" };
  return {
    file: positionals[0],
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

/** Exit codes: 0 succeeded, 1 failed (or the request/kubeconfig is unusable), 2 usage, 130 interrupted. */
export async function runCommand(args: readonly string[], io: CliIo, inject: RunInjections = {}): Promise<number> {
  const now = inject.now ?? Date.now;
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

  // 2. Kubernetes access.
  let connect = inject.connect;
  let kubeAccess = "EKS DescribeCluster + IAM token (default credentials)";
  if (!connect && opts.kubeconfig) {
    try {
      const kc = loadKubeconfig(opts.kubeconfig, opts.context, { name: request.cluster.name, region });
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

  // 3. Names, registry, logs.
  const started = now();
  const name = opts.name ?? defaultName(started);
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
    out(`Running ${opts.file} on this machine as ${name}`);
    out(`  cluster ${request.cluster.name} in ${region}, Milvus ${request.milvus.namespace}/${request.milvus.service} → https://${request.ingress.host}`);
    out(`  Kubernetes: ${kubeAccess}`);
    out(`  registry: ${registry.path}; step logs: ${logFile}`);
  }

  // 4. The run. Ctrl-C stops it like StopExecution; a second Ctrl-C quits at once.
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
    const functions = await localFunctions({
      inflight,
      region,
      aws: inject.aws ?? productionAws(region),
      connect,
      registry,
      resolve: inject.resolve,
      watchSeconds: inject.watchSeconds,
      verifyTimeoutMs: inject.verifyTimeoutMs,
    });
    if (showProgress) printer.start();
    run = await runWorkflow(input, functions, {
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

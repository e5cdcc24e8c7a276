// The sandbox runs: the demo's work (sandbox start and one deployment), a run whose address appears on the third
// poll, a renewal of one certificate serving 20 Milvus endpoints against the same renewal for one, the drift check
// ({"check": {}}) of those 20 deployed endpoints against the check of one, and the bundled verify-connection
// through the ALB simulator.
import { pathToFileURL } from "node:url";
import { nextWaitSeconds } from "../../functions/lib/polling";
import { targetIdOf } from "../../functions/lib/registry";
import type { Target } from "../../functions/lib/state";
import type { Sandbox } from "../../sandbox";
import type { LocalFunctions, WorkflowRun } from "../../sandbox/workflow";
import {
  type Invocation,
  atSingleRunDurations,
  expandTargets,
  independentLambdasRatio,
  ratio,
  round,
  scaleInvocations,
  scaleTransitions,
  summariseInvocations,
} from "./math";
import { quietly, say, timed } from "./measure";
import { stepOfResource } from "../../statemachine/steps";

interface Recorder {
  functions: LocalFunctions;
  invocations: Invocation[];
  /** The latest event each function received. */
  lastEvent: Map<string, unknown>;
}

/** Thrown by every step once a run has used its time cap: the workflow fails fast instead of running on. */
class BenchTimeCap extends Error {
  constructor() {
    super("the benchmark's time cap for this run was reached");
    this.name = "BenchTimeCap";
  }
}

/** Wraps every local function to time its invocations (and to stop a run at `deadline`, performance.now()). */
function recording(functions: LocalFunctions, adjust?: (key: string, result: unknown) => unknown, deadline = Number.POSITIVE_INFINITY): Recorder {
  const invocations: Invocation[] = [];
  const lastEvent = new Map<string, unknown>();
  const wrapped = Object.fromEntries(
    Object.entries(functions).map(([key, fn]) => [
      key,
      async (event: unknown) => {
        const fnName = stepOfResource(key).name;
        if (performance.now() > deadline) throw new BenchTimeCap();
        lastEvent.set(fnName, event);
        const started = performance.now();
        try {
          const result = await fn(event);
          return adjust ? adjust(key, result) : result;
        } finally {
          invocations.push({ fn: fnName, ms: performance.now() - started });
        }
      },
    ]),
  ) as unknown as LocalFunctions;
  return { functions: wrapped, invocations, lastEvent };
}

export interface SandboxFigures {
  demo: { wallMs: number; runMs: number; transitions: number; status: string };
  thirdPoll: { transitions: number; polls: number; invocations: Invocation[] };
  renewal20: {
    /** The median of RENEWAL_SAMPLES runs. */
    wallMs: number;
    singleTargetWallMs: number;
    samplesMs: number[];
    singleTargetSamplesMs: number[];
    ratio: number;
    status: string;
    error?: string;
    maxConcurrency: number;
    /** (before + waves × per-target) / (before + per-target), from the single-target run's invocation times. */
    independentLambdasRatio: number;
    transitions: number;
    singleTargetTransitions: number;
    /** CPU time of this (single-threaded) process during the run: ≈ wallMs means the sandbox was CPU-bound. */
    cpuMs: number;
    singleTargetCpuMs: number;
    retries: number;
    singleTargetRetries: number;
    verifyRetryMs: number;
    perFunction: Record<string, { count: number; medianMs: number }>;
    singleTargetPerFunction: Record<string, { count: number; medianMs: number }>;
    /** The 20-target renewal's invocations at the single-target run's durations (for the cost estimate). */
    scaledInvocations: Invocation[];
    singleTargetInvocations: Invocation[];
  };
  /** The drift check of the 20 deployed targets and of one of them (`check.targetId`), policy report. */
  check20: {
    /** Targets in the registry, all checked by `{"check": {}}`. */
    targets: number;
    /** The median of CHECK_SAMPLES runs. */
    wallMs: number;
    singleTargetWallMs: number;
    samplesMs: number[];
    singleTargetSamplesMs: number[];
    ratio: number;
    status: string;
    singleTargetStatus: string;
    error?: string;
    maxConcurrency: number;
    transitions: number;
    singleTargetTransitions: number;
    cpuMs: number;
    singleTargetCpuMs: number;
    retries: number;
    perFunction: Record<string, { count: number; medianMs: number }>;
    singleTargetPerFunction: Record<string, { count: number; medianMs: number }>;
    /** For the cost estimates: each run's invocations at the single-target check's durations. */
    scaledInvocations: Invocation[];
    singleTargetInvocations: Invocation[];
  };
  verifyBundle: Record<string, unknown>;
}

function mustSucceed(run: WorkflowRun, what: string, logs: string[]): WorkflowRun {
  if (run.status !== "SUCCEEDED") {
    for (const line of logs.filter((l) => l.includes("errorMessage")).slice(-3)) say(`   | ${line.replace(/\s+/g, " ").slice(0, 400)}`);
    throw new Error(`${what}: the workflow ended ${run.status}: ${run.error}: ${run.cause}`);
  }
  return run;
}

const TARGETS_IN_RENEWAL = 20;
/** Renewals of 1 and of 20 targets measured, alternated; the median run of each is reported. */
const RENEWAL_SAMPLES = 3;

/** The run with the median wall time (of an odd number of runs). */
function medianRun<R extends { ms: number }>(runs: R[]): R {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)] as R;
}
/** Checks of 1 and of 20 targets measured, alternated, as the renewals are. */
const CHECK_SAMPLES = 3;
/** The Map the drift check fans out with (statemachine/milvus-l7.asl.json). */
const CHECK_MAP_STATE = "CheckTargets";
/** A renewal run still going after this long is stopped (its steps fail) and reported as not met. */
const RENEWAL_CAP_MS = 150_000;
/** Interval of the verify steps' EndpointNotReady retries in the renewal runs (the ASL says 10 s). */
const VERIFY_RETRY_MS = 1000;

/** Waits until the ALB simulator has published an address on every target's Ingress. */
async function untilPublished(sandbox: Sandbox, targets: readonly Target[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = targets.filter((t) => {
      const ingress = sandbox.kube.get<{ status?: { loadBalancer?: { ingress?: unknown[] } } }>("Ingress", t.namespace, t.ingress.name);
      return !ingress?.status?.loadBalancer?.ingress?.length;
    });
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`no address published for ${waiting.map((t) => t.ingress.name).join(", ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function benchSandbox(verifyBundleFile: string | undefined): Promise<SandboxFigures> {
  say("== sandbox: demo, third-poll run, 20-target renewal, drift check of 20");
  const logs: string[] = [];
  const demoStarted = performance.now();
  const { startSandbox } = await import("../../sandbox");
  const { runWorkflow, lambdaContext, loadDefinition, allStates } = await import("../../sandbox/workflow");
  const sandbox: Sandbox = await startSandbox();
  try {
    // -- the demo (cli/demo.ts): a certificate in Secrets Manager, one run of the real ASL with the real handlers
    const certificate = await sandbox.newCertificate();
    const secretArn = await sandbox.storeInSecret(certificate);
    const request = sandbox.request(secretArn);
    const demo = recording(sandbox.functions);
    const [runMs, demoRun] = await timed(() => quietly(logs, () => runWorkflow(request, demo.functions)));
    mustSucceed(demoRun, "demo", logs);
    const demoWallMs = performance.now() - demoStarted;
    say(`   demo: ${round(demoWallMs / 1000, 2)} s, ${demoRun.transitions} transitions`);
    const output = demoRun.output as { certificate?: { arn?: string } };
    const certificateArn = output.certificate?.arn;
    if (!certificateArn) throw new Error("the demo run's output names no certificate ARN");

    // -- the bundled verify-connection (grpc-js and protobufjs as deployed) through the ALB simulator, with the demo's last input
    let verifyBundle: Record<string, unknown> = { skipped: "no verify-connection bundle" };
    const verifyEvent = demo.lastEvent.get("verify-connection");
    if (verifyBundleFile && verifyEvent) {
      const bundled = (await import(pathToFileURL(verifyBundleFile).href)) as typeof import("../../functions/verify-connection/handler");
      const handler = bundled.makeHandler({
        resolve: async (hostname) => {
          const found = sandbox.alb.resolve(hostname);
          if (found.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
          return found;
        },
        timeoutMs: 5_000,
      });
      const cpu = process.cpuUsage();
      const [ms, result] = await timed(() => quietly(logs, () => handler(verifyEvent as never, lambdaContext("verify-connection"))));
      const { user, system } = process.cpuUsage(cpu);
      // CPU of the whole process while it ran (the ALB simulator and the Milvus stand-in included): an upper bound.
      verifyBundle = { ...(result as object), ms: round(ms), cpuMs: round((user + system) / 1000) };
      say(`   bundled verify-connection: Milvus ${(result as { milvusVersion?: string }).milvusVersion} through the ALB in ${round(ms)} ms, ${round((user + system) / 1000)} ms CPU`);
    }

    // -- the same request again, with the address withheld from the first two polls: the reference run
    const thirdPoll = recording(sandbox.functions, (key, result) => {
      if (stepOfResource(key).name !== "get-ingress-status") return result;
      const status = result as { polls: number; ready: boolean };
      return status.polls < 3 ? { ...status, ready: false, hostname: undefined, nextWaitSeconds: nextWaitSeconds(status.polls) } : result;
    });
    const thirdPollRun = mustSucceed(await quietly(logs, () => runWorkflow(request, thirdPoll.functions)), "third-poll run", logs);
    const polls = thirdPoll.invocations.filter((i) => i.fn === "get-ingress-status").length;

    // -- renewal of one certificate serving 20 Milvus endpoints (see docs/benchmark.md for the set-up)
    const basePlan = await quietly(logs, () => sandbox.functions.ResolveRequestFunctionArn({ request, executionArn: "bench" }));
    const baseTarget = (basePlan as { targets: Target[] }).targets[0];
    if (!baseTarget) throw new Error("resolve-request planned no target");
    const targets = expandTargets(baseTarget, TARGETS_IN_RENEWAL);
    const hosts = targets.map((t) => t.ingress.host);
    // Set-up: the other 19 endpoints are deployed already: their Services (copies of the Helm chart's), cut over
    // to ClusterIP and each with its Ingress applied by the real step functions, with an address published.
    const setupStarted = performance.now();
    const others = targets.slice(1);
    for (const target of others) sandbox.addMilvusService(target.service.name);
    await quietly(logs, () =>
      Promise.all(
        others.map(async (target) => {
          await sandbox.functions.ApplyIngressFunctionArn({ target, certificate: { arn: certificateArn } });
          await sandbox.functions.PatchServiceFunctionArn({ target });
        }),
      ),
    );
    await untilPublished(sandbox, others);
    say(`   set-up: ${others.length} more endpoints deployed in ${round((performance.now() - setupStarted) / 1000, 2)} s`);

    // Retries on EndpointNotReady (a Connect that timed out on the busy sandbox, or the ALB still serving the
    // previous certificate) wait VERIFY_RETRY_MS rather than 10 ms, in both runs: the ASL's own interval is 10 s.
    const states = loadDefinition().States;
    const retryMs = Object.fromEntries(
      allStates(states)
        .filter(([, state]) => JSON.stringify(state.Retry ?? []).includes("EndpointNotReady"))
        .map(([name]) => [name, VERIFY_RETRY_MS]),
    );
    const renewalSecret = "milvus-l7/bench-renewal";
    const renew = async (count: number) => {
      const renewalSecretArn = await sandbox.storeInSecret(await sandbox.newCertificate(hosts), renewalSecret);
      const recorder = recording(
        {
          ...sandbox.functions,
          // The plan a renewal of this certificate makes: every target that serves it.
          ResolveRequestFunctionArn: async (event: unknown) => {
            const plan = (await sandbox.functions.ResolveRequestFunctionArn(event)) as { targets: Target[] };
            return { ...plan, targets: targets.slice(0, count) };
          },
        },
        undefined,
        performance.now() + RENEWAL_CAP_MS,
      );
      const cpu = process.cpuUsage();
      const [ms, result] = await timed(() =>
        quietly(logs, () => runWorkflow(sandbox.request(renewalSecretArn, certificateArn), recorder.functions, { retryMs })),
      );
      const used = process.cpuUsage(cpu);
      const retries = result.events.filter((e) => e.type === "StateRetried").length;
      const entered = result.events.flatMap((e) => (e.type === "StateEntered" ? [{ index: e.index }] : []));
      say(
        `   renewal of ${count}: ${result.status} in ${round(ms / 1000, 2)} s, ${retries} retries` +
          (result.status === "SUCCEEDED" ? "" : ` — ${result.error}: ${result.cause}`),
      );
      return { ms, cpuMs: (used.user + used.system) / 1000, run: result, retries, entered, invocations: recorder.invocations };
    };
    // Several of each, alternated, so neither one run's luck (a verification that reaches an ALB before it serves
    // the re-imported certificate waits VERIFY_RETRY_MS) nor a busy moment of the shared machine decides the ratio.
    const singles: Awaited<ReturnType<typeof renew>>[] = [];
    const twenties: Awaited<ReturnType<typeof renew>>[] = [];
    for (let i = 0; i < RENEWAL_SAMPLES; i++) {
      singles.push(await renew(1));
      twenties.push(await renew(TARGETS_IN_RENEWAL));
    }
    const single = medianRun(singles);
    const twenty = twenties.find((r) => r.run.status !== "SUCCEEDED") ?? medianRun(twenties);
    if (single.run.status !== "SUCCEEDED") throw new Error(`the single-target renewal failed: ${single.run.error}: ${single.run.cause}`);
    const map = Object.values(states).find((s) => s.Type === "Map") as { MaxConcurrency?: number } | undefined;
    const maxConcurrency = map?.MaxConcurrency ?? 0;
    // For comparison: the same two runs if every invocation had its own Lambda (no shared CPU, as in AWS).
    const outsideMap = new Set<string>(
      Object.values(states).flatMap((s) => (s.Type === "Task" && s.Resource ? [stepOfResource(s.Resource.replace(/^\$\{|\}$/g, "")).name] : [])),
    );
    const before = single.invocations.filter((i) => outsideMap.has(i.fn)).reduce((t, i) => t + i.ms, 0);
    const perTarget = single.invocations.filter((i) => !outsideMap.has(i.fn)).reduce((t, i) => t + i.ms, 0);
    const modelRatio = independentLambdasRatio(before, perTarget, TARGETS_IN_RENEWAL, maxConcurrency);

    // -- the drift check, as the daily schedule starts it ({"check": {}}, policy report): every registry target (the
    // 20 the renewals recorded) against the check of one of them (`check.targetId`: the same steps, one Map item).
    const registered = (await sandbox.registry.list()).length;
    if (registered !== TARGETS_IN_RENEWAL) say(`   (the registry holds ${registered} targets, not ${TARGETS_IN_RENEWAL})`);
    const firstId = targetIdOf(targets[0] as Target);
    const runCheck = async (count: 1 | typeof TARGETS_IN_RENEWAL) => {
      const recorder = recording(sandbox.functions, undefined, performance.now() + RENEWAL_CAP_MS);
      const input = { check: count === 1 ? { targetId: firstId } : {} };
      const cpu = process.cpuUsage();
      const [ms, result] = await timed(() => quietly(logs, () => runWorkflow(input, recorder.functions, { retryMs })));
      const used = process.cpuUsage(cpu);
      const retries = result.events.filter((e) => e.type === "StateRetried").length;
      say(
        `   check of ${count}: ${result.status} in ${round(ms / 1000, 2)} s, ${result.transitions} transitions, ${retries} retries` +
          (result.status === "SUCCEEDED" ? "" : ` — ${result.error}: ${String(result.cause).slice(0, 300)}`),
      );
      return { ms, cpuMs: (used.user + used.system) / 1000, run: result, retries, invocations: recorder.invocations };
    };
    const singleChecks: Awaited<ReturnType<typeof runCheck>>[] = [];
    const checks: Awaited<ReturnType<typeof runCheck>>[] = [];
    for (let i = 0; i < CHECK_SAMPLES; i++) {
      singleChecks.push(await runCheck(1));
      checks.push(await runCheck(TARGETS_IN_RENEWAL));
    }
    const singleCheck = medianRun(singleChecks);
    const check = checks.find((r) => r.run.status !== "SUCCEEDED") ?? medianRun(checks);
    const checkMap = states[CHECK_MAP_STATE] as { Type?: string; MaxConcurrency?: number } | undefined;
    if (checkMap?.Type !== "Map") throw new Error(`the ASL has no Map state ${CHECK_MAP_STATE}: scripts/bench/workflow-runs.ts needs updating`);

    return {
      demo: { wallMs: round(demoWallMs), runMs: round(runMs), transitions: demoRun.transitions, status: demoRun.status },
      thirdPoll: { transitions: thirdPollRun.transitions, polls, invocations: thirdPoll.invocations },
      renewal20: {
        wallMs: round(twenty.ms),
        singleTargetWallMs: round(single.ms),
        samplesMs: twenties.map((r) => round(r.ms)),
        singleTargetSamplesMs: singles.map((r) => round(r.ms)),
        ratio: ratio(twenty.ms, single.ms),
        status: twenty.run.status,
        ...(twenty.run.status === "SUCCEEDED" ? {} : { error: `${twenty.run.error}: ${twenty.run.cause}` }),
        maxConcurrency,
        independentLambdasRatio: modelRatio,
        transitions: twenty.run.status === "SUCCEEDED" ? twenty.run.transitions : scaleTransitions(single.entered, TARGETS_IN_RENEWAL),
        singleTargetTransitions: single.run.transitions,
        cpuMs: round(twenty.cpuMs),
        singleTargetCpuMs: round(single.cpuMs),
        retries: twenty.retries,
        singleTargetRetries: single.retries,
        verifyRetryMs: VERIFY_RETRY_MS,
        perFunction: summariseInvocations(twenty.invocations),
        singleTargetPerFunction: summariseInvocations(single.invocations),
        scaledInvocations: scaleInvocations(single.invocations, outsideMap, TARGETS_IN_RENEWAL),
        singleTargetInvocations: single.invocations,
      },
      check20: {
        targets: registered,
        wallMs: round(check.ms),
        singleTargetWallMs: round(singleCheck.ms),
        samplesMs: checks.map((r) => round(r.ms)),
        singleTargetSamplesMs: singleChecks.map((r) => round(r.ms)),
        ratio: ratio(check.ms, singleCheck.ms),
        status: check.run.status,
        singleTargetStatus: singleCheck.run.status,
        ...(check.run.status === "SUCCEEDED" ? {} : { error: `${check.run.error}: ${check.run.cause}` }),
        maxConcurrency: checkMap.MaxConcurrency ?? 0,
        transitions: check.run.transitions,
        singleTargetTransitions: singleCheck.run.transitions,
        cpuMs: round(check.cpuMs),
        singleTargetCpuMs: round(singleCheck.cpuMs),
        retries: check.retries,
        perFunction: summariseInvocations(check.invocations),
        singleTargetPerFunction: summariseInvocations(singleCheck.invocations),
        scaledInvocations: atSingleRunDurations(check.invocations, singleCheck.invocations),
        singleTargetInvocations: singleCheck.invocations,
      },
      verifyBundle,
    };
  } finally {
    await sandbox.stop();
  }
}

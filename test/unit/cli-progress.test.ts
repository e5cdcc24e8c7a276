// The progress model and its rendering (cli/progress): pure functions over aws-local-stepfunctions events (run,
// demo) and Step Functions history events (status), plus the printer's heartbeat.
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import {
  ProgressPrinter,
  type StepEvent,
  activityLine,
  applyStepEvent,
  currentStepOf,
  describeEvent,
  describeStepEvent,
  exitDetail,
  formatElapsed,
  fromHistory,
  fromLocalEvent,
  initialProgress,
  pollTotals,
  progressLine,
  progressOf,
  summaryLines,
} from "../../cli/progress";
import type { EventLog } from "../../statemachine/runner";

const T0 = 1_700_000_000_000;
const warning = (reason: string, message: string) => ({ reason, message, count: 1, lastSeen: "2026-01-01T00:00:00.000Z" });
const pollResult = (polls: number, extra: Record<string, unknown> = {}) => ({
  maxPolls: 35,
  ingress: { namespace: "milvus", name: "milvus-demo", polls, ready: false, nextWaitSeconds: Math.min(2 ** (polls - 1), 5), warnings: [], ...extra },
});

/** A single-target run as aws-local-stepfunctions logs it: two polls without an address, a warning, a retry. */
function localRun(): EventLog[] {
  const s = (type: string, name: string, at: number, more: Record<string, unknown> = {}) =>
    ({ type, timestamp: T0 + at, state: { name, type: more.stateType ?? "Task", input: more.input ?? {}, output: more.output }, ...more }) as unknown as EventLog;
  return [
    { type: "ExecutionStarted", timestamp: T0, input: {} } as EventLog,
    s("StateEntered", "ResolveRequest", 10),
    s("StateExited", "ResolveRequest", 50, { output: { targets: [{}], wait: { maxPolls: 35 } } }),
    s("StateEntered", "DeployTargets", 60, { stateType: "Map" }),
    { type: "MapIterationStarted", timestamp: T0 + 61, index: 0, parentState: { name: "DeployTargets", type: "Map", input: {} } } as unknown as EventLog,
    s("StateEntered", "ApplyIngress", 70, { index: 0 }),
    s("StateFailed", "ApplyIngress", 80, { index: 0, Error: "KubernetesUnavailable", Cause: "Kubernetes API answered 503" }),
    s("StateRetried", "ApplyIngress", 2080, { index: 0, retry: { attempt: 1, retrier: {} } }),
    s("StateExited", "ApplyIngress", 2100, { index: 0, output: { ingress: { namespace: "milvus", name: "milvus-demo", changed: true, polls: 0 } } }),
    s("StateEntered", "GetIngressStatus", 2110, { index: 0, input: { maxPolls: 35, ingress: { polls: 0 } } }),
    s("StateExited", "GetIngressStatus", 32_110, { index: 0, output: pollResult(1) }),
    s("StateEntered", "WaitForAddress", 32_120, { index: 0, stateType: "Wait", input: pollResult(1) }),
  ];
}

describe("aws-local-stepfunctions events", () => {
  it("map to step events, with the target index on state events only", () => {
    const evs = localRun().map(fromLocalEvent);
    expect(evs[0]).toEqual({ kind: "started", at: T0 });
    expect(evs[1]).toMatchObject({ kind: "entered", state: "ResolveRequest", stateType: "Task" });
    expect(evs[1]).not.toHaveProperty("index");
    expect(evs[4]).toBeUndefined(); // MapIterationStarted: progress does not need it
    expect(evs[6]).toMatchObject({ kind: "failed", state: "ApplyIngress", index: 0, error: "KubernetesUnavailable", cause: "Kubernetes API answered 503" });
    expect(evs[7]).toMatchObject({ kind: "retried", state: "ApplyIngress", index: 0, attempt: 1 });
    expect(fromLocalEvent({ type: "MapIterationSucceeded", timestamp: T0, index: 2, parentState: {} } as unknown as EventLog)).toEqual({
      kind: "iterationEnded",
      at: T0,
      index: 2,
      succeeded: true,
    });
    expect(fromLocalEvent({ type: "ExecutionFailed", timestamp: T0, Error: "KubernetesForbidden", Cause: { why: 1 } } as EventLog)).toEqual({
      kind: "ended",
      at: T0,
      status: "FAILED",
      error: "KubernetesForbidden",
      cause: '{"why":1}',
    });
    expect(fromLocalEvent({ type: "ExecutionAborted", timestamp: T0 } as EventLog)).toMatchObject({ kind: "ended", status: "ABORTED" });
  });

  it("fold into per-target progress: step, polls and budget, wait, retries, transitions", () => {
    const p = progressOf(localRun().map(fromLocalEvent).filter((e): e is StepEvent => e !== undefined));
    expect(p.startedAt).toBe(T0);
    expect(p.status).toBe("RUNNING");
    expect(p.main?.step).toBe("DeployTargets");
    expect(p.targets["0"]).toMatchObject({ step: "WaitForAddress", stepType: "Wait", polls: 1, maxPolls: 35, waitSeconds: 1, retries: 1 });
    expect(p.targets["0"]?.failing).toBeUndefined();
    expect(p.retries).toBe(1);
    expect(p.transitions).toBe(5);
    expect(currentStepOf(p)).toBe("WaitForAddress");
  });

  it("keep the controller's latest Warning and the address from the polls", () => {
    let p = progressOf(localRun().map(fromLocalEvent).filter((e): e is StepEvent => e !== undefined));
    p = applyStepEvent(p, { kind: "entered", at: T0 + 33_120, state: "GetIngressStatus", stateType: "Task", index: 0, input: { maxPolls: 35 } });
    p = applyStepEvent(p, {
      kind: "exited",
      at: T0 + 40_000,
      state: "GetIngressStatus",
      stateType: "Task",
      index: 0,
      output: pollResult(2, {
        warnings: [warning("FailedBuildModel", "old"), warning("FailedDeployModel", "ValidationError: success-codes must be 0-99")],
      }),
    });
    expect(p.targets["0"]).toMatchObject({ polls: 2, latestWarning: "FailedDeployModel: ValidationError: success-codes must be 0-99" });
    p = applyStepEvent(p, { kind: "exited", at: T0 + 50_000, state: "GetIngressStatus", stateType: "Task", index: 0, output: pollResult(3, { hostname: "k8s-a.elb.amazonaws.com", ready: true }) });
    expect(p.targets["0"]).toMatchObject({ polls: 3, address: "k8s-a.elb.amazonaws.com", latestWarning: "FailedDeployModel: ValidationError: success-codes must be 0-99" });
    expect(pollTotals(p)).toEqual({ polls: 3, latestWarning: "FailedDeployModel: ValidationError: success-codes must be 0-99" });
  });

  it("a failed attempt is pending until its retry; the end sets status, error and cause", () => {
    const entered: StepEvent = { kind: "entered", at: T0, state: "ClaimTarget", stateType: "Task", index: 0 };
    const failed: StepEvent = { kind: "failed", at: T0 + 100, state: "ClaimTarget", index: 0, error: "TargetBusy", cause: "held by x" };
    let p = progressOf([entered, failed], T0);
    expect(p.targets["0"]?.failing).toEqual({ error: "TargetBusy", cause: "held by x", at: T0 + 100 });
    expect(activityLine(p, T0 + 12_100)).toBe("ClaimTarget [target 0] · attempt failed 12.0s ago (TargetBusy), retry pending");
    p = applyStepEvent(p, { kind: "retried", at: T0 + 30_000, state: "ClaimTarget", index: 0, attempt: 1 });
    expect(p.targets["0"]?.failing).toBeUndefined();
    expect(activityLine(p, T0 + 31_000)).toBe("ClaimTarget [target 0] · for 31.0s · 1 retry");
    p = applyStepEvent(p, { kind: "ended", at: T0 + 40_000, status: "FAILED", error: "TargetBusy", cause: "held by x" });
    expect(p).toMatchObject({ status: "FAILED", error: "TargetBusy", cause: "held by x" });
    expect(progressLine(p, T0 + 41_000)).toBe("  41.0s  FAILED: TargetBusy");
  });

  it("folding never changes the progress it was given", () => {
    const before = initialProgress(T0);
    const snapshot = structuredClone(before);
    applyStepEvent(before, { kind: "entered", at: T0 + 1, state: "ApplyIngress", stateType: "Task", index: 0 });
    expect(before).toEqual(snapshot);
  });
});

describe("lines", () => {
  it("one per Task entry/exit, Wait, failed attempt, retry and end", () => {
    const lines = localRun()
      .map((e) => describeEvent(e, T0))
      .filter(Boolean);
    expect(lines).toEqual([
      "   0.0s  ▶ ResolveRequest",
      "   0.1s  ✓ ResolveRequest — 1 target, up to 35 address polls each",
      "   0.1s  ▶ ApplyIngress [target 0]",
      "   0.1s  ✗ ApplyIngress [target 0]: KubernetesUnavailable: Kubernetes API answered 503",
      "   2.1s  ↻ ApplyIngress [target 0] retry 1",
      "   2.1s  ✓ ApplyIngress [target 0] — Ingress milvus/milvus-demo applied",
      "   2.1s  ▶ GetIngressStatus [target 0]",
      "  32.1s  ✓ GetIngressStatus [target 0] — poll 1/35: no address yet",
      "  32.1s  … WaitForAddress [target 0] 1 s",
    ]);
    expect(describeStepEvent({ kind: "ended", at: T0 + 61_000, status: "SUCCEEDED" }, T0)).toBe("  1m01s  ✓ execution succeeded");
    expect(describeStepEvent({ kind: "ended", at: T0, status: "TIMED_OUT", error: "States.Timeout" }, T0)).toBe("   0.0s  ✗ execution timed out: States.Timeout");
    expect(describeStepEvent({ kind: "entered", at: T0, state: "AddressReady", stateType: "Choice" }, T0)).toBeUndefined();
  });

  it("a poll's line names the controller's latest Warning; other steps say what they did", () => {
    const output = pollResult(4, { warnings: [warning("FailedDeployModel", "Failed deploy model due to AccessDenied")] });
    expect(exitDetail("GetIngressStatus", output)).toBe(
      " — poll 4/35: no address yet; latest controller event: FailedDeployModel: Failed deploy model due to AccessDenied",
    );
    expect(exitDetail("GetIngressStatus", pollResult(2, { hostname: "k8s-a.elb.amazonaws.com" }))).toBe(
      " — poll 2/35: address k8s-a.elb.amazonaws.com, controller still deploying",
    );
    expect(exitDetail("CutOver", { service: { previousType: "LoadBalancer", type: "ClusterIP" } })).toBe(" — Service LoadBalancer → ClusterIP");
    expect(
      exitDetail("CutOver", { service: { previousType: "LoadBalancer", type: "ClusterIP", via: "milvus-operator", field: "Milvus milvus/m spec.components.proxy.serviceType" } }),
    ).toBe(" — Service LoadBalancer → ClusterIP through Milvus milvus/m spec.components.proxy.serviceType");
    expect(exitDetail("ImportCertificate", { importedCertificate: { imported: false, arn: "arn:x" } })).toBe(" — unchanged arn:x");
    expect(exitDetail("ClaimTarget", { lease: { claimed: true, tookOverFrom: "arn:old" } })).toBe(" — lease taken over from arn:old");
    expect(exitDetail("VerifyThroughAlb", { verification: { milvusVersion: "v2.5.4", addresses: ["10.0.0.1:443", "10.0.1.1:443", "10.0.2.1:443"], servedFingerprint256: "AA:BB" } })).toBe(
      " — Milvus v2.5.4 on 3 addresses, served SHA-256 AA:BB",
    );
    expect(exitDetail("RecordDeployment", {})).toBe("");
    expect(exitDetail("GetIngressStatus", undefined)).toBe("");
  });

  it("the heartbeat shows each active target; finished ones drop out; many are summarised", () => {
    let p = initialProgress(T0);
    for (let i = 0; i < 5; i++) {
      p = applyStepEvent(p, { kind: "entered", at: T0 + 1000, state: "GetIngressStatus", stateType: "Task", index: i, input: { maxPolls: 35 } });
    }
    p = applyStepEvent(p, { kind: "iterationEnded", at: T0 + 2000, index: 0, succeeded: true });
    p = applyStepEvent(p, { kind: "iterationEnded", at: T0 + 2000, index: 1, succeeded: true });
    expect(progressLine(p, T0 + 65_000)).toBe(
      "  1m05s  ⏳ GetIngressStatus [target 2] · for 1m04s · poll 1/35 · no address yet | " +
        "GetIngressStatus [target 3] · for 1m04s · poll 1/35 · no address yet | " +
        "GetIngressStatus [target 4] · for 1m04s · poll 1/35 · no address yet",
    );
    for (let i = 5; i < 7; i++) p = applyStepEvent(p, { kind: "entered", at: T0 + 3000, state: "ApplyIngress", stateType: "Task", index: i });
    expect(progressLine(p, T0 + 65_000)).toMatch(/ \| \+2 more targets$/);
    expect(progressLine(initialProgress(T0), T0 + 500)).toBe("   0.5s  ⏳ starting");
  });

  it("formats elapsed time for people", () => {
    expect(formatElapsed(0)).toBe("0.0s");
    expect(formatElapsed(59_949)).toBe("59.9s");
    expect(formatElapsed(65_000)).toBe("1m05s");
    expect(formatElapsed(3_723_000)).toBe("1h02m");
    expect(formatElapsed(-5)).toBe("0.0s");
  });
});

// A Step Functions history as GetExecutionHistory returns it (Lambda ARNs as Task resources: LambdaFunction*
// events), two targets in an inline Map, in reverse order across two "pages".
function history(): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const add = (type: string, previousEventId: number, details: Partial<HistoryEvent> = {}, atMs = events.length * 1000) => {
    const id = events.length + 1;
    events.push({ id, previousEventId, type: type as HistoryEvent["type"], timestamp: new Date(T0 + atMs), ...details });
    return id;
  };
  const entered = (name: string, input?: unknown) => ({ stateEnteredEventDetails: { name, input: input === undefined ? undefined : JSON.stringify(input) } });
  const exited = (name: string, output?: unknown) => ({ stateExitedEventDetails: { name, output: output === undefined ? undefined : JSON.stringify(output) } });
  let prev = add("ExecutionStarted", 0);
  prev = add("TaskStateEntered", prev, entered("ResolveRequest", { cluster: {} }));
  prev = add("LambdaFunctionScheduled", prev);
  prev = add("LambdaFunctionSucceeded", prev);
  prev = add("TaskStateExited", prev, exited("ResolveRequest"));
  prev = add("MapStateEntered", prev, entered("DeployTargets"));
  const mapStarted = add("MapStateStarted", prev);
  const it0 = add("MapIterationStarted", mapStarted, { mapIterationStartedEventDetails: { name: "DeployTargets", index: 0 } });
  const it1 = add("MapIterationStarted", mapStarted, { mapIterationStartedEventDetails: { name: "DeployTargets", index: 1 } });
  // target 0: address on the second poll, then done
  let a = add("TaskStateEntered", it0, entered("GetIngressStatus", { maxPolls: 35, ingress: { polls: 0 } }));
  a = add("LambdaFunctionScheduled", a);
  // target 1: a failed attempt, retried, then waiting
  let b = add("TaskStateEntered", it1, entered("ApplyIngress"));
  b = add("LambdaFunctionScheduled", b);
  b = add("LambdaFunctionFailed", b, { lambdaFunctionFailedEventDetails: { error: "KubernetesUnavailable", cause: '{"errorMessage":"503"}' } });
  a = add("LambdaFunctionSucceeded", a);
  a = add("TaskStateExited", a, exited("GetIngressStatus", pollResult(1, { warnings: [warning("FailedBuildModel", "bad annotation")] })));
  b = add("LambdaFunctionScheduled", b);
  b = add("LambdaFunctionSucceeded", b);
  b = add("TaskStateExited", b, exited("ApplyIngress", { ingress: { namespace: "milvus", name: "b", changed: true, polls: 0 } }));
  a = add("WaitStateEntered", a, entered("WaitForAddress", pollResult(1)));
  a = add("WaitStateExited", a, exited("WaitForAddress"));
  a = add("TaskStateEntered", a, entered("GetIngressStatus", { maxPolls: 35 }));
  a = add("LambdaFunctionScheduled", a);
  a = add("LambdaFunctionSucceeded", a);
  a = add("TaskStateExited", a, exited("GetIngressStatus", pollResult(2, { hostname: "k8s-a.elb.amazonaws.com", ready: true })));
  a = add("MapIterationSucceeded", a, { mapIterationSucceededEventDetails: { name: "DeployTargets", index: 0 } });
  b = add("TaskStateEntered", b, entered("GetIngressStatus", { maxPolls: 35 }));
  return events;
}

describe("Step Functions history", () => {
  it("maps events to targets through previousEventId, and a task scheduled again to a retry", () => {
    const events = history();
    const reversed = [...events].reverse();
    // Two pages of a reverse-order read, concatenated: order does not matter.
    const evs = fromHistory([...reversed.slice(0, 10), ...reversed.slice(10)]);
    expect(evs[0]).toEqual({ kind: "started", at: T0 });
    const of = (index: number | undefined) => evs.filter((e) => ("index" in e ? e.index : undefined) === index);
    expect(of(undefined).map((e) => `${e.kind} ${"state" in e ? e.state : ""}`)).toEqual([
      "started ",
      "entered ResolveRequest",
      "exited ResolveRequest",
      "entered DeployTargets",
    ]);
    expect(of(1).map((e) => `${e.kind} ${"state" in e ? e.state : ""}`)).toEqual([
      "entered ApplyIngress",
      "failed ApplyIngress",
      "retried ApplyIngress",
      "exited ApplyIngress",
      "entered GetIngressStatus",
    ]);
    // The Lambda runtime's JSON Cause is read down to its message.
    expect(evs.find((e) => e.kind === "failed")).toMatchObject({ error: "KubernetesUnavailable", cause: "503", index: 1 });
    expect(evs.find((e) => e.kind === "iterationEnded")).toMatchObject({ index: 0, succeeded: true });
  });

  it("folds into the same progress model as a local run", () => {
    const p = progressOf(fromHistory(history()));
    expect(p.startedAt).toBe(T0);
    expect(p.targets["0"]).toMatchObject({ step: "GetIngressStatus", polls: 2, maxPolls: 35, address: "k8s-a.elb.amazonaws.com", latestWarning: "FailedBuildModel: bad annotation", finished: true });
    expect(p.targets["1"]).toMatchObject({ step: "GetIngressStatus", polls: 0, retries: 1 });
    expect(p.retries).toBe(1);
    expect(pollTotals(p)).toEqual({ polls: 2, latestWarning: "FailedBuildModel: bad annotation" });
    expect(activityLine(p, T0 + 60_000)).toMatch(/^GetIngressStatus \[target 1\] · for \S+ · poll 1\/35 · no address yet · 1 retry$/);
  });

  it("reads the end of an execution, and moto's canned four-event history", () => {
    const failed = fromHistory([
      { id: 1, type: "ExecutionStarted", timestamp: new Date(T0) },
      { id: 2, previousEventId: 1, type: "ExecutionFailed", timestamp: new Date(T0 + 5000), executionFailedEventDetails: { error: "InvalidRequest", cause: "cutover: …" } },
    ]);
    expect(failed.at(-1)).toEqual({ kind: "ended", at: T0 + 5000, status: "FAILED", error: "InvalidRequest", cause: "cutover: …" });
    const moto = fromHistory([
      { id: 1, previousEventId: 0, type: "ExecutionStarted", timestamp: new Date(T0) },
      { id: 2, previousEventId: 0, type: "PassStateEntered", timestamp: new Date(T0), stateEnteredEventDetails: { name: "A State" } },
      { id: 3, previousEventId: 2, type: "PassStateExited", timestamp: new Date(T0), stateExitedEventDetails: { name: "A State" } },
      { id: 4, previousEventId: 3, type: "ExecutionSucceeded", timestamp: new Date(T0) },
    ]);
    expect(moto.map((e) => e.kind)).toEqual(["started", "entered", "exited", "ended"]);
    expect(currentStepOf(progressOf(moto))).toBe("A State");
  });
});

describe("ProgressPrinter", () => {
  it("prints event lines; off a terminal, a heartbeat line only after a silence", () => {
    let now = T0;
    let out = "";
    const printer = new ProgressPrinter({ write: (t) => (out += t), interactive: false, heartbeatMs: 30_000, now: () => now }, T0);
    printer.onEvent({ kind: "entered", at: T0 + 100, state: "GetIngressStatus", stateType: "Task", index: 0, input: { maxPolls: 35 } });
    now = T0 + 20_000;
    printer.tick();
    expect(out).toBe("   0.1s  ▶ GetIngressStatus [target 0]\n");
    now = T0 + 31_000;
    printer.tick();
    expect(out.split("\n")[1]).toBe("  31.0s  ⏳ GetIngressStatus [target 0] · for 30.9s · poll 1/35 · no address yet");
    now = T0 + 40_000;
    printer.tick(); // 9 s after the heartbeat: quiet again
    expect(out.split("\n")).toHaveLength(3);
    printer.onEvent({ kind: "ended", at: T0 + 41_000, status: "SUCCEEDED" });
    now = T0 + 100_000;
    printer.tick(); // ended: no more heartbeats
    expect(out.split("\n").filter(Boolean).at(-1)).toBe("  41.0s  ✓ execution succeeded");
    expect(printer.current.status).toBe("SUCCEEDED");
  });

  it("on a terminal, rewrites one status line in place and clears it before an event line", () => {
    let now = T0;
    const writes: string[] = [];
    const printer = new ProgressPrinter({ write: (t) => writes.push(t), interactive: true, columns: 40, now: () => now }, T0);
    printer.onEvent({ kind: "entered", at: T0, state: "VerifyThroughAlb", stateType: "Task", index: 0 });
    now = T0 + 2000;
    printer.tick();
    // Cut to the terminal's width (less one column), so it never wraps.
    expect(writes.at(-1)).toBe("\r\x1b[2K   2.0s  ⏳ VerifyThroughAlb [target 0]…");
    expect(writes.at(-1)?.length).toBe("\r\x1b[2K".length + 39);
    printer.onEvent({ kind: "exited", at: T0 + 2500, state: "VerifyThroughAlb", stateType: "Task", index: 0 });
    expect(writes.slice(-2)).toEqual(["\r\x1b[2K", "   2.5s  ✓ VerifyThroughAlb [target 0]\n"]);
    printer.tick();
    printer.stop();
    expect(writes.at(-1)).toBe("\r\x1b[2K");
  });
});

describe("a step whose Catch takes its error", () => {
  const acmRejected =
    "AWS rejected the function's credentials for acm:DescribeCertificate on arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e (CredentialsProviderError: Could not load credentials from any providers).";
  const printed = (feed: (printer: ProgressPrinter) => void) => {
    let out = "";
    const printer = new ProgressPrinter({ write: (t) => (out += t), interactive: false, now: () => T0 }, T0);
    feed(printer);
    return out.split("\n").filter(Boolean).map((line) => line.trim());
  };

  // What `milvus-l7 run events/console-start.json` logged without credentials: ImportCertificate fails, its Catch
  // sends the run to the Fail state, and the library logs ImportCertificate as exited in between.
  it("stays ✗ in a local run: no ✓ for the exit the Catch makes", () => {
    const state = (type: string, name: string, stateType: string, at: number, more: Record<string, unknown> = {}) =>
      ({ type, timestamp: T0 + at, state: { name, type: stateType, input: {} }, ...more }) as unknown as EventLog;
    const events: EventLog[] = [
      { type: "ExecutionStarted", timestamp: T0, input: {} } as EventLog,
      state("StateEntered", "ResolveRequest", "Task", 1),
      { ...state("StateExited", "ResolveRequest", "Task", 2), state: { name: "ResolveRequest", type: "Task", input: {}, output: { targets: [{}], wait: { maxPolls: 35 } } } } as EventLog,
      state("StateEntered", "ImportCertificate", "Task", 3),
      state("StateFailed", "ImportCertificate", "Task", 100, { Error: "AcmRejected", Cause: acmRejected }),
      state("StateCaught", "ImportCertificate", "Task", 100, { catch: { catcher: { ErrorEquals: ["States.ALL"], Next: "Failed" } } }),
      { ...state("StateExited", "ImportCertificate", "Task", 100), state: { name: "ImportCertificate", type: "Task", input: {}, output: { error: { Error: "AcmRejected", Cause: acmRejected } } } } as EventLog,
      state("StateEntered", "Failed", "Fail", 101),
      state("StateFailed", "Failed", "Fail", 101, { Error: "AcmRejected", Cause: acmRejected }),
      { type: "ExecutionFailed", timestamp: T0 + 101, Error: "AcmRejected", Cause: acmRejected } as EventLog,
    ];
    const lines = printed((printer) => {
      for (const event of events) printer.onLocalEvent(event);
    });
    expect(lines.map((l) => l.replace(/^\S+ {2}/, "").replace(/: .*$/, ""))).toEqual([
      "▶ ResolveRequest",
      "✓ ResolveRequest — 1 target, up to 35 address polls each",
      "▶ ImportCertificate",
      "✗ ImportCertificate",
      "✗ Failed",
      "✗ execution failed",
    ]);
  });

  it("stays ✗ from a Step Functions history: the exit after a failure nothing retried", () => {
    const events: HistoryEvent[] = [
      { id: 1, type: "ExecutionStarted", timestamp: new Date(T0) },
      { id: 2, previousEventId: 1, type: "TaskStateEntered", timestamp: new Date(T0 + 1), stateEnteredEventDetails: { name: "ImportCertificate", input: "{}" } },
      { id: 3, previousEventId: 2, type: "LambdaFunctionScheduled", timestamp: new Date(T0 + 2) },
      { id: 4, previousEventId: 3, type: "LambdaFunctionFailed", timestamp: new Date(T0 + 3), lambdaFunctionFailedEventDetails: { error: "AcmRejected", cause: JSON.stringify({ errorMessage: acmRejected }) } },
      { id: 5, previousEventId: 4, type: "TaskStateExited", timestamp: new Date(T0 + 4), stateExitedEventDetails: { name: "ImportCertificate", output: "{}" } },
      { id: 6, previousEventId: 5, type: "FailStateEntered", timestamp: new Date(T0 + 5), stateEnteredEventDetails: { name: "Failed", input: "{}" } },
      { id: 7, previousEventId: 6, type: "ExecutionFailed", timestamp: new Date(T0 + 6), executionFailedEventDetails: { error: "AcmRejected", cause: acmRejected } },
    ];
    const lines = printed((printer) => {
      for (const ev of fromHistory(events)) printer.onEvent(ev);
    });
    expect(lines.some((l) => l.includes("✓ ImportCertificate"))).toBe(false);
    expect(lines.filter((l) => l.includes("ImportCertificate"))).toEqual(["0.0s  ▶ ImportCertificate", `0.0s  ✗ ImportCertificate: AcmRejected: ${acmRejected}`]);
  });

  it("a failed attempt that a retry follows still ends ✓ when the retry succeeds", () => {
    const lines = printed((printer) => {
      for (const event of localRun()) printer.onLocalEvent(event);
    });
    expect(lines.filter((l) => l.includes("ApplyIngress"))).toEqual([
      "0.1s  ▶ ApplyIngress [target 0]",
      "0.1s  ✗ ApplyIngress [target 0]: KubernetesUnavailable: Kubernetes API answered 503",
      "2.1s  ↻ ApplyIngress [target 0] retry 1",
      "2.1s  ✓ ApplyIngress [target 0] — Ingress milvus/milvus-demo applied",
    ]);
  });
});

describe("summaryLines", () => {
  it("lists each target's ALB with how many of its addresses were verified, served certificate, Milvus version and authentication, Service change and warnings", () => {
    const lines = summaryLines({
      status: "SUCCEEDED",
      certificateArn: "arn:aws:acm:us-east-2:123456789012:certificate/x",
      certificateImported: false,
      targets: [
        {
          targetId: "us-east-2/milvus-eks/milvus/milvus-demo",
          host: "milvus-demo.milvus.io",
          namespace: "milvus",
          service: "milvus-demo",
          ingress: "milvus-demo",
          albHostname: "k8s-milvus-milvusde-0123456789-1.us-east-2.elb.amazonaws.com",
          addressesVerified: 3,
          servedFingerprint256: "AA:BB",
          servedNotAfter: "2027-01-01T00:00:00.000Z",
          milvusVersion: "v2.5.4",
          milvusAuth: "password",
          serviceType: "ClusterIP",
          previousServiceType: "LoadBalancer",
          warnings: ["managed by Helm"],
        },
      ],
    });
    expect(lines).toEqual([
      "",
      "status:        SUCCEEDED",
      "certificate:   arn:aws:acm:us-east-2:123456789012:certificate/x (unchanged)",
      "target:        milvus-demo.milvus.io  (milvus/milvus-demo, Ingress milvus-demo)",
      "  ALB:         k8s-milvus-milvusde-0123456789-1.us-east-2.elb.amazonaws.com (3 addresses verified)",
      "  served cert: SHA-256 AA:BB, valid until 2027-01-01T00:00:00.000Z",
      "  Milvus:      v2.5.4",
      "  Milvus auth: password",
      "  Service:     LoadBalancer → ClusterIP",
      "  warning:     managed by Helm",
    ]);
  });
});

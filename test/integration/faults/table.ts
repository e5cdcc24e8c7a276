// The fault matrix as docs/faults.md shows it: one row per fault and step, recorded from what each run shows, and
// the document rendered from the rows in the order the scenarios recorded them. The rows are this module's; the
// one test file (test/integration/faults.sandbox.test.ts) runs every scenario and compares the result.
import type { Sandbox } from "../../../sandbox";
import type { WorkflowRun } from "../../../sandbox/workflow";
import { entered, expectNoKeyIn, failuresOf, retriesOf } from "./harness";

type Expectation = "succeeds" | "transient" | "absorbed" | "terminal" | "persistent" | "bounded";

const EXPECTATIONS: Record<Expectation, string> = {
  succeeds: "succeeds",
  transient: "transient: step retried, succeeds",
  absorbed: "absorbed: succeeds without a Retry",
  terminal: "terminal: fails fast",
  persistent: "retried to MaxAttempts, then fails",
  bounded: "bounded wait, then fails",
};

interface Row {
  group: string;
  fault: string;
  step: string;
  how: string;
  expected: Expectation;
  observed: string;
  error: string;
  retries: string;
  cause: string;
}

const rows: Row[] = [];

/** Causes without run-specific values: ARNs, ALB hostnames, ports, fingerprints, times, ids. */
function normaliseCause(text: string): string {
  return text
    .replace(/-----BEGIN [^-]*-----[\s\S]*?-----END [^-]*-----/g, "<PEM>")
    .replace(/arn:aws:[A-Za-z0-9:/_+=,.@-]*[A-Za-z0-9/_+=@-]/g, "<arn>")
    .replace(/\bk8s-[a-z0-9-]+\.[a-z0-9-]+\.elb\.amazonaws\.com\b/g, "<alb>")
    .replace(/\b(?:[0-9A-F]{2}:){31}[0-9A-F]{2}\b/g, "<sha256>")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, "<time>")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
    // Timings inside gRPC's deadline message, and Kubernetes' event aggregation prefix, vary from run to run.
    .replace(/Deadline exceeded after [^)]*/g, "Deadline exceeded after <timings>")
    .replace(/\(combined from similar events\): /g, "")
    .replace(/(secret:[^\s-]+(?:-[^\s-]+)*)-[A-Za-z0-9]{6}\b/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, Math.max(s.lastIndexOf(" ", max), max / 2))} …`);

/** The problem (first sentence) and the advice (last sentence) of a Cause. */
function causeExcerpt(cause: string | undefined): string {
  if (!cause) return "—";
  const sentences = normaliseCause(cause).split(/(?<=[.;])\s+(?=[A-Z])/);
  const first = sentences[0] ?? "";
  const last = sentences.length > 1 ? sentences.at(-1) ?? "" : "";
  return last ? `${clip(first, 130)} … ${clip(last, 130)}` : clip(first, 200);
}

interface RowSpec {
  group: string;
  fault: string;
  step: string;
  how: string;
  expected: Expectation;
  /** The ASL state whose retries and failures the row reports. */
  state: string;
  /** Appended to the observed status, e.g. what was left in the cluster. */
  after?: string;
  /** Report polls of the address wait instead of retries. */
  polls?: boolean;
  /** The state is the rollback after another failure: report its own outcome next to the run's error. */
  rollback?: boolean;
  /** Only the state's failures whose Cause contains this (several faults hit the same state in one run). */
  match?: string;
}

/**
 * Records what the run shows for one fault, before the test's assertions so the table shows the observation, and
 * scans the run for the private keys.
 */
export function record(sb: Sandbox, spec: RowSpec, run: WorkflowRun): void {
  const all = failuresOf(run, spec.state);
  const failures = spec.match ? all.filter((f) => f.cause.includes(spec.match as string)) : all;
  // Every failure of a state is either retried or caught; with `match`, the run succeeded, so each was retried.
  const retries = spec.match ? failures.length : retriesOf(run, spec.state);
  const ownFailure = failures.at(-1);
  let error = "—";
  let cause: string | undefined;
  if (spec.rollback && ownFailure) {
    const recovered = retries > 0 && retries === failures.length;
    error = `${run.error}; rollback: ${ownFailure.error}${recovered ? " (retried)" : ""}`;
    cause = ownFailure.cause;
  } else if (run.status === "FAILED" && !spec.match) {
    error = run.error ?? "?";
    cause = run.cause;
    if (ownFailure && ownFailure.error !== run.error) {
      // The step's own failure was caught without failing the run (the rollback): show both.
      error = `${run.error}; ${spec.state}: ${ownFailure.error}`;
      cause = ownFailure.cause;
    }
  } else if (ownFailure) {
    error = `${ownFailure.error} (retried)`;
    cause = ownFailure.cause;
  }
  rows.push({
    group: spec.group,
    fault: spec.fault,
    step: spec.step,
    how: spec.how,
    expected: spec.expected,
    observed: `${run.status}${spec.after ? `; ${spec.after}` : ""}`,
    error,
    retries: spec.polls ? `${entered(run, "GetIngressStatus")} polls` : String(retries),
    cause: causeExcerpt(cause),
  });
  expectNoKeyIn(sb, run);
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderDoc(): string {
  const lines = [
    "# Fault matrix",
    "",
    "<!-- Generated by test/integration/faults.sandbox.test.ts; do not edit. Regenerate with",
    "     UPDATE_FAULTS_DOC=1 npx vitest run test/integration/faults.sandbox.test.ts -->",
    "",
    "What the workflow does when its surroundings misbehave, as observed in the sandbox: each fault is injected at",
    "each step where it can occur, and the workflow runs through the real state machine",
    "(`statemachine/milvus-l7.asl.json`) with the real Lambda handlers. The test asserts every outcome and fails",
    "when this table no longer matches what it observes.",
    "",
    "- **Kubernetes** faults come from the API stand-in (`kube.injectFault`, matched by method and path, armed just",
    "  before the step runs); conflicts and missing objects are provoked for real where possible.",
    "- **AWS** faults are error responses in each service's wire protocol from a middleware on the sandbox's SDK",
    "  clients (`sandbox/aws-faults.ts`): the SDK's own deserializer and retry strategy (3 attempts for",
    "  throttling and 5xx) handle them as they would AWS's. \"Not found\" is real (moto).",
    "- **Milvus, ALB, controller** faults are the stand-ins' switches (`milvus.setFault`, `alb.setFault`).",
    "",
    "Columns: *Expected* — transient faults must be retried by the step that hit them and the run must succeed;",
    "terminal ones must fail the run at once (no Retry) with a Cause naming the problem and the fix. *Retries* —",
    "`StateRetried` events of the step in the execution history (Retry intervals compressed to 10 ms). *Error* — the",
    "execution's error, or for a run that succeeded the error its Retry absorbed. *Cause* — its first and last",
    "sentence, with ARNs, hostnames, ports and times replaced by placeholders.",
    "",
    "Every scenario below, and the happy path and renewal, is scanned for the private keys (PEM, base64 body, each",
    "body line, base64 of the PEM) in state inputs and outputs, the event history, the output, the error and",
    "Cause, and the handlers' logs: zero hits.",
    "",
  ];
  const groups = [...new Set(rows.map((r) => r.group))];
  let n = 0;
  for (const group of groups) {
    lines.push(`## ${group}`, "");
    lines.push("| # | Fault | Step | Injected how | Expected | Observed | Error | Retries | Cause (excerpt) |");
    lines.push("|---|---|---|---|---|---|---|---|---|");
    for (const r of rows.filter((x) => x.group === group)) {
      n += 1;
      lines.push(
        `| ${n} | ${cell(r.fault)} | ${cell(r.step)} | ${cell(r.how)} | ${EXPECTATIONS[r.expected]} | ${cell(r.observed)} | ${cell(r.error)} | ${r.retries} | ${cell(r.cause)} |`,
      );
    }
    lines.push("");
  }
  lines.push(
    "## Notes",
    "",
    "- A Kubernetes 429 or 5xx with a `Retry-After` of at most 5 s is waited out and retried once inside the call,",
    "  as client-go does; a longer one, or a second failure, fails the step with `KubernetesUnavailable` (naming",
    "  the delay asked for) and the state machine's Retry (2 s, backoff 2, full jitter, 5 attempts) decides when to",
    "  try again. A request that a kept-alive connection loses before any answer (the server closed it while idle)",
    "  is retried on another connection inside the call; a reset on a fresh connection goes to the state's Retry.",
    "- A Kubernetes call that never answers costs the step 10 s (`kubeCall`'s deadline) before it is retried; a",
    "  watch that never answers just ends the poll after its own window (`watchSeconds`), and the next poll reads",
    "  the Ingress again.",
    "- The AWS SDK retries throttling and 5xx itself (3 attempts; 4 for DynamoDB): one throttled request never",
    "  reaches the state machine; a call whose every attempt fails becomes `AwsUnavailable`, which the state",
    "  retries. The SDK counts ACM's `LimitExceededException` as throttling too, so a quota error costs three",
    "  attempts before it fails the step.",
    "- Milvus and ALB faults surface as `EndpointNotReady`: a new ALB legitimately answers 503/404 or serves the",
    "  previous certificate for a while, so these are retried (12 times) before the run fails, never failed fast.",
    "- A single `GET Ingress` by get-ingress-status is not given transient faults: the ALB controller reads the",
    "  same Ingress at the same moment and could take the fault instead. That call's 404 is covered, and its",
    "  transient faults take the same path (`kubeCall`) as the rows above.",
    "- When the rollback (`onFailure: remove-ingress`) fails too, the execution's Error stays that of the step that",
    "  failed first, and its Cause gains the rollback's error and cause: the Ingress is still in place.",
    "",
  );
  return lines.join("\n");
}

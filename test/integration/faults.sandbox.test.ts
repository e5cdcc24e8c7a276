// The fault matrix (issue 4, items 1 and 5). Every fault is injected at each step where it can occur, and the
// workflow runs through the real ASL with the real handlers against the sandbox:
// - Kubernetes: the API stand-in's fault injection, matched by method and path and armed by a hook just before
//   the step's handler runs (the ALB-controller simulator talks to the same apiserver, so a fault armed earlier
//   could hit one of its requests instead); 409/404 are provoked for real where they can be (another field
//   manager owning a field, a deleted Service or Ingress, a namespace that does not exist).
// - AWS: error responses in each service's wire protocol from a middleware on the sandbox's SDK clients
//   (sandbox/aws-faults.ts), so the SDK's own deserializer and retry strategy handle them; "not found" is real.
// - Milvus, the ALB and the controller: the stand-ins' fault switches.
// Transient faults must be retried by the state that hit them (StateRetried in the history) and the run must
// succeed; terminal faults must fail the run at once (no StateRetried for them) with a Cause that names the
// problem and the fix. Every run is scanned for the private keys (item 5). The observed outcomes form the table in
// docs/faults.md: the last test fails when it differs (UPDATE_FAULTS_DOC=1 rewrites it).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { DeleteCertificateCommand } from "@aws-sdk/client-acm";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CoreV1Api, KubeConfig, NetworkingV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf } from "../../functions/lib/certificates";
import { eksToken } from "../../functions/lib/kube";
import { CLUSTER, HOST, REGION, type Sandbox, startSandbox } from "../../sandbox";
import { type Fault, kubeconfigYaml, seedMilvusRelease } from "../../sandbox/kube-apiserver";
import type { CertificateSet } from "../../sandbox/pki";
import { keyLeaks } from "../../sandbox/secrets";
import { type FunctionKey, type LocalFunction, type RunOptions, type WorkflowRun, lambdaContext } from "../../sandbox/workflow";

const DOC = new URL("../../docs/faults.md", import.meta.url);
const NS = "milvus";
const SERVICE = "milvus-demo";
const INGRESS = "milvus-demo";
const OTHER_HOST = "milvus-other.milvus.io";
const BUCKET = "milvus-l7-certs";

/** Request paths of our own calls, as the fault matcher sees them (path plus query string). */
const PATH = {
  service: `/api/v1/namespaces/${NS}/services/${SERVICE}`,
  patchService: `/api/v1/namespaces/${NS}/services/${SERVICE}?fieldManager=milvus-l7`,
  ingress: `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${INGRESS}`,
  applyIngress: `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${INGRESS}?fieldManager=milvus-l7`,
  // The controller watches Ingresses in all namespaces; only get-ingress-status watches this namespace.
  watch: `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses?watch=true`,
  // The controller creates and patches Events; only get-ingress-status lists them.
  events: `/api/v1/namespaces/${NS}/events?fieldSelector=`,
};

// ---------------------------------------------------------------------------------------------------------------
// The table

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

const retriesOf = (run: WorkflowRun, state: string) =>
  run.events.filter((e) => e.type === "StateRetried" && e.state.name === state).length;
const failuresOf = (run: WorkflowRun, state: string) =>
  run.events.flatMap((e) => (e.type === "StateFailed" && e.state.name === state ? [{ error: e.Error, cause: String(e.Cause) }] : []));
const entered = (run: WorkflowRun, state: string) =>
  run.events.filter((e) => e.type === "StateEntered" && e.state.name === state).length;

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
function record(sb: Sandbox, spec: RowSpec, run: WorkflowRun): void {
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

function renderDoc(): string {
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

// ---------------------------------------------------------------------------------------------------------------
// Sandbox helpers

type Hook = (call: number) => unknown;
type Hooks = Partial<Record<FunctionKey, { before?: Hook; after?: Hook; replace?: LocalFunction }>>;

/** Runs the workflow with hooks around (or replacements of) the step functions, restored afterwards. */
async function runWith(sb: Sandbox, input: unknown, hooks: Hooks = {}, opts: RunOptions = {}): Promise<WorkflowRun> {
  const saved = { ...sb.functions };
  for (const [key, hook] of Object.entries(hooks) as [FunctionKey, NonNullable<Hooks[FunctionKey]>][]) {
    const real = hook.replace ?? saved[key];
    let calls = 0;
    sb.functions[key] = async (event: unknown) => {
      calls += 1;
      const call = calls;
      await hook.before?.(call);
      try {
        return await real(event);
      } finally {
        await hook.after?.(call);
      }
    };
  }
  try {
    return await sb.run(input, opts);
  } finally {
    Object.assign(sb.functions, saved);
  }
}

const onCall =
  (n: number, fn: () => unknown): Hook =>
  (call) =>
    call === n ? fn() : undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the apiserver has seen no request for a while: the controller has finished reacting. */
async function quiet(sb: Sandbox, ms = 150): Promise<void> {
  const deadline = Date.now() + 5_000;
  let seen = sb.kube.requests.length;
  let since = Date.now();
  while (Date.now() - since < ms && Date.now() < deadline) {
    await sleep(25);
    if (sb.kube.requests.length !== seen) {
      seen = sb.kube.requests.length;
      since = Date.now();
    }
  }
}

/** Another client of the cluster (kubectl, an operator), with its own field managers. */
async function kubectl(sb: Sandbox) {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(sb.kube, await eksToken(CLUSTER, REGION, sb.moto.credentials)));
  return { core: kc.makeApiClient(CoreV1Api), networking: kc.makeApiClient(NetworkingV1Api) };
}

const ignoreNotFound = (e: { code?: number }) => {
  if (e?.code !== 404) throw e;
};

async function deleteIngress(sb: Sandbox): Promise<void> {
  if (!sb.kube.get("Ingress", NS, INGRESS)) return;
  const { networking } = await kubectl(sb);
  await networking.deleteNamespacedIngress({ name: INGRESS, namespace: NS }).catch(ignoreNotFound);
  // The controller deletes the load balancer, then removes its finalizer.
  await until("the Ingress to be gone", () => !sb.kube.get("Ingress", NS, INGRESS));
}

async function deleteService(sb: Sandbox): Promise<void> {
  const { core } = await kubectl(sb);
  await core.deleteNamespacedService({ name: SERVICE, namespace: NS }).catch(ignoreNotFound);
  // A LoadBalancer Service carries the AWS Load Balancer Controller's finalizer, which it removes once the NLB
  // is gone; the sandbox has no NLB controller, so do its part.
  if (sb.kube.get("Service", NS, SERVICE)) {
    await core
      .patchNamespacedService(
        { name: SERVICE, namespace: NS, body: { metadata: { finalizers: null } }, fieldManager: "aws-load-balancer-controller" },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      )
      .catch(ignoreNotFound);
  }
  await until("the Service to be gone", () => !sb.kube.get("Service", NS, SERVICE));
}

/**
 * A known starting point: no faults, the Milvus Service as Helm installed it (LoadBalancer), and the Ingress
 * either absent ("fresh") or left as the previous run made it ("keep").
 */
async function reset(sb: Sandbox, ingress: "fresh" | "keep"): Promise<void> {
  sb.kube.clearFaults();
  sb.alb.setFault({});
  sb.milvus.setFault(undefined);
  sb.awsFaults.clear();
  if (ingress === "fresh") await deleteIngress(sb);
  seedMilvusRelease(sb.kube);
  await quiet(sb);
}

const serviceType = (sb: Sandbox) => sb.kube.get<{ spec: { type: string } }>("Service", NS, SERVICE)?.spec.type;
const ingressExists = (sb: Sandbox) => sb.kube.get("Ingress", NS, INGRESS) !== undefined;
const ourWrites = (sb: Sandbox) => sb.kube.mutations.filter((m) => m.fieldManager === "milvus-l7").length;

/** Every private key a sandbox has issued, for the leak scan. */
const keysOf = new Map<Sandbox, string[]>();

async function newCertificate(sb: Sandbox): Promise<CertificateSet> {
  const set = await sb.newCertificate();
  keysOf.get(sb)?.push(set.leaf.keyPem);
  return set;
}

const scannedRuns = new WeakSet<WorkflowRun>();
const scannedLogLines = new Map<Sandbox, number>();

/** Item 5: no private key in state inputs/outputs, history, output, error, Cause or logs (each run, new log lines once). */
function expectNoKeyIn(sb: Sandbox, run: WorkflowRun): void {
  if (scannedRuns.has(run)) return;
  scannedRuns.add(run);
  const history = JSON.stringify(run.events);
  const said = `${JSON.stringify(run.output ?? null)} ${run.error ?? ""} ${run.cause ?? ""}`;
  // A key can only show up in lines written after it was issued; every line is scanned against every key once.
  const from = scannedLogLines.get(sb) ?? 0;
  scannedLogLines.set(sb, sb.logs.length);
  const logs = sb.logs.slice(from).join("\n");
  expect(logs.length, "the handlers' logs are captured").toBeGreaterThan(0);
  for (const key of keysOf.get(sb) ?? []) {
    expect(keyLeaks(key, history), "state inputs/outputs and event history").toEqual([]);
    expect(keyLeaks(key, said), "output, error and cause").toEqual([]);
    expect(keyLeaks(key, logs), "logs").toEqual([]);
  }
}

function expectRetriedThrough(run: WorkflowRun, state: string, error: string, retries = 1): void {
  expect(run.cause, "the run should have succeeded").toBeUndefined();
  expect(run.status).toBe("SUCCEEDED");
  expect(retriesOf(run, state), `StateRetried on ${state}`).toBe(retries);
  expect(failuresOf(run, state).map((f) => f.error)).toEqual(Array(retries).fill(error));
}

function expectFailsFast(run: WorkflowRun, state: string, error: string, causeParts: string[]): void {
  expect(run.status).toBe("FAILED");
  expect(run.error).toBe(error);
  expect(retriesOf(run, state), `no Retry on ${state}`).toBe(0);
  expect(failuresOf(run, state).map((f) => f.error)).toEqual([error]);
  for (const part of causeParts) expect(run.cause).toContain(part);
}

/** verify-connection as index.ts wires it, with a shorter deadline for the DEADLINE_EXCEEDED scenarios. */
async function verifyWithTimeout(sb: Sandbox, timeoutMs: number): Promise<LocalFunction> {
  const { makeHandler } = await import("../../functions/verify-connection/handler");
  const handler = makeHandler({
    resolve: async (hostname) => {
      const found = sb.alb.resolve(hostname);
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return found;
    },
    timeoutMs,
  });
  return (event) => handler(event, lambdaContext("verify-connection"));
}

// ---------------------------------------------------------------------------------------------------------------

let kubeSandbox: Sandbox;
let awsSandbox: Sandbox;

beforeAll(async () => {
  const options = { watchSeconds: 1, publishDelayMs: 50, healthyDelayMs: 0 };
  [kubeSandbox, awsSandbox] = await Promise.all([startSandbox(options), startSandbox(options)]);
  keysOf.set(kubeSandbox, []);
  keysOf.set(awsSandbox, []);
}, 120_000);

afterAll(async () => {
  await Promise.all([kubeSandbox?.stop(), awsSandbox?.stop()]);
});

describe("Kubernetes API faults", () => {
  const group = "Kubernetes API";
  let sb: Sandbox;
  let secretArn: string;
  const request = (extra: Record<string, unknown> = {}) => ({ ...sb.request(secretArn), ...extra });

  beforeAll(async () => {
    sb = kubeSandbox;
    secretArn = await sb.storeInSecret(await newCertificate(sb));
  });

  it("baseline: the first deployment succeeds without a single Retry", async () => {
    await reset(sb, "fresh");
    const run = await sb.run(request());
    record(sb, { group: "Baseline", fault: "none: first deployment", step: "all", how: "—", expected: "succeeds", state: "ApplyIngress", after: "Service ClusterIP" }, run);
    expect(run.cause).toBeUndefined();
    expect(run.events.filter((e) => e.type === "StateRetried")).toEqual([]);
    expect(serviceType(sb)).toBe("ClusterIP");
  });

  it("a failure before the cutover of a target already cut over: the rollback keeps the Ingress Milvus is served through", async () => {
    // The baseline left the target deployed: the Service is ClusterIP, the ALB is the only way to Milvus. A later
    // run (a renewal, a changed annotation) with onFailure remove-ingress fails before its CutOver state.
    expect(serviceType(sb)).toBe("ClusterIP");
    expect(ingressExists(sb)).toBe(true);
    const run = await runWith(sb, request({ onFailure: "remove-ingress" }), {
      GetIngressStatusFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.events }, respond: { status: 403 }, times: 10 })) },
    });
    await quiet(sb, 300);
    record(
      sb,
      {
        group,
        fault: "failure before the cutover of a target already cut over (onFailure: remove-ingress)",
        step: "remove-ingress",
        how: "GET Events (list) answers 403 on a re-run after a successful deployment",
        expected: "terminal",
        state: "RemoveIngress",
        after: ingressExists(sb) ? "Ingress kept" : "Ingress DELETED, Milvus unreachable",
      },
      run,
    );
    expect(run.error).toBe("KubernetesForbidden");
    expect(serviceType(sb)).toBe("ClusterIP");
    expect(ingressExists(sb), "the Ingress is Milvus's only endpoint").toBe(true);
  });

  // One run per fault kind, armed at each step: the steps do not interfere, and each must retry exactly once, or
  // absorb the fault inside the call. Requests are chosen so each kind hits a different call of the step.
  const transient: {
    name: string;
    respond: Fault["respond"];
    /** How many requests in a row get the fault. */
    times: number;
    expected: "transient" | "absorbed";
    apply: [string, string, string];
    status: [string, string, string];
    patch: [string, string, string];
  }[] = [
    {
      // What the apiserver's throttling sends: the call waits the second and tries again.
      name: "429 Too Many Requests, Retry-After: 1",
      respond: { status: 429, retryAfterSeconds: 1 },
      times: 1,
      expected: "absorbed",
      apply: ["GET", PATH.service, "GET Service"],
      status: ["GET", PATH.events, "GET Events (list)"],
      patch: ["GET", PATH.service, "GET Service"],
    },
    {
      name: "429 Too Many Requests, Retry-After: 1, twice in a row",
      respond: { status: 429, retryAfterSeconds: 1 },
      times: 2,
      expected: "transient",
      apply: ["GET", PATH.ingress, "GET Ingress"],
      status: ["GET", PATH.events, "GET Events (list)"],
      patch: ["PATCH", PATH.patchService, "PATCH Service"],
    },
    {
      name: "500 Internal Server Error",
      respond: { status: 500 },
      times: 1,
      expected: "transient",
      apply: ["GET", PATH.ingress, "GET Ingress"],
      status: ["GET", PATH.watch, "watch Ingress"],
      patch: ["PATCH", PATH.patchService, "PATCH Service"],
    },
    {
      name: "503 Service Unavailable",
      respond: { status: 503 },
      times: 1,
      expected: "transient",
      apply: ["PATCH", PATH.applyIngress, "PATCH Ingress (apply)"],
      status: ["GET", PATH.events, "GET Events (list)"],
      patch: ["PATCH", PATH.patchService, "PATCH Service"],
    },
    {
      // A kept-alive connection the server dropped: the call retries on another connection.
      name: "connection reset",
      respond: "reset",
      times: 1,
      expected: "absorbed",
      apply: ["PATCH", PATH.applyIngress, "PATCH Ingress (apply)"],
      status: ["GET", PATH.watch, "watch Ingress"],
      patch: ["GET", PATH.service, "GET Service"],
    },
    {
      // The fresh connection is reset too: that is the server's answer, left to the step's Retry.
      name: "connection reset, twice in a row",
      respond: "reset",
      times: 2,
      expected: "transient",
      apply: ["PATCH", PATH.applyIngress, "PATCH Ingress (apply)"],
      status: ["GET", PATH.watch, "watch Ingress"],
      patch: ["GET", PATH.service, "GET Service"],
    },
  ];

  for (const t of transient) {
    it(`${t.name}: each step ${t.expected === "absorbed" ? "absorbs it without a Retry" : "retries once"} and the run succeeds`, async () => {
      await reset(sb, "fresh");
      const arm = ([method, pathIncludes]: [string, string, string]) => () =>
        sb.kube.injectFault({ match: { method, pathIncludes }, respond: t.respond, times: t.times });
      const watching = t.status[1] === PATH.watch;
      const requestsBefore = sb.kube.requests.length;
      const run = await runWith(sb, request(), {
        // A watch only runs while the Ingress has no address: hold the address back for the first poll.
        ApplyIngressFunctionArn: {
          before: onCall(1, () => {
            if (watching) sb.alb.setFault({ neverPublish: true });
            arm(t.apply)();
          }),
        },
        GetIngressStatusFunctionArn: { before: onCall(1, arm(t.status)), after: onCall(1, () => sb.alb.setFault({})) },
        PatchServiceFunctionArn: { before: onCall(1, arm(t.patch)) },
      });
      const answer = typeof t.respond === "string" ? "with a reset" : t.respond.status;
      const how = (req: [string, string, string]) => `${req[2]} answers ${answer}, ${t.times === 1 ? "once" : `${t.times} times in a row`}`;
      record(sb, { group, fault: t.name, step: "apply-ingress", how: how(t.apply), expected: t.expected, state: "ApplyIngress" }, run);
      record(sb, { group, fault: t.name, step: "get-ingress-status", how: how(t.status), expected: t.expected, state: "GetIngressStatus" }, run);
      record(sb, { group, fault: t.name, step: "patch-service", how: how(t.patch), expected: t.expected, state: "CutOver" }, run);
      const retries = t.expected === "absorbed" ? 0 : 1;
      for (const state of ["ApplyIngress", "GetIngressStatus", "CutOver"]) expectRetriedThrough(run, state, "KubernetesUnavailable", retries);
      expect(sb.kube.requests.slice(requestsBefore).filter((r) => r.fault).length, "every armed fault was hit").toBe(3 * t.times);
      expect(serviceType(sb)).toBe("ClusterIP");
      expectNoKeyIn(sb, run);
    });
  }

  it("a request never answered: the step gives up after kubeCall's 10 s and is retried; a stalled watch only ends its poll", async () => {
    await reset(sb, "fresh");
    const run = await runWith(sb, request(), {
      ApplyIngressFunctionArn: {
        before: onCall(1, () => {
          sb.alb.setFault({ neverPublish: true });
          sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.applyIngress }, respond: "timeout" });
        }),
      },
      GetIngressStatusFunctionArn: {
        before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.watch }, respond: "timeout" })),
        after: onCall(1, () => sb.alb.setFault({})),
      },
    });
    record(sb, { group, fault: "timeout (no answer)", step: "apply-ingress", how: "PATCH Ingress (apply) never answered, once", expected: "transient", state: "ApplyIngress" }, run);
    record(sb, { group, fault: "timeout (no answer)", step: "get-ingress-status", how: "watch never answered, once", expected: "absorbed", state: "GetIngressStatus", polls: true }, run);
    expectRetriedThrough(run, "ApplyIngress", "KubernetesUnavailable");
    expect(failuresOf(run, "ApplyIngress")[0]?.cause).toContain("did not answer apply Ingress milvus/milvus-demo within 10000 ms");
    expect(retriesOf(run, "GetIngressStatus")).toBe(0);
    expect(entered(run, "GetIngressStatus")).toBe(2);
  }, 60_000);

  it("409 from another field manager on apply: fails fast naming the manager, nothing forced", async () => {
    // Someone ran `kubectl apply --server-side --force-conflicts` with another certificate on our Ingress.
    await reset(sb, "keep");
    expect(ingressExists(sb)).toBe(true);
    const { networking } = await kubectl(sb);
    await networking.patchNamespacedIngress(
      {
        name: INGRESS,
        namespace: NS,
        body: {
          apiVersion: "networking.k8s.io/v1",
          kind: "Ingress",
          metadata: { name: INGRESS, namespace: NS, annotations: { "alb.ingress.kubernetes.io/certificate-arn": `arn:aws:acm:${REGION}:123456789012:certificate/00000000-0000-4000-8000-000000000000` } },
        },
        fieldManager: "kubectl",
        force: true,
      },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
    await quiet(sb);
    const writes = ourWrites(sb);
    const run = await sb.run(request());
    record(sb, { group, fault: "409 Conflict: another field manager", step: "apply-ingress", how: "`kubectl apply --server-side --force-conflicts` took the certificate-arn annotation", expected: "terminal", state: "ApplyIngress" }, run);
    expectFailsFast(run, "ApplyIngress", "KubernetesConflict", ['conflict with "kubectl"', "certificate-arn", "resolve the ownership"]);
    expect(ourWrites(sb)).toBe(writes);
  });

  it("403 on apply: fails fast with the access fix, nothing changed", async () => {
    await reset(sb, "fresh");
    const writes = ourWrites(sb);
    const run = await runWith(sb, request(), {
      ApplyIngressFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.applyIngress }, respond: { status: 403 }, times: 10 })) },
    });
    record(sb, { group, fault: "403 Forbidden", step: "apply-ingress", how: "PATCH Ingress (apply) answers 403 (RBAC)", expected: "terminal", state: "ApplyIngress" }, run);
    expectFailsFast(run, "ApplyIngress", "KubernetesForbidden", ["refused apply Ingress milvus/milvus-demo (403)", "is forbidden", "EKS access entry", "AmazonEKSEditPolicy"]);
    expect(ourWrites(sb)).toBe(writes);
    expect(serviceType(sb)).toBe("LoadBalancer");
  });

  it("404, the Service is missing: fails fast at apply-ingress before anything is written", async () => {
    await reset(sb, "fresh");
    await deleteService(sb);
    const writes = ourWrites(sb);
    const run = await sb.run(request());
    record(sb, { group, fault: "404 Not Found: Service missing", step: "apply-ingress", how: "the Milvus Service deleted (`kubectl delete service`)", expected: "terminal", state: "ApplyIngress" }, run);
    expectFailsFast(run, "ApplyIngress", "KubernetesNotFound", ['services "milvus-demo" not found', "milvus.namespace and milvus.service"]);
    expect(ourWrites(sb)).toBe(writes);
    expect(ingressExists(sb)).toBe(false);
  });

  it("404, the namespace does not exist: fails fast at apply-ingress", async () => {
    await reset(sb, "fresh");
    const base = request() as { milvus: Record<string, unknown> };
    const run = await sb.run({ ...base, milvus: { ...base.milvus, namespace: "milvus-prod" } });
    record(sb, { group, fault: "404 Not Found: namespace missing", step: "apply-ingress", how: "request names namespace milvus-prod, which does not exist", expected: "terminal", state: "ApplyIngress" }, run);
    expectFailsFast(run, "ApplyIngress", "KubernetesNotFound", ["read Service milvus-prod/milvus-demo", "milvus.namespace"]);
  });

  it("403 on the events list fails get-ingress-status fast; with onFailure remove-ingress, a 429 in the rollback is waited out, a 503 retried, and the Ingress removed", async () => {
    await reset(sb, "fresh");
    const requestsBefore = sb.kube.requests.length;
    const run = await runWith(sb, request({ onFailure: "remove-ingress" }), {
      GetIngressStatusFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.events }, respond: { status: 403 }, times: 10 })) },
      RemoveIngressFunctionArn: {
        // The controller may still be reconciling the new Ingress (it reads it too): let it finish first.
        before: onCall(1, async () => {
          await quiet(sb);
          sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.ingress }, respond: { status: 429, retryAfterSeconds: 3 } });
          sb.kube.injectFault({ match: { method: "DELETE", pathIncludes: PATH.ingress }, respond: { status: 503 } });
        }),
      },
    });
    await until("the Ingress to be gone", () => !ingressExists(sb));
    record(sb, { group, fault: "403 Forbidden", step: "get-ingress-status", how: "GET Events (list) answers 403 (RBAC)", expected: "terminal", state: "GetIngressStatus", after: "Service untouched" }, run);
    const rollback = { group, step: "remove-ingress", expected: "transient", state: "RemoveIngress", after: "Ingress removed", rollback: true } as const;
    record(
      sb,
      { ...rollback, expected: "absorbed", fault: "429 Too Many Requests, Retry-After: 3", how: "GET Ingress answers 429, once (rollback after a failure)", match: "answered 429" },
      run,
    );
    record(sb, { ...rollback, fault: "503 Service Unavailable", how: "DELETE Ingress answers 503, once (rollback after a failure)", match: "answered 503" }, run);
    expectFailsFast(run, "GetIngressStatus", "KubernetesForbidden", ['cannot list resource "events"', "AmazonEKSEditPolicy"]);
    expect(retriesOf(run, "RemoveIngress")).toBe(1);
    expect(failuresOf(run, "RemoveIngress").map((f) => f.error)).toEqual(["KubernetesUnavailable"]);
    expect(sb.kube.requests.slice(requestsBefore).filter((r) => r.fault === "status" && r.status === 429 && r.path === PATH.ingress)).toHaveLength(1);
    expect(serviceType(sb)).toBe("LoadBalancer");
  });

  it("403 on the rollback's DELETE: the run fails with the original error, the Cause says the Ingress stays and why", async () => {
    await reset(sb, "fresh");
    const run = await runWith(sb, request({ onFailure: "remove-ingress" }), {
      GetIngressStatusFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.events }, respond: { status: 403 }, times: 10 })) },
      RemoveIngressFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "DELETE", pathIncludes: PATH.ingress }, respond: { status: 403 }, times: 10 })) },
    });
    record(sb, { group, fault: "403 Forbidden", step: "remove-ingress", how: "DELETE Ingress answers 403 (rollback after a failure)", expected: "terminal", state: "RemoveIngress", after: "Ingress left", rollback: true }, run);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("KubernetesForbidden");
    expect(retriesOf(run, "RemoveIngress")).toBe(0);
    expect(failuresOf(run, "RemoveIngress").map((f) => f.error)).toEqual(["KubernetesForbidden"]);
    expect(run.cause).toContain("The rollback (onFailure: remove-ingress) failed too, so the Ingress is still in place: KubernetesForbidden: Kubernetes API refused delete Ingress milvus/milvus-demo (403)");
    expect(ingressExists(sb)).toBe(true);
  });

  it("404, the Ingress deleted while the address is awaited: fails fast at get-ingress-status", async () => {
    await reset(sb, "fresh");
    const run = await runWith(sb, request(), { GetIngressStatusFunctionArn: { before: onCall(1, () => deleteIngress(sb)) } });
    record(sb, { group, fault: "404 Not Found: Ingress deleted", step: "get-ingress-status", how: "`kubectl delete ingress` between apply and the first poll", expected: "terminal", state: "GetIngressStatus" }, run);
    expectFailsFast(run, "GetIngressStatus", "KubernetesNotFound", [
      "Ingress milvus/milvus-demo was deleted while the workflow waited for its ALB address, by another tool or a person",
      "Re-run the same input",
    ]);
    expect(serviceType(sb)).toBe("LoadBalancer");
  });

  it("403 on the Service patch: fails fast, the Service stays LoadBalancer", async () => {
    await reset(sb, "fresh");
    const run = await runWith(sb, request(), {
      PatchServiceFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.patchService }, respond: { status: 403 }, times: 10 })) },
    });
    record(sb, { group, fault: "403 Forbidden", step: "patch-service", how: "PATCH Service answers 403 (RBAC)", expected: "terminal", state: "CutOver", after: "Service LoadBalancer" }, run);
    expectFailsFast(run, "CutOver", "KubernetesForbidden", ["refused patch Service milvus/milvus-demo to ClusterIP (403)", "AmazonEKSEditPolicy"]);
    expect(serviceType(sb)).toBe("LoadBalancer");
  });

  it("404, the Service deleted before the cutover: fails fast at patch-service", async () => {
    await reset(sb, "fresh");
    const run = await runWith(sb, request(), { PatchServiceFunctionArn: { before: onCall(1, () => deleteService(sb)) } });
    record(sb, { group, fault: "404 Not Found: Service missing", step: "patch-service", how: "`kubectl delete service` after the verification", expected: "terminal", state: "CutOver" }, run);
    expectFailsFast(run, "CutOver", "KubernetesNotFound", ['services "milvus-demo" not found', "milvus.service"]);
  });

  it("409 on the Service patch (the Service changed since it was read) is retried and the cutover completes", async () => {
    await reset(sb, "fresh");
    const run = await runWith(sb, request(), {
      PatchServiceFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.patchService }, respond: { status: 409 } })) },
    });
    record(sb, { group, fault: "409 Conflict: object modified", step: "patch-service", how: "PATCH Service answers 409 (resourceVersion precondition), once", expected: "transient", state: "CutOver" }, run);
    expectRetriedThrough(run, "CutOver", "KubernetesUnavailable");
    expect(serviceType(sb)).toBe("ClusterIP");
  });

});

describe("AWS faults", () => {
  const group = "AWS APIs";
  let sb: Sandbox;

  beforeAll(async () => {
    sb = awsSandbox;
    await sb.aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  });

  /** A new certificate in its own secret, so ImportCertificate really imports. */
  async function freshSecret(name: string): Promise<{ set: CertificateSet; secretArn: string }> {
    const set = await newCertificate(sb);
    return { set, secretArn: await sb.storeInSecret(set, `milvus-l7/${name}`) };
  }

  it("one throttled request is absorbed by the SDK; throttling and 5xx that outlast the SDK's retries are retried by the state", async () => {
    await reset(sb, "keep");
    const { secretArn } = await freshSecret("throttled");
    sb.awsFaults.inject({ service: "SecretsManager", operation: "GetSecretValue", code: "ThrottlingException", times: 1 });
    sb.awsFaults.inject({ service: "ACM", operation: "ImportCertificate", code: "ThrottlingException", calls: 1 });
    sb.awsFaults.inject({ service: "DynamoDB", operation: "PutItem", code: "InternalServerError", calls: 1 });
    const run = await sb.run(sb.request(secretArn));
    record(sb, { group, fault: "Secrets Manager ThrottlingException", step: "import-certificate", how: "GetSecretValue throttled on 1 SDK attempt", expected: "absorbed", state: "ImportCertificate", match: "secretsmanager:" }, run);
    record(sb, { group, fault: "ACM ThrottlingException", step: "import-certificate", how: "ImportCertificate throttled on all 3 SDK attempts, once", expected: "transient", state: "ImportCertificate", match: "acm:ImportCertificate" }, run);
    record(sb, { group, fault: "DynamoDB InternalServerError (500)", step: "target-lease (claim)", how: "PutItem fails on all 4 SDK attempts, once", expected: "transient", state: "ClaimTarget" }, run);
    expectRetriedThrough(run, "ImportCertificate", "AwsUnavailable");
    expectRetriedThrough(run, "ClaimTarget", "AwsUnavailable");
    expect(failuresOf(run, "ImportCertificate")[0]?.cause).toContain("AWS throttled acm:ImportCertificate");
    // The single throttled GetSecretValue never reached the state machine: the SDK's second attempt read it.
    expect(sb.awsFaults.hits.filter((h) => h.operation === "GetSecretValue").map((h) => h.attempt)).toEqual([1]);
    expect(failuresOf(run, "ClaimTarget")[0]?.cause).toContain("AWS failed transiently on dynamodb:PutItem");
    expect(sb.awsFaults.pending()).toEqual([]);
    expect((run.output as { certificate: { imported: boolean } }).certificate.imported).toBe(true);
  });

  it("ACM LimitExceededException: fails fast as a quota, nothing changed in the cluster", async () => {
    await reset(sb, "keep");
    const { secretArn } = await freshSecret("quota");
    sb.awsFaults.inject({ service: "ACM", operation: "ImportCertificate", code: "LimitExceededException", times: 100 });
    const hits = sb.awsFaults.hits.length;
    const writes = ourWrites(sb);
    const run = await sb.run(sb.request(secretArn));
    record(sb, { group, fault: "ACM LimitExceededException", step: "import-certificate", how: "every ImportCertificate answers LimitExceededException", expected: "terminal", state: "ImportCertificate" }, run);
    expectFailsFast(run, "ImportCertificate", "AcmRejected", ["hit an AWS quota", "retrying will not help", "Service Quotas"]);
    // The SDK itself counts LimitExceededException as throttling: all its attempts, but one state attempt.
    expect(sb.awsFaults.hits.slice(hits).map((h) => h.attempt)).toEqual([1, 2, 3]);
    expect(ourWrites(sb)).toBe(writes);
  });

  it("ACM ValidationException that echoes the private key: fails fast, the key is redacted everywhere", async () => {
    await reset(sb, "keep");
    const { set, secretArn } = await freshSecret("invalid");
    sb.awsFaults.inject({
      service: "ACM",
      operation: "ImportCertificate",
      code: "ValidationException",
      times: 100,
      // Worst case: the service quotes the rejected input.
      message: `The private key is not supported: ${set.leaf.keyPem} (base64 ${Buffer.from(set.leaf.keyPem).toString("base64")})`,
    });
    const run = await sb.run(sb.request(secretArn));
    record(sb, { group, fault: "ACM ValidationException", step: "import-certificate", how: "ImportCertificate answers ValidationException quoting the key", expected: "terminal", state: "ImportCertificate" }, run);
    expectFailsFast(run, "ImportCertificate", "AcmRejected", ["rejected acm:ImportCertificate on a new certificate as invalid", "[PEM redacted]", "Fix what AWS's message names"]);
  });

  it("Secrets Manager AccessDeniedException and a secret that does not exist: fail fast at import-certificate", async () => {
    await reset(sb, "keep");
    const writes = ourWrites(sb);
    const { secretArn } = await freshSecret("denied");
    sb.awsFaults.inject({ service: "SecretsManager", operation: "GetSecretValue", code: "AccessDeniedException", times: 100 });
    const denied = await sb.run(sb.request(secretArn));
    record(sb, { group, fault: "Secrets Manager AccessDeniedException", step: "import-certificate", how: "GetSecretValue answers AccessDeniedException", expected: "terminal", state: "ImportCertificate" }, denied);
    expectFailsFast(denied, "ImportCertificate", "CertificateSourceError", ["Access denied: secretsmanager:GetSecretValue", "Allow this action on this resource in the function's IAM role"]);
    sb.awsFaults.clear();
    const missing = await sb.run(sb.request("milvus-l7/no-such-secret"));
    record(sb, { group, fault: "Secrets Manager ResourceNotFoundException", step: "import-certificate", how: "the secret does not exist", expected: "terminal", state: "ImportCertificate" }, missing);
    expectFailsFast(missing, "ImportCertificate", "CertificateSourceError", ["Not found: secretsmanager:GetSecretValue on secret milvus-l7/no-such-secret", "Check the name or ARN"]);
    expect(ourWrites(sb)).toBe(writes);
  });

  it("S3 AccessDenied and an object that does not exist: fail fast at import-certificate", async () => {
    await reset(sb, "keep");
    const set = await newCertificate(sb);
    const files = { "cert.pem": set.leaf.certPem, "chain.pem": set.chainPem, "privkey.pem": set.leaf.keyPem };
    for (const [Key, Body] of Object.entries(files)) await sb.aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    const fromS3 = (privateKeyKey: string) => ({
      ...sb.request("unused"),
      certificate: { source: { s3: { bucket: BUCKET, certificateKey: "cert.pem", chainKey: "chain.pem", privateKeyKey } } },
    });
    const writes = ourWrites(sb);
    sb.awsFaults.inject({ service: "S3", operation: "GetObject", code: "AccessDenied", times: 100 });
    const denied = await sb.run(fromS3("privkey.pem"));
    record(sb, { group, fault: "S3 AccessDenied", step: "import-certificate", how: "GetObject answers 403 AccessDenied", expected: "terminal", state: "ImportCertificate" }, denied);
    expectFailsFast(denied, "ImportCertificate", "CertificateSourceError", [`Access denied: s3:GetObject on s3://${BUCKET}/`, "s3:ListBucket"]);
    sb.awsFaults.clear();
    const missing = await sb.run(fromS3("missing/privkey.pem"));
    record(sb, { group, fault: "S3 NoSuchKey", step: "import-certificate", how: "the private key object does not exist", expected: "terminal", state: "ImportCertificate" }, missing);
    expectFailsFast(missing, "ImportCertificate", "CertificateSourceError", [`Not found: s3:GetObject on s3://${BUCKET}/missing/privkey.pem (the privateKey)`]);
    expect(ourWrites(sb)).toBe(writes);
  });

  it("DynamoDB AccessDeniedException when recording the verified target: fails fast naming the permission", async () => {
    await reset(sb, "fresh");
    const { secretArn } = await freshSecret("unrecorded");
    sb.awsFaults.inject({ service: "DynamoDB", operation: "TransactWriteItems", code: "AccessDeniedException", times: 100 });
    const run = await sb.run(sb.request(secretArn));
    record(sb, { group, fault: "DynamoDB AccessDeniedException", step: "record-deployment", how: "TransactWriteItems answers AccessDeniedException", expected: "terminal", state: "RecordDeployment", after: "Service ClusterIP" }, run);
    expectFailsFast(run, "RecordDeployment", "RegistryError", ["Access denied: dynamodb:TransactWriteItems on milvus-l7-deployments", "IAM role"]);
  });
});

describe("Milvus and ALB faults", () => {
  const group = "Milvus and the ALB";
  let sb: Sandbox;
  let secretArn: string;
  let arn: string;

  beforeAll(async () => {
    sb = awsSandbox;
    secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/milvus-demo-tls");
  });

  /** Clears the Milvus fault after `failures` verification attempts. */
  const clearMilvusAfter = (failures: number) => ({ after: onCall(failures, () => sb.milvus.setFault(undefined)) });

  it("UNAVAILABLE, transient: the verification is retried until Milvus answers", async () => {
    await reset(sb, "fresh");
    sb.milvus.setFault("unavailable");
    const run = await runWith(sb, sb.request(secretArn), { VerifyConnectionFunctionArn: clearMilvusAfter(2) });
    record(sb, { group, fault: "Milvus UNAVAILABLE", step: "verify-connection", how: "`milvus.setFault('unavailable')` for 2 attempts", expected: "transient", state: "VerifyThroughAlb" }, run);
    expectRetriedThrough(run, "VerifyThroughAlb", "EndpointNotReady", 2);
    arn = (run.output as { certificate: { arn: string } }).certificate.arn;
  });

  it("baseline renewal: re-imported into the same ARN and verified, no Retry", async () => {
    await reset(sb, "keep");
    const renewed = await newCertificate(sb);
    await sb.storeInSecret(renewed, "milvus-l7/milvus-demo-tls");
    // The ALB stand-in re-reads ACM every 200 ms; a verification in between rightly sees the previous certificate
    // and is retried (the "old certificate" rows below). Here the listener is given the time to catch up.
    const run = await runWith(sb, sb.request(secretArn, arn), { VerifyConnectionFunctionArn: { before: onCall(1, () => sleep(500)) } });
    record(sb, { group: "Baseline", fault: "none: renewal", step: "all", how: "a new certificate in the same secret, re-imported into the ARN", expected: "succeeds", state: "VerifyThroughAlb" }, run);
    expect(run.cause).toBeUndefined();
    expect(run.events.filter((e) => e.type === "StateRetried")).toEqual([]);
    expect((run.output as { targets: { servedFingerprint256: string }[] }).targets[0]?.servedFingerprint256).toBe(fingerprintOf(renewed.leaf.certPem));
  });

  it("the old certificate still served after a re-import: retried until the ALB serves the new one", async () => {
    await reset(sb, "keep");
    const renewed = await newCertificate(sb);
    await sb.storeInSecret(renewed, "milvus-l7/milvus-demo-tls");
    sb.alb.setFault({ servedCertificateLagMs: 3_600_000 });
    const run = await runWith(sb, sb.request(secretArn, arn), {
      VerifyConnectionFunctionArn: {
        // The listener has long since seen ACM's new copy (it re-reads every 200 ms); from the third attempt on it serves it.
        before: onCall(3, async () => {
          await sleep(500);
          sb.alb.setFault({});
        }),
      },
    });
    record(sb, { group, fault: "old certificate served after re-import", step: "verify-connection", how: "`alb.setFault({ servedCertificateLagMs })` for 2 attempts, on a renewal", expected: "transient", state: "VerifyThroughAlb" }, run);
    expectRetriedThrough(run, "VerifyThroughAlb", "EndpointNotReady", 2);
    expect((run.output as { targets: { servedFingerprint256: string }[] }).targets[0]?.servedFingerprint256).toBe(fingerprintOf(renewed.leaf.certPem));
  });

  it("the old certificate served for good: fails after the retries", async () => {
    await reset(sb, "keep");
    const renewed = await newCertificate(sb);
    await sb.storeInSecret(renewed, "milvus-l7/milvus-demo-tls");
    sb.alb.setFault({ servedCertificateLagMs: 3_600_000 });
    const run = await sb.run(sb.request(secretArn, arn));
    record(sb, { group, fault: "old certificate served after re-import", step: "verify-connection", how: "`alb.setFault({ servedCertificateLagMs: 1 h })` on a renewal", expected: "persistent", state: "VerifyThroughAlb" }, run);
    expect(run.error).toBe("EndpointNotReady");
    expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
    expect(run.cause).toContain("The certificate was just imported, and the ALB may still serve the previous one.");
    expect(run.cause).toContain("if it persists, re-import with the complete chain");
  });

  it("UNAVAILABLE, persistent: fails after the retries, the Layer-4 endpoint untouched", async () => {
    await reset(sb, "fresh");
    sb.milvus.setFault("unavailable");
    const run = await sb.run(sb.request(secretArn));
    record(sb, { group, fault: "Milvus UNAVAILABLE", step: "verify-connection", how: "`milvus.setFault('unavailable')`, never cleared", expected: "persistent", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("EndpointNotReady");
    expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
    expect(run.cause).toContain("UNAVAILABLE (14)");
    expect(serviceType(sb)).toBe("LoadBalancer");
  }, 60_000);

  it("DEADLINE_EXCEEDED, transient: the verification is retried until Milvus answers", async () => {
    await reset(sb, "fresh");
    sb.milvus.setFault("deadline");
    const run = await runWith(sb, sb.request(secretArn), {
      VerifyConnectionFunctionArn: { replace: await verifyWithTimeout(sb, 1_000), ...clearMilvusAfter(1) },
    });
    record(sb, { group, fault: "Milvus DEADLINE_EXCEEDED", step: "verify-connection", how: "`milvus.setFault('deadline')` for 1 attempt (1 s RPC deadline)", expected: "transient", state: "VerifyThroughAlb" }, run);
    expectRetriedThrough(run, "VerifyThroughAlb", "EndpointNotReady");
    expect(failuresOf(run, "VerifyThroughAlb")[0]?.cause).toContain("DEADLINE_EXCEEDED");
  });

  it("DEADLINE_EXCEEDED, persistent: fails after the retries", async () => {
    await reset(sb, "fresh");
    sb.milvus.setFault("deadline");
    const run = await runWith(sb, sb.request(secretArn), { VerifyConnectionFunctionArn: { replace: await verifyWithTimeout(sb, 500) } });
    record(sb, { group, fault: "Milvus DEADLINE_EXCEEDED", step: "verify-connection", how: "`milvus.setFault('deadline')`, never cleared (0.5 s RPC deadline)", expected: "persistent", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
    expect(run.error).toBe("EndpointNotReady");
    expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
    expect(run.cause).toContain("DEADLINE_EXCEEDED");
    expect(serviceType(sb)).toBe("LoadBalancer");
  }, 90_000);

  it("ALB 404 for a wrong :authority: the Ingress rule's host no longer matches the request's host", async () => {
    await reset(sb, "fresh");
    let callsBefore = 0;
    const run = await runWith(sb, sb.request(secretArn), {
      ApplyIngressFunctionArn: {
        after: onCall(1, async () => {
          // Someone edits the rule's host (`kubectl edit ingress`); verify keeps sending the request's host.
          const { networking } = await kubectl(sb);
          const current = await networking.readNamespacedIngress({ name: INGRESS, namespace: NS });
          const rules = (current.spec?.rules ?? []).map((r) => ({ ...r, host: OTHER_HOST }));
          await networking.patchNamespacedIngress(
            { name: INGRESS, namespace: NS, body: { spec: { rules } }, fieldManager: "kubectl-edit" },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          );
          await quiet(sb);
          callsBefore = sb.milvus.calls.length;
        }),
      },
    });
    record(sb, { group, fault: "ALB 404 (wrong :authority)", step: "verify-connection", how: `Ingress rule host edited to ${OTHER_HOST} after apply; verify sends ${HOST}`, expected: "persistent", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
    expect(run.error).toBe("EndpointNotReady");
    expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
    expect(run.cause).toContain("UNIMPLEMENTED, which is what an ALB HTTP 404 becomes");
    expect(run.cause).toContain(":authority is not the Ingress host");
    // The ALB answered every RPC itself: none reached Milvus.
    expect(sb.milvus.calls.length).toBe(callsBefore);
    expect(serviceType(sb)).toBe("LoadBalancer");
  }, 60_000);
});

describe("ALB controller faults", () => {
  const group = "ALB controller";
  let sb: Sandbox;

  beforeAll(() => {
    sb = awsSandbox;
  });

  it("FailedDeployModel: the certificate deleted after the import; fails with the controller's warning once the wait is spent", async () => {
    await reset(sb, "fresh");
    const secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/deleted-later");
    const importReal = sb.functions.ImportCertificateFunctionArn;
    const run = await runWith(sb, { ...sb.request(secretArn), waitForAddressMinutes: 1 }, {
      ImportCertificateFunctionArn: {
        replace: async (event) => {
          const imported = (await importReal(event)) as { arn: string };
          await sb.aws.acm.send(new DeleteCertificateCommand({ CertificateArn: imported.arn }));
          return imported;
        },
      },
    });
    record(sb, { group, fault: "controller FailedDeployModel", step: "get-ingress-status", how: "the ACM certificate deleted right after the import (CertificateNotFound)", expected: "bounded", state: "GetIngressStatus", polls: true, after: "Service LoadBalancer" }, run);
    expect(run.error).toBe("AddressTimeout");
    expect(run.cause).toContain("Latest controller warning: FailedDeployModel");
    expect(run.cause).toContain("Fix the cause and re-run");
    expect(entered(run, "GetIngressStatus")).toBe(10);
    expect(retriesOf(run, "GetIngressStatus")).toBe(0);
    expect(serviceType(sb)).toBe("LoadBalancer");
  }, 60_000);

  it("an address that never comes: fails once the wait is spent, saying the controller recorded nothing", async () => {
    await reset(sb, "fresh");
    const secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/no-address");
    sb.alb.setFault({ neverPublish: true });
    const run = await sb.run({ ...sb.request(secretArn), waitForAddressMinutes: 1 });
    record(sb, { group, fault: "address never published", step: "get-ingress-status", how: "`alb.setFault({ neverPublish: true })`, 1-minute wait", expected: "bounded", state: "GetIngressStatus", polls: true, after: "Service LoadBalancer" }, run);
    expect(run.error).toBe("AddressTimeout");
    expect(run.cause).toContain("did not publish an address for Ingress milvus/milvus-demo after 10 polls");
    expect(run.cause).toContain("recorded no Warning events");
    expect(entered(run, "GetIngressStatus")).toBe(10);
    expect(serviceType(sb)).toBe("LoadBalancer");
  }, 60_000);

  it("an address that comes late: the poll loop waits for it and the run succeeds", async () => {
    await reset(sb, "fresh");
    const secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/late-address");
    sb.alb.setFault({ neverPublish: true });
    const run = await runWith(sb, sb.request(secretArn), { GetIngressStatusFunctionArn: { after: onCall(2, () => sb.alb.setFault({})) } });
    record(sb, { group, fault: "address published late", step: "get-ingress-status", how: "`neverPublish` cleared after the second poll", expected: "absorbed", state: "GetIngressStatus", polls: true }, run);
    expect(run.cause).toBeUndefined();
    expect(entered(run, "GetIngressStatus")).toBe(3);
    expect(retriesOf(run, "GetIngressStatus")).toBe(0);
  });
});

describe("docs/faults.md", () => {
  it("is the table this run observed (UPDATE_FAULTS_DOC=1 rewrites it)", () => {
    const rendered = renderDoc();
    if (process.env.UPDATE_FAULTS_DOC === "1") {
      writeFileSync(DOC, rendered);
      return;
    }
    const committed = existsSync(DOC) ? readFileSync(DOC, "utf8") : "";
    expect(committed, "docs/faults.md differs from this run: rerun with UPDATE_FAULTS_DOC=1 and review the diff").toBe(rendered);
  });
});

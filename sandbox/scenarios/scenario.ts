// What a demo scenario is: a named story about one thing milvus-l7 does, told by running the real ASL and the
// real handlers in the sandbox (through sandbox.run) once or several times, with each run's outcome and what the
// cluster looked like right after it. `milvus-l7 demo --scenario NAME` runs one and prints its runs.
import type { Sandbox, SandboxOptions, SandboxRun } from "../index";
import type { RunOptions, WorkflowRun } from "../workflow";

/** The demo's Milvus release: the Service the sandbox seeds, and the Ingress the sandbox's requests name. */
export const DEMO_TARGET = { namespace: "milvus", service: "milvus-demo", ingress: "milvus-demo" } as const;

export type IngressState = "present" | "deleting" | "absent";

export interface ClusterAfterRun {
  /** The Service's type as the apiserver has it (not the workflow's own claim). */
  serviceType?: string;
  /**
   * The demo's Ingress: `deleting` while the load balancer controller still holds it by its finalizer (it removes
   * the ALB first, then lets the Ingress go).
   */
  ingress: IngressState;
  /** What milvus-l7 wrote to the cluster during the run, oldest first: `apply Ingress milvus/milvus-demo` … */
  changes: string[];
  /**
   * Mutating requests (POST, PUT, PATCH, DELETE) the apiserver received during the run, from anyone: milvus-l7, the
   * load balancer controller (status, events), the Operator. Counted as received, refused ones too, so that "0" means
   * the run caused no write attempt at all (a clean drift check).
   */
  kubernetesWrites: number;
}

export interface ScenarioRun {
  /** What this run is, in the scenario's story: "first deployment", "renewal" … */
  label: string;
  /** With `alerts`: what the run would have published to the alert topic. */
  run: SandboxRun;
  wallMs: number;
  cluster: ClusterAfterRun;
  /** Anything else the scenario looked up after the run to show its point (a DNS record, …). */
  observed?: Record<string, unknown>;
}

/** How whoever runs a scenario (the CLI) follows it. */
export interface ScenarioContext {
  /** A line of the story: what is about to happen, and why. */
  say(line: string): void;
  /** A run is about to start; what it returns goes to sandbox.run (the CLI's progress printer). */
  starting(label: string): Pick<RunOptions, "onEvent">;
  /** A run has ended. */
  finished(run: ScenarioRun): void;
}

export interface Scenario {
  name: string;
  /** One line: what the scenario shows. */
  summary: string;
  /**
   * How the sandbox must be started for this story (in another region, with EKS Auto Mode's load balancing instead
   * of the self-managed controller, ...); the defaults otherwise.
   */
  sandbox?: Pick<SandboxOptions, "region" | "albMode" | "albWebhook">;
  run(sandbox: Sandbox, ctx: ScenarioContext): Promise<ScenarioRun[]>;
}

const MILVUS_L7 = "milvus-l7";
const MUTATING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * One sandbox.run, timed, with the cluster as it is after it; `observe` adds what else the scenario looks up (and
 * may wait for something to settle first). The context hears of the run as it starts and ends. `service` is the
 * Milvus Service the run targets, when not the demo's.
 */
export async function observedRun(
  sandbox: Sandbox,
  ctx: ScenarioContext,
  label: string,
  input: unknown,
  observe?: (run: WorkflowRun) => Promise<Record<string, unknown>>,
  service: string = DEMO_TARGET.service,
): Promise<ScenarioRun> {
  const writesBefore = sandbox.kube.mutations.length;
  const requestsBefore = sandbox.kube.requests.length;
  const started = Date.now();
  const run = await sandbox.run(input, ctx.starting(label));
  const wallMs = Date.now() - started;
  const observed = observe ? await observe(run) : undefined;
  const serviceAfter = sandbox.kube.get<{ spec?: { type?: string } }>("Service", DEMO_TARGET.namespace, service);
  const changes = sandbox.kube.mutations
    .slice(writesBefore)
    .filter((m) => m.fieldManager === MILVUS_L7)
    .map((m) => `${m.verb} ${m.kind} ${m.namespace ? `${m.namespace}/` : ""}${m.name}`);
  const result: ScenarioRun = {
    label,
    run,
    wallMs,
    cluster: {
      serviceType: serviceAfter?.spec?.type,
      ingress: demoIngressState(sandbox),
      changes,
      kubernetesWrites: sandbox.kube.requests.slice(requestsBefore).filter((r) => MUTATING_METHODS.has(r.method)).length,
    },
    ...(observed ? { observed } : {}),
  };
  ctx.finished(result);
  return result;
}

export function demoIngressState(sandbox: Sandbox): IngressState {
  const ingress = sandbox.kube.get<{ metadata?: { deletionTimestamp?: string } }>("Ingress", DEMO_TARGET.namespace, DEMO_TARGET.ingress);
  if (!ingress) return "absent";
  return ingress.metadata?.deletionTimestamp ? "deleting" : "present";
}

/** A certificate for the demo host, stored as the secret the sandbox's requests read; returns the secret's ARN. */
export async function demoSecret(sandbox: Sandbox): Promise<{ secretArn: string; subject: string }> {
  const certificate = await sandbox.newCertificate();
  return { secretArn: await sandbox.storeInSecret(certificate), subject: certificate.leaf.cert.subject };
}

// What the fault scenarios share: the names and request paths of the target, running the workflow with hooks
// around its steps, the sandbox's starting point between scenarios, reading a run's history, and the checks every
// scenario makes (retried and succeeded, or failed fast; no private key anywhere).
import { CoreV1Api, KubeConfig, NetworkingV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { expect } from "vitest";
import { eksToken } from "../../../functions/lib/kube";
import { CLUSTER, REGION, type Sandbox } from "../../../sandbox";
import { kubeconfigYaml, seedMilvusRelease } from "../../../sandbox/kube";
import type { CertificateSet } from "../../../sandbox/pki";
import { keyLeaks } from "../../../sandbox/secrets";
import { type FunctionKey, type LocalFunction, type RunOptions, type WorkflowRun, lambdaContext } from "../../../sandbox/workflow";

export const NS = "milvus";
const SERVICE = "milvus-demo";
export const INGRESS = "milvus-demo";
export const OTHER_HOST = "milvus-other.milvus.io";
export const BUCKET = "milvus-l7-certs";

/** Request paths of our own calls, as the fault matcher sees them (path plus query string). */
export const PATH = {
  service: `/api/v1/namespaces/${NS}/services/${SERVICE}`,
  patchService: `/api/v1/namespaces/${NS}/services/${SERVICE}?fieldManager=milvus-l7`,
  ingress: `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${INGRESS}`,
  applyIngress: `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${INGRESS}?fieldManager=milvus-l7`,
  // The controller watches Ingresses in all namespaces; only get-ingress-status watches this namespace.
  watch: `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses?watch=true`,
  // The controller creates and patches Events; only get-ingress-status lists them.
  events: `/api/v1/namespaces/${NS}/events?fieldSelector=`,
};

export const retriesOf = (run: WorkflowRun, state: string) =>
  run.events.filter((e) => e.type === "StateRetried" && e.state.name === state).length;
export const failuresOf = (run: WorkflowRun, state: string) =>
  run.events.flatMap((e) => (e.type === "StateFailed" && e.state.name === state ? [{ error: e.Error, cause: String(e.Cause) }] : []));
export const entered = (run: WorkflowRun, state: string) =>
  run.events.filter((e) => e.type === "StateEntered" && e.state.name === state).length;

type Hook = (call: number) => unknown;
type Hooks = Partial<Record<FunctionKey, { before?: Hook; after?: Hook; replace?: LocalFunction }>>;

/** Runs the workflow with hooks around (or replacements of) the step functions, restored afterwards. */
export async function runWith(sb: Sandbox, input: unknown, hooks: Hooks = {}, opts: RunOptions = {}): Promise<WorkflowRun> {
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

export const onCall =
  (n: number, fn: () => unknown): Hook =>
  (call) =>
    call === n ? fn() : undefined;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the apiserver has seen no request for a while: the controller has finished reacting. */
export async function quiet(sb: Sandbox, ms = 150): Promise<void> {
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
export async function kubectl(sb: Sandbox) {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(sb.kube, await eksToken(CLUSTER, REGION, sb.moto.credentials)));
  return { core: kc.makeApiClient(CoreV1Api), networking: kc.makeApiClient(NetworkingV1Api) };
}

const ignoreNotFound = (e: { code?: number }) => {
  if (e?.code !== 404) throw e;
};

export async function deleteIngress(sb: Sandbox): Promise<void> {
  if (!sb.kube.get("Ingress", NS, INGRESS)) return;
  const { networking } = await kubectl(sb);
  await networking.deleteNamespacedIngress({ name: INGRESS, namespace: NS }).catch(ignoreNotFound);
  // The controller deletes the load balancer, then removes its finalizer.
  await until("the Ingress to be gone", () => !sb.kube.get("Ingress", NS, INGRESS));
}

export async function deleteService(sb: Sandbox): Promise<void> {
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
export async function reset(sb: Sandbox, ingress: "fresh" | "keep"): Promise<void> {
  sb.kube.clearFaults();
  sb.alb.setFault({});
  sb.milvus.setFault(undefined);
  sb.awsFaults.clear();
  if (ingress === "fresh") await deleteIngress(sb);
  seedMilvusRelease(sb.kube);
  await quiet(sb);
}

export const serviceType = (sb: Sandbox) => sb.kube.get<{ spec: { type: string } }>("Service", NS, SERVICE)?.spec.type;
export const ingressExists = (sb: Sandbox) => sb.kube.get("Ingress", NS, INGRESS) !== undefined;
export const ourWrites = (sb: Sandbox) => sb.kube.mutations.filter((m) => m.fieldManager === "milvus-l7").length;

/** Every private key a sandbox has issued, for the leak scan. */
export const keysOf = new Map<Sandbox, string[]>();

export async function newCertificate(sb: Sandbox): Promise<CertificateSet> {
  const set = await sb.newCertificate();
  keysOf.get(sb)?.push(set.leaf.keyPem);
  return set;
}

/**
 * cert-manager issues a new certificate into a kubernetes.io/tls Secret. Its key joins the leak scan, which finds it
 * as the Secret holds it too (keyLeaks' "base64 of the PEM" is the Secret's tls.key value as the API serves it).
 */
export async function issueIntoTlsSecret(sb: Sandbox, ref: { namespace: string; name: string }): Promise<CertificateSet> {
  const set = await newCertificate(sb);
  await sb.storeInTlsSecret(set, ref);
  return set;
}

const scannedRuns = new WeakSet<WorkflowRun>();
const scannedLogLines = new Map<Sandbox, number>();

/** No private key in state inputs/outputs, history, output, error, Cause or logs (each run, new log lines once). */
export function expectNoKeyIn(sb: Sandbox, run: WorkflowRun): void {
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

export function expectRetriedThrough(run: WorkflowRun, state: string, error: string, retries = 1): void {
  expect(run.cause, "the run should have succeeded").toBeUndefined();
  expect(run.status).toBe("SUCCEEDED");
  expect(retriesOf(run, state), `StateRetried on ${state}`).toBe(retries);
  expect(failuresOf(run, state).map((f) => f.error)).toEqual(Array(retries).fill(error));
}

export function expectFailsFast(run: WorkflowRun, state: string, error: string, causeParts: string[]): void {
  expect(run.status).toBe("FAILED");
  expect(run.error).toBe(error);
  expect(retriesOf(run, state), `no Retry on ${state}`).toBe(0);
  expect(failuresOf(run, state).map((f) => f.error)).toEqual([error]);
  for (const part of causeParts) expect(run.cause).toContain(part);
}

/** verify-connection as index.ts wires it, with a shorter deadline for the DEADLINE_EXCEEDED scenarios. */
export async function verifyWithTimeout(sb: Sandbox, timeoutMs: number): Promise<LocalFunction> {
  const { makeHandler } = await import("../../../functions/verify-connection/handler");
  const handler = makeHandler({
    resolve: async (hostname) => {
      const found = sb.alb.resolve(hostname);
      if (found.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return found;
    },
    timeoutMs,
  });
  return (event) => handler(event, lambdaContext("verify-connection"));
}

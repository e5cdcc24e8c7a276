// The workflow's steps for a run on this machine: the real handlers wired (statemachine/wire-steps) to the
// operator's AWS account, cluster and local registry file, with what stands in for Step Functions' own knowledge
// of executions — an id for the run, and whether a lease's holder still runs.
import { hostname } from "node:os";
import { DEFAULT_WATCH_SECONDS } from "../functions/lib/polling";
import type { ClusterConnector } from "../functions/lib/kube";
import { DEFAULT_LEASE_SECONDS } from "../functions/target-lease/core";
import { resolveAlb, type VerifyDeps } from "../functions/verify-connection/core";
import type { LocalFunctions } from "../statemachine/runner";
import { type AwsClients, wireSteps } from "../statemachine/wire-steps";
import type { FileRegistry } from "./file-registry";

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

export interface LocalStepsEnv {
  /** Every step invocation's promise while it runs: an interrupted run waits for the one in flight. */
  inflight: Map<Promise<unknown>, string>;
  region: string;
  aws: AwsClients;
  connect: ClusterConnector;
  registry: FileRegistry;
  /** verify-connection's DNS: every address of a name. Default: DNS queries for its A and AAAA records. */
  resolve?: VerifyDeps["resolve"];
  watchSeconds?: number;
  verifyTimeoutMs?: number;
}

export function localSteps(env: LocalStepsEnv): LocalFunctions {
  return wireSteps({
    aws: env.aws,
    // A deployment request (run validates it first) or a drift check (which plans from the registry's list): no
    // renewal, so nothing needs the registry's certificate index.
    registry: env.registry,
    connect: env.connect,
    resolve: env.resolve ?? resolveAlb,
    defaultRegion: env.region,
    watchSeconds: env.watchSeconds ?? DEFAULT_WATCH_SECONDS,
    verifyTimeoutMs: env.verifyTimeoutMs,
    leaseSeconds: DEFAULT_LEASE_SECONDS,
    isRunning: async (owner) => localHolderRunning(owner),
    onInvoke: (step, call) => {
      env.inflight.set(call, step);
      const done = () => env.inflight.delete(call);
      call.then(done, done);
    },
  });
}

// One execution at a time per target: two portal clicks, or a renewal racing an operator's run, must not
// interleave their Ingress and Service changes. The lease is a registry item with a TTL; an execution that
// died without releasing it is detected (not RUNNING) and its lease taken over at once instead of after the TTL.
import { TargetBusy } from "../lib/errors";
import type { Target } from "../lib/state";
import { type Registry, targetIdOf } from "../lib/registry";

export interface TargetLeaseInput {
  action: "claim" | "release";
  target: Target;
  executionArn: string;
}

export interface TargetLeaseDeps {
  registry: Registry;
  /** Whether an execution still runs (production: states:DescribeExecution). */
  isRunning: (executionArn: string) => Promise<boolean>;
  /** Longer than any healthy run of one target, so only a dead run's lease expires. */
  ttlSeconds: number;
  now?: () => Date;
}

/** 2 h: a full address wait (≤ 60 min) plus verification retries and the cutover fit well inside. */
export const DEFAULT_LEASE_SECONDS = 2 * 60 * 60;

export async function targetLease(input: TargetLeaseInput, deps: TargetLeaseDeps) {
  const targetId = targetIdOf(input.target);
  if (input.action === "release") {
    await deps.registry.release(targetId, input.executionArn);
    return { targetId, released: true };
  }
  const now = deps.now?.() ?? new Date();
  const first = await deps.registry.claim(targetId, input.executionArn, deps.ttlSeconds, now);
  if (first.claimed) return { targetId, claimed: true };
  const holder = first.holder;
  if (holder.owner && !(await deps.isRunning(holder.owner))) {
    const again = await deps.registry.claim(targetId, input.executionArn, deps.ttlSeconds, now, holder.owner);
    if (again.claimed) return { targetId, claimed: true, tookOverFrom: holder.owner };
  }
  throw new TargetBusy(
    `Target ${targetId} is being changed by execution ${holder.owner || "(unknown)"} (lease until ${new Date(holder.expiresAt * 1000).toISOString()}); this execution waits for it to finish. If that execution is stuck, stop it and this one proceeds.`,
  );
}

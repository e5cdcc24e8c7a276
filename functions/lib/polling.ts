// The address-wait schedule (docs/architecture.md, "The address wait"). Each get-ingress-status poll holds a
// bounded Kubernetes watch on the Ingress (returns the moment an address is published), then the ASL's Wait state
// sleeps a short backoff before the next poll: worst-case detection is the longest Wait, and a budget of B seconds
// takes about B / (WATCH + WAIT_CAP) polls.

/** Seconds one poll may hold its watch open. The Lambda's timeout must exceed it. */
export const DEFAULT_WATCH_SECONDS = 30;
/** Wait between polls: 1, 2, 4, then capped. */
export const WAIT_CAP_SECONDS = 5;

export function nextWaitSeconds(attempts: number): number {
  return Math.min(2 ** Math.max(0, attempts - 1), WAIT_CAP_SECONDS);
}

/** Polls that fit in a wait budget, given the watch length the status step is deployed with. */
export function maxPollsFor(budgetSeconds: number, watchSeconds = DEFAULT_WATCH_SECONDS): number {
  return Math.max(1, Math.ceil(budgetSeconds / (watchSeconds + WAIT_CAP_SECONDS)));
}

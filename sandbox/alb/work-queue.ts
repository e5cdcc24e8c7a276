// The controller's work queue: one reconcile per key at a time, events for a key being reconciled coalesce into one
// more run, and a failed key is retried with per-item exponential backoff, as controller-runtime's default rate
// limiter does (kubernetes/kubernetes staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go, commit
// 04bb4ce9d338: DefaultControllerRateLimiter, ItemExponentialFailureRateLimiter(5ms, 1000s)). Its overall token
// bucket is not modelled.
import { errorText } from "./errors";

interface QueueItem {
  running: boolean;
  dirty: boolean;
  timer?: NodeJS.Timeout;
  /** When `timer` fires; a sooner wake-up replaces it (workqueue AddAfter keeps the earliest). */
  dueAt?: number;
  failures: number;
}

/** The backoff cap, ItemExponentialFailureRateLimiter's maxDelay. */
const MAX_RETRY_DELAY_MS = 1_000_000;

export class WorkQueue {
  private readonly items = new Map<string, QueueItem>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly reconcile: (key: string) => Promise<void>,
    /** First retry delay after a failure; it doubles per failure. */
    private readonly retryBaseMs: number,
    private readonly log: (m: string) => void,
  ) {}

  /** Reconciles `key` now, or after `delayMs` (an earlier wake-up already planned wins). */
  enqueue(key: string, delayMs = 0): void {
    if (this.closed) return;
    let item = this.items.get(key);
    if (!item) {
      item = { running: false, dirty: false, failures: 0 };
      this.items.set(key, item);
    }
    const it = item;
    if (delayMs > 0) {
      const dueAt = Date.now() + delayMs;
      if (it.timer && (it.dueAt ?? 0) <= dueAt) return;
      clearTimeout(it.timer);
      it.dueAt = dueAt;
      it.timer = setTimeout(() => {
        it.timer = undefined;
        it.dueAt = undefined;
        this.enqueue(key);
      }, delayMs);
      return;
    }
    if (it.timer) {
      clearTimeout(it.timer);
      it.timer = undefined;
      it.dueAt = undefined;
    }
    if (it.running) {
      it.dirty = true;
      return;
    }
    it.running = true;
    const p = this.work(key, it);
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async work(key: string, it: QueueItem): Promise<void> {
    do {
      it.dirty = false;
      let ok = false;
      try {
        await this.reconcile(key);
        ok = true;
      } catch (e) {
        this.log(`reconcile ${key} failed: ${errorText(e)}`);
      }
      if (this.closed) break;
      if (ok) it.failures = 0;
      else if (!it.dirty) {
        const delay = Math.min(MAX_RETRY_DELAY_MS, this.retryBaseMs * 2 ** it.failures);
        it.failures += 1;
        it.running = false;
        this.enqueue(key, delay);
        return;
      }
    } while (it.dirty && !this.closed);
    it.running = false;
  }

  /** Stops taking work and cancels planned retries; reconciles already running go on (see settled). */
  close(): void {
    this.closed = true;
    for (const item of this.items.values()) if (item.timer) clearTimeout(item.timer);
  }

  /** Resolves once every reconcile that was running has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

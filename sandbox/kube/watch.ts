// Watches: newline-delimited JSON events over a chunked response, replayed from the store's history when the
// client names a resourceVersion, filtered by selectors the way the watch cache filters them. Ported from
// kubernetes/kubernetes (versions: README.md): staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go (the event
// stream), staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go (ADDED/DELETED for objects
// that start or stop matching), cacher/watch_cache.go (a resourceVersion older than the window: one ERROR event
// with a 410 Expired Status, then the end) and cacher/cacher.go (waitUntilFreshAndBlock: a resourceVersion newer
// than the cache waits up to blockTimeout, 3 s, then fails with storage.NewTooLargeResourceVersionError).
import type { ServerResponse } from "node:http";
import type { Call } from "./call";
import type { Clock } from "./clock";
import { badRequest, resourceExpired, tooLargeResourceVersion } from "./errors";
import { dig, type Json, type JsonObject } from "./json";
import type { Target } from "./resources";
import { type Selector, selectorMatches, selectorOf } from "./selectors";
import type { Change, ObjectStore } from "./store";
import { requestedTable, type TableOptions, toTable } from "./table";
import type { WatchEvent } from "./types";

interface Watcher extends Selector {
  res: ServerResponse;
  timer?: NodeJS.Timeout;
  /** Set when the client asked for Table events (kubectl get -w); headers go with the first one only. */
  table?: TableOptions;
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {
    store.subscribe((change) => {
      for (const watcher of this.watchers) this.deliver(watcher, change);
    });
  }

  /** Ends every open watch (the server is closing). */
  closeAll(): void {
    for (const watcher of this.watchers) this.end(watcher);
  }

  /**
   * Newline-delimited watch events. Without resourceVersion (or "0") the current matches come first as ADDED;
   * with one, every later change is replayed from history, then live changes follow. An object that starts or
   * stops matching the selectors arrives as ADDED or DELETED, as the watch cache filters it.
   */
  async serve(call: Call, target: Target): Promise<void> {
    const since = requestedRevision(call);
    if (since !== undefined) await waitUntilFresh(this.store, since);
    const window = since === undefined ? undefined : this.store.changesSince(target.info, since);
    const watcher: Watcher = { ...selectorOf(call, target), res: call.res, table: requestedTable(call, this.clock) };
    call.record.status = 200;
    call.res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    // Headers go out now: a client waits for them before it reads events, and there may be none for a while.
    call.res.flushHeaders();
    call.res.socket?.setNoDelay(true);
    if (since === undefined) {
      for (const obj of this.store.select(target.info, target.namespace)) {
        if (selectorMatches(watcher, obj)) this.emit(watcher, "ADDED", obj);
      }
    } else if (window && "expired" in window) {
      // Past authentication, authorization and a parsed resourceVersion, the failure is a watch event.
      call.res.end(`${JSON.stringify({ type: "ERROR", object: resourceExpired(since ?? 0, window.expired).body() })}\n`);
      return;
    } else {
      for (const change of window?.changes ?? []) this.deliver(watcher, change);
    }
    this.watchers.add(watcher);
    const timeout = Number(call.url.searchParams.get("timeoutSeconds") ?? "");
    if (timeout > 0) watcher.timer = setTimeout(() => this.end(watcher), timeout * 1000);
    call.res.on("close", () => this.end(watcher));
  }

  private deliver(watcher: Watcher, change: Change): void {
    if (watcher.info !== change.info) return;
    const now = change.type !== "DELETED" && selectorMatches(watcher, change.object);
    const before = selectorMatches(watcher, change.type === "DELETED" ? change.object : change.previous);
    if (now && before) this.emit(watcher, "MODIFIED", change.object);
    else if (now) this.emit(watcher, "ADDED", change.object);
    else if (before) this.emit(watcher, "DELETED", change.object);
  }

  private emit(watcher: Watcher, type: WatchEvent["type"], object: JsonObject): void {
    if (watcher.res.writableEnded) return;
    let sent: Json = object;
    if (watcher.table) {
      const rv = String(dig(object, "metadata.resourceVersion"));
      sent = toTable(watcher.info, [object], rv, { ...watcher.table, now: this.clock.date().getTime() });
      watcher.table.headers = false;
    }
    watcher.res.write(`${JSON.stringify({ type, object: sent })}\n`);
  }

  private end(watcher: Watcher): void {
    if (!this.watchers.delete(watcher)) return;
    clearTimeout(watcher.timer);
    if (!watcher.res.writableEnded) watcher.res.end();
  }
}

/** The resourceVersion a list or watch names ("" and "0" name none: any state will do). */
export function requestedRevision(call: Call): number | undefined {
  const rvParam = call.url.searchParams.get("resourceVersion");
  if (!rvParam || rvParam === "0") return undefined;
  const rv = Number(rvParam);
  if (!Number.isInteger(rv) || rv < 0) throw badRequest(`invalid resource version: ${rvParam}`);
  return rv;
}

/** cacher.go's blockTimeout: how long a request for a future resourceVersion waits for the cache to reach it. */
const BLOCK_TIMEOUT_MS = 3_000;

/** waitUntilFreshAndBlock: resolves once the store has reached `rv`, or fails with a 504 after BLOCK_TIMEOUT_MS. */
export function waitUntilFresh(store: ObjectStore, rv: number): Promise<void> {
  if (store.currentRevision >= rv) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(tooLargeResourceVersion(rv, store.currentRevision));
    }, BLOCK_TIMEOUT_MS);
    const unsubscribe = store.subscribe(() => {
      if (store.currentRevision < rv) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

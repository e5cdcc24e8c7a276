// The object store: objects by resource, namespace and name, the cluster-wide resourceVersion counter (an etcd
// revision), and per resource a bounded window of recent changes that watches replay from a resourceVersion (the
// watch cache). Ported from kubernetes/kubernetes v1.32.5, staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go
// (the cyclic buffer of events per resource, getAllEventsSinceLocked's "too old resource version" answer).
import { child, clone, type JsonObject, str } from "./json";
import { qualifiedResource, type ResourceInfo } from "./resources";
import type { WatchEvent } from "./types";

/** One stored change, as watches and onChange listeners see it. */
export interface Change {
  rv: number;
  type: WatchEvent["type"];
  info: ResourceInfo;
  object: JsonObject;
  previous?: JsonObject;
}

/**
 * The watch cache's default capacity is 100 events per resource, growing up to 100×1024 while events are younger
 * than eventFreshDuration (75 s); a fixed window is the simplification here, large enough that the sandbox's own runs
 * never meet it unless a test shrinks it or compacts.
 */
export const DEFAULT_HISTORY_WINDOW = 1024;

interface Window {
  changes: Change[];
  /** The revision the window was last cut at (an event dropped or a compaction); 0 while nothing was dropped. */
  cutAt: number;
}

export class ObjectStore {
  private readonly objects = new Map<string, JsonObject>();
  private readonly windows = new Map<ResourceInfo, Window>();
  private readonly subscribers = new Set<(change: Change) => void>();
  private revision = 0;
  /** The revision of the last compact(); 0 when never compacted. */
  private compactedAt = 0;

  constructor(private readonly historyWindow = DEFAULT_HISTORY_WINDOW) {}

  /** The resourceVersion of the latest change, as lists carry it. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  get currentRevision(): number {
    return this.revision;
  }

  /** Calls `subscriber` on every change, in subscription order; returns an unsubscribe function. */
  subscribe(subscriber: (change: Change) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  get(info: ResourceInfo, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.objects.get(this.key(info, namespace, name));
  }

  has(info: ResourceInfo, namespace: string | undefined, name: string): boolean {
    return this.objects.has(this.key(info, namespace, name));
  }

  private key(info: ResourceInfo, namespace: string | undefined, name: string): string {
    return `${qualifiedResource(info)}/${namespace ?? ""}/${name}`;
  }

  select(info: ResourceInfo, namespace: string | undefined): JsonObject[] {
    const prefix = `${qualifiedResource(info)}/${namespace ?? ""}`;
    return [...this.objects.entries()]
      .filter(([key]) => (namespace === undefined ? key.startsWith(`${qualifiedResource(info)}/`) : key.startsWith(`${prefix}/`)))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, obj]) => obj);
  }

  private window(info: ResourceInfo): Window {
    let window = this.windows.get(info);
    if (!window) {
      window = { changes: [], cutAt: 0 };
      this.windows.set(info, window);
    }
    return window;
  }

  /**
   * The changes of `info` after `since`, or `{ expired }` with the revision the window now starts after when `since`
   * is older than the window (getAllEventsSinceLocked: `resourceVersion < oldest-1`).
   */
  changesSince(info: ResourceInfo, since: number): { changes: Change[] } | { expired: number } {
    const window = this.window(info);
    const cut = Math.max(window.cutAt, this.compactedAt);
    const oldest = window.changes[0]?.rv ?? cut + 1;
    if (cut > 0 && since < oldest - 1) return { expired: oldest - 1 };
    return { changes: window.changes.filter((c) => c.rv > since) };
  }

  /** Drops every change up to the current revision from every window, as an etcd compaction followed by a relist. */
  compact(): void {
    this.compactedAt = this.revision;
    for (const window of this.windows.values()) window.changes = [];
  }

  /** Stores (or, with `obj` undefined, deletes) and tells subscribers; returns the new resourceVersion. */
  commit(info: ResourceInfo, old: JsonObject | undefined, obj: JsonObject | undefined): string {
    const rv = ++this.revision;
    const subject = obj ?? clone(old ?? {});
    const meta = child(subject, "metadata");
    meta.resourceVersion = String(rv);
    const key = this.key(info, str(meta.namespace), String(meta.name));
    if (obj) this.objects.set(key, obj);
    else this.objects.delete(key);
    const change: Change = {
      rv,
      type: obj ? (old ? "MODIFIED" : "ADDED") : "DELETED",
      info,
      object: clone(subject),
      previous: old ? clone(old) : undefined,
    };
    const window = this.window(info);
    window.changes.push(change);
    while (window.changes.length > this.historyWindow) {
      const dropped = window.changes.shift();
      if (dropped) window.cutAt = dropped.rv;
    }
    for (const subscriber of this.subscribers) subscriber(change);
    return String(rv);
  }
}

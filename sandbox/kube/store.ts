// The object store: objects by resource, namespace and name, the cluster-wide resourceVersion counter, and the
// history of changes that watches replay from a resourceVersion (an etcd revision and the watch cache, in one).
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

export class ObjectStore {
  private readonly objects = new Map<string, JsonObject>();
  /** Every change since the start; watches from a resourceVersion replay what came after it. */
  readonly history: Change[] = [];
  private readonly subscribers = new Set<(change: Change) => void>();
  private revision = 0;

  /** The resourceVersion of the latest change, as lists carry it. */
  get resourceVersion(): string {
    return String(this.revision);
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
    this.history.push(change);
    for (const subscriber of this.subscribers) subscriber(change);
    return String(rv);
  }
}

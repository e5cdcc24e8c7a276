// List+watch, the reflector part of an informer (after kubernetes/kubernetes
// staging/src/k8s.io/client-go/tools/cache/reflector.go, commit 2b02db1be88b): list, then watch from the list's resourceVersion with
// bookmarks, resume after a clean close, relist on 410 Gone or a dropped connection (the relist delay is a guess).
import { setTimeout as sleep } from "node:timers/promises";
import type { Watch } from "@kubernetes/client-node";
import { errorText } from "./errors";

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export class ListWatch<T extends KubeObject> {
  private stopped = false;
  private abort?: AbortController;
  private wake?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly watch: Watch,
    private readonly path: string,
    private readonly list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
    private readonly onSync: (items: T[]) => void,
    private readonly onEvent: (type: string, obj: T) => void,
    private readonly log: (m: string) => void,
  ) {}

  /** Resolves after the first list has been delivered (the informer's HasSynced). */
  async start(): Promise<void> {
    const first = await this.list();
    this.onSync(first.items);
    this.loop = this.run(first.metadata?.resourceVersion ?? "");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(initialRv: string): Promise<void> {
    let rv = initialRv;
    while (!this.stopped) {
      let relist = false;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.watch
          .watch(
            this.path,
            { resourceVersion: rv || undefined, allowWatchBookmarks: true },
            (type, obj: unknown) => {
              if (type === "ERROR") {
                // A Status object; 410 Gone means our resourceVersion is too old: relist.
                relist = true;
                this.abort?.abort();
                resolve();
                return;
              }
              const o = obj as T;
              if (o.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
              if (type !== "BOOKMARK") this.onEvent(type, o);
            },
            (err: unknown) => {
              if (err && !this.stopped && !(err instanceof Error && err.name === "AbortError")) {
                this.log(`watch ${this.path} ended: ${errorText(err)}`);
                relist = true;
              }
              resolve();
            },
          )
          .then((ac) => {
            this.abort = ac;
            if (this.stopped) ac.abort();
          })
          .catch((err: unknown) => {
            relist = true;
            this.log(`watch ${this.path} failed: ${errorText(err)}`);
            resolve();
          });
      });
      this.abort = undefined;
      if (this.stopped) break;
      // A clean server-side close resumes from the last resourceVersion; anything else relists, like a reflector.
      if (relist || !rv) {
        await sleep(200);
        if (this.stopped) break;
        try {
          const fresh = await this.list();
          rv = fresh.metadata?.resourceVersion ?? "";
          this.onSync(fresh.items);
        } catch (e) {
          this.log(`list ${this.path} failed: ${errorText(e)}`);
          rv = "";
        }
      }
    }
  }
}

// The stand-in itself: an HTTPS server on 127.0.0.1 with a serving certificate from its own CA, composed of
// the object store, the watch hub, the registry's write path, the REST handlers, the fault injector and the
// request router, plus the direct access tests and the sandbox use (put, get, list, onChange).
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { issue, servingCertificate } from "../pki";
import { AdmissionChain } from "./admission";
import type { AccessScope } from "./types";
import { Clock } from "./clock";
import { FaultInjector } from "./faults";
import { RequestRouter } from "./http";
import { child, clone, dig, type JsonObject, str } from "./json";
import { findResource } from "./resources";
import { RestHandlers } from "./rest";
import { ObjectStore } from "./store";
import type { Fault, KubeApiServer, KubeApiServerOptions, KubeObject, MutationRecord, RequestRecord, WatchEvent } from "./types";
import { WatchHub } from "./watch";
import { WritePath } from "./write";

class SandboxApiServer implements KubeApiServer {
  url = "";
  caPem = "";
  readonly requests: RequestRecord[] = [];
  readonly mutations: MutationRecord[] = [];
  private readonly clock: Clock;
  private readonly store: ObjectStore;
  private scope: AccessScope = "cluster";
  private readonly watches: WatchHub;
  private readonly faults = new FaultInjector();
  private readonly router: RequestRouter;
  private readonly listeners = new Set<(event: WatchEvent) => void>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;

  constructor(options: KubeApiServerOptions) {
    this.clock = new Clock(options.now);
    this.store = new ObjectStore(options.watchHistory);
    // Watches subscribe first, so they see each change before onChange listeners do.
    this.watches = new WatchHub(this.store, this.clock);
    this.store.subscribe((change) => {
      for (const listener of this.listeners) listener({ type: change.type, object: clone(change.object) as unknown as KubeObject });
    });
    const admission = new AdmissionChain(this.store);
    const rest = new RestHandlers(this.store, new WritePath(this.store, this.clock, this.mutations, admission), this.clock, admission);
    this.router = new RequestRouter(options, this.requests, this.faults, rest, this.watches, () => this.url, () => this.scope, (kind, namespace) => {
      const info = findResource(`${kind}.rbac.authorization.k8s.io`);
      return info ? this.store.select(info, namespace) : [];
    });
  }

  async start(): Promise<void> {
    const ca = await issue({ commonName: "kubernetes", isCa: true, keyType: "ec256" });
    const serving = await servingCertificate(ca, "kube-apiserver", ["localhost", "kubernetes.default.svc"]);
    this.caPem = ca.certPem;
    for (const name of ["default", "kube-system", "milvus"]) {
      this.put({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      });
    }
    const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      void this.router.handle(req, res);
    });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("kube-apiserver stand-in: no address");
    this.url = `https://127.0.0.1:${address.port}`;
    this.server = server;
  }

  // ---- direct access ---------------------------------------------------------------------------------------

  put(input: object): KubeObject {
    const obj = clone(input) as JsonObject;
    const info = findResource(String(obj.kind ?? ""), String(obj.apiVersion ?? ""));
    if (!info) {
      throw new Error(`kube-apiserver stand-in: cannot store ${String(obj.apiVersion)}/${String(obj.kind)}`);
    }
    const meta = child(obj, "metadata");
    const name = str(meta.name);
    if (!name) throw new Error("kube-apiserver stand-in: put() needs metadata.name");
    const namespace = info.namespaced ? (str(meta.namespace) ?? "default") : undefined;
    if (namespace) meta.namespace = namespace;
    const old = this.store.get(info, namespace, name);
    meta.uid ??= str(dig(old, "metadata.uid")) ?? randomUUID();
    meta.creationTimestamp ??= str(dig(old, "metadata.creationTimestamp")) ?? this.clock.timestamp();
    if (info.kind === "Ingress" || info.custom) meta.generation ??= 1;
    if (info.initialStatus && obj.status === undefined) obj.status = clone(info.initialStatus);
    this.store.commit(info, old, obj);
    return clone(obj) as unknown as KubeObject;
  }

  get<T extends object = KubeObject>(kind: string, namespace: string | undefined, name: string): T | undefined {
    const info = findResource(kind);
    if (!info) throw new Error(`kube-apiserver stand-in: unknown kind ${kind}`);
    const obj = this.store.get(info, info.namespaced ? namespace : undefined, name);
    return obj ? (clone(obj) as unknown as T) : undefined;
  }

  list<T extends object = KubeObject>(kind: string, namespace?: string): T[] {
    const info = findResource(kind);
    if (!info) throw new Error(`kube-apiserver stand-in: unknown kind ${kind}`);
    return this.store.select(info, namespace).map((o) => clone(o) as unknown as T);
  }

  onChange(listener: (event: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setAccessScope(scope: AccessScope): void {
    this.scope = clone(scope);
  }

  compact(): void {
    this.store.compact();
  }

  get resourceVersion(): string {
    return this.store.resourceVersion;
  }

  injectFault(fault: Fault): void {
    this.faults.inject(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  close(): Promise<void> {
    this.watches.closeAll();
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}

export async function startKubeApiServer(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const server = new SandboxApiServer(opts);
  await server.start();
  return server;
}

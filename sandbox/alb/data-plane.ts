// The data plane of one ALB: its load-balancer nodes (one per Availability Zone on a real ALB), each a TLS listener
// on 127.0.0.1 with its own port speaking HTTP/2 (ALPN h2). Every node serves the certificates ACM holds for the
// listener's ARNs (re-read in the background, so a re-import is served soon after — by each node at its own
// moment), picks one by SNI, routes each request by host and path to a target group, answers 404/503 itself,
// closes idle connections, and forwards the rest (forwarding.ts). Upstream sources are listed in README.md in this
// folder.
import { randomBytes } from "node:crypto";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import type { AlbControllerOptions, AlbFault } from "./api";
import { type CertMaterial, sameMaterial } from "./certificates";
import { errorText } from "./errors";
import { forwardHttp1, forwardHttp2, HOP_BY_HOP, respondFixed, UpstreamPool } from "./forwarding";
import type { Route, TargetGroupSpec } from "./model";

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

function hostMatches(pattern: string | undefined, host: string): boolean {
  if (pattern === undefined) return true;
  return pattern.includes("*") || pattern.includes("?") ? globToRegExp(pattern).test(host) : pattern === host;
}

/** buildPathPatterns*: Prefix "/" is "/*", Prefix "/foo" is "/foo" or "/foo/*"; ImplementationSpecific is a glob. */
function pathMatches(route: Route, path: string): boolean {
  switch (route.pathType) {
    case "Exact":
      return path === route.path;
    case "Prefix": {
      if (route.path === "/") return true;
      const p = route.path.replace(/\/$/, "");
      return path === p || path.startsWith(`${p}/`);
    }
    case "ImplementationSpecific":
      return globToRegExp(route.path).test(path);
  }
}

interface CertEntry {
  current: CertMaterial;
  /** ACM changed; served once this node's certificate lag (AlbFault) has passed since `seenAt`. */
  pending?: { material: CertMaterial; seenAt: number };
}

/** One load-balancer node: its own listener socket and its own view of the listener's certificates. */
class Node {
  port = 0;
  readonly entries = new Map<string, CertEntry>();
  defaultServed?: CertMaterial;

  constructor(
    readonly index: number,
    readonly server: http2.Http2SecureServer,
  ) {}
}

/** ELB's TargetHealth of a registered target (ELBv2 API reference, TargetHealth; DescribeTargetHealth). */
export interface TargetHealth {
  state: "initial" | "healthy" | "unhealthy";
  reason?: string;
  description?: string;
}

/**
 * ELB's Description for each reason code the simulator produces. Guess: the texts `aws elbv2 describe-target-health`
 * shows on real target groups; the API reference documents the codes, not the descriptions.
 */
const DESCRIPTIONS: Record<string, string> = {
  "Elb.InitialHealthChecking": "Initial health checks in progress",
  "Target.Timeout": "Request timed out",
  "Target.FailedHealthChecks": "Health checks failed",
  "Target.ResponseCodeMismatch": "Health checks failed with these codes: [14]",
};

/**
 * A registered target's health: `initial` (Elb.InitialHealthChecking) until `healthyAt`, then `healthy`; with the
 * `unhealthyTargets` fault `unhealthy` with its reason from registration on (the initial checks, which would fail
 * too, are not waited for).
 */
export function targetHealth(fault: AlbFault, healthyAt: number | undefined, now = Date.now()): TargetHealth {
  const unhealthy = fault.unhealthyTargets;
  if (unhealthy) {
    const reason =
      unhealthy === true ? "Target.FailedHealthChecks" : unhealthy === "untagged-security-groups" ? "Target.Timeout" : unhealthy;
    return { state: "unhealthy", reason, description: DESCRIPTIONS[reason] };
  }
  if (healthyAt === undefined || now < healthyAt) {
    return { state: "initial", reason: "Elb.InitialHealthChecking", description: DESCRIPTIONS["Elb.InitialHealthChecking"] };
  }
  return { state: "healthy" };
}

export interface ListenerConfig {
  routes: Route[];
  defaultTg?: string;
  targetGroups: Map<string, TargetGroupSpec>;
  /** TG key → epoch ms from which its targets pass health checks. */
  healthyAt: Map<string, number>;
  idleTimeoutMs: number;
  /** The ALB's own HTTPS port (443), for X-Forwarded-Port. */
  listenPort: number;
  namespace: string;
}

export interface DataPlaneDeps {
  /** Load-balancer nodes, each its own listener (address). */
  nodes: number;
  /** The certificate behind an ARN, as ACM holds it now (see certificateReader). */
  loadCertificate: (arn: string) => Promise<CertMaterial>;
  targetFor: AlbControllerOptions["targetFor"];
  fault: () => AlbFault;
  certificateRefreshMs: number;
  log: (m: string) => void;
}

export class DataPlane {
  private readonly nodes: Node[];
  private readonly sessions = new Map<http2.Http2Session, { active: number; idleSince: number }>();
  private readonly upstreams = new UpstreamPool();
  private arns: string[] = [];
  private refreshTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private refreshing = false;
  private closed = false;

  constructor(
    private readonly deps: DataPlaneDeps,
    public config: ListenerConfig,
    private minVersion: tls.SecureVersion,
  ) {
    this.nodes = Array.from({ length: Math.max(1, deps.nodes) }, (_, i) => {
      const server = http2.createSecureServer({
        // ALPN h2 only: this ALB stand-in exists for gRPC, which needs HTTP/2 end to end.
        allowHTTP1: false,
        minVersion,
        SNICallback: (servername, cb) => {
          try {
            cb(null, this.contextFor(node, servername));
          } catch (e) {
            cb(e as Error);
          }
        },
      });
      const node = new Node(i, server);
      server.on("session", (session) => this.onSession(session));
      server.on("stream", (stream, headers) => this.onStream(stream, headers));
      // Broken clients must not take the sandbox down.
      server.on("sessionError", () => undefined);
      server.on("tlsClientError", () => undefined);
      return node;
    });
  }

  async listen(arns: string[], materials: (CertMaterial | undefined)[]): Promise<void> {
    this.setCertificates(arns, materials);
    for (const node of this.nodes) {
      await new Promise<void>((resolve, reject) => {
        node.server.once("error", reject);
        node.server.listen(0, "127.0.0.1", () => {
          node.server.off("error", reject);
          resolve();
        });
      });
      node.port = (node.server.address() as AddressInfo).port;
    }
    // Like a real ALB, the listener re-reads the certificate behind its ARN, so a re-import is served soon after.
    this.refreshTimer = setInterval(() => void this.refresh(), this.deps.certificateRefreshMs);
    this.refreshTimer.unref();
    this.idleTimer = setInterval(() => this.reapIdle(), Math.min(1000, Math.max(50, this.config.idleTimeoutMs / 4)));
    this.idleTimer.unref();
  }

  /** Each node's local port, in node order: what DNS answers for the ALB's name. */
  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  get defaultArn(): string | undefined {
    return this.arns[0];
  }

  setMinVersion(v: tls.SecureVersion): void {
    if (v === this.minVersion) return;
    this.minVersion = v;
    for (const node of this.nodes) this.syncDefaultContext(node, true);
  }

  /** ModifyListener: a new certificate list. Materials are pre-loaded so a bad ARN fails the deploy, not a handshake. */
  setCertificates(arns: string[], materials: (CertMaterial | undefined)[]): void {
    for (const node of this.nodes) {
      const next = new Map<string, CertEntry>();
      arns.forEach((arn, i) => {
        const existing = node.entries.get(arn);
        const material = materials[i];
        if (existing) next.set(arn, existing);
        else if (material) next.set(arn, { current: material });
      });
      node.entries.clear();
      for (const [k, v] of next) node.entries.set(k, v);
    }
    this.arns = arns;
    for (const node of this.nodes) this.syncDefaultContext(node, false);
  }

  private served(node: Node, entry: CertEntry): CertMaterial {
    const fault = this.deps.fault();
    const lag = fault.nodeCertificateLagMs?.[node.index] ?? fault.servedCertificateLagMs ?? 0;
    if (entry.pending && Date.now() - entry.pending.seenAt >= lag) {
      entry.current = entry.pending.material;
      entry.pending = undefined;
    }
    return entry.current;
  }

  /** ALB picks the listener certificate whose names match the SNI, else the default (first) one. */
  private contextFor(node: Node, servername: string | undefined): tls.SecureContext {
    let chosen: CertMaterial | undefined;
    if (servername) {
      for (const arn of this.arns) {
        const entry = node.entries.get(arn);
        if (!entry) continue;
        const m = this.served(node, entry);
        if (m.x509.checkHost(servername)) {
          chosen = m;
          break;
        }
      }
    }
    if (!chosen) {
      const def = this.defaultArn ? node.entries.get(this.defaultArn) : undefined;
      if (!def) throw new Error("listener has no certificate");
      chosen = this.served(node, def);
    }
    this.syncDefaultContext(node, false);
    if (chosen.context?.minVersion !== this.minVersion) {
      const value = tls.createSecureContext({
        cert: chosen.certPem + (chosen.chainPem ? `\n${chosen.chainPem}` : ""),
        key: chosen.keyPem,
        minVersion: this.minVersion,
      });
      chosen.context = { minVersion: this.minVersion, value };
    }
    return chosen.context.value;
  }

  /** Clients that send no SNI get the server's default context: keep it on the default certificate. */
  private syncDefaultContext(node: Node, force: boolean): void {
    const def = this.defaultArn ? node.entries.get(this.defaultArn) : undefined;
    if (!def) return;
    const m = this.served(node, def);
    if (!force && node.defaultServed === m) return;
    node.defaultServed = m;
    node.server.setSecureContext({
      cert: m.certPem + (m.chainPem ? `\n${m.chainPem}` : ""),
      key: m.keyPem,
      minVersion: this.minVersion,
    });
  }

  private async refresh(): Promise<void> {
    if (this.refreshing || this.closed) return;
    this.refreshing = true;
    try {
      for (const arn of [...this.arns]) {
        if (!this.nodes.some((n) => n.entries.has(arn))) continue;
        let fresh: CertMaterial;
        try {
          fresh = await this.deps.loadCertificate(arn);
        } catch (e) {
          // ACM would not let an in-use certificate be deleted; keep serving what we have.
          this.deps.log(`certificate refresh for ${arn} failed: ${errorText(e)}`);
          continue;
        }
        // One ACM read for the ALB; each node notes the change itself, and serves it after its own lag.
        for (const node of this.nodes) {
          const entry = node.entries.get(arn);
          if (!entry) continue;
          const latest = entry.pending?.material ?? entry.current;
          if (!sameMaterial(latest, fresh)) entry.pending = { material: fresh, seenAt: Date.now() };
        }
      }
      for (const node of this.nodes) this.syncDefaultContext(node, false);
    } finally {
      this.refreshing = false;
    }
  }

  private onSession(session: http2.ServerHttp2Session): void {
    this.sessions.set(session, { active: 0, idleSince: Date.now() });
    session.on("error", () => undefined);
    session.on("close", () => this.sessions.delete(session));
  }

  /** ALB closes a connection idle (no request in flight) for the idle timeout; HTTP/2 PINGs do not count. */
  private reapIdle(): void {
    const now = Date.now();
    for (const [session, s] of this.sessions) {
      if (s.active === 0 && now - s.idleSince >= this.config.idleTimeoutMs && !session.closed) {
        session.goaway(http2.constants.NGHTTP2_NO_ERROR);
        session.close();
      }
    }
  }

  private healthy(tgKey: string): boolean {
    return targetHealth(this.deps.fault(), this.config.healthyAt.get(tgKey)).state === "healthy";
  }

  private route(host: string, path: string): string | undefined {
    for (const r of this.config.routes) {
      if (hostMatches(r.host, host) && pathMatches(r, path)) return r.tg;
    }
    return this.config.defaultTg;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on("error", () => undefined);
    const session = stream.session;
    const s = session ? this.sessions.get(session) : undefined;
    if (s) {
      s.active += 1;
      stream.once("close", () => {
        s.active -= 1;
        s.idleSince = Date.now();
      });
    }
    const authority = String(headers[":authority"] ?? headers.host ?? "");
    // Host part only: the port in :authority is ignored by the host-header condition.
    const host = authority.replace(/:\d+$/, "").replace(/^\[|\]$/g, "").toLowerCase();
    const path = String(headers[":path"] ?? "/").split("?")[0] ?? "/";
    const tgKey = this.route(host, path);
    const tg = tgKey ? this.config.targetGroups.get(tgKey) : undefined;
    if (!tgKey || !tg) {
      respondFixed(stream, 404);
      return;
    }
    // No healthy (or no registered) targets: ALB answers 503 itself.
    const target = this.deps.targetFor(tg.namespace, tg.service, tg.servicePort);
    if (!this.healthy(tgKey) || !target) {
      respondFixed(stream, 503);
      return;
    }
    const out: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) {
      if (k.startsWith(":") || HOP_BY_HOP.has(k) || v === undefined) continue;
      out[k] = v;
    }
    const clientIp = session?.socket?.remoteAddress ?? "127.0.0.1";
    const xff = headers["x-forwarded-for"];
    out["x-forwarded-for"] = xff ? `${String(xff)}, ${clientIp}` : clientIp;
    out["x-forwarded-proto"] = "https";
    out["x-forwarded-port"] = String(this.config.listenPort);
    out["x-amzn-trace-id"] =
      `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
    const method = String(headers[":method"] ?? "GET");
    const reqPath = String(headers[":path"] ?? "/");
    const request = { stream, method, path: reqPath, authority, headers: out, target, tg };
    if (tg.protocolVersion === "HTTP1") forwardHttp1(request);
    else forwardHttp2(request, this.upstreams);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refreshTimer);
    clearInterval(this.idleTimer);
    const closed = Promise.all(this.nodes.map((n) => new Promise<void>((resolve) => n.server.close(() => resolve()))));
    for (const session of this.sessions.keys()) session.destroy();
    this.upstreams.close();
    await closed;
  }
}


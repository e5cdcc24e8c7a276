// AWS Load Balancer Controller + ALB stand-in. It talks to the Kubernetes API stand-in only through the real
// Kubernetes API with @kubernetes/client-node, as the real controller does (list+watch Ingresses and Services in
// all namespaces, merge-patch the Ingress `/status` subresource, create/patch core v1 Events, add and remove its
// finalizer), and to ACM only through @aws-sdk/client-acm. The "ALB" it provisions is a local TLS HTTP/2
// listener on 127.0.0.1 that serves the certificate ACM currently holds for the listener's ARN and routes gRPC by
// `:authority` to the target (the Milvus stand-in) over h2c.
//
// Behaviour and message texts follow kubernetes-sigs/aws-load-balancer-controller (paths below are in that repo):
// - controllers/ingress/group_controller.go: "Failed build model due to %v" (FailedBuildModel), "Failed deploy
//   model due to %v" (FailedDeployModel), "Successfully reconciled" (SuccessfullyReconciled), "Failed add
//   finalizer due to %v"; status is patched (MergeFrom) only after the model deployed, and only if it changed;
//   since v2.17 the status entry carries the listener ports.
// - controllers/ingress/eventhandlers/ingress_events.go: an update is only reconciled when annotations, spec or
//   the deletion state changed (so our own status patch does not loop).
// - pkg/ingress/model_builder.go run(): listen-port config (wrapped "ingress: ns/name: ..."), then the load
//   balancer (scheme, attributes), then listeners and rules (backend Services, target groups).
// - pkg/ingress/model_build_listener.go, model_build_load_balancer.go, model_build_target_group.go,
//   enhanced_backend_builder.go, pkg/annotations/parser.go, pkg/k8s/service_utils.go, pkg/certs/cert_discovery.go:
//   the individual validation messages reproduced below.
// - pkg/deploy/stack_deployer.go: deploy order target groups → load balancer → listeners; AWS-side failures are
//   aws-sdk-go-v2 errors ("operation error Elastic Load Balancing v2: <Op>, https response error StatusCode: 400,
//   RequestID: <id>, ..."), e.g. issue #4051 "ValidationError: Health check matcher GRPC code '405' must be
//   within '0-99' inclusive" and CreateListener "CertificateNotFound: Certificate '<arn>' not found".
// - pkg/ingress/finalizer.go: implicit-group finalizer `ingress.k8s.aws/resources`, added before the model is
//   built and removed after the load balancer is gone.
// Not simulated: IngressGroups (`group.name`; every Ingress gets its own ALB), IngressClass/IngressClassParams
// objects (`spec.ingressClassName: alb` or the legacy `kubernetes.io/ingress.class: alb` annotation is enough),
// HTTP (non-TLS) listeners' data plane and HTTP/1.1 clients, security groups, subnets, WAF, auth actions. Target
// health is a timer (healthyDelayMs) or a fault, not a probe of the health-check path, and there is no fail-open
// (a real ALB routes to all targets when every target is unhealthy; here it answers 503, which is what a client
// sees while targets are still in the "initial" state).
import { createHash, randomBytes, randomUUID, X509Certificate } from "node:crypto";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import {
  type ACMClient,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ListCertificatesCommand,
} from "@aws-sdk/client-acm";
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
  type V1IngressBackend,
  type V1Service,
  Watch,
} from "@kubernetes/client-node";

// ---------------------------------------------------------------------------------------------------------------
// Public API

export interface AlbControllerOptions {
  kube: { url: string; caPem: string; token: string };
  acm: ACMClient;
  /** ACM never returns an imported key; the sandbox's key store does. */
  privateKeyFor: (certificatePem: string) => string | undefined;
  /** The pod IPs target-type ip would register: the Milvus stand-in. `port` is the Service port. */
  targetFor: (namespace: string, service: string, port: number) => { host: string; port: number } | undefined;
  /** Region in the ALB hostname; defaults to the ACM client's region. */
  region?: string;
  /** Time from a successful deploy to the hostname in the Ingress status (ALB provisioning). Default 300. */
  publishDelayMs?: number;
  /** Time from publishing to healthy targets; until then the ALB answers 503. Default 500. */
  healthyDelayMs?: number;
  /** How often the ALB re-reads the listener's certificate from ACM. Default 200. */
  certificateRefreshMs?: number;
  /**
   * First retry delay after a failed reconcile; it doubles per failure up to 1000 s. Default 5, which is
   * controller-runtime's default per-item rate limiter (ItemExponentialFailureRateLimiter(5ms, 1000s)).
   */
  retryBaseMs?: number;
  /** Diagnostics; silent by default so test output stays readable. */
  log?: (message: string) => void;
}

export interface AlbFault {
  /** Never patch the Ingress status (the controller hangs before publishing). Clearing it publishes. */
  neverPublish?: boolean;
  /** Keep serving the previous certificate this long after ACM's copy changed (ALB propagation delay). */
  servedCertificateLagMs?: number;
  /** All targets fail health checks: the ALB answers 503. */
  unhealthyTargets?: boolean;
}

export interface AlbListenerInfo {
  namespace: string;
  name: string;
  /** The ALB's DNS name, the value the Ingress status gets. */
  hostname: string;
  /** Local port of the HTTPS listener on 127.0.0.1 (0 when the Ingress has no HTTPS listen port). */
  port: number;
  /** The listener's default certificate (first of `certificate-arn`, or the discovered one). */
  certificateArn: string | undefined;
  scheme: "internet-facing" | "internal";
  /** Whether the hostname has been written to the Ingress status. */
  published: boolean;
}

export interface AlbController {
  /** What DNS would answer for the ALB hostname (its HTTPS listener). */
  resolve(hostname: string): { address: string; port: number } | undefined;
  listeners(): AlbListenerInfo[];
  /** Replaces the current fault set; `setFault({})` clears all faults. */
  setFault(f: AlbFault): void;
  /** Stops the watches, all listeners and every open socket. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Constants from the controller and ELBv2

const PREFIX = "alb.ingress.kubernetes.io/";
/** pkg/shared_constants: the finalizer of an implicit (one-Ingress) group. */
const FINALIZER = "ingress.k8s.aws/resources";
/** main.go: mgr.GetEventRecorderFor("ingress"). */
const EVENT_SOURCE = "ingress";
/** pkg/config/controller_config.go defaultSSLPolicy. */
const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08";
/** pkg/ingress/model_builder.go defaults: GRPC health check path and matcher, HTTP matcher. */
const DEFAULT_GRPC_HC_PATH = "/AWS.ALB/healthcheck";
const DEFAULT_HTTP_HC_PATH = "/";
const DEFAULT_GRPC_SUCCESS = "12";
const DEFAULT_HTTP_SUCCESS = "200";
/** ALB idle timeout default (idle_timeout.timeout_seconds). */
const DEFAULT_IDLE_TIMEOUT_S = 60;
/** Cluster name that feeds the load balancer name hash (buildLoadBalancerName). */
const CLUSTER_NAME = "milvus-l7-sandbox";

/** ELB predefined security policies (ELBv2 DescribeSSLPolicies); anything else is SSLPolicyNotFound. */
const SSL_POLICIES = new Set([
  "ELBSecurityPolicy-2016-08",
  "ELBSecurityPolicy-2015-05",
  "ELBSecurityPolicy-TLS-1-0-2015-04",
  "ELBSecurityPolicy-TLS-1-1-2017-01",
  "ELBSecurityPolicy-TLS-1-2-2017-01",
  "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
  "ELBSecurityPolicy-FS-2018-06",
  "ELBSecurityPolicy-FS-1-1-2019-08",
  "ELBSecurityPolicy-FS-1-2-2019-08",
  "ELBSecurityPolicy-FS-1-2-Res-2019-08",
  "ELBSecurityPolicy-FS-1-2-Res-2020-10",
  "ELBSecurityPolicy-TLS13-1-0-2021-06",
  "ELBSecurityPolicy-TLS13-1-1-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
  "ELBSecurityPolicy-TLS13-1-3-2021-06",
  "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
  "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
]);

/** ALB load balancer attribute keys (ELBv2 LoadBalancerAttribute); others fail ModifyLoadBalancerAttributes. */
const LB_ATTRIBUTE_KEYS = new Set([
  "deletion_protection.enabled",
  "access_logs.s3.enabled",
  "access_logs.s3.bucket",
  "access_logs.s3.prefix",
  "connection_logs.s3.enabled",
  "connection_logs.s3.bucket",
  "connection_logs.s3.prefix",
  "health_check_logs.s3.enabled",
  "health_check_logs.s3.bucket",
  "health_check_logs.s3.prefix",
  "idle_timeout.timeout_seconds",
  "client_keep_alive.seconds",
  "ipv6.deny_all_igw_traffic",
  "routing.http.desync_mitigation_mode",
  "routing.http.drop_invalid_header_fields.enabled",
  "routing.http.preserve_host_header.enabled",
  "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
  "routing.http.xff_client_port.enabled",
  "routing.http.xff_header_processing.mode",
  "routing.http2.enabled",
  "waf.fail_open.enabled",
  "load_balancing.cross_zone.enabled",
  "zonal_shift.config.enabled",
]);

// ---------------------------------------------------------------------------------------------------------------
// Errors: which Event reason a failure becomes, and the message the real controller would print

/** A model-build failure (FailedBuildModel). */
class BuildError extends Error {}
/** An AWS-side failure while deploying the model (FailedDeployModel). */
class DeployError extends Error {}

/**
 * aws-sdk-go-v2's error text for an ELBv2 call. Modeled exceptions (CertificateNotFound, SSLPolicyNotFound)
 * print `Code: message`; unmodeled ones (ValidationError) print `api error Code: message` (smithy GenericAPIError).
 */
function elbv2Error(operation: string, code: string, message: string, modeled: boolean): DeployError {
  const tail = modeled ? `${code}: ${message}` : `api error ${code}: ${message}`;
  return new DeployError(
    `operation error Elastic Load Balancing v2: ${operation}, https response error StatusCode: 400, RequestID: ${randomUUID()}, ${tail}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The model the controller builds from an Ingress

type Scheme = "internet-facing" | "internal";
type ProtocolVersion = "HTTP1" | "HTTP2" | "GRPC";

interface TargetGroupSpec {
  key: string;
  service: string;
  /** The Service port number targetFor() is asked about. */
  servicePort: number;
  targetType: "ip" | "instance";
  protocol: "HTTP" | "HTTPS";
  protocolVersion: ProtocolVersion;
  successCodes: string;
  healthCheckPath: string;
}

interface Route {
  /** Lower-case host or glob (`*.example.com`); undefined matches every host. */
  host?: string;
  pathType: "Exact" | "Prefix" | "ImplementationSpecific";
  path: string;
  tg: string;
}

interface Model {
  scheme: Scheme;
  lbAttributes: Record<string, string>;
  listenPorts: Map<number, "HTTP" | "HTTPS">;
  certificateArns: string[];
  sslPolicy: string;
  routes: Route[];
  defaultTg?: string;
  targetGroups: Map<string, TargetGroupSpec>;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function ingressKey(ns: string, name: string): string {
  return `${ns}/${name}`;
}

function errorText(e: unknown): string {
  if (e instanceof ApiException) {
    // The Go client prints the apiserver's Status message (e.g. `services "x" not found`), not the HTTP dump
    // that client-node puts into ApiException.message.
    try {
      const body = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as { message?: unknown };
      if (typeof body?.message === "string" && body.message) return body.message;
    } catch {
      // not a Status body
    }
    return `the server responded with HTTP ${e.code}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** JSON with sorted keys, so typed (list) and raw (watch) copies of an object compare equal. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === "object" && !Array.isArray(val) && !(val instanceof Date)) {
      const rec = val as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(rec)
          .sort()
          .filter((k) => rec[k] !== undefined)
          .map((k) => [k, rec[k]]),
      );
    }
    return val;
  });
}

/** ParseStringSliceAnnotation: comma separated, trimmed, empties dropped. */
function stringSlice(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** ParseStringMapAnnotation: `k=v,k2=v2`. */
function stringMap(annotation: string, raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of stringSlice(raw)) {
    const i = pair.indexOf("=");
    const key = i < 0 ? "" : pair.slice(0, i).trim();
    if (i < 0 || key.length === 0) {
      throw new BuildError(`failed to parse stringMap annotation, ${PREFIX}${annotation}: ${raw}`);
    }
    out[key] = pair.slice(i + 1).trim();
  }
  return out;
}

/** ParseInt32Annotation's error for a non-integer value. */
function int32(annotation: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(raw) || Math.abs(Number(raw)) > 2 ** 31 - 1) {
    throw new BuildError(
      `failed to parse int32 annotation, ${PREFIX}${annotation}: ${raw}: strconv.ParseInt: parsing "${raw}": invalid syntax`,
    );
  }
  return Number(raw);
}

/** Go's encoding/json wording for the listen-ports shapes people get wrong. */
function parseListenPorts(raw: string): Map<number, "HTTP" | "HTTPS"> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    const m = /position (\d+)/.exec(errorText(e));
    const ch = m ? raw[Number(m[1])] : undefined;
    const cause = ch ? `invalid character '${ch}' looking for beginning of value` : "unexpected end of JSON input";
    throw new BuildError(`failed to parse listen-ports configuration: \`${raw}\`: ${cause}`);
  }
  const goType = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
  if (!Array.isArray(parsed)) {
    throw new BuildError(
      `failed to parse listen-ports configuration: \`${raw}\`: json: cannot unmarshal ${goType(parsed)} into Go value of type []map[string]int32`,
    );
  }
  if (parsed.length === 0) throw new BuildError(`empty listen-ports configuration: \`${raw}\``);
  const out = new Map<number, "HTTP" | "HTTPS">();
  for (const entry of parsed) {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      throw new BuildError(
        `failed to parse listen-ports configuration: \`${raw}\`: json: cannot unmarshal ${goType(entry)} into Go value of type map[string]int32`,
      );
    }
    for (const [protocol, port] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof port !== "number" || !Number.isInteger(port)) {
        throw new BuildError(
          `failed to parse listen-ports configuration: \`${raw}\`: json: cannot unmarshal ${goType(port)} into Go value of type int32`,
        );
      }
      if (port < 1 || port > 65535) throw new BuildError(`listen port must be within [1, 65535]: ${port}`);
      if (protocol !== "HTTP" && protocol !== "HTTPS") {
        throw new BuildError(`listen protocol must be within [HTTP, HTTPS]: ${protocol}`);
      }
      out.set(port, protocol);
    }
  }
  return out;
}

/** ELBv2 Matcher: "0,1" or "0-5"; GRPC codes 0–99, ALB HTTP codes 200–499. */
function checkSuccessCodes(codes: string, version: ProtocolVersion, operation: string): void {
  const [kind, lo, hi] = version === "GRPC" ? ["GRPC", 0, 99] : ["HTTP", 200, 499];
  for (const item of codes.split(",").map((s) => s.trim())) {
    const bounds = item.split("-");
    const ok =
      item.length > 0 &&
      bounds.length <= 2 &&
      bounds.every((b) => /^\d+$/.test(b) && Number(b) >= lo && Number(b) <= hi) &&
      (bounds.length === 1 || Number(bounds[0]) <= Number(bounds[1]));
    if (!ok) {
      throw elbv2Error(
        operation,
        "ValidationError",
        `Health check matcher ${kind} code '${item}' must be within '${lo}-${hi}' inclusive`,
        false,
      );
    }
  }
}

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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------------------------
// Event recorder, after client-go tools/record (events_cache.go):
// - EventAggregator: events with the same source, object, type and reason but different messages are counted
//   per 10-minute window; from the 10th distinct message on they become one Event whose message is
//   "(combined from similar events): <latest message>". FailedDeployModel messages carry AWS's RequestID, so
//   repeated deploy failures aggregate this way, exactly as on a real cluster.
// - EventLogger: an event identical to one seen before (or the combined one) bumps `count` and `lastTimestamp`
//   on the existing Event object instead of creating another.
// Not reproduced: the per-object spam filter (token bucket of 25, refilled every 5 minutes).

const AGGREGATE_WINDOW_MS = 10 * 60_000;
const AGGREGATE_MAX_EVENTS = 10;

class EventRecorder {
  private readonly observed = new Map<string, { name: string; namespace: string; count: number; first: Date }>();
  private readonly aggregates = new Map<string, { messages: Set<string>; last: number }>();
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly core: CoreV1Api,
    private readonly log: (m: string) => void,
  ) {}

  record(ing: V1Ingress, type: "Normal" | "Warning", reason: string, message: string): void {
    // Serialised so that two identical events in a row aggregate instead of racing to create two objects.
    this.chain = this.chain.then(() => this.write(ing, type, reason, message)).catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.chain;
  }

  private async write(ing: V1Ingress, type: "Normal" | "Warning", reason: string, rawMessage: string) {
    const namespace = ing.metadata?.namespace ?? "default";
    const name = ing.metadata?.name ?? "";
    const uid = ing.metadata?.uid ?? "";
    const now = new Date();
    const aggregateKey = [EVENT_SOURCE, "Ingress", namespace, name, uid, "networking.k8s.io/v1", type, reason].join("\u0000");
    let agg = this.aggregates.get(aggregateKey);
    if (!agg || now.getTime() - agg.last > AGGREGATE_WINDOW_MS) {
      agg = { messages: new Set(), last: now.getTime() };
      this.aggregates.set(aggregateKey, agg);
    }
    agg.messages.add(rawMessage);
    agg.last = now.getTime();
    let key = `${aggregateKey}\u0000${rawMessage}`;
    let message = rawMessage;
    if (agg.messages.size >= AGGREGATE_MAX_EVENTS) {
      // Do not grow the set beyond the threshold (PopAny), and dedupe the combined event by the aggregate key.
      const first = agg.messages.values().next().value;
      if (first !== undefined) agg.messages.delete(first);
      key = aggregateKey;
      message = `(combined from similar events): ${rawMessage}`;
    }

    const prior = this.observed.get(key);
    if (prior) {
      prior.count += 1;
      try {
        // client-go sends a strategic merge patch of count, lastTimestamp and message; for these scalar fields
        // a JSON merge patch is the same change.
        await this.core.patchNamespacedEvent(
          {
            name: prior.name,
            namespace: prior.namespace,
            body: { count: prior.count, lastTimestamp: now.toISOString(), message },
          },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        return;
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 404)) {
          this.log(`event patch failed: ${errorText(e)}`);
          return;
        }
        // The Event expired or was deleted: create it afresh, like client-go does.
        this.observed.delete(key);
      }
    }
    // tools/record makeEvent: the name is "<object>.<unix nanos in hex>".
    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE(0));
    const eventName = `${name}.${nanos.toString(16)}`;
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: eventName, namespace },
          involvedObject: {
            kind: "Ingress",
            apiVersion: "networking.k8s.io/v1",
            namespace,
            name,
            uid,
            resourceVersion: ing.metadata?.resourceVersion,
          },
          type,
          reason,
          message,
          source: { component: EVENT_SOURCE },
          reportingComponent: EVENT_SOURCE,
          reportingInstance: "",
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      this.observed.set(key, { name: eventName, namespace, count: 1, first: now });
    } catch (e) {
      this.log(`event create failed: ${errorText(e)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// List+watch (the reflector part of an informer), with relist on 410 Gone or a dropped connection

interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

class ListWatch<T extends KubeObject> {
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

// ---------------------------------------------------------------------------------------------------------------
// The data plane: one TLS HTTP/2 listener per ALB

interface CertMaterial {
  certPem: string;
  chainPem: string;
  keyPem: string;
  x509: X509Certificate;
  /** Built once per material and TLS floor, not per handshake. */
  context?: { minVersion: tls.SecureVersion; value: tls.SecureContext };
}

interface CertEntry {
  current: CertMaterial;
  /** ACM changed; served once `servedCertificateLagMs` has passed since `seenAt`. */
  pending?: { material: CertMaterial; seenAt: number };
}

interface ListenerConfig {
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

interface DataPlaneDeps {
  /** The certificate behind an ARN, as ACM holds it now (see certificateReader). */
  loadCertificate: (arn: string) => Promise<CertMaterial>;
  targetFor: AlbControllerOptions["targetFor"];
  fault: () => AlbFault;
  certificateRefreshMs: number;
  log: (m: string) => void;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "host",
]);

const FIXED_BODY: Record<number, string> = {
  502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
  503: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n",
};

/**
 * Reads certificates from ACM for every load balancer of the simulator. Each real ALB re-reads its certificates on
 * its own, on AWS's side; here they all run in the test's process, so load balancers serving the same ARN share a
 * read made within the last `maxAgeMs`, and the same PEM yields the same parsed material. Without this, 20 ALBs
 * re-reading one certificate every 200 ms kept moto and the process busy with work that costs a real deployment
 * nothing. `maxAgeMs` is a quarter of the refresh interval, so a re-import is still served within 1.25 intervals.
 */
function certificateReader(acm: ACMClient, privateKeyFor: (pem: string) => string | undefined, maxAgeMs: number) {
  const recent = new Map<string, { at: number; material: Promise<CertMaterial> }>();
  const parsed = new Map<string, CertMaterial>();
  async function read(arn: string): Promise<CertMaterial> {
    const out = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
    const certPem = out.Certificate;
    if (!certPem) throw new Error(`ACM returned no certificate body for ${arn}`);
    const chainPem = out.CertificateChain ?? "";
    const key = `${certPem.trim()}\n${chainPem.trim()}`;
    const known = parsed.get(key);
    if (known) return known;
    const keyPem = privateKeyFor(certPem);
    // A sandbox wiring problem, not an AWS behaviour: a real ALB always has the imported key.
    if (!keyPem) throw new Error(`sandbox: the key store has no private key for the certificate in ${arn}`);
    const material = { certPem, chainPem, keyPem, x509: new X509Certificate(certPem) };
    parsed.set(key, material);
    return material;
  }
  return (arn: string): Promise<CertMaterial> => {
    const hit = recent.get(arn);
    if (hit && Date.now() - hit.at < maxAgeMs) return hit.material;
    const material = read(arn);
    recent.set(arn, { at: Date.now(), material });
    // A failed read is not remembered: the next caller asks ACM again.
    material.catch(() => recent.delete(arn));
    return material;
  };
}

function sameMaterial(a: CertMaterial, b: CertMaterial): boolean {
  return a.certPem.trim() === b.certPem.trim() && a.chainPem.trim() === b.chainPem.trim();
}

class DataPlane {
  port = 0;
  private readonly server: http2.Http2SecureServer;
  private readonly sessions = new Map<http2.Http2Session, { active: number; idleSince: number }>();
  private readonly upstreams = new Map<string, http2.ClientHttp2Session>();
  private readonly entries = new Map<string, CertEntry>();
  private arns: string[] = [];
  private defaultServed?: CertMaterial;
  private refreshTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private refreshing = false;
  private closed = false;

  constructor(
    private readonly deps: DataPlaneDeps,
    public config: ListenerConfig,
    private minVersion: tls.SecureVersion,
  ) {
    this.server = http2.createSecureServer({
      // ALPN h2 only: this ALB stand-in exists for gRPC, which needs HTTP/2 end to end.
      allowHTTP1: false,
      minVersion,
      SNICallback: (servername, cb) => {
        try {
          cb(null, this.contextFor(servername));
        } catch (e) {
          cb(e as Error);
        }
      },
    });
    this.server.on("session", (session) => this.onSession(session));
    this.server.on("stream", (stream, headers) => this.onStream(stream, headers));
    // Broken clients must not take the sandbox down.
    this.server.on("sessionError", () => undefined);
    this.server.on("tlsClientError", () => undefined);
  }

  async listen(arns: string[], materials: (CertMaterial | undefined)[]): Promise<void> {
    this.setCertificates(arns, materials);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    // Like a real ALB, the listener re-reads the certificate behind its ARN, so a re-import is served soon after.
    this.refreshTimer = setInterval(() => void this.refresh(), this.deps.certificateRefreshMs);
    this.refreshTimer.unref();
    this.idleTimer = setInterval(() => this.reapIdle(), Math.min(1000, Math.max(50, this.config.idleTimeoutMs / 4)));
    this.idleTimer.unref();
  }

  get defaultArn(): string | undefined {
    return this.arns[0];
  }

  setMinVersion(v: tls.SecureVersion): void {
    if (v === this.minVersion) return;
    this.minVersion = v;
    this.syncDefaultContext(true);
  }

  /** ModifyListener: a new certificate list. Materials are pre-loaded so a bad ARN fails the deploy, not a handshake. */
  setCertificates(arns: string[], materials: (CertMaterial | undefined)[]): void {
    const next = new Map<string, CertEntry>();
    arns.forEach((arn, i) => {
      const existing = this.entries.get(arn);
      const material = materials[i];
      if (existing) next.set(arn, existing);
      else if (material) next.set(arn, { current: material });
    });
    this.entries.clear();
    for (const [k, v] of next) this.entries.set(k, v);
    this.arns = arns;
    this.syncDefaultContext(false);
  }

  private served(entry: CertEntry): CertMaterial {
    const lag = this.deps.fault().servedCertificateLagMs ?? 0;
    if (entry.pending && Date.now() - entry.pending.seenAt >= lag) {
      entry.current = entry.pending.material;
      entry.pending = undefined;
    }
    return entry.current;
  }

  /** ALB picks the listener certificate whose names match the SNI, else the default (first) one. */
  private contextFor(servername: string | undefined): tls.SecureContext {
    let chosen: CertMaterial | undefined;
    if (servername) {
      for (const arn of this.arns) {
        const entry = this.entries.get(arn);
        if (!entry) continue;
        const m = this.served(entry);
        if (m.x509.checkHost(servername)) {
          chosen = m;
          break;
        }
      }
    }
    if (!chosen) {
      const def = this.defaultArn ? this.entries.get(this.defaultArn) : undefined;
      if (!def) throw new Error("listener has no certificate");
      chosen = this.served(def);
    }
    this.syncDefaultContext(false);
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
  private syncDefaultContext(force: boolean): void {
    const def = this.defaultArn ? this.entries.get(this.defaultArn) : undefined;
    if (!def) return;
    const m = this.served(def);
    if (!force && this.defaultServed === m) return;
    this.defaultServed = m;
    this.server.setSecureContext({
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
        const entry = this.entries.get(arn);
        if (!entry) continue;
        let fresh: CertMaterial;
        try {
          fresh = await this.deps.loadCertificate(arn);
        } catch (e) {
          // ACM would not let an in-use certificate be deleted; keep serving what we have.
          this.deps.log(`certificate refresh for ${arn} failed: ${errorText(e)}`);
          continue;
        }
        const latest = entry.pending?.material ?? entry.current;
        if (!sameMaterial(latest, fresh)) entry.pending = { material: fresh, seenAt: Date.now() };
      }
      this.syncDefaultContext(false);
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
    if (this.deps.fault().unhealthyTargets) return false;
    const at = this.config.healthyAt.get(tgKey);
    return at !== undefined && Date.now() >= at;
  }

  private route(host: string, path: string): string | undefined {
    for (const r of this.config.routes) {
      if (hostMatches(r.host, host) && pathMatches(r, path)) return r.tg;
    }
    return this.config.defaultTg;
  }

  private fixed(stream: http2.ServerHttp2Stream, status: number): void {
    // Once a response has started (or the stream is gone) there is nothing an ALB error page can add.
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    const body = FIXED_BODY[status] ?? "";
    stream.respond({
      ":status": status,
      server: "awselb/2.0",
      date: new Date().toUTCString(),
      // The controller's default 404 action is a fixed response with ContentType text/plain (build404Action).
      "content-type": status === 404 ? "text/plain; charset=utf-8" : "text/html",
      "content-length": String(Buffer.byteLength(body)),
    });
    stream.end(body);
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
      this.fixed(stream, 404);
      return;
    }
    // No healthy (or no registered) targets: ALB answers 503 itself.
    const target = this.deps.targetFor(this.config.namespace, tg.service, tg.servicePort);
    if (!this.healthy(tgKey) || !target) {
      this.fixed(stream, 503);
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
    if (tg.protocolVersion === "HTTP1") this.forwardHttp1(stream, method, reqPath, authority, out, target, tg);
    else this.forwardHttp2(stream, method, reqPath, authority, out, target, tg);
  }

  private upstream(target: { host: string; port: number }, protocol: "HTTP" | "HTTPS"): http2.ClientHttp2Session {
    const key = `${protocol}://${target.host}:${target.port}`;
    const existing = this.upstreams.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    // ALB keeps connections to targets open and reuses them; it does not verify target certificates.
    const url = `${protocol === "HTTPS" ? "https" : "http"}://${target.host}:${target.port}`;
    const session = http2.connect(url, protocol === "HTTPS" ? { rejectUnauthorized: false } : {});
    session.on("error", () => undefined);
    const drop = () => {
      if (this.upstreams.get(key) === session) this.upstreams.delete(key);
    };
    session.on("close", drop);
    session.on("goaway", drop);
    this.upstreams.set(key, session);
    return session;
  }

  private forwardHttp2(
    stream: http2.ServerHttp2Stream,
    method: string,
    path: string,
    authority: string,
    headers: http2.OutgoingHttpHeaders,
    target: { host: string; port: number },
    tg: TargetGroupSpec,
  ): void {
    let up: http2.ClientHttp2Stream;
    try {
      up = this.upstream(target, tg.protocol).request({
        ...headers,
        ":method": method,
        ":path": path,
        ":scheme": tg.protocol === "HTTPS" ? "https" : "http",
        ":authority": authority,
      });
    } catch {
      this.fixed(stream, 502);
      return;
    }
    let trailers: http2.IncomingHttpHeaders | undefined;
    up.on("response", (h, flags) => {
      if (stream.destroyed || stream.closed) return;
      const resp: http2.OutgoingHttpHeaders = { ":status": h[":status"] ?? 502 };
      for (const [k, v] of Object.entries(h)) {
        if (k.startsWith(":") || HOP_BY_HOP.has(k) || v === undefined) continue;
        resp[k] = v;
      }
      // gRPC "trailers-only" responses carry grpc-status in HEADERS with END_STREAM: relay them the same way.
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) {
        stream.respond(resp, { endStream: true });
        return;
      }
      stream.respond(resp, { waitForTrailers: true });
      up.pipe(stream);
    });
    up.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("wantTrailers", () => {
      const t: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(trailers ?? {})) {
        if (!k.startsWith(":") && v !== undefined) t[k] = v;
      }
      stream.sendTrailers(t);
    });
    up.on("error", () => {
      if (!stream.headersSent) this.fixed(stream, 502);
      else if (!stream.closed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    up.on("close", () => {
      if (!stream.headersSent && !stream.closed) this.fixed(stream, 502);
      else if (up.rstCode && up.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !stream.closed) {
        stream.close(up.rstCode);
      }
    });
    stream.on("close", () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.pipe(up);
  }

  private forwardHttp1(
    stream: http2.ServerHttp2Stream,
    method: string,
    path: string,
    authority: string,
    headers: http2.OutgoingHttpHeaders,
    target: { host: string; port: number },
    tg: TargetGroupSpec,
  ): void {
    // ProtocolVersion HTTP1: ALB speaks HTTP/1.1 to the target (and gRPC cannot survive that).
    const h1headers: http.OutgoingHttpHeaders = { host: authority };
    for (const [k, v] of Object.entries(headers)) if (k !== "te") h1headers[k] = v as string | string[];
    const request =
      tg.protocol === "HTTPS"
        ? https.request({
            host: target.host,
            port: target.port,
            method,
            path,
            headers: h1headers,
            setHost: false,
            rejectUnauthorized: false,
          })
        : http.request({ host: target.host, port: target.port, method, path, headers: h1headers, setHost: false });
    request.on("response", (res) => {
      if (stream.destroyed || stream.closed) return res.resume();
      const resp: http2.OutgoingHttpHeaders = { ":status": res.statusCode ?? 502 };
      for (const [k, v] of Object.entries(res.headers)) {
        if (HOP_BY_HOP.has(k) || v === undefined) continue;
        resp[k] = v;
      }
      stream.respond(resp);
      res.pipe(stream);
    });
    request.on("error", () => this.fixed(stream, 502));
    stream.on("close", () => request.destroy());
    stream.pipe(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refreshTimer);
    clearInterval(this.idleTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions.keys()) session.destroy();
    for (const session of this.upstreams.values()) session.destroy();
    this.upstreams.clear();
    await closed;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The controller

interface LoadBalancer {
  name: string;
  hostname: string;
  scheme: Scheme;
  /** Epoch ms at which provisioning "finishes" and the hostname may be published. */
  publishAt: number;
  published: boolean;
  plane?: DataPlane;
  certificateArns: string[];
  healthyAt: Map<string, number>;
}

interface QueueItem {
  running: boolean;
  dirty: boolean;
  timer?: NodeJS.Timeout;
  /** When `timer` fires; a sooner wake-up replaces it (workqueue AddAfter keeps the earliest). */
  dueAt?: number;
  failures: number;
}

function isAlbIngress(ing: V1Ingress): boolean {
  const cls = ing.spec?.ingressClassName;
  if (cls !== undefined && cls !== null) return cls === "alb";
  // The legacy annotation, which the controller still honours when no ingressClassName is set.
  return ing.metadata?.annotations?.["kubernetes.io/ingress.class"] === "alb";
}

function backendServices(ing: V1Ingress): V1IngressBackend[] {
  const out: V1IngressBackend[] = [];
  if (ing.spec?.defaultBackend) out.push(ing.spec.defaultBackend);
  for (const rule of ing.spec?.rules ?? []) for (const p of rule.http?.paths ?? []) out.push(p.backend);
  return out;
}

export async function startAlbController(opts: AlbControllerOptions): Promise<AlbController> {
  const log = opts.log ?? (() => undefined);
  const publishDelayMs = opts.publishDelayMs ?? 300;
  const healthyDelayMs = opts.healthyDelayMs ?? 500;
  const certificateRefreshMs = opts.certificateRefreshMs ?? 200;
  const retryBaseMs = opts.retryBaseMs ?? 5;
  const region = opts.region ?? (await opts.acm.config.region());

  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "sandbox",
        // A trailing "/" would make every request path start with "//".
        server: opts.kube.url.replace(/\/+$/, ""),
        caData: Buffer.from(opts.kube.caPem).toString("base64"),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: "aws-load-balancer-controller", token: opts.kube.token }],
    contexts: [{ name: "sandbox", cluster: "sandbox", user: "aws-load-balancer-controller" }],
    currentContext: "sandbox",
  });
  const core = kc.makeApiClient(CoreV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const watch = new Watch(kc);
  const recorder = new EventRecorder(core, log);
  const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

  let fault: AlbFault = {};
  let closed = false;
  const ingresses = new Map<string, V1Ingress>();
  const serviceSeen = new Map<string, string>();
  const lbs = new Map<string, LoadBalancer>();
  const queue = new Map<string, QueueItem>();
  const running = new Set<Promise<void>>();

  const dataPlaneDeps: DataPlaneDeps = {
    loadCertificate: certificateReader(opts.acm, opts.privateKeyFor, certificateRefreshMs / 4),
    targetFor: opts.targetFor,
    fault: () => fault,
    certificateRefreshMs,
    log,
  };

  // ---- work queue: one reconcile per key at a time, coalescing events, exponential retry on failure ----------

  function enqueue(key: string, delayMs = 0): void {
    if (closed) return;
    let item = queue.get(key);
    if (!item) {
      item = { running: false, dirty: false, failures: 0 };
      queue.set(key, item);
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
        enqueue(key);
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
    const p = (async () => {
      do {
        it.dirty = false;
        let ok = false;
        try {
          await reconcile(key);
          ok = true;
        } catch (e) {
          log(`reconcile ${key} failed: ${errorText(e)}`);
        }
        if (closed) break;
        if (ok) it.failures = 0;
        else if (!it.dirty) {
          // controller-runtime requeues failures with per-item exponential backoff.
          const delay = Math.min(1_000_000, retryBaseMs * 2 ** it.failures);
          it.failures += 1;
          it.running = false;
          enqueue(key, delay);
          return;
        }
      } while (it.dirty && !closed);
      it.running = false;
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  }

  // ---- informers -------------------------------------------------------------------------------------------

  function onIngress(type: string, ing: V1Ingress): void {
    const ns = ing.metadata?.namespace ?? "default";
    const name = ing.metadata?.name ?? "";
    const key = ingressKey(ns, name);
    if (type === "DELETED") {
      ingresses.delete(key);
      enqueue(key);
      return;
    }
    const prev = ingresses.get(key);
    ingresses.set(key, ing);
    const changed =
      !prev ||
      stableJson(prev.metadata?.annotations ?? {}) !== stableJson(ing.metadata?.annotations ?? {}) ||
      stableJson(prev.spec ?? {}) !== stableJson(ing.spec ?? {}) ||
      !prev.metadata?.deletionTimestamp !== !ing.metadata?.deletionTimestamp ||
      prev.metadata?.uid !== ing.metadata?.uid;
    if (changed) enqueue(key);
  }

  function onIngressSync(items: V1Ingress[]): void {
    const present = new Set<string>();
    for (const ing of items) {
      present.add(ingressKey(ing.metadata?.namespace ?? "default", ing.metadata?.name ?? ""));
      onIngress("ADDED", ing);
    }
    for (const key of [...ingresses.keys()]) {
      if (!present.has(key)) {
        ingresses.delete(key);
        enqueue(key);
      }
    }
  }

  /** The controller also watches Services: a backend Service appearing or changing re-reconciles its Ingresses. */
  function onService(type: string, svc: V1Service, initial = false): void {
    const ns = svc.metadata?.namespace ?? "default";
    const name = svc.metadata?.name ?? "";
    const skey = ingressKey(ns, name);
    const fingerprint = type === "DELETED" ? "" : stableJson({ a: svc.metadata?.annotations ?? {}, s: svc.spec });
    const before = serviceSeen.get(skey);
    if (type === "DELETED") serviceSeen.delete(skey);
    else serviceSeen.set(skey, fingerprint);
    if (initial || before === fingerprint) return;
    for (const [key, ing] of ingresses) {
      if ((ing.metadata?.namespace ?? "default") !== ns || !isAlbIngress(ing)) continue;
      if (backendServices(ing).some((b) => b.service?.name === name)) enqueue(key);
    }
  }

  // ---- reconcile -------------------------------------------------------------------------------------------

  async function readService(ns: string, name: string): Promise<V1Service> {
    try {
      return await core.readNamespacedService({ name, namespace: ns });
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) {
        // apierrors.NewNotFound's text, which enhanced_backend_builder passes up unchanged.
        throw new BuildError(`services "${name}" not found`);
      }
      throw e;
    }
  }

  async function discoverCertificates(hosts: string[]): Promise<string[]> {
    // pkg/certs/cert_discovery.go: ISSUED ACM certificates whose domain names cover each host.
    const found = new Set<string>();
    const domainsByArn = new Map<string, string[]>();
    let next: string | undefined;
    do {
      const page = await opts.acm.send(
        new ListCertificatesCommand({ CertificateStatuses: ["ISSUED"], NextToken: next }),
      );
      for (const s of page.CertificateSummaryList ?? []) {
        if (!s.CertificateArn) continue;
        const d = await opts.acm.send(new DescribeCertificateCommand({ CertificateArn: s.CertificateArn }));
        const c = d.Certificate;
        domainsByArn.set(s.CertificateArn, [c?.DomainName ?? "", ...(c?.SubjectAlternativeNames ?? [])]);
      }
      next = page.NextToken;
    } while (next);
    for (const host of hosts) {
      const matches = [...domainsByArn].filter(([, domains]) =>
        domains.some((d) => d === host || (d.startsWith("*.") && host.split(".").slice(1).join(".") === d.slice(2))),
      );
      if (matches.length === 0) throw new BuildError(`no certificate found for host: ${host}`);
      for (const [arn] of matches) found.add(arn);
    }
    return [...found];
  }

  async function buildModel(ing: V1Ingress): Promise<Model> {
    const ns = ing.metadata?.namespace ?? "default";
    const name = ing.metadata?.name ?? "";
    const ingName = `${ns}/${name}`;
    const ann = ing.metadata?.annotations ?? {};
    const a = (suffix: string): string | undefined => ann[PREFIX + suffix];

    // 1. listen ports, certificates, ssl policy (computeIngressListenPortConfigByPort, wrapped "ingress: ns/name").
    let listenPorts: Map<number, "HTTP" | "HTTPS">;
    let certificateArns: string[];
    try {
      const explicit = stringSlice(a("certificate-arn"));
      const rawPorts = a("listen-ports");
      listenPorts =
        rawPorts === undefined
          ? new Map([explicit.length > 0 ? [443, "HTTPS" as const] : [80, "HTTP" as const]])
          : parseListenPorts(rawPorts);
      certificateArns = explicit;
      if ([...listenPorts.values()].includes("HTTPS") && explicit.length === 0) {
        const hosts = new Set<string>();
        for (const r of ing.spec?.rules ?? []) if (r.host) hosts.add(r.host);
        for (const t of ing.spec?.tls ?? []) for (const h of t.hosts ?? []) hosts.add(h);
        certificateArns = await discoverCertificates([...hosts].sort());
      }
    } catch (e) {
      throw new BuildError(`ingress: ${ingName}: ${errorText(e)}`);
    }
    const sslPolicy = a("ssl-policy") ?? DEFAULT_SSL_POLICY;

    // 2. the load balancer: scheme, IP address type, attributes.
    const scheme = a("scheme") ?? "internal";
    if (scheme !== "internet-facing" && scheme !== "internal") throw new BuildError(`unknown scheme: ${scheme}`);
    const ipType = a("ip-address-type") ?? "ipv4";
    if (!["ipv4", "dualstack", "dualstack-without-public-ipv4"].includes(ipType)) {
      throw new BuildError(`unknown IPAddressType: ${ipType}`);
    }
    const lbAttributes = stringMap("load-balancer-attributes", a("load-balancer-attributes"));

    // 3. listener rules and their target groups, in rule order; paths sorted Exact, Prefix (longest first), rest.
    const targetGroups = new Map<string, TargetGroupSpec>();
    const services = new Map<string, V1Service>();
    const buildTg = async (backend: V1IngressBackend): Promise<string> => {
      const svcName = backend.service?.name;
      if (!svcName) throw new BuildError("missing service backend");
      let svc = services.get(svcName);
      if (!svc) {
        svc = await readService(ns, svcName);
        services.set(svcName, svc);
      }
      const portRef = backend.service?.port;
      const port = (svc.spec?.ports ?? []).find((p) =>
        portRef?.name ? p.name === portRef.name : p.port === portRef?.number,
      );
      if (!port) {
        throw new BuildError(`unable to find port ${portRef?.name ?? portRef?.number} on service ${ns}/${svcName}`);
      }
      // Target-group annotations may sit on the Service too, and the Service's win (MergeStringMap order).
      const merged: Record<string, string> = { ...ann, ...(svc.metadata?.annotations ?? {}) };
      const t = (suffix: string): string | undefined => merged[PREFIX + suffix];
      const targetType = t("target-type") ?? "instance";
      if (targetType !== "ip" && targetType !== "instance") throw new BuildError(`unknown targetType: ${targetType}`);
      const protocol = t("backend-protocol") ?? "HTTP";
      if (protocol !== "HTTP" && protocol !== "HTTPS") {
        throw new BuildError(`backend protocol must be within [HTTP, HTTPS]: ${protocol}`);
      }
      const version = t("backend-protocol-version") ?? "HTTP1";
      if (version !== "HTTP1" && version !== "HTTP2" && version !== "GRPC") {
        throw new BuildError(`backend protocol version must be within [HTTP1, HTTP2, GRPC]: ${version}`);
      }
      const hcProtocol = t("healthcheck-protocol") ?? protocol;
      if (hcProtocol !== "HTTP" && hcProtocol !== "HTTPS") {
        throw new BuildError("healthCheckProtocol must be within [HTTP, HTTPS]");
      }
      for (const suffix of [
        "healthcheck-interval-seconds",
        "healthcheck-timeout-seconds",
        "healthy-threshold-count",
        "unhealthy-threshold-count",
      ]) {
        int32(suffix, t(suffix));
      }
      stringMap("target-group-attributes", t("target-group-attributes"));
      // buildTargetGroupPort: instance targets need a NodePort; ip targets use the targetPort (or 1 if named).
      const tgPort = targetType === "instance" ? (port.nodePort ?? 0) : 1;
      if (tgPort === 0) {
        throw new BuildError(
          "TargetGroup port is empty. When using Instance targets, your service be must of type 'NodePort' or 'LoadBalancer'",
        );
      }
      const key = `${svcName}:${port.port}`;
      targetGroups.set(key, {
        key,
        service: svcName,
        servicePort: port.port,
        targetType,
        protocol,
        protocolVersion: version,
        successCodes: t("success-codes") ?? (version === "GRPC" ? DEFAULT_GRPC_SUCCESS : DEFAULT_HTTP_SUCCESS),
        healthCheckPath: t("healthcheck-path") ?? (version === "GRPC" ? DEFAULT_GRPC_HC_PATH : DEFAULT_HTTP_HC_PATH),
      });
      return key;
    };

    const routes: Route[] = [];
    let defaultTg: string | undefined;
    try {
      if (ing.spec?.defaultBackend) defaultTg = await buildTg(ing.spec.defaultBackend);
      for (const rule of ing.spec?.rules ?? []) {
        if (!rule.http) continue;
        const rank = (t: string | undefined) => (t === "Exact" ? 0 : t === "Prefix" ? 1 : 2);
        const paths = [...rule.http.paths].sort((x, y) => {
          const d = rank(x.pathType) - rank(y.pathType);
          if (d !== 0) return d;
          return x.pathType === "Prefix" ? (y.path ?? "").length - (x.path ?? "").length : 0;
        });
        for (const p of paths) {
          const pathType = (p.pathType ?? "ImplementationSpecific") as Route["pathType"];
          if (!["Exact", "Prefix", "ImplementationSpecific"].includes(pathType)) {
            throw new BuildError(`unknown pathType for path ${p.path}`);
          }
          const path = p.path ?? "/";
          if (pathType !== "ImplementationSpecific" && /[*?]/.test(path)) {
            throw new BuildError(`${pathType === "Exact" ? "exact" : "prefix"} path shouldn't contain wildcards: ${path}`);
          }
          const tg = await buildTg(p.backend);
          routes.push({ host: rule.host?.toLowerCase(), pathType, path, tg });
        }
      }
    } catch (e) {
      if (e instanceof BuildError) throw new BuildError(`ingress: ${ingName}: ${e.message}`);
      throw e;
    }
    return { scheme, lbAttributes, listenPorts, certificateArns, sslPolicy, routes, defaultTg, targetGroups };
  }

  function lbName(ns: string, name: string, scheme: Scheme): string {
    // buildLoadBalancerName: k8s-<ns ≤8>-<name ≤8>-<sha256(cluster, groupID, scheme) ≤10>.
    const hash = createHash("sha256").update(CLUSTER_NAME).update(`${ns}/${name}`).update(scheme).digest("hex");
    const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, "");
    return `k8s-${clean(ns).slice(0, 8)}-${clean(name).slice(0, 8)}-${hash.slice(0, 10)}`;
  }

  async function deployModel(key: string, ing: V1Ingress, model: Model): Promise<LoadBalancer> {
    const ns = ing.metadata?.namespace ?? "default";
    const name = ing.metadata?.name ?? "";
    let lb = lbs.get(key);
    const wantName = lbName(ns, name, model.scheme);
    if (lb && lb.name !== wantName) {
      // A scheme change is a new load balancer with a new DNS name; the old one is deleted.
      await lb.plane?.close();
      lbs.delete(key);
      lb = undefined;
    }

    // Target groups first (stack_deployer order): the matcher is validated by CreateTargetGroup/ModifyTargetGroup.
    for (const tg of model.targetGroups.values()) {
      const op = lb?.healthyAt.has(tg.key) ? "ModifyTargetGroup" : "CreateTargetGroup";
      checkSuccessCodes(tg.successCodes, tg.protocolVersion, op);
    }

    // Then the load balancer and its attributes.
    const lbOp = "ModifyLoadBalancerAttributes";
    for (const [k, v] of Object.entries(model.lbAttributes)) {
      if (!LB_ATTRIBUTE_KEYS.has(k)) {
        throw elbv2Error(lbOp, "ValidationError", `Load balancer attribute key '${k}' is not recognized`, false);
      }
      if (k === "idle_timeout.timeout_seconds" && !(/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 4000)) {
        throw elbv2Error(
          lbOp,
          "ValidationError",
          `Load balancer attribute value '${v}' for key '${k}' is not valid: must be between 1 and 4000`,
          false,
        );
      }
    }
    if (!lb) {
      // The DNS name is stable for the life of this ALB; the digits come from the Ingress UID so a re-created
      // Ingress gets a new ALB (and name) while a restarted controller finds the same one.
      const digits =
        Number.parseInt(
          createHash("sha256")
            .update(`${ing.metadata?.uid ?? ""}/${wantName}`)
            .digest("hex")
            .slice(0, 8),
          16,
        ) % 2_000_000_000;
      const hostname =
        `${model.scheme === "internal" ? "internal-" : ""}${wantName}-${1_000_000_000 + (digits % 1_000_000_000)}.${region}.elb.amazonaws.com`.toLowerCase();
      lb = {
        name: wantName,
        hostname,
        scheme: model.scheme,
        publishAt: Date.now() + publishDelayMs,
        published: false,
        certificateArns: [],
        healthyAt: new Map(),
      };
      lbs.set(key, lb);
    }

    // Then the listeners: certificates must exist in ACM and the SSL policy must be a predefined one.
    const httpsPort = [...model.listenPorts].find(([, proto]) => proto === "HTTPS")?.[0];
    const lsOp = lb.plane ? "ModifyListener" : "CreateListener";
    let materials: (CertMaterial | undefined)[] = [];
    if (httpsPort !== undefined) {
      if (!SSL_POLICIES.has(model.sslPolicy)) {
        throw elbv2Error(lsOp, "SSLPolicyNotFound", `SSL policy '${model.sslPolicy}' not found`, true);
      }
      if (model.certificateArns.length === 0) {
        throw elbv2Error(lsOp, "ValidationError", "A certificate must be specified for HTTPS listeners", false);
      }
      for (const arn of model.certificateArns) {
        try {
          await opts.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
        } catch (e) {
          const code = (e as { name?: string }).name;
          if (code === "ResourceNotFoundException" || code === "ValidationException" || code === "InvalidArnException") {
            throw elbv2Error(lsOp, "CertificateNotFound", `Certificate '${arn}' not found`, true);
          }
          throw e;
        }
      }
      const cached = new Set(lb.plane ? lb.certificateArns : []);
      materials = await Promise.all(
        // Certificates the listener already holds are kept (and refreshed in the background).
        model.certificateArns.map(async (arn) => (cached.has(arn) ? undefined : dataPlaneDeps.loadCertificate(arn))),
      );
    }

    // Target registration: new target groups start "initial" and pass health checks healthyDelayMs after publish.
    const healthyAt = new Map<string, number>();
    for (const tgKey of model.targetGroups.keys()) {
      healthyAt.set(tgKey, lb.healthyAt.get(tgKey) ?? Math.max(Date.now(), lb.publishAt) + healthyDelayMs);
    }
    lb.healthyAt = healthyAt;
    const idleS = Number(model.lbAttributes["idle_timeout.timeout_seconds"] ?? DEFAULT_IDLE_TIMEOUT_S);
    const config: ListenerConfig = {
      routes: model.routes,
      defaultTg: model.defaultTg,
      targetGroups: model.targetGroups,
      healthyAt,
      idleTimeoutMs: idleS * 1000,
      listenPort: httpsPort ?? 443,
      namespace: ns,
    };
    // TLS 1.3-only policies refuse TLS 1.2 handshakes; Node's floor (TLS 1.2) covers the rest.
    const minVersion: tls.SecureVersion = /TLS13-1-3/.test(model.sslPolicy) ? "TLSv1.3" : "TLSv1.2";
    if (httpsPort === undefined) {
      if (lb.plane) {
        await lb.plane.close();
        lb.plane = undefined;
      }
    } else if (!lb.plane) {
      const plane = new DataPlane(dataPlaneDeps, config, minVersion);
      await plane.listen(model.certificateArns, materials);
      if (closed) {
        await plane.close();
      } else {
        lb.plane = plane;
      }
    } else {
      lb.plane.config = config;
      lb.plane.setCertificates(model.certificateArns, materials);
      lb.plane.setMinVersion(minVersion);
    }
    lb.certificateArns = httpsPort === undefined ? [] : model.certificateArns;
    return lb;
  }

  async function teardown(key: string): Promise<void> {
    const lb = lbs.get(key);
    lbs.delete(key);
    await lb?.plane?.close();
  }

  async function patchFinalizers(ns: string, name: string, update: (f: string[]) => string[] | undefined) {
    // finalizer.go: Get, modify, merge patch with the resourceVersion as optimistic lock, retry on conflict.
    for (let attempt = 0; ; attempt++) {
      const fresh = await networking.readNamespacedIngress({ name, namespace: ns });
      const next = update(fresh.metadata?.finalizers ?? []);
      if (!next) return;
      try {
        await networking.patchNamespacedIngress(
          {
            name,
            namespace: ns,
            body: { metadata: { finalizers: next, resourceVersion: fresh.metadata?.resourceVersion } },
          },
          mergePatch(),
        );
        return;
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 409) || attempt >= 4) throw e;
        await sleep(10 * 2 ** attempt);
      }
    }
  }

  async function removeFinalizer(ing: V1Ingress): Promise<void> {
    if (!(ing.metadata?.finalizers ?? []).includes(FINALIZER)) return;
    try {
      await patchFinalizers(ing.metadata?.namespace ?? "default", ing.metadata?.name ?? "", (f) =>
        f.includes(FINALIZER) ? f.filter((x) => x !== FINALIZER) : undefined,
      );
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      recorder.record(ing, "Warning", "FailedRemoveFinalizer", `Failed remove finalizer due to ${errorText(e)}`);
      throw e;
    }
  }

  async function reconcile(key: string): Promise<void> {
    const ing = ingresses.get(key);
    if (!ing) {
      await teardown(key);
      return;
    }
    if (!isAlbIngress(ing) || ing.metadata?.deletionTimestamp) {
      // Not (or no longer) ours, or being deleted: delete the ALB, then let the Ingress go.
      await teardown(key);
      await removeFinalizer(ing);
      return;
    }
    const ns = ing.metadata?.namespace ?? "default";
    const name = ing.metadata?.name ?? "";

    if (!(ing.metadata?.finalizers ?? []).includes(FINALIZER)) {
      try {
        await patchFinalizers(ns, name, (f) => (f.includes(FINALIZER) ? undefined : [...f, FINALIZER]));
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return; // deleted meanwhile; the watch will tell us
        recorder.record(ing, "Warning", "FailedAddFinalizer", `Failed add finalizer due to ${errorText(e)}`);
        throw e;
      }
    }

    let model: Model;
    try {
      model = await buildModel(ing);
    } catch (e) {
      recorder.record(ing, "Warning", "FailedBuildModel", `Failed build model due to ${errorText(e)}`);
      throw e;
    }
    if (closed) return;
    let lb: LoadBalancer;
    try {
      lb = await deployModel(key, ing, model);
    } catch (e) {
      recorder.record(ing, "Warning", "FailedDeployModel", `Failed deploy model due to ${errorText(e)}`);
      throw e;
    }
    if (closed) return;

    // The ALB is still provisioning: come back when it is, as the real controller's reconcile would take that long.
    const wait = lb.publishAt - Date.now();
    if (wait > 0) {
      enqueue(key, wait);
      return;
    }
    if (fault.neverPublish) return;

    const current = ingresses.get(key) ?? ing;
    const ports = [...model.listenPorts.keys()].sort((x, y) => x - y);
    const have = current.status?.loadBalancer?.ingress ?? [];
    const upToDate =
      have.length === 1 &&
      have[0]?.hostname === lb.hostname &&
      !have[0]?.ip &&
      stableJson((have[0]?.ports ?? []).map((p) => p.port)) === stableJson(ports);
    if (!upToDate) {
      // updateIngressStatus: Status().Patch(MergeFrom) of a single entry with the hostname and listener ports.
      // The controller fills only IngressPortStatus.Port; Protocol has no omitempty, so Go sends "".
      const entry = { hostname: lb.hostname, ports: ports.map((port) => ({ port, protocol: "" })) };
      try {
        await networking.patchNamespacedIngressStatus(
          { name, namespace: ns, body: { status: { loadBalancer: { ingress: [entry] } } } },
          mergePatch(),
        );
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return; // deleted meanwhile; the watch will tell us
        recorder.record(current, "Warning", "FailedUpdateStatus", `Failed update status due to ${errorText(e)}`);
        throw e;
      }
    }
    lb.published = true;
    recorder.record(current, "Normal", "SuccessfullyReconciled", "Successfully reconciled");
  }

  // ---- start -----------------------------------------------------------------------------------------------

  const ingressInformer = new ListWatch<V1Ingress>(
    watch,
    "/apis/networking.k8s.io/v1/ingresses",
    () => networking.listIngressForAllNamespaces(),
    onIngressSync,
    onIngress,
    log,
  );
  let serviceInitial = true;
  const serviceInformer = new ListWatch<V1Service>(
    watch,
    "/api/v1/services",
    () => core.listServiceForAllNamespaces(),
    (items) => {
      const present = new Set<string>();
      for (const svc of items) {
        present.add(ingressKey(svc.metadata?.namespace ?? "default", svc.metadata?.name ?? ""));
        onService("ADDED", svc, serviceInitial);
      }
      for (const skey of [...serviceSeen.keys()]) {
        if (present.has(skey)) continue;
        const [ns, name] = skey.split("/");
        onService("DELETED", { metadata: { namespace: ns, name } }, serviceInitial);
      }
      serviceInitial = false;
    },
    (type, svc) => onService(type, svc),
    log,
  );
  await serviceInformer.start();
  await ingressInformer.start();

  return {
    resolve(hostname) {
      const h = hostname.toLowerCase().replace(/\.$/, "");
      for (const lb of lbs.values()) {
        if (lb.hostname === h && lb.plane) return { address: "127.0.0.1", port: lb.plane.port };
      }
      return undefined;
    },
    listeners() {
      return [...lbs].map(([key, lb]) => {
        const [namespace = "", name = ""] = key.split("/");
        return {
          namespace,
          name,
          hostname: lb.hostname,
          port: lb.plane?.port ?? 0,
          certificateArn: lb.plane?.defaultArn,
          scheme: lb.scheme,
          published: lb.published,
        };
      });
    },
    setFault(f) {
      const wasSuppressed = fault.neverPublish;
      fault = { ...f };
      // Publishing was held back: the next reconcile publishes.
      if (wasSuppressed && !fault.neverPublish) for (const key of lbs.keys()) enqueue(key);
    },
    async close() {
      closed = true;
      for (const item of queue.values()) if (item.timer) clearTimeout(item.timer);
      await Promise.all([ingressInformer.stop(), serviceInformer.stop()]);
      await Promise.allSettled([...running]);
      await recorder.flush();
      await Promise.all([...lbs.values()].map((lb) => lb.plane?.close()));
      lbs.clear();
    },
  };
}

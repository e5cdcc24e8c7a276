// The simulator's public surface: what sandbox/index.ts and the tests use (re-exported by index.ts).
import type { ACMClient } from "@aws-sdk/client-acm";

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

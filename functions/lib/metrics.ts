// The workflow's own CloudWatch metrics, as Powertools Metrics (Embedded Metric Format: a JSON log line CloudWatch
// turns into metrics, so no PutMetricData call, client or permission). Steps add values while they run; the shared
// handler middleware (functions/lib/handler.ts) flushes them when the step ends, failed or not. Runs by outcome
// need no metric here: Step Functions publishes ExecutionsSucceeded/Failed/TimedOut/Aborted (AWS/States) for the
// state machine, which the dashboard and the failure alarm read (infra/constructs/dashboard.ts).
//
// Locally (`milvus-l7 run`, the sandbox) POWERTOOLS_DEV is set (statemachine/wire-steps.ts), so Powertools writes
// the EMF lines to the global console, which those runs capture into the step logs, never onto the CLI's stdout.
import { MetricUnit, Metrics } from "@aws-lambda-powertools/metrics";

/** The CloudWatch namespace of every metric below, and the value of their `service` dimension. */
export const METRICS_NAMESPACE = "milvus-l7";
export const METRICS_SERVICE = "milvus-l7";
/** The dimension naming a target (the registry's target ID). */
export const TARGET_DIMENSION = "TargetId";

/**
 * The metrics milvus-l7 emits:
 * - `DaysToExpiry` (Count): whole days until the served certificate's notAfter, per target (record-deployment,
 *   from what verification saw served) and also without TargetId (all targets: the alarm takes its Minimum);
 * - `CertificateDaysToExpiry` (Count): the same for the certificate import-certificate found or imported;
 * - `VerificationLatency` (Milliseconds): one verify-connection call (every ALB address and Milvus);
 * - `DriftFound` (Count): findings of a drift check, per target and without TargetId (the check step emits it).
 */
export const METRIC_UNITS = {
  DaysToExpiry: MetricUnit.Count,
  CertificateDaysToExpiry: MetricUnit.Count,
  VerificationLatency: MetricUnit.Milliseconds,
  DriftFound: MetricUnit.Count,
} as const;

export type MetricName = keyof typeof METRIC_UNITS;

/** Metrics that are per target also go out without the TargetId dimension, for one alarm over every target. */
const ALSO_UNDIMENSIONED: ReadonlySet<MetricName> = new Set(["DaysToExpiry", "DriftFound"]);

export interface MetricDimensions {
  targetId?: string;
}

/** What a step needs to emit metrics; injected like every client, so tests can give a recorder. */
export interface StepMetrics {
  add(name: MetricName, value: number, dimensions?: MetricDimensions): void;
}

interface Pending {
  name: MetricName;
  value: number;
  dimensions: Record<string, string>;
}

let pending: Pending[] = [];
let base: Metrics | undefined;

/**
 * The process's metrics, made on first use: Powertools picks the console (POWERTOOLS_DEV) when it is constructed,
 * so whoever runs the handlers has set the environment by then (as for the logger).
 */
function powertools(): Metrics {
  base ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  return base;
}

/** The shared metrics: values wait until the step ends (flushStepMetrics). */
export const stepMetrics: StepMetrics = {
  add(name, value, dimensions = {}) {
    if (!Number.isFinite(value)) return;
    const dims: Record<string, string> = dimensions.targetId ? { [TARGET_DIMENSION]: dimensions.targetId } : {};
    pending.push({ name, value, dimensions: dims });
    if (dims[TARGET_DIMENSION] && ALSO_UNDIMENSIONED.has(name)) pending.push({ name, value, dimensions: {} });
  },
};

/**
 * Writes what the step added, one EMF line per value: values with different dimensions cannot share a line (an EMF
 * line's dimension sets apply to all its metrics). Nothing added, nothing written; Powertools' own middleware
 * would warn "No application metrics to publish" on every step that emits none, which is most of them.
 */
export function flushStepMetrics(): void {
  const toWrite = pending;
  pending = [];
  for (const { name, value, dimensions } of toWrite) {
    const single = powertools().singleMetric();
    for (const [key, v] of Object.entries(dimensions)) single.addDimension(key, v);
    single.addMetric(name, METRIC_UNITS[name], value);
  }
}

// What the benchmark holds milvus-l7 to (docs/benchmark.md reports each figure against its target), and the
// prices its cost estimates use.

/** Sizes in SI megabytes (1 MB = 1,000,000 bytes), the stricter reading. */
export const TARGETS = {
  bundleBytes: 1.2e6,
  coldInitMs: 70,
  verifyConnectionBytes: 1.5e6,
  verifyConnectionColdInitMs: 120,
  kubernetesRatio: 20,
  transitions: 25,
  maxDetectSeconds: 15,
  pollsIn20Min: 40,
  renewal20Ratio: 2,
} as const;

/** Drift checks in a month at the check schedule's default rate, rate(1 day), over a 30-day month. */
export const CHECKS_PER_MONTH = 30;

/**
 * LIST PRICES, us-east-1, which AWS changes: check them before quoting a figure. Step Functions Standard workflows,
 * per state transition ($0.025 per 1,000): https://aws.amazon.com/step-functions/pricing/ — Lambda on arm64, per
 * GB-second of the first 6 billion a month and per request ($0.20 per million):
 * https://aws.amazon.com/lambda/pricing/ . Free tiers are not subtracted.
 */
export const PRICES = {
  transitionUsd: 0.025 / 1000,
  lambdaGbSecondUsd: 0.0000133334,
  lambdaRequestUsd: 0.2 / 1e6,
} as const;


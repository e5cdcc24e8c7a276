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

/** us-east-1 list prices: Step Functions Standard, Lambda arm64. */
export const PRICES = {
  transitionUsd: 0.025 / 1000,
  lambdaGbSecondUsd: 0.0000133334,
  lambdaRequestUsd: 0.2 / 1e6,
} as const;


import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON report is what .ci/run counts for its closing "N passed, N failed" line.
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The sandbox starts moto_server and TLS servers per file; two cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});

// `milvus-l7 demo --json` as a user runs it: a separate process, one JSON object on stdout, exit 0. Without
// --scenario it is the first deployment (test/integration/demo-scenarios.test.ts covers every scenario).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("milvus-l7 demo --json", () => {
  it("runs the workflow end to end and prints only the summary on stdout", async () => {
    const { stdout } = await run(process.execPath, ["bin/milvus-l7.mjs", "demo", "--json"], { timeout: 170_000 });
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? "");
    expect(summary).toMatchObject({
      scenario: "deploy",
      status: "SUCCEEDED",
      certificateArn: expect.stringMatching(/^arn:aws:acm:us-east-2:\d{12}:certificate\//),
      certificateImported: true,
      serviceTypeInCluster: "ClusterIP",
      targets: [
        {
          host: "milvus-demo.milvus.io",
          albHostname: expect.stringContaining(".elb.amazonaws.com"),
          servedFingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
          milvusVersion: "v2.5.4",
          serviceType: "ClusterIP",
          previousServiceType: "LoadBalancer",
          milvusAuth: "none",
          // The Service's Helm warning, then verify-connection's: an open Milvus behind an internet-facing ALB.
          warnings: [
            expect.stringContaining("no AWS Load Balancer Controller readiness gate"),
            expect.stringContaining("Helm"),
            expect.stringContaining("anyone who can resolve the host"),
          ],
        },
      ],
    });
    expect(summary.transitions).toBeGreaterThan(10);
    expect(summary.transitions).toBeLessThanOrEqual(25);
  }, 180_000); // a separate process on a shared, sometimes saturated machine: generous, and not a speed test
});

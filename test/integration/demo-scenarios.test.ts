// Every `milvus-l7 demo --scenario NAME` as a user runs it — a separate process, the JSON summary on stdout — with
// what each scenario is there to show; plus --list and the usage errors. A scenario added to the registry
// without an entry in OUTCOMES below fails the coverage test.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runDemo } from "../../cli/demo";
import { SCENARIOS } from "../../sandbox/scenarios";
import { BAD_FIELD } from "../../sandbox/scenarios/failures";
import { captured } from "../cli-io";

const exec = promisify(execFile);
/** A separate process on a shared, sometimes saturated machine: generous, and not a speed test. */
const PROCESS_TIMEOUT_MS = 170_000;
const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

interface Target {
  host: string;
  albHostname: string;
  servedFingerprint256: string;
  servedNotAfter: string;
  serviceType: string;
  previousServiceType: string;
}
interface RunSummary {
  label: string;
  status: string;
  certificateArn?: string;
  certificateImported?: boolean;
  targets: Target[];
  serviceTypeInCluster?: string;
  ingressInCluster: string;
  changesInCluster: string[];
  transitions: number;
  wallMs: number;
  error?: string;
  cause?: string;
  observed?: Record<string, unknown>;
}
interface Summary extends RunSummary {
  scenario: string;
  runs?: RunSummary[];
}

async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["bin/milvus-l7.mjs", "demo", ...args], { timeout: PROCESS_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

async function scenarioJson(name: string): Promise<{ code: number; summary: Summary }> {
  const { code, stdout, stderr } = await demo(["--scenario", name, "--json"]);
  const lines = stdout.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  return { code, summary: JSON.parse(lines[0] ?? "") as Summary };
}

const DEMO_INGRESS = "milvus/milvus-demo";
const DEPLOYED_CHANGES = [`apply Ingress ${DEMO_INGRESS}`, `patch Service ${DEMO_INGRESS}`];

/** What each scenario shows, checked on its JSON summary and exit status. */
const OUTCOMES: Record<string, (code: number, s: Summary) => void> = {
  deploy(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "deploy", status: "SUCCEEDED", certificateImported: true, serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    expect(s.changesInCluster).toEqual(DEPLOYED_CHANGES);
    expect(s.targets).toEqual([
      expect.objectContaining({ host: "milvus-demo.milvus.io", servedFingerprint256: expect.stringMatching(FINGERPRINT), previousServiceType: "LoadBalancer", serviceType: "ClusterIP" }),
    ]);
    expect(s).not.toHaveProperty("runs");
  },

  renewal(code, s) {
    expect(code).toBe(0);
    const [deployed, renewed] = s.runs ?? [];
    expect(s.runs?.map((r) => [r.label, r.status])).toEqual([
      ["first deployment", "SUCCEEDED"],
      ["renewal", "SUCCEEDED"],
    ]);
    // The top level is the last run's outcome.
    expect(s).toMatchObject({ scenario: "renewal", status: "SUCCEEDED", label: "renewal", certificateArn: renewed?.certificateArn });
    // Re-imported into the same ARN; the ALB now serves the renewed certificate, issued by the same CA.
    expect(renewed?.certificateArn).toBe(deployed?.certificateArn);
    expect(renewed?.certificateImported).toBe(true);
    const before = deployed?.targets[0];
    const after = renewed?.targets[0];
    const observed = renewed?.observed as { previousCertificate: { issuer: string; fingerprint256: string }; renewedCertificate: { issuer: string; fingerprint256: string } };
    expect(before?.servedFingerprint256).toBe(observed.previousCertificate.fingerprint256);
    expect(after?.servedFingerprint256).toBe(observed.renewedCertificate.fingerprint256);
    expect(after?.servedFingerprint256).not.toBe(before?.servedFingerprint256);
    expect(observed.renewedCertificate.issuer).toBe(observed.previousCertificate.issuer);
    expect(Date.parse(after?.servedNotAfter ?? "")).toBeGreaterThan(Date.parse(before?.servedNotAfter ?? ""));
    // Same Ingress, same ALB: a renewal changes nothing in the cluster.
    expect(after?.albHostname).toBe(before?.albHostname);
    expect(deployed?.changesInCluster).toEqual(DEPLOYED_CHANGES);
    expect(renewed?.changesInCluster).toEqual([]);
    expect(renewed?.serviceTypeInCluster).toBe("ClusterIP");
  },

  rollback(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "rollback", status: "FAILED", error: "EndpointNotReady", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "absent" });
    expect(s.cause).toContain("UNAVAILABLE (14)");
    expect(s.changesInCluster).toEqual([`apply Ingress ${DEMO_INGRESS}`, `delete Ingress ${DEMO_INGRESS}`]);
    expect(s.observed).toEqual({ albForIngress: "deleted by the load balancer controller" });
    expect(s.targets).toEqual([]);
  },

  "bad-request"(code, s) {
    expect(code).toBe(1);
    expect(s).toMatchObject({ scenario: "bad-request", status: "FAILED", error: "InvalidRequest", serviceTypeInCluster: "LoadBalancer", ingressInCluster: "absent" });
    expect(s.cause).toContain(`${BAD_FIELD.path}: must be one of internet-facing, internal`);
    // Rejected by the first step: no certificate imported, nothing written to the cluster.
    expect(s.certificateArn).toBeUndefined();
    expect(s.changesInCluster).toEqual([]);
  },

  dns(code, s) {
    expect(code).toBe(0);
    expect(s).toMatchObject({ scenario: "dns", status: "SUCCEEDED", serviceTypeInCluster: "ClusterIP", ingressInCluster: "present" });
    const alb = s.targets[0]?.albHostname;
    expect(alb).toContain(".elb.amazonaws.com");
    expect(s.observed).toMatchObject({
      hostedZoneId: expect.any(String),
      aliasRecords: [`milvus-demo.milvus.io A → dualstack.${alb}`, `milvus-demo.milvus.io AAAA → dualstack.${alb}`],
      finalVerificationVia: "dns",
    });
  },
};

describe("milvus-l7 demo --scenario", () => {
  it("every scenario in the registry has its outcome tested here", () => {
    expect(Object.keys(OUTCOMES).sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.summary}`, async () => {
      const outcome = OUTCOMES[scenario.name];
      if (!outcome) throw new Error(`no outcome for scenario ${scenario.name}`);
      const { code, summary } = await scenarioJson(scenario.name);
      outcome(code, summary);
    }, PROCESS_TIMEOUT_MS + 10_000);
  }

  it("tells the story on a terminal: each run's progress, its summary, and the outcome last", async () => {
    const { code, stdout } = await demo(["--scenario", "bad-request"]);
    expect(code).toBe(1);
    const lines = stdout.split("\n");
    expect(lines).toContain(`Scenario bad-request: ${SCENARIOS.find((s) => s.name === "bad-request")?.summary}`);
    expect(lines).toContain("Running statemachine/milvus-l7.asl.json (invalid request):");
    expect(lines.some((l) => /✗ ResolveRequest: InvalidRequest: .*ingress\.scheme/.test(l))).toBe(true);
    expect(lines).toContain("in cluster:    Service LoadBalancer, Ingress absent");
    expect(lines).toContain("changes:       none");
    expect(lines.filter(Boolean).at(-1)).toMatch(/^FAILED: scenario bad-request, 1 run, in \d/);
  }, PROCESS_TIMEOUT_MS + 10_000);
});

describe("milvus-l7 demo usage", () => {
  it("--list prints every scenario with its one line, and --json as data", async () => {
    let io = captured();
    expect(await runDemo(["--list"], io)).toBe(0);
    const lines = io.out().trimEnd().split("\n");
    expect(lines).toHaveLength(SCENARIOS.length);
    // Name, then its one line, the lines aligned.
    const width = Math.max(...SCENARIOS.map((s) => s.name.length));
    expect(lines).toEqual(SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`));
    io = captured();
    expect(await runDemo(["--list", "--json"], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual(SCENARIOS.map(({ name, summary }) => ({ name, summary })));
  });

  it("an unknown scenario or flag is a usage error (exit 2) that lists the scenarios", async () => {
    for (const args of [["--scenario", "nope"], ["--frobnicate"], ["deploy"], ["--list", "--scenario", "dns"]]) {
      const io = captured();
      expect(await runDemo(args, io), args.join(" ")).toBe(2);
      expect(io.out()).toBe("");
      expect(io.err()).toContain("usage: milvus-l7 demo");
      for (const s of SCENARIOS) expect(io.err()).toContain(`  ${s.name}`);
    }
    const io = captured();
    await runDemo(["--scenario", "nope"], io);
    expect(io.err().split("\n")[0]).toBe(`milvus-l7 demo: --scenario nope: no such scenario (choose one of ${SCENARIOS.map((s) => s.name).join(", ")})`);
  });

  it("the process exits 2 for an unknown scenario, before starting the sandbox", async () => {
    const { code, stdout, stderr } = await demo(["--scenario", "nope"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("no such scenario");
  }, PROCESS_TIMEOUT_MS);
});

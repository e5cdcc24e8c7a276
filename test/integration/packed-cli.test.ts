// The CLI as a user installs it: `npm pack`, then `npm install -g` of the tarball into an empty prefix, then the
// installed `milvus-l7` run from an empty directory. Catches a runtime dependency left in devDependencies, a file
// the tarball lacks, and a path resolved against the working directory instead of the module.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
/** Packing and installing from the warm npm cache, then a demo, on a shared machine: generous, not a speed test. */
const INSTALL_TIMEOUT_MS = 240_000;
const RUN_TIMEOUT_MS = 170_000;

let tarball: string;
let packedFiles: string[];
let cli: string;
/** Where the installed CLI runs: an empty directory, which must stay empty. */
let emptyDir: string;
let requestFile: string;

const npm = (args: string[], cwd: string) => exec("npm", args, { cwd, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });

async function milvusL7(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(cli, args, { cwd: emptyDir, timeout: RUN_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

beforeAll(async () => {
  const packDir = mkdtempSync(join(tmpdir(), "milvus-l7-pack-"));
  const { stdout } = await npm(["pack", "--json", "--pack-destination", packDir], REPO);
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error(`npm pack printed no package: ${stdout}`);
  tarball = join(packDir, packed.filename);
  packedFiles = packed.files.map((f) => f.path);

  const prefix = mkdtempSync(join(tmpdir(), "milvus-l7-prefix-"));
  await npm(["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball], tmpdir());
  cli = join(prefix, "bin", "milvus-l7");

  emptyDir = mkdtempSync(join(tmpdir(), "milvus-l7-cwd-"));
  const requestDir = mkdtempSync(join(tmpdir(), "milvus-l7-request-"));
  requestFile = join(requestDir, "request.json");
  writeFileSync(
    requestFile,
    JSON.stringify({
      cluster: { name: "milvus-eks", region: "us-east-2" },
      milvus: { namespace: "milvus", service: "milvus-demo" },
      ingress: { host: "milvus.example.com" },
      certificate: { source: { secretsManager: { secretId: "milvus-l7/milvus-example-tls" } } },
    }),
  );
}, INSTALL_TIMEOUT_MS * 2);

afterAll(() => {
  // Nothing the installed CLI did may land in the directory it ran in.
  if (emptyDir) expect(readdirSync(emptyDir)).toEqual([]);
});

describe("the packed CLI", () => {
  it("holds what the CLI and the demo need, and neither tests, infrastructure nor scripts", () => {
    for (const needed of [
      "bin/milvus-l7.mjs",
      "cli/main.ts",
      "statemachine/milvus-l7.asl.json",
      "sandbox/fixtures/milvus-demo-service-loadbalancer.json",
      "events/console-start.json",
      "events/acm-approaching-expiration.json",
      "functions/verify-connection/handler.ts",
      "package.json",
    ]) {
      expect(packedFiles).toContain(needed);
    }
    expect(packedFiles.filter((f) => /^(test|infra|scripts)\//.test(f) || f.endsWith(".test.ts"))).toEqual([]);
  });

  it("validates a request from any directory", async () => {
    const { code, stdout, stderr } = await milvusL7(["validate", requestFile]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe(`${requestFile}: valid — milvus/milvus-demo on milvus-eks → https://milvus.example.com (cutover after-verify)\n`);
  }, RUN_TIMEOUT_MS);

  it("lists the demo's scenarios", async () => {
    const { code, stdout } = await milvusL7(["demo", "--list"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}deploy +a first deployment/);
    expect(stdout).toContain("  renewal ");
  }, RUN_TIMEOUT_MS);

  it("runs the demo end to end: one JSON summary, the deployment succeeded", async () => {
    const { code, stdout, stderr } = await milvusL7(["demo", "--json"]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      scenario: "deploy",
      status: "SUCCEEDED",
      certificateImported: true,
      serviceTypeInCluster: "ClusterIP",
      targets: [{ host: "milvus-demo.milvus.io", milvusVersion: "v2.5.4", serviceType: "ClusterIP", previousServiceType: "LoadBalancer" }],
    });
  }, RUN_TIMEOUT_MS + 10_000);

  it("runs a scenario that reads the package's own sample events", async () => {
    const { code, stdout } = await milvusL7(["demo", "--scenario", "renewal", "--json"]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as { runs: { label: string; status: string }[] };
    expect(summary.runs.map((r) => `${r.label} ${r.status}`)).toEqual(["first deployment SUCCEEDED", "renewal SUCCEEDED"]);
  }, RUN_TIMEOUT_MS + 10_000);
});

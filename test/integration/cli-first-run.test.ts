// What a newcomer sees the first time: `milvus-l7 run` on a machine with no AWS credentials, as a separate
// process with a fresh home directory. It must say that no credentials were found and how to provide them, before
// any step starts, writing nothing — and without the AWS SDK's Node-version notice on top.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SDK_NODE_VERSION_NOTICE_SWITCH, quietSdkNodeVersionNotice } from "../../cli/io";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
/** The SDK's notice names itself so; @aws-sdk/core emits it on Node versions below the one it names. */
const SDK_NOTICE = "NodeVersionSupportWarning";
const NOTICE_FROM_NODE_MAJOR_BELOW = 22;

/** This process's environment without any AWS setting, and a home directory with nothing in it. */
function firstRunEnv(): { env: NodeJS.ProcessEnv; home: string } {
  const home = mkdtempSync(join(tmpdir(), "milvus-l7-first-run-"));
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: "true" };
  return { env, home };
}

async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(REPO, "bin/milvus-l7.mjs"), ...args], { cwd: REPO, env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("a first `milvus-l7 run` without AWS credentials", () => {
  it("says no credentials were found and how to provide them, starts no step and writes no file", async () => {
    const { env, home } = firstRunEnv();
    const { code, stdout, stderr } = await runCli(["run", "events/console-start.json"], env);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("milvus-l7 run: no AWS credentials were found");
    for (const way of ["aws configure", "export AWS_PROFILE=", "aws sso login", "export AWS_ACCESS_KEY_ID="]) expect(stderr).toContain(way);
    expect(stderr).toContain("Nothing was changed.");
    expect(stderr).not.toContain("execution role");
    expect(stderr).not.toContain(SDK_NOTICE);
    // No registry, no log file, no ~/.milvus-l7 at all.
    expect(readdirSync(home)).toEqual([]);
  });

  it("the SDK would print its Node-version notice in a process that is not the CLI", async () => {
    const { env } = firstRunEnv();
    const script = 'import { ACMClient } from "@aws-sdk/client-acm"; new ACMClient({ region: "us-east-2" });';
    const { stderr } = await exec(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO, env });
    // The CLI test above means something only where the SDK warns at all.
    if (NODE_MAJOR < NOTICE_FROM_NODE_MAJOR_BELOW) expect(stderr).toContain(SDK_NOTICE);
    else expect(stderr).not.toContain(SDK_NOTICE);
  });

  it("the CLI turns off that notice only, and leaves a value the environment already sets", () => {
    const env: NodeJS.ProcessEnv = { NODE_OPTIONS: "--trace-warnings" };
    quietSdkNodeVersionNotice(env);
    expect(env).toEqual({ NODE_OPTIONS: "--trace-warnings", [SDK_NODE_VERSION_NOTICE_SWITCH]: "true" });
    const decided: NodeJS.ProcessEnv = { [SDK_NODE_VERSION_NOTICE_SWITCH]: "false" };
    quietSdkNodeVersionNotice(decided);
    expect(decided[SDK_NODE_VERSION_NOTICE_SWITCH]).toBe("false");
  });
});

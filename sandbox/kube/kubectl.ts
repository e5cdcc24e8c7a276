// The real kubectl against the stand-in, as an operator runs it: for scenarios and tests that set the cluster up the
// way its owner would (`milvus-l7 rbac … | kubectl apply -f -`). Asynchronous on purpose: the stand-in serves from
// this same process, so a synchronous child would starve it. kubectl comes from PATH (KUBECTL overrides).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeconfigYaml } from "./kubeconfig";
import type { KubeApiServer } from "./types";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with a kubeconfig for `token` and its own discovery cache; `input` goes to its stdin. */
export async function kubectl(server: KubeApiServer, token: string, args: string[], input?: string): Promise<KubectlResult> {
  const dir = mkdtempSync(join(tmpdir(), "milvus-l7-kubectl-"));
  try {
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigYaml(server, token));
    return await new Promise<KubectlResult>((resolve) => {
      const child = execFile(
        process.env.KUBECTL ?? "kubectl",
        [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, "cache")}`, "--request-timeout=20s", ...args],
        { env: { ...process.env, KUBECONFIG: "" }, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr: error && !stderr ? error.message : stderr });
        },
      );
      child.stdin?.end(input ?? "");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `kubectl apply -f -` of a YAML stream; resolves with kubectl's lines ("role.rbac.authorization.k8s.io/x created")
 * and throws with its stderr when it fails. --validate=false: the stand-in serves no OpenAPI document.
 */
export async function kubectlApply(server: KubeApiServer, token: string, yaml: string): Promise<string[]> {
  const run = await kubectl(server, token, ["apply", "--validate=false", "-f", "-"], yaml);
  if (run.code !== 0) throw new Error(`kubectl apply failed (exit ${run.code}): ${run.stderr.trim()}`);
  return run.stdout.trim().split("\n").filter(Boolean);
}

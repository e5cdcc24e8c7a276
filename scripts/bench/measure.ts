// The benchmark's measuring tools: a fresh `node` process importing a bundle (its wall and CPU time, measured
// inside it), a timed command, a timed promise, and the console kept off the report while handlers run.
import { execFile, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";

export const say = (line = "") => process.stderr.write(`${line}\n`);

/** Runs `fn` with the global console collected (the handlers log through it in the sandbox's dev mode). */
export async function quietly<T>(lines: string[], fn: () => Promise<T>): Promise<T> {
  const methods = ["log", "info", "warn", "error", "debug", "trace"] as const;
  const saved = methods.map((m) => [m, console[m]] as const);
  for (const m of methods) console[m] = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    return await fn();
  } finally {
    for (const [m, f] of saved) console[m] = f;
  }
}

export interface Sample {
  ms: number;
  cpuMs: number;
}

/** Imports `file` in a fresh node process and reports the import's wall and CPU time, measured inside it. */
export function coldImport(file: string, fn: string, sourceMaps = false): Promise<Sample> {
  const url = pathToFileURL(file).href;
  const code = [
    "const c = process.cpuUsage(); const t = performance.now();",
    `const m = await import(${JSON.stringify(url)});`,
    "const ms = performance.now() - t; const u = process.cpuUsage(c);",
    'if (typeof m.handler !== "function") throw new Error("the bundle exports no handler");',
    "process.stdout.write(JSON.stringify({ ms, cpuMs: (u.user + u.system) / 1000 }));",
  ].join("\n");
  // A Lambda-like environment: no tsx loader, region and credentials from variables, the function's name.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    AWS_REGION: "us-east-2",
    AWS_DEFAULT_REGION: "us-east-2",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_LAMBDA_FUNCTION_NAME: `milvus-l7-${fn}`,
    POWERTOOLS_SERVICE_NAME: "milvus-l7",
    ...(sourceMaps ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
  };
  return new Promise((resolve, reject) => {
    // --no-warnings: on Node 20 the AWS SDK warns about Node 22; Lambda runs nodejs22.x, where it does not.
    const child = spawn(process.execPath, ["--no-warnings", "--input-type=module", "-e", code], { env, cwd: tmpdir() });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`importing ${file} failed (exit ${code}): ${err.slice(-2000)}`));
      try {
        const last = out.trim().split("\n").at(-1) ?? "";
        resolve(JSON.parse(last) as Sample);
      } catch {
        reject(new Error(`importing ${file} printed no timing: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const ms = performance.now() - started;
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve({ ms, stdout });
    });
  });
}

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [performance.now() - started, value];
}

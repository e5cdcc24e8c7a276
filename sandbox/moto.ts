// moto_server stand-in for ACM, S3, Secrets Manager, STS, EKS, DynamoDB and the Step Functions API.
// One server per sandbox, bound to 127.0.0.1 on a free port and stopped by its own handle.
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports";

export interface Moto {
  endpoint: string;
  region: string;
  /** Static credentials moto accepts; handlers read them from the environment like on Lambda. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Drops all moto state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(region = "us-east-2"): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once("error", (e: NodeJS.ErrnoException) => {
    spawnError = e;
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError?.code === "ENOENT") {
      throw new Error('moto_server is not on PATH: the sandbox runs its AWS services in moto\'s server; install it with pip install "moto[server]"');
    }
    if (spawnError) throw new Error(`moto_server could not be started: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not start on ${endpoint}: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    endpoint,
    region,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
}

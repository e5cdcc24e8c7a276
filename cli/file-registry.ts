// The deployments registry for `milvus-l7 run` without a deployed stack: one JSON file (default
// ~/.milvus-l7/registry.json) with the same semantics as the DynamoDB registry in functions/lib/registry —
// records keyed by target, leases with an expiry, a record written together with the release of its run's lease.
// Every change is a read-modify-write under an exclusive lock file and lands by rename, so two runs on one
// machine (two terminals) serialise on it and a crash never leaves half a file.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RegistryError } from "../functions/lib/errors";
import type { ClaimResult, DeploymentRecord, Lease, Registry } from "../functions/lib/registry";

export const DEFAULT_REGISTRY_PATH = join(homedir(), ".milvus-l7", "registry.json");

interface RegistryFile {
  version: 1;
  records: Record<string, DeploymentRecord>;
  leases: Record<string, Lease>;
}

/** A lock older than this is from a process that died while holding it (a change takes milliseconds). */
const STALE_LOCK_MS = 30_000;
const LOCK_TIMEOUT_MS = 10_000;

export interface FileRegistry extends Registry {
  readonly path: string;
  /** Leases currently held (expired ones included), by target id. */
  leases(): Promise<Record<string, Lease>>;
  /** Releases every lease `owner` holds: an interrupted run cleans up after itself. */
  releaseAll(owner: string): Promise<string[]>;
}

const empty = (): RegistryFile => ({ version: 1, records: {}, leases: {} });

export function fileRegistry(path: string = DEFAULT_REGISTRY_PATH): FileRegistry {
  const lockPath = `${path}.lock`;

  const read = (): RegistryFile => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return empty();
      throw new RegistryError(`Cannot read the registry file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    }
    let parsed: Partial<RegistryFile>;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RegistryError(`The registry file ${path} is not valid JSON; fix or move it (milvus-l7 rewrites it on the next record).`);
    }
    if (parsed?.version !== 1 || typeof parsed.records !== "object" || typeof parsed.leases !== "object") {
      throw new RegistryError(`The registry file ${path} is not a milvus-l7 registry (version 1).`);
    }
    return { version: 1, records: parsed.records ?? {}, leases: parsed.leases ?? {} };
  };

  const write = (data: RegistryFile) => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  };

  const lock = async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        closeSync(openSync(lockPath, "wx", 0o600));
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new RegistryError(`Cannot lock the registry file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
        }
      }
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > STALE_LOCK_MS) rmSync(lockPath, { force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) {
        throw new RegistryError(`The registry file ${path} stayed locked by another milvus-l7 process (${lockPath}); retry, or remove the lock file if no other run is active.`);
      }
      await sleep(20 + Math.random() * 30);
    }
  };

  /** Runs `change` on the file's content under the lock; writes it back when `change` says so. */
  const update = async <T>(change: (data: RegistryFile) => { result: T; changed: boolean }): Promise<T> => {
    await lock();
    try {
      const data = read();
      const { result, changed } = change(data);
      if (changed) write(data);
      return result;
    } finally {
      rmSync(lockPath, { force: true });
    }
  };

  const records = async () => Object.values(read().records);

  return {
    path,
    async record(record) {
      await update((data) => {
        const lease = data.leases[record.targetId];
        // As the DynamoDB transaction: only our own lease (or none) lets the record through.
        if (lease && lease.owner !== record.lastExecution) {
          throw new RegistryError(
            `Target ${record.targetId} was verified, but its lease now belongs to another execution (this one outlived its lease); not recording over it. Re-run to record it.`,
          );
        }
        data.records[record.targetId] = structuredClone(record);
        delete data.leases[record.targetId];
        return { result: undefined, changed: true };
      });
    },
    async recordCheck(targetId, check) {
      await update((data) => {
        const lease = data.leases[targetId];
        const record = data.records[targetId];
        // As the DynamoDB transaction: the record must still exist, and only our own lease (or none) lets it through.
        if (!record || (lease && lease.owner !== check.lastExecution)) {
          throw new RegistryError(
            `The check of ${targetId} could not be recorded: the target was removed from the registry, or its lease now belongs to another execution. Re-run the check.`,
          );
        }
        data.records[targetId] = { ...record, ...structuredClone(check) };
        delete data.leases[targetId];
        return { result: undefined, changed: true };
      });
    },
    async claim(targetId, owner, ttlSeconds, now, replacing) {
      const nowSeconds = Math.floor(now.getTime() / 1000);
      return update<ClaimResult>((data) => {
        const held = data.leases[targetId];
        if (!held || held.owner === owner || held.expiresAt < nowSeconds || (replacing !== undefined && held.owner === replacing)) {
          data.leases[targetId] = { owner, expiresAt: nowSeconds + ttlSeconds };
          return { result: { claimed: true }, changed: true };
        }
        return { result: { claimed: false, holder: { ...held } }, changed: false };
      });
    },
    async release(targetId, owner) {
      await update((data) => {
        if (data.leases[targetId]?.owner !== owner) return { result: undefined, changed: false };
        delete data.leases[targetId];
        return { result: undefined, changed: true };
      });
    },
    async forCertificate(certificateArn) {
      return (await records()).filter((r) => r.certificateArn === certificateArn);
    },
    async forSourceObject(bucket, key) {
      return (await records()).filter((r) => {
        const s3 = r.certificateSource && "s3" in r.certificateSource ? r.certificateSource.s3 : undefined;
        return s3 !== undefined && s3.bucket === bucket && [s3.certificateKey, s3.chainKey, s3.privateKeyKey].includes(key);
      });
    },
    list: records,
    async leases() {
      return read().leases;
    },
    async releaseAll(owner) {
      return update((data) => {
        const mine = Object.keys(data.leases).filter((id) => data.leases[id]?.owner === owner);
        for (const id of mine) delete data.leases[id];
        return { result: mine, changed: mine.length > 0 };
      });
    },
  };
}

// `npm run bench` — how fast, small and cheap milvus-l7 is, measured in one run (issue 5). Rerunnable by anyone:
// everything runs locally against the sandbox (moto, the Kubernetes API stand-in, the ALB simulator, the Milvus
// stand-in); nothing reaches AWS.
//
//   npm run bench                       human table on stderr
//   npm run -s bench -- --json          the same, plus ONE JSON object on stdout (everything else goes to stderr;
//                                       -s keeps npm's own "> milvus-l7 bench" header off stdout)
//   npm run bench -- --runs 7 --n 20    cold-start samples per bundle (default 5) / Kubernetes calls per op (10)
//
// What is measured (docs/benchmark.md explains each figure and its method):
//   functions[]  each Lambda bundled with infra/bundle.ts's BUNDLE_OPTIONS (as deployed: index.mjs and its
//                chunks) and with a naive baseline: bytes, and the median import time of the entry in fresh
//                `node` processes
//   kubernetes   patch Service / apply Ingress / read Ingress: our in-process client from the production bundle
//                (one keep-alive connection, as a warm Lambda keeps it) vs a `kubectl` process per operation
//                (CDK's provider)
//   demo         `npm run demo`'s work: sandbox start + one deployment, wall time and state transitions
//   workflow     state transitions and estimated USD for a single-target run whose address appears on the third
//                poll, and for a 20-target renewal
//   polling      worst-case delay from an address appearing to the workflow noticing, polls in 20 minutes
//   renewal20    a 20-target renewal (Map, bounded concurrency) vs the same renewal for one target
// The machine may be shared and noisy: every timing is also given as a ratio to a baseline measured in the
// same run, interleaved with it.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Metafile } from "esbuild";
import { DEFAULT_WATCH_SECONDS, WAIT_CAP_SECONDS, maxPollsFor, nextWaitSeconds } from "../functions/lib/polling";
import type { Target } from "../functions/lib/plan";
import type { Sandbox } from "../sandbox";
import type { LocalFunctions, WorkflowRun } from "../sandbox/workflow";
import { BASELINE_OPTIONS, REPO_ROOT, bundleFunctions, bundleSource, bytesByPackage, functionNames } from "../infra/bundle";

// ---------------------------------------------------------------------------------------------------------------
// Targets and prices

/** Issue 5. Sizes in SI megabytes (1 MB = 1,000,000 bytes), the stricter reading. */
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

/** Memory assumed for a function the stack does not configure (or when infra/ cannot be read). */
export const DEFAULT_MEMORY_MB = 256;
const INFRA = join(REPO_ROOT, "infra");
const CONSOLE_START = join(REPO_ROOT, "events", "console-start.json");
const TWENTY_MINUTES = 20 * 60;
/** Samples of the extra source-map variant (informational, not a target). */
const SOURCE_MAP_RUNS = 2;

// ---------------------------------------------------------------------------------------------------------------
// Pure calculations (test/unit/bench-math.test.ts)

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `numerator / denominator`, e.g. baseline ÷ ours: how many times better; 2 decimals. */
export function ratio(numerator: number, denominator: number): number {
  if (denominator <= 0) return Number.POSITIVE_INFINITY;
  return round(numerator / denominator, 2);
}

/** One Lambda invocation: GB-seconds at its memory, billed per started millisecond, plus the request charge. */
export function lambdaInvocationUsd(memoryMb: number, billedMs: number): number {
  return (memoryMb / 1024) * (Math.ceil(billedMs) / 1000) * PRICES.lambdaGbSecondUsd + PRICES.lambdaRequestUsd;
}

export function transitionsUsd(transitions: number): number {
  return transitions * PRICES.transitionUsd;
}

export interface Invocation {
  /** Function folder name, e.g. get-ingress-status. */
  fn: string;
  ms: number;
}

export interface CostInput {
  transitions: number;
  invocations: readonly Invocation[];
  memoryMb: (fn: string) => number;
  /** INIT duration of a new container (billed like invocation time for managed runtimes). */
  coldInitMs: (fn: string) => number;
  /** New containers per function during the run. */
  coldStarts: (fn: string) => number;
}

export interface CostEstimate {
  usd: number;
  transitionsUsd: number;
  lambdaUsd: number;
  invocations: number;
  gbSeconds: number;
}

export function estimateRunUsd(input: CostInput): CostEstimate {
  let lambdaUsd = 0;
  let gbSeconds = 0;
  const started = new Map<string, number>();
  for (const { fn, ms } of input.invocations) {
    const n = started.get(fn) ?? 0;
    started.set(fn, n + 1);
    const billedMs = ms + (n < input.coldStarts(fn) ? input.coldInitMs(fn) : 0);
    lambdaUsd += lambdaInvocationUsd(input.memoryMb(fn), billedMs);
    gbSeconds += (input.memoryMb(fn) / 1024) * (Math.ceil(billedMs) / 1000);
  }
  const tUsd = transitionsUsd(input.transitions);
  return { usd: tUsd + lambdaUsd, transitionsUsd: tUsd, lambdaUsd, invocations: input.invocations.length, gbSeconds };
}

/**
 * Polls started within `budgetSeconds` when no address ever appears: each poll holds its watch for
 * `watchSeconds` (plus `pollLatencySeconds` of invoke and API time), then the Wait state sleeps nextWaitSeconds.
 */
export function pollsWithin(budgetSeconds: number, watchSeconds: number, pollLatencySeconds = 0): number {
  let polls = 0;
  for (let t = 0; t < budgetSeconds; t += watchSeconds + pollLatencySeconds + nextWaitSeconds(polls)) polls++;
  return polls;
}

/** The longest Wait between two of `maxPolls` polls (waits follow polls 1 … maxPolls-1). */
export function longestWaitSeconds(maxPolls: number): number {
  let longest = 0;
  for (let n = 1; n < maxPolls; n++) longest = Math.max(longest, nextWaitSeconds(n));
  return longest;
}

/**
 * Worst case from an address appearing to the workflow noticing it. While a poll holds its watch the address is
 * seen at once; the worst moment is just as a Wait starts: the whole Wait, then the next poll's start-up.
 */
export function maxDetectSeconds(longestWait: number, pollStartLatencySeconds: number): number {
  return longestWait + pollStartLatencySeconds;
}

/**
 * `memorySize` per function from the stack's sources: a settings table (`"step": { … memorySize: 256, … }`) or
 * a construct's props (`{ name: "api", … memorySize: 256, … }`).
 */
export function memoryFromInfraSource(source: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const pattern of [/"([a-z0-9-]+)":\s*\{[^{}]*?memorySize:\s*(\d+)/g, /\bname:\s*"([a-z0-9-]+)"[^{}]*?memorySize:\s*(\d+)/g]) {
    for (const m of source.matchAll(pattern)) found[m[1] as string] = Number(m[2]);
  }
  return found;
}

/** `ResolveRequestFunctionArn` → `resolve-request` (the ASL substitution to the function's folder). */
export function functionOfKey(key: string): string {
  return key.replace(/FunctionArn$/, "").replace(/[A-Z]/g, (c, i: number) => (i ? "-" : "") + c.toLowerCase());
}

/**
 * `count` targets from one: the first is `target` itself; the others get their own Milvus Service, Ingress and
 * host (`<name>-02`, `<first-label>-02.<rest of host>`), as 20 Milvus endpoints sharing one certificate would.
 */
export function expandTargets<T extends Pick<Target, "ingress" | "service">>(target: T, count: number): T[] {
  return Array.from({ length: count }, (_, i) => {
    if (i === 0) return target;
    const suffix = String(i + 1).padStart(2, "0");
    const [label, ...rest] = target.ingress.host.split(".");
    return {
      ...target,
      service: { ...target.service, name: `${target.service.name}-${suffix}` },
      ingress: { ...target.ingress, name: `${target.ingress.name}-${suffix}`, host: [`${label}-${suffix}`, ...rest].join(".") },
    };
  });
}

/**
 * The invocations of an n-target run built from a single-target run: the steps before the Map once, the
 * per-target steps n times, each with the single run's (uncontended) duration.
 */
export function scaleInvocations(single: readonly Invocation[], outsideMap: ReadonlySet<string>, targets: number): Invocation[] {
  const before = single.filter((i) => outsideMap.has(i.fn));
  const perTarget = single.filter((i) => !outsideMap.has(i.fn));
  return [...before, ...Array.from({ length: targets }, () => perTarget).flat()];
}

/**
 * State transitions of an n-target run from a single-target run's StateEntered events: those outside the Map
 * (no iteration index) once, those inside n times.
 */
export function scaleTransitions(entered: readonly { index?: number }[], targets: number): number {
  const inside = entered.filter((e) => e.index !== undefined).length;
  return entered.length - inside + targets * inside;
}

/** Count and median duration per function. */
export function summariseInvocations(invocations: readonly Invocation[]): Record<string, { count: number; medianMs: number }> {
  const byFn = new Map<string, number[]>();
  for (const { fn, ms } of invocations) byFn.set(fn, [...(byFn.get(fn) ?? []), ms]);
  return Object.fromEntries([...byFn.entries()].sort().map(([fn, ms]) => [fn, { count: ms.length, medianMs: round(median(ms)) }]));
}

/**
 * Wall-time ratio of an n-target run to a single-target run if every invocation had its own Lambda: the steps
 * before the Map, then ceil(n / maxConcurrency) waves of the per-target chain.
 */
export function independentLambdasRatio(beforeMapMs: number, perTargetMs: number, targets: number, maxConcurrency: number): number {
  const waves = Math.ceil(targets / Math.max(1, maxConcurrency || targets));
  return ratio(beforeMapMs + waves * perTargetMs, beforeMapMs + perTargetMs);
}

/** Left-aligned first column, right-aligned others. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "))
    .join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Result shape

export interface FunctionFigures {
  name: string;
  /** JavaScript deployed: the entry and every chunk it may load (source maps aside). */
  bytes: number;
  /** JavaScript a cold start loads: the entry and the chunks it imports statically. */
  initBytes: number;
  coldInitMs: number;
  baselineBytes: number;
  baselineColdInitMs: number;
  /** baseline ÷ ours. */
  bytesRatio: number;
  coldInitRatio: number;
  /** CPU time of the import (user+system, all threads): less sensitive to a busy machine than wall time. */
  coldInitCpuMs: number;
  baselineColdInitCpuMs: number;
  /** With NODE_OPTIONS=--enable-source-maps: what the stack saves by not setting it. */
  coldInitSourceMapsMs: number;
  limits: { bytes: number; coldInitMs: number };
  met: { bytes: boolean; coldInit: boolean };
  topPackages: { package: string; bytes: number }[];
}

interface KubernetesOp {
  op: string;
  oursMs: number;
  kubectlMs: number;
  ratio: number;
}

interface Check {
  target: string;
  value: number;
  limit: string;
  met: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers with effects

const say = (line = "") => process.stderr.write(`${line}\n`);

/** Runs `fn` with the global console collected (the handlers log through it in the sandbox's dev mode). */
async function quietly<T>(lines: string[], fn: () => Promise<T>): Promise<T> {
  const methods = ["log", "info", "warn", "error", "debug", "trace"] as const;
  const saved = methods.map((m) => [m, console[m]] as const);
  for (const m of methods) console[m] = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    return await fn();
  } finally {
    for (const [m, f] of saved) console[m] = f;
  }
}

interface Sample {
  ms: number;
  cpuMs: number;
}

/** Imports `file` in a fresh node process and reports the import's wall and CPU time, measured inside it. */
function coldImport(file: string, fn: string, sourceMaps = false): Promise<Sample> {
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

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const ms = performance.now() - started;
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve({ ms, stdout });
    });
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [performance.now() - started, value];
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Bundles

/**
 * Modules imported in the same rounds as the functions, to tell which part of a cold init is ours: nothing at all
 * (the process's own module loading), and nothing but one AWS SDK client — the least any function that calls AWS
 * loads (the SDK's code and the Node built-ins it needs: https, crypto, zlib, streams).
 */
const REFERENCE_MODULES: Record<string, string> = {
  "(empty module)": "export const handler = async () => undefined;",
  "(one AWS SDK client)": [
    'import { DynamoDBClient } from "@aws-sdk/client-dynamodb";',
    "const client = new DynamoDBClient({});",
    "export const handler = async () => client.config.region();",
  ].join("\n"),
};

interface ReferenceFigures {
  name: string;
  bytes: number;
  initBytes: number;
  coldInitMs: number;
  coldInitCpuMs: number;
}

interface BundleSet {
  figures: FunctionFigures[];
  references: ReferenceFigures[];
  /** Production bundle per function. */
  files: Map<string, string>;
}

async function benchBundles(work: string, runs: number): Promise<BundleSet> {
  const names = functionNames();
  const sourceMapRuns = Math.min(runs, SOURCE_MAP_RUNS);
  say(`== bundles: ${names.length} functions; cold imports: ${runs} ours, ${runs} baseline, ${sourceMapRuns} ours with --enable-source-maps`);
  const buildStarted = performance.now();
  const [oursSet, baselineSet] = await Promise.all([
    bundleFunctions(names, join(work, "ours")),
    bundleFunctions(names, join(work, "baseline"), BASELINE_OPTIONS),
  ]);
  const built = names.map((name) => {
    const ours = oursSet.get(name);
    const baseline = baselineSet.get(name);
    if (!ours || !baseline) throw new Error(`no bundle for ${name}`);
    return { name, ours, baseline };
  });
  const references = await Promise.all(
    Object.entries(REFERENCE_MODULES).map(async ([name, source], i) => ({ name, bundle: await bundleSource(source, join(work, "reference", String(i))), samples: [] as Sample[] })),
  );
  say(`   built ${built.length * 2 + references.length} bundles in ${round((performance.now() - buildStarted) / 1000, 1)} s`);
  const samples = new Map(names.map((n) => [n, { ours: [] as Sample[], baseline: [] as Sample[], sourceMaps: [] as Sample[] }]));
  // Interleaved and rotated, one process at a time, so a busy spell hits ours and the baseline alike.
  for (let r = 0; r < runs; r++) {
    for (const { name, ours, baseline } of built) {
      const s = samples.get(name);
      if (!s) continue;
      const order = [
        async () => s.ours.push(await coldImport(ours.file, name)),
        async () => s.baseline.push(await coldImport(baseline.file, name)),
        async () => {
          if (r < sourceMapRuns) s.sourceMaps.push(await coldImport(ours.file, name, true));
        },
      ];
      for (let i = 0; i < order.length; i++) await order[(i + r) % order.length]?.();
    }
    for (const reference of references) reference.samples.push(await coldImport(reference.bundle.file, "reference"));
    say(`   round ${r + 1}/${runs} done`);
  }
  const figures = built.map(({ name, ours, baseline }): FunctionFigures => {
    const s = samples.get(name) ?? { ours: [], baseline: [], sourceMaps: [] };
    const coldInitMs = median(s.ours.map((x) => x.ms));
    const baselineColdInitMs = median(s.baseline.map((x) => x.ms));
    const verify = name === "verify-connection";
    const limits = {
      bytes: verify ? TARGETS.verifyConnectionBytes : TARGETS.bundleBytes,
      coldInitMs: verify ? TARGETS.verifyConnectionColdInitMs : TARGETS.coldInitMs,
    };
    return {
      name,
      bytes: ours.bytes,
      initBytes: ours.initBytes,
      coldInitMs: round(coldInitMs),
      baselineBytes: baseline.bytes,
      baselineColdInitMs: round(baselineColdInitMs),
      bytesRatio: ratio(baseline.bytes, ours.bytes),
      coldInitRatio: ratio(baselineColdInitMs, coldInitMs),
      coldInitCpuMs: round(median(s.ours.map((x) => x.cpuMs))),
      baselineColdInitCpuMs: round(median(s.baseline.map((x) => x.cpuMs))),
      coldInitSourceMapsMs: round(median(s.sourceMaps.map((x) => x.ms))),
      limits,
      met: { bytes: ours.bytes <= limits.bytes, coldInit: coldInitMs <= limits.coldInitMs },
      topPackages: topPackages(ours.metafile),
    };
  });
  return {
    figures,
    references: references.map(({ name, bundle, samples: taken }) => ({
      name,
      bytes: bundle.bytes,
      initBytes: bundle.initBytes,
      coldInitMs: round(median(taken.map((x) => x.ms))),
      coldInitCpuMs: round(median(taken.map((x) => x.cpuMs))),
    })),
    files: new Map(built.map((b) => [b.name, b.ours.file])),
  };
}

function topPackages(metafile: Metafile) {
  return bytesByPackage(metafile).slice(0, 5);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Kubernetes operations: our client (from a production bundle) vs kubectl per operation

/** What the Kubernetes bundle below exports. */
interface KubeBundle {
  makeApplyIngress: typeof import("../functions/apply-ingress/handler").makeHandler;
  makeGetIngressStatus: typeof import("../functions/get-ingress-status/handler").makeHandler;
  makePatchService: typeof import("../functions/patch-service/handler").makeHandler;
  eksClient: typeof import("../functions/lib/kube").eksClient;
  servicePath: typeof import("../functions/lib/kube-client").servicePath;
  ingressPath: typeof import("../functions/lib/kube-client").ingressPath;
  cutoverPatch: typeof import("../functions/patch-service/core").cutoverPatch;
  ingressManifest: typeof import("../functions/lib/ingress").ingressManifest;
  FIELD_MANAGER: string;
}

// The three Kubernetes steps and the client in one module, bundled with BUNDLE_OPTIONS: the operations below run
// the deployed code, and the handlers' smoke run proves the bundled steps work against the apiserver stand-in.
const KUBE_BUNDLE_SOURCE = `
export { makeHandler as makeApplyIngress } from "./functions/apply-ingress/handler";
export { makeHandler as makeGetIngressStatus } from "./functions/get-ingress-status/handler";
export { makeHandler as makePatchService } from "./functions/patch-service/handler";
export { eksClient } from "./functions/lib/kube";
export { servicePath, ingressPath } from "./functions/lib/kube-client";
export { cutoverPatch } from "./functions/patch-service/core";
export { ingressManifest, FIELD_MANAGER } from "./functions/lib/ingress";
`;

interface KubernetesFigures {
  oursMs: number;
  kubectlMs: number;
  ratio: number;
  n: number;
  operations: KubernetesOp[];
  /** The bundled handlers against the apiserver stand-in. */
  smoke: Record<string, unknown>;
}

async function benchKubernetes(work: string, n: number): Promise<KubernetesFigures> {
  say(`== kubernetes: ${n} calls per operation, ours (bundled client, warm keep-alive connection) vs kubectl per call`);
  const kubectl = process.env.KUBECTL ?? "kubectl";
  const bundle = await bundleSource(KUBE_BUNDLE_SOURCE, join(work, "kube-bundle"));
  const kb = (await import(pathToFileURL(bundle.file).href)) as KubeBundle;
  const { startKubeApiServer, seedMilvusRelease, kubeconfigYaml, loadMilvusDemoService } = await import("../sandbox/kube-apiserver");
  const { resolveRequest } = await import("../functions/resolve-request/core");
  const { lambdaContext } = await import("../sandbox/workflow");

  const server = await startKubeApiServer();
  try {
    seedMilvusRelease(server);
    const namespace = "milvus";
    const serviceName = "milvus-bench";
    const resetService = () => {
      const service = loadMilvusDemoService();
      service.metadata.name = serviceName;
      server.put(service);
    };
    resetService();
    // The target exactly as resolve-request plans it from the documented console input.
    const request = JSON.parse(await readFile(CONSOLE_START, "utf8"));
    const planned = resolveRequest(request, { defaultRegion: "us-east-2", watchSeconds: DEFAULT_WATCH_SECONDS }).targets[0];
    if (!planned) throw new Error("resolve-request planned no target from events/console-start.json");
    const target: Target = {
      ...planned,
      service: { ...planned.service, name: serviceName },
      ingress: { ...planned.ingress, name: "milvus-bench", host: "milvus-bench.milvus.io" },
    };
    const certificateArn = "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64";
    const manifest = kb.ingressManifest(target, certificateArn);
    const patch = kb.cutoverPatch(undefined);

    const token = "bench-token";
    // One client with its keep-alive agent for the whole run, as a warm Lambda keeps it.
    const kube = kb.eksClient({ endpoint: `${server.url}/`, caData: Buffer.from(server.caPem).toString("base64") }, token);

    const kubeconfig = join(work, "kubeconfig");
    const manifestFile = join(work, "ingress.json");
    await writeFile(kubeconfig, kubeconfigYaml(server, token));
    await writeFile(manifestFile, JSON.stringify(manifest));
    const env = { ...process.env, KUBECONFIG: "" };
    const k = (args: string[]) =>
      run(kubectl, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(work, "kube-cache")}`, "--request-timeout=20s", ...args], env);

    const servicePath = kb.servicePath(namespace, serviceName);
    const ingressPath = kb.ingressPath(namespace, target.ingress.name);
    const ops: { op: string; ours: () => Promise<unknown>; kubectl: () => Promise<unknown>; reset?: () => void }[] = [
      {
        op: "patch Service (merge patch to ClusterIP)",
        reset: resetService,
        ours: async () => {
          const patched = await kube.mergePatch<{ spec?: { type?: string } }>("patch Service", servicePath, patch, kb.FIELD_MANAGER);
          if (patched.spec?.type !== "ClusterIP") throw new Error(`patch left the Service as ${patched.spec?.type}`);
        },
        kubectl: () =>
          k(["patch", "service", serviceName, "-n", namespace, "--type=merge", "-p", JSON.stringify(patch), `--field-manager=${kb.FIELD_MANAGER}`, "-o", "name"]),
      },
      {
        op: "apply Ingress (server-side apply)",
        ours: () => kube.apply("apply Ingress", ingressPath, manifest, { fieldManager: kb.FIELD_MANAGER, force: true }),
        kubectl: () => k(["apply", "--server-side", "--validate=false", "--force-conflicts", `--field-manager=${kb.FIELD_MANAGER}`, "-f", manifestFile, "-o", "name"]),
      },
      {
        op: "read Ingress status (GET)",
        ours: () => kube.get("read Ingress", ingressPath),
        kubectl: () => k(["get", "ingress", target.ingress.name, "-n", namespace, "-o", "json"]),
      },
    ];

    const operations: KubernetesOp[] = [];
    for (const op of ops) {
      const ours: number[] = [];
      const viaKubectl: number[] = [];
      // One untimed warm-up each: the warm container's connection / kubectl's discovery cache.
      for (let i = 0; i <= n; i++) {
        op.reset?.();
        const [a] = await timed(op.ours);
        op.reset?.();
        const [b] = await timed(op.kubectl);
        if (i > 0) {
          ours.push(a);
          viaKubectl.push(b);
        }
      }
      const oursMs = median(ours);
      const kubectlMs = median(viaKubectl);
      operations.push({ op: op.op, oursMs: round(oursMs, 2), kubectlMs: round(kubectlMs, 1), ratio: ratio(kubectlMs, oursMs) });
    }
    const oursMs = operations.reduce((s, o) => s + o.oursMs, 0);
    const kubectlMs = operations.reduce((s, o) => s + o.kubectlMs, 0);

    // Smoke: the three bundled handlers, as the workflow calls them.
    const logs: string[] = [];
    const connect = async () => kube;
    const smokeTarget: Target = { ...target, ingress: { ...target.ingress, name: "milvus-bench-step", host: "milvus-bench-step.milvus.io" } };
    resetService();
    const smoke = await quietly(logs, async () => {
      const applied = await kb.makeApplyIngress({ connect })({ target: smokeTarget, certificate: { arn: certificateArn } }, lambdaContext("apply-ingress"));
      // The controller publishes an address 100 ms into the poll: the bundled watch must return with it.
      const publish = setTimeout(() => {
        const ingress = server.get<Record<string, unknown>>("Ingress", namespace, smokeTarget.ingress.name);
        if (ingress) server.put({ ...ingress, status: { loadBalancer: { ingress: [{ hostname: "bench-alb.us-east-2.elb.amazonaws.com" }] } } });
      }, 100);
      const [pollMs, status] = await timed(() =>
        kb.makeGetIngressStatus({ connect, watchSeconds: 5 })({ target: smokeTarget, ingress: applied, maxPolls: 3 }, lambdaContext("get-ingress-status")),
      );
      clearTimeout(publish);
      const patched = await kb.makePatchService({ connect })({ target: smokeTarget }, lambdaContext("patch-service"));
      if (!status.ready || status.hostname === undefined) throw new Error(`bundled get-ingress-status saw no address: ${JSON.stringify(status)}`);
      if (!patched.changed || patched.type !== "ClusterIP") throw new Error(`bundled patch-service did not cut over: ${JSON.stringify(patched)}`);
      return {
        applyIngress: { changed: applied.changed },
        getIngressStatus: { ready: status.ready, hostname: status.hostname, watchReturnedMs: round(pollMs) },
        patchService: { previousType: patched.previousType, type: patched.type },
      };
    });
    kube.connection.agent.destroy();
    return { oursMs: round(oursMs, 2), kubectlMs: round(kubectlMs, 1), ratio: ratio(kubectlMs, oursMs), n, operations, smoke };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3-6. The sandbox: demo, a run with the address on the third poll, the 20-target renewal, the bundled verify

interface Recorder {
  functions: LocalFunctions;
  invocations: Invocation[];
  /** The latest event each function received. */
  lastEvent: Map<string, unknown>;
}

/** Thrown by every step once a run has used its time cap: the workflow fails fast instead of running on. */
class BenchTimeCap extends Error {
  constructor() {
    super("the benchmark's time cap for this run was reached");
    this.name = "BenchTimeCap";
  }
}

/** Wraps every local function to time its invocations (and to stop a run at `deadline`, performance.now()). */
function recording(functions: LocalFunctions, adjust?: (key: string, result: unknown) => unknown, deadline = Number.POSITIVE_INFINITY): Recorder {
  const invocations: Invocation[] = [];
  const lastEvent = new Map<string, unknown>();
  const wrapped = Object.fromEntries(
    Object.entries(functions).map(([key, fn]) => [
      key,
      async (event: unknown) => {
        const fnName = functionOfKey(key);
        if (performance.now() > deadline) throw new BenchTimeCap();
        lastEvent.set(fnName, event);
        const started = performance.now();
        try {
          const result = await fn(event);
          return adjust ? adjust(key, result) : result;
        } finally {
          invocations.push({ fn: fnName, ms: performance.now() - started });
        }
      },
    ]),
  ) as unknown as LocalFunctions;
  return { functions: wrapped, invocations, lastEvent };
}

interface SandboxFigures {
  demo: { wallMs: number; runMs: number; transitions: number; status: string };
  thirdPoll: { transitions: number; polls: number; invocations: Invocation[] };
  renewal20: {
    /** The median of RENEWAL_SAMPLES runs. */
    wallMs: number;
    singleTargetWallMs: number;
    samplesMs: number[];
    singleTargetSamplesMs: number[];
    ratio: number;
    status: string;
    error?: string;
    maxConcurrency: number;
    /** (before + waves × per-target) / (before + per-target), from the single-target run's invocation times. */
    independentLambdasRatio: number;
    transitions: number;
    singleTargetTransitions: number;
    /** CPU time of this (single-threaded) process during the run: ≈ wallMs means the sandbox was CPU-bound. */
    cpuMs: number;
    singleTargetCpuMs: number;
    retries: number;
    singleTargetRetries: number;
    verifyRetryMs: number;
    perFunction: Record<string, { count: number; medianMs: number }>;
    singleTargetPerFunction: Record<string, { count: number; medianMs: number }>;
    /** The 20-target renewal's invocations at the single-target run's durations (for the cost estimate). */
    scaledInvocations: Invocation[];
  };
  verifyBundle: Record<string, unknown>;
}

function mustSucceed(run: WorkflowRun, what: string, logs: string[]): WorkflowRun {
  if (run.status !== "SUCCEEDED") {
    for (const line of logs.filter((l) => l.includes("errorMessage")).slice(-3)) say(`   | ${line.replace(/\s+/g, " ").slice(0, 400)}`);
    throw new Error(`${what}: the workflow ended ${run.status}: ${run.error}: ${run.cause}`);
  }
  return run;
}

const TARGETS_IN_RENEWAL = 20;
/** Renewals of 1 and of 20 targets measured, alternated; the median run of each is reported. */
const RENEWAL_SAMPLES = 3;

/** The run with the median wall time (of an odd number of runs). */
function medianRun<R extends { ms: number }>(runs: R[]): R {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)] as R;
}
/** A renewal run still going after this long is stopped (its steps fail) and reported as not met. */
const RENEWAL_CAP_MS = 150_000;
/** Interval of the verify steps' EndpointNotReady retries in the renewal runs (the ASL says 10 s). */
const VERIFY_RETRY_MS = 1000;

/** Waits until the ALB simulator has published an address on every target's Ingress. */
async function untilPublished(sandbox: Sandbox, targets: readonly Target[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = targets.filter((t) => {
      const ingress = sandbox.kube.get<{ status?: { loadBalancer?: { ingress?: unknown[] } } }>("Ingress", t.namespace, t.ingress.name);
      return !ingress?.status?.loadBalancer?.ingress?.length;
    });
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`no address published for ${waiting.map((t) => t.ingress.name).join(", ")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function benchSandbox(verifyBundleFile: string | undefined): Promise<SandboxFigures> {
  say("== sandbox: demo, third-poll run, 20-target renewal");
  const logs: string[] = [];
  const demoStarted = performance.now();
  const { startSandbox } = await import("../sandbox");
  const { runWorkflow, lambdaContext, loadDefinition, allStates } = await import("../sandbox/workflow");
  const sandbox: Sandbox = await startSandbox();
  try {
    // -- the demo (cli/demo.ts): a certificate in Secrets Manager, one run of the real ASL with the real handlers
    const certificate = await sandbox.newCertificate();
    const secretArn = await sandbox.storeInSecret(certificate);
    const request = sandbox.request(secretArn);
    const demo = recording(sandbox.functions);
    const [runMs, demoRun] = await timed(() => quietly(logs, () => runWorkflow(request, demo.functions)));
    mustSucceed(demoRun, "demo", logs);
    const demoWallMs = performance.now() - demoStarted;
    say(`   demo: ${round(demoWallMs / 1000, 2)} s, ${demoRun.transitions} transitions`);
    const output = demoRun.output as { certificate?: { arn?: string } };
    const certificateArn = output.certificate?.arn;
    if (!certificateArn) throw new Error("the demo run's output names no certificate ARN");

    // -- the bundled verify-connection (grpc-js and protobufjs as deployed) through the ALB simulator, with the demo's last input
    let verifyBundle: Record<string, unknown> = { skipped: "no verify-connection bundle" };
    const verifyEvent = demo.lastEvent.get("verify-connection");
    if (verifyBundleFile && verifyEvent) {
      const bundled = (await import(pathToFileURL(verifyBundleFile).href)) as typeof import("../functions/verify-connection/handler");
      const handler = bundled.makeHandler({
        resolve: async (hostname) => {
          const found = sandbox.alb.resolve(hostname);
          if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
          return found;
        },
        timeoutMs: 5_000,
      });
      const cpu = process.cpuUsage();
      const [ms, result] = await timed(() => quietly(logs, () => handler(verifyEvent as never, lambdaContext("verify-connection"))));
      const { user, system } = process.cpuUsage(cpu);
      // CPU of the whole process while it ran (the ALB simulator and the Milvus stand-in included): an upper bound.
      verifyBundle = { ...(result as object), ms: round(ms), cpuMs: round((user + system) / 1000) };
      say(`   bundled verify-connection: Milvus ${(result as { milvusVersion?: string }).milvusVersion} through the ALB in ${round(ms)} ms, ${round((user + system) / 1000)} ms CPU`);
    }

    // -- the same request again, with the address withheld from the first two polls: the reference run
    const thirdPoll = recording(sandbox.functions, (key, result) => {
      if (functionOfKey(key) !== "get-ingress-status") return result;
      const status = result as { polls: number; ready: boolean };
      return status.polls < 3 ? { ...status, ready: false, hostname: undefined, nextWaitSeconds: nextWaitSeconds(status.polls) } : result;
    });
    const thirdPollRun = mustSucceed(await quietly(logs, () => runWorkflow(request, thirdPoll.functions)), "third-poll run", logs);
    const polls = thirdPoll.invocations.filter((i) => i.fn === "get-ingress-status").length;

    // -- renewal of one certificate serving 20 Milvus endpoints (see docs/benchmark.md for the set-up)
    const basePlan = await quietly(logs, () => sandbox.functions.ResolveRequestFunctionArn({ request, executionArn: "bench" }));
    const baseTarget = (basePlan as { targets: Target[] }).targets[0];
    if (!baseTarget) throw new Error("resolve-request planned no target");
    const targets = expandTargets(baseTarget, TARGETS_IN_RENEWAL);
    const hosts = targets.map((t) => t.ingress.host);
    // Set-up: the other 19 endpoints are deployed already: their Services (copies of the Helm chart's), cut over
    // to ClusterIP and each with its Ingress applied by the real step functions, with an address published.
    const setupStarted = performance.now();
    const others = targets.slice(1);
    for (const target of others) sandbox.addMilvusService(target.service.name);
    await quietly(logs, () =>
      Promise.all(
        others.map(async (target) => {
          await sandbox.functions.ApplyIngressFunctionArn({ target, certificate: { arn: certificateArn } });
          await sandbox.functions.PatchServiceFunctionArn({ target });
        }),
      ),
    );
    await untilPublished(sandbox, others);
    say(`   set-up: ${others.length} more endpoints deployed in ${round((performance.now() - setupStarted) / 1000, 2)} s`);

    // Retries on EndpointNotReady (a Connect that timed out on the busy sandbox, or the ALB still serving the
    // previous certificate) wait VERIFY_RETRY_MS rather than 10 ms, in both runs: the ASL's own interval is 10 s.
    const states = loadDefinition().States;
    const retryMs = Object.fromEntries(
      allStates(states)
        .filter(([, state]) => JSON.stringify(state.Retry ?? []).includes("EndpointNotReady"))
        .map(([name]) => [name, VERIFY_RETRY_MS]),
    );
    const renewalSecret = "milvus-l7/bench-renewal";
    const renew = async (count: number) => {
      const renewalSecretArn = await sandbox.storeInSecret(await sandbox.newCertificate(hosts), renewalSecret);
      const recorder = recording(
        {
          ...sandbox.functions,
          // The plan a renewal of this certificate makes: every target that serves it.
          ResolveRequestFunctionArn: async (event: unknown) => {
            const plan = (await sandbox.functions.ResolveRequestFunctionArn(event)) as { targets: Target[] };
            return { ...plan, targets: targets.slice(0, count) };
          },
        },
        undefined,
        performance.now() + RENEWAL_CAP_MS,
      );
      const cpu = process.cpuUsage();
      const [ms, result] = await timed(() =>
        quietly(logs, () => runWorkflow(sandbox.request(renewalSecretArn, certificateArn), recorder.functions, { retryMs })),
      );
      const used = process.cpuUsage(cpu);
      const retries = result.events.filter((e) => e.type === "StateRetried").length;
      const entered = result.events.flatMap((e) => (e.type === "StateEntered" ? [{ index: e.index }] : []));
      say(
        `   renewal of ${count}: ${result.status} in ${round(ms / 1000, 2)} s, ${retries} retries` +
          (result.status === "SUCCEEDED" ? "" : ` — ${result.error}: ${result.cause}`),
      );
      return { ms, cpuMs: (used.user + used.system) / 1000, run: result, retries, entered, invocations: recorder.invocations };
    };
    // Several of each, alternated, so neither one run's luck (a verification that reaches an ALB before it serves
    // the re-imported certificate waits VERIFY_RETRY_MS) nor a busy moment of the shared machine decides the ratio.
    const singles: Awaited<ReturnType<typeof renew>>[] = [];
    const twenties: Awaited<ReturnType<typeof renew>>[] = [];
    for (let i = 0; i < RENEWAL_SAMPLES; i++) {
      singles.push(await renew(1));
      twenties.push(await renew(TARGETS_IN_RENEWAL));
    }
    const single = medianRun(singles);
    const twenty = twenties.find((r) => r.run.status !== "SUCCEEDED") ?? medianRun(twenties);
    if (single.run.status !== "SUCCEEDED") throw new Error(`the single-target renewal failed: ${single.run.error}: ${single.run.cause}`);
    const map = Object.values(states).find((s) => s.Type === "Map") as { MaxConcurrency?: number } | undefined;
    const maxConcurrency = map?.MaxConcurrency ?? 0;
    // For comparison: the same two runs if every invocation had its own Lambda (no shared CPU, as in AWS).
    const outsideMap = new Set(
      Object.values(states).flatMap((s) => (s.Type === "Task" && s.Resource ? [functionOfKey(s.Resource.replace(/^\$\{|\}$/g, ""))] : [])),
    );
    const before = single.invocations.filter((i) => outsideMap.has(i.fn)).reduce((t, i) => t + i.ms, 0);
    const perTarget = single.invocations.filter((i) => !outsideMap.has(i.fn)).reduce((t, i) => t + i.ms, 0);
    const modelRatio = independentLambdasRatio(before, perTarget, TARGETS_IN_RENEWAL, maxConcurrency);

    return {
      demo: { wallMs: round(demoWallMs), runMs: round(runMs), transitions: demoRun.transitions, status: demoRun.status },
      thirdPoll: { transitions: thirdPollRun.transitions, polls, invocations: thirdPoll.invocations },
      renewal20: {
        wallMs: round(twenty.ms),
        singleTargetWallMs: round(single.ms),
        samplesMs: twenties.map((r) => round(r.ms)),
        singleTargetSamplesMs: singles.map((r) => round(r.ms)),
        ratio: ratio(twenty.ms, single.ms),
        status: twenty.run.status,
        ...(twenty.run.status === "SUCCEEDED" ? {} : { error: `${twenty.run.error}: ${twenty.run.cause}` }),
        maxConcurrency,
        independentLambdasRatio: modelRatio,
        transitions: twenty.run.status === "SUCCEEDED" ? twenty.run.transitions : scaleTransitions(single.entered, TARGETS_IN_RENEWAL),
        singleTargetTransitions: single.run.transitions,
        cpuMs: round(twenty.cpuMs),
        singleTargetCpuMs: round(single.cpuMs),
        retries: twenty.retries,
        singleTargetRetries: single.retries,
        verifyRetryMs: VERIFY_RETRY_MS,
        perFunction: summariseInvocations(twenty.invocations),
        singleTargetPerFunction: summariseInvocations(single.invocations),
        scaledInvocations: scaleInvocations(single.invocations, outsideMap, TARGETS_IN_RENEWAL),
      },
      verifyBundle,
    };
  } finally {
    await sandbox.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes("--json");
  const runs = flag(argv, "--runs", 5);
  const n = flag(argv, "--n", 10);
  // Only the JSON result may reach stdout: anything else that writes there (a library, a handler's logger)
  // goes to stderr.
  const stdout = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  process.env.POWERTOOLS_DEV ??= "true";
  process.env.AWS_REGION ??= "us-east-2";
  // On Node 20 the AWS SDK warns on every client that it will need Node 22 (Lambda runs nodejs22.x): drop that
  // one, print the others.
  process.removeAllListeners("warning");
  process.on("warning", (w) => {
    if (!`${w.name} ${w.message}`.includes("NodeVersionSupportWarning")) say(`${w.name}: ${w.message}`);
  });

  const started = performance.now();
  const loadBefore = loadavg();
  const work = await mkdtemp(join(tmpdir(), "milvus-l7-bench-"));
  try {
    const phases: Record<string, number> = {};
    const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const [ms, value] = await timed(fn);
      phases[name] = round(ms / 1000, 1);
      say(`   (${name}: ${phases[name]} s)`);
      return value;
    };
    const bundles = await phase("bundles", () => benchBundles(work, runs));
    const kubernetes = await phase("kubernetes", () => benchKubernetes(work, n));
    const sandbox = await phase("sandbox", () => benchSandbox(bundles.files.get("verify-connection")));

    // -- costs
    let infraSource = "";
    try {
      const files = (await readdir(INFRA, { recursive: true })).filter((f) => f.endsWith(".ts"));
      infraSource = (await Promise.all(files.map((f) => readFile(join(INFRA, f), "utf8")))).join("\n");
    } catch {
      // no stack yet: every function at DEFAULT_MEMORY_MB
    }
    const configured = memoryFromInfraSource(infraSource);
    const memoryAssumed = new Set<string>();
    const memoryMb = (fn: string) => {
      const mb = configured[fn];
      if (mb !== undefined) return mb;
      memoryAssumed.add(fn);
      return DEFAULT_MEMORY_MB;
    };
    const coldInit = new Map(bundles.figures.map((f) => [f.name, f.coldInitMs]));
    const coldInitMs = (fn: string) => coldInit.get(fn) ?? 0;
    // A poll that ends without an address held its watch for the deployed ADDRESS_WATCH_SECONDS.
    const heldWatch = (invocations: Invocation[], polls: number) => {
      let seen = 0;
      return invocations.map((i) =>
        i.fn === "get-ingress-status" && ++seen < polls ? { ...i, ms: i.ms + DEFAULT_WATCH_SECONDS * 1000 } : i,
      );
    };
    const single = estimateRunUsd({
      transitions: sandbox.thirdPoll.transitions,
      invocations: heldWatch(sandbox.thirdPoll.invocations, sandbox.thirdPoll.polls),
      memoryMb,
      coldInitMs,
      coldStarts: () => 1,
    });
    const r20 = sandbox.renewal20;
    const renewal = estimateRunUsd({
      transitions: r20.transitions,
      invocations: r20.scaledInvocations,
      memoryMb,
      coldInitMs,
      coldStarts: (fn) => Math.min(r20.scaledInvocations.filter((i) => i.fn === fn).length, Math.max(1, r20.maxConcurrency)),
    });

    // -- polling
    const budgetPolls = maxPollsFor(TWENTY_MINUTES, DEFAULT_WATCH_SECONDS);
    const longestWait = longestWaitSeconds(budgetPolls);
    const readMs = kubernetes.operations.find((o) => o.op.startsWith("read"))?.oursMs ?? 0;
    const pollStartLatencySeconds = (coldInitMs("get-ingress-status") + readMs) / 1000;
    const polling = {
      maxDetectSeconds: round(maxDetectSeconds(longestWait, pollStartLatencySeconds), 2),
      pollsIn20Min: pollsWithin(TWENTY_MINUTES, DEFAULT_WATCH_SECONDS),
      longestWaitSeconds: longestWait,
      pollStartLatencySeconds: round(pollStartLatencySeconds, 3),
      watchSeconds: DEFAULT_WATCH_SECONDS,
      waitCapSeconds: WAIT_CAP_SECONDS,
      maxPollsBudget: budgetPolls,
    };

    const workflow = {
      transitions: sandbox.thirdPoll.transitions,
      usdPerRun: round(single.usd, 6),
      usdPerRenewal20: round(renewal.usd, 6),
      transitionsRenewal20: r20.transitions,
      perRun: { ...roundCost(single), polls: sandbox.thirdPoll.polls },
      perRenewal20: roundCost(renewal),
      memoryMb: Object.fromEntries(bundles.figures.map((f) => [f.name, memoryMb(f.name)])),
      memoryAssumedMb: DEFAULT_MEMORY_MB,
      memoryAssumedFor: [...memoryAssumed].sort(),
    };

    const checks: Check[] = [
      ...bundles.figures.flatMap((f) => [
        { target: `${f.name} bytes`, value: f.bytes, limit: `≤ ${f.limits.bytes / 1e6} MB`, met: f.met.bytes },
        { target: `${f.name} coldInitMs`, value: f.coldInitMs, limit: `≤ ${f.limits.coldInitMs} ms`, met: f.met.coldInit },
      ]),
      { target: "kubernetes ratio", value: kubernetes.ratio, limit: `≥ ${TARGETS.kubernetesRatio}×`, met: kubernetes.ratio >= TARGETS.kubernetesRatio },
      { target: "transitions (address on 3rd poll)", value: workflow.transitions, limit: `≤ ${TARGETS.transitions}`, met: workflow.transitions <= TARGETS.transitions },
      { target: "polling maxDetectSeconds", value: polling.maxDetectSeconds, limit: `≤ ${TARGETS.maxDetectSeconds} s`, met: polling.maxDetectSeconds <= TARGETS.maxDetectSeconds },
      { target: "polling pollsIn20Min", value: polling.pollsIn20Min, limit: `≤ ${TARGETS.pollsIn20Min}`, met: polling.pollsIn20Min <= TARGETS.pollsIn20Min },
      {
        target: "renewal20 ratio",
        value: r20.ratio,
        limit: `≤ ${TARGETS.renewal20Ratio}×`,
        met: r20.status === "SUCCEEDED" && r20.ratio <= TARGETS.renewal20Ratio,
      },
    ];

    const { scaledInvocations: _scaled, ...renewal20 } = r20;
    const result = {
      generatedAt: new Date().toISOString(),
      machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, loadAvgBefore: loadBefore.map((l) => round(l, 2)), loadAvgAfter: loadavg().map((l) => round(l, 2)) },
      options: { runs, n },
      functions: bundles.figures,
      references: bundles.references,
      kubernetes,
      demo: sandbox.demo,
      workflow,
      polling,
      renewal20,
      verification: { verifyConnectionBundle: sandbox.verifyBundle, kubernetesBundle: kubernetes.smoke },
      targets: checks,
      phasesSeconds: phases,
      elapsedMs: 0,
    };
    result.elapsedMs = round(performance.now() - started);

    printReport(result);
    if (json) stdout(`${JSON.stringify(result)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function roundCost(c: CostEstimate) {
  return { usd: round(c.usd, 6), transitionsUsd: round(c.transitionsUsd, 6), lambdaUsd: round(c.lambdaUsd, 6), invocations: c.invocations, gbSeconds: round(c.gbSeconds, 3) };
}

function printReport(r: {
  machine: { loadAvgBefore: number[]; cpus: number; node: string };
  functions: FunctionFigures[];
  references: ReferenceFigures[];
  kubernetes: KubernetesFigures;
  demo: SandboxFigures["demo"];
  workflow: { transitions: number; usdPerRun: number; usdPerRenewal20: number; transitionsRenewal20: number; memoryAssumedFor: string[] };
  polling: { maxDetectSeconds: number; pollsIn20Min: number; longestWaitSeconds: number; pollStartLatencySeconds: number };
  renewal20: Omit<SandboxFigures["renewal20"], "scaledInvocations">;
  targets: Check[];
  elapsedMs: number;
}): void {
  const mb = (b: number) => (b / 1e6).toFixed(2);
  say("");
  say(`milvus-l7 benchmark — node ${r.machine.node}, ${r.machine.cpus} CPUs, load ${r.machine.loadAvgBefore.join(" ")} at start`);
  say("");
  say(
    formatTable([
      ["function", "MB", "init MB", "baseline MB", "×smaller", "init ms", "baseline ms", "×faster", "init CPU ms", "+srcmaps ms", "met"],
      ...r.functions.map((f) => [
        f.name,
        mb(f.bytes),
        mb(f.initBytes),
        mb(f.baselineBytes),
        f.bytesRatio.toFixed(2),
        f.coldInitMs.toFixed(0),
        f.baselineColdInitMs.toFixed(0),
        f.coldInitRatio.toFixed(2),
        f.coldInitCpuMs.toFixed(0),
        f.coldInitSourceMapsMs.toFixed(0),
        `${f.met.bytes ? "size ✓" : "size ✗"} ${f.met.coldInit ? "init ✓" : "init ✗"}`,
      ]),
      ...r.references.map((f) => [f.name, mb(f.bytes), mb(f.initBytes), "", "", f.coldInitMs.toFixed(0), "", "", f.coldInitCpuMs.toFixed(0), "", "reference"]),
    ]),
  );
  say("");
  say(
    formatTable([
      ["Kubernetes operation", "ours ms", "kubectl ms", "×faster"],
      ...r.kubernetes.operations.map((o) => [o.op, o.oursMs.toFixed(2), o.kubectlMs.toFixed(1), o.ratio.toFixed(1)]),
      ["all three", r.kubernetes.oursMs.toFixed(2), r.kubernetes.kubectlMs.toFixed(1), r.kubernetes.ratio.toFixed(1)],
    ]),
  );
  say("");
  say(`demo:       ${(r.demo.wallMs / 1000).toFixed(2)} s wall (sandbox start + one run), ${r.demo.transitions} transitions`);
  say(
    `workflow:   ${r.workflow.transitions} transitions (address on 3rd poll) ≈ $${r.workflow.usdPerRun.toFixed(6)}/run; ` +
      `20-target renewal ${r.workflow.transitionsRenewal20} transitions ≈ $${r.workflow.usdPerRenewal20.toFixed(6)}` +
      (r.workflow.memoryAssumedFor.length ? ` (memory assumed ${DEFAULT_MEMORY_MB} MB for ${r.workflow.memoryAssumedFor.join(", ")})` : ""),
  );
  say(
    `polling:    address noticed within ${r.polling.maxDetectSeconds} s (Wait ${r.polling.longestWaitSeconds} s + poll start ${r.polling.pollStartLatencySeconds} s), ` +
      `${r.polling.pollsIn20Min} polls in 20 min`,
  );
  say(
    `renewal20:  ${(r.renewal20.wallMs / 1000).toFixed(2)} s for 20 targets vs ${(r.renewal20.singleTargetWallMs / 1000).toFixed(2)} s for 1, ` +
      `medians of [${r.renewal20.samplesMs.map((ms) => (ms / 1000).toFixed(2)).join(", ")}] and [${r.renewal20.singleTargetSamplesMs.map((ms) => (ms / 1000).toFixed(2)).join(", ")}] s ` +
      `(${r.renewal20.ratio}×, MaxConcurrency ${r.renewal20.maxConcurrency}; ${r.renewal20.independentLambdasRatio}× if each invocation had its own Lambda)`,
  );
  const verify = (p: Record<string, { medianMs: number }>) => p["verify-connection"]?.medianMs.toFixed(0) ?? "?";
  say(
    `            the bench process used ${(r.renewal20.cpuMs / 1000).toFixed(1)} s CPU in ${(r.renewal20.wallMs / 1000).toFixed(1)} s for 20 targets ` +
      `(${(r.renewal20.singleTargetCpuMs / 1000).toFixed(1)} s in ${(r.renewal20.singleTargetWallMs / 1000).toFixed(1)} s for 1); ` +
      `verify-connection median ${verify(r.renewal20.perFunction)} ms vs ${verify(r.renewal20.singleTargetPerFunction)} ms; ` +
      `${r.renewal20.retries} retries vs ${r.renewal20.singleTargetRetries}`,
  );
  say("");
  const missed = r.targets.filter((t) => !t.met);
  say(`targets: ${r.targets.length - missed.length} of ${r.targets.length} met${missed.length ? "; not met:" : ""}`);
  for (const t of missed) say(`  ✗ ${t.target}: ${t.value} (target ${t.limit})`);
  say(`(bench took ${(r.elapsedMs / 1000).toFixed(0)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}

// Bundle sizes and cold inits: every function bundled as deployed (infra/bundle.ts's BUNDLE_OPTIONS) and with a
// naive baseline, each imported in fresh `node` processes, interleaved with reference modules that tell which part
// of a cold init is ours.
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { BASELINE_OPTIONS, bundleFunctions, bundleSource, bytesByPackage, functionNames } from "../../infra/bundle";
import { median, ratio, round } from "./math";
import { type Sample, coldImport, say } from "./measure";
import { TARGETS } from "./targets";

/** Samples of the extra source-map variant (informational, not a target). */
const SOURCE_MAP_RUNS = 2;

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

export interface ReferenceFigures {
  name: string;
  bytes: number;
  initBytes: number;
  coldInitMs: number;
  coldInitCpuMs: number;
}

export interface BundleSet {
  figures: FunctionFigures[];
  references: ReferenceFigures[];
  /** Production bundle per function. */
  files: Map<string, string>;
}

export async function benchBundles(work: string, runs: number): Promise<BundleSet> {
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

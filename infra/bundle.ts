// How every milvus-l7 Lambda is bundled: the ONE definition of the esbuild options, used by the benchmark
// (scripts/bench.ts) and by the CDK stack (infra/bundling.ts builds each function's asset with functionBuild()),
// so what is measured is what is deployed. Also a naive baseline to measure against, and metafile helpers that
// say which packages make a bundle big.
//
//   npx tsx infra/bundle.ts [--out DIR] [function …]   bundle (default DIR: $TMPDIR/milvus-l7-bundles),
//                                                        print bytes and the biggest packages
import { existsSync, readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BuildOptions, Metafile } from "esbuild";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Every Lambda: each folder of functions/ with a handler.ts (the workflow steps and the HTTP API), in a stable
 * order. Found on disk, so a new step is bundled and benchmarked without touching this file.
 */
export function functionNames(root: string = REPO_ROOT): string[] {
  const dir = join(root, "functions");
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "lib" && existsSync(join(dir, d.name, "handler.ts")))
    .map((d) => d.name)
    .sort();
}

export const entryPoint = (name: string): string => join(REPO_ROOT, "functions", name, "handler.ts");

/**
 * esbuild emits ESM (`.mjs`); bundled CommonJS dependencies (@grpc/grpc-js in verify-connection) still call
 * `require` for Node built-ins, which ESM does not define, so the banner (on the entry and on every chunk)
 * creates one. The alias avoids clashing with any bundled `createRequire`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __milvusL7CreateRequire } from 'node:module'; const require = __milvusL7CreateRequire(import.meta.url);";

/**
 * The deployment bundle: ESM for nodejs22.x, minified, the ESM build of each dependency where it has one (`module`
 * first: the AWS SDK's dist-es tree-shakes, its CommonJS build does not), the AWS SDK v3 bundled (no externals),
 * and a source map without sources beside each file. The maps are not loaded at run time — the stack does not set
 * --enable-source-maps, which made every cold start 20-40 % slower — but let a stack trace be read offline.
 *
 * Code splitting: the entry is `index.mjs` (handler `index.handler`), and what it only reaches through `import()`
 * goes to chunks beside it that load when first called. In the AWS SDK that is the default credential chain's
 * providers (SSO, INI files, process, web identity, ECS/IMDS, STS …), which Lambda never reaches because the
 * environment provider answers first; in one file they were all compiled at every cold start. Our handlers do
 * the same for a client only a rare path needs (the API's registry list, target-lease's check on a held lease).
 *
 * No keepNames: Step Functions matches ErrorEquals against `error.name`, and every error we throw sets a literal
 * name (functions/lib/errors.ts), as do the AWS SDK's exceptions; nothing of ours reads a function's or class's
 * `name`. keepNames wrapped every function and class in a `__name(…)` call that runs at load.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  mainFields: ["module", "main"],
  minify: true,
  splitting: true,
  outExtension: { ".js": ".mjs" },
  sourcemap: true,
  sourcesContent: false,
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: "warning",
} satisfies BuildOptions;

/**
 * The naive baseline: what `esbuild --bundle --platform=node --format=esm --target=node22` gives with no
 * choices made — one file, not minified, esbuild's default main fields for node (`main` before `module`, so the
 * CommonJS builds of the AWS SDK), no code splitting, no source map. Only the require banner, without which the
 * CommonJS dependencies cannot load in ESM at all, and the `.mjs` extension, without which Node would not load
 * it as ESM.
 */
export const BASELINE_OPTIONS = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  outExtension: { ".js": ".mjs" },
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: "error",
} satisfies BuildOptions;

/**
 * The complete esbuild options for one Lambda's asset: its handler as `<outdir>/index.mjs` and the chunks it may
 * load beside it. The stack's local bundling (infra/bundling.ts) and the benchmark both build with this.
 */
export function functionBuild(name: string, outdir: string, options: BuildOptions = BUNDLE_OPTIONS): BuildOptions & { metafile: true } {
  return { ...options, entryPoints: { index: entryPoint(name) }, outdir, absWorkingDir: REPO_ROOT, metafile: true };
}

export interface Bundle {
  /** The handler module, `<dir>/index.mjs`. */
  file: string;
  /** Everything a deployment of this bundle holds: the entry and every chunk it may load (not the source maps). */
  files: string[];
  /** JavaScript bytes deployed: the entry and all its chunks. */
  bytes: number;
  /** JavaScript bytes a cold start loads: the entry and the chunks it imports statically, transitively. */
  initBytes: number;
  metafile: Metafile;
}

/** Bundles functions/<name>/handler.ts into `<outdir>/index.mjs` and its chunks. */
export async function bundleFunction(name: string, outdir: string, options: BuildOptions = BUNDLE_OPTIONS): Promise<Bundle> {
  const esbuild = await import("esbuild");
  await mkdir(outdir, { recursive: true });
  const { metafile } = await esbuild.build(functionBuild(name, outdir, options));
  return bundleOf(metafile, outdir);
}

/**
 * Bundles each function into `<outdir>/<name>/`, one esbuild build per function (concurrently), so each
 * directory holds exactly that function's code and chunks: its asset.
 */
export async function bundleFunctions(names: readonly string[], outdir: string, options: BuildOptions = BUNDLE_OPTIONS): Promise<Map<string, Bundle>> {
  const bundles = await Promise.all(names.map((name) => bundleFunction(name, join(outdir, name), options)));
  return new Map(names.map((name, i) => [name, bundles[i] as Bundle]));
}

/** Bundles a module given as source (resolved from the repository root), e.g. a re-export of several handlers. */
export async function bundleSource(contents: string, outdir: string, options: BuildOptions = BUNDLE_OPTIONS): Promise<Bundle> {
  const esbuild = await import("esbuild");
  await mkdir(outdir, { recursive: true });
  const { metafile } = await esbuild.build({
    ...options,
    stdin: { contents, resolveDir: REPO_ROOT, loader: "ts", sourcefile: "entry.ts" },
    entryNames: "index",
    outdir,
    absWorkingDir: REPO_ROOT,
    metafile: true,
  });
  return bundleOf(metafile, outdir);
}

/** Sizes of the build in `outdir` whose entry is `index.mjs` (metafile paths are relative to the repository). */
export function bundleOf(metafile: Metafile, outdir: string): Bundle {
  const file = join(outdir, "index.mjs");
  const outputs = Object.entries(metafile.outputs).filter(([path]) => path.endsWith(".mjs"));
  const entry = outputs.find(([path]) => resolve(REPO_ROOT, path) === resolve(file));
  if (!entry) throw new Error(`esbuild metafile has no output for ${file}`);
  return {
    file,
    files: outputs.map(([path]) => resolve(REPO_ROOT, path)),
    bytes: outputs.reduce((sum, [, output]) => sum + output.bytes, 0),
    initBytes: initPath(metafile, entry[0]).reduce((sum, path) => sum + (metafile.outputs[path]?.bytes ?? 0), 0),
    metafile,
  };
}

/** The outputs a cold start loads: `entry` and what it imports statically, transitively (not `import()`). */
export function initPath(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const pending = [entry];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path)) continue;
    seen.add(path);
    for (const i of metafile.outputs[path]?.imports ?? []) {
      if (i.kind === "import-statement" && !i.external) pending.push(i.path);
    }
  }
  return [...seen];
}

/** The npm package an esbuild input path belongs to; our own sources are named as such. */
export function packageOf(inputPath: string): string {
  const at = inputPath.lastIndexOf("node_modules/");
  if (at < 0) return "(milvus-l7)";
  const [first, second] = inputPath.slice(at + "node_modules/".length).split("/");
  return first?.startsWith("@") && second ? `${first}/${second}` : (first ?? inputPath);
}

/** Output bytes per package, biggest first. */
export function bytesByPackage(metafile: Metafile): { package: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()].map(([name, bytes]) => ({ package: name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

async function main(argv: string[]): Promise<void> {
  const all = functionNames();
  let out = join(tmpdir(), "milvus-l7-bundles");
  const selected: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--out") out = argv[++i] ?? out;
    else if (all.includes(arg)) selected.push(arg);
    else throw new Error(`unknown argument ${arg}: expected --out DIR or one of ${all.join(", ")}`);
  }
  const bundles = await bundleFunctions(selected.length ? selected : all, out);
  for (const [name, bundle] of bundles) {
    const top = bytesByPackage(bundle.metafile)
      .slice(0, 6)
      .map((p) => `${p.package} ${(p.bytes / 1024).toFixed(0)} KB`)
      .join(", ");
    const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
    process.stdout.write(
      `${name.padEnd(20)} ${mb(bundle.bytes)} MB in ${bundle.files.length} files, ${mb(bundle.initBytes)} MB loaded at init  ${bundle.file}\n${"".padEnd(20)} ${top}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}

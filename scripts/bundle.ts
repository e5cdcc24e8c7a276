// How every milvus-l7 Lambda is bundled: the ONE definition of the esbuild options, used by the benchmark
// (scripts/bench.ts) and by the CDK stack (infra/bundling.ts translates them into NodejsFunction `bundling`), so
// what is measured is what is deployed. Also a naive baseline to measure against, and metafile helpers that say
// which packages make a bundle big.
//
//   npx tsx scripts/bundle.ts [--out DIR] [function …]   bundle (default DIR: $TMPDIR/milvus-l7-bundles),
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
 * esbuild emits ESM (`index.mjs`); bundled CommonJS dependencies still call `require` for Node built-ins, which
 * ESM does not define, so the banner creates one. The alias avoids clashing with any bundled `createRequire`.
 * (Same text as infra/constructs/workflow-functions.ts ESM_REQUIRE_BANNER; the stack should import this one.)
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __milvusL7CreateRequire } from 'node:module'; const require = __milvusL7CreateRequire(import.meta.url);";

/**
 * An empty CommonJS module. A `data:` URL, so an alias needs no stub file and works the same from the esbuild
 * API and its CLI (`--alias:pkg=data:…`, which is what NodejsFunction's `esbuildArgs` produce; the output is
 * byte-identical). Named imports of it are `undefined`: fine for code that only runs on a path our Lambdas never
 * take.
 */
export const EMPTY_MODULE = "data:text/javascript,module.exports={}";

/**
 * Packages replaced by EMPTY_MODULE in every bundle, each with the reason it is never used at run time. Each is
 * only referenced inside functions for features milvus-l7 does not use; none is touched while a module loads.
 * The benchmark proves it: it loads every bundle, runs the Kubernetes steps from a bundle against the
 * apiserver stand-in, and runs the bundled verify-connection (Milvus client) through the ALB simulator.
 */
export const STUBBED_PACKAGES: Readonly<Record<string, string>> = {
  // Milvus SDK: its root module re-exports the bulk writer, whose ParquetFormatter requires parquetjs (which
  // pulls @aws-sdk/client-s3, thrift, bson, ws …). A connection check never writes Parquet files.
  "@shanghaikid/parquetjs": "Milvus SDK BulkWriter/ParquetFormatter only (pulls @aws-sdk/client-s3, thrift, bson, ws)",
  // node-fetch v2 (used by @kubernetes/client-node) takes `Url.URL || whatwgUrl.URL`: Node always has URL.
  "whatwg-url": "node-fetch v2 fallback for runtimes without a global URL (pulls tr46's 250 KB Unicode table)",
  // @kubernetes/client-node features milvus-l7 does not use (our kubeconfig is a token user, no proxy):
  "socks-proxy-agent": "client-node: a kubeconfig cluster `proxy-url` with socks:// (pulls socks, ip-address, smart-buffer)",
  "openid-client": "client-node: the `oidc` auth provider",
  rfc4648: "client-node: the `oidc` auth provider",
  "jsonpath-plus": "client-node: the `azure` and `gcp` auth providers",
  "isomorphic-ws": "client-node: exec/attach/port-forward WebSockets (pulls ws)",
  "tar-fs": "client-node: `cp` (pulls tar-stream, streamx)",
  "stream-buffers": "client-node: `cp`",
};

export const BUNDLE_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.keys(STUBBED_PACKAGES).map((name) => [name, EMPTY_MODULE]),
);

/**
 * The deployment bundle: ESM for nodejs22.x, minified with names kept (Step Functions matches ErrorEquals
 * against `error.name`), the ESM build of each dependency where it has one (`module` first: the AWS SDK's
 * dist-es tree-shakes, its CommonJS build does not), the AWS SDK v3 bundled (no externals), the unused packages
 * above stubbed, and an external source map without sources (as the stack deploys it).
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  mainFields: ["module", "main"],
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  banner: { js: ESM_REQUIRE_BANNER },
  alias: { ...BUNDLE_ALIASES },
  logLevel: "warning",
} satisfies BuildOptions;

/**
 * The naive baseline: what `esbuild --bundle --platform=node --format=esm --target=node22` gives with no
 * choices made — not minified, esbuild's default main fields for node (`main` before `module`, so the
 * CommonJS builds of the AWS SDK), nothing stubbed, no source map. Only the require banner, without which
 * the CommonJS dependencies cannot load in ESM at all.
 */
export const BASELINE_OPTIONS = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: "error",
} satisfies BuildOptions;

/**
 * NodejsFunction `bundling.esbuildArgs` that apply BUNDLE_ALIASES (CDK renders `{"--alias": ["a=b"]}` as
 * `--alias:a=b`, one argument each, without a shell): what infra/bundling.ts must produce from BUNDLE_OPTIONS.
 */
export const CDK_ESBUILD_ARGS: { "--alias": string[] } = {
  "--alias": Object.entries(BUNDLE_ALIASES).map(([name, replacement]) => `${name}=${replacement}`),
};

export interface Bundle {
  /** The output module (`<outdir>/index.mjs`). */
  file: string;
  bytes: number;
  metafile: Metafile;
}

/** Bundles functions/<name>/handler.ts into `<outdir>/index.mjs`. */
export async function bundleFunction(name: string, outdir: string, options: BuildOptions = BUNDLE_OPTIONS): Promise<Bundle> {
  return bundleEntry({ entryPoints: [entryPoint(name)] }, outdir, options);
}

/**
 * Bundles several functions in one esbuild run (parsing shared dependencies once) into `<outdir>/<name>/index.mjs`.
 * Without code splitting every output is self-contained: the same bytes as bundling each function alone.
 */
export async function bundleFunctions(names: readonly string[], outdir: string, options: BuildOptions = BUNDLE_OPTIONS): Promise<Map<string, Bundle>> {
  const esbuild = await import("esbuild");
  await mkdir(outdir, { recursive: true });
  const result = await esbuild.build({
    ...options,
    entryPoints: Object.fromEntries(names.map((name) => [`${name}/index`, entryPoint(name)])),
    outdir,
    outExtension: { ".js": ".mjs" },
    metafile: true,
    absWorkingDir: REPO_ROOT,
  });
  const bundles = new Map<string, Bundle>();
  for (const name of names) {
    const file = join(outdir, name, "index.mjs");
    const [key, output] = outputOf(result.metafile, file);
    bundles.set(name, { file, bytes: output.bytes, metafile: { inputs: {}, outputs: { [key]: output } } });
  }
  return bundles;
}

/** Bundles a module given as source (resolved from the repository root), e.g. a re-export of several handlers. */
export async function bundleSource(contents: string, outdir: string, options: BuildOptions = BUNDLE_OPTIONS): Promise<Bundle> {
  return bundleEntry({ stdin: { contents, resolveDir: REPO_ROOT, loader: "ts", sourcefile: "entry.ts" } }, outdir, options);
}

async function bundleEntry(entry: BuildOptions, outdir: string, options: BuildOptions): Promise<Bundle> {
  const esbuild = await import("esbuild");
  await mkdir(outdir, { recursive: true });
  const file = join(outdir, "index.mjs");
  const result = await esbuild.build({ ...options, ...entry, outfile: file, metafile: true, absWorkingDir: REPO_ROOT });
  const metafile = result.metafile;
  const [, output] = outputOf(metafile, file);
  return { file, bytes: output.bytes, metafile };
}

/** The metafile entry of the output written to `file` (metafile paths are relative to the working directory). */
function outputOf(metafile: Metafile, file: string): [string, Metafile["outputs"][string]] {
  const entry = Object.entries(metafile.outputs).find(([path]) => resolve(REPO_ROOT, path) === resolve(file));
  if (!entry) throw new Error(`esbuild metafile has no output for ${file}`);
  return entry;
}

/** The npm package an esbuild input path belongs to; our own sources and stubs are named as such. */
export function packageOf(inputPath: string): string {
  if (inputPath.startsWith("data:")) return "(stub)";
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
    process.stdout.write(`${name.padEnd(20)} ${(bundle.bytes / 1e6).toFixed(2)} MB  ${bundle.file}\n${"".padEnd(20)} ${top}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}

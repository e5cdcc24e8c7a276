// How the stack bundles every Lambda: the esbuild options of scripts/bundle.ts (the ONE definition, shared with
// the benchmark, so what is measured is what is deployed), translated into NodejsFunction `bundling` props.
//
// Every option there must have a translation here: an option this file does not know fails the synth with a
// message saying so, rather than the stack silently bundling differently from the benchmark.
import { LogLevel, type BundlingOptions, OutputFormat, SourceMapMode } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";
import { BUNDLE_OPTIONS } from "../scripts/bundle";

export { BUNDLE_OPTIONS, ESM_REQUIRE_BANNER, STUBBED_PACKAGES } from "../scripts/bundle";

const LOG_LEVELS: Record<string, LogLevel> = {
  verbose: LogLevel.VERBOSE,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warning: LogLevel.WARNING,
  error: LogLevel.ERROR,
  silent: LogLevel.SILENT,
};

const SOURCE_MAP_MODES: Record<string, SourceMapMode> = {
  linked: SourceMapMode.DEFAULT,
  external: SourceMapMode.EXTERNAL,
  inline: SourceMapMode.INLINE,
  both: SourceMapMode.BOTH,
};

export class BundlingOptionError extends Error {
  constructor(option: string, detail: string) {
    super(
      `scripts/bundle.ts BUNDLE_OPTIONS.${option} ${detail}: teach infra/bundling.ts to translate it into NodejsFunction bundling, so the stack bundles exactly as the benchmark measures`,
    );
    this.name = "BundlingOptionError";
  }
}

/**
 * NodejsFunction `bundling` equivalent to an esbuild BuildOptions object (by default scripts/bundle.ts
 * BUNDLE_OPTIONS). NodejsFunction itself supplies the entry point, `--bundle`, `--platform=node` and the output
 * file (`index.mjs` for ESM). The AWS SDK v3 is bundled like everything else: the nodejs22.x runtime's copy
 * moves under us, ours is the version the tests ran against.
 */
export function nodejsBundling(options: BuildOptions = BUNDLE_OPTIONS): BundlingOptions {
  const bundling: { -readonly [K in keyof BundlingOptions]: BundlingOptions[K] } = {
    forceDockerBundling: false,
    bundleAwsSDK: true,
    externalModules: [],
  };
  for (const [option, value] of Object.entries(options)) {
    switch (option) {
      case "bundle":
        if (value !== true) throw new BundlingOptionError(option, "is not true (NodejsFunction always bundles)");
        break;
      case "platform":
        if (value !== "node") throw new BundlingOptionError(option, `is ${JSON.stringify(value)} (Lambda needs "node")`);
        break;
      case "format":
        if (value === "esm") bundling.format = OutputFormat.ESM;
        else if (value === "cjs") bundling.format = OutputFormat.CJS;
        else throw new BundlingOptionError(option, `is ${JSON.stringify(value)}`);
        break;
      case "target":
        bundling.target = String(value);
        break;
      case "mainFields":
        bundling.mainFields = [...(value as string[])];
        break;
      case "minify":
        bundling.minify = Boolean(value);
        break;
      case "keepNames":
        bundling.keepNames = Boolean(value);
        break;
      case "sourcemap":
        if (value === false) {
          bundling.sourceMap = false;
        } else if (value === true || (typeof value === "string" && value in SOURCE_MAP_MODES)) {
          bundling.sourceMap = true;
          bundling.sourceMapMode = value === true ? SourceMapMode.DEFAULT : SOURCE_MAP_MODES[value as string];
        } else {
          throw new BundlingOptionError(option, `is ${JSON.stringify(value)}`);
        }
        break;
      case "sourcesContent":
        bundling.sourcesContent = Boolean(value);
        break;
      case "banner": {
        const { js, ...others } = value as Record<string, string>;
        if (Object.keys(others).length > 0) throw new BundlingOptionError(option, `has ${Object.keys(others).join(", ")} besides js`);
        if (js !== undefined) bundling.banner = js;
        break;
      }
      case "alias":
        // NodejsFunction renders {"--alias": ["a=b"]} as `--alias:a=b`, one argument each, without a shell (local
        // bundling spawns esbuild directly), so a `data:` URL replacement passes through intact.
        bundling.esbuildArgs = {
          ...bundling.esbuildArgs,
          "--alias": Object.entries(value as Record<string, string>).map(([name, replacement]) => `${name}=${replacement}`),
        };
        break;
      case "logLevel": {
        const level = LOG_LEVELS[String(value)];
        if (level === undefined) throw new BundlingOptionError(option, `is ${JSON.stringify(value)}`);
        bundling.logLevel = level;
        break;
      }
      default:
        throw new BundlingOptionError(option, "has no translation");
    }
  }
  return bundling;
}

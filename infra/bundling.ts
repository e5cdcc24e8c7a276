// How the stack bundles every Lambda: infra/bundle.ts's functionBuild() — the ONE definition of the esbuild
// options, shared with the benchmark — run by CDK's local bundling straight into the function's asset directory.
// The asset is exactly what the benchmark measures: the handler `index.mjs` and the chunks it may load (code
// splitting needs an output directory, which NodejsFunction, always passing `--outfile`, cannot give esbuild).
import { AssetHashType, DockerImage, type ILocalBundling } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { buildSync } from "esbuild";
import { REPO_ROOT, functionBuild } from "./bundle";

export { ESM_REQUIRE_BANNER } from "./bundle";

/** esbuild in this process (no Docker): it either writes the asset or throws with esbuild's errors. */
export class LocalEsbuild implements ILocalBundling {
  // A field, not only state in a closure: CDK caches staged assets per synth under the JSON of the bundling
  // options, so two functions whose options stringified alike would share one bundle.
  constructor(readonly functionName: string) {}

  tryBundle(outputDir: string): boolean {
    buildSync(functionBuild(this.functionName, outputDir));
    return true;
  }
}

/**
 * The code of functions/<name>: bundled at synth time (unless CDK is told to skip bundling, as `cdk synth
 * --exclusively` and the configuration-variant tests do), hashed by its output so any change to what is
 * deployed — our sources, a dependency, an option — makes a new asset.
 */
export function functionCode(name: string): lambda.Code {
  return lambda.Code.fromAsset(REPO_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      local: new LocalEsbuild(name),
      // Required by the type, never run: LocalEsbuild either bundles or throws, so CDK never falls back to Docker.
      image: DockerImage.fromRegistry("public.ecr.aws/docker/library/node:22"),
    },
  });
}

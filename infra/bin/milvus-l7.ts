#!/usr/bin/env node
// The CDK app: `npx cdk synth` / `npx cdk deploy -c clusterName=<cluster> ...` (cdk.json runs this with tsx).
// Configuration comes from context (infra/config.ts lists the keys); nothing here looks anything up, so the
// synth works offline and without credentials. cdk-nag's AWS Solutions checks run as a validation plugin on every synth
// unless `-c nag=false`: an unacknowledged finding fails it.
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { parseConfig, parseEnv } from "../config";
import { MilvusL7Stack } from "../milvus-l7-stack";

const app = new App();
const read = (key: string): unknown => app.node.tryGetContext(key);
const stackName = read("stackName");

new MilvusL7Stack(app, typeof stackName === "string" && stackName !== "" ? stackName : "MilvusL7", {
  config: parseConfig(read),
  env: parseEnv(read),
});

if (read("nag") !== false && read("nag") !== "false") {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}

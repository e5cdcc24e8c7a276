// One milvus-l7 Lambda: a NodejsFunction over functions/<name>/handler.ts, bundled locally with esbuild (no
// Docker) exactly as scripts/bundle.ts says, nodejs22.x on arm64, with its own log group (explicit, with
// retention) and the execution role the caller passes — to which this adds only the log-write grant.
import { type Duration, Validations } from "aws-cdk-lib";
import type * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { join } from "node:path";
import { nodejsBundling } from "../bundling";
import { REPO_ROOT } from "../paths";

export interface MilvusFunctionProps {
  /** The folder under functions/ holding handler.ts. */
  name: string;
  description: string;
  timeout: Duration;
  memorySize: number;
  role: iam.Role;
  logRetention: logs.RetentionDays;
  environment?: Record<string, string>;
  network?: Pick<lambda.FunctionProps, "vpc" | "vpcSubnets" | "securityGroups">;
}

/** Computed once: every function bundles with the same options. */
let bundling: ReturnType<typeof nodejsBundling> | undefined;

/** Creates `<id>` (the function) and `<id>-logs` (its log group) in `scope`. */
export function milvusFunction(scope: Construct, id: string, props: MilvusFunctionProps): NodejsFunction {
  bundling ??= nodejsBundling();
  const logGroup = new logs.LogGroup(scope, `${id}-logs`, { retention: props.logRetention });
  logGroup.grantWrite(props.role);

  const fn = new NodejsFunction(scope, id, {
    description: props.description,
    entry: join(REPO_ROOT, "functions", props.name, "handler.ts"),
    handler: "handler",
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role: props.role,
    logGroup,
    environment: {
      POWERTOOLS_SERVICE_NAME: "milvus-l7",
      POWERTOOLS_LOG_LEVEL: "INFO",
      NODE_OPTIONS: "--enable-source-maps",
      ...props.environment,
    },
    ...props.network,
    bundling,
  });
  Validations.of(fn).acknowledge({
    id: "AwsSolutions-L1",
    reason: "nodejs22.x is deliberate (DESIGN §7: the bundles target node22); moving to nodejs24.x is a separate, tested change.",
  });
  return fn;
}

// One milvus-l7 Lambda: functions/<name>/handler.ts bundled locally with esbuild (no Docker) exactly as
// infra/bundle.ts says (infra/bundling.ts), nodejs22.x on arm64, with its own log group (explicit, with
// retention) and the execution role the caller passes — to which this adds only the log-write grant.
import { type Duration, Validations } from "aws-cdk-lib";
import type * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { functionCode } from "../bundling";

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

/** Creates `<id>` (the function) and `<id>-logs` (its log group) in `scope`. */
export function milvusFunction(scope: Construct, id: string, props: MilvusFunctionProps): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}-logs`, { retention: props.logRetention });
  logGroup.grantWrite(props.role);

  const fn = new lambda.Function(scope, id, {
    description: props.description,
    code: functionCode(props.name),
    handler: "index.handler",
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role: props.role,
    logGroup,
    environment: {
      POWERTOOLS_SERVICE_NAME: "milvus-l7",
      POWERTOOLS_LOG_LEVEL: "INFO",
      // No NODE_OPTIONS=--enable-source-maps: it makes every cold start slower (Node reads and parses each file's
      // source map as it loads; the benchmark's +srcmaps column), to symbolicate stacks that no operator
      // sees (failures are logged and reported by name and message). The maps ship beside the code for offline use.
      ...props.environment,
    },
    ...props.network,
  });
  Validations.of(fn).acknowledge({
    id: "AwsSolutions-L1",
    reason: "nodejs22.x is deliberate (the bundles target node22: infra/bundle.ts); moving to nodejs24.x is a separate, tested change.",
  });
  return fn;
}

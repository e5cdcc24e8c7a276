// The STANDARD state machine, built from the one ASL file (docs/architecture.md, "Decisions") with a definition substitution per
// function ARN. The definition is inlined as a string, so cfn-lint and the CDK assertions see the workflow as
// it will run.
//
// The state machine has a fixed name derived from the stack's (`stateMachineNameFor`), so the ARN of its
// executions is known without referencing the state machine: target-lease must DescribeExecution on this
// machine's executions, and the state machine invokes target-lease — a reference either way round would be a
// dependency cycle (state machine → function → role policy → state machine).
import { ArnFormat, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ASL_PATH } from "../paths";
import { STEP_TABLE, type StepName } from "../../statemachine/steps";

export interface WorkflowProps {
  /** From `stateMachineNameFor(stack)`: the name `executionsArn` was formatted with. */
  stateMachineName: string;
  functions: Record<StepName, lambda.IFunction>;
  logRetention: logs.RetentionDays;
}

/** Step Functions names: 1-80 characters; a stack name is letters, digits and hyphens. */
const MAX_NAME = 80;
const SUFFIX = "-workflow";

/** `<stackName>-workflow`, shortened with a hash of the stack name when that is too long. */
export function stateMachineNameFor(stack: Stack): string {
  const name = `${stack.stackName}${SUFFIX}`;
  if (name.length <= MAX_NAME) return name;
  const hash = createHash("sha256").update(stack.stackName).digest("hex").slice(0, 8);
  return `${stack.stackName.slice(0, MAX_NAME - SUFFIX.length - hash.length - 1)}-${hash}${SUFFIX}`;
}

/** `arn:<partition>:states:<region>:<account>:execution:<name>:*` — every execution of the named state machine. */
export function executionsArnFor(stack: Stack, stateMachineName: string): string {
  return stack.formatArn({
    service: "states",
    resource: "execution",
    resourceName: `${stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  /** Every execution of `stateMachine`, for DescribeExecution / GetExecutionHistory grants. */
  readonly executionsArn: string;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);

    // Unnamed: CloudFormation generates the name, so several stacks (or a re-created one) never collide.
    this.logGroup = new logs.LogGroup(this, "Logs", { retention: props.logRetention });

    const definitionSubstitutions = Object.fromEntries(STEP_TABLE.map((step) => [step.resource, props.functions[step.name].functionArn]));

    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineName: props.stateMachineName,
      comment: "milvus-l7: put Milvus on EKS behind an ALB with TLS",
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(ASL_PATH, "utf8")),
      definitionSubstitutions,
      // ALL without execution data: every state's event type and timing, never its input or output (which
      // carry hosts and ARNs, and must never carry key material — docs/architecture.md, "The state").
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    this.executionsArn = executionsArnFor(Stack.of(this), props.stateMachineName);

    // The ASL names the functions directly as Task resources (unqualified ARNs), so the role may invoke exactly
    // those ARNs — not their versions or aliases (which grantInvoke would add as "<arn>:*").
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "InvokeWorkflowFunctions",
        actions: ["lambda:InvokeFunction"],
        resources: STEP_TABLE.map((step) => props.functions[step.name].functionArn),
      }),
    );

    Validations.of(this.stateMachine).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Added by CDK for logging and tracing: CloudWatch Logs vended-log delivery (Create/Get/Update/Delete/ListLogDelivery, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray PutTraceSegments/PutTelemetryRecords/GetSamplingRules/GetSamplingTargets support no resource-level permissions, so AWS requires Resource \"*\".",
    });
  }
}

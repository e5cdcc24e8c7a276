// The scheduled drift check: an EventBridge rule on the stack's `checkSchedule` (default rate(1 day)) starting the
// state machine with {"check": {}}, which resolve-request plans as a check of every registry target with policy
// report (docs/architecture.md, "The drift check"). The rule's role may start this one state machine and nothing else.
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";

/** What the schedule sends: the check of every target, reporting (repair is an operator's explicit choice). */
export const SCHEDULED_CHECK_INPUT = { check: {} } as const;

export interface CheckScheduleProps {
  stateMachine: sfn.IStateMachine;
  /** An EventBridge schedule expression, validated by infra/config.ts. */
  schedule: string;
}

export class CheckSchedule extends Construct {
  readonly rule: events.Rule;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CheckScheduleProps) {
    super(scope, id);
    this.role = new iam.Role(this, "StartExecutionRole", {
      assumedBy: new iam.ServicePrincipal("events.amazonaws.com"),
      description: "milvus-l7 drift check schedule: start the workflow (states:StartExecution on its state machine only)",
    });
    this.rule = new events.Rule(this, "Rule", {
      description: `milvus-l7: the drift check of every deployed target (${props.schedule})`,
      schedule: events.Schedule.expression(props.schedule),
    });
    // The target grants the role states:StartExecution on the state machine's ARN, and nothing else.
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, { role: this.role, input: events.RuleTargetInput.fromObject(SCHEDULED_CHECK_INPUT) }),
    );
  }
}

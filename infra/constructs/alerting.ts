// Failure alerting: an EventBridge rule on this state machine's FAILED / TIMED_OUT / ABORTED status changes
// (functions/lib/event-patterns.ts failedExecutionPattern, the pattern the tests match samples against) and a
// CloudWatch alarm on ExecutionsFailed, both to one SNS topic (created and KMS-encrypted here, or an
// existing one), with an optional e-mail subscription.
import { Aws, CfnOutput, Duration, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { type AlertInputTransformer, alertInputTransformer, consoleOrigin } from "../../functions/lib/alert-message";
import { failedExecutionPattern, toCdkEventPattern } from "../../functions/lib/event-patterns";

export interface AlertingProps {
  stateMachine: sfn.StateMachine;
  alarmEmail?: string;
  /** Alert this existing topic instead of creating one. It must let EventBridge and CloudWatch publish (and, if
   * encrypted, let events.amazonaws.com and cloudwatch.amazonaws.com use its key). */
  alarmTopicArn?: string;
}

export class Alerting extends Construct {
  readonly topic: sns.ITopic;
  readonly key?: kms.Key;
  readonly failedExecutionsRule: events.Rule;
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  private readonly ownTopic: boolean;
  private alarms = 0;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.ownTopic = !props.alarmTopicArn;

    if (props.alarmTopicArn) {
      this.topic = sns.Topic.fromTopicArn(this, "Topic", props.alarmTopicArn);
    } else {
      this.key = new kms.Key(this, "TopicKey", {
        description: "milvus-l7 failure alerts (SNS topic encryption)",
        enableKeyRotation: true,
      });
      // CloudWatch alarms publish to an encrypted topic only if the key lets them (the AWS managed aws/sns key
      // cannot, hence a customer-managed key). The EventBridge target adds its own statement for events.amazonaws.com.
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: "CloudWatchAlarmsPublish",
          principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: ["*"], // in a key policy "*" is this key
          conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
        }),
      );
      this.topic = new sns.Topic(this, "Topic", {
        displayName: "milvus-l7 failures",
        masterKey: this.key,
        enforceSSL: true,
      });
    }
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    const sm = props.stateMachine;
    this.failedExecutionsRule = new events.Rule(this, "FailedExecutions", {
      description: "milvus-l7: an execution of the workflow failed, timed out or was aborted",
      eventPattern: toCdkEventPattern(failedExecutionPattern(sm.stateMachineArn)),
    });
    // The message (with the Fail state's Cause: what to do) is functions/lib/alert-message.ts's, which the sandbox
    // renders too; a RuleTargetInput of our own passes its InputTransformer through unchanged.
    this.failedExecutionsRule.addTarget(
      new targets.SnsTopic(this.topic, { message: new TransformerInput(alertInputTransformer(consoleOriginOf(Stack.of(this)))) }),
    );

    this.failedExecutionsAlarm = new cloudwatch.Alarm(this, "ExecutionsFailedAlarm", {
      alarmDescription: "milvus-l7: at least one workflow execution failed in the last 5 minutes (see the state machine's failed executions)",
      metric: sm.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alertOn(this.failedExecutionsAlarm);

    new CfnOutput(Stack.of(this), "AlertTopicArn", { description: "SNS topic for workflow failures", value: this.topic.topicArn });
  }

  /** Publish this alarm's state changes to the alert topic. */
  alertOn(alarm: cloudwatch.Alarm): void {
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    if (this.ownTopic) {
      this.alarms += 1;
      // The topic's policy (CDK writes one for the EventBridge target and for enforceSSL) replaces SNS's default
      // policy, so each alarm needs its own grant to publish.
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: this.alarms === 1 ? "CloudWatchAlarmPublish" : `CloudWatchAlarmPublish${this.alarms}`,
          principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
          actions: ["sns:Publish"],
          resources: [this.topic.topicArn],
          conditions: { ArnEquals: { "aws:SourceArn": alarm.alarmArn } },
        }),
      );
    }
  }
}

/** An InputTransformer given as is (RuleTargetInput.fromText would rebuild it from tokens). */
class TransformerInput extends events.RuleTargetInput {
  constructor(private readonly transformer: AlertInputTransformer) {
    super();
  }
  bind(): events.RuleTargetInputProperties {
    return { inputPathsMap: this.transformer.inputPathsMap, inputTemplate: this.transformer.inputTemplate };
  }
}

/**
 * The console's origin for the stack's region. An environment-agnostic stack (region unknown at synthesis) gets the
 * commercial form; deploy with an explicit region for China or GovCloud (docs/deploy.md).
 */
export function consoleOriginOf(stack: Stack): string {
  return Token.isUnresolved(stack.region) ? `https://${Aws.REGION}.console.aws.amazon.com` : consoleOrigin(stack.region);
}

// The operator's view of milvus-l7 on day two: a CloudWatch dashboard of runs by outcome (Step Functions' own
// AWS/States metrics of the state machine: no custom metric needed), verification latency, days to expiry per target
// and drift found (the steps' EMF metrics, functions/lib/metrics.ts), and alarms on days to expiry and on drift that
// alert the same topic as failed runs (infra/constructs/alerting.ts). Stack output DashboardUrl links it.
import { CfnOutput, Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricName, TARGET_DIMENSION } from "../../functions/lib/metrics";
import { type Alerting, consoleOriginOf } from "./alerting";

export interface DashboardProps {
  stateMachine: sfn.StateMachine;
  alerting: Alerting;
  /** The renewals' expiry threshold: the days-to-expiry alarm fires below it too. */
  expiryWarningDays: number;
}

/** Expiry and drift are measured once a day by the scheduled check (and on every deployment or renewal). */
const DAILY = Duration.days(1);

/** The metric over every target: what the steps emit without the TargetId dimension. */
const overall = (name: MetricName, statistic: string, period: Duration) =>
  new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: METRICS_SERVICE }, statistic, period });

/** One line per target, however many there are (a SEARCH expression: dashboards only, alarms cannot use it). */
const perTarget = (name: MetricName, statistic: string, period: Duration, label: string) =>
  new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},service,${TARGET_DIMENSION}} MetricName="${name}"', '${statistic}', ${period.toSeconds()})`,
    label,
    period,
  });

export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly daysToExpiryAlarm: cloudwatch.Alarm;
  readonly driftAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const sm = props.stateMachine;
    const fiveMinutes = Duration.minutes(5);

    this.daysToExpiryAlarm = new cloudwatch.Alarm(this, "DaysToExpiryAlarm", {
      alarmDescription:
        `milvus-l7: a target serves a certificate that expires in less than ${props.expiryWarningDays} days ` +
        "(the dashboard shows which): renew it at its certificate source",
      metric: overall("DaysToExpiry", cloudwatch.Stats.MINIMUM, DAILY),
      threshold: props.expiryWarningDays,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No check or deployment that day says nothing about expiry; the daily check keeps the data coming.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.driftAlarm = new cloudwatch.Alarm(this, "DriftAlarm", {
      alarmDescription: "milvus-l7: the drift check found a target that no longer matches what milvus-l7 applied (see the check's drift findings)",
      metric: overall("DriftFound", cloudwatch.Stats.SUM, DAILY),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    props.alerting.alertOn(this.daysToExpiryAlarm);
    props.alerting.alertOn(this.driftAlarm);

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", { defaultInterval: Duration.days(7) });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: "Alarms",
        alarms: [props.alerting.failedExecutionsAlarm, this.daysToExpiryAlarm, this.driftAlarm],
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Runs by outcome",
        left: [
          sm.metricSucceeded({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM, label: "succeeded" }),
          sm.metricFailed({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM, label: "failed" }),
          sm.metricTimedOut({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM, label: "timed out" }),
          sm.metricAborted({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM, label: "aborted" }),
        ],
        stacked: true,
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Verification latency (ms, every ALB address and Milvus)",
        left: [
          overall("VerificationLatency", cloudwatch.Stats.p(50), fiveMinutes).with({ label: "p50" }),
          overall("VerificationLatency", cloudwatch.Stats.p(90), fiveMinutes).with({ label: "p90" }),
          overall("VerificationLatency", cloudwatch.Stats.MAXIMUM, fiveMinutes).with({ label: "max" }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Days to expiry per target (min)",
        left: [perTarget("DaysToExpiry", "Minimum", DAILY, "")],
        leftAnnotations: [{ value: props.expiryWarningDays, label: "alarm threshold", color: cloudwatch.Color.RED }],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Drift found per target",
        left: [perTarget("DriftFound", "Sum", DAILY, "")],
        width: 12,
      }),
    );

    const stack = Stack.of(this);
    new CfnOutput(stack, "DashboardUrl", {
      description: "CloudWatch dashboard: runs, verification latency, days to expiry, drift",
      value: `${consoleOriginOf(stack)}/cloudwatch/home?region=${stack.region}#dashboards:name=${this.dashboard.dashboardName}`,
    });
  }
}

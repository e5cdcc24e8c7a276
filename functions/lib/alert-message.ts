// The failure alert's text: what the EventBridge rule on this state machine's FAILED / TIMED_OUT / ABORTED status
// changes (infra/constructs/alerting.ts) publishes to the alert topic. One definition, as the InputTransformer the
// stack deploys, so the sandbox renders exactly what would reach the topic (sandbox/eventbridge.ts) and the demo
// shows it as `alerts`.
//
// The Cause is part of the message because it is what to do: a CertificateExpiring alert names the certificate, the
// days left and the source to renew, and an operator reading the e-mail should not need the console for that.

/** The variables of the template and where EventBridge reads them in the Step Functions status-change event. */
export const ALERT_INPUT_PATHS = {
  name: "$.detail.name",
  status: "$.detail.status",
  error: "$.detail.error",
  cause: "$.detail.cause",
  executionArn: "$.detail.executionArn",
  region: "$.region",
} as const;

export interface AlertInputTransformer {
  inputPathsMap: Record<string, string>;
  /**
   * A JSON string, as aws-cdk-lib's RuleTargetInput.fromText renders text (quotes included): SNS delivers it as the
   * message, quotes included (aws/aws-cdk#5924), and EventBridge substitutes each `<variable>` inside it.
   */
  inputTemplate: string;
}

/**
 * Where the AWS console is for a region: commercial regions have their own host; China and GovCloud each have one
 * console host for the partition, the region chosen by the `region` query parameter.
 */
export function consoleOrigin(region: string): string {
  if (region.startsWith("cn-")) return "https://console.amazonaws.cn";
  if (region.startsWith("us-gov-")) return "https://console.amazonaws-us-gov.com";
  return `https://${region}.console.aws.amazon.com`;
}

/**
 * The rule target's InputTransformer. `origin` is the console's origin for the stack's region (consoleOrigin); it
 * is fixed at synthesis, the rule living in the state machine's region.
 */
export function alertInputTransformer(origin: string): AlertInputTransformer {
  const text =
    "milvus-l7 execution <name> ended <status>: <error>: <cause> " +
    `Execution: ${origin}/states/home?region=<region>#/v2/executions/details/<executionArn>`;
  return { inputPathsMap: { ...ALERT_INPUT_PATHS }, inputTemplate: JSON.stringify(text) };
}

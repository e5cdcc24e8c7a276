// The failure alert: the stack's InputTransformer rendered by the sandbox's EventBridge model against a Step
// Functions status-change event, as the alert topic would receive it.
import { describe, expect, it } from "vitest";
import { alertInputTransformer, consoleOrigin } from "../../functions/lib/alert-message";
import { failedExecutionPattern } from "../../functions/lib/event-patterns";
import { type Pattern, executionStatusChange, matchesPattern, renderInputTransformer } from "../../sandbox/eventbridge";
import type { WorkflowRun } from "../../sandbox/workflow";

const EXECUTION = "arn:aws:states:us-east-2:123456789012:execution:milvus-l7:renewal-1";
const STATE_MACHINE = "arn:aws:states:us-east-2:123456789012:stateMachine:milvus-l7";
const run = (overrides: Partial<WorkflowRun> = {}): WorkflowRun => ({
  executionArn: EXECUTION,
  status: "FAILED",
  error: "CertificateExpiring",
  cause: "Certificate arn:x expires in 10 days (notAfter 2027-01-11T00:00:00.000Z) and its source, secret s, holds no newer certificate.",
  events: [],
  transitions: 7,
  ...overrides,
});
const event = (r: WorkflowRun) => executionStatusChange(r, { source: "aws.acm" }, new Date(1_000), new Date(2_000));

describe("the failure alert", () => {
  it("is the message with the error, the Cause and the execution's console link, quotes included as SNS delivers it", () => {
    const message = renderInputTransformer(alertInputTransformer(consoleOrigin("us-east-2")), event(run()));
    expect(message).toBe(
      '"milvus-l7 execution renewal-1 ended FAILED: CertificateExpiring: Certificate arn:x expires in 10 days ' +
        "(notAfter 2027-01-11T00:00:00.000Z) and its source, secret s, holds no newer certificate. Execution: " +
        `https://us-east-2.console.aws.amazon.com/states/home?region=us-east-2#/v2/executions/details/${EXECUTION}"`,
    );
  });

  it("goes to the China and GovCloud consoles for their regions", () => {
    expect(consoleOrigin("cn-north-1")).toBe("https://console.amazonaws.cn");
    expect(consoleOrigin("us-gov-west-1")).toBe("https://console.amazonaws-us-gov.com");
  });

  it("is sent for failed, timed-out and aborted executions of this state machine only", () => {
    const pattern = failedExecutionPattern(STATE_MACHINE) as Pattern;
    expect(matchesPattern(pattern, event(run()))).toBe(true);
    expect(matchesPattern(pattern, event(run({ status: "ABORTED", error: undefined, cause: undefined })))).toBe(true);
    expect(matchesPattern(pattern, event(run({ status: "SUCCEEDED", error: undefined, cause: undefined })))).toBe(false);
    expect(matchesPattern(failedExecutionPattern(`${STATE_MACHINE}-other`) as Pattern, event(run()))).toBe(false);
  });

  it("renders an aborted execution's null error and cause as EventBridge does with null values", () => {
    const message = renderInputTransformer(alertInputTransformer("https://o"), event(run({ status: "ABORTED", error: undefined, cause: undefined })));
    expect(message).toMatch(/^"milvus-l7 execution renewal-1 ended ABORTED: null: null Execution: https:\/\/o\/states\//);
  });
});

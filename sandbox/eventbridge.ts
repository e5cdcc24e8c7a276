// EventBridge as far as milvus-l7's alerting meets it: the Step Functions "Execution Status Change" event an
// execution emits when it ends, the rule's event pattern matched against it, and the target's InputTransformer
// rendered into the message the alert topic would receive. An independent model (sandbox/README.md, fidelity
// table): the product supplies only the pattern and the transformer it deploys.
import { randomUUID } from "node:crypto";
import type { WorkflowRun } from "./workflow";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * The event Step Functions sends to EventBridge when a Standard execution's status changes (Step Functions
 * Developer Guide, "Step Functions events in EventBridge", "Execution Status Change" samples): the detail carries
 * the execution's ARN, its state machine's, name, status, start and stop (epoch milliseconds), input and output as
 * JSON strings (null when none), and the error and cause of a failed execution (null otherwise).
 */
export function executionStatusChange(run: WorkflowRun, input: unknown, startedAt: Date, stoppedAt: Date): Record<string, Json> {
  // arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>
  const [, partition, , region = "", account = "", , stateMachine, name = ""] = run.executionArn.split(":");
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Step Functions Execution Status Change",
    source: "aws.states",
    account,
    time: stoppedAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region,
    resources: [run.executionArn],
    detail: {
      executionArn: run.executionArn,
      stateMachineArn: `arn:${partition}:states:${region}:${account}:stateMachine:${stateMachine}`,
      name,
      status: run.status,
      startDate: startedAt.getTime(),
      stopDate: stoppedAt.getTime(),
      input: JSON.stringify(input ?? {}),
      output: run.output === undefined ? null : JSON.stringify(run.output),
      error: run.error ?? null,
      cause: run.cause ?? null,
    },
  };
}

export type PatternLeaf = Json | { prefix: string };
export interface Pattern {
  [field: string]: PatternLeaf[] | Pattern;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * EventBridge User Guide, "Amazon EventBridge event patterns": every field of the pattern must be in the event at
 * the same nesting; a leaf lists the allowed values (exact match of a scalar, or of any element of an array value);
 * `{ "prefix": "…" }` matches the start of a string. Only what milvus-l7's patterns use is modelled.
 */
export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  if (!isObject(event)) return false;
  return Object.entries(pattern).every(([field, rule]) => {
    const value = event[field];
    if (!Array.isArray(rule)) return matchesPattern(rule, value);
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) =>
      rule.some((allowed) =>
        isObject(allowed) && "prefix" in allowed
          ? typeof v === "string" && v.startsWith(String(allowed.prefix))
          : v !== undefined && JSON.stringify(v) === JSON.stringify(allowed),
      ),
    );
  });
}

/** `$.a.b-c.d`: the dot notation InputPathsMap takes (no filters or brackets are used here). */
function atPath(event: unknown, path: string): unknown {
  let at: unknown = event;
  for (const part of path.replace(/^\$\.?/, "").split(".").filter(Boolean)) {
    if (!isObject(at)) return undefined;
    at = at[part];
  }
  return at;
}

/**
 * EventBridge User Guide, "Amazon EventBridge input transformation": each `<variable>` of InputTemplate becomes the
 * value its InputPathsMap path selects. EventBridge does not escape extracted values; a string goes in as its
 * characters; an object or array referenced inside a string has its inner quotes removed ("Common issues"). A
 * template that is a JSON string (as CDK's RuleTargetInput.fromText makes it) is delivered as is, quotes included
 * (aws/aws-cdk#5924). Guesses: a path the event lacks leaves the variable undefined and its placeholder becomes
 * empty; a null renders as `null`.
 */
export function renderInputTransformer(
  transformer: { inputPathsMap: Record<string, string>; inputTemplate: string },
  event: unknown,
): string {
  return transformer.inputTemplate.replace(/<([A-Za-z0-9_.-]+)>/g, (placeholder, variable: string) => {
    const path = transformer.inputPathsMap[variable];
    if (path === undefined) return placeholder;
    const value = atPath(event, path);
    if (value === undefined) return "";
    if (typeof value === "string") return value;
    if (value === null || typeof value !== "object") return String(value);
    return JSON.stringify(value).replace(/"/g, "");
  });
}

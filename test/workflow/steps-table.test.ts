// The ASL held to the steps table (statemachine/steps.ts) state by state: a Task that stops retrying what its row
// says — e.g. RecordDeployment without its AwsUnavailable retry, which would fail a run after the cutover on a
// DynamoDB blip and leave a serving target out of the registry — fails here.
import { describe, expect, it } from "vitest";
import {
  FUNCTION_TIMEOUT_MARGIN_SECONDS,
  LAMBDA_SERVICE_ERRORS,
  STEP_TABLE,
  allStates,
  functionTimeoutSeconds,
  stepOfResource,
} from "../../statemachine/steps";
import { readFileSync } from "node:fs";

const states = allStates();
const tasks = states.filter(([, s]) => s.Type === "Task");
const rows = STEP_TABLE.flatMap((step) => step.tasks.map((task) => ({ step, task })));

describe("the steps table and the ASL", () => {
  it("name the same Task states", () => {
    expect(tasks.map(([name]) => name).sort()).toEqual(rows.map((r) => r.task.state).sort());
  });

  it("have one row per function folder, each with a handler", () => {
    for (const step of STEP_TABLE) {
      expect(readFileSync(new URL(`../../functions/${step.name}/handler.ts`, import.meta.url), "utf8"), step.name).toMatch(
        /export const handler\b/,
      );
    }
    expect(new Set(STEP_TABLE.map((s) => s.resource)).size).toBe(STEP_TABLE.length);
    expect(new Set(STEP_TABLE.map((s) => s.stackOutput)).size).toBe(STEP_TABLE.length);
  });

  for (const { step, task } of rows) {
    describe(task.state, () => {
      const state = states.find(([name]) => name === task.state)?.[1];

      it(`invokes ${step.name} and stores its result at ${task.resultPath}`, () => {
        expect(state?.Resource).toBe(`\${${step.resource}}`);
        expect(stepOfResource(step.resource)).toBe(step);
        expect(state?.ResultPath ?? "$").toBe(task.resultPath);
      });

      it(`retries ${[...task.retries.map((r) => r.join(" | ")), "the Lambda service errors"].join(", then ")}`, () => {
        expect(state?.Retry?.map((r) => r.ErrorEquals)).toEqual([...task.retries, [...LAMBDA_SERVICE_ERRORS]]);
      });
    });
  }

  it("gives each function the time its Tasks allow, less the margin", () => {
    for (const step of STEP_TABLE) {
      const taskTimeouts = step.tasks.map((t) => states.find(([name]) => name === t.state)?.[1].TimeoutSeconds ?? 0);
      expect(functionTimeoutSeconds(step, states), step.name).toBe(Math.max(...taskTimeouts) - FUNCTION_TIMEOUT_MARGIN_SECONDS);
    }
  });

  it("refuses a Task without a timeout above the margin, and a resource no row names", () => {
    const [step] = STEP_TABLE;
    const untimed = states.map(([name, s]) => [name, { ...s, TimeoutSeconds: undefined }] as [string, typeof s]);
    expect(() => functionTimeoutSeconds(step, untimed)).toThrow(/TimeoutSeconds above/);
    expect(() => stepOfResource("DeleteEverythingFunctionArn")).toThrow(/no row of statemachine\/steps.ts/);
  });
});

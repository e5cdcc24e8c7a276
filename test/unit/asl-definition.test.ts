// Static checks of statemachine/milvus-l7.asl.json: valid ASL, every error name known, every Task guarded.
import aslValidator from "asl-validator";
import { describe, expect, it } from "vitest";
import { ENDPOINT_RETRIES, type MilvusL7Error, errorClasses } from "../../functions/lib/errors";
import { allStates, renderDefinition } from "../../sandbox/workflow";

type State = {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: {
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    JitterStrategy?: string;
    MaxDelaySeconds?: number;
    BackoffRate?: number;
  }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Choices?: Record<string, unknown>[];
};
const states = allStates() as [string, State][];
const byName = new Map(states);
const tasks = states.filter(([, s]) => s.Type === "Task");

/** The kinds of ending reachable from a state (following Next, Default, Choices and Catch). */
function endsIn(start: string): string[] {
  const seen = new Set<string>();
  const ends = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const s = byName.get(name) as State & { Next?: string; Default?: string; End?: boolean };
    if (s.Type === "Fail" || s.Type === "Succeed" || s.End) ends.add(s.Type === "Fail" ? "Fail" : "success");
    for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next as string), ...(s.Catch ?? []).map((c) => c.Next)]) {
      if (next) visit(next);
    }
  };
  visit(start);
  return [...ends];
}

describe("statemachine/milvus-l7.asl.json", () => {
  it("is valid Amazon States Language once substituted", () => {
    const { isValid, errors } = aslValidator(renderDefinition() as never);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it("names only States.*, Lambda.* or exported error classes in ErrorEquals", () => {
    const names = states.flatMap(([, s]) => [...(s.Retry ?? []), ...(s.Catch ?? [])].flatMap((r) => r.ErrorEquals));
    expect(names.length).toBeGreaterThan(10);
    const unknown = names.filter((n) => !n.startsWith("States.") && !n.startsWith("Lambda.") && !(n in errorClasses));
    expect(unknown).toEqual([]);
    // Every retryable class is retried somewhere, or its promise of a retry would be empty.
    const retried = states.flatMap(([, s]) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals));
    for (const [name, cls] of Object.entries(errorClasses)) {
      if (new (cls as unknown as new (arg: unknown) => MilvusL7Error)([]).retryable) expect(retried, name).toContain(name);
    }
  });

  it("guards every Task with jittered, capped retries of Lambda service errors and a Catch into a Fail", () => {
    expect(tasks.length).toBe(26);
    for (const [name, task] of tasks) {
      const retries = task.Retry ?? [];
      expect(retries.flatMap((r) => r.ErrorEquals), name).toContain("Lambda.ServiceException");
      for (const r of retries) {
        expect(r.JitterStrategy, name).toBe("FULL");
        expect(r.MaxDelaySeconds, name).toBeGreaterThan(0);
        expect(r.BackoffRate, name).toBeGreaterThanOrEqual(1);
      }
      const catchers = task.Catch ?? [];
      expect(catchers.flatMap((c) => c.ErrorEquals), name).toContain("States.ALL");
      // The drift check's first verification is the one exception: its failure is a finding, which RecordCheck records.
      if (name !== "VerifyCheckedTarget") for (const c of catchers) expect(endsIn(c.Next), `${name} → ${c.Next}`).toEqual(["Fail"]);
      expect(task.Parameters?.["executionArn.$"], name).toBe("$$.Execution.Id");
    }
  });

  it("retries EndpointNotReady in the verify states for as long as its messages say", () => {
    const verifies = tasks.filter(([, t]) => t.Resource?.includes("VerifyConnectionFunctionArn"));
    expect(verifies.map(([name]) => name)).toEqual(["VerifyThroughAlb", "VerifyAfterCutover", "VerifyCheckedTarget", "VerifyRepairedTarget"]);
    for (const [name, task] of verifies) {
      const r = task.Retry?.find((x) => x.ErrorEquals.includes("EndpointNotReady"));
      expect(r, name).toBeDefined();
      const { IntervalSeconds = 1, MaxAttempts = 3, BackoffRate = 2, MaxDelaySeconds = Number.POSITIVE_INFINITY, JitterStrategy } = r ?? {};
      // Full jitter waits a random time up to each interval: half of it on average.
      let seconds = 0;
      for (let k = 0; k < MaxAttempts; k++) seconds += Math.min(IntervalSeconds * BackoffRate ** k, MaxDelaySeconds) / (JitterStrategy === "FULL" ? 2 : 1);
      expect(ENDPOINT_RETRIES, name).toContain(`about ${Math.round(seconds / 60)} minutes`);
    }
  });

  it("bounds the address loop by the plan's maxPolls and waits with a Wait state", () => {
    const ready = byName.get("AddressReady");
    expect(JSON.stringify(ready?.Choices)).toContain('"NumericGreaterThanEqualsPath":"$.maxPolls"');
    expect(byName.get("WaitForAddress")?.Type).toBe("Wait");
    expect(byName.get("AddressNeverCame")).toMatchObject({ Type: "Pass", Parameters: { Error: "AddressTimeout", "Cause.$": "$.ingress.failureCause" } });
    expect(endsIn("AddressNeverCame")).toEqual(["Fail"]);
  });

});

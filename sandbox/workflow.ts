// The sandbox's view of the workflow runner (statemachine/runner, which `milvus-l7 run` uses in real time): the
// same runner over statemachine/milvus-l7.asl.json, with every Wait and retry interval compressed to 10 ms unless
// a test asks for other values.
import {
  type LocalFunctions,
  type RunOptions,
  type WorkflowRun,
  allStates,
  runWorkflow as runInRealTime,
} from "../statemachine/runner";

export {
  ASL_PATH,
  type AslState,
  type EventLog,
  type FunctionKey,
  type LocalFunction,
  type LocalFunctions,
  type RunOptions,
  type WorkflowRun,
  allStates,
  executionArnOf,
  functionArn,
  lambdaContext,
  loadDefinition,
  renderDefinition,
} from "../statemachine/runner";

/** What a Wait state or a retry lasts in the sandbox unless the test says otherwise. */
export const COMPRESSED_MS = 10;

/**
 * runWorkflow with compressed time: `waitMs` defaults to 10 ms; `retryMs` is one value for every retrier
 * (default 10 ms) or per state name, the states it does not name keeping 10 ms.
 */
export function runWorkflow(input: unknown, functions: LocalFunctions, opts: RunOptions = {}): Promise<WorkflowRun> {
  const perState = typeof opts.retryMs === "number" ? undefined : opts.retryMs;
  const retryMs =
    typeof opts.retryMs === "number"
      ? opts.retryMs
      : Object.fromEntries(
          allStates()
            .filter(([, s]) => s.Retry)
            .map(([name]) => [name, perState?.[name] ?? COMPRESSED_MS]),
        );
  return runInRealTime(input, functions, { ...opts, waitMs: opts.waitMs ?? COMPRESSED_MS, retryMs });
}

// Runs statemachine/milvus-l7.asl.json — the one definition of the workflow — through aws-local-stepfunctions,
// with each Task state calling a local function in place of its Lambda. `milvus-l7 run` uses it with the ASL's
// own waits and retry backoff; the sandbox (sandbox/workflow) compresses both.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Context } from "aws-lambda";
import {
  ExecutionAbortedError,
  ExecutionError,
  type RunOptions as AslRunOptions,
  StateMachine,
  type StateMachineDefinition,
} from "aws-local-stepfunctions";
import "./polyfills";
import { ASL_URL, type AslState, type StepResource, allStates, loadDefinition, stepOfResource } from "./steps";

/** One entry of the execution's event log (the library does not export the type). */
export type EventLog = ReturnType<StateMachine["run"]>["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

export const ASL_PATH = ASL_URL;
export { type AslState, allStates, loadDefinition };

/** The `${…}` substitutions the ASL uses, i.e. one per Lambda (the steps table's `resource`). */
export type FunctionKey = StepResource;

// biome-ignore lint/suspicious/noExplicitAny: a Lambda's event is whatever its Parameters build.
export type LocalFunction = (event: any) => Promise<unknown>;
export type LocalFunctions = Record<FunctionKey, LocalFunction>;

const LOCAL_FUNCTION_ARN_PREFIX = "arn:aws:lambda:us-east-2:123456789012:function:";

/** The ARN a local run gives the function of an ASL resource placeholder (`ResolveRequestFunctionArn`). */
export const functionArn = (resource: string) => `${LOCAL_FUNCTION_ARN_PREFIX}milvus-l7-${stepOfResource(resource).name}`;

/** The definition with `${…}` substituted, as CloudFormation's DefinitionSubstitutions would. */
export function renderDefinition(): StateMachineDefinition {
  const text = readFileSync(ASL_PATH, "utf8").replace(/\$\{(\w+)\}/g, (_, key: string) => functionArn(key));
  return JSON.parse(text);
}

export const executionArnOf = (name: string) => `arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${name}`;

/** A Lambda context good enough for middy and Powertools; middy ends the handler `timeoutMs` from now. */
export function lambdaContext(functionName: string, timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `${LOCAL_FUNCTION_ARN_PREFIX}${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type LocalHandlers = NonNullable<NonNullable<AslRunOptions["overrides"]>["taskResourceLocalHandlers"]>;

export interface WorkflowRun {
  executionArn: string;
  status: "SUCCEEDED" | "FAILED" | "ABORTED";
  output?: unknown;
  error?: string;
  cause?: string;
  events: EventLog[];
  /** State transitions, as Step Functions Standard bills them: one per state entered. */
  transitions: number;
}

export interface RunOptions {
  executionName?: string;
  /** `$$.Execution.Id` (default: an ARN made from the name, see executionArnOf). */
  executionArn?: string;
  /** Milliseconds every Wait state lasts. Omitted: the ASL's own Seconds/SecondsPath, in real time. */
  waitMs?: number;
  /**
   * Milliseconds before every retry, or per state name. Omitted (or a state the record does not name): the ASL's
   * own IntervalSeconds/BackoffRate/MaxDelaySeconds/JitterStrategy, in real time.
   */
  retryMs?: number | Record<string, number>;
  /** Stop the execution (like StopExecution) once this state has exited: a run killed half-way. */
  abortAfter?: string;
  /** Stop the execution when this fires (the CLI's Ctrl-C); the run ends ABORTED. */
  signal?: AbortSignal;
  onEvent?: (event: EventLog) => void;
}

/**
 * Building a StateMachine validates the whole definition (asl-validator, ARNs and paths): about 0.3 s, more than
 * most sandbox runs take. A machine runs any number of executions, so it is built once per definition text.
 */
let cachedMachine: { text: string; machine: StateMachine } | undefined;

function stateMachineFor(definition: StateMachineDefinition): StateMachine {
  const text = JSON.stringify(definition);
  if (cachedMachine?.text !== text) {
    cachedMachine = { text, machine: new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } }) };
  }
  return cachedMachine.machine;
}

export async function runWorkflow(input: unknown, functions: LocalFunctions, opts: RunOptions = {}): Promise<WorkflowRun> {
  const definition = renderDefinition();
  const name = opts.executionName ?? randomUUID();
  const executionArn = opts.executionArn ?? executionArnOf(name);
  const taskResourceLocalHandlers: LocalHandlers = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, state] of allStates(definition.States as Record<string, AslState>)) {
    if (state.Type === "Task") {
      const key = Object.keys(functions).find((k) => state.Resource === functionArn(k)) as FunctionKey | undefined;
      if (!key) throw new Error(`No local function for Task ${stateName} (${state.Resource})`);
      taskResourceLocalHandlers[stateName] = functions[key] as unknown as LocalHandlers[string];
    }
    if (state.Type === "Wait" && opts.waitMs !== undefined) waitTimeOverrides[stateName] = opts.waitMs;
    if (state.Retry) {
      const ms = typeof opts.retryMs === "number" ? opts.retryMs : opts.retryMs?.[stateName];
      if (ms !== undefined) retryIntervalOverrides[stateName] = ms;
    }
  }
  const machine = stateMachineFor(definition);
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: {
        Id: executionArn,
        Name: name,
        StartTime: new Date().toISOString(),
        Input: input as never,
        RoleArn: "arn:aws:iam::123456789012:role/milvus-l7",
      },
    },
  });
  const abort = () => execution.abort();
  if (opts.signal?.aborted) abort();
  opts.signal?.addEventListener("abort", abort, { once: true });
  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      events.push(event);
      opts.onEvent?.(event);
      if (event.type === "StateExited" && event.state.name === opts.abortAfter) execution.abort();
    }
  })();
  let run: WorkflowRun;
  try {
    const output = await execution.result;
    run = { executionArn, status: "SUCCEEDED", output, events, transitions: 0 };
  } catch (e) {
    if (e instanceof ExecutionAbortedError) run = { executionArn, status: "ABORTED", events, transitions: 0 };
    else if (e instanceof ExecutionError) run = { executionArn, status: "FAILED", events, transitions: 0 };
    else throw e;
  } finally {
    opts.signal?.removeEventListener("abort", abort);
  }
  await collecting;
  const failed = events.find((e) => e.type === "ExecutionFailed");
  if (failed && failed.type === "ExecutionFailed") {
    run.error = failed.Error;
    run.cause = typeof failed.Cause === "string" ? failed.Cause : JSON.stringify(failed.Cause);
  }
  run.transitions = events.filter((e) => e.type === "StateEntered").length;
  return run;
}

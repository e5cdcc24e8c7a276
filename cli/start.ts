// `milvus-l7 start <file>`: validate a deployment request locally (the one schema), then StartExecution on the
// deployed state machine, named like the HTTP API names it (a hash of the request, or --name), so starting the
// same request twice — here, or here and through the API — is the same deployment.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DescribeExecutionCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { canonicalJson, executionArnFor, executionNameFor } from "../functions/api/core";
import { formatIssues, parseRequest } from "../functions/lib/request";
import type { CliIo } from "./io";
import {
  EXECUTION_NAME,
  STATE_MACHINE_ARN,
  STATE_MACHINE_ENV,
  type SfnInjections,
  awsProblem,
  defaultSfn,
  sfnWithoutCredentials,
  stateMachineFrom,
} from "./stack";
import { validateFile } from "./validate";

export const START_USAGE = `usage: milvus-l7 start <request.json> [options]

Validates the request, then starts an execution of the deployed milvus-l7 state machine.

  --state-machine <arn>  the state machine (default: $${STATE_MACHINE_ENV}; the stack's StateMachineArn output)
  --name <id>            the execution name (default: req- + SHA-256 of the request, as the HTTP API names it)
  --quiet                print only the execution ARN
  --json                 print only {"deploymentId","executionArn","status","existing"}

Exit status: 0 started (or the same request already was), 1 invalid request or AWS error, 2 usage.`;

const errorName = (e: unknown) => (typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined);

const START_OPTIONS = {
  "state-machine": { type: "string" },
  name: { type: "string" },
  quiet: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

export async function startCommand(args: readonly string[], io: CliIo, inject: SfnInjections = {}): Promise<number> {
  const usage = (message: string) => {
    io.stderr(`milvus-l7 start: ${message}\n${START_USAGE}\n`);
    return 2;
  };
  const fail = (message: string) => {
    io.stderr(`milvus-l7 start: ${message}\n`);
    return 1;
  };
  let values: { "state-machine"?: string; name?: string; quiet?: boolean; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: START_OPTIONS }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    io.stdout(`${START_USAGE}\n`);
    return 0;
  }
  const [file] = positionals;
  if (positionals.length !== 1 || !file) return usage("expected exactly one request file");
  if (values.quiet && values.json) return usage("--quiet and --json exclude each other");
  const stateMachineArn = stateMachineFrom(values["state-machine"], inject.env ?? process.env);
  if (!stateMachineArn) return usage(`name the state machine with --state-machine <arn> or ${STATE_MACHINE_ENV} (the stack's StateMachineArn output)`);
  const region = STATE_MACHINE_ARN.exec(stateMachineArn)?.[1];
  if (!region) return usage(`${stateMachineArn} is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
  if (values.name !== undefined && !EXECUTION_NAME.test(values.name)) return usage("--name must be 1-80 letters, digits, '-' and '_'");

  const checked = validateFile(file);
  if (!checked.ok) {
    const n = checked.issues.length;
    return fail(`${file}: invalid request (${n} problem${n === 1 ? "" : "s"}); nothing was started\n${formatIssues(checked.issues)}`);
  }
  // As sent, like the API: the hash is over the request as written (key order and whitespace aside).
  const raw: unknown = JSON.parse(readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
  const name = values.name ?? executionNameFor(raw);
  const expectedArn = executionArnFor(stateMachineArn, name);
  const sfn = (inject.sfn ?? defaultSfn)(region);
  const noCredentials = await sfnWithoutCredentials(sfn);
  if (noCredentials) return fail(`${noCredentials}\nNothing was started.`);

  let executionArn = expectedArn;
  let existing = false;
  let status = "RUNNING";
  try {
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(raw) }));
    executionArn = out.executionArn ?? expectedArn;
  } catch (e) {
    const failure = errorName(e);
    if (failure === "StateMachineDoesNotExist") return fail(`there is no state machine ${stateMachineArn} (check the ARN, the account and the region)`);
    if (failure !== "ExecutionAlreadyExists") return fail(awsProblem(e, `states:StartExecution on ${stateMachineArn}`));
    // Same name: the same deployment if it is the same request (whatever its formatting), else a clash.
    try {
      const found = await sfn.send(new DescribeExecutionCommand({ executionArn: expectedArn }));
      if (!sameRequest(found.input, checked.request)) {
        return fail(
          `an execution named ${name} already exists with a different request (${expectedArn}); start this one with another --name`,
        );
      }
      existing = true;
      status = found.status ?? "UNKNOWN";
    } catch (describeError) {
      return fail(awsProblem(describeError, `states:DescribeExecution on ${expectedArn}`));
    }
  }

  if (values.json) {
    io.stdout(`${JSON.stringify({ deploymentId: name, executionArn, status, existing })}\n`);
  } else if (values.quiet) {
    io.stdout(`${executionArn}\n`);
  } else {
    io.stdout(
      existing
        ? `${name} already exists for this request (status ${status}); nothing new was started.\n`
        : `started ${name}\n`,
    );
    io.stdout(`execution: ${executionArn}\n`);
    io.stdout(`follow it: milvus-l7 status ${executionArn} --watch\n`);
  }
  return 0;
}

function sameRequest(existingInput: string | undefined, request: ReturnType<typeof parseRequest>): boolean {
  if (existingInput === undefined) return false;
  try {
    return canonicalJson(parseRequest(JSON.parse(existingInput))) === canonicalJson(request);
  } catch {
    return false;
  }
}

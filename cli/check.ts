// `milvus-l7 check [--target ID] [--repair]`: start the drift check on the deployed state machine, with the input
// the check schedule sends ({"check": {}}), narrowed to one target and/or with policy repair. Follow it with
// `milvus-l7 status <arn> --watch`. (Running the check on this machine, like `milvus-l7 run`, is not there yet.)
import { parseArgs } from "node:util";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { CliIo } from "./io";
import { STATE_MACHINE_ARN, STATE_MACHINE_ENV, type SfnInjections, awsProblem, defaultSfn, sfnWithoutCredentials, stateMachineFrom } from "./stack";

export const CHECK_USAGE = `usage: milvus-l7 check [--target ID] [--repair] [options]

Starts the drift check of the deployed milvus-l7 state machine: for every target in the registry (or the one named),
the served certificate on every ALB address, Milvus, the Service's type and our Ingress's fields against what was
recorded. With --repair, drifted targets are re-applied, cut over and verified again; without, drift ends the run
FAILED as DriftFound (the alert).

  --target <id>          one target: <region>/<cluster>/<namespace>/<ingress> (milvus-l7 status lists them)
  --repair               repair what drifted instead of reporting it
  --state-machine <arn>  the state machine (default: $${STATE_MACHINE_ENV}; the stack's StateMachineArn output)
  --json                 print only {"executionArn","input"}

Exit status: 0 started, 1 AWS error, 2 usage.`;

const CHECK_OPTIONS = {
  target: { type: "string" },
  repair: { type: "boolean", default: false },
  "state-machine": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The workflow input: what resolve-request plans as a check (functions/resolve-request/check.ts). */
export function checkInput(target: string | undefined, repair: boolean): { check: { targetId?: string; repair?: true } } {
  return { check: { ...(target ? { targetId: target } : {}), ...(repair ? { repair: true as const } : {}) } };
}

export async function checkCommand(args: readonly string[], io: CliIo, inject: SfnInjections = {}): Promise<number> {
  const usage = (message: string) => {
    io.stderr(`milvus-l7 check: ${message}\n${CHECK_USAGE}\n`);
    return 2;
  };
  let values: { target?: string; repair?: boolean; "state-machine"?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], allowPositionals: false, strict: true, options: CHECK_OPTIONS }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    io.stdout(`${CHECK_USAGE}\n`);
    return 0;
  }
  if (values.target !== undefined && !/^[^/\s]+\/[^/\s]+\/[^/\s]+\/[^/\s]+$/.test(values.target)) {
    return usage("--target must be a target ID: <region>/<cluster>/<namespace>/<ingress>");
  }
  const stateMachineArn = stateMachineFrom(values["state-machine"], inject.env ?? process.env);
  if (!stateMachineArn) return usage(`name the state machine with --state-machine <arn> or ${STATE_MACHINE_ENV} (the stack's StateMachineArn output)`);
  const region = STATE_MACHINE_ARN.exec(stateMachineArn)?.[1];
  if (!region) return usage(`${stateMachineArn} is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);

  const input = checkInput(values.target, values.repair ?? false);
  const sfn = (inject.sfn ?? defaultSfn)(region);
  const noCredentials = await sfnWithoutCredentials(sfn);
  if (noCredentials) {
    io.stderr(`milvus-l7 check: ${noCredentials}\nNothing was started.\n`);
    return 1;
  }
  let executionArn: string;
  try {
    // Unnamed: every check is its own execution (a schedule's and a hand-started one may overlap; leases serialise them).
    executionArn = (await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }))).executionArn ?? "";
  } catch (e) {
    io.stderr(`milvus-l7 check: ${awsProblem(e, `states:StartExecution on ${stateMachineArn}`)}\n`);
    return 1;
  }
  if (values.json) io.stdout(`${JSON.stringify({ executionArn, input })}\n`);
  else {
    io.stdout(`started the drift check${values.target ? ` of ${values.target}` : ""}${values.repair ? " (repair)" : ""}\n`);
    io.stdout(`execution: ${executionArn}\nfollow it: milvus-l7 status ${executionArn} --watch\n`);
  }
  return 0;
}

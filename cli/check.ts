// `milvus-l7 check [--target ID] [--repair]`: the drift check, with the input the check schedule sends
// ({"check": {}}), narrowed to one target and/or with policy repair. Two modes, as deployments have two commands:
// with a state machine (--state-machine or $MILVUS_L7_STATE_MACHINE_ARN) it starts the deployed one (follow it with
// `milvus-l7 status <arn> --watch`); without, it runs the check on this machine exactly as `milvus-l7 run` runs a
// request (cli/run.ts executeLocally), against the local file registry.
import { parseArgs } from "node:util";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { sdkDefaultRegion } from "./aws";
import { fileRegistry } from "./file-registry";
import type { CliIo } from "./io";
import { LOCAL_ACCESS_USAGE, LOCAL_OPTIONS, type LocalOptions, type RunInjections, executeLocally, localOptions } from "./run";
import { STATE_MACHINE_ARN, STATE_MACHINE_ENV, type SfnInjections, awsProblem, defaultSfn, sfnWithoutCredentials, stateMachineFrom } from "./stack";

export const CHECK_USAGE = `usage: milvus-l7 check [--target ID] [--repair] [options]

The drift check: for every target in the registry (or the one named), the served certificate on every ALB address,
Milvus, the Service's type and our Ingress's fields against what was recorded. With --repair, drifted targets are
re-applied, cut over and verified again; without, drift ends the run FAILED as DriftFound (the alert).

Where it runs: with a state machine (--state-machine, or $${STATE_MACHINE_ENV}) it starts the
deployed stack's check, over the stack's registry; without one, it runs on this machine as \`milvus-l7 run\` does
(the same state machine definition and step code, your AWS credentials and cluster access), over the local
registry file.

  --target <id>          one target: <region>/<cluster>/<namespace>/<ingress> (milvus-l7 status lists them)
  --repair               repair what drifted instead of reporting it
  --json                 print only a JSON summary (deployed: {"executionArn","input"})

Deployed:
  --state-machine <arn>  the state machine (default: $${STATE_MACHINE_ENV}; the stack's StateMachineArn output)

On this machine (no state machine named), with the options of \`milvus-l7 run\`:
${LOCAL_ACCESS_USAGE}
  --name <id>           the run's name (default: check-<time>-<random>)
  --verbose             also copy the steps' logs to stderr
  --quiet               print only the final line
A kubeconfig reaches one cluster: the targets checked through it must all be on it (else name one with --target).

Exit status: deployed, 0 started, 1 AWS error, 2 usage. On this machine, 0 no drift (or all of it repaired),
1 drift found (DriftFound) or the check failed, 2 usage, 130 interrupted (Ctrl-C).`;

const CHECK_OPTIONS = {
  ...LOCAL_OPTIONS,
  target: { type: "string" },
  repair: { type: "boolean", default: false },
  "state-machine": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Options that only a check on this machine has: with a state machine they would silently do nothing. */
const LOCAL_ONLY = ["kubeconfig", "context", "registry", "log-file", "name", "verbose", "quiet"] as const;

const TARGET_ID = /^([^/\s]+)\/([^/\s]+)\/[^/\s]+\/[^/\s]+$/;

export type CheckInjections = SfnInjections & RunInjections;

/** The workflow input: what resolve-request plans as a check (functions/resolve-request/check.ts). */
export function checkInput(target: string | undefined, repair: boolean): { check: { targetId?: string; repair?: true } } {
  return { check: { ...(target ? { targetId: target } : {}), ...(repair ? { repair: true as const } : {}) } };
}

export async function checkCommand(args: readonly string[], io: CliIo, inject: CheckInjections = {}): Promise<number> {
  const usage = (message: string) => {
    io.stderr(`milvus-l7 check: ${message}\n${CHECK_USAGE}\n`);
    return 2;
  };
  let values: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: false; strict: true; options: typeof CHECK_OPTIONS }>>["values"];
  try {
    ({ values } = parseArgs({ args: [...args], allowPositionals: false, strict: true, options: CHECK_OPTIONS }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    io.stdout(`${CHECK_USAGE}\n`);
    return 0;
  }
  if (values.target !== undefined && !TARGET_ID.test(values.target)) {
    return usage("--target must be a target ID: <region>/<cluster>/<namespace>/<ingress>");
  }
  const input = checkInput(values.target, values.repair ?? false);
  const stateMachineArn = stateMachineFrom(values["state-machine"], inject.env ?? process.env);
  if (!stateMachineArn) {
    const local = localOptions(values);
    if ("error" in local) return usage(local.error);
    return checkLocally(input, values.target, local, io, inject);
  }
  const localOnly = LOCAL_ONLY.find((option) => values[option] !== undefined && values[option] !== false);
  if (localOnly) {
    const from = values["state-machine"] ? "--state-machine" : STATE_MACHINE_ENV;
    return usage(`--${localOnly} is for a check on this machine, but ${from} names a state machine: the deployed check runs`);
  }
  const region = STATE_MACHINE_ARN.exec(stateMachineArn)?.[1];
  if (!region) return usage(`${stateMachineArn} is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);

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

/**
 * The check on this machine. The registry file is read first (nothing is written) for what the run's clients and
 * kubeconfig must reach: the SDK clients are in one region, and a kubeconfig reaches one cluster, so the checked
 * targets must share them — else a target elsewhere would be read (or, with --repair, written) in the wrong place.
 */
async function checkLocally(
  input: ReturnType<typeof checkInput>,
  targetId: string | undefined,
  opts: LocalOptions,
  io: CliIo,
  inject: RunInjections,
): Promise<number> {
  const fail = (message: string) => {
    io.stderr(`milvus-l7 check: ${message}\nNothing was changed.\n`);
    return 1;
  };
  let records: Awaited<ReturnType<ReturnType<typeof fileRegistry>["list"]>>;
  try {
    records = await fileRegistry(opts.registry).list();
  } catch (e) {
    return fail((e as Error).message);
  }
  const chosen = targetId === undefined ? records : records.filter((r) => r.targetId === targetId);
  const clusters = [...new Map(chosen.map((r) => [`${r.target.cluster.region}/${r.target.cluster.name}`, r.target.cluster])).values()];
  const regions = [...new Set(clusters.map((c) => c.region))];
  if (regions.length > 1) {
    return fail(`the registry's targets are in ${regions.join(", ")}; a check on this machine uses one region's AWS clients, so check one region's targets at a time with --target`);
  }
  if (opts.kubeconfig && clusters.length > 1) {
    return fail(
      `--kubeconfig reaches one cluster, but the registry's targets are on ${clusters.map((c) => c.name).join(", ")}; check them one at a time with --target, or without --kubeconfig (the EKS path reaches each)`,
    );
  }
  // A target the registry does not hold (or an empty registry) still runs: ResolveRequest says so, as deployed.
  const named = targetId === undefined ? undefined : TARGET_ID.exec(targetId);
  const cluster = clusters[0] ?? (named ? { region: named[1] as string, name: named[2] as string } : undefined);
  const region = cluster?.region ?? inject.defaultRegion ?? (await sdkDefaultRegion());
  if (!region) return fail("the registry holds no target to take a region from and no default region is configured (set AWS_REGION or a profile region)");

  const what = `${targetId ?? `every target (${chosen.length})`}${input.check.repair ? ", repairing what drifted" : ""}`;
  return executeLocally(
    {
      command: "check",
      input,
      region,
      cluster,
      intro: (name) => [`Checking for drift on this machine as ${name}`, `  ${what}, in ${region}`],
    },
    opts,
    io,
    inject,
  );
}

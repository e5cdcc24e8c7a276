// milvus-l7 command line: `demo` runs the whole workflow in the local sandbox; `validate` checks a request offline;
// `run` runs the workflow on this machine against real AWS and a real cluster; `start` and `status` drive the
// deployed state machine; `check` does either for the drift check.
import "../statemachine/polyfills";
import { processIo, quietSdkNodeVersionNotice } from "./io";

const usage = `usage: milvus-l7 <command>

  demo [--scenario NAME]     run the workflow end to end in the local sandbox (moto, Kubernetes API, ALB, Milvus
                             stand-ins); --list names the scenarios, --json prints a JSON summary only
  validate <file>            check a deployment request against the schema, offline
  run <file> [options]       run the workflow on this machine against your AWS account and cluster (real waits)
  start <file> [options]     validate, then start an execution of the deployed state machine
  status <id|arn> [options]  an execution's status and progress; --watch follows it to the end
  check [--target ID] [--repair]  the drift check (every target, or one): on this machine like run, or with
                             --state-machine started on the deployed state machine
  rbac --namespace NS [...]  print the least-privilege Kubernetes Role and RoleBinding for kubectl apply -f -

Each command takes --help. run, start, status and check take --quiet (final line only; not a deployed check) and
--json (a JSON summary only).
`;

quietSdkNodeVersionNotice();
const io = processIo();

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "demo": {
      const { runDemo } = await import("./demo");
      return runDemo(args, io);
    }
    case "validate": {
      const { runValidate } = await import("./validate");
      return runValidate(args, console);
    }
    case "run": {
      const { runCommand } = await import("./run");
      const code = await runCommand(args, io);
      // Interrupted: the step in flight has finished and the leases are released; exit now rather than wait for
      // whatever else still holds the event loop (idle sockets, a library's timer).
      if (code === 130) process.stdout.write("", () => process.exit(code));
      return code;
    }
    case "start": {
      const { startCommand } = await import("./start");
      return startCommand(args, io);
    }
    case "check": {
      const { checkCommand } = await import("./check");
      const code = await checkCommand(args, io);
      // A check on this machine interrupted: as for run, exit now that its leases are released.
      if (code === 130) process.stdout.write("", () => process.exit(code));
      return code;
    }
    case "status": {
      const { statusCommand } = await import("./status");
      return statusCommand(args, io);
    }
    case "rbac": {
      const { rbacCommand } = await import("./rbac");
      return rbacCommand(args, io);
    }
    case undefined:
    case "-h":
    case "--help":
      process.stdout.write(usage);
      return command ? 0 : 2;
    default:
      process.stderr.write(`unknown command: ${command}\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);

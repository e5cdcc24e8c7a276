// milvus-l7 command line: `demo` runs the whole workflow in the local sandbox; `validate` checks a request offline.
import "./polyfills";

const usage = `usage: milvus-l7 <command>

  demo [--json]      run the workflow end to end in the local sandbox (moto, Kubernetes API, ALB, Milvus stand-ins)
  validate <file>    check a deployment request against the schema, offline
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "demo": {
      const { runDemo } = await import("./demo");
      return runDemo(args);
    }
    case "validate": {
      const { runValidate } = await import("./validate");
      return runValidate(args, console);
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

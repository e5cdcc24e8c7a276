// `milvus-l7 demo`: the real ASL and the real handlers against the local sandbox, step by step, then a summary.
import type { TargetSummary } from "../functions/record-deployment/core";
import type { Sandbox } from "../sandbox";
import type { WorkflowRun } from "../sandbox/workflow";
import { ProgressPrinter, summaryLines } from "./progress";

/** Per-event lines now come from the shared progress printer (also used by `run` and `status --watch`). */
export { describeEvent } from "./progress";

export interface DemoSummary {
  status: WorkflowRun["status"];
  executionArn: string;
  certificateArn?: string;
  certificateImported?: boolean;
  targets: TargetSummary[];
  /** The live Service type in the sandbox's apiserver after the run (not the workflow's own claim). */
  serviceTypeInCluster?: string;
  transitions: number;
  wallMs: number;
  error?: string;
  cause?: string;
}

export function summarise(run: WorkflowRun, sandbox: Sandbox, wallMs: number): DemoSummary {
  const output = (run.output ?? {}) as { certificate?: { arn: string; imported: boolean }; targets?: TargetSummary[] };
  const service = sandbox.kube.get<{ spec?: { type?: string } }>("Service", "milvus", "milvus-demo");
  return {
    status: run.status,
    executionArn: run.executionArn,
    certificateArn: output.certificate?.arn,
    certificateImported: output.certificate?.imported,
    targets: output.targets ?? [],
    serviceTypeInCluster: service?.spec?.type,
    transitions: run.transitions,
    wallMs,
    ...(run.error ? { error: run.error, cause: run.cause } : {}),
  };
}

function printSummary(s: DemoSummary, print: (line: string) => void) {
  for (const line of summaryLines(s)) print(line);
  print(`transitions:   ${s.transitions}`);
  print(`wall time:     ${(s.wallMs / 1000).toFixed(1)} s`);
}

export async function runDemo(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const print = json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  print("Starting the sandbox: moto, Kubernetes API, ALB controller, Milvus …");
  const { startSandbox } = await import("../sandbox");
  const sandbox = await startSandbox({ echoLogs: args.includes("--verbose") });
  try {
    const certificate = await sandbox.newCertificate();
    const secretArn = await sandbox.storeInSecret(certificate);
    const request = sandbox.request(secretArn);
    print(`Milvus Service milvus/milvus-demo is type LoadBalancer; certificate for ${certificate.leaf.cert.subject} is in ${secretArn}`);
    print("Running statemachine/milvus-l7.asl.json:");
    const printer = new ProgressPrinter({
      write: json ? () => undefined : (text) => process.stdout.write(text),
      interactive: !json && process.stdout.isTTY === true,
      columns: process.stdout.columns,
    });
    if (!json) printer.start();
    let run: WorkflowRun;
    try {
      run = await sandbox.run(request, { onEvent: (event) => printer.onLocalEvent(event) });
    } finally {
      printer.stop();
    }
    const summary = summarise(run, sandbox, Date.now() - started);
    if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else printSummary(summary, print);
    return summary.status === "SUCCEEDED" ? 0 : 1;
  } finally {
    await sandbox.stop();
  }
}

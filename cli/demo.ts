// `milvus-l7 demo`: the real ASL and the real handlers against the local sandbox, step by step, then a summary.
import type { Sandbox } from "../test/sandbox";
import type { EventLog, WorkflowRun } from "../test/sandbox/workflow";

export interface TargetSummary {
  host: string;
  namespace: string;
  service: string;
  albHostname: string;
  servedFingerprint256: string;
  servedNotAfter: string;
  milvusVersion: string;
  serviceType: string;
  previousServiceType: string;
  warnings: string[];
}

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

/** One line per Task/Wait entry, retry and failure, as they happen. */
export function describeEvent(event: EventLog, startedAt: number): string | undefined {
  const at = `${((event.timestamp - startedAt) / 1000).toFixed(2).padStart(6)}s`;
  const where = "index" in event && typeof event.index === "number" ? ` [target ${event.index}]` : "";
  switch (event.type) {
    case "StateEntered":
      return event.state.type === "Task" || event.state.type === "Wait" ? `${at}  ▶ ${event.state.name}${where}` : undefined;
    case "StateExited":
      return event.state.type === "Task" ? `${at}  ✓ ${event.state.name}${where}${exitDetail(event.state.name, event.state.output)}` : undefined;
    case "StateRetried":
      return `${at}  ↻ ${event.state.name}${where} retry ${event.retry.attempt}`;
    case "StateFailed":
      return `${at}  ✗ ${event.state.name}${where}: ${event.Error}: ${String(event.Cause)}`;
    case "ExecutionFailed":
      return `${at}  ✗ execution failed: ${event.Error}`;
    case "ExecutionSucceeded":
      return `${at}  ✓ execution succeeded`;
    default:
      return undefined;
  }
}

function exitDetail(state: string, output: unknown): string {
  const o = output as Record<string, Record<string, unknown> | undefined>;
  switch (state) {
    case "ImportCertificate":
      return ` — ${o.importedCertificate?.imported ? "imported" : "unchanged"} ${o.importedCertificate?.arn}`;
    case "GetIngressStatus":
      return o.ingress?.ready ? ` — address ${o.ingress.hostname}` : ` — poll ${o.ingress?.polls}: no address yet`;
    case "VerifyThroughAlb":
    case "VerifyAfterCutover":
      return ` — Milvus ${o.verification?.milvusVersion}, served SHA-256 ${o.verification?.servedFingerprint256}`;
    case "CutOverFirst":
    case "CutOver":
      return ` — Service ${o.service?.previousType} → ${o.service?.type}`;
    default:
      return "";
  }
}

function printSummary(s: DemoSummary, print: (line: string) => void) {
  print("");
  print(`status:        ${s.status}`);
  if (s.certificateArn) print(`certificate:   ${s.certificateArn}${s.certificateImported ? " (imported)" : " (unchanged)"}`);
  for (const t of s.targets) {
    print(`target:        ${t.host}  (${t.namespace}/${t.service})`);
    print(`  ALB:         ${t.albHostname}`);
    print(`  served cert: SHA-256 ${t.servedFingerprint256}, valid until ${t.servedNotAfter}`);
    print(`  Milvus:      ${t.milvusVersion}`);
    print(`  Service:     ${t.previousServiceType} → ${t.serviceType}`);
    for (const w of t.warnings) print(`  warning:     ${w}`);
  }
  if (s.error) print(`error:         ${s.error}: ${s.cause}`);
  print(`transitions:   ${s.transitions}`);
  print(`wall time:     ${(s.wallMs / 1000).toFixed(1)} s`);
}

export async function runDemo(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const print = json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  print("Starting the sandbox: moto, Kubernetes API, ALB controller, Milvus …");
  const { startSandbox } = await import("../test/sandbox");
  const sandbox = await startSandbox({ echoLogs: args.includes("--verbose") });
  try {
    const certificate = await sandbox.newCertificate();
    const secretArn = await sandbox.storeInSecret(certificate);
    const request = sandbox.request(secretArn);
    print(`Milvus Service milvus/milvus-demo is type LoadBalancer; certificate for ${certificate.leaf.cert.subject} is in ${secretArn}`);
    print("Running statemachine/milvus-l7.asl.json:");
    const runStarted = Date.now();
    const run = await sandbox.run(request, {
      onEvent: (event) => {
        const line = describeEvent(event, runStarted);
        if (line) print(line);
      },
    });
    const summary = summarise(run, sandbox, Date.now() - started);
    if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else printSummary(summary, print);
    return summary.status === "SUCCEEDED" ? 0 : 1;
  } finally {
    await sandbox.stop();
  }
}

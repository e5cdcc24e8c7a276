// The workflow steps, declared once. The stack builds one Lambda per row (infra/constructs/workflow-functions.ts),
// `milvus-l7 run` and the sandbox wire one local function per row (statemachine/wire-steps.ts), and the benchmark
// bundles and measures each row. What the ASL already says is read from it, never copied: a function's timeout
// follows its Task's TimeoutSeconds. What the ASL must say is written here and held to it state by state
// (test/workflow/steps-table.test.ts): every Task names a row's resource, stores its result where the row says,
// and retries exactly the errors the row lists.
import { readFileSync } from "node:fs";

export const ASL_URL = new URL("./milvus-l7.asl.json", import.meta.url);

/**
 * The Lambda service's transient failures, which every Task retries: the retrier Step Functions' own console adds
 * to a Lambda Task.
 */
export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "Lambda.ClientExecutionTimeoutException",
] as const;

/**
 * A Lambda's timeout is its Task's TimeoutSeconds less this, so that a stuck call ends as the function's own
 * timeout (with its logs) rather than as a States.Timeout that says nothing.
 */
export const FUNCTION_TIMEOUT_MARGIN_SECONDS = 10;

/** One Task state of the ASL that invokes a step. */
export interface TaskOfStep {
  state: string;
  /** Where the Task puts the function's result; `$` when the result replaces the state (no ResultPath). */
  resultPath: string;
  /** Each Retry's ErrorEquals in order, except the last one, which is always LAMBDA_SERVICE_ERRORS. */
  retries: string[][];
}

export interface StepDefinition {
  /** The folder under functions/ (its entry is functions/<name>/handler.ts), the Lambda's name and the logs' `step`. */
  name: string;
  /** The `${…}` placeholder of the function's ARN in the ASL. */
  resource: string;
  /** The stack output that names the deployed function. */
  stackOutput: string;
  description: string;
  memoryMb: number;
  /** Talks to the Kubernetes API: shares the Kubernetes-facing role (and its EKS access entry). */
  kubernetes: boolean;
  /** Reaches the cluster or the ALB, so it runs in the VPC when the cluster endpoint is private. */
  inVpc: boolean;
  tasks: TaskOfStep[];
}

const KUBERNETES_RETRIES = [["KubernetesUnavailable", "States.Timeout"]];

export const STEP_TABLE = [
  {
    name: "resolve-request",
    resource: "ResolveRequestFunctionArn",
    stackOutput: "ResolveRequestFunctionName",
    description: "milvus-l7: validate a deployment request and turn it into a plan",
    memoryMb: 256,
    kubernetes: false,
    inVpc: false,
    // A rejected request is final: only the Lambda service's own failures are worth another try.
    tasks: [{ state: "ResolveRequest", resultPath: "$", retries: [] }],
  },
  {
    name: "import-certificate",
    resource: "ImportCertificateFunctionArn",
    stackOutput: "ImportCertificateFunctionName",
    description: "milvus-l7: check the PEMs from the certificate source and import or re-import them into ACM",
    memoryMb: 256,
    // It reads a kubernetesSecret source (cert-manager's Secret) through the Kubernetes API, so it runs where the
    // cluster endpoint is reachable; but it keeps its own role, the only one that may import into ACM, rather than
    // sharing the Kubernetes-facing one (`kubernetes` means that sharing): the stack gives that role its own
    // eks:DescribeCluster grant.
    kubernetes: false,
    inVpc: true,
    tasks: [
      // KubernetesUnavailable: reading a kubernetesSecret source (an apiserver blip or throttling).
      { state: "ImportCertificate", resultPath: "$.importedCertificate", retries: [["AwsUnavailable"], ["KubernetesUnavailable"]] },
      // The drift check reads the recorded ARN for its trust anchors, re-importing first a newer certificate from the
      // recorded source (a cert-manager Secret too, hence KubernetesUnavailable).
      { state: "ReadRecordedCertificate", resultPath: "$.certificate", retries: [["AwsUnavailable"], ["KubernetesUnavailable"]] },
    ],
  },
  {
    name: "target-lease",
    resource: "TargetLeaseFunctionArn",
    stackOutput: "TargetLeaseFunctionName",
    description: "milvus-l7: claim or release the one-execution-per-target lease in the registry",
    memoryMb: 256,
    kubernetes: false,
    inVpc: false,
    tasks: [
      { state: "ClaimTarget", resultPath: "$.lease", retries: [["TargetBusy"], ["AwsUnavailable"]] },
      // A lease left behind would block the target until it expires: releasing survives a DynamoDB blip.
      { state: "ReleaseAfterFailure", resultPath: "$.released", retries: [["AwsUnavailable"]] },
      { state: "ClaimCheckedTarget", resultPath: "$.lease", retries: [["TargetBusy"], ["AwsUnavailable"]] },
      { state: "ReleaseCheckAfterFailure", resultPath: "$.released", retries: [["AwsUnavailable"]] },
    ],
  },
  {
    name: "patch-service",
    resource: "PatchServiceFunctionArn",
    stackOutput: "PatchServiceFunctionName",
    description: "milvus-l7: switch the Milvus Service to ClusterIP",
    memoryMb: 256,
    kubernetes: true,
    inVpc: true,
    tasks: [
      { state: "CutOverFirst", resultPath: "$.service", retries: KUBERNETES_RETRIES },
      { state: "CutOver", resultPath: "$.service", retries: KUBERNETES_RETRIES },
      { state: "RepairCutOver", resultPath: "$.service", retries: KUBERNETES_RETRIES },
    ],
  },
  {
    name: "apply-ingress",
    resource: "ApplyIngressFunctionArn",
    stackOutput: "ApplyIngressFunctionName",
    description: "milvus-l7: server-side apply the ALB Ingress for a Milvus Service",
    memoryMb: 256,
    kubernetes: true,
    inVpc: true,
    tasks: [
      { state: "ApplyIngress", resultPath: "$.ingress", retries: KUBERNETES_RETRIES },
      { state: "RepairIngress", resultPath: "$.ingress", retries: KUBERNETES_RETRIES },
    ],
  },
  {
    name: "get-ingress-status",
    resource: "GetIngressStatusFunctionArn",
    stackOutput: "GetIngressStatusFunctionName",
    description: "milvus-l7: one bounded watch for the Ingress address, with the controller's Warning events",
    memoryMb: 256,
    kubernetes: true,
    inVpc: true,
    tasks: [
      { state: "GetIngressStatus", resultPath: "$.ingress", retries: KUBERNETES_RETRIES },
      { state: "GetRepairedIngressStatus", resultPath: "$.ingress", retries: KUBERNETES_RETRIES },
    ],
  },
  {
    name: "verify-connection",
    resource: "VerifyConnectionFunctionArn",
    stackOutput: "VerifyConnectionFunctionName",
    description: "milvus-l7: TLS handshake and Milvus RPCs through the ALB",
    // gRPC and protobufjs load the Milvus service descriptor at cold start; the extra memory buys CPU for it.
    memoryMb: 512,
    kubernetes: false,
    inVpc: true,
    tasks: [
      // AwsUnavailable: reading the Milvus credentials secret (Secrets Manager throttling or a blip).
      { state: "VerifyThroughAlb", resultPath: "$.verification", retries: [["EndpointNotReady"], ["AwsUnavailable"]] },
      { state: "VerifyAfterCutover", resultPath: "$.verification", retries: [["EndpointNotReady"], ["AwsUnavailable"]] },
      // The drift check: its first verification's failure is a finding (caught), after a repair a failure.
      { state: "VerifyCheckedTarget", resultPath: "$.verification", retries: [["EndpointNotReady"], ["AwsUnavailable"]] },
      { state: "VerifyRepairedTarget", resultPath: "$.verification", retries: [["EndpointNotReady"], ["AwsUnavailable"]] },
    ],
  },
  {
    name: "diagnose-targets",
    resource: "DiagnoseTargetsFunctionArn",
    stackOutput: "DiagnoseTargetsFunctionName",
    description: "milvus-l7: explain an ALB that never served: ELB target health and the TargetGroupBindings' warnings",
    memoryMb: 256,
    kubernetes: true,
    inVpc: true,
    // What it cannot read goes into the Cause instead of failing it, and a failure of its own is caught with the
    // caught error kept: nothing of its own is worth another attempt.
    tasks: [
      { state: "DiagnoseTargets", resultPath: "$.error", retries: [] },
      { state: "DiagnoseTargetsAfterCutover", resultPath: "$.error", retries: [] },
    ],
  },
  {
    name: "remove-ingress",
    resource: "RemoveIngressFunctionArn",
    stackOutput: "RemoveIngressFunctionName",
    description: "milvus-l7: roll back the Ingress milvus-l7 created when the ALB path could not be proven",
    memoryMb: 256,
    kubernetes: true,
    inVpc: true,
    tasks: [{ state: "RemoveIngress", resultPath: "$.rollback", retries: KUBERNETES_RETRIES }],
  },
  {
    name: "upsert-dns",
    resource: "UpsertDnsFunctionArn",
    stackOutput: "UpsertDnsFunctionName",
    description: "milvus-l7: point the Milvus host at the ALB with a Route 53 alias record",
    memoryMb: 256,
    kubernetes: false,
    inVpc: false,
    tasks: [{ state: "UpsertDns", resultPath: "$.dns", retries: [["AwsUnavailable"]] }],
  },
  {
    name: "record-deployment",
    resource: "RecordDeploymentFunctionArn",
    stackOutput: "RecordDeploymentFunctionName",
    description: "milvus-l7: record a verified target in the deployments registry and release its lease",
    memoryMb: 256,
    kubernetes: false,
    inVpc: false,
    // Failing here after the cutover would leave a serving target out of the registry renewals read.
    tasks: [{ state: "RecordDeployment", resultPath: "$.summary", retries: [["AwsUnavailable"]] }],
  },
  {
    name: "check-target",
    resource: "CheckTargetFunctionArn",
    stackOutput: "CheckTargetFunctionName",
    description: "milvus-l7: drift check of one target: Service type, our Ingress's fields and owners, days to expiry (reads only)",
    memoryMb: 256,
    kubernetes: true,
    inVpc: true,
    tasks: [{ state: "InspectTarget", resultPath: "$.inspection", retries: KUBERNETES_RETRIES }],
  },
  {
    name: "record-check",
    resource: "RecordCheckFunctionArn",
    stackOutput: "RecordCheckFunctionName",
    description: "milvus-l7: record a drift check's findings in the registry, release the lease; end the check as DriftFound",
    memoryMb: 256,
    kubernetes: false,
    inVpc: false,
    tasks: [
      { state: "RecordCheck", resultPath: "$.summary", retries: [["AwsUnavailable"]] },
      // Pure (no AWS call): a DriftFound it throws is the run's end, never worth another try.
      { state: "SummariseCheck", resultPath: "$", retries: [] },
    ],
  },
] as const satisfies readonly StepDefinition[];

export type StepName = (typeof STEP_TABLE)[number]["name"];
export type StepResource = (typeof STEP_TABLE)[number]["resource"];
export type Step = (typeof STEP_TABLE)[number];

export const STEP_NAMES: readonly StepName[] = STEP_TABLE.map((s) => s.name);

export function stepNamed(name: StepName): Step {
  return STEP_TABLE.find((s) => s.name === name) as Step;
}

/** The row whose function the ASL names with `resource` (`ResolveRequestFunctionArn`). */
export function stepOfResource(resource: string): Step {
  const step = STEP_TABLE.find((s) => s.resource === resource);
  if (!step) throw new Error(`statemachine/milvus-l7.asl.json names \${${resource}}, which is no row of statemachine/steps.ts`);
  return step;
}

// ---------------------------------------------------------------------------------------------------------------
// The definition itself.

export interface AslState {
  Type: string;
  Resource?: string;
  ResultPath?: string | null;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  TimeoutSeconds?: number;
  ItemProcessor?: { States: Record<string, AslState> };
}

export function loadDefinition(): { States: Record<string, AslState> } {
  return JSON.parse(readFileSync(ASL_URL, "utf8"));
}

/** Every state in the definition, Map iterators included. */
export function allStates(states: Record<string, AslState> = loadDefinition().States): [string, AslState][] {
  return Object.entries(states).flatMap(([name, s]) => [
    [name, s] as [string, AslState],
    ...(s.ItemProcessor ? allStates(s.ItemProcessor.States) : []),
  ]);
}

/** The ASL's TimeoutSeconds of the step's Tasks (the longest, should they differ) less the margin. */
export function functionTimeoutSeconds(step: Step, states: [string, AslState][] = allStates()): number {
  const names = new Set<string>(step.tasks.map((t) => t.state));
  const asl = Math.max(...states.filter(([name]) => names.has(name)).map(([, s]) => s.TimeoutSeconds ?? 0));
  if (!(asl > FUNCTION_TIMEOUT_MARGIN_SECONDS)) {
    throw new Error(`statemachine/milvus-l7.asl.json: the Tasks of ${step.name} need a TimeoutSeconds above ${FUNCTION_TIMEOUT_MARGIN_SECONDS}`);
  }
  return asl - FUNCTION_TIMEOUT_MARGIN_SECONDS;
}

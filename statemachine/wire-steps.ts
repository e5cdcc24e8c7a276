// The real step handlers as local functions, one per row of the steps table, for running the ASL outside AWS:
// `milvus-l7 run` passes production clients (SDK clients, the operator's cluster access, a file registry) and the
// sandbox passes its stand-ins. Only the dependencies differ; the handlers, their middy stack and their logging are
// the ones Lambda runs.
import type { ACMClient } from "@aws-sdk/client-acm";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Route53Client } from "@aws-sdk/client-route-53";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as applyIngress from "../functions/apply-ingress/handler";
import * as checkTarget from "../functions/check-target/handler";
import * as diagnoseTargets from "../functions/diagnose-targets/handler";
import * as getIngressStatus from "../functions/get-ingress-status/handler";
import * as importCertificate from "../functions/import-certificate/handler";
import type { ClusterConnector } from "../functions/lib/kube";
import { stepMetrics } from "../functions/lib/metrics";
import type { Registry } from "../functions/lib/registry";
import * as patchService from "../functions/patch-service/handler";
import * as recordCheck from "../functions/record-check/handler";
import * as recordDeployment from "../functions/record-deployment/handler";
import * as removeIngress from "../functions/remove-ingress/handler";
import * as resolveRequest from "../functions/resolve-request/handler";
import * as targetLease from "../functions/target-lease/handler";
import * as upsertDns from "../functions/upsert-dns/handler";
import * as verifyConnection from "../functions/verify-connection/handler";
import type { VerifyDeps } from "../functions/verify-connection/core";
import { type LocalFunction, type LocalFunctions, lambdaContext } from "./runner";
import { STEP_TABLE, type StepName, allStates, functionTimeoutSeconds } from "./steps";

export interface AwsClients {
  acm: ACMClient;
  secretsManager: SecretsManagerClient;
  s3: S3Client;
  route53: Route53Client;
  /** ELBv2 in the run's region: diagnose-targets reads target health with it. */
  elbv2: ElasticLoadBalancingV2Client;
}

export interface StepDependencies {
  aws: AwsClients;
  registry: Registry;
  connect: ClusterConnector;
  /** Where verify-connection connects for an ALB host name (production: DNS). */
  resolve: VerifyDeps["resolve"];
  /** The region of a request that names none (the Lambda's AWS_REGION when deployed). */
  defaultRegion: string;
  /** Seconds one get-ingress-status poll holds its watch (the stack's ADDRESS_WATCH_SECONDS). */
  watchSeconds: number;
  /** verify-connection's bound per handshake and RPC; its own default when absent. */
  verifyTimeoutMs?: number;
  /** Whether verify-connection reaches the VPC (the stack's VERIFIER_IN_VPC); absent: unknown, nothing refused. */
  verifierInVpc?: boolean;
  /** Renewals' expiry threshold (the stack's EXPIRY_WARNING_DAYS); absent: resolve-request's default. */
  expiryWarningDays?: number;
  leaseSeconds: number;
  /** Whether a lease's holder is still running (DescribeExecution when deployed). */
  isRunning: (executionArn: string) => Promise<boolean>;
  /** Sees every invocation as it starts: the CLI lets the one in flight finish when it is interrupted. */
  onInvoke?: (step: StepName, call: Promise<unknown>) => void;
}

type Handler = (event: never, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

export function wireSteps(deps: StepDependencies): LocalFunctions {
  // The local runs collect the steps' logs from the global console, which is where Powertools writes in dev mode;
  // the logger reads this when the first handler is made below.
  process.env.POWERTOOLS_DEV = "true";
  // Dev mode turns Powertools Metrics off unless told otherwise; the local runs keep the EMF lines in those logs.
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
  const { aws, connect, registry } = deps;
  const handlers: Record<StepName, Handler> = {
    "resolve-request": resolveRequest.makeHandler({
      defaultRegion: deps.defaultRegion,
      watchSeconds: deps.watchSeconds,
      registry,
      ...(deps.verifierInVpc === undefined ? {} : { verifierInVpc: deps.verifierInVpc }),
      ...(deps.expiryWarningDays === undefined ? {} : { expiryWarningDays: deps.expiryWarningDays }),
    }),
    "import-certificate": importCertificate.makeHandler({ ...aws, connect, metrics: stepMetrics }),
    "target-lease": targetLease.makeHandler({ registry, ttlSeconds: deps.leaseSeconds, isRunning: deps.isRunning }),
    "patch-service": patchService.makeHandler({ connect }),
    "apply-ingress": applyIngress.makeHandler({ connect }),
    "get-ingress-status": getIngressStatus.makeHandler({ connect, watchSeconds: deps.watchSeconds }),
    "verify-connection": verifyConnection.makeHandler({
      resolve: deps.resolve,
      secretsManager: aws.secretsManager,
      metrics: stepMetrics,
      ...(deps.verifyTimeoutMs ? { timeoutMs: deps.verifyTimeoutMs } : {}),
    }),
    "diagnose-targets": diagnoseTargets.makeHandler({ connect, elbv2: () => aws.elbv2 }),
    "remove-ingress": removeIngress.makeHandler({ connect }),
    "upsert-dns": upsertDns.makeHandler({ route53: aws.route53 }),
    "record-deployment": recordDeployment.makeHandler({ registry, metrics: stepMetrics }),
    "check-target": checkTarget.makeHandler({ connect, metrics: stepMetrics }),
    "record-check": recordCheck.makeHandler({ registry }),
  };
  const states = allStates();
  const functions: Partial<LocalFunctions> = {};
  for (const step of STEP_TABLE) {
    const handler = handlers[step.name];
    // The deadline the deployed function has, so middy's timeout handling behaves as it does in Lambda.
    const timeoutMs = functionTimeoutSeconds(step, states) * 1000;
    const local: LocalFunction = (event) => {
      const call = handler(event as never, lambdaContext(`milvus-l7-${step.name}`, timeoutMs));
      deps.onInvoke?.(step.name, call);
      return call;
    };
    functions[step.resource] = local;
  }
  return functions as LocalFunctions;
}

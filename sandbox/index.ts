// The whole sandbox: moto (ACM, S3, Secrets Manager, STS), the Kubernetes API stand-in with EKS-shaped token
// checks and the Milvus Helm release, the ALB-controller simulator, and the Milvus stand-in — plus the six real
// handlers wired to them, and a runner for the real ASL. `npm run demo` and the integration tests use it.
import { ACMClient } from "@aws-sdk/client-acm";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ListHostedZonesCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { readFileSync } from "node:fs";
import { format } from "node:util";
import { fingerprintOf } from "../functions/lib/certificates";
import { eksConnector } from "../functions/lib/kube";
import { REGISTRY_TABLE, type Registry, dynamoRegistry } from "../functions/lib/registry";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type AlbController, startAlbController } from "./alb";
import { type AwsFaults, createAwsFaults } from "./aws-faults";
import { type KubeApiServer, eksTokenAuthenticator, loadMilvusDemoService, seedMilvusRelease, serviceAccountUser, startKubeApiServer, partitionOfRegion } from "./kube";
import { type MilvusServer, startMilvusServer } from "./milvus-server";
import { type MilvusOperator, startMilvusOperator } from "./operator";
import { type Moto, startMoto } from "./moto";
import { type CertificateSet, type CertificateSetOptions, certificateSet } from "./pki";
import { type TlsSecretRef, certManagerWriter } from "./cert-manager";
import { randomUUID } from "node:crypto";
import { alertInputTransformer, consoleOrigin } from "../functions/lib/alert-message";
import { failedExecutionPattern } from "../functions/lib/event-patterns";
import { type Json, type Pattern, executionStatusChange, matchesPattern, renderInputTransformer } from "./eventbridge";
import { wireSteps } from "../statemachine/wire-steps";
import { type LocalFunctions, type RunOptions, type WorkflowRun, executionArnOf, runWorkflow } from "./workflow";

/** A run in the sandbox, with the messages it would have published to the alert topic. */
export type SandboxRun = WorkflowRun & { alerts: string[] };

/**
 * The failure alert as the stack deploys it (infra/constructs/alerting.ts): its rule's pattern and its target's
 * InputTransformer, applied by the EventBridge model to the execution's status-change event.
 */
function alertsFor(event: Record<string, Json>): string[] {
  const detail = event.detail as { stateMachineArn: string };
  const pattern = failedExecutionPattern(detail.stateMachineArn) as Pattern;
  if (!matchesPattern(pattern, event)) return [];
  return [renderInputTransformer(alertInputTransformer(consoleOrigin(String(event.region))), event)];
}

export const REGION = "us-east-2";
export const CLUSTER = "milvus-eks";
export const HOST = "milvus-demo.milvus.io";
const CONSOLE_START = new URL("../events/console-start.json", import.meta.url);

export interface SandboxOptions {
  /**
   * The AWS region everything runs in (default REGION). A China or GovCloud region makes the cluster's authenticator
   * one of that partition, as an EKS cluster there is: it accepts only tokens presigned for its partition's STS.
   */
  region?: string;
  /** ALB provisioning time until the Ingress gets its hostname. */
  publishDelayMs?: number;
  /** Time until the ALB's targets are healthy (503 before). */
  healthyDelayMs?: number;
  /** How long one get-ingress-status poll holds its watch. */
  watchSeconds?: number;
  /** Copy handler log lines to stderr as they happen. */
  echoLogs?: boolean;
  /**
   * The cluster's load balancer controller: `self-managed` (default), the AWS Load Balancer Controller as its Helm
   * chart installs it; `auto`, EKS Auto Mode, with the IngressClass `alb` and IngressClassParams `alb` its user guide
   * has users create.
   */
  albMode?: "self-managed" | "auto";
  /** Self-managed only: whether the chart's validating webhook is installed (default true). */
  albWebhook?: boolean;
}

export interface Sandbox {
  moto: Moto;
  kube: KubeApiServer;
  /** A bearer token of the cluster's admin (system:masters): for kubectl setting up the cluster, never the product. */
  kubeAdminToken: string;
  alb: AlbController;
  milvus: MilvusServer;
  /** `elbv2` is the ALB simulator's ELBv2 API (target health of the simulated ALBs), the others moto. */
  aws: { acm: ACMClient; secretsManager: SecretsManagerClient; s3: S3Client; route53: Route53Client; elbv2: ElasticLoadBalancingV2Client };
  /** Makes the sandbox's AWS misbehave: error responses for chosen operations of the clients above and the registry's. */
  awsFaults: AwsFaults;
  /** The deployments registry, in moto's DynamoDB. */
  registry: Registry;
  /** The real handlers, wired to the sandbox. */
  functions: LocalFunctions;
  /**
   * As a stack deployed with (true) or without (false) the VPC context, which decides whether resolve-request may
   * plan internal ALBs (its VERIFIER_IN_VPC). Default true: the sandbox's verify-connection reaches every simulated
   * ALB, internal ones included.
   */
  setVerifierInVpc(inVpc: boolean): void;
  /** Every log line the handlers wrote (Powertools JSON), across runs. */
  logs: string[];
  /**
   * A leaf for `hosts` with its intermediate and root; the leaf's key goes to the ALB simulator's key store. The CA
   * is the sandbox's own, the same for every certificate, as a real CA issues renewals (so the previous and the
   * renewed certificate both chain to the trusted root and only the fingerprint tells them apart); `ca` picks
   * another, `newCa: true` mints one.
   */
  newCertificate(hosts?: string[], opts?: CertificateSetOptions & { newCa?: boolean }): Promise<CertificateSet>;
  /** Stores the PEMs as the secret milvus-l7 reads (`{certificate, chain, privateKey}`); returns its ARN. */
  storeInSecret(set: CertificateSet, name?: string): Promise<string>;
  /**
   * cert-manager issues `set` into a kubernetes.io/tls Secret of the cluster (tls.crt with the chain, tls.key,
   * ca.crt, its annotations), written through the API as its issuing controller writes it (sandbox/cert-manager.ts).
   */
  storeInTlsSecret(set: CertificateSet, ref: TlsSecretRef): Promise<void>;
  /** Another Milvus release in namespace milvus (a copy of the chart's Service under `name`). */
  addMilvusService(name: string): void;
  /**
   * Stores Milvus credentials as the secret a request's `milvus.credentials` names (`{"username", "password"}` or
   * `{"token"}`); returns its ARN.
   */
  storeMilvusCredentials(value: { username: string; password: string } | { token: string }, name?: string): Promise<string>;
  /** Starts the Milvus Operator stand-in on this apiserver (once; a second call returns the running one). */
  startMilvusOperator(opts?: { resyncMs?: number }): Promise<MilvusOperator>;
  /**
   * A Milvus managed by the Operator in namespace milvus: the `Milvus` CR `name` (cluster mode unless told, its
   * Service type LoadBalancer unless told), and the Service `<name>-milvus` the Operator then creates from it. Starts
   * the Operator if it is not running.
   */
  addOperatorMilvus(name: string, opts?: { mode?: "cluster" | "standalone"; serviceType?: string }): Promise<void>;
  /** events/console-start.json pointed at this sandbox: a new import from `secretArn`, or a re-import into `arn`. */
  request(secretArn: string, arn?: string): Record<string, unknown>;
  /**
   * Runs the real ASL; `alerts` holds what the failure alert rule would publish to the alert topic for this run
   * (sandbox/eventbridge.ts renders the stack's rule and InputTransformer against the execution's status change).
   */
  run(input: unknown, opts?: RunOptions): Promise<SandboxRun>;
  stop(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  const region = opts.region ?? REGION;
  try {
    const moto = await startMoto(region);
    stops.push(() => moto.stop());
    const clientConfig = { region, endpoint: moto.endpoint, credentials: moto.credentials };
    const motoAws = {
      acm: new ACMClient(clientConfig),
      secretsManager: new SecretsManagerClient(clientConfig),
      s3: new S3Client({ ...clientConfig, forcePathStyle: true }),
      route53: new Route53Client(clientConfig),
    };

    const awsFaults = createAwsFaults();
    for (const client of Object.values(motoAws)) awsFaults.attach(client);
    const dynamodb = new DynamoDBClient(clientConfig);
    awsFaults.attach(dynamodb);
    const registry = await createRegistry(dynamodb);

    // An EKS cluster's authenticator accepts tokens presigned for its own region's partition only.
    // The in-cluster controllers authenticate with their service accounts' tokens, not as an IAM principal.
    const controllerTokens = { alb: randomUUID(), operator: randomUUID(), certManager: randomUUID(), admin: randomUUID() };
    const kube = await startKubeApiServer({
      authenticate: eksTokenAuthenticator({ partition: partitionOfRegion(region) }),
      staticTokens: [
        { token: controllerTokens.alb, user: serviceAccountUser("kube-system", "aws-load-balancer-controller") },
        { token: controllerTokens.operator, user: serviceAccountUser("milvus-operator", "milvus-operator") },
        { token: controllerTokens.certManager, user: serviceAccountUser("cert-manager", "cert-manager") },
        // The cluster creator's admin access: kubectl setting up the cluster in a scenario (its RBAC), never the product.
        { token: controllerTokens.admin, user: "kubernetes-admin", groups: ["system:masters"] },
      ],
    });
    stops.push(() => kube.close());
    seedMilvusRelease(kube);

    const milvus = await startMilvusServer();
    stops.push(() => milvus.close());

    const keys = new Map<string, string>();
    // The sandbox's CA, minted with the first certificate.
    let sandboxCa: CertificateSet | undefined;
    const alb = await startAlbController({
      kube: { url: kube.url, caPem: kube.caPem, token: controllerTokens.alb },
      acm: motoAws.acm,
      privateKeyFor: (certificatePem) => keys.get(fingerprintOf(certificatePem)),
      // target-type ip registers the Milvus proxy pods behind the Service; here every Milvus Service's gRPC port
      // is the stand-in.
      targetFor: (namespace, service, port) =>
        namespace === "milvus" && port === 19530 && kube.get("Service", namespace, service) ? { host: milvus.host, port: milvus.port } : undefined,
      region,
      publishDelayMs: opts.publishDelayMs ?? 300,
      healthyDelayMs: opts.healthyDelayMs ?? 300,
      clusterName: CLUSTER,
      mode: opts.albMode,
      webhook: opts.albWebhook,
    });
    stops.push(() => alb.close());
    // EKS Auto Mode installs no IngressClass: its user guide ("Create an IngressClass to configure an Application
    // Load Balancer", awsdocs/amazon-eks-user-guide latest/ug/automode/auto-configure-alb.adoc) has users create
    // IngressClassParams and an IngressClass, named alb here like the chart's.
    if (opts.albMode === "auto") {
      kube.put({ apiVersion: "eks.amazonaws.com/v1", kind: "IngressClassParams", metadata: { name: "alb" }, spec: { scheme: "internet-facing" } });
      kube.put({
        apiVersion: "networking.k8s.io/v1",
        kind: "IngressClass",
        metadata: { name: "alb", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } },
        spec: { controller: "eks.amazonaws.com/alb", parameters: { apiGroup: "eks.amazonaws.com", kind: "IngressClassParams", name: "alb" } },
      });
    }
    // The simulator serves the ELBv2 API of its ALBs; moto's credentials, as for every other client.
    const aws: Sandbox["aws"] = { ...motoAws, elbv2: new ElasticLoadBalancingV2Client({ region, endpoint: alb.elbv2Endpoint, credentials: moto.credentials }) };
    awsFaults.attach(aws.elbv2);

    let operator: MilvusOperator | undefined;
    const startOperator = async (operatorOpts: { resyncMs?: number } = {}) => {
      if (operator) return operator;
      const started = await startMilvusOperator({ kube: { url: kube.url, caPem: kube.caPem, token: controllerTokens.operator }, ...operatorOpts });
      stops.push(() => started.close());
      operator = started;
      return started;
    };

    // Executions in flight, for the lease's "is its holder still running?" (DescribeExecution in production).
    const running = new Set<string>();
    const handlerEnv = { kube, moto, alb, aws, registry, running, region, watchSeconds: opts.watchSeconds ?? 5 };
    let functions = realHandlers({ ...handlerEnv, verifierInVpc: true });
    const logs: string[] = [];
    // Creates the secret, or puts a new value into it when it exists (a second scenario in the same sandbox).
    const putSecret = async (name: string, SecretString: string) => {
      try {
        return (await aws.secretsManager.send(new CreateSecretCommand({ Name: name, SecretString }))).ARN ?? "";
      } catch (e) {
        if ((e as Error).name !== "ResourceExistsException") throw e;
        return (await aws.secretsManager.send(new PutSecretValueCommand({ SecretId: name, SecretString }))).ARN ?? "";
      }
    };

    return {
      moto,
      kube,
      kubeAdminToken: controllerTokens.admin,
      alb,
      milvus,
      aws,
      awsFaults,
      registry,
      get functions() {
        return functions;
      },
      setVerifierInVpc(inVpc) {
        functions = realHandlers({ ...handlerEnv, verifierInVpc: inVpc });
      },
      logs,
      async newCertificate(hosts = [HOST], { newCa = false, ...issueOpts } = {}) {
        const set = await certificateSet(hosts, { ca: newCa ? undefined : sandboxCa, ...issueOpts });
        if (!newCa && !issueOpts.ca) sandboxCa ??= set;
        keys.set(fingerprintOf(set.leaf.certPem), set.leaf.keyPem);
        return set;
      },
      storeInSecret(set, name = "milvus-l7/milvus-demo-tls") {
        return putSecret(name, JSON.stringify({ certificate: set.leaf.certPem, chain: set.chainPem, privateKey: set.leaf.keyPem }));
      },
      storeInTlsSecret(set, ref) {
        return certManagerWriter({ url: kube.url, caPem: kube.caPem, token: controllerTokens.certManager }).issue(set, ref);
      },
      storeMilvusCredentials(value, name = "milvus-l7/milvus-credentials") {
        return putSecret(name, JSON.stringify(value));
      },
      addMilvusService(name) {
        const service = loadMilvusDemoService();
        service.metadata = { ...service.metadata, name, uid: randomUUID() };
        kube.put(service);
      },
      startMilvusOperator: startOperator,
      async addOperatorMilvus(name, { mode = "cluster", serviceType = "LoadBalancer" } = {}) {
        const running = await startOperator();
        const component = mode === "cluster" ? "proxy" : "standalone";
        kube.put({
          apiVersion: "milvus.io/v1beta1",
          kind: "Milvus",
          metadata: { name, namespace: "milvus" },
          spec: { mode, components: { [component]: { serviceType } } },
        });
        // The Operator hears of the CR through its watch: wait until it has created the Service.
        const deadline = Date.now() + 10_000;
        while (!kube.get("Service", "milvus", `${name}-milvus`)) {
          if (Date.now() > deadline) throw new Error(`the Milvus Operator stand-in did not create Service milvus/${name}-milvus`);
          await new Promise((r) => setTimeout(r, 20));
        }
        await running.idle();
      },
      request(secretArn, arn) {
        const request = JSON.parse(readFileSync(CONSOLE_START, "utf8"));
        request.cluster = { name: CLUSTER, region };
        request.certificate = { ...(arn ? { arn } : {}), source: { secretsManager: { secretId: secretArn } } };
        return request;
      },
      async run(input, runOpts = {}) {
        const executionName = runOpts.executionName ?? randomUUID();
        const restore = captureConsole(logs, opts.echoLogs ?? false);
        running.add(executionArnOf(executionName));
        try {
          const startedAt = new Date();
          const run = await runWorkflow(input, functions, { ...runOpts, executionName });
          return { ...run, alerts: alertsFor(executionStatusChange(run, input, startedAt, new Date())) };
        } finally {
          running.delete(executionArnOf(executionName));
          restore();
        }
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function realHandlers(env: {
  kube: KubeApiServer;
  moto: Moto;
  alb: AlbController;
  aws: Sandbox["aws"];
  registry: Registry;
  running: Set<string>;
  watchSeconds: number;
  verifierInVpc: boolean;
  region: string;
}): LocalFunctions {
  // The real EKS path except DescribeCluster (moto's EKS has no usable endpoint or CA): real tokens, checked
  // by the stand-in the way EKS checks them.
  const connect = eksConnector({
    describeCluster: async () => ({ endpoint: `${env.kube.url}/`, caData: Buffer.from(env.kube.caPem).toString("base64") }),
    credentials: async () => env.moto.credentials,
  });
  return wireSteps({
    aws: env.aws,
    registry: env.registry,
    connect,
    resolve: (hostname) => sandboxDns(hostname, env.alb, env.aws.route53),
    defaultRegion: env.region,
    watchSeconds: env.watchSeconds,
    verifyTimeoutMs: 5_000,
    verifierInVpc: env.verifierInVpc,
    leaseSeconds: 7200,
    isRunning: async (arn) => env.running.has(arn),
  });
}

/**
 * What DNS answers in the sandbox: an ALB hostname resolves to every node of the simulated ALB; any other name is
 * looked up in moto's Route 53 and followed through its alias record to the ALB, as a resolver would. Only the A
 * alias: the simulated ALBs are IPv4 (ip-address-type ipv4, the controller's default), so an AAAA alias to one
 * answers no records.
 */
async function sandboxDns(hostname: string, alb: AlbController, route53: Route53Client): Promise<{ address: string; port: number }[]> {
  const direct = alb.resolve(hostname);
  if (direct.length > 0) return direct;
  const { HostedZones = [] } = await route53.send(new ListHostedZonesCommand({}));
  for (const zone of HostedZones) {
    const { ResourceRecordSets = [] } = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.Id }));
    const record = ResourceRecordSets.find((r) => r.Name?.replace(/\.$/, "") === hostname && r.Type === "A");
    const target = record?.AliasTarget?.DNSName?.replace(/\.$/, "").replace(/^dualstack\./, "");
    const found = target ? alb.resolve(target) : [];
    if (found.length > 0) return found;
  }
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
}

/** The registry table as the CDK stack defines it (same key schema, from functions/lib/registry). */
export async function createRegistry(dynamodb: DynamoDBClient, TableName = "milvus-l7-deployments"): Promise<Registry> {
  const { partitionKey, certificateIndex } = REGISTRY_TABLE;
  await dynamodb.send(
    new CreateTableCommand({
      TableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: "S" },
        { AttributeName: certificateIndex.partitionKey, AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        { IndexName: certificateIndex.name, KeySchema: [{ AttributeName: certificateIndex.partitionKey, KeyType: "HASH" }], Projection: { ProjectionType: "ALL" } },
      ],
    }),
  );
  return dynamoRegistry(DynamoDBDocumentClient.from(dynamodb), TableName);
}

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

/** Collects what the handlers log (Powertools in dev mode writes to the global console). */
function captureConsole(sink: string[], echo: boolean): () => void {
  const saved = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
  for (const method of CONSOLE_METHODS) {
    console[method] = (...args: unknown[]) => {
      const line = format(...args);
      sink.push(line);
      if (echo) process.stderr.write(`${line}\n`);
    };
  }
  return () => {
    for (const [method, fn] of saved) console[method] = fn;
  };
}

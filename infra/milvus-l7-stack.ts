// The milvus-l7 stack: the workflow's Lambdas and their least-privilege roles, the STANDARD state machine from
// the ASL file, the deployments registry (records + per-target leases), cluster access for the
// Kubernetes-facing role, the renewal triggers (EventBridge → the state machine), the HTTP API for portals, and
// failure alerting.
import { Annotations, CfnOutput, Stack, type StackProps, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { DEFAULT_CLUSTER_NAME, type MilvusL7Config } from "./config";
import { Alerting } from "./constructs/alerting";
import { Dashboard } from "./constructs/dashboard";
import { ClusterAccess } from "./constructs/cluster-access";
import { HttpApi } from "./constructs/http-api";
import { CheckSchedule } from "./constructs/check-schedule";
import { Registry } from "./constructs/registry";
import { RenewalTriggers } from "./constructs/renewal-triggers";
import { Workflow, executionsArnFor, stateMachineNameFor } from "./constructs/workflow";
import { STEP_TABLE, type StepName as Step } from "../statemachine/steps";
import { WorkflowFunctions } from "./constructs/workflow-functions";
import { iam5ResourceFinding } from "./nag";

export interface MilvusL7StackProps extends StackProps {
  config: MilvusL7Config;
}

export class MilvusL7Stack extends Stack {
  readonly config: MilvusL7Config;
  readonly functions: Record<Step, lambda.Function>;
  readonly roles: {
    resolveRequest: iam.Role;
    importCertificate: iam.Role;
    kubernetes: iam.Role;
    verifyConnection: iam.Role;
    recordDeployment: iam.Role;
    recordCheck: iam.Role;
    targetLease: iam.Role;
    upsertDns: iam.Role;
  };
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;
  /** Every execution of the state machine: `arn:…:states:<region>:<account>:execution:<name>:*`. */
  readonly executionsArn: string;
  readonly registry: Registry;
  readonly clusterAccess: ClusterAccess;
  readonly renewals: RenewalTriggers;
  readonly checkSchedule?: CheckSchedule;
  readonly api: HttpApi;
  readonly alerting: Alerting;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MilvusL7StackProps) {
    super(scope, id, {
      description: "milvus-l7: puts Milvus on EKS behind an ALB with TLS (Step Functions workflow of Lambdas)",
      ...props,
    });
    const config = props.config;
    this.config = config;

    if (config.clusterName === DEFAULT_CLUSTER_NAME) {
      Validations.of(this).addWarning(
        "milvus-l7:defaultClusterName",
        `clusterName is the synth placeholder "${DEFAULT_CLUSTER_NAME}": deploy with -c clusterName=<your EKS cluster>.`,
      );
    }
    if (config.certificateSecretArns.length === 0 && config.certificateBuckets.length === 0) {
      Annotations.of(this).addInfoV2(
        "milvus-l7:noCertificateSources",
        "No certificateSecretArns or certificateBuckets: import-certificate can only use certificates already in ACM.",
      );
    }

    const lambdaRole = (id: string, description: string) =>
      new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"), description });
    this.roles = {
      resolveRequest: lambdaRole("ResolveRequestRole", "milvus-l7 resolve-request: read the deployments registry for renewals"),
      importCertificate: lambdaRole("ImportCertificateRole", "milvus-l7 import-certificate: read the PEM sources, import into ACM"),
      kubernetes: lambdaRole(
        "KubernetesRole",
        "milvus-l7 apply-ingress, get-ingress-status, patch-service, remove-ingress: the Milvus namespace(s) of one EKS cluster",
      ),
      // The trust anchors come with the certificate in the step's input (ImportedCertificate.trustAnchors); its only
      // AWS API is reading the configured Milvus credentials secrets (grantVerifyConnection).
      verifyConnection: lambdaRole(
        "VerifyConnectionRole",
        "milvus-l7 verify-connection: TLS and gRPC through the ALB, with the configured Milvus credentials secrets",
      ),
      recordDeployment: lambdaRole("RecordDeploymentRole", "milvus-l7 record-deployment: write the deployments registry"),
      recordCheck: lambdaRole("RecordCheckRole", "milvus-l7 record-check: update the drift check's fields of registry records"),
      targetLease: lambdaRole("TargetLeaseRole", "milvus-l7 target-lease: lease items of the deployments registry, this workflow's executions"),
      upsertDns: lambdaRole("UpsertDnsRole", "milvus-l7 upsert-dns: alias records in the configured Route 53 hosted zones"),
    };

    // Named up front: target-lease's grant needs the executions' ARN before the state machine exists (workflow.ts).
    this.stateMachineName = stateMachineNameFor(this);
    this.executionsArn = executionsArnFor(this, this.stateMachineName);

    const fns = new WorkflowFunctions(this, "Functions", {
      roles: {
        "resolve-request": this.roles.resolveRequest,
        "import-certificate": this.roles.importCertificate,
        "apply-ingress": this.roles.kubernetes,
        "get-ingress-status": this.roles.kubernetes,
        "verify-connection": this.roles.verifyConnection,
        "patch-service": this.roles.kubernetes,
        "record-deployment": this.roles.recordDeployment,
        "target-lease": this.roles.targetLease,
        "remove-ingress": this.roles.kubernetes,
        "diagnose-targets": this.roles.kubernetes,
        "upsert-dns": this.roles.upsertDns,
        // Reads only, through the same access entry as the other Kubernetes steps (docs/deploy.md).
        "check-target": this.roles.kubernetes,
        "record-check": this.roles.recordCheck,
      },
      logRetention: config.logRetention,
      vpc: config.vpc,
    });
    this.functions = fns.functions;

    this.registry = new Registry(this, "Registry");
    const tableName = this.registry.table.tableName;
    this.registry.grantRecord(this.roles.recordDeployment);
    this.functions["record-deployment"].addEnvironment("REGISTRY_TABLE_NAME", tableName);
    this.registry.grantCheckRecord(this.roles.recordCheck);
    this.functions["record-check"].addEnvironment("REGISTRY_TABLE_NAME", tableName);

    // Renewal events are planned from the registry: Query by certificate (ACM), Scan by source object (S3). The
    // configured locations let it end cleanly for objects elsewhere (functions/resolve-request/triggers.ts).
    this.registry.grantRenewalReads(this.roles.resolveRequest);
    this.functions["resolve-request"].addEnvironment("REGISTRY_TABLE_NAME", tableName);
    this.functions["resolve-request"].addEnvironment("CERTIFICATE_BUCKETS", JSON.stringify(config.certificateBuckets));
    // A renewal that finds nothing newer fails as CertificateExpiring (and alerts) within this many days of expiry.
    this.functions["resolve-request"].addEnvironment("EXPIRY_WARNING_DAYS", String(config.expiryWarningDays));

    // One execution per target: conditional writes on lease items, and DescribeExecution on this state machine's
    // executions to take over a lease whose execution is no longer running.
    this.registry.grantLease(this.roles.targetLease);
    this.functions["target-lease"].addEnvironment("REGISTRY_TABLE_NAME", tableName);
    this.roles.targetLease.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: "CheckLeaseHolder", actions: ["states:DescribeExecution"], resources: [this.executionsArn] }),
    );
    Validations.of(this.roles.targetLease).acknowledge({
      id: iam5ResourceFinding(this, this.executionsArn),
      reason:
        "states:DescribeExecution on the executions of this one state machine (execution:<name>:*): the lease holder is an execution named at run time.",
    });

    this.grantImportCertificate(this.roles.importCertificate, config);
    this.grantVerifyConnection(this.roles.verifyConnection, config);

    this.grantUpsertDns(this.roles.upsertDns, config);

    this.clusterAccess = new ClusterAccess(this, "ClusterAccess", {
      role: this.roles.kubernetes,
      clusterName: config.clusterName,
      namespaces: config.milvusNamespaces,
      createAccessEntry: config.createAccessEntry,
      kubernetesAccess: config.kubernetesAccess,
      kubernetesGroup: config.kubernetesGroup,
      certificateReaderRole: this.roles.importCertificate,
    });

    const workflow = new Workflow(this, "Workflow", {
      stateMachineName: this.stateMachineName,
      functions: this.functions,
      logRetention: config.logRetention,
    });
    this.stateMachine = workflow.stateMachine;

    this.renewals = new RenewalTriggers(this, "Renewals", { stateMachine: this.stateMachine, certificateBuckets: config.certificateBuckets });
    // The drift check of every target, unless checkSchedule=off (milvus-l7 check still runs it on demand).
    this.checkSchedule = config.checkSchedule
      ? new CheckSchedule(this, "CheckSchedule", { stateMachine: this.stateMachine, schedule: config.checkSchedule })
      : undefined;

    this.api = new HttpApi(this, "Http", {
      config: config.api,
      stateMachine: this.stateMachine,
      executionsArn: this.executionsArn,
      registry: this.registry,
      logRetention: config.logRetention,
    });

    this.alerting = new Alerting(this, "Alerting", {
      stateMachine: this.stateMachine,
      alarmEmail: config.alarmEmail,
      alarmTopicArn: config.alarmTopicArn,
    });
    // Runs by outcome, verification latency, days to expiry, drift; alarms on expiry and drift to the alert topic.
    this.dashboard = new Dashboard(this, "Dashboard", {
      stateMachine: this.stateMachine,
      alerting: this.alerting,
      expiryWarningDays: config.expiryWarningDays,
    });

    new CfnOutput(this, "StateMachineArn", { description: "The milvus-l7 workflow: start executions here", value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, "StateMachineName", { description: "Name of the workflow's state machine (Step Functions console)", value: this.stateMachineName });
    for (const step of STEP_TABLE) {
      new CfnOutput(this, step.stackOutput, { description: `Lambda function of the ${step.name} step`, value: this.functions[step.name].functionName });
    }
  }

  /** Every ACM certificate in this account and region: a new import creates an ARN nobody knows in advance. */
  private certificateArns(): string {
    return this.formatArn({ service: "acm", resource: "certificate", resourceName: "*" });
  }

  /**
   * upsert-dns: UPSERT of A/AAAA records in the configured hosted zones only (Route 53's record-level condition
   * keys), and GetChange to wait for INSYNC. No zones configured → no ChangeResourceRecordSets at all.
   */
  private grantUpsertDns(role: iam.Role, config: MilvusL7Config): void {
    if (config.route53HostedZoneIds.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: "UpsertAliasRecords",
          actions: ["route53:ChangeResourceRecordSets"],
          resources: config.route53HostedZoneIds.map((zone) => `arn:${this.partition}:route53:::hostedzone/${zone}`),
          conditions: {
            "ForAllValues:StringEquals": {
              "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
              "route53:ChangeResourceRecordSetsRecordTypes": ["A", "AAAA"],
            },
          },
        }),
      );
    }
    // A change id is known only once ChangeResourceRecordSets answers.
    const changes = `arn:${this.partition}:route53:::change/*`;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: "WaitForDnsChange", actions: ["route53:GetChange"], resources: [changes] }));
    Validations.of(role).acknowledge({
      id: iam5ResourceFinding(this, changes),
      reason: "route53:GetChange on Route 53 changes: the change id exists only once ChangeResourceRecordSets returns it; a change id reveals nothing but its status.",
    });
  }

  /** The PEM objects under a configured location (`prefix/*`, or the whole bucket for ""). */
  private certificateObjects(bucket: string, prefix: string): string {
    return `arn:${this.partition}:s3:::${bucket}/${prefix === "" ? "" : `${prefix}/`}*`;
  }

  /** Exactly the configured Milvus credentials secrets, and their KMS keys through Secrets Manager only; none → no grant. */
  private grantVerifyConnection(role: iam.Role, config: MilvusL7Config): void {
    if (config.milvusCredentialSecretArns.length === 0) return;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ReadMilvusCredentials",
        actions: ["secretsmanager:GetSecretValue"],
        resources: config.milvusCredentialSecretArns,
      }),
    );
    if (config.kmsKeyArns.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: "DecryptMilvusCredentials",
          actions: ["kms:Decrypt"],
          resources: config.kmsKeyArns,
          conditions: { StringEquals: { "kms:ViaService": [`secretsmanager.${this.region}.amazonaws.com`] } },
        }),
      );
    }
  }

  private grantImportCertificate(role: iam.Role, config: MilvusL7Config): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ImportCertificates",
        actions: [
          "acm:ImportCertificate",
          // ImportCertificate with Tags (a new import is tagged managed-by=milvus-l7) is also authorised as
          // AddTagsToCertificate.
          "acm:AddTagsToCertificate",
          "acm:DescribeCertificate",
          "acm:GetCertificate",
          "acm:ListTagsForCertificate",
        ],
        resources: [this.certificateArns()],
      }),
    );
    // A kubernetesSecret source (cert-manager's Secret) is read in the configured cluster: find its endpoint. What the
    // role may read inside the cluster is its access entry's (docs/deploy.md).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "DescribeMilvusCluster",
        actions: ["eks:DescribeCluster"],
        resources: [this.formatArn({ service: "eks", resource: "cluster", resourceName: config.clusterName })],
      }),
    );
    // ACM's ListCertificates has no resource type: IAM only accepts Resource "*" for it. It returns summaries
    // (ARNs, domain names, dates), no key material; the step uses it to find its own earlier import on a re-run.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: "FindEarlierImports", actions: ["acm:ListCertificates"], resources: ["*"] }));

    if (config.certificateSecretArns.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: "ReadCertificateSecrets",
          actions: ["secretsmanager:GetSecretValue"],
          resources: config.certificateSecretArns,
        }),
      );
    }
    if (config.certificateBuckets.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: "ReadCertificateObjects",
          actions: ["s3:GetObject"],
          resources: config.certificateBuckets.map(({ bucket, prefix }) => this.certificateObjects(bucket, prefix)),
        }),
      );
    }
    if (config.kmsKeyArns.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: "DecryptCertificateSources",
          actions: ["kms:Decrypt"],
          resources: config.kmsKeyArns,
          // Only when Secrets Manager or S3 decrypt on the step's behalf, never a direct kms:Decrypt.
          conditions: {
            StringEquals: { "kms:ViaService": [`secretsmanager.${this.region}.amazonaws.com`, `s3.${this.region}.amazonaws.com`] },
          },
        }),
      );
    }

    Validations.of(role).acknowledge(
      {
        id: "AwsSolutions-IAM5[Resource::*]",
        reason: "acm:ListCertificates supports no resource-level permissions (AWS accepts only Resource \"*\"); it lists certificate summaries, no key material.",
      },
      {
        id: iam5ResourceFinding(this, this.certificateArns()),
        reason:
          "ACM certificates of this account and region: ImportCertificate creates a certificate whose ARN is unknown until it exists, and re-imports and reads target ARNs chosen per request.",
      },
      ...config.certificateBuckets.map(({ bucket, prefix }) => ({
        id: iam5ResourceFinding(this, this.certificateObjects(bucket, prefix)),
        reason: "s3:GetObject under a configured certificate prefix only: the PEM object keys below it are named per request.",
      })),
    );
  }
}

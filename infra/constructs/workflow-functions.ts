// One Lambda function per workflow step (infra/constructs/lambda.ts: local esbuild with infra/bundle.ts's
// options, own log group with retention, an execution role from the stack that gets only the log-write grant
// here), and, for a private cluster endpoint, the VPC placement of the cluster- and ALB-facing steps.
import { Duration, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { DEFAULT_WATCH_SECONDS } from "../../functions/lib/polling";
import type { VpcPlacement } from "../config";
import { milvusFunction } from "./lambda";

export const STEPS = [
  "resolve-request",
  "import-certificate",
  "apply-ingress",
  "get-ingress-status",
  "verify-connection",
  "patch-service",
  "record-deployment",
  "target-lease",
  "remove-ingress",
  "upsert-dns",
] as const;
export type Step = (typeof STEPS)[number];

/** The `${…}` name each step's function ARN has in statemachine/milvus-l7.asl.json. */
export const ASL_SUBSTITUTIONS: Record<Step, string> = {
  "resolve-request": "ResolveRequestFunctionArn",
  "import-certificate": "ImportCertificateFunctionArn",
  "apply-ingress": "ApplyIngressFunctionArn",
  "get-ingress-status": "GetIngressStatusFunctionArn",
  "verify-connection": "VerifyConnectionFunctionArn",
  "patch-service": "PatchServiceFunctionArn",
  "record-deployment": "RecordDeploymentFunctionArn",
  "target-lease": "TargetLeaseFunctionArn",
  "remove-ingress": "RemoveIngressFunctionArn",
  "upsert-dns": "UpsertDnsFunctionArn",
};

/** Steps that talk to the Kubernetes API (or, for verify-connection, to the ALB in front of the cluster). */
export const IN_VPC_STEPS: readonly Step[] = ["apply-ingress", "get-ingress-status", "patch-service", "remove-ingress", "verify-connection"];

/** The steps that share the Kubernetes-facing role (and with it the EKS access entry). */
export const KUBERNETES_STEPS: readonly Step[] = ["apply-ingress", "get-ingress-status", "patch-service", "remove-ingress"];

interface StepSettings {
  description: string;
  /** Below the ASL Task's TimeoutSeconds, so a stuck call ends as the function's own timeout, not a States.Timeout. */
  timeout: Duration;
  memorySize: number;
  environment?: Record<string, string>;
}

/** How long get-ingress-status holds its Kubernetes watch; resolve-request sizes the poll budget with it. */
export const ADDRESS_WATCH_SECONDS = DEFAULT_WATCH_SECONDS;

const SETTINGS: Record<Step, StepSettings> = {
  "resolve-request": {
    description: "milvus-l7: validate a deployment request and turn it into a plan",
    timeout: Duration.seconds(20), // ASL: 30
    memorySize: 256,
    environment: { ADDRESS_WATCH_SECONDS: String(ADDRESS_WATCH_SECONDS) },
  },
  "import-certificate": {
    description: "milvus-l7: check the PEMs from the certificate source and import or re-import them into ACM",
    timeout: Duration.seconds(50), // ASL: 60
    memorySize: 256,
  },
  "apply-ingress": {
    description: "milvus-l7: server-side apply the ALB Ingress for a Milvus Service",
    timeout: Duration.seconds(50), // ASL: 60
    memorySize: 256,
  },
  "get-ingress-status": {
    description: "milvus-l7: one bounded watch for the Ingress address, with the controller's Warning events",
    // The watch holds up to ADDRESS_WATCH_SECONDS, then events are listed: twice the watch leaves room for a
    // cold start and the EKS DescribeCluster call. ASL: 90.
    timeout: Duration.seconds(2 * ADDRESS_WATCH_SECONDS),
    memorySize: 256,
    environment: { ADDRESS_WATCH_SECONDS: String(ADDRESS_WATCH_SECONDS) },
  },
  "verify-connection": {
    description: "milvus-l7: TLS handshake and Milvus RPCs through the ALB",
    timeout: Duration.seconds(100), // ASL: 120
    memorySize: 512, // gRPC + protobufjs parse the Milvus protos at cold start
  },
  "patch-service": {
    description: "milvus-l7: switch the Milvus Service to ClusterIP",
    timeout: Duration.seconds(50), // ASL: 60
    memorySize: 256,
  },
  "record-deployment": {
    description: "milvus-l7: record a verified target in the deployments registry and release its lease",
    timeout: Duration.seconds(20), // ASL: 30
    memorySize: 256,
  },
  "target-lease": {
    description: "milvus-l7: claim or release the one-execution-per-target lease in the registry",
    timeout: Duration.seconds(20), // ASL: 30
    memorySize: 256,
  },
  "remove-ingress": {
    description: "milvus-l7: roll back the Ingress milvus-l7 created when the ALB path could not be proven",
    timeout: Duration.seconds(50), // ASL: 60
    memorySize: 256,
  },
  "upsert-dns": {
    description: "milvus-l7: point the Milvus host at the ALB with a Route 53 alias record",
    timeout: Duration.seconds(20), // ASL: 30
    memorySize: 256,
  },
};

export interface WorkflowFunctionsProps {
  /** Execution role per step; steps may share one (the Kubernetes-facing ones do). */
  roles: Record<Step, iam.Role>;
  logRetention: logs.RetentionDays;
  vpc?: VpcPlacement;
}

export class WorkflowFunctions extends Construct {
  readonly functions: Record<Step, lambda.Function>;

  constructor(scope: Construct, id: string, props: WorkflowFunctionsProps) {
    super(scope, id);

    let network: Pick<lambda.FunctionProps, "vpc" | "vpcSubnets" | "securityGroups"> = {};
    if (props.vpc) {
      // Attributes, not Vpc.fromLookup: the synth stays offline and needs no credentials. The subnets are
      // given explicitly below, so the VPC's zone list is only a formality (the stack's, possibly tokens).
      const vpc = ec2.Vpc.fromVpcAttributes(this, "Vpc", { vpcId: props.vpc.vpcId, availabilityZones: Stack.of(this).availabilityZones });
      network = {
        vpc,
        vpcSubnets: { subnets: props.vpc.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, id)) },
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(this, "SecurityGroup", props.vpc.securityGroupId, { mutable: false })],
      };
    }

    const functions: Partial<Record<Step, lambda.Function>> = {};
    for (const step of STEPS) {
      const settings = SETTINGS[step];
      functions[step] = milvusFunction(this, step, {
        name: step,
        description: settings.description,
        timeout: settings.timeout,
        memorySize: settings.memorySize,
        role: props.roles[step],
        logRetention: props.logRetention,
        environment: settings.environment,
        network: props.vpc !== undefined && IN_VPC_STEPS.includes(step) ? network : undefined,
      });
    }
    this.functions = functions as Record<Step, lambda.Function>;

    if (props.vpc) {
      for (const role of new Set(IN_VPC_STEPS.map((step) => props.roles[step]))) {
        // Lambda creates and deletes the functions' ENIs in the configured subnets with the execution role:
        // what the AWS managed AWSLambdaVPCAccessExecutionRole grants, inline. The Describe calls support no
        // resource-level permissions, and the ENIs the others act on are created by Lambda at run time.
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: "LambdaVpcNetworkInterfaces",
            actions: [
              "ec2:CreateNetworkInterface",
              "ec2:DescribeNetworkInterfaces",
              "ec2:DescribeSubnets",
              "ec2:DeleteNetworkInterface",
              "ec2:AssignPrivateIpAddresses",
              "ec2:UnassignPrivateIpAddresses",
            ],
            resources: ["*"],
          }),
        );
        Validations.of(role).acknowledge({
          id: "AwsSolutions-IAM5[Resource::*]",
          reason:
            "Lambda VPC attachment: the EC2 network-interface actions Lambda performs with the execution role are not resource-scopable (the same grant as AWSLambdaVPCAccessExecutionRole, inline).",
        });
      }
    }
  }
}

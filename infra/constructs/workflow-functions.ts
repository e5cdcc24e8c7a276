// One Lambda function per row of the steps table (statemachine/steps.ts: description, memory, the timeout the
// ASL gives its Task; infra/constructs/lambda.ts: local esbuild with infra/bundle.ts's options, own log group with
// retention, an execution role from the stack that gets only the log-write grant here), and, for a private
// cluster endpoint, the VPC placement of the cluster- and ALB-facing steps.
import { Duration, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { DEFAULT_WATCH_SECONDS } from "../../functions/lib/polling";
import type { VpcPlacement } from "../config";
import { STEP_NAMES, STEP_TABLE, type StepName, allStates, functionTimeoutSeconds } from "../../statemachine/steps";
import { milvusFunction } from "./lambda";

export { STEP_NAMES as STEPS, type StepName as Step };

/** Steps that talk to the Kubernetes API (or, for verify-connection, to the ALB in front of the cluster). */
export const IN_VPC_STEPS: readonly StepName[] = STEP_TABLE.filter((s) => s.inVpc).map((s) => s.name);

/** The steps that share the Kubernetes-facing role (and with it the EKS access entry). */
export const KUBERNETES_STEPS: readonly StepName[] = STEP_TABLE.filter((s) => s.kubernetes).map((s) => s.name);

/** How long get-ingress-status holds its Kubernetes watch; resolve-request sizes the poll budget with it. */
export const ADDRESS_WATCH_SECONDS = DEFAULT_WATCH_SECONDS;

/** Environment beyond Powertools' settings: both ends of the address wait must agree on the watch length. */
const ENVIRONMENT: Partial<Record<StepName, Record<string, string>>> = {
  "resolve-request": { ADDRESS_WATCH_SECONDS: String(ADDRESS_WATCH_SECONDS) },
  "get-ingress-status": { ADDRESS_WATCH_SECONDS: String(ADDRESS_WATCH_SECONDS) },
};

export interface WorkflowFunctionsProps {
  /** Execution role per step; steps may share one (the Kubernetes-facing ones do). */
  roles: Record<StepName, iam.Role>;
  logRetention: logs.RetentionDays;
  vpc?: VpcPlacement;
}

export class WorkflowFunctions extends Construct {
  readonly functions: Record<StepName, lambda.Function>;

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

    // resolve-request refuses internal-scheme requests when verify-connection cannot reach the VPC's addresses.
    const verifierInVpc = props.vpc !== undefined && STEP_TABLE.some((s) => s.name === "verify-connection" && s.inVpc);
    const placement: Partial<Record<StepName, Record<string, string>>> = {
      "resolve-request": { VERIFIER_IN_VPC: String(verifierInVpc) },
    };

    const states = allStates();
    const functions: Partial<Record<StepName, lambda.Function>> = {};
    for (const step of STEP_TABLE) {
      functions[step.name] = milvusFunction(this, step.name, {
        name: step.name,
        description: step.description,
        timeout: Duration.seconds(functionTimeoutSeconds(step, states)),
        memorySize: step.memoryMb,
        role: props.roles[step.name],
        logRetention: props.logRetention,
        environment: { ...ENVIRONMENT[step.name], ...placement[step.name] },
        network: props.vpc !== undefined && step.inVpc ? network : undefined,
      });
    }
    this.functions = functions as Record<StepName, lambda.Function>;

    // diagnose-targets reads the ALB's target groups and their targets' health. ELB's Describe actions support no
    // resource-level permissions (Service Authorization Reference, Elastic Load Balancing V2): the resource must be *.
    const diagnoseRole = props.roles["diagnose-targets"];
    diagnoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "ReadTargetHealth",
        actions: [
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetHealth",
        ],
        resources: ["*"],
      }),
    );
    Validations.of(diagnoseRole).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Target-health diagnosis: elasticloadbalancing:DescribeLoadBalancers, DescribeTargetGroups and DescribeTargetHealth are read-only and support no resource-level permissions, so they can only be granted on *.",
    });

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

// The stack the infra tests synthesize: one context with every optional part switched on, the ARNs that context
// yields, and helpers that read the synthesized template by role and function.
import { afterAll, beforeAll } from "vitest";
import type { StepName as Step } from "../../statemachine/steps";
import { type Statement, type Synthesized, identityStatements, logicalIdOf, policyOfRole, render, synthesize } from "./synth";

export const SECRET_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-demo.milvus.io-Qx7pZ2";
export const MILVUS_SECRET_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-credentials-Ab12Cd";
export const KMS_KEY_ARN = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
export const HOSTED_ZONE = "Z0123456789ABCDEFGHIJ";
export const CONTEXT = {
  clusterName: "milvus-prod",
  milvusNamespaces: ["milvus", "milvus-staging"],
  certificateSecretArns: [SECRET_ARN],
  // Two prefixes in one bucket (one S3 rule for both) and a whole second bucket (a rule of its own).
  certificateBuckets: [{ bucket: "milvus-certs", prefix: "/letsencrypt/live/" }, "milvus-certs/cert-manager", "other-certs"],
  kmsKeyArns: [KMS_KEY_ARN],
  milvusCredentialSecretArns: [MILVUS_SECRET_ARN],
  route53HostedZoneIds: [HOSTED_ZONE],
  alarmEmail: "platform@example.com",
};
export const STATE_MACHINE_NAME = "MilvusL7Test-workflow";

export const ACM_CERTIFICATES = "arn:{AWS::Partition}:acm:{AWS::Region}:{AWS::AccountId}:certificate/*";
export const CERT_OBJECTS = [
  "arn:{AWS::Partition}:s3:::milvus-certs/letsencrypt/live/*",
  "arn:{AWS::Partition}:s3:::milvus-certs/cert-manager/*",
  "arn:{AWS::Partition}:s3:::other-certs/*",
];
export const CLUSTER_ARN = "arn:{AWS::Partition}:eks:{AWS::Region}:{AWS::AccountId}:cluster/milvus-prod";
export const EXECUTIONS = `arn:{AWS::Partition}:states:{AWS::Region}:{AWS::AccountId}:execution:${STATE_MACHINE_NAME}:*`;
export const DNS_CHANGES = "arn:{AWS::Partition}:route53:::change/*";

/** Actions AWS only authorises on Resource "*"; any other action on "*" fails the IAM test. */
export const WILDCARD_RESOURCE_ACTIONS = new Set([
  // ACM ListCertificates has no resource type: IAM accepts only "*". (import-certificate finds its own earlier
  // import on a re-run with it; it returns summaries, no key material.)
  "acm:ListCertificates",
  // ELBv2 Describe actions support no resource-level permissions (diagnose-targets reads the ALB's target health).
  "elasticloadbalancing:DescribeLoadBalancers",
  "elasticloadbalancing:DescribeTargetGroups",
  "elasticloadbalancing:DescribeTargetHealth",
  // Added by CDK for the state machine's CloudWatch Logs destination: log delivery has no resource types.
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
  // Added by CDK for the state machine's X-Ray tracing: no resource types.
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
]);

/**
 * Wildcard ARNs that are still scoped: new ACM imports get unknown ARNs; PEM keys under a configured prefix;
 * this state machine's executions; Route 53 change ids.
 */
export const SCOPED_WILDCARD_RESOURCES = new Set([ACM_CERTIFICATES, ...CERT_OBJECTS, EXECUTIONS, DNS_CHANGES]);

type RoleKey = keyof Synthesized["stack"]["roles"];

/**
 * Synthesizes the stack once for the calling test file (in beforeAll; `bundle` runs esbuild for every function)
 * and returns the synthesis with helpers that name its resources.
 */
export function synthesizedStack(opts: { bundle: boolean }) {
  let synthesized: Synthesized | undefined;
  beforeAll(() => {
    const started = Date.now();
    synthesized = synthesize(CONTEXT, opts);
    // Visible in the test output: what bundling every function with esbuild costs.
    if (opts.bundle) console.info(`infra: synthesized with bundling in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);
  afterAll(() => synthesized?.cleanup());
  const s = () => {
    if (!synthesized) throw new Error("the stack is synthesized in beforeAll");
    return synthesized;
  };
  const roleId = (role: RoleKey) => logicalIdOf(s().stack, s().stack.roles[role]);
  const statementsOf = (roleKey: RoleKey): Statement[] => {
    const policy = policyOfRole(s().json, roleId(roleKey));
    return identityStatements(s().json).filter((st) => st.policy === policy);
  };
  const nonLogStatements = (roleKey: RoleKey) =>
    statementsOf(roleKey).filter((st) => !st.Action.every((a) => a === "logs:CreateLogStream" || a === "logs:PutLogEvents"));
  return {
    s,
    fnId: (step: Step) => logicalIdOf(s().stack, s().stack.functions[step]),
    apiFnId: () => logicalIdOf(s().stack, s().stack.api.function),
    stateMachineId: () => logicalIdOf(s().stack, s().stack.stateMachine),
    tableId: () => logicalIdOf(s().stack, s().stack.registry.table),
    envOf: (logicalId: string) => s().template.findResources("AWS::Lambda::Function")[logicalId]?.Properties.Environment.Variables,
    roleId,
    statementsOf,
    nonLogStatements,
    /** [actions, rendered resources, condition] of a role's statements other than its log writes, in order. */
    grants: (roleKey: RoleKey) => nonLogStatements(roleKey).map((st) => [st.Action, st.Resource.map(render), st.Condition]),
    statementsOfRoleId: (roleLogicalId: string): Statement[] => {
      const policy = policyOfRole(s().json, roleLogicalId);
      return identityStatements(s().json).filter((st) => st.policy === policy);
    },
  };
}

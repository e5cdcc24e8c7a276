// Configuration variants of the stack: a private setup (Lambdas in a VPC for a private cluster endpoint, a
// PRIVATE API behind VPC endpoints, the API Gateway logs role set by the stack), aws-auth clusters without an
// access entry, an existing alert topic, a stack pinned to an account and region, the bare synth defaults, and
// the CDK app entry point itself.
//
// These synthesize WITHOUT bundling the Lambda code (CDK's `aws:cdk:bundling-stacks` context set to none, as
// `cdk synth --exclusively` does for unselected stacks): the code assets are placeholders, everything else in
// the template is what a deploy gets. stack.test.ts covers the real esbuild bundling.
import { Annotations, Match } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acmExpiringPattern } from "../../functions/lib/event-patterns";
import { IN_VPC_STEPS } from "../../infra/constructs/workflow-functions";
import { STEP_NAMES as STEPS } from "../../statemachine/steps";
import { REPO_ROOT } from "../../infra/paths";
import { type Synthesized, cfnLint, identityStatements, logicalIdOf, policyOfRole, render, synthesize } from "./synth";

const ENI_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

const VPC_ENDPOINTS = ["vpce-0123456789abcdef0", "vpce-0123456789abcdef1"];

describe("private setup: Lambdas in the VPC, a PRIVATE API, the API Gateway logs role", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(
      {
        clusterName: "milvus-private",
        vpcId: "vpc-0123456789abcdef0",
        vpcSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        securityGroupId: "sg-0123456789abcdef0",
        apiVpcEndpointIds: VPC_ENDPOINTS.join(","),
        apiRateLimit: "5",
        apiBurstLimit: "8",
        setApiGatewayLogsRole: "true",
      },
      { bundle: false },
    );
  });
  afterAll(() => s?.cleanup());

  it("puts the cluster- and ALB-facing functions in the given subnets and security group, and only those", () => {
    const fns = s.template.findResources("AWS::Lambda::Function");
    for (const step of STEPS) {
      const vpcConfig = fns[logicalIdOf(s.stack, s.stack.functions[step])]?.Properties.VpcConfig;
      if (IN_VPC_STEPS.includes(step)) {
        expect(vpcConfig, step).toEqual({
          SubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
          SecurityGroupIds: ["sg-0123456789abcdef0"],
        });
      } else {
        expect(vpcConfig, step).toBeUndefined();
      }
    }
    // No lookups and nothing created in the VPC: the security group is the operator's.
    s.template.resourceCountIs("AWS::EC2::SecurityGroup", 0);
  });

  it("tells resolve-request that verify-connection runs in the VPC (internal ALBs allowed)", () => {
    const fns = s.template.findResources("AWS::Lambda::Function");
    const env = fns[logicalIdOf(s.stack, s.stack.functions["resolve-request"])]?.Properties.Environment.Variables;
    expect(env.VERIFIER_IN_VPC).toBe("true");
  });

  it("grants the ENI actions (Resource *) to the in-VPC roles only", () => {
    const eniPolicies = new Set(
      identityStatements(s.json)
        .filter((st) => st.Action.some((a) => a.startsWith("ec2:")))
        .map((st) => {
          expect(st.Action).toEqual(ENI_ACTIONS);
          expect(st.Resource).toEqual(["*"]);
          return st.policy;
        }),
    );
    const { kubernetes, verifyConnection, importCertificate, resolveRequest } = s.stack.roles;
    const policy = (role: typeof kubernetes) => policyOfRole(s.json, logicalIdOf(s.stack, role));
    // import-certificate reads a kubernetesSecret source through the (possibly private) cluster endpoint.
    expect(eniPolicies).toEqual(new Set([policy(kubernetes), policy(verifyConnection), policy(importCertificate)]));
    expect(eniPolicies.has(policy(resolveRequest))).toBe(false);
  });

  it("makes the API PRIVATE, associated with the endpoints, invocable by this account only through them", () => {
    const api = Object.values(s.template.findResources("AWS::ApiGateway::RestApi"))[0]?.Properties;
    expect(api.EndpointConfiguration).toEqual({ Types: ["PRIVATE"], VpcEndpointIds: VPC_ENDPOINTS });
    const statements = api.Policy.Statement as { Sid: string; Effect: string; Principal: unknown; Action: string; Resource: string; Condition: unknown }[];
    expect(statements.map((st) => [st.Sid, st.Effect, st.Action, st.Resource, st.Condition])).toEqual([
      ["InvokeThroughVpcEndpoints", "Allow", "execute-api:Invoke", "execute-api:/*", { StringEquals: { "aws:SourceVpce": VPC_ENDPOINTS } }],
      ["DenyOutsideVpcEndpoints", "Deny", "execute-api:Invoke", "execute-api:/*", { StringNotEquals: { "aws:SourceVpce": VPC_ENDPOINTS } }],
    ]);
    // The Allow names the account (its principals still need execute-api:Invoke in their own policies).
    expect(render((statements[0]?.Principal as { AWS: unknown } | undefined)?.AWS)).toBe("arn:{AWS::Partition}:iam::{AWS::AccountId}:root");
    expect(statements[1]?.Principal).toEqual({ AWS: "*" });
    for (const m of Object.values(s.template.findResources("AWS::ApiGateway::Method"))) expect(m.Properties.AuthorizationType).toBe("AWS_IAM");
    const stage = Object.values(s.template.findResources("AWS::ApiGateway::Stage"))[0]?.Properties;
    expect(stage.MethodSettings).toEqual([expect.objectContaining({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 8 })]);
    expect(s.json.Outputs?.ApiUrl?.Description).toMatch(/PRIVATE/);
  });

  it("sets the region's API Gateway CloudWatch Logs role, retained, before the stage enables logging", () => {
    const accounts = Object.entries(s.template.findResources("AWS::ApiGateway::Account"));
    expect(accounts).toHaveLength(1);
    const [accountId, account] = accounts[0] as [string, { Properties: { CloudWatchRoleArn: unknown }; DeletionPolicy?: string }];
    expect(account.DeletionPolicy).toBe("Retain");
    const roleId = render(account.Properties.CloudWatchRoleArn).replace(/^\{|\.Arn\}$/g, "");
    const role = s.template.findResources("AWS::IAM::Role")[roleId];
    expect(role?.DeletionPolicy).toBe("Retain");
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" } },
    ]);
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = identityStatements(s.json).filter((st) => st.policy === policyOfRole(s.json, roleId));
    expect(statements.map((st) => [st.Action, st.Resource.map(render)])).toEqual([
      [
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        ["arn:{AWS::Partition}:logs:{AWS::Region}:{AWS::AccountId}:log-group:*"],
      ],
    ]);
    const stage = Object.values(s.template.findResources("AWS::ApiGateway::Stage"))[0];
    expect(stage?.DependsOn).toContain(accountId);
  });

  it("passes cdk-nag (the ENI and log-group wildcards acknowledged with their reasons) and cfn-lint", async () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const errors = (await cfnLint(s.templatePath)).filter((f) => f.Level === "Error");
    expect(errors.map((f) => `${f.Rule.Id} ${f.Message}`)).toEqual([]);
  }, 180_000);
});

describe("cluster on the aws-auth ConfigMap (createAccessEntry=false)", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ clusterName: "legacy", milvusNamespaces: "milvus-a,milvus-b", createAccessEntry: "false" }, { bundle: false });
  });
  afterAll(() => s?.cleanup());

  it("creates no access entry but still lets the role describe the cluster", () => {
    s.template.resourceCountIs("AWS::EKS::AccessEntry", 0);
    const describe = identityStatements(s.json).filter((st) => st.Action.includes("eks:DescribeCluster"));
    // The Kubernetes-facing role, and import-certificate's (for a kubernetesSecret source).
    expect(describe.map((st) => st.Resource.map(render))).toEqual(Array(2).fill(["arn:{AWS::Partition}:eks:{AWS::Region}:{AWS::AccountId}:cluster/legacy"]));
  });

  it("outputs the command to run instead, one RoleBinding per namespace", () => {
    const output = s.json.Outputs?.AwsAuthCommand;
    expect(output?.Description).toMatch(/^Run this once/);
    const command = render(output?.Value);
    expect(command).toMatch(/^eksctl create iamidentitymapping --cluster legacy --region \{AWS::Region\} --arn \{KubernetesRole[0-9A-F]+\.Arn\} --username milvus-l7 && /);
    expect(command.match(/kubectl create rolebinding milvus-l7-edit --clusterrole=edit --user=milvus-l7 --namespace=\S+/g)).toEqual([
      "kubectl create rolebinding milvus-l7-edit --clusterrole=edit --user=milvus-l7 --namespace=milvus-a",
      "kubectl create rolebinding milvus-l7-edit --clusterrole=edit --user=milvus-l7 --namespace=milvus-b",
    ]);
  });
});

describe("least-privilege cluster access (kubernetesAccess=rbac)", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ clusterName: "milvus-rbac", milvusNamespaces: "milvus-a,milvus-b", kubernetesAccess: "rbac", kubernetesGroup: "platform-milvus" }, { bundle: false });
  });
  afterAll(() => s?.cleanup());

  it("creates the access entry with the Kubernetes group and no access policy", () => {
    const entries = Object.values(s.template.findResources("AWS::EKS::AccessEntry")).map((e) => e.Properties);
    // The Kubernetes-facing role's, and import-certificate's own (the certificate readers' group).
    expect(entries.map((e) => e.KubernetesGroups)).toEqual([["platform-milvus"], ["platform-milvus-certificates"]]);
    expect(entries[0]).toMatchObject({ ClusterName: "milvus-rbac", Type: "STANDARD" });
    for (const entry of entries) expect(entry).not.toHaveProperty("AccessPolicies");
  });

  it("outputs the commands that bind the printed Role to that group (access entry and aws-auth)", () => {
    expect(s.json.Outputs?.KubernetesRbacCommand?.Value).toBe(
      "npx milvus-l7 rbac --namespace milvus-a --namespace milvus-b --group platform-milvus | kubectl apply -f -",
    );
    const command = render(s.json.Outputs?.AwsAuthCommand?.Value);
    expect(command).toMatch(/--username milvus-l7 --group platform-milvus && npx milvus-l7 rbac --namespace milvus-a --namespace milvus-b --group platform-milvus \| kubectl apply -f - && /);
    expect(command).toMatch(/--username platform-milvus-certificates --group platform-milvus-certificates$/);
    expect(command).not.toContain("--clusterrole=edit");
  });

  it("passes cdk-nag and cfn-lint", async () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const errors = (await cfnLint(s.templatePath)).filter((f) => f.Level === "Error");
    expect(errors.map((f) => `${f.Rule.Id} ${f.Message}`)).toEqual([]);
  }, 180_000);
});

describe("an existing alert topic (alarmTopicArn)", () => {
  const topicArn = "arn:aws:sns:us-east-2:123456789012:platform-alerts";
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ alarmTopicArn: topicArn }, { bundle: false });
  });
  afterAll(() => s?.cleanup());

  it("creates no topic or key and points the rule and the alarm at the given topic", () => {
    s.template.resourceCountIs("AWS::SNS::Topic", 0);
    s.template.resourceCountIs("AWS::KMS::Key", 0);
    s.template.resourceCountIs("AWS::SNS::Subscription", 0);
    s.template.hasResourceProperties("AWS::Events::Rule", { Targets: [Match.objectLike({ Arn: topicArn })] });
    s.template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "ExecutionsFailed", AlarmActions: [topicArn] });
  });
});

describe("pinned to an account and region (-c account=… -c region=…)", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(
      { account: "123456789012", region: "us-east-2", certificateBuckets: "milvus-certs/live", route53HostedZoneIds: "Z0123456789ABCDEFGHIJ" },
      { bundle: false },
    );
  });
  afterAll(() => s?.cleanup());

  it("renders literal ARNs, and every cdk-nag acknowledgement still matches its finding", () => {
    const lease = identityStatements(s.json).find((st) => st.Action.includes("states:DescribeExecution") && st.Action.length === 1);
    expect(lease?.Resource.map(render)).toEqual(["arn:{AWS::Partition}:states:us-east-2:123456789012:execution:MilvusL7Test-workflow:*"]);
    const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`)).toEqual([]);
  });
});

describe("the bare defaults (a clean clone's `cdk synth`)", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({}, { bundle: false });
  });
  afterAll(() => s?.cleanup());

  it("uses the placeholder cluster and says so", () => {
    expect(s.template.findResources("AWS::EKS::AccessEntry")).not.toEqual({});
    Annotations.fromStack(s.stack).hasWarning("/MilvusL7Test", Match.stringLikeRegexp("clusterName is the synth placeholder"));
  });

  it("grants no certificate source, Milvus credentials secret or hosted zone when none is configured", () => {
    const actions = identityStatements(s.json).flatMap((st) => st.Action);
    for (const a of ["secretsmanager:GetSecretValue", "s3:GetObject", "kms:Decrypt", "route53:ChangeResourceRecordSets"]) {
      expect(actions).not.toContain(a);
    }
  });

  it("has the ACM renewal rule but no S3 rule, and resolve-request knows no certificate locations", () => {
    // Event-pattern rules only: the drift check's schedule has a ScheduleExpression instead.
    const patterns = Object.values(s.template.findResources("AWS::Events::Rule"))
      .map((r) => r.Properties.EventPattern)
      .filter((p) => p !== undefined);
    expect(patterns.filter((p) => p.source?.[0] === "aws.s3")).toEqual([]);
    expect(patterns).toContainEqual(acmExpiringPattern());
    const fns = s.template.findResources("AWS::Lambda::Function");
    const resolve = fns[logicalIdOf(s.stack, s.stack.functions["resolve-request"])]?.Properties.Environment.Variables;
    expect(resolve.CERTIFICATE_BUCKETS).toBe("[]");
  });

  it("tells resolve-request that verify-connection runs outside any VPC (internal ALBs refused)", () => {
    const fns = s.template.findResources("AWS::Lambda::Function");
    for (const step of STEPS) {
      const env = fns[logicalIdOf(s.stack, s.stack.functions[step])]?.Properties.Environment?.Variables ?? {};
      expect(env.VERIFIER_IN_VPC, step).toBe(step === "resolve-request" ? "false" : undefined);
    }
  });
});

describe("the CDK app (cdk.json's command)", () => {
  it("synthesizes offline without credentials, with cdk-nag as a validation plugin", async () => {
    const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")) as { app: string };
    expect(cdkJson.app).toBe("npx tsx infra/bin/milvus-l7.ts");
    const outdir = mkdtempSync(join(tmpdir(), "milvus-l7-app-"));
    const [command, ...args] = cdkJson.app.split(" ") as [string, ...string[]];
    // What the CDK CLI hands the app: an output directory and the context; no AWS variables at all. Bundling
    // is left out here only to keep this test fast (stack.test.ts bundles for real).
    await promisify(execFile)(command, args, {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_EC2_METADATA_DISABLED: "true",
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ "aws:cdk:bundling-stacks": [], clusterName: "milvus-eks" }),
      },
      timeout: 300_000,
    });
    expect(existsSync(join(outdir, "MilvusL7.template.json"))).toBe(true);
    // An unacknowledged cdk-nag finding makes the app exit non-zero (execFile would have thrown above) and
    // shows in the validation report.
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as { pluginReports: { pluginName: string; conclusion?: string }[] };
    expect(report.pluginReports.filter((r) => r.conclusion === "failure").map((r) => r.pluginName)).toEqual([]);
    rmSync(outdir, { recursive: true, force: true });
  }, 300_000);
});

// The stack's context parsing: defaults for an offline synth, both list forms (`-c k=a,b` and JSON), and
// errors that name the key and say what is allowed.
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CLUSTER_NAME, parseConfig, parseEnv } from "../../infra/config";

const read = (ctx: Record<string, unknown>) => (key: string) => ctx[key];

describe("parseConfig", () => {
  it("has a default for everything, so a clean clone synthesizes", () => {
    expect(parseConfig(read({}))).toEqual({
      clusterName: DEFAULT_CLUSTER_NAME,
      milvusNamespaces: ["milvus"],
      certificateSecretArns: [],
      certificateBuckets: [],
      kmsKeyArns: [],
      milvusCredentialSecretArns: [],
      route53HostedZoneIds: [],
      vpc: undefined,
      alarmEmail: undefined,
      alarmTopicArn: undefined,
      expiryWarningDays: 14,
      createAccessEntry: true,
      kubernetesAccess: "edit-policy",
      kubernetesGroup: "milvus-l7",
      logRetention: RetentionDays.ONE_MONTH,
      api: { vpcEndpointIds: [], rateLimit: 10, burstLimit: 20, setAccountLogsRole: false },
      checkSchedule: "rate(1 day)",
    });
  });

  it("reads the API settings: VPC endpoints (→ PRIVATE), throttling, the account logs role", () => {
    expect(
      parseConfig(read({ apiVpcEndpointIds: "vpce-0123456789abcdef0, vpce-0123456789abcdef0", apiRateLimit: "5", apiBurstLimit: 9, setApiGatewayLogsRole: "true" })).api,
    ).toEqual({ vpcEndpointIds: ["vpce-0123456789abcdef0"], rateLimit: 5, burstLimit: 9, setAccountLogsRole: true });
    expect(parseConfig(read({ route53HostedZoneIds: '["Z0123456789ABCDEFGHIJ"]' })).route53HostedZoneIds).toEqual(["Z0123456789ABCDEFGHIJ"]);
    const milvusSecret = "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-credentials-Ab12Cd";
    expect(parseConfig(read({ milvusCredentialSecretArns: `${milvusSecret},${milvusSecret}` })).milvusCredentialSecretArns).toEqual([milvusSecret]);
  });

  it("reads lists as comma-separated strings (-c k=a,b) or JSON (cdk.json, -c 'k=[…]')", () => {
    expect(parseConfig(read({ milvusNamespaces: "milvus, milvus-b,milvus" })).milvusNamespaces).toEqual(["milvus", "milvus-b"]);
    expect(parseConfig(read({ milvusNamespaces: '["a","b"]' })).milvusNamespaces).toEqual(["a", "b"]);
    expect(parseConfig(read({ milvusNamespaces: ["a"] })).milvusNamespaces).toEqual(["a"]);
  });

  it("takes certificate buckets as objects or bucket/prefix strings, normalising the prefix", () => {
    const { certificateBuckets } = parseConfig(
      read({ certificateBuckets: [{ bucket: "certs-a", prefix: "/live/milvus/" }, "s3://certs-b/x/y", "certs-c", { bucket: "certs-d" }] }),
    );
    expect(certificateBuckets).toEqual([
      { bucket: "certs-a", prefix: "live/milvus" },
      { bucket: "certs-b", prefix: "x/y" },
      { bucket: "certs-c", prefix: "" },
      { bucket: "certs-d", prefix: "" },
    ]);
    expect(parseConfig(read({ certificateBuckets: "certs-a/live,certs-b" })).certificateBuckets).toEqual([
      { bucket: "certs-a", prefix: "live" },
      { bucket: "certs-b", prefix: "" },
    ]);
  });

  it("needs vpcId, vpcSubnetIds and securityGroupId together", () => {
    const vpc = { vpcId: "vpc-0123456789abcdef0", vpcSubnetIds: "subnet-0123456789abcdef0,subnet-0123456789abcdef1", securityGroupId: "sg-0123456789abcdef0" };
    expect(parseConfig(read(vpc)).vpc).toEqual({
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      securityGroupId: "sg-0123456789abcdef0",
    });
    expect(() => parseConfig(read({ vpcSubnetIds: vpc.vpcSubnetIds }))).toThrow(/"vpcId" is missing: .*vpcId, vpcSubnetIds and securityGroupId together/);
    expect(() => parseConfig(read({ vpcId: vpc.vpcId, vpcSubnetIds: vpc.vpcSubnetIds }))).toThrow(/"securityGroupId" is missing/);
  });

  it.each([
    [{ clusterName: "-bad" }, /"clusterName" is "-bad": must be an EKS cluster name/],
    [{ milvusNamespaces: "Milvus" }, /"milvusNamespaces" has "Milvus": each item must be a Kubernetes namespace name/],
    [{ certificateSecretArns: "my-secret" }, /"certificateSecretArns" has "my-secret": each item must be a Secrets Manager secret ARN/],
    [{ milvusCredentialSecretArns: "milvus-l7/milvus-root" }, /"milvusCredentialSecretArns" has "milvus-l7\/milvus-root": each item must be a Secrets Manager secret ARN/],
    [{ certificateBuckets: [{ bucket: "Bad_Bucket" }] }, /"certificateBuckets" has .*"bucket": "<s3 bucket name>"/],
    [{ certificateBuckets: [{ bucket: "certs", prefix: "live/*" }] }, /"prefix" is a literal key prefix/],
    [{ kmsKeyArns: "alias/aws/secretsmanager" }, /"kmsKeyArns" has .*KMS key ARN/],
    [{ alarmEmail: "nobody" }, /"alarmEmail" is "nobody": must be an e-mail address/],
    [{ alarmTopicArn: "arn:aws:sqs:us-east-2:123456789012:q" }, /"alarmTopicArn" .*must be an SNS topic ARN/],
    [{ createAccessEntry: "no" }, /"createAccessEntry" is "no": must be true or false/],
    [{ kubernetesAccess: "admin" }, /"kubernetesAccess" is "admin": must be one of edit-policy, rbac/],
    [{ kubernetesGroup: "system:masters" }, /"kubernetesGroup" is "system:masters": must be a Kubernetes group name .*not starting with "system:"/],
    [{ logRetentionDays: 31 }, /"logRetentionDays" is 31: must be one of .*30.*/],
    [{ milvusNamespaces: "[not json" }, /"milvusNamespaces" is not a valid JSON list/],
    [{ apiVpcEndpointIds: "vpc-0123456789abcdef0" }, /"apiVpcEndpointIds" has "vpc-0123456789abcdef0": each item must be an interface VPC endpoint id/],
    [{ apiRateLimit: "0" }, /"apiRateLimit" is "0": must be a whole number from 1 to 10000/],
    [{ apiBurstLimit: 2.5 }, /"apiBurstLimit" is 2.5: must be a whole number/],
    [{ setApiGatewayLogsRole: "yes" }, /"setApiGatewayLogsRole" is "yes": must be true or false/],
    [{ route53HostedZoneIds: "/hostedzone/Z123" }, /"route53HostedZoneIds" has "\/hostedzone\/Z123": each item must be a Route 53 hosted zone id/],
  ])("rejects %j with a message that names the key", (ctx, message) => {
    expect(() => parseConfig(read(ctx))).toThrow(ConfigError);
    expect(() => parseConfig(read(ctx))).toThrow(message);
  });

  it("reads the cluster access mode and its group", () => {
    expect(parseConfig(read({ kubernetesAccess: "rbac" }))).toMatchObject({ kubernetesAccess: "rbac", kubernetesGroup: "milvus-l7" });
    expect(parseConfig(read({ kubernetesAccess: "rbac", kubernetesGroup: "platform-milvus" })).kubernetesGroup).toBe("platform-milvus");
  });

  it("reads the drift check's schedule: rate or cron expressions, off for none, anything else refused naming the forms", () => {
    expect(parseConfig(read({ checkSchedule: "rate(12 hours)" })).checkSchedule).toBe("rate(12 hours)");
    expect(parseConfig(read({ checkSchedule: "rate(1 hour)" })).checkSchedule).toBe("rate(1 hour)");
    expect(parseConfig(read({ checkSchedule: "cron(0 6 * * ? *)" })).checkSchedule).toBe("cron(0 6 * * ? *)");
    expect(parseConfig(read({ checkSchedule: "off" })).checkSchedule).toBeUndefined();
    for (const bad of ["daily", "rate(1 days)", "rate(2 day)", "rate(0 hours)", "cron(0 6 * *)", 24]) {
      expect(() => parseConfig(read({ checkSchedule: bad })), String(bad)).toThrow(
        /^milvus-l7 context "checkSchedule" is .*: must be "off", rate\(N unit\)/,
      );
    }
  });

  it("reads the expiry threshold in whole days, 1 to 365, refusing anything else by name", () => {
    expect(parseConfig(read({ expiryWarningDays: "21" })).expiryWarningDays).toBe(21);
    expect(parseConfig(read({ expiryWarningDays: 7 })).expiryWarningDays).toBe(7);
    for (const bad of ["0", "366", "two weeks", 1.5, -3]) {
      expect(() => parseConfig(read({ expiryWarningDays: bad })), String(bad)).toThrow(
        /^milvus-l7 context "expiryWarningDays" must be a whole number of days from 1 to 365/,
      );
    }
  });

  it("reads booleans from the command line's strings", () => {
    expect(parseConfig(read({ createAccessEntry: "false" })).createAccessEntry).toBe(false);
    expect(parseConfig(read({ createAccessEntry: false })).createAccessEntry).toBe(false);
    expect(parseConfig(read({ logRetentionDays: "90" })).logRetention).toBe(RetentionDays.THREE_MONTHS);
  });
});

describe("parseEnv", () => {
  it("is environment-agnostic unless account and region are both given", () => {
    expect(parseEnv(read({}))).toBeUndefined();
    expect(parseEnv(read({ account: "123456789012", region: "us-east-2" }))).toEqual({ account: "123456789012", region: "us-east-2" });
    expect(() => parseEnv(read({ region: "us-east-2" }))).toThrow(/"account" is missing/);
    expect(() => parseEnv(read({ account: "12345" }))).toThrow(/"account" is "12345"/);
  });
});

// The ALB simulator's ELBv2 API stand-in, driven by the real @aws-sdk/client-elastic-load-balancing-v2: its Query
// protocol answers and errors parse as AWS's do, and target health follows the simulator's health model (initial,
// then healthy; the unhealthyTargets fault with its reason code).
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlbFault } from "../../sandbox/alb/api";
import { type Elbv2Api, startElbv2Api } from "../../sandbox/alb/elbv2-api";
import type { LoadBalancer } from "../../sandbox/alb/load-balancers";
import type { LoadBalancerRecord } from "../../sandbox/alb/target-group-bindings";

const LB_ARN = "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/k8s-milvus-milvusde-abcdef0123/0123456789abcdef";
const TG_ARN = "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/k8s-milvus-milvusde-0123456789/fedcba9876543210";
const HOSTNAME = "k8s-milvus-milvusde-abcdef0123-1234567890.us-east-2.elb.amazonaws.com";

let fault: AlbFault = {};
let registered = true;
const lb = {
  name: "k8s-milvus-milvusde-abcdef0123",
  hostname: HOSTNAME,
  scheme: "internet-facing",
  publishAt: Date.now(),
  published: true,
  certificateArns: [],
  healthyAt: new Map([["tg", Date.now() + 60_000]]),
} as unknown as LoadBalancer;
const record: LoadBalancerRecord = {
  arn: LB_ARN,
  lb,
  labels: {},
  namespaces: ["milvus"],
  targetGroups: [
    {
      key: "tg",
      name: "k8s-milvus-milvusde-0123456789",
      arn: TG_ARN,
      spec: {
        key: "tg",
        namespace: "milvus",
        service: "milvus-demo",
        servicePort: 19530,
        targetType: "ip",
        protocol: "HTTP",
        protocolVersion: "GRPC",
        successCodes: "12",
        healthCheckPath: "/AWS.ALB/healthcheck",
      },
    },
  ],
};

let api: Elbv2Api;
let elbv2: ElasticLoadBalancingV2Client;

beforeAll(async () => {
  api = await startElbv2Api({
    loadBalancers: () => [record],
    fault: () => fault,
    targetFor: () => (registered ? { host: "10.0.1.12", port: 19530 } : undefined),
  });
  elbv2 = new ElasticLoadBalancingV2Client({
    region: "us-east-2",
    endpoint: api.endpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  elbv2?.destroy();
  await api?.close();
});

const health = async () => (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG_ARN }))).TargetHealthDescriptions;

describe("ELBv2 API stand-in through the real SDK", () => {
  it("DescribeLoadBalancers finds the ALB by its DNS name, by name and by ARN", async () => {
    const all = await elbv2.send(new DescribeLoadBalancersCommand({}));
    expect(all.LoadBalancers).toEqual([
      expect.objectContaining({ LoadBalancerArn: LB_ARN, DNSName: HOSTNAME, LoadBalancerName: lb.name, Scheme: "internet-facing", Type: "application", State: { Code: "active" } }),
    ]);
    expect(all.LoadBalancers?.[0]?.CreatedTime).toBeInstanceOf(Date);
    const byName = await elbv2.send(new DescribeLoadBalancersCommand({ Names: [lb.name] }));
    expect(byName.LoadBalancers?.map((l) => l.LoadBalancerArn)).toEqual([LB_ARN]);
  });

  it("DescribeTargetGroups of the load balancer: the GRPC target group with its health check", async () => {
    const out = await elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: LB_ARN }));
    expect(out.TargetGroups).toEqual([
      expect.objectContaining({
        TargetGroupArn: TG_ARN,
        TargetGroupName: "k8s-milvus-milvusde-0123456789",
        Protocol: "HTTP",
        ProtocolVersion: "GRPC",
        Port: 19530,
        TargetType: "ip",
        HealthCheckPath: "/AWS.ALB/healthcheck",
        HealthCheckEnabled: true,
        Matcher: { GrpcCode: "12" },
        LoadBalancerArns: [LB_ARN],
      }),
    ]);
  });

  it("DescribeTargetHealth: initial (Elb.InitialHealthChecking) before the targets pass, healthy after", async () => {
    expect(await health()).toEqual([
      {
        Target: { Id: "10.0.1.12", Port: 19530 },
        HealthCheckPort: "19530",
        TargetHealth: { State: "initial", Reason: "Elb.InitialHealthChecking", Description: "Initial health checks in progress" },
      },
    ]);
    lb.healthyAt.set("tg", Date.now() - 1);
    expect((await health())?.[0]?.TargetHealth).toEqual({ State: "healthy" });
  });

  it("DescribeTargetHealth under the unhealthyTargets fault: the fault's reason code and ELB's description", async () => {
    fault = { unhealthyTargets: "untagged-security-groups" };
    expect((await health())?.[0]?.TargetHealth).toEqual({ State: "unhealthy", Reason: "Target.Timeout", Description: "Request timed out" });
    fault = { unhealthyTargets: true };
    expect((await health())?.[0]?.TargetHealth).toEqual({ State: "unhealthy", Reason: "Target.FailedHealthChecks", Description: "Health checks failed" });
    fault = { unhealthyTargets: "Target.ResponseCodeMismatch" };
    expect((await health())?.[0]?.TargetHealth?.Reason).toBe("Target.ResponseCodeMismatch");
    fault = {};
  });

  it("DescribeTargetHealth with no target registered: an empty list", async () => {
    registered = false;
    try {
      expect(await health()).toEqual([]);
    } finally {
      registered = true;
    }
  });

  it("unknown ARNs are ELB's TargetGroupNotFound / LoadBalancerNotFound errors", async () => {
    const missing = TG_ARN.replace("fedcba9876543210", "0000000000000000");
    const error = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: missing })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TargetGroupNotFoundException", message: `Target groups '${missing}' not found`, $metadata: { httpStatusCode: 400 } });
    const lbError = await elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: `${LB_ARN}0` })).catch((e: unknown) => e);
    expect(lbError).toMatchObject({ name: "LoadBalancerNotFoundException", $metadata: { httpStatusCode: 400 } });
  });
});

// diagnose-targets against a fake cluster and a fake ELBv2: each target-health reason becomes a Cause that quotes
// it and says what to check; what cannot be read is said, never fatal; all targets healthy says the failure is
// elsewhere. The caught error's name and Cause always survive.
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { describe, expect, it } from "vitest";
import { type DiagnoseTargetsDeps, diagnoseTargets, stackSelector, targetGroupNamePrefix } from "../../functions/diagnose-targets/core";
import { KubernetesForbidden } from "../../functions/lib/errors";
import type { KubeClient } from "../../functions/lib/kube-client";
import type { Target } from "../../functions/lib/state";

const TG_ARN = "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/k8s-milvus-milvusde-0123456789/0123456789abcdef";
const LB_ARN = "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/k8s-milvus-milvusde-abcdef0123/fedcba9876543210";
const HOSTNAME = "k8s-milvus-milvusde-abcdef0123-1234567890.us-east-2.elb.amazonaws.com";
const TGB = "k8s-milvus-milvusde-0123456789";
const ORIGINAL = { Error: "EndpointNotReady", Cause: "The ALB answered HTTP 503 through every address. The workflow retries this for about 5 minutes; if it persists, check the targets." };

const target = (annotations: Record<string, string> = {}): Target => ({
  cluster: { name: "milvus-eks", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations },
});

const binding = (name = TGB, serviceName = "milvus-demo") => ({
  metadata: { name, namespace: "milvus", labels: { "ingress.k8s.aws/stack-namespace": "milvus", "ingress.k8s.aws/stack-name": "milvus-demo" } },
  spec: { targetGroupARN: TG_ARN, targetType: "ip", serviceRef: { name: serviceName, port: 19530 } },
});

const warning = (name: string, message: string, at = "2026-12-06T10:00:00Z") => ({
  metadata: { name: `${name}.1`, namespace: "milvus" },
  involvedObject: { kind: "TargetGroupBinding", name, namespace: "milvus" },
  type: "Warning",
  reason: "FailedNetworkReconcile",
  message,
  count: 3,
  lastTimestamp: at,
});

const unhealthy = (reason: string, description: string, id = "10.0.1.12"): TargetHealthDescription => ({
  Target: { Id: id, Port: 19530 },
  HealthCheckPort: "19530",
  TargetHealth: { State: "unhealthy", Reason: reason as never, Description: description },
});
const healthy = (id = "10.0.2.7"): TargetHealthDescription => ({ Target: { Id: id, Port: 19530 }, TargetHealth: { State: "healthy" } });

interface Fakes {
  bindings?: unknown[] | Error;
  events?: unknown[] | Error;
  health?: TargetHealthDescription[] | Error;
  loadBalancers?: { DNSName: string; LoadBalancerArn: string }[];
  connect?: Error;
}

function deps(f: Fakes) {
  const queries: { path: string; query: unknown }[] = [];
  const sent: string[] = [];
  const kube = {
    async list(_what: string, path: string, query: unknown) {
      queries.push({ path, query });
      const source = path.includes("targetgroupbindings") ? f.bindings : f.events;
      if (source instanceof Error) throw source;
      return { items: source ?? [] };
    },
  } as unknown as KubeClient;
  const d: DiagnoseTargetsDeps = {
    connect: async () => {
      if (f.connect) throw f.connect;
      return kube;
    },
    elbv2: () => ({
      send: (async (command: unknown) => {
        sent.push((command as object).constructor.name);
        if (command instanceof DescribeTargetHealthCommand) {
          if (f.health instanceof Error) throw f.health;
          return { TargetHealthDescriptions: f.health ?? [] };
        }
        if (command instanceof DescribeLoadBalancersCommand) return { LoadBalancers: f.loadBalancers ?? [] };
        if (command instanceof DescribeTargetGroupsCommand) {
          expect(command.input.LoadBalancerArn).toBe(LB_ARN);
          return { TargetGroups: [{ TargetGroupArn: TG_ARN }] };
        }
        throw new Error(`unexpected ${(command as object).constructor.name}`);
      }) as never,
    }),
  };
  return { deps: d, queries, sent };
}

const run = (f: Fakes, t = target()) => {
  const d = deps(f);
  return { result: diagnoseTargets({ target: t, albHostname: HOSTNAME, error: ORIGINAL }, d.deps), ...d };
};

const SG_MESSAGE =
  "expected exactly one securityGroup tagged with kubernetes.io/cluster/milvus-eks for eni eni-0123456789abcdef0, got: [] (clusterName: milvus-eks)";

describe("diagnose-targets: each reason code becomes a Cause with the reason and what to check", () => {
  it("Target.Timeout with the TargetGroupBinding's FailedNetworkReconcile: the security groups tagged for the cluster", async () => {
    const { result } = run({
      bindings: [binding()],
      events: [warning(TGB, "older warning", "2026-12-06T09:00:00Z"), warning(TGB, SG_MESSAGE)],
      health: [unhealthy("Target.Timeout", "Request timed out"), unhealthy("Target.Timeout", "Request timed out", "10.0.3.9")],
    });
    const { Error: name, Cause } = await result;
    expect(name).toBe("EndpointNotReady");
    expect(Cause.startsWith(ORIGINAL.Cause)).toBe(true);
    expect(Cause).toContain(`target group k8s-milvus-milvusde-0123456789/0123456789abcdef (TargetGroupBinding ${TGB}): 0 of 2 targets healthy; 2 unhealthy with Target.Timeout ("Request timed out")`);
    expect(Cause).toContain(`Latest TargetGroupBinding warning (${TGB}): FailedNetworkReconcile: ${SG_MESSAGE} (3 times).`);
    expect(Cause).not.toContain("older warning");
    expect(Cause).toContain("For Target.Timeout:");
    expect(Cause).toContain("tagged kubernetes.io/cluster/milvus-eks");
    expect(Cause).toContain("allow the ALB's security group on the target port");
    expect(Cause).not.toContain("Could not be read");
  });

  it("Target.FailedHealthChecks: the target port and the backend protocol", async () => {
    const { Cause } = await run({ bindings: [binding()], health: [unhealthy("Target.FailedHealthChecks", "Health checks failed")] }).result;
    expect(Cause).toContain('1 unhealthy with Target.FailedHealthChecks ("Health checks failed")');
    expect(Cause).toContain("For Target.FailedHealthChecks:");
    expect(Cause).toContain("19530");
    expect(Cause).toContain("backend-protocol");
  });

  it("Target.ResponseCodeMismatch: the gRPC health-check path and success codes", async () => {
    const { Cause } = await run({
      bindings: [binding()],
      health: [unhealthy("Target.ResponseCodeMismatch", "Health checks failed with these codes: [14]"), healthy()],
    }).result;
    expect(Cause).toContain("1 of 2 targets healthy; 1 unhealthy with Target.ResponseCodeMismatch");
    expect(Cause).toContain("/AWS.ALB/healthcheck");
    expect(Cause).toContain("success-codes");
  });

  it("Elb.InitialHealthChecking: still being checked", async () => {
    const { Cause } = await run({
      bindings: [binding()],
      health: [{ Target: { Id: "10.0.1.12", Port: 19530 }, TargetHealth: { State: "initial", Reason: "Elb.InitialHealthChecking", Description: "Initial health checks in progress" } }],
    }).result;
    expect(Cause).toContain("1 initial with Elb.InitialHealthChecking");
    expect(Cause).toContain("still being registered or health-checked");
  });

  it("no targets registered: pod readiness and the Service's selector", async () => {
    const { Cause } = await run({ bindings: [binding()], health: [] }).result;
    expect(Cause).toContain("no targets registered");
    expect(Cause).toContain("For Target.NotRegistered:");
    expect(Cause).toContain("Ready");
  });

  it("all targets healthy: the failure is past the target group", async () => {
    const { Cause } = await run({ bindings: [binding()], health: [healthy(), healthy("10.0.3.3")] }).result;
    expect(Cause).toContain("2 of 2 targets healthy");
    expect(Cause).toContain("Every target is healthy");
    expect(Cause).toContain("Milvus itself");
  });

  it("only the bindings of the target's Service count; none at all is said", async () => {
    const { Cause } = await run({ bindings: [binding("k8s-milvus-other-0123456789", "other")] }).result;
    expect(Cause).toContain("No TargetGroupBinding in namespace milvus");
    expect(Cause).toContain("binds Service milvus-demo port 19530");
  });
});

describe("diagnose-targets: what cannot be read is stated, never fatal", () => {
  it("TargetGroupBindings forbidden: says so and finds the target groups through ELB by the ALB's DNS name", async () => {
    const { result, sent, queries } = run({
      bindings: new KubernetesForbidden('targetgroupbindings.elbv2.k8s.aws is forbidden: User "milvus-l7" cannot list resource "targetgroupbindings"'),
      events: [warning(TGB, SG_MESSAGE), warning("k8s-other-svc-0123456789", "not ours", "2026-12-06T11:00:00Z")],
      loadBalancers: [
        { DNSName: "another.us-east-2.elb.amazonaws.com", LoadBalancerArn: "arn:other" },
        { DNSName: HOSTNAME.toUpperCase(), LoadBalancerArn: LB_ARN },
      ],
      health: [unhealthy("Target.Timeout", "Request timed out")],
    });
    const { Error: name, Cause } = await result;
    expect(name).toBe("EndpointNotReady");
    expect(sent).toEqual(["DescribeLoadBalancersCommand", "DescribeTargetGroupsCommand", "DescribeTargetHealthCommand"]);
    expect(Cause).toContain("the TargetGroupBindings could not be listed (KubernetesForbidden:");
    expect(Cause).toContain("0 of 1 targets healthy; 1 unhealthy with Target.Timeout");
    // Without the bindings' names, their events are found by the target-group name the controller gives the Service.
    expect(Cause).toContain(`FailedNetworkReconcile: ${SG_MESSAGE}`);
    expect(Cause).not.toContain("not ours");
    expect(queries.find((q) => q.path.endsWith("/events"))?.query).toEqual({ fieldSelector: "involvedObject.kind=TargetGroupBinding,type=Warning" });
  });

  it("ELB refuses DescribeTargetHealth: says what could not be read, keeps the error", async () => {
    const denied = Object.assign(new Error("User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth"), { name: "AccessDenied" });
    const { Error: name, Cause } = await run({ bindings: [binding()], events: new KubernetesForbidden("events is forbidden"), health: denied }).result;
    expect(name).toBe("EndpointNotReady");
    expect(Cause).toContain(`the health of ${TG_ARN} could not be read (AccessDenied: User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth)`);
    expect(Cause).toContain("the TargetGroupBindings' events could not be listed (KubernetesForbidden: events is forbidden)");
  });

  it("the cluster unreachable and the ALB unknown to ELB: both said, the original Cause first", async () => {
    const { Error: name, Cause } = await run({ connect: new Error("connect ETIMEDOUT"), loadBalancers: [] }).result;
    expect(name).toBe("EndpointNotReady");
    expect(Cause.startsWith(ORIGINAL.Cause)).toBe(true);
    expect(Cause).toContain("the cluster could not be reached to read the TargetGroupBindings (Error: connect ETIMEDOUT)");
    expect(Cause).toContain(`ELB knows no load balancer named ${HOSTNAME}`);
  });

  it("a very long message is cut, so one line cannot take the whole Cause", async () => {
    const { Cause } = await run({ bindings: [binding()], events: [warning(TGB, "x".repeat(5000))], health: [] }).result;
    expect(Cause.length).toBeLessThan(ORIGINAL.Cause.length + 2000);
    expect(Cause).toContain("…");
  });
});

describe("diagnose-targets: finding the Ingress's bindings", () => {
  it("selects an Ingress's own stack by namespace and name, an IngressGroup's by the group", async () => {
    expect(stackSelector(target())).toBe("ingress.k8s.aws/stack-namespace=milvus,ingress.k8s.aws/stack-name=milvus-demo");
    expect(stackSelector(target({ "alb.ingress.kubernetes.io/group.name": "shared" }))).toBe("ingress.k8s.aws/stack=shared");
    const { result, queries } = run({ bindings: [binding()], health: [healthy()] }, target({ "alb.ingress.kubernetes.io/group.name": "shared" }));
    await result;
    expect(queries[0]).toEqual({
      path: "/apis/elbv2.k8s.aws/v1beta1/namespaces/milvus/targetgroupbindings",
      query: { labelSelector: "ingress.k8s.aws/stack=shared" },
    });
  });

  it("names the Service's target groups as the controller does: k8s-<namespace ≤8>-<service ≤8>-", () => {
    expect(targetGroupNamePrefix({ ...target(), namespace: "milvus-prod-eu", service: { name: "my-milvus.proxy", port: 19530 } })).toBe(
      "k8s-milvuspr-mymilvus-",
    );
  });
});

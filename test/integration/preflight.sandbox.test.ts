// ApplyIngress's preflight against the sandbox, for what the demo scenarios (sandbox/scenarios/cluster-config.ts,
// ingress-groups.ts) do not show: reads the Lambdas' access does not cover becoming warnings that name the grant,
// the readiness-gate advisory following the pods, and the controller's webhook being unreachable. Every test
// deploys its own Milvus Service and Ingress, so what one run leaves in the cluster is no other's starting point.
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox";
import { milvusProxyPod } from "../../sandbox/kube";
import type { KubeObject } from "../../sandbox/kube";
import type { WorkflowRun } from "../../sandbox/workflow";
import { failuresOf, onCall, retriesOf, runWith } from "./faults/harness";

const NS = "milvus";
const A = "alb.ingress.kubernetes.io/";
const UNCHECKED_PREFIX = "milvus-l7 could not read";

type Output = { targets: { albHostname: string; serviceType: string; warnings: string[] }[] };

let sandbox: Sandbox;
let secretArn: string;
/** IngressClass alb and the seeded proxy pod as the sandbox started them, restored after every test. */
let chartClass: KubeObject;
let seededPod: KubeObject;

beforeAll(async () => {
  sandbox = await startSandbox({ watchSeconds: 1, publishDelayMs: 50, healthyDelayMs: 0 });
  secretArn = await sandbox.storeInSecret(await sandbox.newCertificate());
  chartClass = sandbox.kube.get("IngressClass", undefined, "alb") as KubeObject;
  [seededPod] = sandbox.kube.list("Pod", NS) as [KubeObject];
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
});

afterEach(() => {
  sandbox.kube.setAccessScope("cluster");
  sandbox.kube.clearFaults();
  sandbox.alb.setFault({});
  sandbox.kube.put(chartClass);
  sandbox.kube.put(seededPod);
});

/** A request for its own Milvus Service (a copy of the chart's, selecting the same proxy pod) and Ingress. */
function requestFor(name: string, annotations: Record<string, string> = {}): Record<string, unknown> {
  sandbox.addMilvusService(name);
  const request = sandbox.request(secretArn) as { milvus: Record<string, unknown>; ingress: Record<string, unknown> };
  request.milvus.service = name;
  request.ingress.name = name;
  request.ingress.annotations = { ...(request.ingress.annotations as Record<string, string>), ...annotations };
  return request;
}

function warningsOf(run: WorkflowRun): string[] {
  expect(run.cause).toBeUndefined();
  expect(run.status).toBe("SUCCEEDED");
  return (run.output as Output).targets[0]?.warnings ?? [];
}

const ourWrites = (since: number) =>
  sandbox.kube.mutations
    .slice(since)
    .filter((m) => m.fieldManager === "milvus-l7")
    .map((m) => `${m.verb} ${m.kind} ${m.name}`);

describe("reads the Lambdas' access does not cover are warnings, and the deployment goes on", () => {
  it("with access to namespace milvus only: the IngressClass, and so the IngressGroup's other members, were not checked", async () => {
    sandbox.kube.setAccessScope({ namespaces: [NS] });
    const run = await sandbox.run(requestFor("milvus-scoped", { [`${A}group.name`]: "milvus-apps" }));
    const warnings = warningsOf(run);
    expect(warnings).toContainEqual(
      "milvus-l7 could not read IngressClass alb (forbidden), so it did not check that the AWS Load Balancer Controller serves it, nor its IngressClassParams. To let it, bind a ClusterRole allowing get and list on ingressclasses (apiGroup networking.k8s.io) to a Kubernetes group of the Lambda role's EKS access entry, or to user milvus-l7 on aws-auth clusters; it needs no write access there.",
    );
    expect(warnings).toContainEqual(
      "milvus-l7 did not check the other Ingresses of IngressGroup milvus-apps, because it could not read the IngressClass (see above).",
    );
    // Only the reads outside the namespace were refused; what the workflow needs in it was not.
    const forbidden = sandbox.kube.requests.filter((r) => r.status === 403 && r.user !== undefined && !r.user.startsWith("system:serviceaccount:"));
    expect(forbidden.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /apis/networking.k8s.io/v1/ingressclasses/alb"]);
    expect((run.output as Output).targets[0]?.serviceType).toBe("ClusterIP");
  });

  it("an unreadable IngressClassParams and an unlistable set of Ingresses: each warning names what went unchecked and the read-only grant", async () => {
    // The chart's class once its IngressClassParams has a spec: the class references them.
    sandbox.kube.put({ ...chartClass, spec: { controller: "ingress.k8s.aws/alb", parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: "alb" } } });
    // Armed as ApplyIngress starts, so that no request of the controller's meets them first.
    const deny = () => {
      sandbox.kube.injectFault({ match: { method: "GET", pathIncludes: "/apis/elbv2.k8s.aws/v1beta1/ingressclassparams/alb" }, respond: { status: 403 } });
      sandbox.kube.injectFault({ match: { method: "GET", pathIncludes: "/apis/networking.k8s.io/v1/ingresses" }, respond: { status: 403 } });
    };
    const run = await runWith(sandbox, requestFor("milvus-params", { [`${A}group.name`]: "milvus-params" }), { ApplyIngressFunctionArn: { before: onCall(1, deny) } });
    const warnings = warningsOf(run);
    expect(warnings).toContainEqual(
      "milvus-l7 could not read IngressClassParams alb (of IngressClass alb) (forbidden), so it did not check whether its scheme, certificates, TLS policy, target type, group or attributes override the Ingress's. To let it, bind a ClusterRole allowing get on ingressclassparams (apiGroup elbv2.k8s.aws) to a Kubernetes group of the Lambda role's EKS access entry, or to user milvus-l7 on aws-auth clusters; it needs no write access there.",
    );
    expect(warnings).toContainEqual(
      "milvus-l7 could not read the Ingresses of all namespaces (forbidden), so it did not check that the other members of IngressGroup milvus-params agree with this Ingress on the group's shared settings (scheme, TLS policy, inbound CIDRs, attributes, WAF, ...). To let it, bind a ClusterRole allowing list on ingresses (apiGroup networking.k8s.io) to a Kubernetes group of the Lambda role's EKS access entry, or to user milvus-l7 on aws-auth clusters; it needs no write access there.",
    );
    // Both reads were answered 403: the faults were not spent on the controller.
    expect(sandbox.kube.requests.filter((r) => r.fault === "status").map((r) => r.path)).toEqual(
      expect.arrayContaining(["/apis/elbv2.k8s.aws/v1beta1/ingressclassparams/alb", "/apis/networking.k8s.io/v1/ingresses"]),
    );
  });

  it("with full read access there is no such warning", async () => {
    const run = await sandbox.run(requestFor("milvus-full", { [`${A}group.name`]: "milvus-full" }));
    expect(warningsOf(run).filter((w) => w.includes(UNCHECKED_PREFIX) || w.includes("did not check"))).toEqual([]);
  });
});

describe("the readiness-gate advisory", () => {
  const advisory = (warnings: string[]) => warnings.filter((w) => w.includes("readiness gate"));

  it("says how to get the gate while the pods have none, and is gone once they carry target-health.elbv2.k8s.aws/…", async () => {
    const request = requestFor("milvus-gated");
    const [first] = advisory(warningsOf(await sandbox.run(request)));
    expect(first).toContain("1 of the 1 pods of Service milvus/milvus-gated have no AWS Load Balancer Controller readiness gate (target-health.elbv2.k8s.aws/…)");
    expect(first).toContain("To get it, label the namespace (kubectl label namespace milvus elbv2.k8s.aws/pod-readiness-gate-inject=enabled)");

    // Labelled, but the pod predates the label: it needs recreating.
    const namespace = sandbox.kube.get("Namespace", undefined, NS) as KubeObject;
    sandbox.kube.put({ ...namespace, metadata: { ...namespace.metadata, labels: { ...namespace.metadata.labels, "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" } } });
    try {
      const [labelled] = advisory(warningsOf(await sandbox.run(request)));
      expect(labelled).toContain("Namespace milvus already has elbv2.k8s.aws/pod-readiness-gate-inject=enabled, but the controller's webhook adds the gate only when a pod is created");

      // The pod recreated: the controller's webhook injected the gate of the Ingress's target group.
      const pod = milvusProxyPod(sandbox.kube.get("Service", NS, "milvus-demo") as KubeObject);
      sandbox.kube.put({ ...pod, spec: { ...(pod.spec as object), readinessGates: [{ conditionType: "target-health.elbv2.k8s.aws/k8s-milvus-milvusga-0123456789" }] } });
      expect(advisory(warningsOf(await sandbox.run(request)))).toEqual([]);
    } finally {
      sandbox.kube.put(namespace);
    }
  });
});

describe("the controller's validating webhook is unreachable (failurePolicy Fail)", () => {
  it("each apply meets the apiserver's 500 `failed calling webhook`, retried as KubernetesUnavailable, then a Cause that says what to check; nothing is written", async () => {
    sandbox.alb.setFault({ webhookUnreachable: true });
    const since = sandbox.kube.mutations.length;
    const run = await sandbox.run(requestFor("milvus-nowebhook"));
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("KubernetesUnavailable");
    // Every attempt reached the apiserver and got its 500 naming the webhook.
    const applies = sandbox.kube.requests.filter((r) => r.method === "PATCH" && r.path === `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/milvus-nowebhook`);
    expect(applies.map((r) => r.status)).toEqual([500, 500, 500, 500, 500, 500]);
    expect(retriesOf(run, "ApplyIngress")).toBe(5);
    expect(run.cause).toContain("Kubernetes API answered 500 to apply Ingress milvus/milvus-nowebhook");
    expect(run.cause).toContain('failed calling webhook "vingress.elbv2.k8s.aws"');
    expect(run.cause).toContain('The API server could not reach the admission webhook "vingress.elbv2.k8s.aws", which must approve this write (failurePolicy Fail)');
    expect(run.cause).toContain("kubectl -n kube-system get pods,svc -l app.kubernetes.io/name=aws-load-balancer-controller");
    expect(run.cause).not.toMatch(/AmazonEKS|access entry|RBAC/);
    expect(ourWrites(since)).toEqual([]);
    expect(sandbox.kube.get("Ingress", NS, "milvus-nowebhook")).toBeUndefined();
    expect(sandbox.kube.get<{ spec: { type: string } }>("Service", NS, "milvus-nowebhook")?.spec.type).toBe("LoadBalancer");
  });

  it("a webhook back before the retries are spent: the retried apply goes through and the run succeeds", async () => {
    sandbox.alb.setFault({ webhookUnreachable: true });
    const run = await runWith(sandbox, requestFor("milvus-webhookback"), { ApplyIngressFunctionArn: { after: onCall(1, () => sandbox.alb.setFault({})) } });
    // One attempt met the unreachable webhook; its retry went through.
    expect(failuresOf(run, "ApplyIngress")).toEqual([{ error: "KubernetesUnavailable", cause: expect.stringContaining('failed calling webhook "vingress.elbv2.k8s.aws"') }]);
    expect(retriesOf(run, "ApplyIngress")).toBe(1);
    expect(run.cause).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    expect((run.output as Output).targets[0]?.serviceType).toBe("ClusterIP");
  });
});

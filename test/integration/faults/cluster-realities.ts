// What real clusters add around the workflow: admission webhooks that refuse or cannot be reached, an IAM principal
// whose access entry covers only Milvus's namespace, targets that never pass ELB's health checks, an Ingress held
// terminating by the load balancer controller's finalizer, and a watch whose resourceVersion etcd has compacted.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AdmissionregistrationV1Api, KubeConfig, type V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eksConnector, eksToken } from "../../../functions/lib/kube";
import { CLUSTER, REGION, type Sandbox } from "../../../sandbox";
import { kubeconfigYaml } from "../../../sandbox/kube";
import { type LocalFunction, lambdaContext } from "../../../sandbox/workflow";
import {
  INGRESS,
  NS,
  entered,
  expectFailsFast,
  failuresOf,
  ingressExists,
  kubectl,
  newCertificate,
  onCall,
  ourWrites,
  quiet,
  reset,
  retriesOf,
  runWith,
  serviceType,
  until,
} from "./harness";
import { record } from "./table";

/** A cluster policy engine's webhook (as Kyverno or Gatekeeper register one) that refuses Ingresses without a WAF. */
const POLICY_WEBHOOK = "validate.policy.example.com";
const POLICY_MESSAGE =
  "Ingress milvus/milvus-demo violates policy require-waf: internet-facing ALBs must set alb.ingress.kubernetes.io/wafv2-acl-arn";
const POLICY_CONFIGURATION = "cluster-policies";

/** The terminating wait of one ApplyIngress attempt in these scenarios (the deployed one is 25 s). */
const TERMINATING_WAIT_SECONDS = 1;

/** Answers every AdmissionReview with a denial, as a policy engine does for an object that breaks a policy. */
function denyAll(req: IncomingMessage, res: ServerResponse): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => {
    body += chunk;
  });
  req.on("end", () => {
    const review = JSON.parse(body) as { request: { uid: string } };
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: { uid: review.request.uid, allowed: false, status: { code: 400, reason: "BadRequest", message: POLICY_MESSAGE } },
      }),
    );
  });
}

async function admissionApi(sb: Sandbox): Promise<AdmissionregistrationV1Api> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(sb.kube, await eksToken(CLUSTER, REGION, sb.moto.credentials)));
  return kc.makeApiClient(AdmissionregistrationV1Api);
}

/** apply-ingress as the sandbox wires it, with a shorter wait for a terminating Ingress. */
async function applyIngressWithWait(sb: Sandbox, seconds: number): Promise<LocalFunction> {
  const { makeHandler } = await import("../../../functions/apply-ingress/handler");
  const connect = eksConnector({
    describeCluster: async () => ({ endpoint: `${sb.kube.url}/`, caData: Buffer.from(sb.kube.caPem).toString("base64") }),
    credentials: async () => sb.moto.credentials,
  });
  const handler = makeHandler({ connect, terminatingWaitSeconds: seconds });
  return (event) => handler(event, lambdaContext("apply-ingress"));
}

/** Requests of milvus-l7 (an IAM principal, not a controller's service account) since `from`. */
const productRequests = (sb: Sandbox, from: number) => sb.kube.requests.slice(from).filter((r) => !r.user?.startsWith("system:serviceaccount:"));

/** Registers the scenarios; `sandbox` is the running sandbox they share (started by the test file). */
export function clusterRealityFaults(sandbox: () => Sandbox): void {
  describe("cluster realities", () => {
    const group = "Cluster realities";
    let sb: Sandbox;
    let secretArn: string;
    const policy = createServer(denyAll);
    const request = (extra: Record<string, unknown> = {}) => ({ ...sb.request(secretArn), ...extra });

    beforeAll(async () => {
      sb = sandbox();
      secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/cluster-realities");
      await new Promise<void>((resolve) => policy.listen(0, "127.0.0.1", resolve));
    });

    afterAll(async () => {
      policy.closeAllConnections();
      await new Promise((resolve) => policy.close(resolve));
    });

    it("a policy webhook denies the Ingress: fails fast as AdmissionDenied quoting the webhook, no IAM advice, nothing written", async () => {
      await reset(sb, "fresh");
      const admission = await admissionApi(sb);
      const configuration: V1ValidatingWebhookConfiguration = {
        metadata: { name: POLICY_CONFIGURATION },
        webhooks: [
          {
            name: POLICY_WEBHOOK,
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            failurePolicy: "Fail",
            clientConfig: { url: `http://127.0.0.1:${(policy.address() as AddressInfo).port}/validate` },
            rules: [{ operations: ["CREATE", "UPDATE"], apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], resources: ["ingresses"] }],
          },
        ],
      };
      await admission.createValidatingWebhookConfiguration({ body: configuration });
      try {
        const writes = ourWrites(sb);
        const run = await sb.run(request());
        record(sb, { group, fault: "admission webhook denies the Ingress", step: "apply-ingress", how: "a ValidatingWebhookConfiguration (a policy engine's) that denies every Ingress write", expected: "terminal", state: "ApplyIngress", after: "Service LoadBalancer" }, run);
        expectFailsFast(run, "ApplyIngress", "AdmissionDenied", [`admission webhook "${POLICY_WEBHOOK}" denied it`, POLICY_MESSAGE, "not a missing IAM or RBAC permission"]);
        expect(run.cause).not.toMatch(/AmazonEKSEditPolicy|access entry/);
        expect(ourWrites(sb)).toBe(writes);
        expect(ingressExists(sb)).toBe(false);
        expect(serviceType(sb)).toBe("LoadBalancer");
      } finally {
        await admission.deleteValidatingWebhookConfiguration({ name: POLICY_CONFIGURATION });
      }
    });

    it("the load balancer controller's webhook unreachable (failurePolicy Fail): each apply is retried, then the run fails naming the webhook", async () => {
      await reset(sb, "fresh");
      sb.alb.setFault({ webhookUnreachable: true });
      const run = await sb.run(request());
      record(sb, { group, fault: "admission webhook unreachable (failurePolicy Fail)", step: "apply-ingress", how: "`alb.setFault({ webhookUnreachable: true })`: the controller's webhook pod gone", expected: "persistent", state: "ApplyIngress", after: "Service LoadBalancer" }, run);
      expect(run.status).toBe("FAILED");
      expect(run.error).toBe("KubernetesUnavailable");
      expect(retriesOf(run, "ApplyIngress")).toBe(5);
      expect(failuresOf(run, "ApplyIngress").map((f) => f.error)).toEqual(Array(6).fill("KubernetesUnavailable"));
      expect(run.cause).toContain('could not reach the admission webhook "vingress.elbv2.k8s.aws"');
      expect(run.cause).toContain("kubectl -n kube-system get pods,svc -l app.kubernetes.io/name=aws-load-balancer-controller");
      expect(ingressExists(sb)).toBe(false);
      expect(serviceType(sb)).toBe("LoadBalancer");
    });

    it("the IngressClass unreadable (access entry scoped to the namespace): the run succeeds, with a warning saying what was not checked", async () => {
      await reset(sb, "fresh");
      sb.kube.setAccessScope({ namespaces: [NS] });
      try {
        const run = await sb.run(request());
        record(sb, { group, fault: "IngressClass unreadable (403)", step: "apply-ingress", how: "`kube.setAccessScope({ namespaces: ['milvus'] })`: an access policy of namespace scope", expected: "succeeds", state: "ApplyIngress", after: "Service ClusterIP; warning: could not read IngressClass alb (forbidden), not checked" }, run);
        expect(run.cause).toBeUndefined();
        expect(run.status).toBe("SUCCEEDED");
        expect(run.events.filter((e) => e.type === "StateRetried")).toEqual([]);
        const warnings = (run.output as { targets: { warnings: string[] }[] }).targets[0]?.warnings ?? [];
        expect(warnings).toContainEqual(
          expect.stringContaining("could not read IngressClass alb (forbidden), so it did not check that the AWS Load Balancer Controller serves it"),
        );
        expect(warnings).toContainEqual(expect.stringContaining("bind a ClusterRole allowing get and list on ingressclasses"));
        expect(serviceType(sb)).toBe("ClusterIP");
      } finally {
        sb.kube.setAccessScope("cluster");
      }
    });

    it("targets that never pass ELB's health checks: fails after the retries with the diagnosis in the Cause", async () => {
      await reset(sb, "fresh");
      sb.alb.setFault({ unhealthyTargets: "untagged-security-groups" });
      const run = await sb.run(request());
      record(sb, { group, fault: "targets unhealthy (pods' security groups untagged)", step: "verify-connection, diagnose-targets", how: "`alb.setFault({ unhealthyTargets: 'untagged-security-groups' })`", expected: "persistent", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
      expect(run.error).toBe("EndpointNotReady");
      expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
      expect(entered(run, "DiagnoseTargets")).toBe(1);
      expect(run.cause).toContain("1 unhealthy with Target.Timeout");
      expect(run.cause).toContain(`FailedNetworkReconcile: expected exactly one securityGroup tagged with kubernetes.io/cluster/${CLUSTER}`);
      expect(run.cause).toContain("must allow the ALB's security group on the target port");
      expect(serviceType(sb)).toBe("LoadBalancer");
    }, 60_000);

    it("an Ingress the controller keeps terminating: each apply waits for it, then the run fails naming the finalizer, nothing written", async () => {
      await reset(sb, "fresh");
      // A deployment, then its Ingress deleted (a rollback, kubectl delete) while the controller cannot finish
      // deleting the ALB: the Ingress keeps its finalizer.
      expect((await sb.run(request())).status).toBe("SUCCEEDED");
      await quiet(sb);
      sb.alb.setFault({ teardownDelayMs: Number.POSITIVE_INFINITY });
      const { networking } = await kubectl(sb);
      await networking.deleteNamespacedIngress({ name: INGRESS, namespace: NS });
      await until("the Ingress to be terminating", () => sb.kube.get<{ metadata: { deletionTimestamp?: string } }>("Ingress", NS, INGRESS)?.metadata.deletionTimestamp !== undefined);
      const writes = ourWrites(sb);
      try {
        const run = await runWith(sb, request(), { ApplyIngressFunctionArn: { replace: await applyIngressWithWait(sb, TERMINATING_WAIT_SECONDS) } });
        record(sb, { group, fault: "Ingress stuck terminating (finalizer held)", step: "apply-ingress", how: `\`alb.setFault({ teardownDelayMs: Infinity })\`, the Ingress deleted; ${TERMINATING_WAIT_SECONDS} s wait per attempt`, expected: "bounded", state: "ApplyIngress", after: "Ingress still terminating" }, run);
        expect(run.error).toBe("KubernetesUnavailable");
        expect(retriesOf(run, "ApplyIngress")).toBe(5);
        expect(run.cause).toContain("Ingress milvus/milvus-demo is being deleted");
        expect(run.cause).toContain("held by the finalizer ingress.k8s.aws/resources");
        expect(run.cause).toContain("Do not remove the finalizer");
        expect(ourWrites(sb)).toBe(writes);
      } finally {
        // The controller finishes deleting the ALB and lets the Ingress go.
        sb.alb.setFault({});
        await until("the Ingress to be gone", () => !ingressExists(sb));
      }
    }, 60_000);

    it("a watch whose resourceVersion was compacted (410 Expired) during the address wait: re-listed inside the poll, no Retry", async () => {
      await reset(sb, "fresh");
      let requestsBefore = 0;
      const run = await runWith(sb, request(), {
        ApplyIngressFunctionArn: { before: onCall(1, () => sb.alb.setFault({ neverPublish: true })) },
        GetIngressStatusFunctionArn: {
          before: onCall(1, async () => {
            await quiet(sb);
            // The controller has written since the Ingress last changed (its TargetGroupBinding, events): the
            // Ingress's resourceVersion is older than the compaction.
            const ingressRv = Number(sb.kube.get<{ metadata: { resourceVersion: string } }>("Ingress", NS, INGRESS)?.metadata.resourceVersion);
            expect(ingressRv).toBeLessThan(Number(sb.kube.resourceVersion));
            sb.kube.compact();
            requestsBefore = sb.kube.requests.length;
          }),
          after: onCall(1, () => sb.alb.setFault({})),
        },
      });
      record(sb, { group, fault: "watch resourceVersion compacted (410 Expired)", step: "get-ingress-status", how: "`kube.compact()` before the first poll's watch, the address held back for that poll", expected: "absorbed", state: "GetIngressStatus", polls: true }, run);
      expect(run.cause).toBeUndefined();
      expect(run.status).toBe("SUCCEEDED");
      expect(retriesOf(run, "GetIngressStatus")).toBe(0);
      // The first poll re-listed the Ingresses (by name) after the 410 and watched again from the list's version.
      const ingresses = `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`;
      const firstPoll = productRequests(sb, requestsBefore).filter((r) => r.path === ingresses);
      expect(firstPoll.filter((r) => r.query.watch !== "true").length, "a re-list").toBeGreaterThanOrEqual(1);
      expect(firstPoll.filter((r) => r.query.watch === "true").length, "watches").toBeGreaterThanOrEqual(2);
      expect(serviceType(sb)).toBe("ClusterIP");
    });
  });
}

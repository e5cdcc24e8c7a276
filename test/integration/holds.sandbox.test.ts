// What operators need before letting an automation near production load balancers: two runs at once, a run
// killed half-way and started again, and the optional rollback when the ALB path cannot be proven.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox";

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await startSandbox();
});
afterEach(async () => {
  await sandbox?.stop();
});

const ours = () => sandbox.kube.mutations.filter((m) => m.fieldManager === "milvus-l7").map((m) => `${m.verb} ${m.kind}`);
const serviceType = () => sandbox.kube.get<{ spec: { type: string } }>("Service", "milvus", "milvus-demo")?.spec.type;
const leaseOf = async () => (await sandbox.registry.claim("us-east-2/milvus-eks/milvus/milvus-demo", "probe", 1, new Date())).claimed;

describe("two executions for the same target at once", () => {
  it("one proceeds, the other waits for its lease: their changes never interleave", async () => {
    const secretArn = await sandbox.storeInSecret(await sandbox.newCertificate());
    const first = await sandbox.run(sandbox.request(secretArn));
    const arn = (first.output as { certificate: { arn: string } }).certificate.arn;
    // Two different requests for the same target (identical ones would be one execution: see the API).
    const withInterval = (seconds: string) => {
      const r = sandbox.request(secretArn, arn) as { ingress: { annotations: Record<string, string> } };
      r.ingress.annotations["alb.ingress.kubernetes.io/healthcheck-interval-seconds"] = seconds;
      return r;
    };
    // The lease wait's retry spacing (30 s in the ASL) compressed to 250 ms.
    const opts = { retryMs: { ClaimTarget: 250 } };
    const [a, b] = await Promise.all([sandbox.run(withInterval("15"), opts), sandbox.run(withInterval("20"), opts)]);
    expect([a.cause, b.cause]).toEqual([undefined, undefined]);
    const waited = [a, b].filter((r) => r.events.some((e) => e.type === "StateRetried" && e.state.name === "ClaimTarget"));
    expect(waited).toHaveLength(1);
    // Each run's span from taking the lease to recording the target: the two must not overlap.
    const span = (run: typeof a) => {
      const at = (type: string, state: string) => run.events.find((e) => e.type === type && "state" in e && e.state.name === state)?.timestamp ?? Number.NaN;
      return [at("StateExited", "ClaimTarget"), at("StateExited", "RecordDeployment")] as const;
    };
    const [[a0, a1], [b0, b1]] = [span(a), span(b)];
    expect(a1 <= b0 || b1 <= a0, `spans ${[a0, a1]} and ${[b0, b1]}`).toBe(true);
    const lastRun = a1 > b1 ? "15" : "20";
    expect(sandbox.kube.get<{ metadata: { annotations: Record<string, string> } }>("Ingress", "milvus", "milvus-demo")?.metadata.annotations)
      .toMatchObject({ "alb.ingress.kubernetes.io/healthcheck-interval-seconds": lastRun });
    expect(await sandbox.registry.list()).toHaveLength(1);
  });
});

describe("a run stopped half-way and started again", () => {
  for (const step of ["ApplyIngress", "VerifyThroughAlb", "CutOver"]) {
    it(`completes after being stopped after ${step}, without waiting for the dead run's lease`, async () => {
      const request = sandbox.request(await sandbox.storeInSecret(await sandbox.newCertificate()));
      const killed = await sandbox.run(request, { abortAfter: step });
      expect(killed.status).toBe("ABORTED");
      const again = await sandbox.run(request, { retryMs: { ClaimTarget: 60_000 } }); // a wait would time the test out
      expect(again.cause).toBeUndefined();
      expect(again.status).toBe("SUCCEEDED");
      expect(serviceType()).toBe("ClusterIP");
      expect(ours().filter((m) => m === "apply Ingress")).toHaveLength(1);
      expect(ours().filter((m) => m === "patch Service")).toHaveLength(1);
    });
  }
});

describe("verification before the cutover fails", () => {
  it("leaves the Layer-4 endpoint untouched and, with onFailure remove-ingress, deletes only our Ingress", async () => {
    const request = { ...sandbox.request(await sandbox.storeInSecret(await sandbox.newCertificate())), onFailure: "remove-ingress" };
    sandbox.milvus.setFault("unavailable");
    const run = await sandbox.run(request);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("EndpointNotReady");
    expect(run.cause).toContain("UNAVAILABLE");
    expect(serviceType()).toBe("LoadBalancer");
    expect(ours()).toEqual(["apply Ingress", "delete Ingress"]);
    expect(sandbox.kube.mutations.filter((m) => m.verb === "delete").map((m) => `${m.kind} ${m.name}`)).toEqual(["Ingress milvus-demo"]);
    // The lease was released on the way out: the next run need not wait.
    expect(await leaseOf()).toBe(true);
  });

  it("by default keeps the Ingress for inspection, and the Service is still untouched", async () => {
    sandbox.milvus.setFault("unavailable");
    const run = await sandbox.run(sandbox.request(await sandbox.storeInSecret(await sandbox.newCertificate())));
    expect(run.error).toBe("EndpointNotReady");
    expect(serviceType()).toBe("LoadBalancer");
    expect(ours()).toEqual(["apply Ingress"]);
    expect(sandbox.kube.get("Ingress", "milvus", "milvus-demo")).toBeDefined();
    expect(sandbox.kube.mutations.filter((m) => m.verb === "delete")).toEqual([]);
  });
});

// The ASL's control flow with fake steps: order, retries, terminal failures, the bounded address wait.
import { describe, expect, it } from "vitest";
import { EndpointNotReady, KubernetesConflict, KubernetesForbidden, KubernetesUnavailable } from "../../functions/lib/errors";
import type { Plan, Target } from "../../functions/lib/state";
import { type LocalFunctions, runWorkflow } from "../../sandbox/workflow";

const target: Target = {
  cluster: { name: "milvus-eks", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: {} },
};
const plan = (overrides: Partial<Plan> = {}): Plan => ({
  certificate: { arn: "arn:aws:acm:us-east-2:123456789012:certificate/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11" },
  cutover: "after-verify",
  onFailure: "keep-ingress",
  wait: { maxPolls: 4 },
  targets: [target],
  ...overrides,
});

/** A trust anchor as import-certificate returns it: for verify-connection only, never in the run's output. */
const ANCHOR = "-----BEGIN CERTIFICATE-----\nZmFrZSByb290\n-----END CERTIFICATE-----\n";
/** The certificate in the run's output: what import-certificate returned, without the anchors. */
const outputCertificate = () => ({ arn: plan().certificate.arn, fingerprint256: "AA:BB", notAfter: "2027-01-01T00:00:00.000Z", imported: false });

/** Fakes of the six steps; the address appears on poll `readyOnPoll`. */
function fakes(opts: { plan?: Plan; readyOnPoll?: number; expiringSoon?: boolean } = {}) {
  const calls: string[] = [];
  const readyOnPoll = opts.readyOnPoll ?? 3;
  const functions: LocalFunctions = {
    ResolveRequestFunctionArn: async () => {
      calls.push("resolve");
      return opts.plan ?? plan();
    },
    ImportCertificateFunctionArn: async (e) => {
      calls.push("import");
      return {
        arn: e.certificate.arn,
        fingerprint256: "AA:BB",
        notAfter: "2027-01-01T00:00:00.000Z",
        imported: false,
        readFrom: "secret milvus-l7/tls",
        daysToExpiry: opts.expiringSoon ? 9 : 30,
        ...(opts.expiringSoon ? { expiringSoon: true } : {}),
        trustAnchors: [ANCHOR],
      };
    },
    ApplyIngressFunctionArn: async (e) => {
      calls.push("apply");
      return { namespace: e.target.namespace, name: e.target.ingress.name, appliedAt: new Date().toISOString(), changed: true, polls: 0 };
    },
    GetIngressStatusFunctionArn: async (e) => {
      calls.push("status");
      const polls = e.ingress.polls + 1;
      const ready = polls >= readyOnPoll;
      return {
        ...e.ingress,
        polls,
        ready,
        hostname: ready ? "k8s-milvus-milvusde-0123456789-1.us-east-2.elb.amazonaws.com" : undefined,
        nextWaitSeconds: 5,
        warnings: ready ? [] : [{ reason: "FailedDeployModel", message: "Failed deploy model due to CertificateNotFound", count: polls, lastSeen: "" }],
        failureCause: `no address after ${polls} polls. Latest controller warning: FailedDeployModel: Failed deploy model due to CertificateNotFound`,
      };
    },
    VerifyConnectionFunctionArn: async (e) => {
      calls.push("verify");
      return { host: e.target.ingress.host, albHostname: e.albHostname, servedFingerprint256: "AA:BB", servedNotAfter: "2027-01-01T00:00:00.000Z", milvusVersion: "v2.5.4", healthy: true };
    },
    RecordDeploymentFunctionArn: async (e) => {
      calls.push("record");
      return {
        host: e.target.ingress.host,
        serviceType: e.service.type,
        previousServiceType: e.service.previousType,
        milvusVersion: e.verification.milvusVersion,
      };
    },
    TargetLeaseFunctionArn: async (e) => {
      calls.push(e.action);
      return { claimed: e.action === "claim" };
    },
    UpsertDnsFunctionArn: async () => {
      calls.push("dns");
      return { changed: true };
    },
    RemoveIngressFunctionArn: async () => {
      calls.push("remove-ingress");
      return { removed: true };
    },
    DiagnoseTargetsFunctionArn: async (e) => {
      calls.push("diagnose");
      return { Error: e.error.Error, Cause: `${e.error.Cause} Diagnosis: 0 of 1 targets healthy` };
    },
    // The drift check's steps: a deployment never reaches them (test/workflow/check.test.ts runs them).
    CheckTargetFunctionArn: async () => {
      calls.push("inspect");
      throw new Error("check-target invoked during a deployment");
    },
    RecordCheckFunctionArn: async () => {
      calls.push("record-check");
      throw new Error("record-check invoked during a deployment");
    },
    PatchServiceFunctionArn: async () => {
      calls.push("patch");
      return { previousType: calls.filter((c) => c === "patch").length > 1 ? "ClusterIP" : "LoadBalancer", type: "ClusterIP", changed: true, via: "service", warnings: [] };
    },
  };
  return { functions, calls };
}

const entered = (run: Awaited<ReturnType<typeof runWorkflow>>) =>
  run.events.flatMap((e) => (e.type === "StateEntered" ? [e.state.name] : []));

describe("workflow (ASL) with fake steps", () => {
  it("deploys, verifies through the ALB, then cuts over, within 25 transitions for an address on the third poll", async () => {
    const { functions, calls } = fakes();
    const verify = functions.VerifyConnectionFunctionArn;
    const anchorsVerified: unknown[] = [];
    functions.VerifyConnectionFunctionArn = async (e) => {
      anchorsVerified.push(e.certificate.trustAnchors);
      return verify(e);
    };
    const run = await runWorkflow({ any: "request" }, functions);
    expect(run.cause).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    expect(calls).toEqual(["resolve", "import", "claim", "apply", "status", "status", "status", "verify", "patch", "verify", "record"]);
    // The anchors reach both verifications through the Map's ItemSelector, and stay out of the output.
    expect(anchorsVerified).toEqual([[ANCHOR], [ANCHOR]]);
    expect(run.output).toMatchObject({
      status: "SUCCEEDED",
      targets: [{ host: "milvus-demo.milvus.io", serviceType: "ClusterIP", previousServiceType: "LoadBalancer", milvusVersion: "v2.5.4" }],
    });
    expect((run.output as { certificate: unknown }).certificate).toEqual(outputCertificate());
    expect(entered(run)).toContain("WaitForAddress");
    expect(run.transitions).toBeLessThanOrEqual(25);
  });

  it("with cutover before-ingress patches the Service first and does not patch it again", async () => {
    const { functions, calls } = fakes({ plan: plan({ cutover: "before-ingress" }) });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("SUCCEEDED");
    expect(calls).toEqual(["resolve", "import", "claim", "patch", "apply", "status", "status", "status", "verify", "record"]);
    expect(run.output).toMatchObject({ targets: [{ previousServiceType: "LoadBalancer" }] });
  });

  it("retries a transient error with the event history showing the retry, then succeeds", async () => {
    const { functions } = fakes();
    let failures = 0;
    const apply = functions.ApplyIngressFunctionArn;
    functions.ApplyIngressFunctionArn = async (e) => {
      if (failures++ < 2) throw new KubernetesUnavailable("Kubernetes API answered 503");
      return apply(e);
    };
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("SUCCEEDED");
    const retries = run.events.filter((e) => e.type === "StateRetried" && e.state.name === "ApplyIngress");
    expect(retries).toHaveLength(2);
  });

  it("fails on a terminal error with the step's error name and cause, without retrying it", async () => {
    const { functions, calls } = fakes();
    functions.PatchServiceFunctionArn = async () => {
      calls.push("patch");
      throw new KubernetesConflict("Conflict on patch Service milvus/milvus-demo: the object has been modified");
    };
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("KubernetesConflict");
    expect(run.cause).toBe("Conflict on patch Service milvus/milvus-demo: the object has been modified");
    expect(calls.filter((c) => c === "patch")).toHaveLength(1);
  });

  it("bounds the address wait and fails with the controller's Warning text", async () => {
    const { functions, calls } = fakes({ readyOnPoll: 99 });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("AddressTimeout");
    expect(run.cause).toContain("FailedDeployModel: Failed deploy model due to CertificateNotFound");
    expect(calls.filter((c) => c === "status")).toHaveLength(plan().wait.maxPolls);
    expect(calls).not.toContain("patch");
  });

  it("keeps the Layer-4 endpoint when verification never succeeds, and says why", async () => {
    const { functions, calls } = fakes();
    functions.VerifyConnectionFunctionArn = async () => {
      calls.push("verify");
      throw new EndpointNotReady("The ALB still serves another certificate");
    };
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("EndpointNotReady");
    expect(run.cause).toContain("still serves another certificate");
    expect(run.cause).toContain("Diagnosis: 0 of 1 targets healthy");
    expect(calls.filter((c) => c === "verify").length).toBeGreaterThan(1);
    expect(calls).not.toContain("patch");
  });

  it("keeps the verification's error and Cause when the diagnosis itself fails", async () => {
    const { functions, calls } = fakes();
    functions.VerifyConnectionFunctionArn = async () => {
      calls.push("verify");
      throw new EndpointNotReady("The ALB answered HTTP 503");
    };
    functions.DiagnoseTargetsFunctionArn = async () => {
      calls.push("diagnose");
      throw new Error("diagnosis crashed");
    };
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("EndpointNotReady");
    expect(run.cause).toBe("The ALB answered HTTP 503");
    expect(calls.filter((c) => c === "diagnose")).toHaveLength(1);
    expect(calls).not.toContain("patch");
  });

  it("with onFailure remove-ingress rolls the Ingress back and fails with the step's own error", async () => {
    const { functions, calls } = fakes({ plan: plan({ onFailure: "remove-ingress" }), readyOnPoll: 99 });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("AddressTimeout");
    expect(run.cause).not.toContain("rollback");
    expect(calls.slice(-2)).toEqual(["remove-ingress", "release"]);
  });

  it("a failed rollback keeps the run's error and says in the Cause that the Ingress is still there, and why", async () => {
    const { functions, calls } = fakes({ plan: plan({ onFailure: "remove-ingress" }), readyOnPoll: 99 });
    functions.RemoveIngressFunctionArn = async () => {
      calls.push("remove-ingress");
      throw new KubernetesForbidden("Kubernetes API refused delete Ingress milvus/milvus-demo (403)");
    };
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("AddressTimeout");
    expect(run.cause).toMatch(/^no address after 4 polls\. .*CertificateNotFound/);
    expect(run.cause).toContain(
      "The rollback (onFailure: remove-ingress) failed too, so the Ingress is still in place: KubernetesForbidden: Kubernetes API refused delete Ingress milvus/milvus-demo (403)",
    );
    expect(calls.filter((c) => c === "remove-ingress")).toHaveLength(1);
    expect(calls.at(-1)).toBe("release");
  });

  it("ends cleanly when a renewal event concerns no deployment", async () => {
    const { functions, calls } = fakes({ plan: plan({ targets: [], renewal: { reason: "No milvus-l7 deployment uses arn:x; nothing to renew." } }) });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toEqual({ status: "SKIPPED", reason: "No milvus-l7 deployment uses arn:x; nothing to renew." });
    expect(calls).toEqual(["resolve"]);
  });

  it("ends cleanly when a renewal finds no newer certificate in the source", async () => {
    const { functions, calls } = fakes({ plan: plan({ renewal: { reason: "ACM reports arn:x expires in 30 days." } }) });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.output).toEqual({
      status: "SKIPPED",
      certificate: { ...outputCertificate(), daysToExpiry: 30 },
      reason: `ACM reports arn:x expires in 30 days. The source holds no certificate newer than the one in ${plan().certificate.arn}; nothing to renew.`,
    });
    expect(calls).toEqual(["resolve", "import"]);
  });

  it("fails as CertificateExpiring, naming the days left and the source, when the certificate in use expires soon", async () => {
    const { functions, calls } = fakes({ plan: plan({ renewal: { reason: "ACM reports arn:x expires in 9 days." } }), expiringSoon: true });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("CertificateExpiring");
    expect(run.cause).toBe(
      `Certificate ${plan().certificate.arn} expires in 9 days (notAfter 2027-01-01T00:00:00.000Z) and its source, secret milvus-l7/tls, ` +
        "holds no newer certificate, so nothing was renewed. Renew it at the source: write the renewed certificate to secret " +
        "milvus-l7/tls. The next renewal trigger (the S3 write itself, or the daily ACM expiry event) then re-imports it into " +
        "the same ARN and verifies every target.",
    );
    expect(calls).toEqual(["resolve", "import"]);
  });

  it("deploys as usual when expiringSoon is set outside a renewal (it never is, but the ASL checks $.renewal too)", async () => {
    const { functions } = fakes({ expiringSoon: true });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("SUCCEEDED");
  });

  it("runs every target of a renewal plan", async () => {
    const second = { ...target, ingress: { ...target.ingress, name: "milvus-b", host: "milvus-b.milvus.io" } };
    const { functions } = fakes({ plan: plan({ targets: [target, second] }) });
    const run = await runWorkflow({}, functions);
    expect(run.status).toBe("SUCCEEDED");
    expect((run.output as { targets: { host: string }[] }).targets.map((t) => t.host)).toEqual(["milvus-demo.milvus.io", "milvus-b.milvus.io"]);
  });
});

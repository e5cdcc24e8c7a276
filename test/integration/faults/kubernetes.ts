// Kubernetes API faults at each Kubernetes step (apply-ingress, get-ingress-status, patch-service, the
// remove-ingress rollback): injected by the API stand-in, matched by method and path and armed just before the
// step runs; conflicts and missing objects provoked for real where they can be.
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { REGION, type Sandbox } from "../../../sandbox";
import type { Fault } from "../../../sandbox/kube";
import {
  INGRESS,
  NS,
  PATH,
  deleteIngress,
  deleteService,
  entered,
  expectFailsFast,
  expectNoKeyIn,
  expectRetriedThrough,
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

/** Registers the scenarios; `sandbox` is the running sandbox they share (started by the test file). */
export function kubernetesFaults(sandbox: () => Sandbox): void {
  describe("Kubernetes API faults", () => {
    const group = "Kubernetes API";
    let sb: Sandbox;
    let secretArn: string;
    const request = (extra: Record<string, unknown> = {}) => ({ ...sb.request(secretArn), ...extra });

    beforeAll(async () => {
      sb = sandbox();
      secretArn = await sb.storeInSecret(await newCertificate(sb));
    });

    it("baseline: the first deployment succeeds without a single Retry", async () => {
      await reset(sb, "fresh");
      const run = await sb.run(request());
      record(sb, { group: "Baseline", fault: "none: first deployment", step: "all", how: "—", expected: "succeeds", state: "ApplyIngress", after: "Service ClusterIP" }, run);
      expect(run.cause).toBeUndefined();
      expect(run.events.filter((e) => e.type === "StateRetried")).toEqual([]);
      expect(serviceType(sb)).toBe("ClusterIP");
    });

    it("a failure before the cutover of a target already cut over: the rollback keeps the Ingress Milvus is served through", async () => {
      // The baseline left the target deployed: the Service is ClusterIP, the ALB is the only way to Milvus. A later
      // run (a renewal, a changed annotation) with onFailure remove-ingress fails before its CutOver state.
      expect(serviceType(sb)).toBe("ClusterIP");
      expect(ingressExists(sb)).toBe(true);
      const run = await runWith(sb, request({ onFailure: "remove-ingress" }), {
        GetIngressStatusFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.events }, respond: { status: 403 }, times: 10 })) },
      });
      await quiet(sb, 300);
      record(
        sb,
        {
          group,
          fault: "failure before the cutover of a target already cut over (onFailure: remove-ingress)",
          step: "remove-ingress",
          how: "GET Events (list) answers 403 on a re-run after a successful deployment",
          expected: "terminal",
          state: "RemoveIngress",
          after: ingressExists(sb) ? "Ingress kept" : "Ingress DELETED, Milvus unreachable",
        },
        run,
      );
      expect(run.error).toBe("KubernetesForbidden");
      expect(serviceType(sb)).toBe("ClusterIP");
      expect(ingressExists(sb), "the Ingress is Milvus's only endpoint").toBe(true);
    });

    // One run per fault kind, armed at each step: the steps do not interfere, and each must retry exactly once, or
    // absorb the fault inside the call. Requests are chosen so each kind hits a different call of the step.
    const transient: {
      name: string;
      respond: Fault["respond"];
      /** How many requests in a row get the fault. */
      times: number;
      expected: "transient" | "absorbed";
      apply: [string, string, string];
      status: [string, string, string];
      patch: [string, string, string];
    }[] = [
      {
        // What the apiserver's throttling sends: the call waits the second and tries again.
        name: "429 Too Many Requests, Retry-After: 1",
        respond: { status: 429, retryAfterSeconds: 1 },
        times: 1,
        expected: "absorbed",
        apply: ["GET", PATH.service, "GET Service"],
        status: ["GET", PATH.events, "GET Events (list)"],
        patch: ["GET", PATH.service, "GET Service"],
      },
      {
        name: "429 Too Many Requests, Retry-After: 1, twice in a row",
        respond: { status: 429, retryAfterSeconds: 1 },
        times: 2,
        expected: "transient",
        apply: ["GET", PATH.ingress, "GET Ingress"],
        status: ["GET", PATH.events, "GET Events (list)"],
        patch: ["PATCH", PATH.patchService, "PATCH Service"],
      },
      {
        name: "500 Internal Server Error",
        respond: { status: 500 },
        times: 1,
        expected: "transient",
        apply: ["GET", PATH.ingress, "GET Ingress"],
        status: ["GET", PATH.watch, "watch Ingress"],
        patch: ["PATCH", PATH.patchService, "PATCH Service"],
      },
      {
        name: "503 Service Unavailable",
        respond: { status: 503 },
        times: 1,
        expected: "transient",
        apply: ["PATCH", PATH.applyIngress, "PATCH Ingress (apply)"],
        status: ["GET", PATH.events, "GET Events (list)"],
        patch: ["PATCH", PATH.patchService, "PATCH Service"],
      },
      {
        // A kept-alive connection the server dropped: the call retries on another connection.
        name: "connection reset",
        respond: "reset",
        times: 1,
        expected: "absorbed",
        apply: ["PATCH", PATH.applyIngress, "PATCH Ingress (apply)"],
        status: ["GET", PATH.watch, "watch Ingress"],
        patch: ["GET", PATH.service, "GET Service"],
      },
      {
        // The fresh connection is reset too: that is the server's answer, left to the step's Retry.
        name: "connection reset, twice in a row",
        respond: "reset",
        times: 2,
        expected: "transient",
        apply: ["PATCH", PATH.applyIngress, "PATCH Ingress (apply)"],
        status: ["GET", PATH.watch, "watch Ingress"],
        patch: ["GET", PATH.service, "GET Service"],
      },
    ];

    for (const t of transient) {
      it(`${t.name}: each step ${t.expected === "absorbed" ? "absorbs it without a Retry" : "retries once"} and the run succeeds`, async () => {
        await reset(sb, "fresh");
        const arm = ([method, pathIncludes]: [string, string, string]) => () =>
          sb.kube.injectFault({ match: { method, pathIncludes }, respond: t.respond, times: t.times });
        const watching = t.status[1] === PATH.watch;
        const requestsBefore = sb.kube.requests.length;
        const run = await runWith(sb, request(), {
          // A watch only runs while the Ingress has no address: hold the address back for the first poll.
          ApplyIngressFunctionArn: {
            before: onCall(1, () => {
              if (watching) sb.alb.setFault({ neverPublish: true });
              arm(t.apply)();
            }),
          },
          GetIngressStatusFunctionArn: { before: onCall(1, arm(t.status)), after: onCall(1, () => sb.alb.setFault({})) },
          PatchServiceFunctionArn: { before: onCall(1, arm(t.patch)) },
        });
        const answer = typeof t.respond === "string" ? "with a reset" : t.respond.status;
        const how = (req: [string, string, string]) => `${req[2]} answers ${answer}, ${t.times === 1 ? "once" : `${t.times} times in a row`}`;
        record(sb, { group, fault: t.name, step: "apply-ingress", how: how(t.apply), expected: t.expected, state: "ApplyIngress" }, run);
        record(sb, { group, fault: t.name, step: "get-ingress-status", how: how(t.status), expected: t.expected, state: "GetIngressStatus" }, run);
        record(sb, { group, fault: t.name, step: "patch-service", how: how(t.patch), expected: t.expected, state: "CutOver" }, run);
        const retries = t.expected === "absorbed" ? 0 : 1;
        for (const state of ["ApplyIngress", "GetIngressStatus", "CutOver"]) expectRetriedThrough(run, state, "KubernetesUnavailable", retries);
        expect(sb.kube.requests.slice(requestsBefore).filter((r) => r.fault).length, "every armed fault was hit").toBe(3 * t.times);
        expect(serviceType(sb)).toBe("ClusterIP");
        expectNoKeyIn(sb, run);
      });
    }

    it("a request never answered: the step gives up after kubeCall's 10 s and is retried; a stalled watch only ends its poll", async () => {
      await reset(sb, "fresh");
      const run = await runWith(sb, request(), {
        ApplyIngressFunctionArn: {
          before: onCall(1, () => {
            sb.alb.setFault({ neverPublish: true });
            sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.applyIngress }, respond: "timeout" });
          }),
        },
        GetIngressStatusFunctionArn: {
          before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.watch }, respond: "timeout" })),
          after: onCall(1, () => sb.alb.setFault({})),
        },
      });
      record(sb, { group, fault: "timeout (no answer)", step: "apply-ingress", how: "PATCH Ingress (apply) never answered, once", expected: "transient", state: "ApplyIngress" }, run);
      record(sb, { group, fault: "timeout (no answer)", step: "get-ingress-status", how: "watch never answered, once", expected: "absorbed", state: "GetIngressStatus", polls: true }, run);
      expectRetriedThrough(run, "ApplyIngress", "KubernetesUnavailable");
      expect(failuresOf(run, "ApplyIngress")[0]?.cause).toContain("did not answer apply Ingress milvus/milvus-demo within 10000 ms");
      expect(retriesOf(run, "GetIngressStatus")).toBe(0);
      expect(entered(run, "GetIngressStatus")).toBe(2);
    }, 60_000);

    it("409 from another field manager on apply: fails fast naming the manager, nothing forced", async () => {
      // Someone ran `kubectl apply --server-side --force-conflicts` with another certificate on our Ingress.
      await reset(sb, "keep");
      expect(ingressExists(sb)).toBe(true);
      const { networking } = await kubectl(sb);
      await networking.patchNamespacedIngress(
        {
          name: INGRESS,
          namespace: NS,
          body: {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: INGRESS, namespace: NS, annotations: { "alb.ingress.kubernetes.io/certificate-arn": `arn:aws:acm:${REGION}:123456789012:certificate/00000000-0000-4000-8000-000000000000` } },
          },
          fieldManager: "kubectl",
          force: true,
        },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      );
      await quiet(sb);
      const writes = ourWrites(sb);
      const run = await sb.run(request());
      record(sb, { group, fault: "409 Conflict: another field manager", step: "apply-ingress", how: "`kubectl apply --server-side --force-conflicts` took the certificate-arn annotation", expected: "terminal", state: "ApplyIngress" }, run);
      expectFailsFast(run, "ApplyIngress", "KubernetesConflict", ['conflict with "kubectl"', "certificate-arn", "resolve the ownership"]);
      expect(ourWrites(sb)).toBe(writes);
    });

    it("403 on apply: fails fast with the access fix, nothing changed", async () => {
      await reset(sb, "fresh");
      const writes = ourWrites(sb);
      const run = await runWith(sb, request(), {
        ApplyIngressFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.applyIngress }, respond: { status: 403 }, times: 10 })) },
      });
      record(sb, { group, fault: "403 Forbidden", step: "apply-ingress", how: "PATCH Ingress (apply) answers 403 (RBAC)", expected: "terminal", state: "ApplyIngress" }, run);
      expectFailsFast(run, "ApplyIngress", "KubernetesForbidden", ["refused apply Ingress milvus/milvus-demo (403)", "is forbidden", "EKS access entry", "AmazonEKSEditPolicy"]);
      expect(ourWrites(sb)).toBe(writes);
      expect(serviceType(sb)).toBe("LoadBalancer");
    });

    it("404, the Service is missing: fails fast at apply-ingress before anything is written", async () => {
      await reset(sb, "fresh");
      await deleteService(sb);
      const writes = ourWrites(sb);
      const run = await sb.run(request());
      record(sb, { group, fault: "404 Not Found: Service missing", step: "apply-ingress", how: "the Milvus Service deleted (`kubectl delete service`)", expected: "terminal", state: "ApplyIngress" }, run);
      expectFailsFast(run, "ApplyIngress", "KubernetesNotFound", ['services "milvus-demo" not found', "milvus.namespace and milvus.service"]);
      expect(ourWrites(sb)).toBe(writes);
      expect(ingressExists(sb)).toBe(false);
    });

    it("404, the namespace does not exist: fails fast at apply-ingress", async () => {
      await reset(sb, "fresh");
      const base = request() as { milvus: Record<string, unknown> };
      const run = await sb.run({ ...base, milvus: { ...base.milvus, namespace: "milvus-prod" } });
      record(sb, { group, fault: "404 Not Found: namespace missing", step: "apply-ingress", how: "request names namespace milvus-prod, which does not exist", expected: "terminal", state: "ApplyIngress" }, run);
      expectFailsFast(run, "ApplyIngress", "KubernetesNotFound", ["read Service milvus-prod/milvus-demo", "milvus.namespace"]);
    });

    it("403 on the events list fails get-ingress-status fast; with onFailure remove-ingress, a 429 in the rollback is waited out, a 503 retried, and the Ingress removed", async () => {
      await reset(sb, "fresh");
      const requestsBefore = sb.kube.requests.length;
      const run = await runWith(sb, request({ onFailure: "remove-ingress" }), {
        GetIngressStatusFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.events }, respond: { status: 403 }, times: 10 })) },
        RemoveIngressFunctionArn: {
          // The controller may still be reconciling the new Ingress (it reads it too): let it finish first.
          before: onCall(1, async () => {
            await quiet(sb);
            sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.ingress }, respond: { status: 429, retryAfterSeconds: 3 } });
            sb.kube.injectFault({ match: { method: "DELETE", pathIncludes: PATH.ingress }, respond: { status: 503 } });
          }),
        },
      });
      await until("the Ingress to be gone", () => !ingressExists(sb));
      record(sb, { group, fault: "403 Forbidden", step: "get-ingress-status", how: "GET Events (list) answers 403 (RBAC)", expected: "terminal", state: "GetIngressStatus", after: "Service untouched" }, run);
      const rollback = { group, step: "remove-ingress", expected: "transient", state: "RemoveIngress", after: "Ingress removed", rollback: true } as const;
      record(
        sb,
        { ...rollback, expected: "absorbed", fault: "429 Too Many Requests, Retry-After: 3", how: "GET Ingress answers 429, once (rollback after a failure)", match: "answered 429" },
        run,
      );
      record(sb, { ...rollback, fault: "503 Service Unavailable", how: "DELETE Ingress answers 503, once (rollback after a failure)", match: "answered 503" }, run);
      expectFailsFast(run, "GetIngressStatus", "KubernetesForbidden", ['cannot list resource "events"', "AmazonEKSEditPolicy"]);
      expect(retriesOf(run, "RemoveIngress")).toBe(1);
      expect(failuresOf(run, "RemoveIngress").map((f) => f.error)).toEqual(["KubernetesUnavailable"]);
      expect(sb.kube.requests.slice(requestsBefore).filter((r) => r.fault === "status" && r.status === 429 && r.path === PATH.ingress)).toHaveLength(1);
      expect(serviceType(sb)).toBe("LoadBalancer");
    });

    it("403 on the rollback's DELETE: the run fails with the original error, the Cause says the Ingress stays and why", async () => {
      await reset(sb, "fresh");
      const run = await runWith(sb, request({ onFailure: "remove-ingress" }), {
        GetIngressStatusFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "GET", pathIncludes: PATH.events }, respond: { status: 403 }, times: 10 })) },
        RemoveIngressFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "DELETE", pathIncludes: PATH.ingress }, respond: { status: 403 }, times: 10 })) },
      });
      record(sb, { group, fault: "403 Forbidden", step: "remove-ingress", how: "DELETE Ingress answers 403 (rollback after a failure)", expected: "terminal", state: "RemoveIngress", after: "Ingress left", rollback: true }, run);
      expect(run.status).toBe("FAILED");
      expect(run.error).toBe("KubernetesForbidden");
      expect(retriesOf(run, "RemoveIngress")).toBe(0);
      expect(failuresOf(run, "RemoveIngress").map((f) => f.error)).toEqual(["KubernetesForbidden"]);
      expect(run.cause).toContain("The rollback (onFailure: remove-ingress) failed too, so the Ingress is still in place: KubernetesForbidden: Kubernetes API refused delete Ingress milvus/milvus-demo (403)");
      expect(ingressExists(sb)).toBe(true);
    });

    it("404, the Ingress deleted while the address is awaited: fails fast at get-ingress-status", async () => {
      await reset(sb, "fresh");
      const run = await runWith(sb, request(), { GetIngressStatusFunctionArn: { before: onCall(1, () => deleteIngress(sb)) } });
      record(sb, { group, fault: "404 Not Found: Ingress deleted", step: "get-ingress-status", how: "`kubectl delete ingress` between apply and the first poll", expected: "terminal", state: "GetIngressStatus" }, run);
      expectFailsFast(run, "GetIngressStatus", "KubernetesNotFound", [
        "Ingress milvus/milvus-demo was deleted while the workflow waited for its ALB address, by another tool or a person",
        "Re-run the same input",
      ]);
      expect(serviceType(sb)).toBe("LoadBalancer");
    });

    it("403 on the Service patch: fails fast, the Service stays LoadBalancer", async () => {
      await reset(sb, "fresh");
      const run = await runWith(sb, request(), {
        PatchServiceFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.patchService }, respond: { status: 403 }, times: 10 })) },
      });
      record(sb, { group, fault: "403 Forbidden", step: "patch-service", how: "PATCH Service answers 403 (RBAC)", expected: "terminal", state: "CutOver", after: "Service LoadBalancer" }, run);
      expectFailsFast(run, "CutOver", "KubernetesForbidden", ["refused patch Service milvus/milvus-demo to ClusterIP (403)", "AmazonEKSEditPolicy"]);
      expect(serviceType(sb)).toBe("LoadBalancer");
    });

    it("404, the Service deleted before the cutover: fails fast at patch-service", async () => {
      await reset(sb, "fresh");
      const run = await runWith(sb, request(), { PatchServiceFunctionArn: { before: onCall(1, () => deleteService(sb)) } });
      record(sb, { group, fault: "404 Not Found: Service missing", step: "patch-service", how: "`kubectl delete service` after the verification", expected: "terminal", state: "CutOver" }, run);
      expectFailsFast(run, "CutOver", "KubernetesNotFound", ['services "milvus-demo" not found', "milvus.service"]);
    });

    it("409 on the Service patch (the Service changed since it was read) is retried and the cutover completes", async () => {
      await reset(sb, "fresh");
      const run = await runWith(sb, request(), {
        PatchServiceFunctionArn: { before: onCall(1, () => sb.kube.injectFault({ match: { method: "PATCH", pathIncludes: PATH.patchService }, respond: { status: 409 } })) },
      });
      record(sb, { group, fault: "409 Conflict: object modified", step: "patch-service", how: "PATCH Service answers 409 (resourceVersion precondition), once", expected: "transient", state: "CutOver" }, run);
      expectRetriedThrough(run, "CutOver", "KubernetesUnavailable");
      expect(serviceType(sb)).toBe("ClusterIP");
    });

  });
}

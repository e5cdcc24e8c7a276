// Milvus and ALB faults at verify-connection: the stand-ins' switches (`milvus.setFault`, `alb.setFault`) and an
// Ingress rule edited under the workflow; they surface as EndpointNotReady and are retried, never failed fast.
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf } from "../../../functions/lib/certificates";
import { HOST, type Sandbox } from "../../../sandbox";
import {
  INGRESS,
  NS,
  OTHER_HOST,
  expectRetriedThrough,
  failuresOf,
  kubectl,
  newCertificate,
  onCall,
  quiet,
  reset,
  retriesOf,
  runWith,
  serviceType,
  sleep,
  verifyWithTimeout,
} from "./harness";
import { record } from "./table";

/**
 * The HTTP status each node of the demo Ingress's ALB answers a gRPC request for `authority` with. A request the
 * ALB routes reaches Milvus (and counts as a call there).
 */
async function albStatuses(sb: Sandbox, authority: string): Promise<number[]> {
  type WithStatus = { status?: { loadBalancer?: { ingress?: { hostname?: string }[] } } };
  const hostname = sb.kube.get<WithStatus>("Ingress", NS, INGRESS)?.status?.loadBalancer?.ingress?.[0]?.hostname ?? "";
  return Promise.all(
    sb.alb.resolve(hostname).map(
      ({ address, port }) =>
        new Promise<number>((resolve, reject) => {
          const session = http2.connect(`https://${authority}`, {
            createConnection: () => tls.connect({ host: address, port, servername: authority, rejectUnauthorized: false, ALPNProtocols: ["h2"] }),
          });
          session.on("error", reject);
          const headers = { ":method": "POST", ":path": "/milvus.proto.milvus.MilvusService/GetVersion", ":authority": authority, "content-type": "application/grpc", te: "trailers" };
          const req = session.request(headers);
          req.on("response", (h) => {
            resolve(Number(h[":status"]));
            session.destroy();
          });
          req.on("error", reject);
          // An empty GetVersionRequest: uncompressed flag and zero length.
          req.end(Buffer.alloc(5));
        }),
    ),
  );
}

/** Registers the scenarios; `sandbox` is the running sandbox they share (started by the test file). */
export function milvusAlbFaults(sandbox: () => Sandbox): void {
  describe("Milvus and ALB faults", () => {
    const group = "Milvus and the ALB";
    let sb: Sandbox;
    let secretArn: string;
    let arn: string;

    beforeAll(async () => {
      sb = sandbox();
      secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/milvus-demo-tls");
    });

    /** Clears the Milvus fault after `failures` verification attempts. */
    const clearMilvusAfter = (failures: number) => ({ after: onCall(failures, () => sb.milvus.setFault(undefined)) });

    it("UNAVAILABLE, transient: the verification is retried until Milvus answers", async () => {
      await reset(sb, "fresh");
      sb.milvus.setFault("unavailable");
      const run = await runWith(sb, sb.request(secretArn), { VerifyConnectionFunctionArn: clearMilvusAfter(2) });
      record(sb, { group, fault: "Milvus UNAVAILABLE", step: "verify-connection", how: "`milvus.setFault('unavailable')` for 2 attempts", expected: "transient", state: "VerifyThroughAlb" }, run);
      expectRetriedThrough(run, "VerifyThroughAlb", "EndpointNotReady", 2);
      arn = (run.output as { certificate: { arn: string } }).certificate.arn;
    });

    it("baseline renewal: re-imported into the same ARN and verified, no Retry", async () => {
      await reset(sb, "keep");
      const renewed = await newCertificate(sb);
      await sb.storeInSecret(renewed, "milvus-l7/milvus-demo-tls");
      // The ALB stand-in re-reads ACM every 200 ms; a verification in between rightly sees the previous certificate
      // and is retried (the "old certificate" rows below). Here the listener is given the time to catch up.
      const run = await runWith(sb, sb.request(secretArn, arn), { VerifyConnectionFunctionArn: { before: onCall(1, () => sleep(500)) } });
      record(sb, { group: "Baseline", fault: "none: renewal", step: "all", how: "a new certificate in the same secret, re-imported into the ARN", expected: "succeeds", state: "VerifyThroughAlb" }, run);
      expect(run.cause).toBeUndefined();
      expect(run.events.filter((e) => e.type === "StateRetried")).toEqual([]);
      expect((run.output as { targets: { servedFingerprint256: string }[] }).targets[0]?.servedFingerprint256).toBe(fingerprintOf(renewed.leaf.certPem));
    });

    it("the old certificate still served after a re-import: retried until the ALB serves the new one", async () => {
      await reset(sb, "keep");
      const renewed = await newCertificate(sb);
      await sb.storeInSecret(renewed, "milvus-l7/milvus-demo-tls");
      sb.alb.setFault({ servedCertificateLagMs: 3_600_000 });
      const run = await runWith(sb, sb.request(secretArn, arn), {
        VerifyConnectionFunctionArn: {
          // The listener has long since seen ACM's new copy (it re-reads every 200 ms); from the third attempt on it serves it.
          before: onCall(3, async () => {
            await sleep(500);
            sb.alb.setFault({});
          }),
        },
      });
      record(sb, { group, fault: "old certificate served after re-import", step: "verify-connection", how: "`alb.setFault({ servedCertificateLagMs })` for 2 attempts, on a renewal", expected: "transient", state: "VerifyThroughAlb" }, run);
      expectRetriedThrough(run, "VerifyThroughAlb", "EndpointNotReady", 2);
      expect((run.output as { targets: { servedFingerprint256: string }[] }).targets[0]?.servedFingerprint256).toBe(fingerprintOf(renewed.leaf.certPem));
    });

    it("the old certificate served for good: fails after the retries", async () => {
      await reset(sb, "keep");
      const renewed = await newCertificate(sb);
      await sb.storeInSecret(renewed, "milvus-l7/milvus-demo-tls");
      sb.alb.setFault({ servedCertificateLagMs: 3_600_000 });
      const run = await sb.run(sb.request(secretArn, arn));
      record(sb, { group, fault: "old certificate served after re-import", step: "verify-connection", how: "`alb.setFault({ servedCertificateLagMs: 1 h })` on a renewal", expected: "persistent", state: "VerifyThroughAlb" }, run);
      expect(run.error).toBe("EndpointNotReady");
      expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
      // The renewal comes from the same CA, as a real one's does: the old certificate still verifies, and only its
      // fingerprint gives it away.
      expect(run.cause).toContain("serves a different certificate for milvus-demo.milvus.io");
      expect(run.cause).toContain(`imported SHA-256 ${fingerprintOf(renewed.leaf.certPem)}`);
    });

    it("UNAVAILABLE, persistent: fails after the retries, the Layer-4 endpoint untouched", async () => {
      await reset(sb, "fresh");
      sb.milvus.setFault("unavailable");
      const run = await sb.run(sb.request(secretArn));
      record(sb, { group, fault: "Milvus UNAVAILABLE", step: "verify-connection", how: "`milvus.setFault('unavailable')`, never cleared", expected: "persistent", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
      expect(run.status).toBe("FAILED");
      expect(run.error).toBe("EndpointNotReady");
      expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
      expect(run.cause).toContain("UNAVAILABLE (14)");
      expect(serviceType(sb)).toBe("LoadBalancer");
    }, 60_000);

    it("UNAUTHENTICATED (auth on, no credentials in the request): terminal before the cutover, naming the field", async () => {
      await reset(sb, "fresh");
      sb.milvus.enableAuth({ users: { root: "Milvus" } });
      try {
        const run = await sb.run(sb.request(secretArn));
        record(sb, { group, fault: "Milvus UNAUTHENTICATED", step: "verify-connection", how: "`milvus.enableAuth(…)`, the request without milvus.credentials", expected: "terminal", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
        expect(run.status).toBe("FAILED");
        expect(run.error).toBe("MilvusUnauthenticated");
        expect(retriesOf(run, "VerifyThroughAlb")).toBe(0);
        expect(run.cause).toContain("milvus.credentials");
        expect(serviceType(sb)).toBe("LoadBalancer");
      } finally {
        sb.milvus.disableAuth();
      }
    }, 60_000);

    it("DEADLINE_EXCEEDED, transient: the verification is retried until Milvus answers", async () => {
      await reset(sb, "fresh");
      sb.milvus.setFault("deadline");
      const run = await runWith(sb, sb.request(secretArn), {
        VerifyConnectionFunctionArn: { replace: await verifyWithTimeout(sb, 1_000), ...clearMilvusAfter(1) },
      });
      record(sb, { group, fault: "Milvus DEADLINE_EXCEEDED", step: "verify-connection", how: "`milvus.setFault('deadline')` for 1 attempt (1 s RPC deadline)", expected: "transient", state: "VerifyThroughAlb" }, run);
      expectRetriedThrough(run, "VerifyThroughAlb", "EndpointNotReady");
      expect(failuresOf(run, "VerifyThroughAlb")[0]?.cause).toContain("DEADLINE_EXCEEDED");
    });

    it("DEADLINE_EXCEEDED, persistent: fails after the retries", async () => {
      await reset(sb, "fresh");
      sb.milvus.setFault("deadline");
      const run = await runWith(sb, sb.request(secretArn), { VerifyConnectionFunctionArn: { replace: await verifyWithTimeout(sb, 500) } });
      record(sb, { group, fault: "Milvus DEADLINE_EXCEEDED", step: "verify-connection", how: "`milvus.setFault('deadline')`, never cleared (0.5 s RPC deadline)", expected: "persistent", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
      expect(run.error).toBe("EndpointNotReady");
      expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
      expect(run.cause).toContain("DEADLINE_EXCEEDED");
      expect(serviceType(sb)).toBe("LoadBalancer");
    }, 90_000);

    it("ALB 404 for a wrong :authority: the Ingress rule's host no longer matches the request's host", async () => {
      await reset(sb, "fresh");
      let callsBefore = 0;
      const run = await runWith(sb, sb.request(secretArn), {
        ApplyIngressFunctionArn: {
          after: onCall(1, async () => {
            // Someone edits the rule's host (`kubectl edit ingress`); verify keeps sending the request's host.
            const { networking } = await kubectl(sb);
            const current = await networking.readNamespacedIngress({ name: INGRESS, namespace: NS });
            const rules = (current.spec?.rules ?? []).map((r) => ({ ...r, host: OTHER_HOST }));
            await networking.patchNamespacedIngress(
              { name: INGRESS, namespace: NS, body: { spec: { rules } }, fieldManager: "kubectl-edit" },
              setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
            );
            await quiet(sb);
            // The controller re-reads ACM before it deploys the edited rule, which no apiserver request shows:
            // wait until every ALB node routes the host no more.
            const deadline = Date.now() + 10_000;
            while (!(await albStatuses(sb, HOST)).every((status) => status === 404)) {
              if (Date.now() > deadline) throw new Error("the ALB still routes the request's host after the rule edit");
              await sleep(50);
            }
            callsBefore = sb.milvus.calls.length;
          }),
        },
      });
      record(sb, { group, fault: "ALB 404 (wrong :authority)", step: "verify-connection", how: `Ingress rule host edited to ${OTHER_HOST} after apply; verify sends ${HOST}`, expected: "persistent", state: "VerifyThroughAlb", after: "Service LoadBalancer" }, run);
      expect(run.error).toBe("EndpointNotReady");
      expect(retriesOf(run, "VerifyThroughAlb")).toBe(12);
      expect(run.cause).toContain("UNIMPLEMENTED, which is what an ALB HTTP 404 becomes");
      expect(run.cause).toContain(":authority is not the Ingress host");
      // The ALB answered every RPC itself: none reached Milvus.
      expect(sb.milvus.calls.length).toBe(callsBefore);
      expect(serviceType(sb)).toBe("LoadBalancer");
    }, 60_000);
  });
}

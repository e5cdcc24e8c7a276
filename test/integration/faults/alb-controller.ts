// ALB controller faults at get-ingress-status: a load balancer the controller cannot build, an address that never
// comes, one that comes late. The address wait is bounded and fails with the controller's latest warning.
import { DeleteCertificateCommand } from "@aws-sdk/client-acm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../../sandbox";
import { entered, newCertificate, onCall, reset, retriesOf, runWith, serviceType } from "./harness";
import { record } from "./table";

/** Registers the scenarios; `sandbox` is the running sandbox they share (started by the test file). */
export function albControllerFaults(sandbox: () => Sandbox): void {
  describe("ALB controller faults", () => {
    const group = "ALB controller";
    let sb: Sandbox;

    beforeAll(() => {
      sb = sandbox();
    });

    it("FailedDeployModel: the certificate deleted after the import; fails with the controller's warning once the wait is spent", async () => {
      await reset(sb, "fresh");
      const secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/deleted-later");
      const importReal = sb.functions.ImportCertificateFunctionArn;
      const run = await runWith(sb, { ...sb.request(secretArn), waitForAddressMinutes: 1 }, {
        ImportCertificateFunctionArn: {
          replace: async (event) => {
            const imported = (await importReal(event)) as { arn: string };
            await sb.aws.acm.send(new DeleteCertificateCommand({ CertificateArn: imported.arn }));
            return imported;
          },
        },
      });
      record(sb, { group, fault: "controller FailedDeployModel", step: "get-ingress-status", how: "the ACM certificate deleted right after the import (CertificateNotFound)", expected: "bounded", state: "GetIngressStatus", polls: true, after: "Service LoadBalancer" }, run);
      expect(run.error).toBe("AddressTimeout");
      expect(run.cause).toContain("Latest controller warning: FailedDeployModel");
      expect(run.cause).toContain("Fix the cause and re-run");
      expect(entered(run, "GetIngressStatus")).toBe(10);
      expect(retriesOf(run, "GetIngressStatus")).toBe(0);
      expect(serviceType(sb)).toBe("LoadBalancer");
    }, 60_000);

    it("an address that never comes: fails once the wait is spent, saying the controller recorded nothing", async () => {
      await reset(sb, "fresh");
      const secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/no-address");
      sb.alb.setFault({ neverPublish: true });
      const run = await sb.run({ ...sb.request(secretArn), waitForAddressMinutes: 1 });
      record(sb, { group, fault: "address never published", step: "get-ingress-status", how: "`alb.setFault({ neverPublish: true })`, 1-minute wait", expected: "bounded", state: "GetIngressStatus", polls: true, after: "Service LoadBalancer" }, run);
      expect(run.error).toBe("AddressTimeout");
      expect(run.cause).toContain("did not publish an address for Ingress milvus/milvus-demo after 10 polls");
      expect(run.cause).toContain("recorded no Warning events");
      expect(entered(run, "GetIngressStatus")).toBe(10);
      expect(serviceType(sb)).toBe("LoadBalancer");
    }, 60_000);

    it("an address that comes late: the poll loop waits for it and the run succeeds", async () => {
      await reset(sb, "fresh");
      const secretArn = await sb.storeInSecret(await newCertificate(sb), "milvus-l7/late-address");
      sb.alb.setFault({ neverPublish: true });
      const run = await runWith(sb, sb.request(secretArn), { GetIngressStatusFunctionArn: { after: onCall(2, () => sb.alb.setFault({})) } });
      record(sb, { group, fault: "address published late", step: "get-ingress-status", how: "`neverPublish` cleared after the second poll", expected: "absorbed", state: "GetIngressStatus", polls: true }, run);
      expect(run.cause).toBeUndefined();
      expect(entered(run, "GetIngressStatus")).toBe(3);
      expect(retriesOf(run, "GetIngressStatus")).toBe(0);
    });
  });
}

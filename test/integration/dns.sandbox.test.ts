// Optional DNS: with a Route 53 hosted zone in the request, the host is aliased to the ALB and the final
// verification connects through the host name itself.
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand } from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST, type Sandbox, startSandbox } from "../../sandbox";

describe("Route 53 alias for the Milvus host", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it("upserts host → ALB and verifies through the host name after the cutover", async () => {
    const zone = await sandbox.aws.route53.send(new CreateHostedZoneCommand({ Name: "milvus.io", CallerReference: "milvus-l7-test" }));
    const zoneId = zone.HostedZone?.Id?.replace("/hostedzone/", "") ?? "";
    const request = sandbox.request(await sandbox.storeInSecret(await sandbox.newCertificate())) as { ingress: Record<string, unknown> };
    request.ingress.route53HostedZoneId = zoneId;
    const run = await sandbox.run(request);
    expect(run.cause).toBeUndefined();
    const alb = (run.output as { targets: { albHostname: string }[] }).targets[0]?.albHostname;

    const { ResourceRecordSets = [] } = await sandbox.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    const records = ResourceRecordSets.filter((r) => r.Name?.replace(/\.$/, "") === HOST);
    expect(records.map((r) => r.Type).sort()).toEqual(["A", "AAAA"]);
    expect(records[0]?.AliasTarget).toMatchObject({ DNSName: expect.stringContaining(alb ?? "?"), HostedZoneId: "Z3AADJGX6KTTL2" });

    const entered = run.events.flatMap((e) => (e.type === "StateEntered" ? [e.state] : []));
    const finalCheck = entered.find((s) => s.name === "VerifyAfterCutover");
    expect(finalCheck?.input).toMatchObject({ dns: { connectVia: "dns" } });
    expect(entered.map((s) => s.name)).toEqual(expect.arrayContaining(["UpsertDns", "CutOver", "VerifyAfterCutover"]));
  });

  it("rejects a malformed hosted zone id before anything changes", async () => {
    const request = sandbox.request("arn:aws:secretsmanager:us-east-2:123456789012:secret:none-AbCdEf") as { ingress: Record<string, unknown> };
    request.ingress.route53HostedZoneId = "zone-1";
    const run = await sandbox.run(request);
    expect(run.error).toBe("InvalidRequest");
    expect(run.cause).toContain("ingress.route53HostedZoneId");
  });
});

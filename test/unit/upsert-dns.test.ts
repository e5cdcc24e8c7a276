import { ChangeResourceRecordSetsCommand, GetChangeCommand, Route53Client } from "@aws-sdk/client-route-53";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { Target } from "../../functions/lib/state";
import { albRegion, upsertDns } from "../../functions/upsert-dns/core";

const client = new Route53Client({ region: "us-east-2" });
const route53 = mockClient(client);
const ALB = "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com";
const target = (route53HostedZoneId?: string): Target => ({
  cluster: { name: "milvus-eks", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: {}, ...(route53HostedZoneId ? { route53HostedZoneId } : {}) },
});

beforeEach(() => route53.reset());

describe("upsert-dns", () => {
  it("reads the region from an ALB hostname", () => {
    expect(albRegion(ALB)).toBe("us-east-2");
    expect(albRegion(`internal-${ALB}`)).toBe("us-east-2");
    expect(albRegion("milvus.example.com")).toBeUndefined();
  });

  it("upserts A and AAAA aliases to the ALB in its region's canonical zone", async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: "/change/C1", Status: "INSYNC", SubmittedAt: new Date() } });
    await expect(upsertDns({ target: target("Z0123456789ABC"), albHostname: ALB }, { route53: client })).resolves.toMatchObject({ changed: true });
    const input = route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input;
    expect(input?.HostedZoneId).toBe("Z0123456789ABC");
    expect(input?.ChangeBatch?.Changes?.map((c) => [c.Action, c.ResourceRecordSet?.Type, c.ResourceRecordSet?.AliasTarget?.HostedZoneId])).toEqual([
      ["UPSERT", "A", "Z3AADJGX6KTTL2"],
      ["UPSERT", "AAAA", "Z3AADJGX6KTTL2"],
    ]);
  });

  it("does nothing without a hosted zone", async () => {
    await expect(upsertDns({ target: target(), albHostname: ALB }, { route53: client })).resolves.toMatchObject({ changed: false });
    expect(route53.calls()).toHaveLength(0);
  });

  it("is retryable while Route 53 has not applied the change", async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
    route53.on(GetChangeCommand).resolves({ ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date() } });
    await expect(upsertDns({ target: target("Z0123456789ABC"), albHostname: ALB }, { route53: client })).rejects.toMatchObject({ name: "AwsUnavailable" });
  });

  it("refuses an ALB name it cannot place in a region, and Route 53 refusals, as terminal", async () => {
    await expect(upsertDns({ target: target("Z0123456789ABC"), albHostname: "alb.example.com" }, { route53: client })).rejects.toMatchObject({
      name: "DnsRejected",
    });
    route53.on(ChangeResourceRecordSetsCommand).rejects(Object.assign(new Error("No hosted zone found with ID: Z0"), { name: "NoSuchHostedZone", $metadata: { httpStatusCode: 404 } }));
    await expect(upsertDns({ target: target("Z0"), albHostname: ALB }, { route53: client })).rejects.toMatchObject({
      name: "DnsRejected",
      message: expect.stringContaining("Z0"),
    });
  });
});

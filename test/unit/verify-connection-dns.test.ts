// verify-connection's production DNS (`dnsResolver`): every A and AAAA record of the ALB's name, one per
// load-balancer node, against a scripted DNS client, and the real resolver for a name that does not exist.
import { describe, expect, it } from "vitest";
import { type DnsClient, dnsResolver, resolveAlb } from "../../functions/verify-connection/core";

const NAME = "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com";

function dnsError(code: string, query: string): Error {
  return Object.assign(new Error(`${query} ${code} ${NAME}`), { code });
}

/** A DNS client answering from fixed records; a string answer is the error code the query fails with. */
function dns(a: string[] | string, aaaa: string[] | string): DnsClient & { queries: string[] } {
  const queries: string[] = [];
  const answer = (records: string[] | string, query: string) =>
    typeof records === "string" ? Promise.reject(dnsError(records, query)) : Promise.resolve(records);
  return {
    queries,
    resolve4: (hostname) => {
      queries.push(`A ${hostname}`);
      return answer(a, "queryA");
    },
    resolve6: (hostname) => {
      queries.push(`AAAA ${hostname}`);
      return answer(aaaa, "queryAaaa");
    },
  };
}

describe("dnsResolver", () => {
  it("returns every A and AAAA record with the listener port", async () => {
    const client = dns(["3.12.0.1", "3.12.0.2", "3.12.0.3"], ["2600:1f16::1", "2600:1f16::2"]);
    expect(await dnsResolver(client, () => true)(NAME, 443)).toEqual([
      { address: "3.12.0.1", port: 443 },
      { address: "3.12.0.2", port: 443 },
      { address: "3.12.0.3", port: 443 },
      { address: "2600:1f16::1", port: 443 },
      { address: "2600:1f16::2", port: 443 },
    ]);
    expect(client.queries).toEqual([`A ${NAME}`, `AAAA ${NAME}`]);
  });

  it("asks for no AAAA records on a machine without an IPv6 address (AI_ADDRCONFIG)", async () => {
    const client = dns(["3.12.0.1", "3.12.0.2"], ["2600:1f16::1"]);
    expect(await dnsResolver(client, () => false)(NAME, 8443)).toEqual([
      { address: "3.12.0.1", port: 8443 },
      { address: "3.12.0.2", port: 8443 },
    ]);
    expect(client.queries).toEqual([`A ${NAME}`]);
  });

  it("takes an IPv4-only name's missing AAAA records (ENODATA) as none", async () => {
    expect(await dnsResolver(dns(["3.12.0.1"], "ENODATA"), () => true)(NAME, 443)).toEqual([{ address: "3.12.0.1", port: 443 }]);
  });

  it("takes an IPv6-only answer", async () => {
    expect(await dnsResolver(dns("ENODATA", ["2600:1f16::1"]), () => true)(NAME, 443)).toEqual([{ address: "2600:1f16::1", port: 443 }]);
  });

  it("fails rather than verify a subset when one query fails (timeout, SERVFAIL)", async () => {
    await expect(dnsResolver(dns(["3.12.0.1"], "ETIMEOUT"), () => true)(NAME, 443)).rejects.toMatchObject({ code: "ETIMEOUT" });
    await expect(dnsResolver(dns("ESERVFAIL", ["2600:1f16::1"]), () => true)(NAME, 443)).rejects.toMatchObject({ code: "ESERVFAIL" });
  });

  it("fails with the A query's error when the name has no records", async () => {
    await expect(dnsResolver(dns("ENOTFOUND", "ENOTFOUND"), () => true)(NAME, 443)).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(dnsResolver(dns([], []), () => true)(NAME, 443)).rejects.toMatchObject({ code: "ENODATA" });
  });

  it("resolveAlb queries real DNS: a name that cannot exist fails", async () => {
    await expect(resolveAlb("does-not-exist.invalid", 443)).rejects.toMatchObject({ code: expect.stringMatching(/^E[A-Z]+$/) });
  });
});

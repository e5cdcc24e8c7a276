import { describe, expect, it } from "vitest";
import { eksConnector, eksToken } from "../../functions/lib/kube";

const credentials = { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret", sessionToken: "session" };

function decode(token: string): URL {
  expect(token.startsWith("k8s-aws-v1.")).toBe(true);
  const body = token.slice("k8s-aws-v1.".length);
  expect(body).not.toMatch(/[=+/]/); // base64url without padding, as aws-iam-authenticator emits
  return new URL(Buffer.from(body, "base64url").toString());
}

describe("EKS token", () => {
  it("is a presigned STS GetCallerIdentity URL with x-k8s-aws-id signed", async () => {
    const url = decode(await eksToken("milvus-eks", "us-east-2", credentials, new Date("2026-11-26T10:00:00Z")));
    expect(url.origin).toBe("https://sts.us-east-2.amazonaws.com");
    expect(url.searchParams.get("Action")).toBe("GetCallerIdentity");
    expect(url.searchParams.get("Version")).toBe("2011-06-15");
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-Date")).toBe("20261126T100000Z");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
    expect(url.searchParams.get("X-Amz-SignedHeaders")?.split(";")).toEqual(["host", "x-k8s-aws-id"]);
    expect(url.searchParams.get("X-Amz-Credential")).toBe("AKIAEXAMPLE/20261126/us-east-2/sts/aws4_request");
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("session");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"],
    ["cn-northwest-1", "https://sts.cn-northwest-1.amazonaws.com.cn"],
    ["us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"],
    ["eu-central-1", "https://sts.eu-central-1.amazonaws.com"],
  ])("in %s is presigned for its partition's STS host and region", async (region, origin) => {
    const url = decode(await eksToken("milvus-eks", region, credentials, new Date("2026-11-26T10:00:00Z")));
    expect(url.origin).toBe(origin);
    expect(url.searchParams.get("X-Amz-Credential")).toBe(`AKIAEXAMPLE/20261126/${region}/sts/aws4_request`);
  });

  it("signs the cluster name: another cluster gets another signature", async () => {
    const at = new Date("2026-11-26T10:00:00Z");
    const a = decode(await eksToken("cluster-a", "us-east-2", credentials, at)).searchParams.get("X-Amz-Signature");
    const b = decode(await eksToken("cluster-b", "us-east-2", credentials, at)).searchParams.get("X-Amz-Signature");
    expect(a).not.toBe(b);
  });
});

describe("EKS connector", () => {
  it("caches endpoint and token per cluster until shortly before the 15-minute expiry, and one agent per endpoint and CA", async () => {
    let now = Date.parse("2026-11-26T10:00:00Z");
    let describes = 0;
    const connect = eksConnector({
      describeCluster: async ({ name }) => {
        describes++;
        return { endpoint: `https://${name}.gr7.us-east-2.eks.amazonaws.com/`, caData: Buffer.from("ca").toString("base64") };
      },
      credentials: async () => credentials,
      now: () => now,
    });
    const cluster = { name: "milvus-eks", region: "us-east-2" };
    const first = await connect(cluster);
    expect(first.connection.server).toBe("https://milvus-eks.gr7.us-east-2.eks.amazonaws.com"); // trailing '/' stripped
    expect(first.connection.headers.Authorization).toMatch(/^Bearer k8s-aws-v1\./);
    now += 9 * 60 * 1000;
    expect(await connect(cluster)).toBe(first);
    expect(describes).toBe(1);
    now += 2 * 60 * 1000; // 11 minutes: inside the refresh margin
    const second = await connect(cluster);
    expect(second).not.toBe(first);
    expect(describes).toBe(2);
    expect(second.connection.headers.Authorization).not.toBe(first.connection.headers.Authorization);
    // A new token is a new header on the same keep-alive connection.
    expect(second.connection.agent).toBe(first.connection.agent);
    const other = await connect({ name: "other", region: "us-east-2" });
    expect(describes).toBe(3);
    expect(other.connection.agent).not.toBe(first.connection.agent);
  });
});

// verify-connection's Milvus credentials: the secret's two shapes, every malformed one refused with a message that
// names the secret and the expected shape but never a value, Secrets Manager's refusals, the authorization value
// the SDK would compute, and the exposure warning for a Milvus without authentication.
import { describe, expect, it } from "vitest";
import { readMilvusCredentials } from "../../functions/verify-connection/credentials";
import { exposureWarnings } from "../../functions/verify-connection/exposure";
import { authorizationValue } from "../../functions/verify-connection/milvus";
import type { Target } from "../../functions/lib/state";
import { secretsManagerStub } from "../secrets-manager-stub";

const SECRET = "milvus-l7/milvus-root";
const ref = { secretsManager: { secretId: SECRET } };
const PASSWORD = "Pa:ss-wörd-7f3e";

async function refusal(secretString: string): Promise<Error> {
  const error = await readMilvusCredentials(secretsManagerStub({ [SECRET]: secretString }), ref).then(
    () => undefined,
    (e: Error) => e,
  );
  if (!error) throw new Error(`expected ${secretString} to be refused`);
  expect(error.name).toBe("MilvusCredentialsError");
  expect(error.message).toContain(SECRET);
  expect(error.message).toContain('{"username": "<Milvus user>", "password": "<its password>"} or {"token"');
  expect(error.message).not.toContain(PASSWORD);
  return error;
}

describe("readMilvusCredentials", () => {
  it("reads a username and password, or a token", async () => {
    const sm = secretsManagerStub({
      [SECRET]: JSON.stringify({ username: "alice", password: PASSWORD }),
      "milvus-l7/token": JSON.stringify({ token: "root:Milvus" }),
    });
    await expect(readMilvusCredentials(sm, ref)).resolves.toEqual({ kind: "password", username: "alice", password: PASSWORD });
    await expect(readMilvusCredentials(sm, { secretsManager: { secretId: "milvus-l7/token" } })).resolves.toEqual({
      kind: "token",
      token: "root:Milvus",
    });
    expect(sm.reads).toEqual([SECRET, "milvus-l7/token"]);
  });

  it("refuses a secret that is not JSON, without quoting it", async () => {
    const e = await refusal(`alice:${PASSWORD}`);
    expect(e.message).toContain("is not valid JSON");
  });

  it("refuses JSON that is not an object", async () => {
    expect((await refusal(JSON.stringify([PASSWORD]))).message).toContain("not an object");
  });

  it("refuses neither shape, naming the fields it found", async () => {
    const e = await refusal(JSON.stringify({ user: "alice", pass: PASSWORD }));
    expect(e.message).toContain("fields found: user, pass");
  });

  it("refuses empty or non-string values", async () => {
    expect((await refusal(JSON.stringify({ username: "alice", password: "" }))).message).toContain('"password"');
    expect((await refusal(JSON.stringify({ username: "", password: PASSWORD }))).message).toContain('"username"');
    expect((await refusal(JSON.stringify({ token: "" }))).message).toContain('"token"');
    expect((await refusal(JSON.stringify({ token: 42 }))).message).toContain('"token"');
  });

  it("refuses both shapes at once, and a username Milvus cannot split from its password", async () => {
    expect((await refusal(JSON.stringify({ token: "root:Milvus", username: "alice", password: PASSWORD }))).message).toContain("both");
    expect((await refusal(JSON.stringify({ username: "ali:ce", password: PASSWORD }))).message).toContain("':'");
  });

  it("AccessDenied → terminal, naming the secret, the IAM action and the stack's context value", async () => {
    const sm = secretsManagerStub({ [SECRET]: { error: "AccessDeniedException", status: 400, message: "User is not authorized" } });
    const e = (await readMilvusCredentials(sm, ref).catch((x: Error) => x)) as Error;
    expect(e.name).toBe("MilvusCredentialsError");
    expect(e.message).toContain(`secretsmanager:GetSecretValue on the Milvus credentials secret ${SECRET}`);
    expect(e.message).toContain("milvusCredentialSecretArns");
  });

  it("ResourceNotFound → terminal, naming the secret and the request field", async () => {
    const e = (await readMilvusCredentials(secretsManagerStub({}), ref).catch((x: Error) => x)) as Error;
    expect(e.name).toBe("MilvusCredentialsError");
    expect(e.message).toMatch(/^Not found: secretsmanager:GetSecretValue on the Milvus credentials secret milvus-l7\/milvus-root \(milvus\.credentials/);
  });

  it("throttling → AwsUnavailable, which the verify states retry", async () => {
    const sm = secretsManagerStub({ [SECRET]: { error: "ThrottlingException", status: 400, message: "Rate exceeded" } });
    const e = (await readMilvusCredentials(sm, ref).catch((x: Error) => x)) as Error;
    expect(e.name).toBe("AwsUnavailable");
  });
});

describe("authorizationValue", () => {
  it("is base64 of user:password, or of the token verbatim, as the SDK's getAuthString", () => {
    expect(authorizationValue({ kind: "password", username: "root", password: "Milvus" })).toBe("cm9vdDpNaWx2dXM=");
    expect(authorizationValue({ kind: "token", token: "root:Milvus" })).toBe("cm9vdDpNaWx2dXM=");
    expect(Buffer.from(authorizationValue({ kind: "token", token: "an-api-key" }), "base64").toString()).toBe("an-api-key");
  });
});

describe("exposureWarnings", () => {
  const target = (scheme: "internet-facing" | "internal", annotations: Record<string, string> = {}): Target => ({
    cluster: { name: "milvus-eks", region: "us-east-2" },
    namespace: "milvus",
    service: { name: "milvus-demo", port: 19530 },
    ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme, annotations },
  });

  it("warns about a Milvus without credentials behind an internet-facing ALB, with the three ways to close it", () => {
    const [warning, ...rest] = exposureWarnings(target("internet-facing"), "none");
    expect(rest).toEqual([]);
    expect(warning).toContain("anyone who can resolve the host can read and write its collections");
    expect(warning).toContain("common.security.authorizationEnabled: true");
    expect(warning).toContain("milvus.credentials");
    expect(warning).toContain("ingress.scheme: internal");
    expect(warning).toContain("alb.ingress.kubernetes.io/inbound-cidrs");
  });

  it("says nothing with credentials, behind an internal ALB, or with inbound-cidrs that exclude 'anywhere'", () => {
    expect(exposureWarnings(target("internet-facing"), "password")).toEqual([]);
    expect(exposureWarnings(target("internet-facing"), "token")).toEqual([]);
    expect(exposureWarnings(target("internal"), "none")).toEqual([]);
    expect(exposureWarnings(target("internet-facing", { "alb.ingress.kubernetes.io/inbound-cidrs": "10.0.0.0/8, 192.0.2.0/24" }), "none")).toEqual([]);
    expect(exposureWarnings(target("internet-facing", { "alb.ingress.kubernetes.io/inbound-cidrs": "10.0.0.0/8, 0.0.0.0/0" }), "none")).toHaveLength(1);
  });
});

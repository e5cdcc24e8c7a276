// AWS faults at the steps that call AWS (import-certificate, target-lease, record-deployment): error responses in
// each service's wire protocol from a middleware on the sandbox's SDK clients (sandbox/aws-faults.ts), so the
// SDK's own deserializer and retry strategy handle them; "not found" is real (moto).
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { REGION, type Sandbox } from "../../../sandbox";
import type { CertificateSet } from "../../../sandbox/pki";
import { BUCKET, expectFailsFast, expectRetriedThrough, failuresOf, newCertificate, ourWrites, reset } from "./harness";
import { record } from "./table";

/** Registers the scenarios; `sandbox` is the running sandbox they share (started by the test file). */
export function awsFaults(sandbox: () => Sandbox): void {
  describe("AWS faults", () => {
    const group = "AWS APIs";
    let sb: Sandbox;

    beforeAll(async () => {
      sb = sandbox();
      await sb.aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
    });

    /** A new certificate in its own secret, so ImportCertificate really imports. */
    async function freshSecret(name: string): Promise<{ set: CertificateSet; secretArn: string }> {
      const set = await newCertificate(sb);
      return { set, secretArn: await sb.storeInSecret(set, `milvus-l7/${name}`) };
    }

    it("one throttled request is absorbed by the SDK; throttling and 5xx that outlast the SDK's retries are retried by the state", async () => {
      await reset(sb, "keep");
      const { secretArn } = await freshSecret("throttled");
      sb.awsFaults.inject({ service: "SecretsManager", operation: "GetSecretValue", code: "ThrottlingException", times: 1 });
      sb.awsFaults.inject({ service: "ACM", operation: "ImportCertificate", code: "ThrottlingException", calls: 1 });
      sb.awsFaults.inject({ service: "DynamoDB", operation: "PutItem", code: "InternalServerError", calls: 1 });
      const run = await sb.run(sb.request(secretArn));
      record(sb, { group, fault: "Secrets Manager ThrottlingException", step: "import-certificate", how: "GetSecretValue throttled on 1 SDK attempt", expected: "absorbed", state: "ImportCertificate", match: "secretsmanager:" }, run);
      record(sb, { group, fault: "ACM ThrottlingException", step: "import-certificate", how: "ImportCertificate throttled on all 3 SDK attempts, once", expected: "transient", state: "ImportCertificate", match: "acm:ImportCertificate" }, run);
      record(sb, { group, fault: "DynamoDB InternalServerError (500)", step: "target-lease (claim)", how: "PutItem fails on all 4 SDK attempts, once", expected: "transient", state: "ClaimTarget" }, run);
      expectRetriedThrough(run, "ImportCertificate", "AwsUnavailable");
      expectRetriedThrough(run, "ClaimTarget", "AwsUnavailable");
      expect(failuresOf(run, "ImportCertificate")[0]?.cause).toContain("AWS throttled acm:ImportCertificate");
      // The single throttled GetSecretValue never reached the state machine: the SDK's second attempt read it.
      expect(sb.awsFaults.hits.filter((h) => h.operation === "GetSecretValue").map((h) => h.attempt)).toEqual([1]);
      expect(failuresOf(run, "ClaimTarget")[0]?.cause).toContain("AWS failed transiently on dynamodb:PutItem");
      expect(sb.awsFaults.pending()).toEqual([]);
      expect((run.output as { certificate: { imported: boolean } }).certificate.imported).toBe(true);
    });

    it("ACM LimitExceededException: fails fast as a quota, nothing changed in the cluster", async () => {
      await reset(sb, "keep");
      const { secretArn } = await freshSecret("quota");
      sb.awsFaults.inject({ service: "ACM", operation: "ImportCertificate", code: "LimitExceededException", times: 100 });
      const hits = sb.awsFaults.hits.length;
      const writes = ourWrites(sb);
      const run = await sb.run(sb.request(secretArn));
      record(sb, { group, fault: "ACM LimitExceededException", step: "import-certificate", how: "every ImportCertificate answers LimitExceededException", expected: "terminal", state: "ImportCertificate" }, run);
      expectFailsFast(run, "ImportCertificate", "AcmRejected", ["hit an AWS quota", "retrying will not help", "Service Quotas"]);
      // The SDK itself counts LimitExceededException as throttling: all its attempts, but one state attempt.
      expect(sb.awsFaults.hits.slice(hits).map((h) => h.attempt)).toEqual([1, 2, 3]);
      expect(ourWrites(sb)).toBe(writes);
    });

    it("ACM ValidationException that echoes the private key: fails fast, the key is redacted everywhere", async () => {
      await reset(sb, "keep");
      const { set, secretArn } = await freshSecret("invalid");
      sb.awsFaults.inject({
        service: "ACM",
        operation: "ImportCertificate",
        code: "ValidationException",
        times: 100,
        // Worst case: the service quotes the rejected input.
        message: `The private key is not supported: ${set.leaf.keyPem} (base64 ${Buffer.from(set.leaf.keyPem).toString("base64")})`,
      });
      const run = await sb.run(sb.request(secretArn));
      record(sb, { group, fault: "ACM ValidationException", step: "import-certificate", how: "ImportCertificate answers ValidationException quoting the key", expected: "terminal", state: "ImportCertificate" }, run);
      expectFailsFast(run, "ImportCertificate", "AcmRejected", ["rejected acm:ImportCertificate on a new certificate as invalid", "[PEM redacted]", "Fix what AWS's message names"]);
    });

    it("Secrets Manager AccessDeniedException and a secret that does not exist: fail fast at import-certificate", async () => {
      await reset(sb, "keep");
      const writes = ourWrites(sb);
      const { secretArn } = await freshSecret("denied");
      sb.awsFaults.inject({ service: "SecretsManager", operation: "GetSecretValue", code: "AccessDeniedException", times: 100 });
      const denied = await sb.run(sb.request(secretArn));
      record(sb, { group, fault: "Secrets Manager AccessDeniedException", step: "import-certificate", how: "GetSecretValue answers AccessDeniedException", expected: "terminal", state: "ImportCertificate" }, denied);
      expectFailsFast(denied, "ImportCertificate", "CertificateSourceError", ["Access denied: secretsmanager:GetSecretValue", "Allow this action on this resource in the function's IAM role"]);
      sb.awsFaults.clear();
      const missing = await sb.run(sb.request("milvus-l7/no-such-secret"));
      record(sb, { group, fault: "Secrets Manager ResourceNotFoundException", step: "import-certificate", how: "the secret does not exist", expected: "terminal", state: "ImportCertificate" }, missing);
      expectFailsFast(missing, "ImportCertificate", "CertificateSourceError", ["Not found: secretsmanager:GetSecretValue on secret milvus-l7/no-such-secret", "Check the name or ARN"]);
      expect(ourWrites(sb)).toBe(writes);
    });

    it("S3 AccessDenied and an object that does not exist: fail fast at import-certificate", async () => {
      await reset(sb, "keep");
      const set = await newCertificate(sb);
      const files = { "cert.pem": set.leaf.certPem, "chain.pem": set.chainPem, "privkey.pem": set.leaf.keyPem };
      for (const [Key, Body] of Object.entries(files)) await sb.aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
      const fromS3 = (privateKeyKey: string) => ({
        ...sb.request("unused"),
        certificate: { source: { s3: { bucket: BUCKET, certificateKey: "cert.pem", chainKey: "chain.pem", privateKeyKey } } },
      });
      const writes = ourWrites(sb);
      sb.awsFaults.inject({ service: "S3", operation: "GetObject", code: "AccessDenied", times: 100 });
      const denied = await sb.run(fromS3("privkey.pem"));
      record(sb, { group, fault: "S3 AccessDenied", step: "import-certificate", how: "GetObject answers 403 AccessDenied", expected: "terminal", state: "ImportCertificate" }, denied);
      expectFailsFast(denied, "ImportCertificate", "CertificateSourceError", [`Access denied: s3:GetObject on s3://${BUCKET}/`, "s3:ListBucket"]);
      sb.awsFaults.clear();
      const missing = await sb.run(fromS3("missing/privkey.pem"));
      record(sb, { group, fault: "S3 NoSuchKey", step: "import-certificate", how: "the private key object does not exist", expected: "terminal", state: "ImportCertificate" }, missing);
      expectFailsFast(missing, "ImportCertificate", "CertificateSourceError", [`Not found: s3:GetObject on s3://${BUCKET}/missing/privkey.pem (the privateKey)`]);
      expect(ourWrites(sb)).toBe(writes);
    });

    it("the Milvus credentials secret: throttling is retried by VerifyThroughAlb; AccessDenied fails fast before the cutover", async () => {
      await reset(sb, "keep");
      // The certificate already in ACM (by ARN alone, so import-certificate reads no secret): every GetSecretValue
      // below is verify-connection's.
      const { secretArn } = await freshSecret("for-milvus-credentials");
      const imported = await sb.run(sb.request(secretArn));
      const arn = (imported.output as { certificate: { arn: string } }).certificate.arn;
      const credentialsArn = await sb.storeMilvusCredentials({ username: "milvus-l7", password: "faults-Pa55word" }, "milvus-l7/faults-milvus");
      const request = () => {
        const r = sb.request("unused") as { milvus: Record<string, unknown>; certificate: unknown };
        r.certificate = { arn };
        r.milvus = { ...r.milvus, credentials: { secretsManager: { secretId: credentialsArn } } };
        return r;
      };
      await reset(sb, "keep");
      sb.awsFaults.inject({ service: "SecretsManager", operation: "GetSecretValue", code: "ThrottlingException", calls: 1 });
      const throttled = await sb.run(request());
      record(sb, { group, fault: "Secrets Manager ThrottlingException (Milvus credentials)", step: "verify-connection", how: "GetSecretValue throttled on all 3 SDK attempts, once", expected: "transient", state: "VerifyThroughAlb", match: "secretsmanager:" }, throttled);
      expectRetriedThrough(throttled, "VerifyThroughAlb", "AwsUnavailable");
      await reset(sb, "keep");
      sb.awsFaults.inject({ service: "SecretsManager", operation: "GetSecretValue", code: "AccessDeniedException", times: 100 });
      const writes = ourWrites(sb);
      const denied = await sb.run(request());
      record(sb, { group, fault: "Secrets Manager AccessDeniedException (Milvus credentials)", step: "verify-connection", how: "GetSecretValue answers AccessDeniedException", expected: "terminal", state: "VerifyThroughAlb" }, denied);
      expectFailsFast(denied, "VerifyThroughAlb", "MilvusCredentialsError", [`Milvus credentials secret ${credentialsArn}`, "milvusCredentialSecretArns"]);
      // Before the cutover: the Service was not touched (the Ingress, kept, is re-applied unchanged).
      expect(sb.kube.mutations.filter((m) => m.fieldManager === "milvus-l7").slice(writes).some((m) => m.kind === "Service")).toBe(false);
    });

    it("DynamoDB AccessDeniedException when recording the verified target: fails fast naming the permission", async () => {
      await reset(sb, "fresh");
      const { secretArn } = await freshSecret("unrecorded");
      sb.awsFaults.inject({ service: "DynamoDB", operation: "TransactWriteItems", code: "AccessDeniedException", times: 100 });
      const run = await sb.run(sb.request(secretArn));
      record(sb, { group, fault: "DynamoDB AccessDeniedException", step: "record-deployment", how: "TransactWriteItems answers AccessDeniedException", expected: "terminal", state: "RecordDeployment", after: "Service ClusterIP" }, run);
      expectFailsFast(run, "RecordDeployment", "RegistryError", ["Access denied: dynamodb:TransactWriteItems on milvus-l7-deployments", "IAM role"]);
    });
  });
}

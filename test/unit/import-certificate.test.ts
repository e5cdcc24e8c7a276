// import-certificate's core against mocked SDK clients (aws-sdk-client-mock), and the SDK error translation.
import { X509Certificate } from "node:crypto";
import {
  ACMClient,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ImportCertificateCommand,
  LimitExceededException,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  ThrottlingException,
  ValidationException,
} from "@aws-sdk/client-acm";
import { GetObjectCommand, type GetObjectCommandOutput, NoSuchKey, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import {
  GetSecretValueCommand,
  ResourceNotFoundException as SecretNotFound,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MANAGED_BY_TAG, daysUntil, importCertificate, withExpiry } from "../../functions/import-certificate/core";
import { translateAwsError } from "../../functions/lib/aws-errors";
import {
  AcmRejected,
  AwsUnavailable,
  CertificateRejected,
  CertificateSourceError,
  InvalidRequest,
} from "../../functions/lib/errors";
import type { PlannedCertificate } from "../../functions/lib/state";
import { type CertificateSet, certificateSet } from "../../sandbox/pki";

const HOST = "milvus.example.com";
const ARN = "arn:aws:acm:us-east-2:123456789012:certificate/11111111-2222-3333-4444-555555555555";
const NEW_ARN = "arn:aws:acm:us-east-2:123456789012:certificate/99999999-8888-7777-6666-555555555555";
const SECRET = "milvus-l7/tls";
const fromSecret: PlannedCertificate["source"] = { secretsManager: { secretId: SECRET } };
const fromS3: PlannedCertificate["source"] = {
  s3: { bucket: "certs", certificateKey: "live/cert.pem", chainKey: "live/chain.pem", privateKeyKey: "live/privkey.pem" },
};

let set: CertificateSet;
let renewed: CertificateSet;
let ecSet: CertificateSet;

beforeAll(async () => {
  set = await certificateSet([HOST]);
  renewed = await certificateSet([HOST], { notAfter: new Date(Date.now() + 180 * 24 * 3600 * 1000) });
  ecSet = await certificateSet([HOST], { keyType: "ec256" });
});

// Instance mocks: each test's calls are recorded on these clients only.
const acmClient = new ACMClient({ region: "us-east-2" });
const smClient = new SecretsManagerClient({ region: "us-east-2" });
const s3Client = new S3Client({ region: "us-east-2" });
const acm = mockClient(acmClient);
const sm = mockClient(smClient);
const s3 = mockClient(s3Client);
/** The run's clock: days to expiry are counted from it. */
const NOW = new Date();
const deps = () => ({ acm: acmClient, secretsManager: smClient, s3: s3Client, now: () => NOW });
/** Whole days from NOW until the set's leaf expires, as import-certificate counts them. */
const daysLeft = (s: CertificateSet) => Math.floor((s.leaf.cert.notAfter.getTime() - NOW.getTime()) / 86_400_000);

beforeEach(() => {
  acm.reset();
  sm.reset();
  s3.reset();
});

const secretOf = (s: CertificateSet, overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ certificate: s.leaf.certPem, chain: s.chainPem, privateKey: s.leaf.keyPem, ...overrides });

const keyLines = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"));

/** The thrown error, after checking no private-key line leaked into it. */
async function failure(p: Promise<unknown>, ...keys: string[]): Promise<Error> {
  const e = await p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err as Error,
  );
  for (const key of keys) for (const line of keyLines(key)) expect(e.message).not.toContain(line);
  return e;
}

const body = (text: string | Uint8Array) =>
  ({
    transformToByteArray: async () => (typeof text === "string" ? new TextEncoder().encode(text) : text),
  }) as unknown as GetObjectCommandOutput["Body"];

function describeImported(s: CertificateSet, keyAlgorithm = "RSA_2048") {
  return {
    Certificate: {
      CertificateArn: ARN,
      Type: "IMPORTED" as const,
      Status: "ISSUED" as const,
      KeyAlgorithm: keyAlgorithm as "RSA_2048",
      DomainName: HOST,
      SubjectAlternativeNames: [HOST],
      NotAfter: new Date(new Date(s.leaf.cert.notAfter).getTime()),
    },
  };
}

const decode = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

describe("importCertificate with a source", () => {
  it("imports a new certificate from a secret, tagged managed-by=milvus-l7", async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: secretOf(set) });
    acm.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [] });
    acm.on(ImportCertificateCommand).resolves({ CertificateArn: NEW_ARN });

    const out = await importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps());

    expect(out).toEqual({
      arn: NEW_ARN,
      fingerprint256: fp(set),
      notAfter: set.leaf.cert.notAfter.toISOString(),
      imported: true,
      readFrom: `secret ${SECRET}`,
      daysToExpiry: daysLeft(set),
      trustAnchors: [rootOf(set)],
    });
    const [call] = acm.commandCalls(ImportCertificateCommand);
    const input = call?.args[0].input;
    expect(input?.CertificateArn).toBeUndefined();
    expect(input?.Tags).toEqual([MANAGED_BY_TAG]);
    expect(decode(input?.Certificate)).toBe(set.leaf.certPem);
    expect(decode(input?.CertificateChain)).toBe(set.chainPem);
    expect(decode(input?.PrivateKey)).toBe(set.leaf.keyPem);
    // ListCertificates only returns RSA_1024/2048 by default: the lookup must ask for the bundle's key type.
    expect(acm.commandCalls(ListCertificatesCommand)[0]?.args[0].input.Includes).toEqual({ keyTypes: ["RSA_2048"] });
    for (const line of keyLines(set.leaf.keyPem)) expect(JSON.stringify(out)).not.toContain(line);
  });

  it("imports from three S3 objects", async () => {
    s3.on(GetObjectCommand, { Bucket: "certs", Key: "live/cert.pem" }).resolves({ Body: body(set.leaf.certPem) });
    s3.on(GetObjectCommand, { Bucket: "certs", Key: "live/chain.pem" }).resolves({ Body: body(set.chainPem) });
    s3.on(GetObjectCommand, { Bucket: "certs", Key: "live/privkey.pem" }).resolves({ Body: body(set.leaf.keyPem) });
    acm.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [] });
    acm.on(ImportCertificateCommand).resolves({ CertificateArn: NEW_ARN });

    const out = await importCertificate({ certificate: { source: fromS3 }, hosts: [HOST] }, deps());
    expect(out.imported).toBe(true);
    expect(decode(acm.commandCalls(ImportCertificateCommand)[0]?.args[0].input.PrivateKey)).toBe(set.leaf.keyPem);
  });

  it("re-imports a renewed certificate into the same ARN, without tags", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem, CertificateChain: set.chainPem });
    acm.on(ImportCertificateCommand).resolves({ CertificateArn: ARN });
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(renewed) });

    const out = await importCertificate({ certificate: { arn: ARN, source: fromSecret }, hosts: [HOST] }, deps());

    expect(out).toEqual({
      arn: ARN,
      fingerprint256: fp(renewed),
      notAfter: renewed.leaf.cert.notAfter.toISOString(),
      imported: true,
      readFrom: `secret ${SECRET}`,
      daysToExpiry: daysLeft(renewed),
      trustAnchors: [rootOf(renewed)],
    });
    const input = acm.commandCalls(ImportCertificateCommand)[0]?.args[0].input;
    expect(input?.CertificateArn).toBe(ARN);
    expect(input?.Tags).toBeUndefined();
    expect(decode(input?.Certificate)).toBe(renewed.leaf.certPem);
  });

  it("for a renewal, never replaces ACM's certificate with one that expires no later", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(renewed));
    acm.on(GetCertificateCommand).resolves({ Certificate: renewed.leaf.certPem, CertificateChain: renewed.chainPem });
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(set) }); // the source still holds the older one

    const out = await importCertificate({ certificate: { arn: ARN, source: fromSecret, onlyIfNewer: true }, hosts: [HOST] }, deps());

    // What ACM holds, anchors included (the run ends without verifying, but the result stays true to the ARN), and
    // that it is not the source's (the drift check tells a renewal from an outside re-import by it).
    expect(out).toEqual({
      arn: ARN,
      fingerprint256: fp(renewed),
      notAfter: renewed.leaf.cert.notAfter.toISOString(),
      imported: false,
      readFrom: `secret ${SECRET}`,
      sourceNotNewer: true,
      daysToExpiry: daysLeft(renewed),
      trustAnchors: [rootOf(renewed)],
    });
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
  });

  it("for a renewal, re-imports a certificate that expires later", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem, CertificateChain: set.chainPem });
    acm.on(ImportCertificateCommand).resolves({ CertificateArn: ARN });
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(renewed) });

    const out = await importCertificate({ certificate: { arn: ARN, source: fromSecret, onlyIfNewer: true }, hosts: [HOST] }, deps());

    expect(out).toMatchObject({ arn: ARN, fingerprint256: fp(renewed), imported: true });
    expect(out.sourceNotNewer).toBeUndefined();
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(1);
  });

  it("skips the import when ACM already holds the identical certificate and chain", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    // ACM (moto, at least) returns the chain with an extra root appended.
    const extraRoot = ecSet.root.certPem;
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem, CertificateChain: `${set.chainPem}\n${extraRoot}` });
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(set) });

    const out = await importCertificate({ certificate: { arn: ARN, source: fromSecret }, hosts: [HOST] }, deps());

    // The root ACM appended issued nothing of the chain: not an anchor.
    expect(out).toEqual({
      arn: ARN,
      fingerprint256: fp(set),
      notAfter: set.leaf.cert.notAfter.toISOString(),
      imported: false,
      readFrom: `secret ${SECRET}`,
      daysToExpiry: daysLeft(set),
      trustAnchors: [rootOf(set)],
    });
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
  });

  it("re-imports when only the chain changed", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem, CertificateChain: set.chainPem });
    acm.on(ImportCertificateCommand).resolves({ CertificateArn: ARN });
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(set, { chain: set.intermediate.certPem }) });

    const out = await importCertificate({ certificate: { arn: ARN, source: fromSecret }, hosts: [HOST] }, deps());
    expect(out.imported).toBe(true);
    expect(decode(acm.commandCalls(ImportCertificateCommand)[0]?.args[0].input.CertificateChain)).toBe(set.intermediate.certPem);
  });

  it("without an ARN, finds its own earlier import instead of importing a duplicate (re-run or retried step)", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(set) });
    acm.on(ListCertificatesCommand).resolves({
      CertificateSummaryList: [
        { CertificateArn: ARN, Type: "IMPORTED", NotAfter: set.leaf.cert.notAfter },
        { CertificateArn: "arn:other", Type: "IMPORTED", NotAfter: new Date(0) },
      ],
    });
    acm.on(GetCertificateCommand, { CertificateArn: ARN }).resolves({ Certificate: set.leaf.certPem, CertificateChain: set.chainPem });
    acm.on(ListTagsForCertificateCommand, { CertificateArn: ARN }).resolves({ Tags: [MANAGED_BY_TAG] });

    const out = await importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps());

    expect(out).toMatchObject({ arn: ARN, imported: false, trustAnchors: [rootOf(set)] });
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
    // The candidate with another expiry is not even fetched.
    expect(acm.commandCalls(GetCertificateCommand)).toHaveLength(1);
  });

  it("without an ARN, ignores an identical certificate that milvus-l7 does not manage", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(set) });
    acm.on(ListCertificatesCommand).resolves({
      CertificateSummaryList: [{ CertificateArn: ARN, Type: "IMPORTED", NotAfter: set.leaf.cert.notAfter }],
    });
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem, CertificateChain: set.chainPem });
    acm.on(ListTagsForCertificateCommand).resolves({ Tags: [{ Key: "team", Value: "other" }] });
    acm.on(ImportCertificateCommand).resolves({ CertificateArn: NEW_ARN });

    expect(await importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps())).toMatchObject({
      arn: NEW_ARN,
      imported: true,
    });
  });
});

describe("importCertificate with an ARN only", () => {
  it("uses an issued certificate as is", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem, CertificateChain: set.chainPem });

    const out = await importCertificate({ certificate: { arn: ARN }, hosts: [HOST] }, deps());

    // The anchors from the chain ACM holds for the ARN.
    expect(out).toEqual({
      arn: ARN,
      fingerprint256: fp(set),
      notAfter: set.leaf.cert.notAfter.toISOString(),
      imported: false,
      daysToExpiry: daysLeft(set),
      trustAnchors: [rootOf(set)],
    });
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);
  });

  it("rejects a certificate that does not cover the hosts, naming what it covers", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem });
    const e = await failure(importCertificate({ certificate: { arn: ARN }, hosts: [HOST, "api.example.com"] }, deps()));
    expect(e).toBeInstanceOf(AcmRejected);
    expect(e.message).toBe(
      `Certificate ${ARN} does not cover api.example.com (it covers ${HOST}): use a certificate whose names include every Ingress host, or change the host.`,
    );
  });

  it("rejects an expired certificate", async () => {
    const d = describeImported(set);
    d.Certificate.NotAfter = new Date(NOW.getTime() - 1000);
    acm.on(DescribeCertificateCommand).resolves(d);
    const e = await failure(importCertificate({ certificate: { arn: ARN }, hosts: [HOST] }, deps()));
    expect(e.name).toBe("AcmRejected");
    expect(e.message).toMatch(/expired at .*give certificate\.source so that milvus-l7 re-imports/);
  });

  it("rejects a certificate still pending validation", async () => {
    acm.on(DescribeCertificateCommand).resolves({ Certificate: { ...describeImported(set).Certificate, Status: "PENDING_VALIDATION" } });
    const e = await failure(importCertificate({ certificate: { arn: ARN }, hosts: [HOST] }, deps()));
    expect(e.name).toBe("AcmRejected");
    expect(e.message).toMatch(/is PENDING_VALIDATION, not ISSUED: complete its domain validation/);
  });

  it("rejects a plan with neither ARN nor source", async () => {
    const e = await failure(importCertificate({ certificate: {}, hosts: [HOST] }, deps()));
    expect(e).toBeInstanceOf(InvalidRequest);
  });
});

describe("importCertificate failures", () => {
  it("ACM throttling → AwsUnavailable (retryable)", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(set) });
    acm.on(ListCertificatesCommand).resolves({});
    acm.on(ImportCertificateCommand).rejects(new ThrottlingException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } }));
    const e = await failure(importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps()), set.leaf.keyPem);
    expect(e).toBeInstanceOf(AwsUnavailable);
    expect(e.name).toBe("AwsUnavailable");
    expect(e.message).toMatch(/^AWS throttled acm:ImportCertificate on a new certificate \(ThrottlingException \(HTTP 400\): Rate exceeded\)/);
  });

  it("ACM ValidationException → AcmRejected, with anything key-like cut from AWS's message", async () => {
    const echoed = Buffer.from(set.leaf.keyPem).toString("base64");
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    acm.on(GetCertificateCommand).resolves({ Certificate: set.leaf.certPem, CertificateChain: set.chainPem });
    acm.on(ImportCertificateCommand).rejects(
      new ValidationException({ message: `Value '${echoed}' at 'privateKey' failed to satisfy constraint`, $metadata: { httpStatusCode: 400 } }),
    );
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(renewed) });
    const e = await failure(importCertificate({ certificate: { arn: ARN, source: fromSecret }, hosts: [HOST] }, deps()), renewed.leaf.keyPem);
    expect(e).toBeInstanceOf(AcmRejected);
    expect(e.message).toBe(
      `AWS rejected acm:ImportCertificate on ${ARN} as invalid (ValidationException (HTTP 400): Value '[redacted]' at 'privateKey' failed to satisfy constraint). Fix what AWS's message names and run again.`,
    );
    expect(e.message).not.toContain(echoed.slice(0, 20));
  });

  it("ACM LimitExceededException is a quota, not throttling → AcmRejected", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(set) });
    acm.on(ListCertificatesCommand).resolves({});
    acm.on(ImportCertificateCommand).rejects(new LimitExceededException({ message: "quota", $metadata: {} }));
    const e = await failure(importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps()));
    expect(e).toBeInstanceOf(AcmRejected);
    expect(e.message).toMatch(/hit an AWS quota .*retrying will not help/);
  });

  it("a missing secret → CertificateSourceError naming it, and ACM is never asked to import", async () => {
    sm.on(GetSecretValueCommand).rejects(
      new SecretNotFound({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } }),
    );
    const e = await failure(importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps()));
    expect(e).toBeInstanceOf(CertificateSourceError);
    expect(e.message).toMatch(/^Not found: secretsmanager:GetSecretValue on secret milvus-l7\/tls \(ResourceNotFoundException/);
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
  });

  it("a secret that is not JSON → CertificateSourceError without quoting it", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: set.leaf.keyPem });
    const e = await failure(importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps()), set.leaf.keyPem);
    expect(e).toBeInstanceOf(CertificateSourceError);
    expect(e.message).toMatch(/^Secret milvus-l7\/tls's SecretString is not valid JSON: store \{"certificate"/);
  });

  it("a secret missing a field → CertificateSourceError naming the field and the fields found", async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ certificate: set.leaf.certPem, chain: set.chainPem, private_key: set.leaf.keyPem }),
    });
    const e = await failure(importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps()), set.leaf.keyPem);
    expect(e.message).toMatch(/^Secret milvus-l7\/tls lacks "privateKey" \(fields found: certificate, chain, private_key\)/);
  });

  it("a missing S3 object → CertificateSourceError naming the object", async () => {
    s3.on(GetObjectCommand).resolves({ Body: body(set.leaf.certPem) });
    s3.on(GetObjectCommand, { Key: "live/privkey.pem" }).rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: { httpStatusCode: 404 } }));
    const e = await failure(importCertificate({ certificate: { source: fromS3 }, hosts: [HOST] }, deps()));
    expect(e).toBeInstanceOf(CertificateSourceError);
    expect(e.message).toMatch(/^Not found: s3:GetObject on s3:\/\/certs\/live\/privkey\.pem \(the privateKey\) \(NoSuchKey \(HTTP 404\)/);
  });

  it("S3 access denied → says which permission on which object", async () => {
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({ name: "AccessDenied", $fault: "client", message: "Access Denied", $metadata: { httpStatusCode: 403 } }),
    );
    const e = await failure(importCertificate({ certificate: { source: fromS3 }, hosts: [HOST] }, deps()));
    expect(e).toBeInstanceOf(CertificateSourceError);
    expect(e.message).toMatch(/^Access denied: s3:GetObject on s3:\/\/certs\/live\/.*\.pem .*s3:ListBucket/);
  });

  it("a DER object in S3 → CertificateRejected naming the source", async () => {
    s3.on(GetObjectCommand).resolves({ Body: body(set.leaf.certPem) });
    s3.on(GetObjectCommand, { Key: "live/cert.pem" }).resolves({ Body: body(new Uint8Array(set.leaf.cert.rawData)) });
    s3.on(GetObjectCommand, { Key: "live/privkey.pem" }).resolves({ Body: body(set.leaf.keyPem) });
    const e = await failure(importCertificate({ certificate: { source: fromS3 }, hosts: [HOST] }, deps()), set.leaf.keyPem);
    expect(e).toBeInstanceOf(CertificateRejected);
    expect(e.message).toMatch(/^s3:\/\/certs\/\{live\/cert\.pem,live\/chain\.pem,live\/privkey\.pem\}: certificate is binary \(DER\?\)/);
  });

  it("a network reset reading the secret → AwsUnavailable", async () => {
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    const e = await failure(importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps()));
    expect(e).toBeInstanceOf(AwsUnavailable);
    expect(e.message).toMatch(/secretsmanager:GetSecretValue on secret milvus-l7\/tls \(Error ECONNRESET: socket hang up\)/);
  });

  it("failed checks → CertificateRejected, and no ImportCertificate call (mismatched key)", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set));
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(renewed, { privateKey: set.leaf.keyPem }) });
    const e = await failure(importCertificate({ certificate: { arn: ARN, source: fromSecret }, hosts: [HOST] }, deps()), set.leaf.keyPem);
    expect(e).toBeInstanceOf(CertificateRejected);
    expect(e.message).toMatch(/^secret milvus-l7\/tls: privateKey does not belong to the certificate/);
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
    expect(acm.commandCalls(GetCertificateCommand)).toHaveLength(0);
  });

  it("a key type change on re-import → CertificateRejected before any import", async () => {
    acm.on(DescribeCertificateCommand).resolves(describeImported(set, "RSA_2048"));
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(ecSet) });
    const e = await failure(importCertificate({ certificate: { arn: ARN, source: fromSecret }, hosts: [HOST] }, deps()), ecSet.leaf.keyPem);
    expect(e).toBeInstanceOf(CertificateRejected);
    expect(e.message).toMatch(/has a RSA_2048 key and the new one has EC_prime256v1/);
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
  });

  it("re-import into an ACM-issued certificate → AcmRejected before reading the source", async () => {
    acm.on(DescribeCertificateCommand).resolves({ Certificate: { ...describeImported(set).Certificate, Type: "AMAZON_ISSUED" } });
    const e = await failure(importCertificate({ certificate: { arn: ARN, source: fromSecret }, hosts: [HOST] }, deps()));
    expect(e).toBeInstanceOf(AcmRejected);
    expect(e.message).toMatch(/is AMAZON_ISSUED, not IMPORTED: ACM cannot re-import into it/);
    expect(sm.calls()).toHaveLength(0);
  });
});

describe("translateAwsError", () => {
  const terminal = (m: string) => new CertificateSourceError(m);
  const sdkError = (name: string, status: number, extra: object = {}) =>
    Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra });

  it.each([
    ["ThrottlingException", 400],
    ["TooManyRequestsException", 429],
    ["RequestLimitExceeded", 503],
    ["SlowDown", 503],
    ["InternalFailure", 500],
    ["ServiceUnavailable", 503],
    ["TimeoutError", 0],
  ])("%s → AwsUnavailable", (name, status) => {
    expect(translateAwsError(sdkError(name, status), "x:Op on y", terminal)).toBeInstanceOf(AwsUnavailable);
  });

  it("5xx by status or $fault, and network codes, are retryable", () => {
    expect(translateAwsError(sdkError("Weird", 502), "x", terminal)).toBeInstanceOf(AwsUnavailable);
    expect(translateAwsError(Object.assign(new Error("e"), { $fault: "server" }), "x", terminal)).toBeInstanceOf(AwsUnavailable);
    expect(translateAwsError(Object.assign(new Error("e"), { code: "ETIMEDOUT" }), "x", terminal)).toBeInstanceOf(AwsUnavailable);
    const wrapped = new Error("outer", { cause: Object.assign(new Error("inner"), { code: "ECONNRESET" }) });
    expect(translateAwsError(wrapped, "x", terminal)).toBeInstanceOf(AwsUnavailable);
  });

  it("AccessDeniedException → terminal, naming the permission and resource", () => {
    const e = translateAwsError(sdkError("AccessDeniedException", 400), "acm:ImportCertificate on arn:x", (m) => new AcmRejected(m));
    expect(e).toBeInstanceOf(AcmRejected);
    expect(e.message).toMatch(/^Access denied: acm:ImportCertificate on arn:x .*Allow this action on this resource in the function's IAM role/);
  });

  it("DecryptionFailure → terminal, pointing at kms:Decrypt", () => {
    expect(translateAwsError(sdkError("DecryptionFailure", 400), "secretsmanager:GetSecretValue on secret s", terminal).message).toMatch(
      /Allow kms:Decrypt/,
    );
  });

  it("passes our own errors through and handles non-errors", () => {
    const ours = new AcmRejected("already ours");
    expect(translateAwsError(ours, "x", terminal)).toBe(ours);
    expect(translateAwsError("boom", "x:Op", terminal).message).toBe("x:Op failed (Error: boom). This is not a transient error; fix the cause and run again.");
  });

  it("cuts PEM blocks out of AWS's message", () => {
    const e = translateAwsError(sdkError("ValidationException", 400, { message: `bad ${set.leaf.keyPem}` }), "x", terminal);
    for (const line of keyLines(set.leaf.keyPem)) expect(e.message).not.toContain(line);
    expect(e.message).toContain("bad [PEM redacted]");
  });
});

function fp(s: CertificateSet): string {
  return new X509Certificate(s.leaf.certPem).fingerprint256;
}

/** The set's self-signed root, as PEM the way Node writes it: the one trust anchor of its chain. */
function rootOf(s: CertificateSet): string {
  return new X509Certificate(s.root.certPem).toString();
}

describe("the expiry safety net", () => {
  const found = { arn: ARN, fingerprint256: "AA", notAfter: "2027-01-11T12:00:00.000Z", imported: false, trustAnchors: [] };
  const at = new Date("2027-01-01T00:00:00.000Z");
  const renewal = { arn: ARN, source: fromSecret, onlyIfNewer: true, expiryWarningDays: 14 };

  it("counts whole days left, rounded down, and negative once expired", () => {
    expect(daysUntil("2027-01-11T12:00:00.000Z", at)).toBe(10);
    expect(daysUntil("2027-01-01T23:59:59.000Z", at)).toBe(0);
    expect(daysUntil("2026-12-31T00:00:00.000Z", at)).toBe(-1);
  });

  it("flags a renewal that imported nothing while the certificate expires within the threshold", () => {
    expect(withExpiry(found, renewal, at)).toEqual({ ...found, daysToExpiry: 10, expiringSoon: true });
    // On the threshold itself too: 14 days left with a 14-day threshold alerts.
    expect(withExpiry({ ...found, notAfter: "2027-01-15T00:00:00.000Z" }, renewal, at).expiringSoon).toBe(true);
  });

  it("does not flag a certificate with time left, an import, or a deployment", () => {
    expect(withExpiry({ ...found, notAfter: "2027-01-16T00:00:00.000Z" }, renewal, at)).toEqual({
      ...found,
      notAfter: "2027-01-16T00:00:00.000Z",
      daysToExpiry: 15,
    });
    expect(withExpiry({ ...found, imported: true }, renewal, at).expiringSoon).toBeUndefined();
    expect(withExpiry(found, { arn: ARN, source: fromSecret }, at).expiringSoon).toBeUndefined();
  });

  it("a renewal whose source holds only the certificate in use, 10 days from expiry, ends flagged, importing nothing", async () => {
    const soon = await certificateSet([HOST], { notAfter: new Date(NOW.getTime() + 10 * 86_400_000 + 60_000) });
    acm.on(DescribeCertificateCommand).resolves(describeImported(soon));
    acm.on(GetCertificateCommand).resolves({ Certificate: soon.leaf.certPem, CertificateChain: soon.chainPem });
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretOf(soon) });
    const metrics: [string, number][] = [];
    const out = await importCertificate(
      { certificate: renewal, hosts: [HOST] },
      { ...deps(), metrics: { add: (name, value) => metrics.push([name, value]) } },
    );
    expect(out).toMatchObject({ imported: false, daysToExpiry: 10, expiringSoon: true, readFrom: `secret ${SECRET}` });
    expect(acm.commandCalls(ImportCertificateCommand)).toHaveLength(0);
    expect(metrics).toEqual([["CertificateDaysToExpiry", 10]]);
  });
});

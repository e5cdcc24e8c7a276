// import-certificate against a real moto_server (ACM, Secrets Manager, S3): the SDK calls, their
// serialisation (blobs, Includes.keyTypes, tags) and moto's answers, end to end.
import { X509Certificate } from "node:crypto";
import {
  ACMClient,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
} from "@aws-sdk/client-acm";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ImportCertificateDeps, importCertificate, MANAGED_BY_TAG } from "../../functions/import-certificate/core";
import { CertificateRejected } from "../../functions/lib/errors";
import type { PlannedCertificate } from "../../functions/lib/state";
import { type Moto, startMoto } from "../../sandbox/moto";
import { type CertificateSet, certificateSet } from "../../sandbox/pki";

const HOST = "milvus.example.com";
const SECRET = "milvus-l7/tls";
const BUCKET = "milvus-l7-certs";

let moto: Moto;
let deps: ImportCertificateDeps;
let acm: ACMClient;
let first: CertificateSet;
let renewed: CertificateSet;
let other: CertificateSet;

const secretJson = (s: CertificateSet) =>
  JSON.stringify({ certificate: s.leaf.certPem, chain: s.chainPem, privateKey: s.leaf.keyPem });
const fp = (s: CertificateSet) => new X509Certificate(s.leaf.certPem).fingerprint256;
/** The set's self-signed root as Node writes PEM: the one trust anchor of its chain. */
const rootOf = (s: CertificateSet) => new X509Certificate(s.root.certPem).toString();
/** Whole days the certificate has left, as import-certificate counts them (a run takes far less than a day). */
const daysLeft = (s: CertificateSet) => Math.floor((s.leaf.cert.notAfter.getTime() - Date.now()) / 86_400_000);
const fromSecret: PlannedCertificate["source"] = { secretsManager: { secretId: SECRET } };
const fromS3: PlannedCertificate["source"] = {
  s3: { bucket: BUCKET, certificateKey: "live/cert.pem", chainKey: "live/chain.pem", privateKeyKey: "live/privkey.pem" },
};

beforeAll(async () => {
  [moto, first, renewed, other] = await Promise.all([
    startMoto("us-east-2"),
    certificateSet([HOST]),
    certificateSet([HOST]),
    certificateSet([HOST, "milvus-2.example.com"], { keyType: "ec256" }),
  ]);
  const config = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
  acm = new ACMClient(config);
  deps = {
    acm,
    secretsManager: new SecretsManagerClient(config),
    // moto serves every bucket under its one endpoint.
    s3: new S3Client({ ...config, forcePathStyle: true }),
  };
  await deps.secretsManager.send(new CreateSecretCommand({ Name: SECRET, SecretString: secretJson(first) }));
  await deps.s3.send(
    new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: "us-east-2" } }),
  );
  for (const [Key, Body] of [
    ["live/cert.pem", other.leaf.certPem],
    ["live/chain.pem", other.chainPem],
    ["live/privkey.pem", other.leaf.keyPem],
  ] as const) {
    await deps.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
  }
});

afterAll(async () => {
  await moto?.stop();
});

const countCertificates = async () =>
  (
    await acm.send(
      new ListCertificatesCommand({ Includes: { keyTypes: ["RSA_2048", "EC_prime256v1"] } }),
    )
  ).CertificateSummaryList?.length ?? 0;

describe("import-certificate on moto", () => {
  let arn: string;

  it("imports a new certificate from a Secrets Manager secret", async () => {
    const out = await importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps);
    expect(out).toMatchObject({
      fingerprint256: fp(first),
      notAfter: first.leaf.cert.notAfter.toISOString(),
      imported: true,
      trustAnchors: [rootOf(first)],
    });
    arn = out.arn;
    expect(arn).toMatch(/^arn:aws:acm:us-east-2:\d{12}:certificate\//);

    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    expect(Certificate).toMatchObject({ Status: "ISSUED", Type: "IMPORTED", KeyAlgorithm: "RSA_2048", DomainName: HOST });
    const held = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
    expect(held.Certificate?.trim()).toBe(first.leaf.certPem.trim());
    expect(held.CertificateChain).toContain(first.intermediate.certPem.trim());
    const { Tags } = await acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
    expect(Tags).toContainEqual(MANAGED_BY_TAG);
  });

  it("re-run skips: with the ARN, and without it (finds its own import)", async () => {
    const before = await countCertificates();
    expect(await importCertificate({ certificate: { arn, source: fromSecret }, hosts: [HOST] }, deps)).toEqual({
      arn,
      fingerprint256: fp(first),
      notAfter: first.leaf.cert.notAfter.toISOString(),
      imported: false,
      trustAnchors: [rootOf(first)],
      readFrom: `secret ${SECRET}`,
      daysToExpiry: daysLeft(first),
    });
    expect(await importCertificate({ certificate: { source: fromSecret }, hosts: [HOST] }, deps)).toMatchObject({
      arn,
      imported: false,
      trustAnchors: [rootOf(first)],
    });
    expect(await countCertificates()).toBe(before);
  });

  it("imports from S3 objects (an EC P-256 certificate)", async () => {
    const out = await importCertificate(
      { certificate: { source: fromS3 }, hosts: [HOST, "milvus-2.example.com"] },
      deps,
    );
    expect(out).toMatchObject({ fingerprint256: fp(other), imported: true });
    expect(out.arn).not.toBe(arn);
    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: out.arn }));
    expect(Certificate?.KeyAlgorithm).toBe("EC_prime256v1");
    // ...and a re-run finds it although ListCertificates would hide EC keys without keyTypes.
    expect(await importCertificate({ certificate: { source: fromS3 }, hosts: [HOST] }, deps)).toMatchObject({
      arn: out.arn,
      imported: false,
    });
  });

  it("re-imports a renewed certificate into the same ARN; GetCertificate then returns the new one", async () => {
    await deps.secretsManager.send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: secretJson(renewed) }));
    const out = await importCertificate({ certificate: { arn, source: fromSecret }, hosts: [HOST] }, deps);
    expect(out).toEqual({
      arn,
      fingerprint256: fp(renewed),
      notAfter: renewed.leaf.cert.notAfter.toISOString(),
      imported: true,
      trustAnchors: [rootOf(renewed)],
      readFrom: `secret ${SECRET}`,
      daysToExpiry: daysLeft(renewed),
    });

    const held = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
    expect(new X509Certificate(held.Certificate ?? "").fingerprint256).toBe(fp(renewed));
    expect(held.CertificateChain).toContain(renewed.intermediate.certPem.trim());
    // The next run sees it is already there.
    expect((await importCertificate({ certificate: { arn, source: fromSecret }, hosts: [HOST] }, deps)).imported).toBe(false);
  });

  it("uses an ARN as is without a source, the anchors read from the chain ACM holds", async () => {
    // moto appends an Amazon intermediate to every chain: not self-signed, so not an anchor.
    expect(await importCertificate({ certificate: { arn }, hosts: [HOST] }, deps)).toEqual({
      arn,
      fingerprint256: fp(renewed),
      notAfter: renewed.leaf.cert.notAfter.toISOString(),
      imported: false,
      trustAnchors: [rootOf(renewed)],
      daysToExpiry: daysLeft(renewed),
    });
  });

  it("stops a bundle moto would accept (key from another certificate) before it reaches ACM", async () => {
    await deps.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: SECRET,
        SecretString: JSON.stringify({ certificate: renewed.leaf.certPem, chain: renewed.chainPem, privateKey: first.leaf.keyPem }),
      }),
    );
    const before = await countCertificates();
    const held = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
    const e = await importCertificate({ certificate: { arn, source: fromSecret }, hosts: [HOST] }, deps).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(CertificateRejected);
    expect((e as Error).message).toMatch(/^secret milvus-l7\/tls: privateKey does not belong to the certificate/);
    expect(await countCertificates()).toBe(before);
    expect((await acm.send(new GetCertificateCommand({ CertificateArn: arn }))).Certificate).toBe(held.Certificate);
  });
});

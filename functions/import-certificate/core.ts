// import-certificate: read the PEMs from the plan's source, check them, and import or re-import them into ACM —
// or, without a source, check that the given ACM certificate can serve the hosts.
//
// Certificate sources (references travel through the workflow, never PEM material — docs/architecture.md, "The state"):
// - Secrets Manager: a secret whose SecretString is JSON with three string fields
//     { "certificate": "-----BEGIN CERTIFICATE-----…", "chain": "-----BEGIN CERTIFICATE-----…", "privateKey": "-----BEGIN PRIVATE KEY-----…" }
//   `certificate` is the leaf only; `chain` its issuers in order (root last, optional; "" only for a self-signed
//   leaf); `privateKey` unencrypted PEM.
// - S3: three objects in one bucket holding the same three PEMs (certbot's cert.pem, chain.pem, privkey.pem).
// - Kubernetes: a kubernetes.io/tls Secret in the target's cluster, as cert-manager writes it (./kubernetes-secret).
//
// Idempotent: a re-run (or a Step Functions retry after a lost response) finds the identical certificate
// already in ACM and does not import it again, so it neither spends ACM's import quota nor creates duplicates.
import {
  type ACMClient,
  type CertificateDetail,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ImportCertificateCommand,
  ListTagsForCertificateCommand,
  paginateListCertificates,
} from "@aws-sdk/client-acm";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { translateAwsError } from "../lib/aws-errors";
import {
  type CheckedBundle,
  checkBundle,
  fingerprintOf,
  type PemBundle,
  pemForAcm,
  sameCertificateAndChain,
  selfSignedRoots,
  uncoveredHosts,
} from "../lib/certificates";
import { AcmRejected, CertificateRejected, CertificateSourceError, InvalidRequest } from "../lib/errors";
import type { StepMetrics } from "../lib/metrics";
import type { ClusterConnector } from "../lib/kube";
import type { CertificateSource, ImportedCertificate, PlannedCertificate } from "../lib/state";
import { describeKubernetesSecret, readKubernetesSecret } from "./kubernetes-secret";
import { X509Certificate } from "node:crypto";

export interface ImportCertificateInput {
  certificate: PlannedCertificate;
  /** Every host the certificate must serve (all targets' Ingress hosts). */
  hosts: string[];
}

export interface ImportCertificateDeps {
  acm: ACMClient;
  secretsManager: SecretsManagerClient;
  s3: S3Client;
  /** Reaches the cluster of a kubernetesSecret source; called only for such a source. */
  connect?: ClusterConnector;
  now?: () => Date;
  /** Where CertificateDaysToExpiry goes (functions/lib/metrics.ts); absent, nothing is emitted. */
  metrics?: StepMetrics;
}

/** Set on certificates this function imports new; ACM drops tags on re-import, so only new imports get it. */
export const MANAGED_BY_TAG = { Key: "managed-by", Value: "milvus-l7" } as const;

/** A PEM file is a few KB; anything much larger is the wrong object, and is not read into memory. */
const MAX_SOURCE_OBJECT_BYTES = 64 * 1024;

const acmError = (e: unknown, context: string): Error => translateAwsError(e, context, (m) => new AcmRejected(m));
const sourceError = (e: unknown, context: string): Error =>
  translateAwsError(e, context, (m) => new CertificateSourceError(m));

/** A certificate as this step found or wrote it, before the days left are counted. */
type Found = Omit<ImportedCertificate, "daysToExpiry" | "expiringSoon">;

const DAY_MS = 86_400_000;

/** Whole days from `now` until `notAfter`, rounded down (so "1 day" still holds a full day). */
export function daysUntil(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}

/**
 * The expiry safety net: a renewal that wrote nothing (the source holds no newer certificate) while the one in use
 * expires within the threshold is flagged, and the ASL ends it as CertificateExpiring (alerting) instead of SKIPPED.
 */
export function withExpiry(found: Found, certificate: PlannedCertificate, now: Date): ImportedCertificate {
  const daysToExpiry = daysUntil(found.notAfter, now);
  const threshold = certificate.expiryWarningDays;
  const expiring = certificate.onlyIfNewer === true && !found.imported && threshold !== undefined && daysToExpiry <= threshold;
  return { ...found, daysToExpiry, ...(expiring ? { expiringSoon: true as const } : {}) };
}

export async function importCertificate(input: ImportCertificateInput, deps: ImportCertificateDeps): Promise<ImportedCertificate> {
  const now = deps.now?.() ?? new Date();
  const found = await importOrUse(input, deps, now);
  const checked = withExpiry(found, input.certificate, now);
  deps.metrics?.add("CertificateDaysToExpiry", checked.daysToExpiry);
  return checked;
}

async function importOrUse(input: ImportCertificateInput, deps: ImportCertificateDeps, now: Date): Promise<Found> {
  const { arn, source } = input.certificate;
  if (!source) {
    if (!arn) {
      throw new InvalidRequest([
        { path: "certificate", message: "give certificate.arn (use an ACM certificate as is), certificate.source (import PEMs), or both (re-import)" },
      ]);
    }
    return useAsIs(deps.acm, arn, input.hosts, now);
  }

  // On re-import, look at the target first: a wrong ARN or an ACM-issued certificate fails before reading secrets.
  const current = arn ? await describe(deps.acm, arn) : undefined;
  if (arn && current && current.Type !== "IMPORTED") {
    throw new AcmRejected(
      `Certificate ${arn} is ${current.Type ?? "not imported"}, not IMPORTED: ACM cannot re-import into it. Remove ` +
        "certificate.source to use it as is, or remove certificate.arn to import the PEMs as a new certificate.",
    );
  }

  const where = describeSource(source);
  const bundle = await readBundle(source, deps);
  let checked: CheckedBundle;
  try {
    checked = checkBundle(bundle, {
      hosts: input.hosts,
      now,
      current: current?.KeyAlgorithm ? { keyAlgorithm: current.KeyAlgorithm } : undefined,
    });
  } catch (e) {
    // Say which source the bad PEMs came from; checkBundle's messages hold no key material.
    if (e instanceof CertificateRejected) throw new CertificateRejected(`${where}: ${e.message}`);
    throw e;
  }
  const pem = pemForAcm(bundle);
  const result = (certArn: string, imported: boolean): Found => ({
    arn: certArn,
    readFrom: where,
    fingerprint256: checked.fingerprint256,
    notAfter: checked.notAfter,
    imported,
    // The chain as sent is the chain ACM holds (imported now, or found identical). What ACM may append (moto
    // appends an Amazon CA) issued none of it, so it lies on no path from the leaf and anchors nothing.
    trustAnchors: selfSignedRoots(pem.chain),
  });

  if (arn) {
    if (await holds(deps.acm, arn, pem)) return result(arn, false);
    // A renewal trigger (an S3 write, ACM's expiry warning) must never replace a certificate with an older one.
    if (input.certificate.onlyIfNewer && current?.NotAfter && Date.parse(checked.notAfter) <= current.NotAfter.getTime()) {
      const held = await getPem(deps.acm, arn);
      return {
        arn,
        fingerprint256: fingerprintOf(held.certificate),
        notAfter: current.NotAfter.toISOString(),
        imported: false,
        readFrom: where,
        sourceNotNewer: true,
        trustAnchors: selfSignedRoots(held.chain),
      };
    }
    await importPem(deps.acm, pem, arn);
    return result(arn, true);
  }
  const existing = await findImported(deps.acm, checked, pem);
  if (existing) return result(existing, false);
  return result(await importPem(deps.acm, pem, undefined), true);
}

async function describe(acm: ACMClient, arn: string): Promise<CertificateDetail> {
  try {
    const out = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    if (!out.Certificate) throw new AcmRejected(`acm:DescribeCertificate on ${arn} returned no certificate: check the ARN.`);
    return out.Certificate;
  } catch (e) {
    throw acmError(e, `acm:DescribeCertificate on ${arn}`);
  }
}

async function getPem(acm: ACMClient, arn: string): Promise<{ certificate: string; chain?: string }> {
  try {
    const out = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
    if (!out.Certificate) throw new AcmRejected(`acm:GetCertificate on ${arn} returned no certificate body: check that it is issued.`);
    return { certificate: out.Certificate, chain: out.CertificateChain };
  } catch (e) {
    throw acmError(e, `acm:GetCertificate on ${arn}`);
  }
}

/** No source: the ARN is used as is, after checking it can serve the hosts now. */
async function useAsIs(acm: ACMClient, arn: string, hosts: string[], now: Date): Promise<Found> {
  const detail = await describe(acm, arn);
  if (detail.Status !== "ISSUED") {
    const fix =
      detail.Status === "PENDING_VALIDATION"
        ? "complete its domain validation (create the DNS validation records) and run again"
        : "give certificate.source so that milvus-l7 imports a valid certificate, or use another ARN";
    throw new AcmRejected(`Certificate ${arn} is ${detail.Status ?? "in an unknown state"}, not ISSUED: ${fix}.`);
  }
  if (detail.NotAfter && detail.NotAfter <= now) {
    throw new AcmRejected(
      `Certificate ${arn} expired at ${detail.NotAfter.toISOString()}: renew it, or give certificate.source so that ` +
        "milvus-l7 re-imports the renewed PEMs into this ARN.",
    );
  }
  if (detail.NotBefore && detail.NotBefore > now) {
    throw new AcmRejected(`Certificate ${arn} is not valid until ${detail.NotBefore.toISOString()}: run again after that time.`);
  }
  // Host coverage is judged on the certificate itself, by the same rules as for imported PEMs; ACM's
  // DomainName/SubjectAlternativeNames are the same names, quoted in the message.
  const { certificate, chain } = await getPem(acm, arn);
  const missing = uncoveredHosts(new X509Certificate(certificate), hosts);
  if (missing.length > 0) {
    const names = [...new Set([detail.DomainName, ...(detail.SubjectAlternativeNames ?? [])].filter(Boolean))];
    throw new AcmRejected(
      `Certificate ${arn} does not cover ${missing.join(", ")} (it covers ${names.join(", ") || "no names"}): ` +
        "use a certificate whose names include every Ingress host, or change the host.",
    );
  }
  return {
    arn,
    fingerprint256: fingerprintOf(certificate),
    notAfter: (detail.NotAfter ?? new Date(new X509Certificate(certificate).validTo)).toISOString(),
    imported: false,
    trustAnchors: selfSignedRoots(chain),
  };
}

async function holds(acm: ACMClient, arn: string, pem: PemBundle): Promise<boolean> {
  return sameCertificateAndChain(await getPem(acm, arn), pem);
}

/**
 * A certificate this function imported earlier with the same leaf and chain (found by a re-run, or a retry
 * whose first ImportCertificate succeeded but whose response was lost). Only certificates tagged
 * managed-by=milvus-l7 count: someone else's copy may be deleted under us.
 */
async function findImported(acm: ACMClient, checked: CheckedBundle, pem: PemBundle): Promise<string | undefined> {
  const notAfter = Math.floor(Date.parse(checked.notAfter) / 1000);
  const candidates: string[] = [];
  try {
    // ListCertificates returns only RSA_1024/RSA_2048 unless keyTypes says otherwise.
    const pages = paginateListCertificates(
      { client: acm },
      { CertificateStatuses: ["ISSUED"], Includes: { keyTypes: [checked.keyAlgorithm] } },
    );
    for await (const page of pages) {
      for (const s of page.CertificateSummaryList ?? []) {
        const sameExpiry = s.NotAfter === undefined || Math.floor(s.NotAfter.getTime() / 1000) === notAfter;
        if (s.CertificateArn && s.Type !== "AMAZON_ISSUED" && s.Type !== "PRIVATE" && sameExpiry) {
          candidates.push(s.CertificateArn);
        }
      }
    }
  } catch (e) {
    throw acmError(e, "acm:ListCertificates");
  }
  for (const candidate of candidates) {
    if (!(await holds(acm, candidate, pem))) continue;
    let tags: { Key?: string; Value?: string }[];
    try {
      tags = (await acm.send(new ListTagsForCertificateCommand({ CertificateArn: candidate }))).Tags ?? [];
    } catch (e) {
      throw acmError(e, `acm:ListTagsForCertificate on ${candidate}`);
    }
    if (tags.some((t) => t.Key === MANAGED_BY_TAG.Key && t.Value === MANAGED_BY_TAG.Value)) return candidate;
  }
  return undefined;
}

async function importPem(acm: ACMClient, pem: PemBundle, arn: string | undefined): Promise<string> {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const context = `acm:ImportCertificate on ${arn ?? "a new certificate"}`;
  try {
    const out = await acm.send(
      new ImportCertificateCommand({
        Certificate: utf8(pem.certificate),
        PrivateKey: utf8(pem.privateKey),
        CertificateChain: pem.chain === "" ? undefined : utf8(pem.chain),
        // Re-import keeps the ARN (listeners follow) and cannot set tags; a new import is tagged as ours.
        ...(arn ? { CertificateArn: arn } : { Tags: [{ ...MANAGED_BY_TAG }] }),
      }),
    );
    const imported = out.CertificateArn ?? arn;
    if (!imported) throw new AcmRejected(`${context} returned no CertificateArn: check ACM for a new certificate and pass its ARN.`);
    return imported;
  } catch (e) {
    throw acmError(e, context);
  }
}

function describeSource(source: CertificateSource): string {
  if ("secretsManager" in source) return `secret ${source.secretsManager.secretId}`;
  if ("kubernetesSecret" in source) return describeKubernetesSecret(source.kubernetesSecret);
  const { bucket, certificateKey, chainKey, privateKeyKey } = source.s3;
  return `s3://${bucket}/{${certificateKey},${chainKey},${privateKeyKey}}`;
}

async function readBundle(source: CertificateSource, deps: ImportCertificateDeps): Promise<PemBundle> {
  if ("secretsManager" in source) return readSecret(deps.secretsManager, source.secretsManager.secretId);
  if ("kubernetesSecret" in source) {
    if (!deps.connect) {
      throw new CertificateSourceError(
        `${describeKubernetesSecret(source.kubernetesSecret)}: this import-certificate has no cluster access configured, so it cannot read a Kubernetes Secret.`,
      );
    }
    return readKubernetesSecret(deps.connect, source.kubernetesSecret);
  }
  const { bucket, certificateKey, chainKey, privateKeyKey } = source.s3;
  const [certificate, chain, privateKey] = await Promise.all([
    readObject(deps.s3, bucket, certificateKey, "certificate"),
    readObject(deps.s3, bucket, chainKey, "chain"),
    readObject(deps.s3, bucket, privateKeyKey, "privateKey"),
  ]);
  return { certificate, chain, privateKey };
}

const FIELDS = ["certificate", "chain", "privateKey"] as const;
const SECRET_SHAPE = '{"certificate": "<leaf PEM>", "chain": "<issuer PEMs>", "privateKey": "<unencrypted key PEM>"}';

async function readSecret(sm: SecretsManagerClient, secretId: string): Promise<PemBundle> {
  let text: string | undefined;
  try {
    text = (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (e) {
    throw sourceError(e, `secretsmanager:GetSecretValue on secret ${secretId}`);
  }
  if (text === undefined) {
    throw new CertificateSourceError(`Secret ${secretId} has no SecretString (binary secret): store the JSON string ${SECRET_SHAPE}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be key material: not used.
    throw new CertificateSourceError(`Secret ${secretId}'s SecretString is not valid JSON: store ${SECRET_SHAPE}.`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CertificateSourceError(`Secret ${secretId}'s SecretString is JSON but not an object: store ${SECRET_SHAPE}.`);
  }
  const record = parsed as Record<string, unknown>;
  const bad = FIELDS.filter((f) => typeof record[f] !== "string");
  if (bad.length > 0) {
    // Field names are safe to show (values are not); they reveal e.g. a `private_key` spelling.
    const found = Object.keys(record).slice(0, 10).join(", ") || "none";
    const what = bad.map((f) => (f in record ? `"${f}" (not a string)` : `"${f}"`)).join(", ");
    throw new CertificateSourceError(`Secret ${secretId} lacks ${what} (fields found: ${found}): store ${SECRET_SHAPE}.`);
  }
  return { certificate: record.certificate as string, chain: record.chain as string, privateKey: record.privateKey as string };
}

async function readObject(s3: S3Client, bucket: string, key: string, part: keyof PemBundle): Promise<string> {
  const uri = `s3://${bucket}/${key}`;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (out.ContentLength !== undefined && out.ContentLength > MAX_SOURCE_OBJECT_BYTES) {
      // Not read: release the connection instead of downloading the wrong object.
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new CertificateSourceError(
        `${uri} (the ${part}) is ${out.ContentLength} bytes; a PEM file is a few KB. Check the object key in certificate.source.s3.`,
      );
    }
    if (!out.Body) throw new CertificateSourceError(`${uri} (the ${part}) has no body: upload the PEM file again.`);
    // Bytes as UTF-8: a DER file turns into U+FFFD characters, which checkBundle reports as "binary (DER?)".
    return Buffer.from(await out.Body.transformToByteArray()).toString("utf8");
  } catch (e) {
    throw sourceError(e, `s3:GetObject on ${uri} (the ${part})`);
  }
}

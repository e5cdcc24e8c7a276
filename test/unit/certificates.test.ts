// One test per check in functions/lib/certificates.ts, on real certificates from the test PKI. Every rejection
// also asserts that no line of the private key's PEM body appears in the message.
import { createPrivateKey, generateKeyPair, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkBundle,
  fingerprintOf,
  MAX_PRIVATE_KEY_BYTES,
  type PemBundle,
  pemForAcm,
  sameCertificateAndChain,
  selfSignedRoots,
} from "../../functions/lib/certificates";
import { CertificateRejected } from "../../functions/lib/errors";
import { type CertificateSet, certificateSet, type Issued, issue, keyObject } from "../../sandbox/pki";

const HOST = "milvus.example.com";
const DAY = 24 * 60 * 60 * 1000;

// An honest over-size key: RSA 8192 in PKCS#8 is ~6.4 KB. Generation takes seconds, so it starts at load
// and runs on the thread pool while the other tests run.
const rsa8192 = new Promise<string>((resolve, reject) =>
  generateKeyPair("rsa", { modulusLength: 8192 }, (err, _pub, priv) =>
    err ? reject(err) : resolve(priv.export({ type: "pkcs8", format: "pem" }).toString()),
  ),
);

let set: CertificateSet;
let ecSet: CertificateSet;

beforeAll(async () => {
  set = await certificateSet([HOST]);
  ecSet = await certificateSet([HOST], { keyType: "ec256" });
});

const bundleOf = (s: CertificateSet): PemBundle => ({
  certificate: s.leaf.certPem,
  chain: s.chainPem,
  privateKey: s.leaf.keyPem,
});

/** Lines of a PEM's base64 body: none of them may ever appear in a message. */
const secretLines = (pem: string): string[] =>
  pem
    .split(/\r?\n/)
    .filter((l) => l !== "" && !l.startsWith("-----") && !l.includes(":"))
    .map((l) => l.slice(0, 32));

function rejection(bundle: PemBundle, opts: Partial<Parameters<typeof checkBundle>[1]> = {}): CertificateRejected {
  try {
    checkBundle(bundle, { hosts: [HOST], now: new Date(), ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(CertificateRejected);
    const err = e as CertificateRejected;
    expect(err.name).toBe("CertificateRejected");
    expect(err.retryable).toBe(false);
    for (const line of secretLines(bundle.privateKey)) expect(err.message).not.toContain(line);
    return err;
  }
  throw new Error("checkBundle accepted the bundle");
}

describe("checkBundle accepts", () => {
  it("a good RSA bundle and describes it", () => {
    const checked = checkBundle(bundleOf(set), { hosts: [HOST], now: new Date() });
    const leaf = new X509Certificate(set.leaf.certPem);
    expect(checked).toEqual({
      fingerprint256: leaf.fingerprint256,
      notAfter: new Date(leaf.validTo).toISOString(),
      keyAlgorithm: "RSA_2048",
      subject: `CN=${HOST}`,
      hosts: [HOST],
    });
    for (const line of secretLines(set.leaf.keyPem)) expect(JSON.stringify(checked)).not.toContain(line);
  });

  it("an EC P-256 bundle as EC_prime256v1", () => {
    expect(checkBundle(bundleOf(ecSet), { hosts: [HOST], now: new Date() }).keyAlgorithm).toBe("EC_prime256v1");
  });

  it("a PKCS#1 key, CRLF line ends and text around the blocks (openssl's Bag Attributes)", () => {
    const pkcs1 = keyObject(set.leaf).export({ type: "pkcs1", format: "pem" }).toString();
    const bundle = {
      certificate: `subject=CN = ${HOST}\r\n${set.leaf.certPem.replace(/\n/g, "\r\n")}`,
      chain: `Bag Attributes\n${set.chainPem}`,
      privateKey: pkcs1,
    };
    expect(checkBundle(bundle, { hosts: [HOST], now: new Date() }).keyAlgorithm).toBe("RSA_2048");
    const forAcm = pemForAcm(bundle);
    expect(forAcm.certificate).toBe(set.leaf.certPem);
    expect(forAcm.chain).toBe(set.chainPem);
    expect(forAcm.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n$/);
  });

  it("a self-signed certificate without a chain", async () => {
    const self = await issue({ commonName: HOST });
    expect(checkBundle({ certificate: self.certPem, chain: "", privateKey: self.keyPem }, { hosts: [HOST], now: new Date() }).subject).toBe(`CN=${HOST}`);
  });

  it("the same key type on re-import", () => {
    expect(checkBundle(bundleOf(set), { hosts: [HOST], now: new Date(), current: { keyAlgorithm: "RSA_2048" } }).keyAlgorithm).toBe("RSA_2048");
  });
});

describe("checkBundle rejects", () => {
  it("an empty certificate", () => {
    expect(rejection({ ...bundleOf(set), certificate: "  \n" }).message).toMatch(/^certificate is empty: provide the leaf certificate as PEM/);
  });

  it("an empty private key", () => {
    expect(rejection({ ...bundleOf(set), privateKey: "" }).message).toMatch(/^privateKey is empty/);
  });

  it("a DER certificate instead of PEM", () => {
    const der = new X509Certificate(set.leaf.certPem).raw.toString("utf8");
    expect(rejection({ ...bundleOf(set), certificate: der }).message).toMatch(/^certificate is binary \(DER\?\), not PEM: .*openssl x509 -inform DER/);
  });

  it("a DER private key instead of PEM", () => {
    const der = keyObject(set.leaf).export({ type: "pkcs8", format: "der" }).toString("latin1");
    const err = rejection({ ...bundleOf(set), privateKey: der });
    expect(err.message).toMatch(/^privateKey is binary \(DER\?\), not PEM: .*openssl pkey -inform DER/);
    expect(err.message).not.toContain(der.slice(0, 16));
  });

  it("base64 without the armour lines", () => {
    const body = set.leaf.certPem.split("\n").slice(1, -2).join("\n");
    expect(rejection({ ...bundleOf(set), certificate: body }).message).toMatch(/^certificate has no -----BEGIN/);
  });

  it("a truncated PEM", () => {
    const cut = set.leaf.certPem.slice(0, set.leaf.certPem.length / 2);
    expect(rejection({ ...bundleOf(set), certificate: cut }).message).toMatch(/without a matching -----END line: the PEM is truncated/);
  });

  it("more than one certificate in certificate (fullchain.pem)", () => {
    const err = rejection({ ...bundleOf(set), certificate: set.leaf.certPem + set.chainPem });
    expect(err.message).toMatch(/^certificate holds 3 certificates: .*not fullchain\.pem/);
  });

  it("a private key inside certificate, without echoing it", () => {
    const err = rejection({ ...bundleOf(set), certificate: set.leaf.certPem + set.leaf.keyPem });
    expect(err.message).toMatch(/^certificate contains a PRIVATE KEY block: .*put the private key in privateKey/);
  });

  it("an encrypted PKCS#8 key (ENCRYPTED PRIVATE KEY)", () => {
    const encrypted = keyObject(set.leaf)
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "x" })
      .toString();
    const err = rejection({ ...bundleOf(set), privateKey: encrypted });
    expect(err.message).toMatch(/^privateKey is encrypted .*ACM needs an unencrypted key.*openssl pkey/);
  });

  it("an encrypted traditional key (Proc-Type: 4,ENCRYPTED)", () => {
    const encrypted = keyObject(set.leaf)
      .export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "x" })
      .toString();
    expect(encrypted).toContain("Proc-Type: 4,ENCRYPTED");
    expect(rejection({ ...bundleOf(set), privateKey: encrypted }).message).toMatch(/^privateKey is encrypted/);
  });

  it("a key larger than 5,120 bytes (a real RSA 8192 key)", async () => {
    const big = await rsa8192;
    expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_PRIVATE_KEY_BYTES);
    const err = rejection({ ...bundleOf(set), privateKey: big });
    expect(err.message).toMatch(/^privateKey is \d{4} bytes; ACM imports keys of at most 5120 bytes/);
  }, 120_000);

  it("a key that does not parse", () => {
    const garbage = "-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEA\n-----END PRIVATE KEY-----\n";
    expect(rejection({ ...bundleOf(set), privateKey: garbage }).message).toMatch(/^privateKey \(PRIVATE KEY\) does not parse as a private key/);
  });

  it("a key that does not belong to the certificate", async () => {
    const other = await issue({ commonName: HOST, keyType: "rsa2048" });
    const err = rejection({ ...bundleOf(set), privateKey: other.keyPem });
    expect(err.message).toMatch(/^privateKey does not belong to the certificate \(CN=milvus\.example\.com, SHA-256 [0-9A-F:]+\)/);
  });

  it("a chain certificate that does not parse", () => {
    const damaged = "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHHIG+ZZZ\n-----END CERTIFICATE-----\n";
    expect(rejection({ ...bundleOf(set), chain: set.intermediate.certPem + damaged }).message).toMatch(
      /^chain certificate #2 does not parse as an X\.509 certificate/,
    );
  });

  it("the leaf inside the chain", () => {
    const err = rejection({ ...bundleOf(set), chain: set.leaf.certPem + set.chainPem });
    expect(err.message).toMatch(/^chain certificate #1 is the certificate itself: remove the leaf from chain/);
  });

  it("a reversed chain (root first)", () => {
    const err = rejection({ ...bundleOf(set), chain: set.root.certPem + set.intermediate.certPem });
    expect(err.message).toMatch(/^chain is out of order \(it looks reversed\): the issuer of the certificate is chain certificate #2 .*root last/);
  });

  it("a chain from another CA", async () => {
    const other = await certificateSet([HOST]);
    const err = rejection({ ...bundleOf(set), chain: other.chainPem });
    expect(err.message).toMatch(/^chain certificate #1 \("CN=milvus-l7 Test Issuing CA"\) did not issue the certificate .*signature does not verify/);
  });

  it("an empty chain for a CA-issued certificate", () => {
    expect(rejection({ ...bundleOf(set), chain: "" }).message).toMatch(/^chain is empty but the certificate is issued by .*chain\.pem/);
  });

  it("an expired certificate", async () => {
    const expired = await certificateSet([HOST], { notBefore: new Date(Date.now() - 90 * DAY), notAfter: new Date(Date.now() - DAY) });
    expect(rejection(bundleOf(expired)).message).toMatch(/^certificate expired at \d{4}-.*Z \(now .*\): renew it/);
  });

  it("a certificate that is not valid yet", async () => {
    const future = await certificateSet([HOST], { notBefore: new Date(Date.now() + DAY) });
    expect(rejection(bundleOf(future)).message).toMatch(/^certificate is not valid yet: it is valid from .*ACM refuses it/);
  });

  it("an expired intermediate", async () => {
    const root = await issue({ commonName: "Root", isCa: true });
    const intermediate = await issue({
      commonName: "Old Issuing CA",
      isCa: true,
      issuer: root,
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const leaf = await issue({ commonName: HOST, issuer: intermediate });
    const err = rejection({ certificate: leaf.certPem, chain: intermediate.certPem + root.certPem, privateKey: leaf.keyPem });
    expect(err.message).toMatch(/^chain certificate #1 \("CN=Old Issuing CA"\) expired at/);
  });

  it("a host the certificate does not cover", () => {
    const err = rejection(bundleOf(set), { hosts: [HOST, "other.example.com"] });
    expect(err.message).toMatch(/^the certificate does not cover other\.example\.com: it covers milvus\.example\.com\./);
  });

  it("a host two labels under a wildcard, and the wildcard's own apex", async () => {
    const wild = await certificateSet(["*.example.com"]);
    const err = rejection(bundleOf(wild), { hosts: ["a.b.example.com", "example.com"] });
    expect(err.message).toMatch(/^the certificate does not cover a\.b\.example\.com, example\.com: it covers \*\.example\.com/);
  });

  it("a wildcard Ingress host with a certificate for one name under it", () => {
    expect(rejection(bundleOf(set), { hosts: ["*.example.com"] }).message).toMatch(/does not cover \*\.example\.com/);
  });

  it("a key type change on re-import (RSA_2048 → EC_prime256v1)", () => {
    const err = rejection(bundleOf(ecSet), { current: { keyAlgorithm: "RSA_2048" } });
    expect(err.message).toMatch(
      /^the certificate at this ARN has a RSA_2048 key and the new one has EC_prime256v1: ACM cannot change key type or size on re-import/,
    );
  });

  it("a key size change on re-import (RSA_3072 → RSA_2048)", () => {
    expect(rejection(bundleOf(set), { current: { keyAlgorithm: "RSA_3072" } }).message).toMatch(/has a RSA_3072 key and the new one has RSA_2048/);
  });
});

describe("hosts", () => {
  it("a wildcard covers one label", async () => {
    const wild = await certificateSet(["*.example.com"]);
    const checked = checkBundle(bundleOf(wild), { hosts: ["milvus.example.com", "MILVUS2.example.com.", "*.example.com"], now: new Date() });
    expect(checked.hosts).toEqual(["*.example.com"]);
  });

  it("the CN counts when there is no SAN", async () => {
    const root = await issue({ commonName: "Root", isCa: true });
    const leaf: Issued = await issue({ commonName: HOST, dnsNames: [], issuer: root });
    expect(new X509Certificate(leaf.certPem).subjectAltName).toBeUndefined();
    const checked = checkBundle({ certificate: leaf.certPem, chain: root.certPem, privateKey: leaf.keyPem }, { hosts: [HOST], now: new Date() });
    expect(checked.hosts).toEqual([HOST]);
  });
});

describe("fingerprintOf and sameCertificateAndChain", () => {
  it("fingerprintOf is Node's fingerprint256 of the first certificate", () => {
    expect(fingerprintOf(set.leaf.certPem)).toBe(new X509Certificate(set.leaf.certPem).fingerprint256);
    expect(() => fingerprintOf(set.leaf.keyPem)).toThrow(CertificateRejected);
  });

  it("matches the same leaf and chain, ignoring a root ACM appends that is not part of the chain", async () => {
    const wanted = { certificate: set.leaf.certPem, chain: set.chainPem };
    const unrelatedRoot = await issue({ commonName: "Some Amazon Root", isCa: true });
    expect(sameCertificateAndChain(wanted, wanted)).toBe(true);
    expect(sameCertificateAndChain({ ...wanted, chain: `${set.chainPem}\n${unrelatedRoot.certPem}` }, wanted)).toBe(true);
  });

  it("differs when the leaf, a chain certificate, or the chain's length differs", async () => {
    const other = await certificateSet([HOST]);
    const wanted = { certificate: set.leaf.certPem, chain: set.chainPem };
    expect(sameCertificateAndChain({ certificate: other.leaf.certPem, chain: set.chainPem }, wanted)).toBe(false);
    expect(sameCertificateAndChain({ certificate: set.leaf.certPem, chain: other.chainPem }, wanted)).toBe(false);
    expect(sameCertificateAndChain({ certificate: set.leaf.certPem, chain: set.intermediate.certPem }, wanted)).toBe(false);
    // ACM holds [intermediate, root]; the new bundle drops the root: a real change, not ACM's addition.
    expect(sameCertificateAndChain(wanted, { certificate: set.leaf.certPem, chain: set.intermediate.certPem })).toBe(false);
  });
});

describe("selfSignedRoots (the trust anchors import-certificate returns)", () => {
  it("keeps only the self-signed CA of a chain", () => {
    const roots = selfSignedRoots(set.chainPem);
    expect(roots.map((pem) => new X509Certificate(pem).fingerprint256)).toEqual([new X509Certificate(set.root.certPem).fingerprint256]);
    expect(selfSignedRoots(set.intermediate.certPem)).toEqual([]);
    expect(selfSignedRoots("")).toEqual([]);
    expect(selfSignedRoots(undefined)).toEqual([]);
  });

  it("skips a self-signed leaf (not a CA) and a block that does not parse", async () => {
    const selfSignedLeaf = await issue({ commonName: HOST, dnsNames: [HOST] });
    const damaged = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect(selfSignedRoots(`${selfSignedLeaf.certPem}${damaged}${set.root.certPem}`)).toHaveLength(1);
  });
});

it("the private key never appears in any message (all PEM parts swapped for the key)", () => {
  const key = set.leaf.keyPem;
  for (const bundle of [
    { certificate: key, chain: set.chainPem, privateKey: key },
    { certificate: set.leaf.certPem, chain: key, privateKey: key },
    { certificate: set.leaf.certPem, chain: set.chainPem, privateKey: key.replace("PRIVATE KEY", "CERTIFICATE") },
  ]) {
    const err = rejection(bundle);
    for (const line of secretLines(key)) expect(err.message).not.toContain(line);
    expect(createPrivateKey(key).type).toBe("private");
  }
});

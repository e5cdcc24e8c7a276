// Building blocks of the corpus's PEM sets: a test CA (root and issuing CA), leaves it issues, leaves over keys
// sandbox/pki.ts cannot make, and certbot's file layout. TEST keys, made here, protecting nothing. Everything meant
// to be valid is valid 2020–2099, so the committed files keep testing the same thing for decades.
import { X509Certificate, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { type IssueOptions, type Issued, issue } from "../../sandbox/pki";
import { HOST } from "./corpus";

export const VALID = { notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2099-12-31T23:59:59Z") };

export interface Ca {
  root: Issued;
  intermediate: Issued;
  chainPem: string;
}

export async function ca(name: string, intermediateDates = VALID): Promise<Ca> {
  const root = await issue({ commonName: `milvus-l7 bad-input ${name} Root CA (TEST)`, isCa: true, keyType: "ec384", ...VALID });
  const intermediate = await issue({
    commonName: `milvus-l7 bad-input ${name} Issuing CA (TEST)`,
    isCa: true,
    issuer: root,
    keyType: "ec256",
    ...intermediateDates,
  });
  return { root, intermediate, chainPem: intermediate.certPem + root.certPem };
}

export function leaf(authority: Ca, opts: Partial<IssueOptions> = {}): Promise<Issued> {
  return issue({ commonName: HOST, keyType: "rsa2048", ...VALID, ...opts, issuer: authority.intermediate });
}

/**
 * A leaf for a key pki.ts cannot make (RSA 8192, Ed25519): the same extensions as pki.issue, over given keys.
 * Returns the certificate PEM and the PKCS#8 key PEM.
 */
export async function leafWithKeys(
  authority: Ca,
  algorithm: RsaHashedKeyGenParams | { name: "Ed25519" },
): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `7f${Date.now().toString(16)}`,
    subject: `CN=${HOST}`,
    issuer: authority.intermediate.cert.subject,
    ...VALID,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
    publicKey: keys.publicKey,
    signingKey: authority.intermediate.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: HOST }]),
      await x509.AuthorityKeyIdentifierExtension.create(authority.intermediate.cert),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
  return { certPem: `${cert.toString("pem")}\n`, keyPem };
}

export type Files = Record<string, string | Buffer>;

/** cert.pem, chain.pem and privkey.pem of a set, the way certbot names them. */
export const certbot = (l: { certPem: string; keyPem: string }, chainPem: string): Files => ({
  "cert.pem": l.certPem,
  "chain.pem": chainPem,
  "privkey.pem": l.keyPem,
});

export const der = (certPem: string) => new X509Certificate(certPem).raw;
export const PASSPHRASE = "test-only-passphrase";

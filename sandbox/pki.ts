// Test PKI: CAs and leaf certificates with any key type, validity window and SANs, for the sandbox and the
// certificate checks' tests. Built on @peculiar/x509 over Node's WebCrypto, so no openssl process is spawned
// and dates can be in the past or future (expired / not-yet-valid cases).
import "reflect-metadata";
import { webcrypto, createPrivateKey, type KeyObject } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyType = "rsa2048" | "rsa3072" | "rsa4096" | "ec256" | "ec384";

export interface Issued {
  certPem: string;
  /** PKCS#8 PEM, unencrypted. */
  keyPem: string;
  keyType: KeyType;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

function algorithm(keyType: KeyType): RsaHashedKeyGenParams | EcKeyGenParams {
  switch (keyType) {
    case "rsa2048":
    case "rsa3072":
    case "rsa4096":
      return {
        name: "RSASSA-PKCS1-v1_5",
        hash: "SHA-256",
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: Number(keyType.slice(3)),
      };
    case "ec256":
      return { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as EcKeyGenParams;
    case "ec384":
      return { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" } as EcKeyGenParams;
  }
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export interface IssueOptions {
  commonName: string;
  /** DNS names for the SAN extension; defaults to [commonName] for leaves, none for CAs. */
  dnsNames?: string[];
  /** IP addresses for the SAN extension, before the DNS names. */
  ipAddresses?: string[];
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  /** Signs with this issuer; self-signed when absent. */
  issuer?: Issued;
  isCa?: boolean;
}

let serial = 1;

export async function issue(opts: IssueOptions): Promise<Issued> {
  const keyType = opts.keyType ?? "ec256";
  const alg = algorithm(keyType);
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - 60 * 60 * 1000);
  const notAfter = opts.notAfter ?? new Date(now + 90 * 24 * 60 * 60 * 1000);
  const isCa = opts.isCa ?? false;
  const dnsNames = opts.dnsNames ?? (isCa ? [] : [opts.commonName]);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, undefined, true),
    new x509.KeyUsagesExtension(
      isCa
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (!isCa) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]));
  const sans = [
    ...(opts.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
    ...dnsNames.map((value) => ({ type: "dns" as const, value })),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  if (opts.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(opts.issuer.cert));
  const signingAlg = opts.issuer ? algorithm(opts.issuer.keyType) : alg;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, "0") + Date.now().toString(16),
    subject: `CN=${opts.commonName}`,
    issuer: opts.issuer ? opts.issuer.cert.subject : `CN=${opts.commonName}`,
    notBefore,
    notAfter,
    signingAlgorithm: signingAlg,
    publicKey: keys.publicKey,
    signingKey: opts.issuer ? opts.issuer.keys.privateKey : keys.privateKey,
    extensions,
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: `${cert.toString("pem")}\n`, keyPem: toPem(pkcs8, "PRIVATE KEY"), keyType, cert, keys };
}

export interface CertificateSet {
  root: Issued;
  intermediate: Issued;
  leaf: Issued;
  /** Intermediate then root: the order ACM expects. */
  chainPem: string;
}

export interface CertificateSetOptions extends Partial<IssueOptions> {
  /**
   * Issue the leaf from these CAs instead of new ones: a renewal by the same issuer, so the chain stays the one
   * already imported and only the leaf (key, serial, validity) changes.
   */
  ca?: Pick<CertificateSet, "root" | "intermediate">;
}

/** A root CA, an intermediate and a leaf for `hosts` (first host is the CN). */
export async function certificateSet(hosts: string[], opts: CertificateSetOptions = {}): Promise<CertificateSet> {
  const [commonName] = hosts;
  if (!commonName) throw new Error("certificateSet needs at least one host");
  const { ca, ...leafOptions } = opts;
  const root = ca?.root ?? (await issue({ commonName: "milvus-l7 Test Root CA", isCa: true, keyType: "ec384" }));
  const intermediate = ca?.intermediate ?? (await issue({ commonName: "milvus-l7 Test Issuing CA", isCa: true, issuer: root }));
  const leaf = await issue({ keyType: "rsa2048", ...leafOptions, commonName, dnsNames: hosts, issuer: intermediate });
  return { root, intermediate, leaf, chainPem: intermediate.certPem + root.certPem };
}

/**
 * The leaf of a sandbox TLS server on 127.0.0.1, issued by `ca`: clients dial the IP, so it carries an IP SAN besides
 * `dnsNames`. Short-lived, like the serving certificates a cluster rotates.
 */
export function servingCertificate(ca: Issued, commonName: string, dnsNames: string[]): Promise<Issued> {
  return issue({
    commonName,
    dnsNames,
    ipAddresses: ["127.0.0.1"],
    issuer: ca,
    keyType: "ec256",
    notAfter: new Date(Date.now() + 7 * 24 * 60 * 60 * 1000),
  });
}

/** The private key as a Node KeyObject (e.g. to derive another encoding). */
export function keyObject(issued: Issued): KeyObject {
  return createPrivateKey(issued.keyPem);
}

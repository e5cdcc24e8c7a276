// The kubernetes.io/tls Secret as a certificate source: what cert-manager writes for a Certificate (its
// spec.secretName), read with one GET of that Secret and nothing else, so the grant it needs is `get` on secrets
// with resourceNames [NAME] in its namespace (what `milvus-l7 rbac --secret NS/NAME` prints).
//
// The layout is cert-manager's (pkg/controller/certificates/issuing/internal/secret.go, SecretsManager.setValues;
// docs "Certificate resource"): `tls.crt` holds the leaf followed by its chain as the issuer returned it (leaf
// first, each certificate signed by the next), `tls.key` the private key, and `ca.crt`, when the issuer knows it,
// the CA at the top (for a CA issuer its root; for a self-signed certificate the certificate itself). A Secret
// holds the private key: nothing read here enters the state, a log line, an error message or a Cause; errors name
// the Secret and its keys, never a value.
import { X509Certificate } from "node:crypto";
import type { PemBundle } from "../lib/certificates";
import { CertificateSourceError, KubernetesForbidden, KubernetesUnavailable, MilvusL7Error } from "../lib/errors";
import type { ClusterConnector } from "../lib/kube";
import type { CertificateSource } from "../lib/state";

export type KubernetesSecretSource = Extract<CertificateSource, { kubernetesSecret: unknown }>["kubernetesSecret"];

/** core/v1 Secret type and data keys (k8s.io/api/core/v1 types.go: SecretTypeTLS, TLSCertKey, TLSPrivateKeyKey). */
export const TLS_SECRET_TYPE = "kubernetes.io/tls";
export const TLS_CERT_KEY = "tls.crt";
export const TLS_KEY_KEY = "tls.key";
/** cert-manager's TLSCAKey (pkg/apis/meta/v1). */
export const CA_KEY = "ca.crt";

export const secretPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/secrets/${name}`;

/** The fields of a Secret read here; `data` values are base64, as the API serves them. */
interface SecretObject {
  type?: string;
  data?: Record<string, string>;
}

export function describeKubernetesSecret(ref: KubernetesSecretSource): string {
  return `Kubernetes Secret ${ref.namespace}/${ref.name} in cluster ${ref.cluster.name}`;
}

/** Reads the Secret and turns it into the PEMs the existing checks take. */
export async function readKubernetesSecret(connect: ClusterConnector, ref: KubernetesSecretSource): Promise<PemBundle> {
  const where = describeKubernetesSecret(ref);
  const client = await connect(ref.cluster);
  let secret: SecretObject | undefined;
  try {
    secret = await client.getIfExists<SecretObject>(`get Secret ${ref.namespace}/${ref.name}`, secretPath(ref.namespace, ref.name));
  } catch (e) {
    if (e instanceof KubernetesForbidden && / \(403\)/.test(e.message)) {
      throw new KubernetesForbidden(
        `Kubernetes API refused get Secret ${ref.namespace}/${ref.name} (403): the milvus-l7 Lambda role may not read the certificate's Secret. ` +
          `Grant get on secrets with resourceNames [${ref.name}] in namespace ${ref.namespace} to the certificate readers' group of ` +
          `import-certificate's access entry (milvus-l7-certificates by default): milvus-l7 rbac --namespace <milvus namespace> --secret ` +
          `${ref.namespace}/${ref.name} prints the Role and RoleBinding (docs/deploy.md, "A cert-manager Secret as the certificate source").`,
      );
    }
    if (e instanceof MilvusL7Error) throw e;
    // Anything else (a 2xx body that is not JSON: JSON.parse quotes the text) may hold the Secret's data: not shown.
    throw new KubernetesUnavailable(`Kubernetes API sent an unreadable answer to get Secret ${ref.namespace}/${ref.name}; the workflow retries it.`);
  }
  if (secret === undefined) {
    throw new CertificateSourceError(
      `${where} not found: check certificate.source.kubernetesSecret (namespace and name), and that cert-manager has issued ` +
        `the Certificate whose spec.secretName it is (kubectl -n ${ref.namespace} get certificate).`,
    );
  }
  return bundleFromTlsSecret(secret, where);
}

const decode = (value: string): string => Buffer.from(value, "base64").toString("utf8");

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The Secret's PEMs: the leaf is tls.crt's first certificate and the chain the rest, in cert-manager's order; the
 * root from ca.crt is appended when the chain stops short of it, so that ACM holds and the ALB serves the whole
 * path and verification finds its trust anchor in the chain (the chain's self-signed roots are the anchors:
 * docs/architecture.md, "Trust anchors travel with the certificate").
 */
export function bundleFromTlsSecret(secret: SecretObject, where: string): PemBundle {
  if (secret.type !== TLS_SECRET_TYPE) {
    throw new CertificateSourceError(
      `${where} is of type ${JSON.stringify(secret.type ?? "Opaque")}, not ${TLS_SECRET_TYPE}: name the Secret cert-manager ` +
        `writes for the Certificate (its spec.secretName), or store the certificate as a ${TLS_SECRET_TYPE} Secret with ${TLS_CERT_KEY} and ${TLS_KEY_KEY}.`,
    );
  }
  const data = secret.data ?? {};
  const missing = [TLS_CERT_KEY, TLS_KEY_KEY].filter((k) => typeof data[k] !== "string" || data[k] === "");
  if (missing.length > 0) {
    // Key names are safe to show (values are not).
    const found = Object.keys(data).slice(0, 10).join(", ") || "none";
    throw new CertificateSourceError(
      `${where} has no ${missing.join(" and ")} (or it is empty; keys found: ${found}): a ${TLS_SECRET_TYPE} Secret holds the ` +
        `certificate and its chain in ${TLS_CERT_KEY} and the private key in ${TLS_KEY_KEY}. If cert-manager has not issued the certificate yet, wait for the Certificate to be Ready.`,
    );
  }
  const { certificate, chain } = splitLeaf(decode(data[TLS_CERT_KEY] as string));
  const ca = typeof data[CA_KEY] === "string" ? decode(data[CA_KEY]) : "";
  return { certificate, chain: withRoot(certificate, chain, ca), privateKey: decode(data[TLS_KEY_KEY] as string) };
}

/** tls.crt → leaf (its first certificate) and chain (everything after it); text without a certificate stays the leaf for checkBundle to reject. */
function splitLeaf(text: string): { certificate: string; chain: string } {
  const first = new RegExp(CERTIFICATE_BLOCK.source).exec(text);
  if (!first) return { certificate: text, chain: "" };
  const end = first.index + first[0].length;
  return { certificate: text.slice(0, end).trim(), chain: text.slice(end).trim() };
}

function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

const isSelfSignedCa = (c: X509Certificate) => c.ca && c.checkIssued(c) && c.verify(c.publicKey);

/**
 * The chain with ca.crt's root appended when the root issued the chain's last certificate (the leaf's, for a leaf
 * with no chain) and the chain does not already end in a root. ca.crt is cert-manager's best effort (an ACME issuer
 * leaves it out, a self-signed certificate is its own ca.crt): anything else in it is ignored, and the chain is
 * checked as tls.crt gave it.
 */
function withRoot(leafPem: string, chain: string, caText: string): string {
  const chainCerts = (chain.match(CERTIFICATE_BLOCK) ?? []).map(parse);
  const top = chainCerts.length > 0 ? chainCerts[chainCerts.length - 1] : parse(leafPem);
  if (top === undefined || isSelfSignedCa(top)) return chain;
  for (const pem of caText.match(CERTIFICATE_BLOCK) ?? []) {
    const root = parse(pem);
    if (root && isSelfSignedCa(root) && top.checkIssued(root) && top.verify(root.publicKey)) {
      return chain === "" ? pem : `${chain}\n${pem}`;
    }
  }
  return chain;
}

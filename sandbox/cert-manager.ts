// cert-manager's issuing controller, as far as milvus-l7 meets it: the kubernetes.io/tls Secret it writes a
// Certificate's keys into. Ported from cert-manager/cert-manager pkg/controller/certificates/issuing/internal/secret.go
// (SecretsManager.UpdateData and setValues) and internal/controller/certificates AnnotationsForCertificate: one
// server-side apply, forced, as field manager cert-manager-certificates-issuing, through the API with the
// controller's service-account token (so the Secret passes the apiserver's validation and its writes are counted as
// anyone's would be); data `tls.crt` = the leaf then its chain (no root: an issuer returns the path up to it),
// `tls.key`, `ca.crt` = the CA (the root, for a CA issuer); the certificate-detail and Certificate/issuer
// annotations; the label `controller.cert-manager.io/fao: "true"`. Not modelled: keystores, additional output
// formats, the secretTemplate, owner references.
import { X509Certificate } from "node:crypto";
import { CoreV1Api, KubeConfig, PatchStrategy, type V1Secret, setHeaderOptions } from "@kubernetes/client-node";
import type { CertificateSet } from "./pki";

/** The issuing controller's field manager (its user agent's prefix; cert-manager's e2e tests check it). */
export const CERT_MANAGER_FIELD_MANAGER = "cert-manager-certificates-issuing";

export interface TlsSecretRef {
  namespace: string;
  name: string;
  /** The Certificate resource the Secret is its spec.secretName of (default: the Secret's name). */
  certificateName?: string;
  /** The issuer that signed it (default a ClusterIssuer `sandbox-ca`). */
  issuer?: { name: string; kind: "Issuer" | "ClusterIssuer"; group?: string };
}

export interface CertManagerWriter {
  /** Writes `set` into the Secret as the issuing controller does on each issuance (a renewal overwrites it). */
  issue(set: CertificateSet, ref: TlsSecretRef): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** The Secret as setValues builds it for an issuance by `ref.issuer`. */
export function tlsSecretFor(set: CertificateSet, ref: TlsSecretRef): V1Secret {
  const cert = new X509Certificate(set.leaf.certPem);
  const issuer = ref.issuer ?? { name: "sandbox-ca", kind: "ClusterIssuer" as const, group: "cert-manager.io" };
  const dnsNames = (cert.subjectAltName ?? "")
    .split(", ")
    .filter((n) => n.startsWith("DNS:"))
    .map((n) => n.slice(4));
  const commonName = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? "";
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      // AnnotationsForCertificate: common-name, alt-names, ip-sans and uri-sans are kept even when empty.
      annotations: {
        "cert-manager.io/common-name": commonName,
        "cert-manager.io/alt-names": dnsNames.join(","),
        "cert-manager.io/ip-sans": "",
        "cert-manager.io/uri-sans": "",
        "cert-manager.io/certificate-name": ref.certificateName ?? ref.name,
        "cert-manager.io/issuer-name": issuer.name,
        "cert-manager.io/issuer-kind": issuer.kind,
        "cert-manager.io/issuer-group": issuer.group ?? "cert-manager.io",
      },
      labels: { "controller.cert-manager.io/fao": "true" },
    },
    type: "kubernetes.io/tls",
    data: {
      "tls.crt": b64(set.leaf.certPem + set.intermediate.certPem),
      "tls.key": b64(set.leaf.keyPem),
      "ca.crt": b64(set.root.certPem),
    },
  };
}

/** The writer, authenticated as cert-manager's service account on the apiserver stand-in. */
export function certManagerWriter(kube: { url: string; caPem: string; token: string }): CertManagerWriter {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sandbox", server: kube.url.replace(/\/+$/, ""), caData: b64(kube.caPem), skipTLSVerify: false }],
    users: [{ name: "cert-manager", token: kube.token }],
    contexts: [{ name: "sandbox", cluster: "sandbox", user: "cert-manager" }],
    currentContext: "sandbox",
  });
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async issue(set, ref) {
      await core.patchNamespacedSecret(
        { name: ref.name, namespace: ref.namespace, body: tlsSecretFor(set, ref), fieldManager: CERT_MANAGER_FIELD_MANAGER, force: true },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      );
    },
  };
}

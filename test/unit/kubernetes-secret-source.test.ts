// certificate.source.kubernetesSecret: the request field, its plan (with the target's cluster), a renewal from a
// recorded Secret source, and import-certificate's reading of a kubernetes.io/tls Secret as cert-manager writes it.
import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bundleFromTlsSecret,
  readKubernetesSecret,
  secretPath,
} from "../../functions/import-certificate/kubernetes-secret";
import { checkBundle, selfSignedRoots } from "../../functions/lib/certificates";
import {
  CertificateSourceError,
  InvalidRequest,
  KubernetesForbidden,
  KubernetesUnavailable,
  MilvusL7Error,
} from "../../functions/lib/errors";
import type { ClusterConnector } from "../../functions/lib/kube";
import type { KubeClient } from "../../functions/lib/kube-client";
import type { DeploymentRecord } from "../../functions/lib/registry";
import { parseRequest } from "../../functions/lib/request";
import type { Target } from "../../functions/lib/state";
import { resolveRequest } from "../../functions/resolve-request/core";
import { classifyInput, planRenewal } from "../../functions/resolve-request/triggers";
import { tlsSecretFor } from "../../sandbox/cert-manager";
import { type CertificateSet, certificateSet, issue } from "../../sandbox/pki";

const HOST = "milvus.example.com";
const ARN = "arn:aws:acm:us-east-2:123456789012:certificate/11111111-2222-3333-4444-555555555555";
const CLUSTER = { name: "milvus-eks", region: "us-east-2" };
const REF = { cluster: CLUSTER, namespace: "milvus", name: "milvus-tls" };
const WHERE = "Kubernetes Secret milvus/milvus-tls in cluster milvus-eks";

function request(source: unknown, arn?: string): Record<string, unknown> {
  return {
    cluster: CLUSTER,
    milvus: { namespace: "milvus", service: "milvus-demo" },
    ingress: { host: HOST },
    certificate: { ...(arn ? { arn } : {}), source },
  };
}

function issues(input: unknown): { path: string; message: string }[] {
  try {
    parseRequest(input);
  } catch (e) {
    if (e instanceof InvalidRequest) return e.issues;
    throw e;
  }
  return [];
}

describe("request: certificate.source.kubernetesSecret", () => {
  it("is planned with the request's cluster, so import-certificate knows where the Secret is", () => {
    const plan = resolveRequest(request({ kubernetesSecret: { namespace: "cert-manager-certs", name: "milvus.example.com-tls" } }, ARN), {
      defaultRegion: "us-east-2",
    });
    expect(plan.certificate).toEqual({
      arn: ARN,
      source: { kubernetesSecret: { cluster: CLUSTER, namespace: "cert-manager-certs", name: "milvus.example.com-tls" } },
    });
  });

  it("takes the deployment's default region when the request names none", () => {
    const r = request({ kubernetesSecret: { namespace: "milvus", name: "milvus-tls" } });
    r.cluster = { name: "milvus-eks" };
    const plan = resolveRequest(r, { defaultRegion: "eu-west-1" });
    expect(plan.certificate.source).toEqual({ kubernetesSecret: { cluster: { name: "milvus-eks", region: "eu-west-1" }, namespace: "milvus", name: "milvus-tls" } });
  });

  it("names the field and what is allowed", () => {
    expect(issues(request({ kubernetesSecret: { namespace: "Milvus", name: "tls_secret" } }))).toEqual([
      { path: "certificate.source.kubernetesSecret.namespace", message: expect.stringContaining("must be a DNS-1123 label") },
      { path: "certificate.source.kubernetesSecret.name", message: expect.stringContaining("must be a DNS-1123 subdomain") },
    ]);
    expect(issues(request({ kubernetesSecret: { namespace: "milvus" } }))).toEqual([
      { path: "certificate.source.kubernetesSecret.name", message: "is required" },
    ]);
    expect(issues(request({ kubernetesSecret: { namespace: "milvus", name: "tls", key: "tls.crt" } }))).toEqual([
      { path: "certificate.source.kubernetesSecret.key", message: 'unknown field "key"; allowed: namespace, name' },
    ]);
  });

  it("is one source kind among the others: exactly one", () => {
    expect(issues(request({ kubernetesSecret: { namespace: "milvus", name: "tls" }, secretsManager: { secretId: "milvus-l7/tls" } }))).toEqual([
      { path: "certificate.source", message: "must have exactly one of secretsManager, s3, kubernetesSecret" },
    ]);
    expect(issues(request({ kubernetess: {} }))[0]?.message).toContain("allowed: secretsManager, s3, kubernetesSecret");
  });
});

describe("renewal of a target deployed from a Secret", () => {
  const target: Target = {
    cluster: CLUSTER,
    namespace: "milvus",
    service: { name: "milvus-demo", port: 19530 },
    ingress: { name: "milvus-demo", className: "alb", host: HOST, scheme: "internet-facing", annotations: {} },
  };
  const record: DeploymentRecord = {
    targetId: "us-east-2/milvus-eks/milvus/milvus-demo",
    target,
    certificateArn: ARN,
    certificateSource: { kubernetesSecret: REF },
    albHostname: "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com",
    servedFingerprint256: "AB",
    servedNotAfter: "2026-12-25T00:00:00.000Z",
    lastVerified: "2026-10-01T00:00:00Z",
    lastExecution: "arn:aws:states:us-east-2:123456789012:execution:milvus-l7:first",
  };

  it("re-imports from the recorded Secret into the same ARN, only if it holds a newer certificate", async () => {
    const event = { source: "aws.acm", "detail-type": "ACM Certificate Approaching Expiration", resources: [ARN], detail: { DaysToExpiry: 20 } };
    const trigger = classifyInput(event);
    if (trigger.kind === "request") throw new Error("not classified as an event");
    const plan = await planRenewal(trigger, { forCertificate: async () => [record, { ...record, targetId: "other" }], forSourceObject: async () => [] });
    expect(plan.certificate).toMatchObject({ arn: ARN, source: { kubernetesSecret: REF }, onlyIfNewer: true });
    expect(plan.renewal.reason).toContain("re-importing from Kubernetes Secret milvus/milvus-tls in cluster milvus-eks (us-east-2)");
    // Two records with the same Secret are one source, not "a different source".
    expect(plan.renewal.reason).not.toContain("different source");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Reading the Secret

let set: CertificateSet;
beforeAll(async () => {
  set = await certificateSet([HOST]);
});

const b64 = (s: string) => Buffer.from(s).toString("base64");
const fingerprints = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p).fingerprint256);

describe("a kubernetes.io/tls Secret as cert-manager writes it", () => {
  it("splits tls.crt into the leaf and its chain, and appends ca.crt's root the chain stops short of", () => {
    const bundle = bundleFromTlsSecret(tlsSecretFor(set, { namespace: "milvus", name: "milvus-tls" }), WHERE);
    expect(fingerprints(bundle.certificate)).toEqual(fingerprints(set.leaf.certPem));
    expect(fingerprints(bundle.chain)).toEqual(fingerprints(set.intermediate.certPem + set.root.certPem));
    expect(bundle.privateKey).toBe(set.leaf.keyPem);
    // The root is what verification trusts, and the bundle passes the same checks as any other source's.
    expect(selfSignedRoots(bundle.chain).flatMap(fingerprints)).toEqual(fingerprints(set.root.certPem));
    expect(checkBundle(bundle, { hosts: [HOST], now: new Date() }).fingerprint256).toBe(new X509Certificate(set.leaf.certPem).fingerprint256);
  });

  it("keeps a chain that already ends in its root as it is", () => {
    const secret = tlsSecretFor(set, { namespace: "milvus", name: "milvus-tls" });
    secret.data = { ...secret.data, "tls.crt": b64(set.leaf.certPem + set.chainPem) };
    const bundle = bundleFromTlsSecret(secret, WHERE);
    expect(fingerprints(bundle.chain)).toEqual(fingerprints(set.chainPem));
  });

  it("ignores a ca.crt that did not issue the chain (an ACME issuer's Secret has none; a stale one must not be trusted)", async () => {
    const other = await certificateSet([HOST]);
    const secret = tlsSecretFor(set, { namespace: "milvus", name: "milvus-tls" });
    secret.data = { ...secret.data, "ca.crt": b64(other.root.certPem) };
    expect(fingerprints(bundleFromTlsSecret(secret, WHERE).chain)).toEqual(fingerprints(set.intermediate.certPem));
    const { "ca.crt": _ca, ...withoutCa } = secret.data;
    expect(fingerprints(bundleFromTlsSecret({ ...secret, data: withoutCa }, WHERE).chain)).toEqual(fingerprints(set.intermediate.certPem));
  });

  it("takes a self-signed certificate, which cert-manager also writes as its own ca.crt, with an empty chain", async () => {
    const selfSigned = await issue({ commonName: HOST, dnsNames: [HOST] });
    const bundle = bundleFromTlsSecret(
      { type: "kubernetes.io/tls", data: { "tls.crt": b64(selfSigned.certPem), "tls.key": b64(selfSigned.keyPem), "ca.crt": b64(selfSigned.certPem) } },
      WHERE,
    );
    expect(bundle.chain).toBe("");
  });

  it("refuses another type, naming the Secret and what to store", () => {
    const secret = { ...tlsSecretFor(set, { namespace: "milvus", name: "milvus-tls" }), type: "Opaque" };
    expect(() => bundleFromTlsSecret(secret, WHERE)).toThrow(CertificateSourceError);
    expect(() => bundleFromTlsSecret(secret, WHERE)).toThrow(`${WHERE} is of type "Opaque", not kubernetes.io/tls`);
  });

  it("names a missing or empty key, and no value of the Secret", () => {
    const secret = tlsSecretFor(set, { namespace: "milvus", name: "milvus-tls" });
    const { "tls.key": _key, ...noKey } = secret.data ?? {};
    const error = caught(() => bundleFromTlsSecret({ ...secret, data: noKey }, WHERE));
    expect(error).toBeInstanceOf(CertificateSourceError);
    expect(error.message).toContain(`${WHERE} has no tls.key (or it is empty; keys found: tls.crt, ca.crt)`);
    expect(caught(() => bundleFromTlsSecret({ ...secret, data: { ...secret.data, "tls.crt": "" } }, WHERE)).message).toContain("has no tls.crt");
    expectNoSecretIn(error.message, secret.data ?? {});
  });
});

function caught(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("did not throw");
}

/** Neither the key (PEM or its base64) nor any other value of the Secret. */
function expectNoSecretIn(text: string, data: Record<string, string>) {
  expect(text).not.toContain("PRIVATE KEY");
  for (const value of Object.values(data)) {
    if (value) expect(text).not.toContain(value.slice(0, 40));
  }
  const keyBody = set.leaf.keyPem.split("\n")[1] ?? "";
  expect(text).not.toContain(keyBody);
}

/** A connector to a cluster whose apiserver answers the Secret GET with `answer`; records the paths asked. */
function cluster(answer: (path: string) => Promise<unknown>): { connect: ClusterConnector; paths: string[]; clusters: string[] } {
  const paths: string[] = [];
  const clusters: string[] = [];
  const client = {
    async getIfExists(_what: string, path: string) {
      paths.push(path);
      return answer(path);
    },
  } as unknown as KubeClient;
  return {
    paths,
    clusters,
    connect: async (c) => {
      clusters.push(`${c.region}/${c.name}`);
      return client;
    },
  };
}

describe("readKubernetesSecret", () => {
  it("GETs that one Secret in the source's cluster, nothing else", async () => {
    const k = cluster(async () => tlsSecretFor(set, { namespace: "milvus", name: "milvus-tls" }));
    const bundle = await readKubernetesSecret(k.connect, REF);
    expect(bundle.privateKey).toBe(set.leaf.keyPem);
    expect(k.paths).toEqual([secretPath("milvus", "milvus-tls")]);
    expect(k.paths).toEqual(["/api/v1/namespaces/milvus/secrets/milvus-tls"]);
    expect(k.clusters).toEqual(["us-east-2/milvus-eks"]);
  });

  it("a missing Secret is terminal, naming namespace/name and how to check cert-manager", async () => {
    const error = await readKubernetesSecret(cluster(async () => undefined).connect, REF).catch((e: Error) => e);
    expect(error).toBeInstanceOf(CertificateSourceError);
    expect((error as Error).message).toContain(`${WHERE} not found`);
    expect((error as Error).message).toContain("kubectl -n milvus get certificate");
  });

  it("a 403 says what to grant: get on secrets with resourceNames [NAME] in NS", async () => {
    const denied = new KubernetesForbidden(
      'Kubernetes API refused get Secret milvus/milvus-tls (403): secrets "milvus-tls" is forbidden: User "milvus-l7" cannot get resource "secrets" in API group "" in the namespace "milvus".',
    );
    const error = await readKubernetesSecret(cluster(async () => Promise.reject(denied)).connect, REF).catch((e: Error) => e);
    expect(error).toBeInstanceOf(KubernetesForbidden);
    expect((error as Error).message).toContain("Grant get on secrets with resourceNames [milvus-tls] in namespace milvus");
    expect((error as Error).message).toContain("milvus-l7 rbac --namespace <milvus namespace> --secret milvus/milvus-tls");
  });

  it("an unreadable answer (a body JSON.parse quotes) becomes a retryable error that quotes nothing", async () => {
    const body = `{"data":{"tls.key":"${b64(set.leaf.keyPem)}"`;
    const error = await readKubernetesSecret(
      cluster(async () => {
        JSON.parse(body);
      }).connect,
      REF,
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(KubernetesUnavailable);
    expect(error).toBeInstanceOf(MilvusL7Error);
    expectNoSecretIn((error as Error).message, { key: b64(set.leaf.keyPem) });
  });
});

// cert-manager's kubernetes.io/tls Secret as the certificate source, through the real ASL and handlers in the
// sandbox: the deployment reads the Secret with one GET, imports it, and the ALB serves it; a missing Secret, a
// Secret of another type and a role that may not read it each fail ImportCertificate at once, before anything is
// written, with a Cause that says what to fix; and no run leaves the Secret's key anywhere.
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox";
import { requestFromTlsSecret } from "../../sandbox/scenarios/cert-manager";
import { expectFailsFast, expectNoKeyIn, issueIntoTlsSecret, keysOf, kubectl, ourWrites } from "./faults/harness";

let sb: Sandbox;
const SECRET = { namespace: "milvus", name: "milvus-demo-tls" };
const SECRET_PATH = "/api/v1/namespaces/milvus/secrets/milvus-demo-tls";

beforeAll(async () => {
  sb = await startSandbox({ watchSeconds: 1, publishDelayMs: 50, healthyDelayMs: 0 });
  keysOf.set(sb, []);
}, 120_000);

afterAll(async () => {
  await sb?.stop();
});

/** What milvus-l7 (an IAM principal, not a controller's service account) asked of the apiserver about Secrets. */
const ourSecretRequests = (from: number) =>
  sb.kube.requests
    .slice(from)
    .filter((r) => r.path.includes("/secrets") && !r.user?.startsWith("system:serviceaccount:"))
    .map((r) => `${r.method} ${r.path}`);

describe("certificate.source.kubernetesSecret", () => {
  it("a missing Secret fails ImportCertificate at once, naming it, before anything is written", async () => {
    const writes = ourWrites(sb);
    const run = await sb.run(requestFromTlsSecret(sb));
    expectFailsFast(run, "ImportCertificate", "CertificateSourceError", [
      "Kubernetes Secret milvus/milvus-demo-tls in cluster milvus-eks not found",
      "kubectl -n milvus get certificate",
    ]);
    expect(ourWrites(sb)).toBe(writes);
  });

  it("deploys from the Secret cert-manager wrote, reading only that Secret, and leaves its key nowhere", async () => {
    const set = await issueIntoTlsSecret(sb, SECRET);
    // The Secret is as cert-manager writes it: applied by its issuing controller, with its annotations.
    const secret = sb.kube.get<{ type: string; metadata: { annotations: Record<string, string>; managedFields: { manager: string }[] } }>(
      "Secret",
      "milvus",
      "milvus-demo-tls",
    );
    expect(secret?.type).toBe("kubernetes.io/tls");
    expect(secret?.metadata.annotations["cert-manager.io/certificate-name"]).toBe("milvus-demo-tls");
    expect(secret?.metadata.managedFields.map((f) => f.manager)).toEqual(["cert-manager-certificates-issuing"]);

    const from = sb.kube.requests.length;
    const run = await sb.run(requestFromTlsSecret(sb));
    expect(run.cause).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    expect(ourSecretRequests(from)).toEqual([`GET ${SECRET_PATH}`]);
    const output = run.output as { targets: { servedFingerprint256: string }[] };
    expect(output.targets[0]?.servedFingerprint256).toBe(new X509Certificate(set.leaf.certPem).fingerprint256);
    expectNoKeyIn(sb, run);
  });

  it("a Secret of another type is refused, naming the type; its values appear nowhere", async () => {
    const set = await issueIntoTlsSecret(sb, { namespace: "milvus", name: "opaque-tls" });
    // Someone copied the PEMs into an Opaque Secret by hand (type is immutable: a new Secret).
    sb.kube.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "hand-made", namespace: "milvus" },
      type: "Opaque",
      data: { "tls.crt": Buffer.from(set.leaf.certPem).toString("base64"), "tls.key": Buffer.from(set.leaf.keyPem).toString("base64") },
    });
    const request = requestFromTlsSecret(sb);
    request.certificate = { source: { kubernetesSecret: { namespace: "milvus", name: "hand-made" } } };
    const run = await sb.run(request);
    expectFailsFast(run, "ImportCertificate", "CertificateSourceError", ['is of type "Opaque", not kubernetes.io/tls']);
    expectNoKeyIn(sb, run);
  });

  it("a role that may not read the Secret gets the grant to ask for, not the Secret", async () => {
    // The certificate in another namespace than the access scope covers (the default access entry: Milvus's namespace).
    sb.kube.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "certs" } });
    await issueIntoTlsSecret(sb, { namespace: "certs", name: "milvus-demo-tls" });
    sb.kube.setAccessScope({ namespaces: ["milvus"] });
    try {
      const request = requestFromTlsSecret(sb);
      request.certificate = { source: { kubernetesSecret: { namespace: "certs", name: "milvus-demo-tls" } } };
      const run = await sb.run(request);
      expectFailsFast(run, "ImportCertificate", "KubernetesForbidden", [
        "Grant get on secrets with resourceNames [milvus-demo-tls] in namespace certs",
        "--secret certs/milvus-demo-tls",
      ]);
      expectNoKeyIn(sb, run);
    } finally {
      sb.kube.setAccessScope("cluster");
    }
  });
});

describe("the apiserver stand-in's Secrets (ValidateSecret)", () => {
  const message = (e: unknown) => String((e as { body?: string }).body ?? e);

  it("refuses a kubernetes.io/tls Secret without tls.key, a bad data key, data that is not base64, and a change of type", async () => {
    const { core } = await kubectl(sb);
    const tls = (name: string, data: Record<string, string>) => ({
      metadata: { name },
      type: "kubernetes.io/tls",
      data,
    });
    const noKey = await core.createNamespacedSecret({ namespace: "milvus", body: tls("no-key", { "tls.crt": "Zm9v" }) }).catch(message);
    expect(noKey).toContain("data[tls.key]: Required value");
    const badKey = await core
      .createNamespacedSecret({ namespace: "milvus", body: tls("bad-key", { "tls.crt": "Zm9v", "tls.key": "Zm9v", "my key": "Zm9v" }) })
      .catch(message);
    expect(badKey).toContain("a valid config key must consist of alphanumeric characters");
    const notBase64 = await core
      .createNamespacedSecret({ namespace: "milvus", body: tls("not-base64", { "tls.crt": "Zm9v", "tls.key": "-----BEGIN PRIVATE KEY-----" }) })
      .catch(message);
    expect(notBase64).toContain("must be base64-encoded");
    // The rejected value is redacted, as upstream redacts it.
    expect(notBase64).not.toContain("BEGIN PRIVATE KEY");

    await core.createNamespacedSecret({ namespace: "milvus", body: tls("typed", { "tls.crt": "Zm9v", "tls.key": "Zm9v" }) });
    const retyped = await core
      .replaceNamespacedSecret({ name: "typed", namespace: "milvus", body: { ...tls("typed", { "tls.crt": "Zm9v", "tls.key": "Zm9v" }), type: "Opaque" } })
      .catch(message);
    expect(retyped).toContain("field is immutable");
    // A Secret without a type is Opaque (SetDefaults_Secret).
    const opaque = await core.createNamespacedSecret({ namespace: "milvus", body: { metadata: { name: "untyped" }, data: { a: "Zm9v" } } });
    expect(opaque.type).toBe("Opaque");
  });
});

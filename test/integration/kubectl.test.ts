// The real kubectl against the Kubernetes API stand-in: the commands the Milvus L7 guide and an operator use
// (get, patch --type merge, apply --server-side) must work unmodified, and their effect must land in the store.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Ingress, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeApiServer, kubeconfigYaml, seedMilvusRelease, startKubeApiServer } from "../../sandbox/kube";

const KUBECTL = "/usr/bin/kubectl";
const TOKEN = "kubectl-test-token";

const INGRESS_YAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: milvus-demo
  namespace: milvus
  annotations:
    alb.ingress.kubernetes.io/scheme: internet-facing
    alb.ingress.kubernetes.io/backend-protocol-version: GRPC
    alb.ingress.kubernetes.io/target-type: ip
    alb.ingress.kubernetes.io/listen-ports: '[{"HTTPS":443}]'
    alb.ingress.kubernetes.io/certificate-arn: arn:aws:acm:us-east-2:123456789012:certificate/0a1b2c3d
spec:
  ingressClassName: alb
  rules:
    - host: milvus.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: milvus-demo
                port:
                  number: 19530
`;

let server: KubeApiServer;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with its own kubeconfig and discovery cache; resolves with the exit code instead of throwing. */
function kubectl(args: string[], kubeconfig = join(dir, "kubeconfig")): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, "cache")}`, "--request-timeout=20s", ...args],
      { env: { ...process.env, KUBECONFIG: "" }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** kubectl's human-readable output as rows of whitespace-separated cells. */
function table(run: Run): string[][] {
  expect(run.code).toBe(0);
  return run.stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/));
}

beforeAll(async () => {
  server = await startKubeApiServer({
    authenticate: (token) => (token === TOKEN ? { ok: true, user: "kubectl-user" } : { ok: false, reason: "unknown token" }),
  });
  seedMilvusRelease(server);
  dir = mkdtempSync(join(tmpdir(), "milvus-l7-kubectl-"));
  writeFileSync(join(dir, "kubeconfig"), kubeconfigYaml(server, TOKEN));
  writeFileSync(join(dir, "ingress.yaml"), INGRESS_YAML);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("kubectl against the stand-in", () => {
  it("gets the Milvus Service as JSON", async () => {
    const run = await kubectl(["get", "svc", "milvus-demo", "-n", "milvus", "-o", "json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const svc = JSON.parse(run.stdout) as V1Service;
    expect(svc.spec?.type).toBe("LoadBalancer");
    expect(svc.spec?.ports?.map((p) => p.nodePort)).toEqual([31817, 30643]);
    expect(svc.status?.loadBalancer?.ingress?.[0]?.hostname).toBe("milvus-service-6a1f0e2c7d3b4a59.elb.us-east-2.amazonaws.com");
    const read = server.requests.find((r) => r.method === "GET" && r.path === "/api/v1/namespaces/milvus/services/milvus-demo");
    expect(read).toMatchObject({ status: 200, user: "kubectl-user" });
  });

  it("lists Services and Ingresses in the namespace", async () => {
    const run = await kubectl(["get", "svc", "-n", "milvus", "-o", "jsonpath={.items[*].metadata.name}"]);
    expect([run.code, run.stdout]).toEqual([0, "milvus-demo"]);
    const none = await kubectl(["get", "ingress", "-n", "milvus"]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain("No resources found in milvus namespace.");
  });

  it("reports the apiserver's rejection of a patch that only sets type ClusterIP", async () => {
    const run = await kubectl(["patch", "svc", "milvus-demo", "-n", "milvus", "--type", "merge", "-p", '{"spec":{"type":"ClusterIP"}}']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The Service "milvus-demo" is invalid');
    expect(run.stderr).toContain("spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'");
    expect(server.get<V1Service>("Service", "milvus", "milvus-demo")?.spec?.type).toBe("LoadBalancer");
  });

  it("patches the Service to ClusterIP with a merge patch that clears the load-balancer fields", async () => {
    const patch = '{"spec":{"type":"ClusterIP","externalTrafficPolicy":null,"loadBalancerSourceRanges":null}}';
    const run = await kubectl(["patch", "svc", "milvus-demo", "-n", "milvus", "--type", "merge", "-p", patch]);
    expect([run.code, run.stdout.trim()]).toEqual([0, "service/milvus-demo patched"]);
    const stored = server.get<V1Service>("Service", "milvus", "milvus-demo");
    expect(stored?.spec?.type).toBe("ClusterIP");
    expect(stored?.spec?.ports?.map((p) => p.nodePort)).toEqual([undefined, undefined]);
    expect(stored?.spec?.loadBalancerSourceRanges).toBeUndefined();
    expect(server.mutations.at(-1)).toMatchObject({
      verb: "patch",
      name: "milvus-demo",
      fieldManager: "kubectl-patch",
      contentType: "application/merge-patch+json",
    });

    const again = await kubectl(["patch", "svc", "milvus-demo", "-n", "milvus", "--type", "merge", "-p", patch]);
    expect([again.code, again.stdout.trim()]).toEqual([0, "service/milvus-demo patched (no change)"]);
  });

  it("server-side applies the Ingress with a field manager, idempotently", async () => {
    const file = join(dir, "ingress.yaml");
    const apply = ["apply", "--server-side", "--validate=false", "--field-manager=milvus-l7", "-f", file];
    const run = await kubectl(apply);
    expect([run.code, run.stdout.trim()]).toEqual([0, "ingress.networking.k8s.io/milvus-demo serverside-applied"]);
    const request = server.requests.find((r) => r.method === "PATCH" && r.path.endsWith("/ingresses/milvus-demo"));
    expect(request).toMatchObject({
      contentType: "application/apply-patch+yaml",
      fieldManager: "milvus-l7",
      query: expect.objectContaining({ force: "false" }),
      status: 201,
    });
    const stored = server.get<V1Ingress>("Ingress", "milvus", "milvus-demo");
    expect(stored?.spec?.ingressClassName).toBe("alb");
    expect(stored?.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.port?.number).toBe(19530);
    expect(stored?.metadata?.annotations?.["alb.ingress.kubernetes.io/listen-ports"]).toBe('[{"HTTPS":443}]');
    expect(stored?.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([["milvus-l7", "Apply"]]);

    const again = await kubectl(apply);
    expect(again.code).toBe(0);
    expect(server.get<V1Ingress>("Ingress", "milvus", "milvus-demo")?.metadata?.resourceVersion).toBe(
      stored?.metadata?.resourceVersion,
    );
  });

  it("shows the ADDRESS once the controller publishes it through the status subresource", async () => {
    const hostname = "k8s-milvus-milvusde-0123456789.us-east-2.elb.amazonaws.com";
    const before = table(await kubectl(["get", "ingress", "milvus-demo", "-n", "milvus"]));
    expect(before[0]).toEqual(["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    // An empty ADDRESS cell: the row has one column fewer.
    expect(before[1]?.slice(0, 4)).toEqual(["milvus-demo", "alb", "milvus.example.com", "80"]);
    const status = JSON.stringify({ status: { loadBalancer: { ingress: [{ hostname }] } } });
    const patch = ["patch", "ingress", "milvus-demo", "-n", "milvus", "--subresource=status", "--type", "merge", "-p", status];
    expect((await kubectl(patch)).code).toBe(0);
    const after = table(await kubectl(["get", "ingress", "milvus-demo", "-n", "milvus"]));
    expect(after[1]?.slice(0, 5)).toEqual(["milvus-demo", "alb", "milvus.example.com", hostname, "80"]);
    const service = table(await kubectl(["get", "svc", "milvus-demo", "-n", "milvus"]));
    expect(service[0]).toEqual(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    expect(service[1]?.slice(0, 5)).toEqual(["milvus-demo", "ClusterIP", "172.20.114.87", "<none>", "19530/TCP,9091/TCP"]);
  });

  it("fails an apply by another manager that changes a field milvus-l7 owns, unless forced", async () => {
    const file = join(dir, "ingress-internal.yaml");
    writeFileSync(file, INGRESS_YAML.replace("scheme: internet-facing", "scheme: internal"));
    const apply = ["apply", "--server-side", "--validate=false", "--field-manager=operator", "-f", file];
    const conflict = await kubectl(apply);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain(
      'Apply failed with 1 conflict: conflict with "milvus-l7" using networking.k8s.io/v1: .metadata.annotations.alb.ingress.kubernetes.io/scheme',
    );
    const forced = await kubectl([...apply, "--force-conflicts"]);
    expect(forced.code).toBe(0);
    const stored = server.get<V1Ingress>("Ingress", "milvus", "milvus-demo");
    expect(stored?.metadata?.annotations?.["alb.ingress.kubernetes.io/scheme"]).toBe("internal");
  });

  it("is refused with a token the apiserver does not accept", async () => {
    const other = join(dir, "kubeconfig-bad-token");
    writeFileSync(other, kubeconfigYaml(server, "not-the-token"));
    const run = await kubectl(["get", "svc", "-n", "milvus"], other);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Unauthorized");
    expect(server.requests.at(-1)).toMatchObject({ status: 401, authError: "unknown token" });
  });
});

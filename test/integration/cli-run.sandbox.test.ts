// `milvus-l7 run` against the sandbox: the command's core with its world injected — AWS clients pointed at
// moto, Kubernetes through a kubeconfig file for the sandbox's apiserver (an EKS-shaped token, checked as EKS
// checks it), verify-connection's DNS answered by the ALB simulator — and the local file registry. Only the
// runner's waits and retry backoff are compressed (an injection the CLI never makes). `milvus-l7 check` without a
// state machine runs through the same local execution, so it is tested here, on what the runs recorded.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACMClient } from "@aws-sdk/client-acm";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Route53Client } from "@aws-sdk/client-route-53";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileRegistry } from "../../cli/file-registry";
import type { CliIo } from "../../cli/io";
import { loadKubeconfig } from "../../cli/kubeconfig";
import { localExecutionId, localHolderRunning } from "../../cli/local-steps";
import { checkCommand } from "../../cli/check";
import { INTERNAL_ALB_WARNING, type RunInjections, type RunSummary, runCommand } from "../../cli/run";
import { RegistryError } from "../../functions/lib/errors";
import { eksToken } from "../../functions/lib/kube";
import type { DeploymentRecord } from "../../functions/lib/registry";
import type { CheckSummary } from "../../functions/lib/state";
import { CLUSTER, HOST, REGION, type Sandbox, startSandbox } from "../../sandbox";
import { kubeconfigYaml, kubectl } from "../../sandbox/kube";
import { settled } from "../../sandbox/scenarios/drift";
import { captured } from "../cli-io";

const TARGET_ID = `${REGION}/${CLUSTER}/milvus/milvus-demo`;

let sandbox: Sandbox;
let dir: string;
let requestFile: string;
let kubeconfigFile: string;
let inject: RunInjections;


beforeAll(async () => {
  // The address comes after a couple of polls, so the progress has something to show.
  sandbox = await startSandbox({ publishDelayMs: 2_500 });
  dir = mkdtempSync(join(tmpdir(), "milvus-l7-run-"));
  const secretArn = await sandbox.storeInSecret(await sandbox.newCertificate());
  requestFile = join(dir, "request.json");
  writeFileSync(requestFile, JSON.stringify(sandbox.request(secretArn), null, 2));
  // What `aws eks update-kubeconfig` would give an operator, with a token the stand-in checks like EKS does.
  kubeconfigFile = join(dir, "kubeconfig");
  writeFileSync(kubeconfigFile, kubeconfigYaml(sandbox.kube, await eksToken(CLUSTER, REGION, sandbox.moto.credentials)));
  const config = { region: REGION, endpoint: sandbox.moto.endpoint, credentials: sandbox.moto.credentials };
  inject = {
    aws: {
      acm: new ACMClient(config),
      secretsManager: new SecretsManagerClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      route53: new Route53Client(config),
      elbv2: new ElasticLoadBalancingV2Client({ ...config, endpoint: sandbox.alb.elbv2Endpoint }),
    },
    resolve: async (hostname) => {
      const found = sandbox.alb.resolve(hostname);
      if (found.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return found;
    },
    watchSeconds: 1,
    verifyTimeoutMs: 5_000,
    timing: { waitMs: 10, retryMs: 10 },
  };
});

afterAll(async () => {
  await sandbox?.stop();
});

const files = (name: string) => ["--registry", join(dir, `${name}.registry.json`), "--log-file", join(dir, `${name}.jsonl`)];

describe("milvus-l7 run against the sandbox", () => {
  it("deploys through the kubeconfig, shows progress, and records the target in the file registry", async () => {
    const io = captured();
    const code = await runCommand([requestFile, "--kubeconfig", kubeconfigFile, "--name", "first", ...files("main")], io, inject);
    expect(io.err()).toBe("");
    expect(code).toBe(0);
    const lines = io.out().split("\n");
    expect(lines[0]).toBe(`Running ${requestFile} on this machine as first`);
    expect(lines).toContain(`  Kubernetes: kubeconfig ${kubeconfigFile}, context sandbox (${sandbox.kube.url})`);
    // Steps as they happen, address polls with their budget, the cutover, and the closing line.
    expect(lines.some((l) => /^\s+\S+s {2}▶ ApplyIngress \[target 0\]$/.test(l))).toBe(true);
    expect(lines.some((l) => /✓ GetIngressStatus \[target 0\] — poll 1\/\d+: no address yet/.test(l))).toBe(true);
    expect(lines.some((l) => /… WaitForAddress \[target 0\] \d+ s/.test(l))).toBe(true);
    expect(lines.some((l) => /✓ GetIngressStatus \[target 0\] — poll \d+\/\d+: address k8s-.*\.elb\.amazonaws\.com/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes("✓ CutOver [target 0] — Service LoadBalancer → ClusterIP"))).toBe(true);
    expect(lines).toContain("status:        SUCCEEDED");
    expect(lines.filter((l) => l !== "").at(-1)).toMatch(new RegExp(`^SUCCEEDED https://${HOST.replace(/\./g, "\\.")} → k8s-\\S+\\.elb\\.amazonaws\\.com in `));

    // The cluster really changed, through the kubeconfig's identity.
    expect(sandbox.kube.get<{ spec: { type: string } }>("Service", "milvus", "milvus-demo")?.spec.type).toBe("ClusterIP");
    // The registry file holds the target, recorded by this run, and no lease is left.
    const registry = fileRegistry(join(dir, "main.registry.json"));
    const records = await registry.list();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      targetId: TARGET_ID,
      lastExecution: localExecutionId("first"),
      albHostname: expect.stringContaining(".elb.amazonaws.com"),
      certificateSource: { secretsManager: { secretId: expect.stringContaining("milvus-l7/milvus-demo-tls") } },
    });
    expect(await registry.leases()).toEqual({});
    // The steps' logs went to the log file as JSON lines, not to the terminal.
    const logLines = readFileSync(join(dir, "main.jsonl"), "utf8").trim().split("\n");
    const steps = new Set(logLines.map((l) => (JSON.parse(l) as { step?: string }).step));
    expect(steps).toContain("apply-ingress");
    expect(steps).toContain("record-deployment");
    expect(io.out()).not.toContain('"level"');
  });

  it("--json prints only a JSON summary; a second run finds everything in place", async () => {
    const io = captured();
    const code = await runCommand([requestFile, "--kubeconfig", kubeconfigFile, "--json", "--name", "again", ...files("main")], io, inject);
    expect(code).toBe(0);
    const lines = io.out().trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? "") as RunSummary;
    expect(summary).toMatchObject({
      status: "SUCCEEDED",
      name: "again",
      executionId: localExecutionId("again"),
      region: REGION,
      certificateArn: expect.stringMatching(/^arn:aws:acm:us-east-2:\d{12}:certificate\//),
      certificateImported: false,
      targets: [
        {
          targetId: TARGET_ID,
          host: HOST,
          albHostname: expect.stringContaining(".elb.amazonaws.com"),
          serviceType: "ClusterIP",
          previousServiceType: "ClusterIP",
          milvusVersion: "v2.5.4",
          milvusAuth: "none",
        },
      ],
      registry: join(dir, "main.registry.json"),
      logFile: join(dir, "main.jsonl"),
    });
    expect(summary.transitions).toBeGreaterThan(10);
    expect(summary.polls).toBeGreaterThanOrEqual(1);
    expect(summary.retries).toBe(0);
    expect(summary.wallMs).toBeGreaterThan(0);
    expect(summary.error).toBeUndefined();
    const records = await fileRegistry(join(dir, "main.registry.json")).list();
    expect(records.map((r) => [r.targetId, r.lastExecution])).toEqual([[TARGET_ID, localExecutionId("again")]]);
  });

  it("--quiet prints one line; a refused identity fails the run and leaves no lease behind", async () => {
    const badKubeconfig = join(dir, "kubeconfig-bad");
    writeFileSync(badKubeconfig, kubeconfigYaml(sandbox.kube, "k8s-aws-v1.not-a-presigned-url"));
    const io = captured();
    const code = await runCommand([requestFile, "--kubeconfig", badKubeconfig, "--quiet", ...files("bad")], io, inject);
    expect(code).toBe(1);
    const lines = io.out().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^FAILED after \S+: KubernetesForbidden: Kubernetes API refused \w+ \w+ milvus\/milvus-demo \(401\)/);
    expect(lines[0]).toContain(`(logs: ${join(dir, "bad.jsonl")})`);
    expect(await fileRegistry(join(dir, "bad.registry.json")).leases()).toEqual({});
    expect(await fileRegistry(join(dir, "bad.registry.json")).list()).toEqual([]);
  });

  it("an interrupted run ends ABORTED (exit 130) and releases its lease", async () => {
    const stop = new AbortController();
    const io = captured();
    const watching: CliIo = {
      ...io,
      stdout: (t) => {
        io.stdout(t);
        if (t.includes("✓ ApplyIngress")) stop.abort();
      },
    };
    const code = await runCommand([requestFile, "--kubeconfig", kubeconfigFile, ...files("stopped")], watching, { ...inject, signal: stop.signal });
    expect(code).toBe(130);
    const lines = io.out().trim().split("\n");
    // The step in flight (the first address poll) finished before the lease was freed.
    expect(lines).toContain("Waiting for get-ingress-status (in flight) to finish its call …");
    expect(lines.some((l) => l.includes("✓ GetIngressStatus"))).toBe(false);
    expect(lines.at(-1)).toMatch(/^ABORTED after \S+: interrupted; the run's leases were released/);
    expect(await fileRegistry(join(dir, "stopped.registry.json")).leases()).toEqual({});
  });

  it("refuses an invalid request, a missing kubeconfig or context, and bad usage before touching anything", async () => {
    const invalid = join(dir, "invalid.json");
    writeFileSync(invalid, JSON.stringify({ ...JSON.parse(readFileSync(requestFile, "utf8")), cutover: "sometime" }));
    const mutations = sandbox.kube.mutations.length;

    let io = captured();
    expect(await runCommand([invalid, ...files("refused")], io, inject)).toBe(1);
    expect(io.err()).toContain("invalid request (1 problem); nothing was changed");
    expect(io.err()).toContain("cutover");

    io = captured();
    expect(await runCommand([requestFile, "--kubeconfig", join(dir, "nope"), ...files("refused")], io, inject)).toBe(1);
    expect(io.err()).toContain(`--kubeconfig ${join(dir, "nope")}: no such file`);

    io = captured();
    expect(await runCommand([requestFile, "--kubeconfig", kubeconfigFile, "--context", "prod", ...files("refused")], io, inject)).toBe(1);
    expect(io.err()).toContain("--context prod: not in");

    io = captured();
    expect(await runCommand([requestFile, "--frobnicate"], io, inject)).toBe(2);
    expect(io.err()).toContain("usage: milvus-l7 run");
    io = captured();
    expect(await runCommand([], io, inject)).toBe(2);
    expect(await runCommand([requestFile, "--quiet", "--json"], captured(), inject)).toBe(2);

    expect(sandbox.kube.mutations.length).toBe(mutations);
  });

  it("without AWS credentials says so, and how to provide them, before any step starts or any file is written", async () => {
    const mutations = sandbox.kube.mutations.length;
    const io = captured();
    const noCredentials = async () => {
      throw Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" });
    };
    const code = await runCommand([requestFile, "--kubeconfig", kubeconfigFile, ...files("no-credentials")], io, { ...inject, credentials: noCredentials });
    expect(code).toBe(1);
    expect(io.out()).toBe("");
    expect(io.err()).toContain("milvus-l7 run: no AWS credentials were found (Could not load credentials from any providers).");
    for (const way of ["aws configure", "AWS_PROFILE=", "aws sso login", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="]) expect(io.err()).toContain(way);
    expect(io.err()).not.toContain("execution role");
    expect(existsSync(join(dir, "no-credentials.registry.json"))).toBe(false);
    expect(existsSync(join(dir, "no-credentials.jsonl"))).toBe(false);
    expect(sandbox.kube.mutations.length).toBe(mutations);
  });

  it("an internal ALB: warns that this machine must reach the VPC, then runs (not a refusal)", async () => {
    // Another Milvus release and Ingress: a new internal ALB rather than a scheme change of the demo's.
    sandbox.addMilvusService("milvus-internal");
    const internal = join(dir, "internal.json");
    const request = JSON.parse(readFileSync(requestFile, "utf8")) as { milvus: Record<string, unknown>; ingress: Record<string, unknown> };
    writeFileSync(
      internal,
      JSON.stringify({
        ...request,
        milvus: { ...request.milvus, service: "milvus-internal" },
        ingress: { ...request.ingress, name: "milvus-internal", scheme: "internal" },
      }),
    );
    const io = captured();
    const code = await runCommand([internal, "--kubeconfig", kubeconfigFile, "--json", "--name", "internal", ...files("internal")], io, inject);
    expect(io.err()).toBe(`milvus-l7 run: warning: ${INTERNAL_ALB_WARNING}\n`);
    expect(io.err()).toContain("ingress.scheme is internal");
    expect(code, io.out()).toBe(0);
    const summary = JSON.parse(io.out().trim()) as RunSummary;
    expect(summary.targets[0]?.albHostname).toMatch(/^internal-k8s-/);
  });
});

describe("milvus-l7 check on this machine (no state machine named)", () => {
  // No MILVUS_L7_STATE_MACHINE_ARN from the environment: that would choose the deployed check.
  const local = () => ({ ...inject, env: {} });

  it("after the runs, finds no drift in the target they recorded, and records the check", async () => {
    // The ALB controller's own writes after the runs are not drift; let them end first.
    await settled(sandbox);
    const mutations = sandbox.kube.mutations.length;
    const io = captured();
    const code = await checkCommand(["--kubeconfig", kubeconfigFile, "--json", "--name", "clean-check", ...files("main")], io, local());
    expect(code, `${io.err()}${io.out()}`).toBe(0);
    const lines = io.out().trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? "") as RunSummary & { targets: CheckSummary[] };
    expect(summary).toMatchObject({
      status: "SUCCEEDED",
      name: "clean-check",
      executionId: localExecutionId("clean-check"),
      region: REGION,
      targets: [{ targetId: TARGET_ID, drift: [], repaired: false, serviceType: "ClusterIP" }],
      registry: join(dir, "main.registry.json"),
    });
    expect(sandbox.kube.mutations.length).toBe(mutations);
    const registry = fileRegistry(join(dir, "main.registry.json"));
    expect(await registry.leases()).toEqual({});
    expect((await registry.list())[0]).toMatchObject({ targetId: TARGET_ID, drift: [], lastChecked: expect.any(String) });
  });

  it("reports a Service put back to LoadBalancer as DriftFound (exit 1); --repair restores ClusterIP (exit 0)", async () => {
    // What a `helm upgrade` without service.type=ClusterIP does (as in the drift scenario).
    const patch = ["patch", "service", "milvus-demo", "-n", "milvus", "--type", "merge", "--field-manager", "helm", "-p", '{"spec":{"type":"LoadBalancer"}}'];
    const patched = await kubectl(sandbox.kube, sandbox.kubeAdminToken, patch);
    expect(patched.code, patched.stderr).toBe(0);
    await settled(sandbox);

    let io = captured();
    let code = await checkCommand(["--target", TARGET_ID, "--kubeconfig", kubeconfigFile, "--name", "drifted", ...files("main")], io, local());
    expect(code, io.err()).toBe(1);
    const lines = io.out().split("\n");
    expect(lines[0]).toBe("Checking for drift on this machine as drifted");
    expect(lines).toContain(`  Kubernetes: kubeconfig ${kubeconfigFile}, context sandbox (${sandbox.kube.url})`);
    expect(lines.some((l) => /▶ InspectTarget/.test(l))).toBe(true);
    const last = lines.filter((l) => l !== "").at(-1) ?? "";
    expect(last).toMatch(/^FAILED after \S+: DriftFound: /);
    expect(last).toContain(TARGET_ID);
    expect(last).toContain("LoadBalancer");
    // Reported, not repaired: nothing was written back.
    expect(sandbox.kube.get<{ spec: { type: string } }>("Service", "milvus", "milvus-demo")?.spec.type).toBe("LoadBalancer");

    io = captured();
    code = await checkCommand(["--target", TARGET_ID, "--repair", "--kubeconfig", kubeconfigFile, "--quiet", "--name", "repaired", ...files("main")], io, local());
    expect(code, `${io.err()}${io.out()}`).toBe(0);
    expect(io.out().trim().split("\n")).toEqual([expect.stringMatching(/^SUCCEEDED drift check of 1 target: 1 repaired in /)]);
    expect(sandbox.kube.get<{ spec: { type: string } }>("Service", "milvus", "milvus-demo")?.spec.type).toBe("ClusterIP");
    expect(await fileRegistry(join(dir, "main.registry.json")).leases()).toEqual({});
  });
});

describe("kubeconfig checks", () => {
  const eksKubeconfig = (clusterName: string, server: string) =>
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{ name: "${clusterName}", cluster: { server: "${server}" } }]`,
      `users: [{ name: u, user: { token: t } }]`,
      `contexts: [{ name: c, context: { cluster: "${clusterName}", user: u } }]`,
      "current-context: c",
    ].join("\n");

  it("refuses a context that belongs to another EKS cluster than the request's", () => {
    const path = join(dir, "eks-kubeconfig");
    writeFileSync(path, eksKubeconfig("arn:aws:eks:us-east-2:123456789012:cluster/other", "https://ABC.gr7.us-east-2.eks.amazonaws.com"));
    expect(() => loadKubeconfig(path, undefined, { name: CLUSTER, region: REGION })).toThrow(
      /points at EKS cluster other in us-east-2, but the request names milvus-eks in us-east-2/,
    );
    writeFileSync(path, eksKubeconfig("milvus", "https://ABC.gr7.eu-west-1.eks.amazonaws.com"));
    expect(() => loadKubeconfig(path, undefined, { name: CLUSTER, region: REGION })).toThrow(/EKS endpoint in eu-west-1/);
    writeFileSync(path, eksKubeconfig(`arn:aws:eks:us-east-2:123456789012:cluster/${CLUSTER}`, "https://ABC.gr7.us-east-2.eks.amazonaws.com"));
    expect(loadKubeconfig(path, undefined, { name: CLUSTER, region: REGION }).getCurrentContext()).toBe("c");
  });
});

describe("the file registry (same semantics as the DynamoDB registry)", () => {
  const record = (targetId: string, lastExecution: string, certificateArn = "arn:cert:1"): DeploymentRecord => ({
    targetId,
    target: {
      cluster: { name: CLUSTER, region: REGION },
      namespace: "milvus",
      service: { name: "milvus-demo", port: 19530 },
      ingress: { name: "milvus-demo", host: HOST, scheme: "internet-facing", annotations: {} },
    },
    certificateArn,
    certificateSource: { s3: { bucket: "certs", certificateKey: "live/cert.pem", chainKey: "live/chain.pem", privateKeyKey: "live/privkey.pem" } },
    albHostname: "k8s-x.us-east-2.elb.amazonaws.com",
    servedFingerprint256: "AA",
    servedNotAfter: "2030-01-01T00:00:00.000Z",
    lastVerified: "2026-01-01T00:00:00.000Z",
    lastExecution,
  });

  it("claims, refuses, takes over an expired or replaced lease, and releases only its own", async () => {
    const registry = fileRegistry(join(dir, "semantics", "registry.json"));
    const t0 = new Date("2026-01-01T00:00:00Z");
    expect(await registry.claim("t", "a", 60, t0)).toEqual({ claimed: true });
    expect(await registry.claim("t", "a", 60, t0)).toEqual({ claimed: true });
    expect(await registry.claim("t", "b", 60, t0)).toEqual({ claimed: false, holder: { owner: "a", expiresAt: t0.getTime() / 1000 + 60 } });
    expect(await registry.claim("t", "b", 60, t0, "a")).toEqual({ claimed: true });
    await registry.release("t", "a"); // not a's any more: nothing happens
    expect((await registry.leases()).t?.owner).toBe("b");
    expect(await registry.claim("t", "c", 60, new Date(t0.getTime() + 61_000))).toEqual({ claimed: true });
    await registry.release("t", "c");
    expect(await registry.leases()).toEqual({});
  });

  it("records with the release of the run's own lease, never over another run's", async () => {
    const registry = fileRegistry(join(dir, "semantics", "records.json"));
    const now = new Date();
    await registry.claim("t1", "run-1", 60, now);
    await registry.record(record("t1", "run-1"));
    expect(await registry.leases()).toEqual({});
    await registry.claim("t2", "run-2", 60, now);
    await expect(registry.record(record("t2", "run-3"))).rejects.toThrow(RegistryError);
    await expect(registry.record(record("t2", "run-3"))).rejects.toThrow(/lease now belongs to another execution/);
    await registry.record(record("t3", "run-4", "arn:cert:2"));
    expect((await registry.list()).map((r) => r.targetId).sort()).toEqual(["t1", "t3"]);
    expect((await registry.forCertificate("arn:cert:2")).map((r) => r.targetId)).toEqual(["t3"]);
    expect((await registry.forSourceObject("certs", "live/privkey.pem")).map((r) => r.targetId).sort()).toEqual(["t1", "t3"]);
    expect(await registry.forSourceObject("certs", "other.pem")).toEqual([]);
    expect(await registry.forSourceObject("elsewhere", "live/cert.pem")).toEqual([]);
    expect(await registry.releaseAll("run-2")).toEqual(["t2"]);
  });

  it("serialises concurrent claims: exactly one of many wins", async () => {
    const path = join(dir, "semantics", "race.json");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fileRegistry(path).claim("t", `owner-${i}`, 60, new Date())),
    );
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
  });

  it("a local holder counts as running unless it is a dead process on this machine", async () => {
    expect(await localHolderRunning(localExecutionId("me"))).toBe(true);
    expect(await localHolderRunning("arn:aws:states:us-east-2:123456789012:execution:milvus-l7:x")).toBe(true);
    expect(await localHolderRunning(localExecutionId("gone", 2 ** 22 + 12345))).toBe(false);
    expect(await localHolderRunning(localExecutionId("elsewhere", 2 ** 22 + 12345, "another-host"))).toBe(true);
  });
});

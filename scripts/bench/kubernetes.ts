// Kubernetes operations: our client, from a production bundle of the three Kubernetes steps, against a `kubectl`
// process per operation (CDK's provider), both on the apiserver stand-in; then the bundled steps' smoke run.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_WATCH_SECONDS } from "../../functions/lib/polling";
import type { Target } from "../../functions/lib/state";
import { REPO_ROOT, bundleSource } from "../../infra/bundle";
import { median, ratio, round } from "./math";
import { quietly, run, say, timed } from "./measure";

const CONSOLE_START = join(REPO_ROOT, "events", "console-start.json");

export interface KubernetesOp {
  op: string;
  oursMs: number;
  kubectlMs: number;
  ratio: number;
}

/** What the Kubernetes bundle below exports. */
interface KubeBundle {
  makeApplyIngress: typeof import("../../functions/apply-ingress/handler").makeHandler;
  makeGetIngressStatus: typeof import("../../functions/get-ingress-status/handler").makeHandler;
  makePatchService: typeof import("../../functions/patch-service/handler").makeHandler;
  eksClient: typeof import("../../functions/lib/kube").eksClient;
  servicePath: typeof import("../../functions/lib/kube-client").servicePath;
  ingressPath: typeof import("../../functions/lib/kube-client").ingressPath;
  cutoverPatch: typeof import("../../functions/patch-service/core").cutoverPatch;
  ingressManifest: typeof import("../../functions/lib/ingress").ingressManifest;
  FIELD_MANAGER: string;
}

// The three Kubernetes steps and the client in one module, bundled with BUNDLE_OPTIONS: the operations below run
// the deployed code, and the handlers' smoke run proves the bundled steps work against the apiserver stand-in.
const KUBE_BUNDLE_SOURCE = `
export { makeHandler as makeApplyIngress } from "./functions/apply-ingress/handler";
export { makeHandler as makeGetIngressStatus } from "./functions/get-ingress-status/handler";
export { makeHandler as makePatchService } from "./functions/patch-service/handler";
export { eksClient } from "./functions/lib/kube";
export { servicePath, ingressPath } from "./functions/lib/kube-client";
export { cutoverPatch } from "./functions/patch-service/core";
export { ingressManifest, FIELD_MANAGER } from "./functions/lib/ingress";
`;

export interface KubernetesFigures {
  oursMs: number;
  kubectlMs: number;
  ratio: number;
  n: number;
  operations: KubernetesOp[];
  /** The bundled handlers against the apiserver stand-in. */
  smoke: Record<string, unknown>;
}

export async function benchKubernetes(work: string, n: number): Promise<KubernetesFigures> {
  say(`== kubernetes: ${n} calls per operation, ours (bundled client, warm keep-alive connection) vs kubectl per call`);
  const kubectl = process.env.KUBECTL ?? "kubectl";
  const bundle = await bundleSource(KUBE_BUNDLE_SOURCE, join(work, "kube-bundle"));
  const kb = (await import(pathToFileURL(bundle.file).href)) as KubeBundle;
  const { startKubeApiServer, seedMilvusRelease, kubeconfigYaml, loadMilvusDemoService } = await import("../../sandbox/kube");
  const { resolveRequest } = await import("../../functions/resolve-request/core");
  const { lambdaContext } = await import("../../sandbox/workflow");

  const server = await startKubeApiServer();
  try {
    seedMilvusRelease(server);
    // What the AWS Load Balancer Controller's chart installs: ApplyIngress checks the class before it writes.
    server.put({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "alb" }, spec: { controller: "ingress.k8s.aws/alb" } });
    const namespace = "milvus";
    const serviceName = "milvus-bench";
    const resetService = () => {
      const service = loadMilvusDemoService();
      service.metadata.name = serviceName;
      server.put(service);
    };
    resetService();
    // The target exactly as resolve-request plans it from the documented console input.
    const request = JSON.parse(await readFile(CONSOLE_START, "utf8"));
    const planned = resolveRequest(request, { defaultRegion: "us-east-2", watchSeconds: DEFAULT_WATCH_SECONDS }).targets[0];
    if (!planned) throw new Error("resolve-request planned no target from events/console-start.json");
    const target: Target = {
      ...planned,
      service: { ...planned.service, name: serviceName },
      ingress: { ...planned.ingress, name: "milvus-bench", host: "milvus-bench.milvus.io" },
    };
    const certificateArn = "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64";
    const manifest = kb.ingressManifest(target, certificateArn);
    const patch = kb.cutoverPatch(undefined);

    const token = "bench-token";
    // One client with its keep-alive agent for the whole run, as a warm Lambda keeps it.
    const kube = kb.eksClient({ endpoint: `${server.url}/`, caData: Buffer.from(server.caPem).toString("base64") }, token);

    const kubeconfig = join(work, "kubeconfig");
    const manifestFile = join(work, "ingress.json");
    await writeFile(kubeconfig, kubeconfigYaml(server, token));
    await writeFile(manifestFile, JSON.stringify(manifest));
    const env = { ...process.env, KUBECONFIG: "" };
    const k = (args: string[]) =>
      run(kubectl, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(work, "kube-cache")}`, "--request-timeout=20s", ...args], env);

    const servicePath = kb.servicePath(namespace, serviceName);
    const ingressPath = kb.ingressPath(namespace, target.ingress.name);
    const ops: { op: string; ours: () => Promise<unknown>; kubectl: () => Promise<unknown>; reset?: () => void }[] = [
      {
        op: "patch Service (merge patch to ClusterIP)",
        reset: resetService,
        ours: async () => {
          const patched = await kube.mergePatch<{ spec?: { type?: string } }>("patch Service", servicePath, patch, kb.FIELD_MANAGER);
          if (patched.spec?.type !== "ClusterIP") throw new Error(`patch left the Service as ${patched.spec?.type}`);
        },
        kubectl: () =>
          k(["patch", "service", serviceName, "-n", namespace, "--type=merge", "-p", JSON.stringify(patch), `--field-manager=${kb.FIELD_MANAGER}`, "-o", "name"]),
      },
      {
        op: "apply Ingress (server-side apply)",
        ours: () => kube.apply("apply Ingress", ingressPath, manifest, { fieldManager: kb.FIELD_MANAGER, force: true }),
        kubectl: () => k(["apply", "--server-side", "--validate=false", "--force-conflicts", `--field-manager=${kb.FIELD_MANAGER}`, "-f", manifestFile, "-o", "name"]),
      },
      {
        op: "read Ingress status (GET)",
        ours: () => kube.get("read Ingress", ingressPath),
        kubectl: () => k(["get", "ingress", target.ingress.name, "-n", namespace, "-o", "json"]),
      },
    ];

    const operations: KubernetesOp[] = [];
    for (const op of ops) {
      const ours: number[] = [];
      const viaKubectl: number[] = [];
      // One untimed warm-up each: the warm container's connection / kubectl's discovery cache.
      for (let i = 0; i <= n; i++) {
        op.reset?.();
        const [a] = await timed(op.ours);
        op.reset?.();
        const [b] = await timed(op.kubectl);
        if (i > 0) {
          ours.push(a);
          viaKubectl.push(b);
        }
      }
      const oursMs = median(ours);
      const kubectlMs = median(viaKubectl);
      operations.push({ op: op.op, oursMs: round(oursMs, 2), kubectlMs: round(kubectlMs, 1), ratio: ratio(kubectlMs, oursMs) });
    }
    const oursMs = operations.reduce((s, o) => s + o.oursMs, 0);
    const kubectlMs = operations.reduce((s, o) => s + o.kubectlMs, 0);

    // Smoke: the three bundled handlers, as the workflow calls them.
    const logs: string[] = [];
    const connect = async () => kube;
    const smokeTarget: Target = { ...target, ingress: { ...target.ingress, name: "milvus-bench-step", host: "milvus-bench-step.milvus.io" } };
    resetService();
    const smoke = await quietly(logs, async () => {
      const applied = await kb.makeApplyIngress({ connect })({ target: smokeTarget, certificate: { arn: certificateArn } }, lambdaContext("apply-ingress"));
      // The controller publishes an address 100 ms into the poll: the bundled watch must return with it.
      const publish = setTimeout(() => {
        const ingress = server.get<Record<string, unknown>>("Ingress", namespace, smokeTarget.ingress.name);
        if (ingress) server.put({ ...ingress, status: { loadBalancer: { ingress: [{ hostname: "bench-alb.us-east-2.elb.amazonaws.com" }] } } });
      }, 100);
      const [pollMs, status] = await timed(() =>
        kb.makeGetIngressStatus({ connect, watchSeconds: 5 })({ target: smokeTarget, ingress: applied, maxPolls: 3 }, lambdaContext("get-ingress-status")),
      );
      clearTimeout(publish);
      const patched = await kb.makePatchService({ connect })({ target: smokeTarget }, lambdaContext("patch-service"));
      if (!status.ready || status.hostname === undefined) throw new Error(`bundled get-ingress-status saw no address: ${JSON.stringify(status)}`);
      if (!patched.changed || patched.type !== "ClusterIP") throw new Error(`bundled patch-service did not cut over: ${JSON.stringify(patched)}`);
      return {
        applyIngress: { changed: applied.changed },
        getIngressStatus: { ready: status.ready, hostname: status.hostname, watchReturnedMs: round(pollMs) },
        patchService: { previousType: patched.previousType, type: patched.type },
      };
    });
    kube.connection.agent.destroy();
    return { oursMs: round(oursMs, 2), kubectlMs: round(kubectlMs, 1), ratio: ratio(kubectlMs, oursMs), n, operations, smoke };
  } finally {
    await server.close();
  }
}

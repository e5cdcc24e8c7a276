// `milvus-l7 run --kubeconfig`: the operator's kubeconfig as the run's way to the cluster, checked against the
// request's cluster before anything is changed, then used through the Lambdas' own Kubernetes client.
import type { Agent, RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import type { ClusterConnector } from "../functions/lib/kube";
import { KubeClient, keepAliveAgent } from "../functions/lib/kube-client";

const EKS_CLUSTER_ARN = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):\d{12}:cluster\/(.+)$/;
const EKS_ENDPOINT_REGION = /\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.eks\.amazonaws\.com(?::\d+)?\/?$/;

/**
 * Loads the kubeconfig and picks the context; throws an Error whose message says what is wrong. A context that
 * visibly belongs to another EKS cluster than the request's (its cluster is named by an EKS ARN, as
 * `aws eks update-kubeconfig` writes it, or its server is in another region) is refused: the run would change
 * the wrong cluster. `cluster` is the request's, or the checked targets' one cluster.
 */
export function loadKubeconfig(path: string, context: string | undefined, cluster?: { name: string; region: string }): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`--kubeconfig ${path}: ${code === "ENOENT" ? "no such file" : code ?? (e as Error).message}`);
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new Error(`--context ${context}: not in ${path} (it has ${known.length ? known.join(", ") : "no contexts"})`);
    }
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  const server = kc.getCurrentCluster();
  if (!current || !server) throw new Error(`${path} has no current context; name one with --context`);
  // No cluster to hold it to: a check of an empty registry, or of a target it does not hold (the run says so).
  if (!cluster) return kc;
  const arn = EKS_CLUSTER_ARN.exec(server.name);
  if (arn && (arn[1] !== cluster.region || arn[2] !== cluster.name)) {
    throw new Error(
      `kubeconfig context ${current} points at EKS cluster ${arn[2]} in ${arn[1]}, but the request names ${cluster.name} in ${cluster.region}; pick the right --context`,
    );
  }
  const endpointRegion = EKS_ENDPOINT_REGION.exec(server.server)?.[1];
  if (endpointRegion && endpointRegion !== cluster.region) {
    throw new Error(
      `kubeconfig context ${current} points at an EKS endpoint in ${endpointRegion}, but the request's cluster is in ${cluster.region}; pick the right --context`,
    );
  }
  return kc;
}

/**
 * A connector over a loaded kubeconfig: every step talks to the cluster it names, with its credentials, through the
 * Lambdas' client. client-node's public applyToHTTPSOptions resolves the user as kubectl would (token, token file,
 * client certificate, exec plugin such as `aws eks get-token`, auth provider) into TLS options and headers; it runs
 * per step, so an exec plugin's token is renewed as it expires, while the TLS material makes one keep-alive agent
 * for the run. A cluster behind a kubeconfig `proxy-url` keeps the proxy agent client-node builds for it. TLS is
 * always verified, even where a kubeconfig asks to skip it.
 */
export function kubeconfigConnector(kc: KubeConfig): ClusterConnector {
  let agent: Agent | undefined;
  return async () => {
    const options: RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const { ca, cert, key, pfx, passphrase, servername } = options;
    agent ??= cluster.proxyUrl ? (options.agent as Agent) : keepAliveAgent({ ca, cert, key, pfx, passphrase, servername });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = String(value);
    if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString("base64")}`;
    return new KubeClient({ server: cluster.server.replace(/\/+$/, ""), agent, headers });
  };
}

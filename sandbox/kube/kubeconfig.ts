import YAML from "yaml";
import type { KubeApiServer } from "./types";

/** A kubeconfig for `kubectl --kubeconfig` (and KubeConfig.loadFromString) pointing at the stand-in. */
export function kubeconfigYaml(server: KubeApiServer, token: string, namespace = "milvus"): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "sandbox",
        cluster: { server: server.url, "certificate-authority-data": Buffer.from(server.caPem).toString("base64") },
      },
    ],
    users: [{ name: "sandbox", user: { token } }],
    contexts: [{ name: "sandbox", context: { cluster: "sandbox", user: "sandbox", namespace } }],
    "current-context": "sandbox",
  });
}

// What the Kubernetes API stand-in's tests share: a client configuration for a stand-in, the patch content
// types, a way to read a rejection's Status, and the Ingress milvus-l7 applies.
import { ApiException, KubeConfig, PatchStrategy, setHeaderOptions, type V1Ingress } from "@kubernetes/client-node";
import type { KubeApiServer } from "../sandbox/kube";

export const NOW = new Date("2026-11-26T10:00:00Z");
export const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
export const strategicPatch = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
export const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
export const serverSideApply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

export function kubeConfig(server: KubeApiServer, token = "sandbox-token"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "sandbox", server: server.url, caData: Buffer.from(server.caPem).toString("base64") }],
    users: [{ name: "sandbox", token }],
    contexts: [{ name: "sandbox", cluster: "sandbox", user: "sandbox" }],
    currentContext: "sandbox",
  });
  return kc;
}

export interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; kind?: string; causes?: { reason: string; message: string; field: string }[] };
}

/** The rejection's HTTP code and Status body (client-node hands the body over as text). */
export async function rejection(promise: Promise<unknown>): Promise<{ code: number; status: Status; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = typeof err.body === "string" && err.body ? (JSON.parse(err.body) as Status) : (err.body as Status);
    return { code: err.code, status: body, headers: err.headers };
  }
  throw new Error("expected the request to be rejected");
}

export function ingress(name: string, annotations: Record<string, string> = {}): V1Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name,
      namespace: "milvus",
      annotations: { "alb.ingress.kubernetes.io/scheme": "internet-facing", ...annotations },
    },
    spec: {
      ingressClassName: "alb",
      rules: [
        {
          host: "milvus.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "milvus-demo", port: { number: 19530 } } },
              },
            ],
          },
        },
      ],
    },
  };
}

// Kubernetes plumbing shared by the reconciler and its informers: the client configuration, object keys, and a
// comparison that ignores key order.
import { KubeConfig } from "@kubernetes/client-node";
import type { AlbControllerOptions } from "./api";

/** A client configuration for the controller's service account, as the real controller gets in its pod. */
export function kubeConfig(kube: AlbControllerOptions["kube"]): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "sandbox",
        // A trailing "/" would make every request path start with "//".
        server: kube.url.replace(/\/+$/, ""),
        caData: Buffer.from(kube.caPem).toString("base64"),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: "aws-load-balancer-controller", token: kube.token }],
    contexts: [{ name: "sandbox", cluster: "sandbox", user: "aws-load-balancer-controller" }],
    currentContext: "sandbox",
  });
  return kc;
}

/** `namespace/name`, the work-queue key of an object. */
export function objectKey(ns: string, name: string): string {
  return `${ns}/${name}`;
}

/** JSON with sorted keys, so typed (list) and raw (watch) copies of an object compare equal. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === "object" && !Array.isArray(val) && !(val instanceof Date)) {
      const rec = val as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(rec)
          .sort()
          .filter((k) => rec[k] !== undefined)
          .map((k) => [k, rec[k]]),
      );
    }
    return val;
  });
}

// Kubernetes access from a Lambda: EKS DescribeCluster (endpoint + CA) and an EKS bearer token made from a
// presigned STS GetCallerIdentity URL, both cached per cluster in the warm container. Also the translation of
// Kubernetes API failures into our named errors (DESIGN §4).
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { Sha256 } from "@aws-crypto/sha256-js";
import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { translateAwsError } from "./aws-errors";
import {
  KubernetesConflict,
  KubernetesForbidden,
  KubernetesNotFound,
  KubernetesRejected,
  KubernetesUnavailable,
} from "./errors";

export interface ClusterRef {
  name: string;
  region: string;
}

export interface ClusterEndpoint {
  /** https URL of the API server. */
  endpoint: string;
  /** Base64 of the cluster CA bundle (PEM), as EKS returns `certificateAuthority.data`. */
  caData: string;
}

/** Returns a KubeConfig for a cluster; the handlers build their API clients from it. */
export type ClusterConnector = (cluster: ClusterRef) => Promise<KubeConfig>;

// aws-iam-authenticator (pkg/token/token.go): the presigned URL is valid for 15 minutes from X-Amz-Date and
// the server checks the `x-k8s-aws-id` header is signed. Refresh well before, so a slow step never sends a
// token that expires mid-request.
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** `k8s-aws-v1.` + base64url(presigned STS GetCallerIdentity URL with `x-k8s-aws-id: <cluster>` signed). */
export async function eksToken(
  clusterName: string,
  region: string,
  credentials: AwsCredentialIdentity,
  signingDate = new Date(),
): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ service: "sts", region, credentials, sha256: Sha256 });
  const request = new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname,
    path: "/",
    query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
    headers: { host: hostname, "x-k8s-aws-id": clusterName },
  });
  const signed = await signer.presign(request, { expiresIn: 60, signingDate });
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  const url = `https://${hostname}/?${query}`;
  return `k8s-aws-v1.${Buffer.from(url).toString("base64url")}`;
}

export function kubeConfigFor(cluster: ClusterRef, endpoint: ClusterEndpoint, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: endpoint.endpoint.replace(/\/+$/, ""), caData: endpoint.caData }],
    users: [{ name: "milvus-l7", token }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: "milvus-l7" }],
    currentContext: cluster.name,
  });
  return kc;
}

export interface EksConnectorDeps {
  describeCluster: (cluster: ClusterRef) => Promise<ClusterEndpoint>;
  credentials: (region: string) => Promise<AwsCredentialIdentity>;
  now?: () => number;
}

/** A connector that caches each cluster's endpoint and token until shortly before the token expires. */
export function eksConnector(deps: EksConnectorDeps): ClusterConnector {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { config: KubeConfig; refreshAt: number }>();
  return async (cluster) => {
    const key = `${cluster.region}/${cluster.name}`;
    const hit = cache.get(key);
    if (hit && now() < hit.refreshAt) return hit.config;
    const issuedAt = now();
    const [endpoint, credentials] = await Promise.all([deps.describeCluster(cluster), deps.credentials(cluster.region)]);
    const token = await eksToken(cluster.name, cluster.region, credentials, new Date(issuedAt));
    const config = kubeConfigFor(cluster, endpoint, token);
    cache.set(key, { config, refreshAt: issuedAt + TOKEN_LIFETIME_MS - TOKEN_REFRESH_MARGIN_MS });
    return config;
  };
}

/** The production connector: one EKS client per region, its credential chain signs the token. */
export function defaultClusterConnector(): ClusterConnector {
  const clients = new Map<string, EKSClient>();
  const eks = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = new EKSClient({ region });
      clients.set(region, client);
    }
    return client;
  };
  return eksConnector({
    async describeCluster(cluster) {
      try {
        const { cluster: found } = await eks(cluster.region).send(new DescribeClusterCommand({ name: cluster.name }));
        const endpoint = found?.endpoint;
        const caData = found?.certificateAuthority?.data;
        if (!endpoint || !caData) {
          throw new KubernetesNotFound(
            `EKS cluster ${cluster.name} in ${cluster.region} has no API endpoint yet (status ${found?.status}); wait until it is ACTIVE and re-run.`,
          );
        }
        return { endpoint, caData };
      } catch (e) {
        if (e instanceof KubernetesNotFound) throw e;
        throw translateAwsError(
          e,
          `eks:DescribeCluster on cluster ${cluster.name} in ${cluster.region}`,
          (message) => new KubernetesNotFound(message),
        );
      }
    },
    credentials: async (region) => eks(region).config.credentials(),
  });
}

// Shown as the Cause once the ASL's retries are used up, so it says what to check rather than "retrying".
const TRANSIENT_ADVICE =
  "This is usually transient and the workflow retries it; if it persists, check the cluster API server's health and the Lambdas' network path to it (VPC, security group, endpoint access).";

const NETWORK_ERROR_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "UND_ERR_SOCKET"]);

/** A Kubernetes `Status` message from an ApiException body, whatever form the client left it in. */
function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 500);
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : "";
}

/**
 * Kubernetes failures → our errors. `what` names the operation and object, e.g. `patch Service milvus/milvus-demo`.
 * 429/5xx/network → retryable; 401/403/404/409/400/422 → terminal with the fix in the message.
 */
export function translateKubeError(e: unknown, what: string): Error {
  if (e instanceof KubernetesUnavailable || e instanceof KubernetesNotFound || e instanceof KubernetesForbidden) return e;
  // ApiException from the typed clients; the Watch reports HTTP failures as an Error with `statusCode`.
  const httpStatus = e instanceof ApiException ? e.code : (e as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof httpStatus === "number") {
    const code = httpStatus;
    const detail = e instanceof ApiException ? statusMessage(e.body) : (e as Error).message;
    const suffix = detail ? `: ${detail.replace(/\.$/, "")}` : "";
    if (code === 429 || code >= 500) {
      return new KubernetesUnavailable(`Kubernetes API answered ${code} to ${what}${suffix}. ${TRANSIENT_ADVICE}`);
    }
    if (code === 401 || code === 403) {
      return new KubernetesForbidden(
        `Kubernetes API refused ${what} (${code})${suffix}. Grant the milvus-l7 Lambda role an EKS access entry with AmazonEKSEditPolicy scoped to the Milvus namespace (see README "Granting cluster access").`,
      );
    }
    if (code === 404) {
      return new KubernetesNotFound(`Not found: ${what}${suffix}. Check cluster, milvus.namespace and milvus.service in the request.`);
    }
    // The optimistic-lock conflict (registry/generic/registry/store.go OptimisticLockErrorMsg): the object changed
    // between our read and our write. The step re-reads it on the next attempt, so this one is worth a retry; a
    // server-side-apply conflict with another field manager ("Apply failed with …") is not.
    if (code === 409 && detail.includes("the object has been modified")) {
      return new KubernetesUnavailable(
        `Kubernetes API answered 409 to ${what}: the object changed between read and write${suffix}. The step re-reads it and retries; if this persists, another controller keeps rewriting the object.`,
      );
    }
    if (code === 409) {
      return new KubernetesConflict(
        `Conflict on ${what}${suffix}. Another tool manages these fields or the object changed meanwhile; resolve the ownership (or remove the other manager's fields) and re-run.`,
      );
    }
    return new KubernetesRejected(`Kubernetes API rejected ${what} (${code})${suffix}.`);
  }
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  if ((code && NETWORK_ERROR_CODES.has(code)) || err?.name === "AbortError" || err?.name === "TimeoutError" || err?.name === "FetchError") {
    return new KubernetesUnavailable(`Kubernetes API unreachable during ${what} (${code ?? err.name}). ${TRANSIENT_ADVICE}`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Runs one Kubernetes call with a deadline, translating failures. A hung apiserver must not eat the Lambda's timeout. */
export async function kubeCall<T>(what: string, call: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KubernetesUnavailable(`Kubernetes API did not answer ${what} within ${timeoutMs} ms. ${TRANSIENT_ADVICE}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([call(), deadline]);
  } catch (e) {
    throw translateKubeError(e, what);
  } finally {
    clearTimeout(timer);
  }
}

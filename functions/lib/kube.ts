// Kubernetes access from a Lambda: EKS DescribeCluster (endpoint + CA) and an EKS bearer token made from a
// presigned STS GetCallerIdentity URL, both cached per cluster in the warm container, over one keep-alive
// connection per cluster (the client is ./kube-client).
import type { Agent } from "node:https";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { translateAwsError } from "./aws-errors";
import { KubernetesNotFound } from "./errors";
import { KubeClient, keepAliveAgent } from "./kube-client";
import { stsHostname } from "./partitions";

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

/** Returns a client for a cluster: the EKS path in Lambda, or the operator's kubeconfig in the CLI (cli/kubeconfig.ts). */
export type ClusterConnector = (cluster: ClusterRef) => Promise<KubeClient>;

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
  // The partition's own STS host: aws-iam-authenticator refuses a host of another partition (China, GovCloud).
  const hostname = stsHostname(region);
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

/** A client for an EKS cluster with this token; pass the cluster's agent to reuse its connection. */
export function eksClient(endpoint: ClusterEndpoint, token: string, agent: Agent = eksAgent(endpoint)): KubeClient {
  return new KubeClient({ server: endpoint.endpoint.replace(/\/+$/, ""), agent, headers: { Authorization: `Bearer ${token}` } });
}

const eksAgent = (endpoint: ClusterEndpoint) => keepAliveAgent({ ca: Buffer.from(endpoint.caData, "base64") });

export interface EksConnectorDeps {
  describeCluster: (cluster: ClusterRef) => Promise<ClusterEndpoint>;
  credentials: (region: string) => Promise<AwsCredentialIdentity>;
  now?: () => number;
}

/**
 * A connector that caches each cluster's endpoint and token until shortly before the token expires, and keeps one
 * agent per endpoint and CA for the life of the container: a refreshed token is a new header on the same
 * connection.
 */
export function eksConnector(deps: EksConnectorDeps): ClusterConnector {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { client: KubeClient; refreshAt: number }>();
  const agents = new Map<string, Agent>();
  return async (cluster) => {
    const key = `${cluster.region}/${cluster.name}`;
    const hit = cache.get(key);
    if (hit && now() < hit.refreshAt) return hit.client;
    const issuedAt = now();
    const [endpoint, credentials] = await Promise.all([deps.describeCluster(cluster), deps.credentials(cluster.region)]);
    const token = await eksToken(cluster.name, cluster.region, credentials, new Date(issuedAt));
    const agentKey = `${endpoint.endpoint}\n${endpoint.caData}`;
    let agent = agents.get(agentKey);
    if (!agent) {
      agent = eksAgent(endpoint);
      agents.set(agentKey, agent);
    }
    const client = eksClient(endpoint, token, agent);
    cache.set(key, { client, refreshAt: issuedAt + TOKEN_LIFETIME_MS - TOKEN_REFRESH_MARGIN_MS });
    return client;
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

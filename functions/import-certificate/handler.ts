import { ACMClient } from "@aws-sdk/client-acm";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import type { ClusterConnector } from "../lib/kube";
import { stepMetrics } from "../lib/metrics";
import { type ImportCertificateDeps, type ImportCertificateInput, importCertificate } from "./core";

export const makeHandler = (deps: ImportCertificateDeps) =>
  createHandler("import-certificate", (event: ImportCertificateInput & StepEvent) => importCertificate(event, deps));

/**
 * The EKS connector, loaded on the first kubernetesSecret source: most imports read Secrets Manager or S3, and the
 * bundle's code splitting (infra/bundle.ts) keeps the EKS client and the Kubernetes client out of their cold start.
 */
function lazyClusterConnector(): ClusterConnector {
  let connector: Promise<ClusterConnector> | undefined;
  return async (cluster) => {
    connector ??= import("../lib/kube").then((kube) => kube.defaultClusterConnector());
    return (await connector)(cluster);
  };
}

// Region and credentials come from the Lambda environment.
export const handler = builtOnFirstCall(() =>
  makeHandler({
    acm: new ACMClient({}),
    secretsManager: new SecretsManagerClient({}),
    s3: new S3Client({}),
    connect: lazyClusterConnector(),
    metrics: stepMetrics,
  }),
);

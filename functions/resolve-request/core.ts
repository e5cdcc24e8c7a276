// ResolveRequest: turn whatever started the execution — a deployment request, or a renewal event (ACM expiry
// warning, S3 write) — into the plan the rest of the workflow follows. A request is checked without any AWS or
// Kubernetes call, so a bad one fails here before anything is changed (docs/architecture.md, "Errors"); a renewal reads the
// deployments registry. The plan is visible in the Step Functions console and history (docs/architecture.md, "The state"), so it
// carries references (ARNs, bucket keys) only; the schema refuses PEM material, and nothing here reads a secret.

import { withMilvusL7Defaults } from "../lib/alb-annotations";
import { InvalidRequest, RegistryError } from "../lib/errors";
import type { CertificatePrefix } from "../lib/event-patterns";
import type { CertificateSource, CheckPlan, Plan, PlannedCertificate } from "../lib/state";
import { maxPollsFor } from "../lib/polling";
import { type DeploymentRequest, checkRegions, parseRequest } from "../lib/request";
import { type CheckRegistry, isCheckInput, planCheck } from "./check";
import { type RenewalRegistry, classifyInput, planRenewal } from "./triggers";

export interface ResolveOptions {
  /** Region of the deployment (the Lambda's AWS_REGION), used when the request names none. */
  defaultRegion: string;
  /** Seconds one get-ingress-status poll holds its watch; must match what that Lambda is deployed with. */
  watchSeconds?: number;
  /** Needed for renewal events and the drift check only. */
  registry?: RenewalRegistry & CheckRegistry;
  /** The certificate-source prefixes the stack watches; S3 events elsewhere end cleanly. */
  certificatePrefixes?: readonly CertificatePrefix[];
  /**
   * Whether verify-connection runs in the cluster's VPC (the stack's VERIFIER_IN_VPC, set from its vpcId,
   * vpcSubnetIds and securityGroupId context). `false`: an internal ALB is out of its reach, so such a request is
   * refused. Absent: not known here (`milvus-l7 run` verifies from the operator's machine and warns instead).
   */
  verifierInVpc?: boolean;
  /** Renewals: the expiry threshold (the stack's EXPIRY_WARNING_DAYS); absent, DEFAULT_EXPIRY_WARNING_DAYS. */
  expiryWarningDays?: number;
}

/** Any trigger's input → a plan. */
export async function resolveInput(input: unknown, opts: ResolveOptions): Promise<Plan | CheckPlan> {
  // The drift check (the schedule's `{"check": {...}}`): a plan of registry targets for the ASL's CheckTargets.
  if (isCheckInput(input)) {
    if (opts.registry === undefined) {
      throw new RegistryError("The drift check needs the deployments registry: REGISTRY_TABLE_NAME is not set on resolve-request.");
    }
    return planCheck(input, opts.registry, {
      watchSeconds: opts.watchSeconds,
      ...(opts.expiryWarningDays === undefined ? {} : { expiryWarningDays: opts.expiryWarningDays }),
    });
  }
  const classified = classifyInput(input);
  if (classified.kind === "request") return resolveRequest(classified.request, opts);
  if (opts.registry === undefined) {
    throw new RegistryError("Renewal events need the deployments registry: REGISTRY_TABLE_NAME is not set on resolve-request.");
  }
  return planRenewal(classified, opts.registry, {
    prefixes: opts.certificatePrefixes,
    watchSeconds: opts.watchSeconds,
    ...(opts.expiryWarningDays === undefined ? {} : { expiryWarningDays: opts.expiryWarningDays }),
  });
}

export function resolveRequest(input: unknown, opts: ResolveOptions): Plan {
  const request = parseRequest(input);
  // The schema checks the certificate's region when the request names its own; with the default region, here.
  const region = checkRegions(request, opts.defaultRegion);
  // An internal ALB has addresses in the VPC only: a verifier outside it would time out through every retry after
  // the Ingress is applied, so refuse before anything is changed.
  if (request.ingress.scheme === "internal" && opts.verifierInVpc === false) {
    throw new InvalidRequest([{ path: "ingress.scheme", message: INTERNAL_NEEDS_VPC }]);
  }

  return {
    certificate: planCertificate(request.certificate, { name: request.cluster.name, region }),
    cutover: request.cutover,
    onFailure: request.onFailure,
    wait: { maxPolls: maxPollsFor(request.waitForAddressMinutes * 60, opts.watchSeconds) },
    targets: [
      {
        cluster: { name: request.cluster.name, region },
        namespace: request.milvus.namespace,
        service: { name: request.milvus.service, port: request.milvus.port },
        ...(request.milvus.credentials
          ? { milvusCredentials: { secretsManager: { secretId: request.milvus.credentials.secretsManager.secretId } } }
          : {}),
        ingress: {
          name: request.ingress.name,
          className: request.ingress.className,
          host: request.ingress.host,
          scheme: request.ingress.scheme,
          ...(request.ingress.route53HostedZoneId ? { route53HostedZoneId: request.ingress.route53HostedZoneId } : {}),
          annotations: withMilvusL7Defaults(request.ingress.annotations),
        },
        driftPolicy: request.driftPolicy,
      },
    ],
  };
}

export const INTERNAL_NEEDS_VPC =
  "is internal, but this stack runs verify-connection outside the VPC, where an internal ALB cannot be reached. " +
  "Allowed here: internet-facing. For an internal ALB, deploy the stack with the cluster's VPC context " +
  "(-c vpcId=… -c vpcSubnetIds=… -c securityGroupId=…), which runs verify-connection in those subnets.";

function planCertificate(certificate: DeploymentRequest["certificate"], cluster: { name: string; region: string }): PlannedCertificate {
  const planned: PlannedCertificate = {};
  if (certificate.arn !== undefined) planned.arn = certificate.arn;
  if (certificate.source !== undefined) planned.source = planSource(certificate.source, cluster);
  return planned;
}

function planSource(
  source: NonNullable<DeploymentRequest["certificate"]["source"]>,
  cluster: { name: string; region: string },
): CertificateSource {
  if ("secretsManager" in source) return { secretsManager: { secretId: source.secretsManager.secretId } };
  // The Secret is in the request's cluster: the plan says which, so import-certificate (which sees no target) and a
  // renewal (which reads the source from the registry) know where to read it.
  if ("kubernetesSecret" in source) {
    const { namespace, name } = source.kubernetesSecret;
    return { kubernetesSecret: { cluster: { name: cluster.name, region: cluster.region }, namespace, name } };
  }
  const { bucket, prefix, certificateKey, chainKey, privateKeyKey } = source.s3;
  return { s3: { bucket, certificateKey: join(prefix, certificateKey), chainKey: join(prefix, chainKey), privateKeyKey: join(prefix, privateKeyKey) } };
}

/** `live/milvus` + `cert.pem` → `live/milvus/cert.pem`; a prefix that already ends in '/' is not doubled. */
function join(prefix: string, key: string): string {
  if (prefix === "") return key;
  return prefix.endsWith("/") ? `${prefix}${key}` : `${prefix}/${key}`;
}

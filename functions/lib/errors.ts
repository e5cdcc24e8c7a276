// Every error a step can end with. Step Functions matches a Retry/Catch `ErrorEquals` against the error's
// name, so each class sets a literal `name` (a minifier would mangle `constructor.name`). Messages are shown to
// operators as the execution's Cause: say what happened and what to do. Never put PEM material in a message.

/** Base class: `retryable` tells the ASL author which list (Retry or Catch) the error belongs in. */
export abstract class MilvusL7Error extends Error {
  abstract readonly retryable: boolean;
}

// ---- Retryable: the ASL retries these with backoff and jitter. ----

/** The Kubernetes API answered 429/5xx, reset the connection or timed out. */
export class KubernetesUnavailable extends MilvusL7Error {
  override readonly name = "KubernetesUnavailable";
  readonly retryable = true;
}

/** An AWS API throttled us or failed on its side (ThrottlingException, 5xx, timeouts). */
export class AwsUnavailable extends MilvusL7Error {
  override readonly name = "AwsUnavailable";
  readonly retryable = true;
}

/** The ALB path is not serving yet: 503/404 from the ALB, gRPC UNAVAILABLE, or the old certificate still served. */
export class EndpointNotReady extends MilvusL7Error {
  override readonly name = "EndpointNotReady";
  readonly retryable = true;
}

/**
 * How the verify states retry EndpointNotReady: 12 retries from 10 s, ×1.5, at most 60 s apart, with full jitter
 * (each wait random up to its interval), so about 5 minutes of waiting (test/unit/asl-definition.test.ts checks this
 * sentence against the ASL).
 */
export const ENDPOINT_RETRIES = "The workflow retries this for about 5 minutes";

/**
 * An EndpointNotReady whose message reads right mid-run and as the run's Cause, which the last one becomes when the
 * retries run out: `observed` says what was seen and why it can pass (a full sentence); `ifPersists`, what to check.
 */
export function endpointNotReady(observed: string, ifPersists: string): EndpointNotReady {
  return new EndpointNotReady(`${observed} ${ENDPOINT_RETRIES}; if it persists, ${ifPersists}`);
}

/** Another execution holds the target's lease; this one waits (the ASL retries) until it is released or expires. */
export class TargetBusy extends MilvusL7Error {
  override readonly name = "TargetBusy";
  readonly retryable = true;
}

// ---- Terminal: the ASL catches these and fails with the message as the Cause. ----

export interface FieldIssue {
  /** Dotted path into the request, e.g. `ingress.annotations.alb.ingress.kubernetes.io/listen-ports`. */
  path: string;
  message: string;
}

/** The request is malformed. Raised before anything is changed. */
export class InvalidRequest extends MilvusL7Error {
  override readonly name = "InvalidRequest";
  readonly retryable = false;
  constructor(readonly issues: FieldIssue[]) {
    super(`Invalid request: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`);
  }
}

/** The PEMs are unusable (parse, key match, chain, validity, hosts, key size/type). Raised before any import. */
export class CertificateRejected extends MilvusL7Error {
  override readonly name = "CertificateRejected";
  readonly retryable = false;
}

/** The certificate source (Secrets Manager secret or S3 objects) is missing, unreadable or malformed. */
export class CertificateSourceError extends MilvusL7Error {
  override readonly name = "CertificateSourceError";
  readonly retryable = false;
}

/** ACM refused the request (ValidationException, LimitExceededException, ResourceNotFound, access denied). */
export class AcmRejected extends MilvusL7Error {
  override readonly name = "AcmRejected";
  readonly retryable = false;
}

/** 401/403 from the Kubernetes API: the Lambda role lacks an access entry or policy. */
export class KubernetesForbidden extends MilvusL7Error {
  override readonly name = "KubernetesForbidden";
  readonly retryable = false;
}

/**
 * A validating or mutating admission webhook of the cluster denied the write: the cluster's policy, not a missing
 * permission. The message names the webhook and quotes its reason.
 */
export class AdmissionDenied extends MilvusL7Error {
  override readonly name = "AdmissionDenied";
  readonly retryable = false;
}

/** 404: the namespace, Service or Ingress does not exist. */
export class KubernetesNotFound extends MilvusL7Error {
  override readonly name = "KubernetesNotFound";
  readonly retryable = false;
}

/** 409: another field manager owns a field we set, or the object changed under us. */
export class KubernetesConflict extends MilvusL7Error {
  override readonly name = "KubernetesConflict";
  readonly retryable = false;
}

/** 400/422: the apiserver rejected the object (e.g. an invalid Service spec). */
export class KubernetesRejected extends MilvusL7Error {
  override readonly name = "KubernetesRejected";
  readonly retryable = false;
}

/**
 * What the cluster already holds would make the load balancer controller build something other than what milvus-l7
 * guarantees (an IngressClass of another controller, IngressClassParams or Service annotations that override the
 * request, an IngressGroup peer that disagrees on a group-wide setting). Found by ApplyIngress before any write;
 * the message names the object, the field and the fix. Not a KubernetesConflict: nothing answered 409, and the fix
 * is a change to the cluster's configuration or to the request, not to field ownership.
 */
export class ClusterRefused extends MilvusL7Error {
  override readonly name = "ClusterRefused";
  readonly retryable = false;
}

/** The ALB serves something provably wrong: an untrusted chain, a different certificate, or Milvus errors. */
export class VerificationFailed extends MilvusL7Error {
  override readonly name = "VerificationFailed";
  readonly retryable = false;
}

/**
 * Milvus answered UNAUTHENTICATED (gRPC 16): it has authentication on and the request named no credentials
 * (`milvus.credentials`), or it refused the ones in the named secret.
 */
export class MilvusUnauthenticated extends MilvusL7Error {
  override readonly name = "MilvusUnauthenticated";
  readonly retryable = false;
}

/** Milvus answered PERMISSION_DENIED (gRPC 7): the credentials authenticate, but the user lacks a privilege. */
export class MilvusPermissionDenied extends MilvusL7Error {
  override readonly name = "MilvusPermissionDenied";
  readonly retryable = false;
}

/** The Milvus credentials secret (`milvus.credentials`) is missing, unreadable or not one of the expected shapes. */
export class MilvusCredentialsError extends MilvusL7Error {
  override readonly name = "MilvusCredentialsError";
  readonly retryable = false;
}

/** Route 53 refused the alias record (unknown zone, access, or a conflicting non-alias record). */
export class DnsRejected extends MilvusL7Error {
  override readonly name = "DnsRejected";
  readonly retryable = false;
}

/** The deployments registry (DynamoDB) refused a read or write: access or table configuration. */
export class RegistryError extends MilvusL7Error {
  override readonly name = "RegistryError";
  readonly retryable = false;
}

/**
 * A drift check with policy `report` found targets that are no longer as milvus-l7 left them: the Cause lists each
 * target's findings, and the stack's alert rule publishes the failed run.
 */
export class DriftFound extends MilvusL7Error {
  override readonly name = "DriftFound";
  readonly retryable = false;
}

/** Every error class by name: the ASL test checks each `ErrorEquals` against this list. */
export const errorClasses = {
  KubernetesUnavailable,
  AwsUnavailable,
  EndpointNotReady,
  TargetBusy,
  InvalidRequest,
  CertificateRejected,
  CertificateSourceError,
  AcmRejected,
  KubernetesForbidden,
  AdmissionDenied,
  KubernetesNotFound,
  KubernetesConflict,
  KubernetesRejected,
  ClusterRefused,
  VerificationFailed,
  MilvusUnauthenticated,
  MilvusPermissionDenied,
  MilvusCredentialsError,
  RegistryError,
  DnsRejected,
  DriftFound,
} as const;

export type ErrorName = keyof typeof errorClasses;

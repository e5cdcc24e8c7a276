// AWS SDK v3 errors → our errors, at the boundary (docs/architecture.md, "Errors"). The ASL's Retry matches AwsUnavailable; every
// other failure becomes the caller's terminal class, whose message is the execution's Cause, so it says what
// to do. SDK errors are not chained as `cause`: the operator needs our message, and nothing of the SDK's
// request (which may carry a private key) should ride along.
import { AwsUnavailable, MilvusL7Error } from "./errors";

interface SdkError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

// Rate limits. ACM's LimitExceededException is NOT here: it is a quota (e.g. imports per year), retrying
// cannot help; ACM's rate limit is ThrottlingException.
const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ProvisionedThroughputExceededException",
  "BandwidthLimitExceeded",
  "PriorRequestNotComplete",
]);

// Server-side or transport failures that another attempt can get past.
const TRANSIENT = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalFailure",
  "InternalError",
  "InternalServerError",
  "InternalServiceError",
  "InternalServiceErrorException",
  "InternalServerException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "ServiceFailure",
]);

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ESOCKETTIMEDOUT",
]);

const ACCESS = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnauthorizedException",
  "Forbidden",
]);

const CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "CredentialsProviderError",
]);

const NOT_FOUND = new Set(["ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchEntity"]);

const INVALID = new Set([
  "ValidationException",
  "InvalidParameterException",
  "InvalidParameterValueException",
  "InvalidArnException",
  "InvalidArgsException",
  "InvalidRequestException",
  "InvalidDomainValidationOptionsException",
  "InvalidTagException",
  "TagPolicyException",
  "InvalidObjectState",
]);

const QUOTA = new Set(["LimitExceededException", "ServiceQuotaExceededException", "TooManyTagsException"]);

const KMS = new Set(["DecryptionFailure", "KMSAccessDeniedException", "KMSDisabledException", "KMSInvalidStateException"]);

function shape(e: unknown): SdkError {
  return typeof e === "object" && e !== null ? (e as SdkError) : { message: String(e) };
}

function networkCode(err: SdkError): string | undefined {
  for (let cur: unknown = err, depth = 0; cur && typeof cur === "object" && depth < 4; depth++) {
    const code = (cur as SdkError).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    cur = (cur as SdkError).cause;
  }
  return undefined;
}

/**
 * AWS's message with anything that could be request material removed. Services echo invalid input in
 * validation messages; ImportCertificate's input is PEM, sent as base64, so PEM armour and long base64 runs
 * are cut, and the message is bounded.
 */
export function redactAwsMessage(message: string): string {
  const cut = message
    .replace(/-----BEGIN [^-]*-----[\s\S]*?(-----END [^-]*-----|$)/g, "[PEM redacted]")
    .replace(/[A-Za-z0-9+/=\\n]{40,}/g, "[redacted]");
  return cut.length > 300 ? `${cut.slice(0, 300)}…` : cut;
}

export function isTransientAwsError(e: unknown): boolean {
  const err = shape(e);
  const name = typeof err.name === "string" ? err.name : "";
  const status = err.$metadata?.httpStatusCode;
  return (
    THROTTLING.has(name) ||
    TRANSIENT.has(name) ||
    err.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    err.$fault === "server" ||
    networkCode(err) !== undefined
  );
}

/**
 * Translates an SDK v3 error. `context` names the action and resource, e.g.
 * `acm:ImportCertificate on arn:aws:acm:…` — messages build on it, so it should read as "permission on resource".
 * Retryable failures become AwsUnavailable; everything else `terminal(message)`.
 */
export function translateAwsError(e: unknown, context: string, terminal: (msg: string) => Error): Error {
  if (e instanceof MilvusL7Error) return e;
  const err = shape(e);
  const name = typeof err.name === "string" && err.name !== "" ? err.name : "Error";
  const status = err.$metadata?.httpStatusCode;
  const raw = typeof err.message === "string" ? redactAwsMessage(err.message) : "";
  const code = networkCode(err);
  const said = `${name}${status ? ` (HTTP ${status})` : ""}${code && code !== name ? ` ${code}` : ""}${raw && raw !== name ? `: ${raw}` : ""}`;

  if (isTransientAwsError(err)) {
    const why = THROTTLING.has(name) || status === 429 || err.$retryable?.throttling ? "AWS throttled" : "AWS failed transiently on";
    return new AwsUnavailable(
      `${why} ${context} (${said}). The step is retried with backoff; if this persists, check the service's ` +
        "health and request-rate quotas in this region.",
    );
  }
  if (ACCESS.has(name) || (status === 403 && !CREDENTIALS.has(name))) {
    // S3 says AccessDenied (not 404) for a missing key when the caller may not list the bucket.
    const s3 = name === "AccessDenied" ? " S3 also answers AccessDenied for a missing object when the role lacks s3:ListBucket." : "";
    return terminal(
      `Access denied: ${context} (${said}). Allow this action on this resource in the function's IAM role, and ` +
        `check that no SCP, permissions boundary or resource policy denies it.${s3}`,
    );
  }
  if (CREDENTIALS.has(name)) {
    return terminal(
      `AWS rejected the function's credentials for ${context} (${said}). Check the execution role and that the ` +
        "function's region and clock are right.",
    );
  }
  if (KMS.has(name)) {
    return terminal(
      `${context} could not decrypt with KMS (${said}). Allow kms:Decrypt on the KMS key that encrypts it to the ` +
        "function's role, in both the IAM policy and the key policy, and check the key is enabled.",
    );
  }
  if (NOT_FOUND.has(name) || status === 404) {
    return terminal(`Not found: ${context} (${said}). Check the name or ARN, and that it is in this account and region.`);
  }
  if (QUOTA.has(name)) {
    return terminal(
      `${context} hit an AWS quota (${said}); retrying will not help. Delete unused resources (e.g. certificates ` +
        "not in use) or request an increase in Service Quotas, then run again.",
    );
  }
  if (INVALID.has(name) || status === 400) {
    return terminal(`AWS rejected ${context} as invalid (${said}). Fix what AWS's message names and run again.`);
  }
  return terminal(`${context} failed (${said}). This is not a transient error; fix the cause and run again.`);
}

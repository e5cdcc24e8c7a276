// Which Event reason a failure becomes, and the text the real controller would print for it (see README.md in
// this folder for the upstream sources).
import { randomUUID } from "node:crypto";
import { ApiException } from "@kubernetes/client-node";

/** A model-build failure: the controller records it as FailedBuildModel. */
export class BuildError extends Error {}

/** An AWS-side failure while deploying the model: the controller records it as FailedDeployModel. */
export class DeployError extends Error {}

/**
 * aws-sdk-go-v2's error text for an ELBv2 call. Modeled exceptions (CertificateNotFound, SSLPolicyNotFound)
 * print `Code: message`; unmodeled ones (ValidationError) print `api error Code: message` (smithy GenericAPIError).
 */
export function elbv2Error(operation: string, code: string, message: string, modeled: boolean): DeployError {
  const tail = modeled ? `${code}: ${message}` : `api error ${code}: ${message}`;
  return new DeployError(
    `operation error Elastic Load Balancing v2: ${operation}, https response error StatusCode: 400, RequestID: ${randomUUID()}, ${tail}`,
  );
}

/** What the Go controller would print for an error: for an apiserver refusal, the Status message. */
export function errorText(e: unknown): string {
  if (e instanceof ApiException) {
    // The Go client prints the apiserver's Status message (e.g. `services "x" not found`), not the HTTP dump
    // that client-node puts into ApiException.message.
    try {
      const body = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as { message?: unknown };
      if (typeof body?.message === "string" && body.message) return body.message;
    } catch {
      // not a Status body
    }
    return `the server responded with HTTP ${e.code}`;
  }
  return e instanceof Error ? e.message : String(e);
}

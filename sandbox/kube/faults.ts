// Injected faults: what a request meets when API Priority and Fairness throttles it, RBAC denies it, the
// apiserver fails, or the connection drops. The Status bodies follow
// staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go (NewTooManyRequests, NewServiceUnavailable,
// NewForbidden, NewUnauthorized, NewInternalError) in kubernetes/apimachinery v0.32.5 (= Kubernetes v1.32.5).
// The 429 differs: API Priority and Fairness answers it with a plain-text body
// (apiserver pkg/server/filters/priority-and-fairness.go, tooManyRequests), this with a TooManyRequests Status.
import { type Call, send } from "./call";
import { namespaceOf, verbOf } from "./authz";
import { conflict, forbiddenRequest, notFound, StatusError } from "./errors";
import { parseTarget } from "./resources";
import type { Fault } from "./types";

export class FaultInjector {
  private faults: Fault[] = [];

  inject(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  /** Answers (or swallows) the request when a fault matches it; false lets it through. */
  intercept(call: Call): boolean {
    const target = `${call.url.pathname}${call.url.search}`;
    const fault = this.faults.find(
      (f) =>
        (!f.match.method || f.match.method.toUpperCase() === call.record.method) &&
        (!f.match.pathIncludes || target.includes(f.match.pathIncludes)),
    );
    if (!fault) return false;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults = this.faults.filter((f) => f !== fault);
    if (fault.respond === "reset") {
      call.record.fault = "reset";
      call.req.socket.destroy();
      return true;
    }
    if (fault.respond === "timeout") {
      // Left unanswered; close() destroys the socket like every other.
      call.record.fault = "timeout";
      return true;
    }
    call.record.fault = "status";
    const error = faultError(call, fault.respond.status, fault.respond.retryAfterSeconds);
    send(call, error.code, error.body(), error.headers);
    return true;
  }
}

/** The Status the real component answers with for each injected code, naming the request's object. */
function faultError(call: Call, code: number, retryAfterSeconds?: number): StatusError {
  const target = parseTarget(call.url.pathname);
  const info = target?.info;
  const name = target?.name ?? "";
  const headers: Record<string, string> = retryAfterSeconds !== undefined ? { "Retry-After": String(retryAfterSeconds) } : {};
  switch (code) {
    case 429:
      return new StatusError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        { retryAfterSeconds: retryAfterSeconds ?? 1 },
        { "Retry-After": String(retryAfterSeconds ?? 1) },
      );
    case 503:
      return new StatusError(
        503,
        "ServiceUnavailable",
        "the server is currently unable to handle the request",
        retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined,
        headers,
      );
    case 409:
      return info ? conflict(info, name) : new StatusError(409, "Conflict", "Operation cannot be fulfilled");
    case 404:
      return info ? notFound(info, name) : new StatusError(404, "NotFound", "the server could not find the requested resource");
    case 403:
      return forbiddenRequest(
        call.record.user ?? "system:anonymous",
        verbOf(call, target),
        info,
        target?.subresource,
        target ? namespaceOf(target) : undefined,
        name,
      );
    case 401:
      return new StatusError(401, "Unauthorized", "Unauthorized");
    default:
      return new StatusError(500, "InternalError", "Internal error occurred: injected fault", {
        causes: [{ message: "injected fault" }],
      });
  }
}

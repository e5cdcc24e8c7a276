// AWS misbehaving in the sandbox. A middleware on the sandbox's own AWS SDK clients answers chosen operations
// with the HTTP error response AWS sends, in the service's wire protocol (JSON `__type` for ACM, Secrets Manager
// and DynamoDB; XML for S3 and Route 53), instead of passing the request on to moto. It sits below the SDK's
// deserializer, so the SDK's real deserializer builds the service exception ($metadata, $fault, name) and the
// SDK's real retry strategy retries it (3 attempts for throttling and 5xx): the handlers see exactly what they
// would see from AWS. Production code is untouched and has no test branches; only the clients the sandbox
// injects misbehave.
import { Readable } from "node:stream";
import { HttpResponse } from "@smithy/protocol-http";
import type { DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput, HandlerExecutionContext, MiddlewareStack } from "@smithy/types";

export interface AwsFault {
  /** The SDK client's class name without "Client": "ACM", "SecretsManager", "S3", "DynamoDB", "Route53". */
  service: string;
  /** The API operation (the command's name without "Command"): "ImportCertificate", "GetSecretValue", "GetObject" … */
  operation: string;
  /** The error code AWS answers with: "ThrottlingException", "AccessDeniedException", "AccessDenied" … */
  code: string;
  /** HTTP status; by default what AWS sends for the code (403 S3 AccessDenied, 500/503 for server faults, else 400). */
  status?: number;
  /** The error message AWS sends (default: a fixed text per code). */
  message?: string;
  /** How many HTTP attempts get the fault (default 1). The SDK's own retries are attempts too. */
  times?: number;
  /**
   * Instead of `times`: how many SDK calls fail on every attempt, i.e. with the SDK's retries used up, whatever
   * the client's maxAttempts (3 by default, 4 for DynamoDB). Read from the `amz-sdk-request` header.
   */
  calls?: number;
}

export interface AwsFaultHit {
  service: string;
  operation: string;
  code: string;
  /** The SDK's attempt number for this call (1 = first try). */
  attempt: number;
}

/** Anything with an SDK v3 middleware stack: every AWS SDK client, DynamoDBDocumentClient included. */
export interface HasMiddlewareStack {
  // biome-ignore lint/suspicious/noExplicitAny: a client's stack is typed by its own input/output unions.
  middlewareStack: MiddlewareStack<any, any>;
}

export interface AwsFaults {
  inject(fault: AwsFault): void;
  /** Removes every pending fault (the hit log stays). */
  clear(): void;
  /** Faults still pending (with their remaining `times`). */
  pending(): AwsFault[];
  /** Every attempt answered with a fault, in order. */
  readonly hits: AwsFaultHit[];
  /** Adds the fault middleware to a client (once); the service is read from the client's name at each call. */
  attach(client: HasMiddlewareStack): void;
}

const MIDDLEWARE_NAME = "sandboxAwsFaults";

const DEFAULT_MESSAGES: Record<string, string> = {
  ThrottlingException: "Rate exceeded",
  Throttling: "Rate exceeded",
  LimitExceededException: "the maximum number of certificates you can import this year has been exceeded",
  ValidationException: "The request failed to satisfy a constraint",
  AccessDeniedException: "User is not authorized to perform this action",
  AccessDenied: "Access Denied",
  ProvisionedThroughputExceededException:
    "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
  ServiceUnavailable: "Service is unavailable",
  InternalFailure: "An internal error occurred",
};

function defaultStatus(code: string, service: string): number {
  if (code === "AccessDenied" && service === "S3") return 403;
  if (code === "ServiceUnavailable" || code === "ServiceUnavailableException") return 503;
  if (code.startsWith("Internal")) return 500;
  return 400;
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The error response as the service's protocol has it. */
function errorResponse(fault: AwsFault, requestId: string): HttpResponse {
  const status = fault.status ?? defaultStatus(fault.code, fault.service);
  const message = fault.message ?? DEFAULT_MESSAGES[fault.code] ?? fault.code;
  let body: string;
  const headers: Record<string, string> = { "x-amzn-requestid": requestId };
  if (fault.service === "S3") {
    // restXml, S3 flavour: a bare <Error> document.
    headers["content-type"] = "application/xml";
    headers["x-amz-request-id"] = requestId;
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(fault.code)}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId><HostId>sandbox</HostId></Error>`;
  } else if (fault.service === "Route53") {
    headers["content-type"] = "text/xml";
    body = `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type><Code>${xmlEscape(fault.code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  } else if (fault.service === "DynamoDB") {
    headers["content-type"] = "application/x-amz-json-1.0";
    body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${fault.code}`, message });
  } else {
    headers["content-type"] = "application/x-amz-json-1.1";
    body = JSON.stringify({ __type: fault.code, message });
  }
  headers["content-length"] = String(Buffer.byteLength(body));
  return new HttpResponse({ statusCode: status, headers, body: Readable.from([Buffer.from(body)]) });
}

export function createAwsFaults(): AwsFaults {
  let faults: AwsFault[] = [];
  const hits: AwsFaultHit[] = [];
  let requests = 0;
  const attached = new WeakSet<object>();

  const middleware =
    <O extends object>(next: DeserializeHandler<object, O>, context: HandlerExecutionContext): DeserializeHandler<object, O> =>
    async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<O>> => {
      const service = String(context.clientName ?? "").replace(/Client$/, "");
      const operation = String(context.commandName ?? "").replace(/Command$/, "");
      const fault = faults.find((f) => f.service === service && f.operation === operation);
      if (!fault) return next(args);
      // The retry middleware (above this one) says which attempt this is: "attempt=2; max=3".
      const header = (args.request as { headers?: Record<string, string> }).headers?.["amz-sdk-request"] ?? "";
      const attempt = Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1);
      const max = Number(/max=(\d+)/.exec(header)?.[1] ?? 1);
      if (fault.calls !== undefined) {
        if (attempt >= max) fault.calls -= 1;
        if (fault.calls <= 0) faults = faults.filter((f) => f !== fault);
      } else {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) faults = faults.filter((f) => f !== fault);
      }
      hits.push({ service, operation, code: fault.code, attempt });
      requests += 1;
      // Deterministic request ids: nothing random ends up in a Cause.
      return { response: errorResponse({ ...fault, service }, `sandbox-fault-${requests}`) };
    };

  return {
    inject(fault) {
      faults.push(fault.calls !== undefined ? { ...fault } : { ...fault, times: fault.times ?? 1 });
    },
    clear() {
      faults = [];
    },
    pending() {
      return faults.map((f) => ({ ...f }));
    },
    hits,
    attach(client) {
      if (attached.has(client)) return;
      attached.add(client);
      // Below the deserializer (priority low in its step): this answers in place of the HTTP transport.
      client.middlewareStack.add(middleware, { step: "deserialize", priority: "low", name: MIDDLEWARE_NAME });
    },
  };
}

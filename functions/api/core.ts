// The HTTP API for portals (API Gateway REST API, proxy integration, AWS_IAM-authorised), as a pure function of
// the event and injected clients:
//
//   POST /deployments        validate the body with the one request schema, start an execution named from the
//                            Idempotency-Key header or a hash of the request → 202 {deploymentId, executionArn, statusUrl}
//   GET  /deployments/{id}   the execution's status, current step, summary or failure cause
//   GET  /deployments        the deployments registry (references only: ARNs, secret ids, S3 keys, never PEM)
//
// Every answer is JSON. The core never throws: API Gateway turns a Lambda error into a bare 502, which tells a
// portal nothing, so failures become 4xx/5xx JSON here and their detail goes to the logs, not to the caller.
import { createHash } from "node:crypto";
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { translateAwsError } from "../lib/aws-errors";
import { AwsUnavailable, type FieldIssue, InvalidRequest } from "../lib/errors";
import { stepLogger } from "../lib/handler";
import type { DeploymentRecord, Registry } from "../lib/registry";
import { type DeploymentRequest, MAX_REQUEST_BYTES, checkRegions, parseRequest } from "../lib/request";

/** The log methods the core uses; Powertools' Logger satisfies it, tests can pass a spy. */
export interface ApiLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface ApiDeps {
  sfn: SFNClient;
  /** `arn:aws:states:<region>:<account>:stateMachine:<name>` (env STATE_MACHINE_ARN). */
  stateMachineArn: string;
  /** Only list(): the API reads the registry and never writes it (nor takes leases). */
  registry: Pick<Registry, "list">;
  /** Defaults to the shared Powertools logger. */
  logger?: ApiLogger;
}

export interface StartedDeployment {
  deploymentId: string;
  executionArn: string;
  statusUrl: string;
}

export interface DeploymentStatus {
  deploymentId: string;
  executionArn: string;
  /** Step Functions' status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE. */
  status: string;
  startDate: string;
  stopDate?: string;
  /** While RUNNING: the state entered last (with several targets, whichever Map iteration moved last). */
  currentStep?: string;
  /** When SUCCEEDED: the workflow's summary (Summarise / NothingToRenew / NoNewerCertificate). */
  output?: unknown;
  error?: string;
  cause?: string;
}

export type PublicDeploymentRecord = Pick<
  DeploymentRecord,
  | "targetId"
  | "target"
  | "certificateArn"
  | "certificateSource"
  | "albHostname"
  | "servedFingerprint256"
  | "servedNotAfter"
  | "milvusAuth"
  | "lastVerified"
  | "lastExecution"
>;

// ---------------------------------------------------------------------------------------------------------------
// Limits and names.

/**
 * The body is passed to StartExecution as it came (ResolveRequest validates it again and the console shows what
 * the portal sent), so it must fit Step Functions' 256 KiB input; the request itself is at most
 * MAX_REQUEST_BYTES of compact JSON, and twice that leaves room for pretty-printing.
 */
export const MAX_BODY_BYTES = 2 * MAX_REQUEST_BYTES;

/**
 * Deployment ids are execution names. Step Functions allows up to 80 characters and forbids whitespace and a
 * list of punctuation; letters, digits, '-' and '_' are a safe subset that also needs no escaping in a URL path.
 */
const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const NAME_RULE = "1-80 letters, digits, '-' and '_'";

/** Seconds a client should wait after a 503; the SDK has already retried by the time we give up. */
const RETRY_AFTER_SECONDS = "5";

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

/** The execution ARN for a name: Step Functions derives it from the state machine's ARN. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
}

/** JSON with object keys sorted at every level, so equal requests serialise equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const members = Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The execution name for a request without an Idempotency-Key: `req-` + SHA-256 of the canonical JSON of the
 * body as sent (68 characters, inside Step Functions' 80). Key order and whitespace do not change it. It hashes
 * the request as sent, not as normalised: a default the schema gains later must not rename requests already in
 * flight, and a client can compute its deployment id without knowing the defaults. (Spelling out a default
 * therefore names a different execution; a clash is still judged on the normalised request.)
 */
export function executionNameFor(body: unknown): string {
  return `req-${createHash("sha256").update(canonicalJson(body)).digest("hex")}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Responses.

type Headers = Record<string, string>;

function json(statusCode: number, body: unknown, headers: Headers = {}): APIGatewayProxyResult {
  return {
    statusCode,
    // no-store: a status changes from one call to the next and answers are per IAM caller.
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}

/** A client error: `error` is a stable code for programs, `message` is for people. */
class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Headers = {},
  ) {
    super(message);
  }
}

function errorResponse(e: HttpError): APIGatewayProxyResult {
  return json(e.statusCode, { error: e.code, message: e.message }, e.headers);
}

function invalidRequest(issues: FieldIssue[]): APIGatewayProxyResult {
  return json(400, {
    error: "InvalidRequest",
    message: "The deployment request is invalid; nothing was started. Fix the fields listed in issues.",
    issues,
  });
}

const errorName = (e: unknown) => (typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined);

/**
 * An AWS failure, after translateAwsError: throttling and transient faults are the caller's to retry (503 with
 * Retry-After); anything else is our configuration (IAM, ARNs) and the caller cannot fix it, so they get a
 * generic 500 carrying the request id, and the operator gets the translated detail in the logs.
 */
function awsFailure(e: unknown, context: string, event: APIGatewayProxyEvent, log: ApiLogger): APIGatewayProxyResult {
  const translated = translateAwsError(e, context, (message) => new Error(message));
  if (translated instanceof AwsUnavailable) {
    log.warn("AWS unavailable", { errorName: translated.name, detail: translated.message });
    return json(
      503,
      { error: "ServiceUnavailable", message: "AWS is throttling or briefly unavailable. Retry after a few seconds." },
      { "retry-after": RETRY_AFTER_SECONDS },
    );
  }
  log.error("AWS call failed", { errorName: errorName(e), detail: translated.message });
  return internalError(event);
}

function internalError(event: APIGatewayProxyEvent): APIGatewayProxyResult {
  const requestId = event.requestContext?.requestId;
  return json(500, {
    error: "InternalError",
    message: `The request could not be completed${requestId ? ` (request id ${requestId})` : ""}. The operator finds the detail in the API function's logs.`,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Request pieces.

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  // API Gateway keeps the case the client sent; HTTP header names are case-insensitive.
  const multi = Object.entries(event.multiValueHeaders ?? {}).find(([k]) => k.toLowerCase() === wanted)?.[1];
  if (multi && new Set(multi).size > 1) {
    throw new HttpError(400, "InvalidHeader", `The ${name} header must be sent once.`);
  }
  return Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === wanted)?.[1] ?? multi?.[0];
}

function idempotencyKey(event: APIGatewayProxyEvent): string | undefined {
  const key = header(event, "Idempotency-Key");
  if (key === undefined) return undefined;
  if (!NAME.test(key)) {
    // The key becomes the execution name (the deployment id), so it follows the same rule; it is not echoed.
    throw new HttpError(400, "InvalidIdempotencyKey", `The Idempotency-Key header must be ${NAME_RULE}.`);
  }
  return key;
}

function checkContentType(event: APIGatewayProxyEvent): void {
  const type = header(event, "Content-Type");
  if (type === undefined) return;
  const media = type.split(";")[0]?.trim().toLowerCase() ?? "";
  if (media !== "application/json" && !media.endsWith("+json")) {
    throw new HttpError(415, "UnsupportedMediaType", "The body must be JSON (Content-Type: application/json).");
  }
}

function bodyText(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null || event.body === undefined || event.body === "") return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_BODY_BYTES) {
    throw new HttpError(
      413,
      "PayloadTooLarge",
      `The body is ${bytes} bytes; a deployment request may be at most ${MAX_BODY_BYTES} bytes (${MAX_REQUEST_BYTES} as compact JSON).`,
    );
  }
  return text;
}

function deploymentId(event: APIGatewayProxyEvent, fromPath: string | undefined): string {
  const id = event.pathParameters?.id ?? fromPath ?? "";
  if (!NAME.test(id)) {
    throw new HttpError(400, "InvalidDeploymentId", `A deployment id is ${NAME_RULE}.`);
  }
  return id;
}

/**
 * Where GET /deployments/{id} lives, as a path the caller can resolve against the host it called.
 * `requestContext.path` is the path the client actually used: it carries the stage on an execute-api URL
 * (`/prod/deployments`) and the base path on a custom domain (`/milvus/deployments`), while the top-level `path`
 * lacks the stage. So the prefix is whatever precedes `/deployments` there. Without it (a hand-made event), the
 * stage is added only for execute-api hosts, where it is part of every URL.
 */
function statusUrl(event: APIGatewayProxyEvent, id: string): string {
  const ctx = event.requestContext;
  let prefix = "";
  const called = ctx?.path;
  const at = called ? called.search(/\/deployments(\/|$)/) : -1;
  if (called && at >= 0) prefix = called.slice(0, at);
  else if (ctx?.stage && ctx.domainName?.includes(".execute-api.")) prefix = `/${ctx.stage}`;
  return `${prefix}/deployments/${id}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Routes.

type Route = { kind: "collection" } | { kind: "item"; id: string | undefined } | { kind: "none" };

/**
 * Routes on `resource` (the API's resource template, the same whatever stage or base path), falling back to the
 * path for a greedy `{proxy+}` resource.
 */
function route(event: APIGatewayProxyEvent): Route {
  if (event.resource === "/deployments") return { kind: "collection" };
  if (event.resource === "/deployments/{id}") return { kind: "item", id: undefined };
  const path = (event.path ?? "").replace(/\/+$/, "");
  if (path === "/deployments") return { kind: "collection" };
  const m = /^\/deployments\/([^/]+)$/.exec(path);
  if (m) return { kind: "item", id: m[1] };
  return { kind: "none" };
}

function methodNotAllowed(method: string, allow: string): APIGatewayProxyResult {
  return json(
    405,
    { error: "MethodNotAllowed", message: `${method} is not supported here; use ${allow}.` },
    { allow },
  );
}

export async function handleApiRequest(event: APIGatewayProxyEvent, deps: ApiDeps): Promise<APIGatewayProxyResult> {
  const log = deps.logger ?? stepLogger();
  const method = (event.httpMethod ?? "").toUpperCase();
  try {
    if (!STATE_MACHINE_ARN.test(deps.stateMachineArn)) {
      log.error("misconfigured", {
        detail: "STATE_MACHINE_ARN must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)",
      });
      return internalError(event);
    }
    const r = route(event);
    if (r.kind === "collection") {
      if (method === "POST") return await startDeployment(event, deps, log);
      if (method === "GET") return await listDeployments(event, deps, log);
      return methodNotAllowed(method, "GET, POST");
    }
    if (r.kind === "item") {
      if (method === "GET") return await describeDeployment(event, deploymentId(event, r.id), deps, log);
      return methodNotAllowed(method, "GET");
    }
    return json(404, {
      error: "NotFound",
      message: "No such resource. The API has POST /deployments, GET /deployments and GET /deployments/{id}.",
    });
  } catch (e) {
    if (e instanceof HttpError) return errorResponse(e);
    // A bug, not AWS (AWS failures are answered where they happen): name and message only, never the event.
    log.error("unexpected failure", { errorName: errorName(e), detail: e instanceof Error ? e.message : String(e) });
    return internalError(event);
  }
}

// POST /deployments ----------------------------------------------------------------------------------------------

async function startDeployment(event: APIGatewayProxyEvent, deps: ApiDeps, log: ApiLogger): Promise<APIGatewayProxyResult> {
  checkContentType(event);
  const key = idempotencyKey(event);
  const text = bodyText(event);
  if (text === undefined) {
    return invalidRequest([{ path: "", message: "is required: the body must be a JSON deployment request" }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // V8's message quotes part of the body; say only that it is not JSON.
    throw new HttpError(400, "InvalidJson", "The body is not valid JSON.");
  }
  let request: DeploymentRequest;
  try {
    request = parseRequest(raw);
    // A request may leave the region to the deployment, which is the state machine's: check it as ResolveRequest
    // will, or this would answer 202 to a request the execution then fails.
    checkRegions(request, deps.stateMachineArn.split(":")[3]);
  } catch (e) {
    if (e instanceof InvalidRequest) return invalidRequest(e.issues);
    throw e;
  }

  const name = key ?? executionNameFor(raw);
  const executionArn = executionArnFor(deps.stateMachineArn, name);
  const started = (arn: string): StartedDeployment => ({
    deploymentId: name,
    executionArn: arn,
    statusUrl: statusUrl(event, name),
  });
  try {
    // The original body, not the normalised request: ResolveRequest validates and normalises it itself.
    const out = await deps.sfn.send(
      new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: text }),
    );
    const arn = out.executionArn ?? executionArn;
    log.info("deployment started", { deploymentId: name, executionArn: arn, named: key ? "idempotency-key" : "request-hash" });
    const body = started(arn);
    return json(202, body, { location: body.statusUrl });
  } catch (e) {
    const failure = errorName(e);
    if (failure === "ExecutionAlreadyExists") return await existingExecution(event, deps, log, request, started(executionArn), key);
    if (failure === "ExecutionLimitExceeded") {
      log.warn("execution limit reached", { deploymentId: name });
      return json(
        503,
        { error: "ServiceUnavailable", message: "Too many deployments are running. Retry when some have finished." },
        { "retry-after": "60" },
      );
    }
    return awsFailure(e, `states:StartExecution on ${deps.stateMachineArn}`, event, log);
  }
}

/**
 * Step Functions answers ExecutionAlreadyExists when the name is taken by an execution with a different input
 * string OR by one that has finished (any input), and the input strings differ whenever the same request comes
 * with other key order or whitespace. So look at the existing execution: the same normalised request is the same
 * deployment (202 while it runs, 200 once it has ended: nothing new is started); another request is a conflict.
 */
async function existingExecution(
  event: APIGatewayProxyEvent,
  deps: ApiDeps,
  log: ApiLogger,
  request: DeploymentRequest,
  deployment: StartedDeployment,
  key: string | undefined,
): Promise<APIGatewayProxyResult> {
  let existing: DescribeExecutionCommandOutput;
  try {
    existing = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: deployment.executionArn }));
  } catch (e) {
    return awsFailure(e, `states:DescribeExecution on ${deployment.executionArn}`, event, log);
  }
  if (sameRequest(existing.input, request)) {
    const status = existing.status ?? "UNKNOWN";
    log.info("deployment already exists", { deploymentId: deployment.deploymentId, status });
    if (status === "RUNNING") return json(202, deployment, { location: deployment.statusUrl });
    return json(
      200,
      {
        ...deployment,
        status,
        message:
          `This request already ran (status ${status}); nothing new was started. Execution names cannot be ` +
          "reused for 90 days: to run the same request again, send it with a new Idempotency-Key.",
      },
      { location: deployment.statusUrl },
    );
  }
  log.warn("idempotency conflict", { deploymentId: deployment.deploymentId });
  const message = key
    ? `Idempotency-Key ${key} was already used for a different request (${deployment.statusUrl}). Send a new key for a new request.`
    : `Deployment ${deployment.deploymentId} already exists with a different request. Send the request with an Idempotency-Key.`;
  return json(409, { error: "IdempotencyConflict", message, deploymentId: deployment.deploymentId, statusUrl: deployment.statusUrl });
}

function sameRequest(existingInput: string | undefined, request: DeploymentRequest): boolean {
  if (existingInput === undefined) return false;
  try {
    return canonicalJson(parseRequest(JSON.parse(existingInput))) === canonicalJson(request);
  } catch {
    // The earlier input no longer parses (say, the schema changed since): it is not this request.
    return false;
  }
}

// GET /deployments/{id} ------------------------------------------------------------------------------------------

async function describeDeployment(
  event: APIGatewayProxyEvent,
  id: string,
  deps: ApiDeps,
  log: ApiLogger,
): Promise<APIGatewayProxyResult> {
  const executionArn = executionArnFor(deps.stateMachineArn, id);
  let execution: DescribeExecutionCommandOutput;
  try {
    execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (e) {
    if (errorName(e) === "ExecutionDoesNotExist") {
      return json(404, { error: "NotFound", message: `There is no deployment ${id}.` });
    }
    return awsFailure(e, `states:DescribeExecution on ${executionArn}`, event, log);
  }
  const status = execution.status ?? "UNKNOWN";
  const body: DeploymentStatus = {
    deploymentId: id,
    executionArn: execution.executionArn ?? executionArn,
    status,
    startDate: isoDate(execution.startDate),
  };
  if (execution.stopDate) body.stopDate = isoDate(execution.stopDate);
  if (status === "RUNNING") {
    const step = await currentStep(executionArn, deps, log);
    if (step) body.currentStep = step;
  }
  if (execution.output !== undefined) body.output = parseJson(execution.output);
  if (execution.error) body.error = execution.error;
  if (execution.cause) body.cause = readableCause(execution.cause);
  return json(200, body);
}

const isoDate = (d: Date | undefined) => (d instanceof Date ? d.toISOString() : new Date(0).toISOString());

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A Lambda error that reaches a Fail state arrives as the runtime's JSON (`{"errorType","errorMessage","trace"}`);
 * a portal wants the message — ours say what to do — not the stack.
 */
function readableCause(cause: string): string {
  const parsed = parseJson(cause);
  if (typeof parsed === "object" && parsed !== null && typeof (parsed as { errorMessage?: unknown }).errorMessage === "string") {
    return (parsed as { errorMessage: string }).errorMessage;
  }
  return cause;
}

const HISTORY_PAGE = 25;
const HISTORY_PAGES = 4;

/**
 * The newest `*StateEntered` event's state name. History is read newest first, without execution data (inputs
 * hold the request), a few pages at most: after a state is entered only its own task/Map events follow, so the
 * first page nearly always has one. The event with the highest id wins, which is also right for a server that
 * ignores reverseOrder (moto). Best effort: the status matters more than the step, so a failure here is logged
 * and the step left out.
 */
async function currentStep(executionArn: string, deps: ApiDeps, log: ApiLogger): Promise<string | undefined> {
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const out = await deps.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: true,
          includeExecutionData: false,
          maxResults: HISTORY_PAGE,
          nextToken,
        }),
      );
      const entered = (out.events ?? []).filter(
        (ev): ev is HistoryEvent & { stateEnteredEventDetails: { name: string } } =>
          typeof ev.type === "string" && ev.type.endsWith("StateEntered") && typeof ev.stateEnteredEventDetails?.name === "string",
      );
      if (entered.length > 0) {
        return entered.reduce((a, b) => ((b.id ?? 0) > (a.id ?? 0) ? b : a)).stateEnteredEventDetails.name;
      }
      nextToken = out.nextToken;
      if (!nextToken) return undefined;
    }
  } catch (e) {
    const translated = translateAwsError(e, `states:GetExecutionHistory on ${executionArn}`, (m) => new Error(m));
    log.warn("current step unavailable", { errorName: errorName(e), detail: translated.message });
  }
  return undefined;
}

// GET /deployments -----------------------------------------------------------------------------------------------

/**
 * Fields are picked, not spread: the registry holds references only today, and a field added to the table later
 * should not reach portals without someone deciding it may.
 */
export function publicRecord(r: DeploymentRecord): PublicDeploymentRecord {
  const out: PublicDeploymentRecord = {
    targetId: r.targetId,
    target: r.target,
    certificateArn: r.certificateArn,
    albHostname: r.albHostname,
    servedFingerprint256: r.servedFingerprint256,
    servedNotAfter: r.servedNotAfter,
    lastVerified: r.lastVerified,
    lastExecution: r.lastExecution,
  };
  if (r.certificateSource !== undefined) out.certificateSource = r.certificateSource;
  if (r.milvusAuth !== undefined) out.milvusAuth = r.milvusAuth;
  return out;
}

async function listDeployments(event: APIGatewayProxyEvent, deps: ApiDeps, log: ApiLogger): Promise<APIGatewayProxyResult> {
  let records: DeploymentRecord[];
  try {
    records = await deps.registry.list();
  } catch (e) {
    // registry.list() has already translated (RegistryError / AwsUnavailable); translateAwsError passes ours through.
    return awsFailure(e, "deployments registry list", event, log);
  }
  const deployments = records.map(publicRecord).sort((a, b) => (a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0));
  return json(200, { deployments });
}

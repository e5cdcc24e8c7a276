// docs/openapi.json: the HTTP API for portals as an OpenAPI 3.1 document. The three operations, their answers and
// error bodies are those of functions/api/core.ts; the stage, the IAM (SigV4) authorisation and the endpoint
// types are those of infra/constructs/http-api.ts; the request body is the generated request schema
// (docs/deployment-request.schema.json), referenced, not copied. test/unit/openapi.test.ts calls the API's core
// and checks every answer against this document, so the two cannot drift apart unnoticed.
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { MAX_BODY_BYTES } from "../../functions/api/core";
import { MAX_REQUEST_BYTES } from "../../functions/lib/request";
import { API_STAGE } from "../../infra/constructs/http-api";
import { OPENAPI_DOC, REGENERATE, REQUEST_DOC, REQUEST_SCHEMA_DOC, ROOT } from "./files";

type Schema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** An object whose listed properties are required (a `?` suffix makes one optional) and that has no others. */
function object(properties: Record<string, Schema>, description?: string): Schema {
  const entries = Object.entries(properties).map(([key, schema]) => [key.replace(/\?$/, ""), schema, !key.endsWith("?")] as const);
  return {
    type: "object",
    ...(description ? { description } : {}),
    required: entries.filter(([, , required]) => required).map(([key]) => key),
    properties: Object.fromEntries(entries.map(([key, schema]) => [key, schema])),
    additionalProperties: false,
  };
}

const text = (description?: string): Schema => ({ type: "string", ...(description ? { description } : {}) });
const dateTime = (description: string): Schema => ({ type: "string", format: "date-time", description });

/** An error answer: `error` is a stable code for programs (one of `codes`), `message` is for people. */
function errorBody(codes: string[], extra: Record<string, Schema> = {}): Schema {
  return object({ error: { type: "string", enum: codes }, message: text("What went wrong and what to do, for people."), ...extra });
}

function json(description: string, schema: Schema, headers?: Record<string, Schema>): Schema {
  return { description, ...(headers ? { headers } : {}), content: { "application/json": { schema } } };
}

// The rule functions/api/core.ts applies to deployment ids and Idempotency-Key values (Step Functions execution
// names, restricted to what needs no escaping in a URL path); test/unit/openapi.test.ts checks the two agree.
const DEPLOYMENT_ID: Schema = {
  type: "string",
  pattern: "^[A-Za-z0-9_-]{1,80}$",
  description:
    "The execution name: the Idempotency-Key the deployment was started with, else `req-` and the SHA-256 of the request's canonical JSON.",
};

const SCHEMAS: Record<string, Schema> = {
  DeploymentId: DEPLOYMENT_ID,
  StartedDeployment: object(
    {
      deploymentId: ref("DeploymentId"),
      executionArn: text("The Step Functions execution running the deployment."),
      statusUrl: text("Where GET /deployments/{id} answers for it, as a path on the host that was called."),
    },
    "A deployment that was started (or is still running from an earlier identical request).",
  ),
  FinishedDeployment: object(
    {
      deploymentId: ref("DeploymentId"),
      executionArn: text(),
      statusUrl: text(),
      status: text("How the earlier run ended: SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE."),
      message: text(),
    },
    "The same request already ran to its end; nothing new was started. Execution names cannot be reused for 90 days: send a new Idempotency-Key to run it again.",
  ),
  DeploymentStatus: object(
    {
      deploymentId: ref("DeploymentId"),
      executionArn: text(),
      status: text("Step Functions' status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE."),
      startDate: dateTime("When the execution started."),
      "stopDate?": dateTime("When it ended."),
      "currentStep?": text("While RUNNING: the state entered last."),
      "output?": { description: "When SUCCEEDED: the workflow's summary." },
      "error?": text("When it failed: the error name."),
      "cause?": text("When it failed: what happened and what to do."),
    },
    "One deployment's execution.",
  ),
  DeploymentList: object({ deployments: { type: "array", items: ref("DeploymentRecord"), description: "Sorted by targetId." } }),
  DeploymentRecord: object(
    {
      targetId: text("`<region>/<cluster>/<namespace>/<ingress>`: one Ingress is one target."),
      target: ref("Target"),
      certificateArn: text("The ACM certificate the ALB serves."),
      "certificateSource?": ref("CertificateSource"),
      albHostname: text("The ALB's DNS name."),
      servedFingerprint256: text("SHA-256 fingerprint of the certificate the ALB served when last verified."),
      servedNotAfter: dateTime("When that certificate expires."),
      "milvusAuth?": {
        type: "string",
        enum: ["none", "password", "token"],
        description: "How Milvus was called when last verified: without credentials, with a username and password, or a token (from `target.milvusCredentials`).",
      },
      lastVerified: dateTime("When the endpoint was last verified through the ALB."),
      lastExecution: text("The execution that last verified it."),
    },
    "A verified deployment, as the registry keeps it: references only (ARNs, secret ids, S3 keys), never PEM.",
  ),
  Target: object({
    cluster: object({ name: text(), region: text() }),
    namespace: text(),
    service: object({ name: text(), port: { type: "integer" } }),
    "milvusCredentials?": object(
      { secretsManager: object({ secretId: text() }) },
      "The Secrets Manager secret verify-connection reads Milvus's credentials from: a reference, never the values.",
    ),
    ingress: object({
      name: text(),
      host: text(),
      scheme: { type: "string", enum: ["internet-facing", "internal"] },
      "route53HostedZoneId?": text(),
      annotations: { type: "object", additionalProperties: { type: "string" } },
    }),
  }),
  CertificateSource: {
    oneOf: [
      object({ secretsManager: object({ secretId: text() }) }),
      object({ s3: object({ bucket: text(), certificateKey: text(), chainKey: text(), privateKeyKey: text() }) }),
      object({
        kubernetesSecret: object(
          { cluster: object({ name: text(), region: text() }), namespace: text(), name: text() },
          "A kubernetes.io/tls Secret (cert-manager's) in the target's cluster: a reference, never its data.",
        ),
      }),
    ],
  },
  FieldIssue: object({
    path: text("The field, as a dotted path; empty for the request as a whole."),
    message: text("What is wrong and what is allowed."),
  }),
  InvalidRequest: errorBody(["InvalidRequest"], {
    issues: { type: "array", items: ref("FieldIssue"), description: "One entry per problem, all of them at once." },
  }),
  IdempotencyConflict: errorBody(["IdempotencyConflict"], { deploymentId: ref("DeploymentId"), statusUrl: text() }),
  ApiGatewayError: object({ message: text() }, "An answer from API Gateway itself; the request never reached milvus-l7."),
};

const RETRY_AFTER = { description: "Seconds to wait before retrying.", schema: { type: "integer" } };

const RESPONSES: Record<string, Schema> = {
  Forbidden: json(
    "API Gateway refused the call: it is not signed with SigV4 for `execute-api`, the signature is wrong, or the caller's IAM policy does not allow `execute-api:Invoke` on it.",
    ref("ApiGatewayError"),
  ),
  Throttled: json("API Gateway's stage throttle: retry with backoff.", ref("ApiGatewayError")),
  InternalError: json(
    "The API's configuration or AWS refused in a way the caller cannot fix; the message carries the request id, and the operator finds the detail in the API function's logs.",
    errorBody(["InternalError"]),
  ),
  ServiceUnavailable: json(
    "AWS is throttling or briefly unavailable, or too many deployments are running: retry after Retry-After seconds.",
    errorBody(["ServiceUnavailable"]),
    { "Retry-After": RETRY_AFTER },
  ),
};

const LOCATION = { Location: { description: "The deployment's statusUrl.", schema: { type: "string" } } };

/** The OpenAPI document; `requestSchemaRef` is the request schema's path relative to the document. */
export function openApiDocument(version: string, requestSchemaRef: string): Record<string, unknown> {
  const common = { "403": response("Forbidden"), "429": response("Throttled"), "500": response("InternalError"), "503": response("ServiceUnavailable") };
  return {
    openapi: "3.1.0",
    "x-generated": "Generated by `npm run docs` (scripts/docs/openapi.ts) from functions/api and the request schema: do not edit.",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "milvus-l7 HTTP API",
      version,
      description: [
        "Start a deployment of Milvus behind an ALB with TLS, read its status, list what is deployed.",
        "",
        "Every call is authorised by IAM: sign it with SigV4 for the `execute-api` service; the caller needs `execute-api:Invoke` on the method. Every answer is JSON, `error` a stable code for programs and `message` for people. Other methods on these paths answer 405 (`MethodNotAllowed`, with `Allow`); other paths 404 (`NotFound`), or API Gateway's 403.",
        "",
        `The request body is the deployment request (${REQUEST_DOC}). Generated by \`${REGENERATE}\` (scripts/docs/openapi.ts); test/unit/openapi.test.ts holds it to what functions/api/core.ts answers.`,
      ].join("\n"),
    },
    servers: [
      {
        url: `https://{restApiId}.execute-api.{region}.amazonaws.com/${API_STAGE}`,
        description: "A REGIONAL API: the stack's ApiUrl output.",
        variables: {
          restApiId: { default: "abcde12345", description: "The stack's ApiId output." },
          region: { default: "us-east-2", description: "The region the stack is deployed in." },
        },
      },
      {
        url: `https://{restApiId}-{vpceId}.execute-api.{region}.amazonaws.com/${API_STAGE}`,
        description: "A PRIVATE API (apiVpcEndpointIds set), through one of its execute-api VPC endpoints.",
        variables: {
          restApiId: { default: "abcde12345", description: "The stack's ApiId output." },
          vpceId: { default: "vpce-0123456789abcdef0", description: "One of the configured execute-api VPC endpoints." },
          region: { default: "us-east-2", description: "The region the stack is deployed in." },
        },
      },
    ],
    security: [{ sigv4: [] }],
    paths: {
      "/deployments": {
        post: {
          operationId: "startDeployment",
          summary: "Start a deployment",
          description:
            "Validates the body with the deployment request schema and starts the workflow. The deployment id is the Idempotency-Key, else a hash of the request as sent: sending the same request again (any key order or whitespace) answers for the same deployment instead of starting another.",
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description: "Names the deployment (its id). Reusing a key for a different request is a 409.",
              schema: ref("DeploymentId"),
            },
          ],
          requestBody: {
            required: true,
            description: `A deployment request: at most ${MAX_REQUEST_BYTES} bytes as compact JSON, ${MAX_BODY_BYTES} as sent.`,
            content: { "application/json": { schema: { $ref: requestSchemaRef } } },
          },
          responses: {
            "202": json("Started, or still running from the same request.", ref("StartedDeployment"), LOCATION),
            "200": json("The same request already ran to its end; nothing new was started.", ref("FinishedDeployment"), LOCATION),
            "400": json("The request is invalid (every bad field listed), the body is not JSON, or a header is malformed. Nothing was started.", {
              oneOf: [ref("InvalidRequest"), errorBody(["InvalidJson", "InvalidIdempotencyKey", "InvalidHeader"])],
            }),
            "409": json("This Idempotency-Key, or this deployment id, belongs to a different request.", ref("IdempotencyConflict")),
            "413": json(`The body is over ${MAX_BODY_BYTES} bytes.`, errorBody(["PayloadTooLarge"])),
            "415": json("The Content-Type is not JSON.", errorBody(["UnsupportedMediaType"])),
            ...common,
          },
        },
        get: {
          operationId: "listDeployments",
          summary: "List the verified deployments",
          responses: { "200": json("The deployments registry.", ref("DeploymentList")), ...common },
        },
      },
      "/deployments/{id}": {
        get: {
          operationId: "getDeployment",
          summary: "A deployment's status",
          parameters: [{ name: "id", in: "path", required: true, schema: ref("DeploymentId") }],
          responses: {
            "200": json("The execution's status, current step, summary or failure cause.", ref("DeploymentStatus")),
            "400": json("The id is not a deployment id.", errorBody(["InvalidDeploymentId"])),
            "404": json("There is no such deployment.", errorBody(["NotFound"])),
            ...common,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        sigv4: {
          type: "apiKey",
          name: "Authorization",
          in: "header",
          description: "AWS Signature Version 4 for the `execute-api` service (API Gateway AWS_IAM authorisation).",
          "x-amazon-apigateway-authtype": "awsSigv4",
        },
      },
      schemas: SCHEMAS,
      responses: RESPONSES,
    },
  };
}

/** The file's text; the document's version is the package's. */
export function openApiDoc(): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const requestSchemaRef = posix.relative(posix.dirname(OPENAPI_DOC), REQUEST_SCHEMA_DOC);
  return `${JSON.stringify(openApiDocument(version, requestSchemaRef), null, 2)}\n`;
}

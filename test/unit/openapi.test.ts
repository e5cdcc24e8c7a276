// docs/openapi.json (scripts/docs/openapi.ts) against what the API actually does: functions/api/core.ts is called
// with a mocked SFNClient and a fake registry, as test/unit/api.test.ts does, into every answer the document
// lists, and each body (and its documented headers) is validated with a JSON Schema validator against the
// document's response schema for that operation and status.
import { readFileSync } from "node:fs";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  GetExecutionHistoryCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { Ajv2020 } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { type ApiDeps, MAX_BODY_BYTES, handleApiRequest } from "../../functions/api/core";
import { AwsUnavailable, RegistryError } from "../../functions/lib/errors";
import type { DeploymentRecord } from "../../functions/lib/registry";
import { generateDocs } from "../../scripts/docs";
import { OPENAPI_DOC, REQUEST_SCHEMA_DOC } from "../../scripts/docs/files";

type Json = Record<string, unknown>;
type Method = "get" | "post";

const ROOT = new URL("../../", import.meta.url);
const text = (path: string) => readFileSync(new URL(path, ROOT), "utf8");
const openapi = JSON.parse(text(OPENAPI_DOC)) as Json & { paths: Record<string, Partial<Record<Method, Json>>>; components: Json };

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
// The document and the request schema it references, each under its path as the other names it.
ajv.addSchema(JSON.parse(text(REQUEST_SCHEMA_DOC)), new URL(REQUEST_SCHEMA_DOC, ROOT).href);
ajv.addSchema(openapi, new URL(OPENAPI_DOC, ROOT).href, undefined, false);

const pointer = (...segments: string[]) => segments.map((s) => `/${s.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
const schemaAt = (jsonPointer: string) => ajv.compile({ $ref: `${new URL(OPENAPI_DOC, ROOT).href}#${jsonPointer}` });

/** The documented response of an operation for a status, following a $ref into components.responses. */
function documentedResponse(method: Method, path: string, status: number): { at: string; response: Json } | undefined {
  const response = (openapi.paths[path]?.[method]?.responses as Record<string, Json> | undefined)?.[String(status)];
  if (response === undefined) return undefined;
  const ref = response.$ref;
  if (typeof ref === "string") {
    const name = ref.replace("#/components/responses/", "");
    return { at: pointer("components", "responses", name), response: (openapi.components.responses as Record<string, Json>)[name] as Json };
  }
  return { at: pointer("paths", path, method, "responses", String(status)), response };
}

const STATE_MACHINE = "arn:aws:states:us-east-2:123456789012:stateMachine:milvus-l7";
const execArn = (name: string) => `arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${name}`;
const read = (name: string): APIGatewayProxyEvent => JSON.parse(text(`events/${name}.json`));
const sfnMock = mockClient(SFNClient);
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const RECORD: DeploymentRecord = {
  targetId: "us-east-2/milvus-eks/milvus/milvus-demo",
  target: {
    cluster: { name: "milvus-eks", region: "us-east-2" },
    namespace: "milvus",
    service: { name: "milvus-demo", port: 19530 },
    ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: { "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10" } },
  },
  certificateArn: "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64",
  certificateSource: { s3: { bucket: "certs", certificateKey: "live/cert.pem", chainKey: "live/chain.pem", privateKeyKey: "live/privkey.pem" } },
  albHostname: "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com",
  servedFingerprint256: "AA:BB",
  servedNotAfter: "2026-07-01T00:00:00.000Z",
  lastVerified: "2026-04-09T14:40:00.000Z",
  lastExecution: execArn("req-abc"),
};
const SECRET_RECORD: DeploymentRecord = {
  ...RECORD,
  targetId: "us-east-2/milvus-eks/milvus/milvus-other",
  target: { ...RECORD.target, milvusCredentials: { secretsManager: { secretId: "milvus-l7/milvus-credentials" } } },
  certificateSource: { secretsManager: { secretId: "milvus-l7/other" } },
  milvusAuth: "password",
};

let registryFailure: Error | undefined;
let deps: ApiDeps;

beforeEach(() => {
  sfnMock.reset();
  registryFailure = undefined;
  deps = {
    sfn: new SFNClient({ region: "us-east-2" }),
    stateMachineArn: STATE_MACHINE,
    logger: quiet,
    registry: {
      list: async () => {
        if (registryFailure) throw registryFailure;
        return [RECORD, SECRET_RECORD];
      },
    },
  };
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: execArn(input.name), startDate: new Date() }));
});

const awsError = (name: string, status: number) =>
  new SFNServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, message: name });
const withHeader = (event: APIGatewayProxyEvent, name: string, values: string[]): APIGatewayProxyEvent => ({
  ...event,
  headers: { ...event.headers, [name]: values[0] as string },
  multiValueHeaders: { ...event.multiValueHeaders, [name]: values },
});

const exercised = new Set<string>();

/** Calls the core and checks the answer against the document: a listed status, its body schema, its headers. */
async function expectDocumented(method: Method, path: string, event: APIGatewayProxyEvent, status: number): Promise<Json> {
  const res: APIGatewayProxyResult = await handleApiRequest(event, deps);
  expect(res.statusCode, res.body).toBe(status);
  const documented = documentedResponse(method, path, status);
  expect(documented, `${method.toUpperCase()} ${path} documents ${status}`).toBeDefined();
  const { at, response } = documented as { at: string; response: Json };
  const validate = schemaAt(`${at}${pointer("content", "application/json", "schema")}`);
  const body = JSON.parse(res.body) as Json;
  expect(validate(body) ? [] : validate.errors, `${method.toUpperCase()} ${path} ${status}: ${res.body}`).toEqual([]);
  const headers = Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  expect(headers["content-type"]).toBe("application/json");
  for (const name of Object.keys((response.headers as Json | undefined) ?? {})) {
    expect(headers[name.toLowerCase()], `${status} carries ${name}`).toBeDefined();
  }
  exercised.add(`${method} ${path} ${status}`);
  return body;
}

describe("docs/openapi.json", () => {
  it("is what `npm run docs` generates, and names the request schema for the POST body", () => {
    expect(text(OPENAPI_DOC)).toBe(generateDocs()[OPENAPI_DOC]);
    const body = openapi.paths["/deployments"]?.post?.requestBody as { content: Record<string, { schema: { $ref: string } }> };
    const ref = body.content["application/json"]?.schema.$ref as string;
    expect(new URL(ref, new URL(OPENAPI_DOC, ROOT)).href).toBe(new URL(REQUEST_SCHEMA_DOC, ROOT).href);
    const validRequest = schemaAt(pointer("paths", "/deployments", "post", "requestBody", "content", "application/json", "schema"));
    expect(validRequest(JSON.parse(read("api-post-deployment").body as string))).toBe(true);
    expect(validRequest(JSON.parse(read("api-post-deployment-invalid").body as string))).toBe(false);
  });

  it("has exactly the API's routes: other methods are 405 with Allow naming the documented ones", async () => {
    const samples: Record<string, APIGatewayProxyEvent> = { "/deployments": read("api-list-deployments"), "/deployments/{id}": read("api-get-deployment") };
    expect(Object.keys(openapi.paths).sort()).toEqual(Object.keys(samples).sort());
    for (const [path, sample] of Object.entries(samples)) {
      const methods = Object.keys(openapi.paths[path] ?? {}).map((m) => m.toUpperCase());
      const res = await handleApiRequest({ ...sample, httpMethod: "DELETE" }, deps);
      expect(res.statusCode).toBe(405);
      expect(String(res.headers?.allow).split(", ").sort()).toEqual(methods.sort());
    }
  });

  it("describes deployment ids as the API checks them", async () => {
    const idSchema = schemaAt(pointer("components", "schemas", "DeploymentId"));
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "no", $metadata: {} }));
    for (const id of ["req-abc", "k".repeat(80), "a_b-C9", "k".repeat(81), "a:b", "a b", "a.b", "ünï"]) {
      const res = await handleApiRequest({ ...read("api-get-deployment"), pathParameters: { id } }, deps);
      expect(res.statusCode === 404, id).toBe(idSchema(id));
    }
  });
});

describe("POST /deployments answers as documented", () => {
  const path = "/deployments";
  const post = (event = read("api-post-deployment")) => event;
  const clash = (status: string, input: string) => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: execArn("x"), status, startDate: new Date(), input } as never);
  };

  it("202 started, and 202 for the same request still running", async () => {
    await expectDocumented("post", path, post(), 202);
    clash("RUNNING", read("api-post-deployment").body as string);
    await expectDocumented("post", path, post(), 202);
  });

  it("200 when the same request already ran", async () => {
    clash("SUCCEEDED", read("api-post-deployment").body as string);
    expect((await expectDocumented("post", path, post(), 200)).status).toBe("SUCCEEDED");
  });

  it("400 for an invalid request, a body that is not JSON, a bad Idempotency-Key, a repeated header", async () => {
    expect((await expectDocumented("post", path, read("api-post-deployment-invalid"), 400)).error).toBe("InvalidRequest");
    expect((await expectDocumented("post", path, { ...post(), body: null }, 400)).error).toBe("InvalidRequest");
    expect((await expectDocumented("post", path, { ...post(), body: "{not json" }, 400)).error).toBe("InvalidJson");
    const key = read("api-post-deployment-idempotency-key");
    expect((await expectDocumented("post", path, withHeader(key, "Idempotency-Key", ["a:b"]), 400)).error).toBe("InvalidIdempotencyKey");
    expect((await expectDocumented("post", path, withHeader(key, "Idempotency-Key", ["a", "b"]), 400)).error).toBe("InvalidHeader");
  });

  it("409 for an Idempotency-Key used with another request", async () => {
    clash("RUNNING", JSON.stringify({ ...JSON.parse(read("api-post-deployment").body as string), waitForAddressMinutes: 45 }));
    expect((await expectDocumented("post", path, read("api-post-deployment-idempotency-key"), 409)).error).toBe("IdempotencyConflict");
  });

  it("413 for a body over the limit, 415 for a body that is not JSON by Content-Type", async () => {
    await expectDocumented("post", path, { ...post(), body: `${" ".repeat(MAX_BODY_BYTES)}{}` }, 413);
    await expectDocumented("post", path, withHeader(post(), "Content-Type", ["text/plain"]), 415);
  });

  it("500 when AWS refuses, 503 when it throttles or too many deployments run", async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError("AccessDeniedException", 400));
    await expectDocumented("post", path, post(), 500);
    sfnMock.on(StartExecutionCommand).rejects(awsError("ThrottlingException", 400));
    await expectDocumented("post", path, post(), 503);
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionLimitExceeded({ message: "limit", $metadata: {} }));
    await expectDocumented("post", path, post(), 503);
  });
});

describe("GET /deployments/{id} answers as documented", () => {
  const path = "/deployments/{id}";
  const START = new Date("2026-04-09T14:30:16Z");
  const STOP = new Date("2026-04-09T14:41:02Z");

  it("200 running (with the current step), succeeded (with the summary), failed (with error and cause)", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: execArn("x"), status: "RUNNING", startDate: START } as never);
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [{ id: 3, type: "TaskStateEntered", timestamp: START, stateEnteredEventDetails: { name: "GetIngressStatus" } }],
    });
    expect((await expectDocumented("get", path, read("api-get-deployment"), 200)).currentStep).toBe("GetIngressStatus");
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: execArn("x"), status: "SUCCEEDED", startDate: START, stopDate: STOP, output: '{"status":"SUCCEEDED","targets":[]}' } as never);
    expect((await expectDocumented("get", path, read("api-get-deployment"), 200)).output).toEqual({ status: "SUCCEEDED", targets: [] });
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: execArn("x"),
      status: "FAILED",
      startDate: START,
      stopDate: STOP,
      error: "KubernetesForbidden",
      cause: JSON.stringify({ errorType: "KubernetesForbidden", errorMessage: "Grant the role an access entry." }),
    } as never);
    expect((await expectDocumented("get", path, read("api-get-deployment"), 200)).cause).toBe("Grant the role an access entry.");
  });

  it("400 for an id that cannot be a deployment's, 404 for an unknown one", async () => {
    await expectDocumented("get", path, { ...read("api-get-deployment"), pathParameters: { id: "a:b" } }, 400);
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "no", $metadata: {} }));
    await expectDocumented("get", path, read("api-get-deployment"), 404);
  });

  it("500 when AWS refuses, 503 when it throttles", async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(awsError("AccessDeniedException", 400));
    await expectDocumented("get", path, read("api-get-deployment"), 500);
    sfnMock.on(DescribeExecutionCommand).rejects(awsError("ThrottlingException", 400));
    await expectDocumented("get", path, read("api-get-deployment"), 503);
  });
});

describe("GET /deployments answers as documented", () => {
  const path = "/deployments";

  it("200 with the registry's records, each kind of certificate source", async () => {
    const body = await expectDocumented("get", path, read("api-list-deployments"), 200);
    expect((body.deployments as unknown[]).length).toBe(2);
  });

  it("500 when the registry is refused, 503 when it is throttled", async () => {
    registryFailure = new RegistryError("Access denied: dynamodb:Scan");
    await expectDocumented("get", path, read("api-list-deployments"), 500);
    registryFailure = new AwsUnavailable("AWS throttled dynamodb:Scan");
    await expectDocumented("get", path, read("api-list-deployments"), 503);
  });
});

// API Gateway's own answers (its authoriser and throttle): documented for callers, never produced by the core.
const FROM_API_GATEWAY = new Set(["403", "429"]);

describe("the document's answers", () => {
  // The tests of a file run in order: this one after those that call the API above.
  it("are each produced by the API above, but for API Gateway's own", () => {
    const documented = Object.entries(openapi.paths).flatMap(([path, operations]) =>
      Object.entries(operations ?? {}).flatMap(([method, operation]) =>
        Object.keys(operation.responses as Json)
          .filter((status) => !FROM_API_GATEWAY.has(status))
          .map((status) => `${method} ${path} ${status}`),
      ),
    );
    expect([...exercised].sort()).toEqual(documented.sort());
  });
});

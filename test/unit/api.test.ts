// functions/api against a mocked SFNClient (aws-sdk-client-mock) and a fake Registry, driven by the API Gateway
// samples in events/.
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
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  type ApiDeps,
  type ApiLogger,
  canonicalJson,
  executionNameFor,
  handleApiRequest,
  MAX_BODY_BYTES,
} from "../../functions/api/core";
import { makeHandler } from "../../functions/api/handler";
import { AwsUnavailable, RegistryError } from "../../functions/lib/errors";
import type { DeploymentRecord } from "../../functions/lib/registry";
import { lambdaContext } from "../../sandbox/workflow";

const STATE_MACHINE = "arn:aws:states:us-east-2:123456789012:stateMachine:milvus-l7";
const execArn = (name: string) => `arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${name}`;

const read = (name: string): APIGatewayProxyEvent =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), "utf8"));
// The request the API samples carry: the console example without its editors' `$schema` key.
const { $schema: _editorHint, ...CONSOLE_START } = JSON.parse(readFileSync(new URL("../../events/console-start.json", import.meta.url), "utf8"));

const sfnMock = mockClient(SFNClient);

interface LogLine {
  level: string;
  message: string;
  attributes: Record<string, unknown>;
}
let logs: LogLine[];
const spyLogger: ApiLogger = {
  info: (message, attributes) => logs.push({ level: "info", message, attributes }),
  warn: (message, attributes) => logs.push({ level: "warn", message, attributes }),
  error: (message, attributes) => logs.push({ level: "error", message, attributes }),
};

const RECORD: DeploymentRecord & { sourceBucket: string } = {
  targetId: "us-east-2/milvus-eks/milvus/milvus-demo",
  target: {
    cluster: { name: "milvus-eks", region: "us-east-2" },
    namespace: "milvus",
    service: { name: "milvus-demo", port: 19530 },
    ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: {} },
  },
  certificateArn: "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64",
  certificateSource: {
    s3: { bucket: "certs", certificateKey: "live/cert.pem", chainKey: "live/chain.pem", privateKeyKey: "live/privkey.pem" },
  },
  sourceBucket: "certs",
  albHostname: "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com",
  servedFingerprint256: "AA:BB",
  servedNotAfter: "2026-07-01T00:00:00.000Z",
  lastVerified: "2026-04-09T14:40:00.000Z",
  lastExecution: execArn("req-abc"),
};

/** The API only lists the registry (ApiDeps["registry"] is Pick<Registry, "list">). */
function fakeRegistry(records: DeploymentRecord[] = []): ApiDeps["registry"] & { failWith?: Error } {
  const reg: ApiDeps["registry"] & { failWith?: Error } = {
    list: async () => {
      if (reg.failWith) throw reg.failWith;
      return records;
    },
  };
  return reg;
}

let deps: ApiDeps;
let registry: ReturnType<typeof fakeRegistry>;

beforeEach(() => {
  sfnMock.reset();
  logs = [];
  registry = fakeRegistry([RECORD]);
  deps = { sfn: new SFNClient({ region: "us-east-2" }), stateMachineArn: STATE_MACHINE, registry, logger: spyLogger };
  // StartExecution answers with the ARN Step Functions derives from the name.
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: execArn(input.name),
    startDate: new Date("2026-04-09T14:30:16Z"),
  }));
});

const call = (event: APIGatewayProxyEvent) => handleApiRequest(event, deps);
const bodyOf = (res: APIGatewayProxyResult) => JSON.parse(res.body);
const withBody = (event: APIGatewayProxyEvent, body: unknown): APIGatewayProxyEvent => ({
  ...event,
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** Same object, keys in reverse order at every level. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).reverse().map(([k, x]) => [k, reversed(x)]));
  }
  return v;
}

function expectJson(res: APIGatewayProxyResult, status: number) {
  expect(res.statusCode).toBe(status);
  expect(res.headers?.["content-type"]).toBe("application/json");
  return bodyOf(res);
}

function awsError(name: string, status: number, message = name): SFNServiceException {
  return new SFNServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, message });
}

describe("POST /deployments", () => {
  it("starts an execution named from the request hash and answers 202 with the status URL", async () => {
    const res = await call(read("api-post-deployment"));
    const body = expectJson(res, 202);
    const expectedName = executionNameFor(CONSOLE_START);
    expect(expectedName).toMatch(/^req-[0-9a-f]{64}$/);
    expect(body).toEqual({
      deploymentId: expectedName,
      executionArn: execArn(expectedName),
      // The sample was called on the execute-api URL of stage prod.
      statusUrl: `/prod/deployments/${expectedName}`,
    });
    expect(res.headers?.location).toBe(body.statusUrl);
    const start = sfnMock.commandCalls(StartExecutionCommand);
    expect(start).toHaveLength(1);
    const input = start[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(STATE_MACHINE);
    expect(input?.name).toBe(expectedName);
    // The original body, byte for byte: ResolveRequest validates and normalises it itself.
    expect(input?.input).toBe(read("api-post-deployment").body);
  });

  it("gives the same name to the same request, whatever its key order or whitespace", async () => {
    const names: string[] = [];
    for (const body of [CONSOLE_START, reversed(CONSOLE_START), JSON.stringify(CONSOLE_START, null, 4)]) {
      const res = await call(withBody(read("api-post-deployment"), body));
      names.push(bodyOf(res).deploymentId);
    }
    expect(new Set(names).size).toBe(1);
    const other = await call(withBody(read("api-post-deployment"), { ...CONSOLE_START, waitForAddressMinutes: 30 }));
    expect(bodyOf(other).deploymentId).not.toBe(names[0]);
  });

  it("hashes the request as sent: a default the schema gains does not rename it, a spelled-out default does", async () => {
    const { waitForAddressMinutes: _w, cutover: _c, ...implicit } = CONSOLE_START;
    const spelled = await call(withBody(read("api-post-deployment"), CONSOLE_START));
    const left = await call(withBody(read("api-post-deployment"), implicit));
    expect(bodyOf(left).deploymentId).toBe(executionNameFor(implicit));
    expect(bodyOf(left).deploymentId).not.toBe(bodyOf(spelled).deploymentId);
  });

  it("canonicalJson sorts keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: [{ y: 1, x: 2 }, 3], a: null, c: undefined })).toBe('{"a":null,"b":[{"x":2,"y":1},3]}');
  });

  it("uses the Idempotency-Key header as the execution name, whatever its case", async () => {
    const body = expectJson(await call(read("api-post-deployment-idempotency-key")), 202);
    expect(body.deploymentId).toBe("portal-change-CHG0031337");
    expect(body.executionArn).toBe(execArn("portal-change-CHG0031337"));
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.name).toBe("portal-change-CHG0031337");

    const lower = read("api-post-deployment");
    lower.headers = { ...lower.headers, "idempotency-key": "ticket_42" };
    lower.multiValueHeaders = { ...lower.multiValueHeaders, "idempotency-key": ["ticket_42"] };
    expect(bodyOf(await call(lower)).deploymentId).toBe("ticket_42");
  });

  it.each([
    ["empty", ""],
    ["too long", "k".repeat(81)],
    ["with a space", "change 42"],
    ["with a colon", "a:b"],
    ["with a slash", "a/b"],
  ])("refuses an Idempotency-Key that is %s with 400 and starts nothing", async (_, key) => {
    const event = read("api-post-deployment-idempotency-key");
    event.headers["Idempotency-Key"] = key;
    event.multiValueHeaders["Idempotency-Key"] = [key];
    const body = expectJson(await call(event), 400);
    expect(body.error).toBe("InvalidIdempotencyKey");
    expect(body.message).toContain("1-80 letters, digits, '-' and '_'");
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it("accepts an 80-character Idempotency-Key", async () => {
    const event = read("api-post-deployment-idempotency-key");
    event.headers["Idempotency-Key"] = "k".repeat(80);
    event.multiValueHeaders["Idempotency-Key"] = ["k".repeat(80)];
    expect(bodyOf(await call(event)).deploymentId).toBe("k".repeat(80));
  });

  it("refuses two different Idempotency-Key values", async () => {
    const event = read("api-post-deployment-idempotency-key");
    event.multiValueHeaders["Idempotency-Key"] = ["a", "b"];
    expect(expectJson(await call(event), 400).error).toBe("InvalidHeader");
  });

  it("answers 400 naming every bad field of the invalid sample, and starts nothing", async () => {
    const body = expectJson(await call(read("api-post-deployment-invalid")), 400);
    expect(body.error).toBe("InvalidRequest");
    const paths = (body.issues as { path: string; message: string }[]).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "cluster.nmae",
        "cluster.name",
        "milvus.namespace",
        "ingress.host",
        "ingress.scheme",
        "certificate",
        "waitForAddressMinutes",
      ]),
    );
    const issue = (p: string) => (body.issues as { path: string; message: string }[]).find((i) => i.path === p)?.message;
    expect(issue("cluster.nmae")).toContain("unknown field");
    expect(issue("cluster.name")).toBe("is required");
    expect(issue("ingress.host")).toContain("wildcard");
    expect(issue("ingress.scheme")).toContain("internet-facing, internal");
    expect(issue("waitForAddressMinutes")).toBe("must be an integer from 1 to 60");
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it("refuses PEM material in the body with 400 (requests are visible in the console)", async () => {
    const pem = structuredClone(CONSOLE_START);
    pem.ingress.host = "-----BEGIN CERTIFICATE-----";
    const body = expectJson(await call(withBody(read("api-post-deployment"), pem)), 400);
    expect(body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: "ingress.host", message: expect.stringContaining("PEM") })]));
  });

  it("answers 400 for a body that is not JSON, without quoting it", async () => {
    const body = expectJson(await call(withBody(read("api-post-deployment"), '{"cluster": secret-ish')), 400);
    expect(body).toEqual({ error: "InvalidJson", message: "The body is not valid JSON." });
  });

  it("answers 400 for a missing body", async () => {
    const event = { ...read("api-post-deployment"), body: null };
    const body = expectJson(await call(event), 400);
    expect(body.error).toBe("InvalidRequest");
    expect(body.issues[0].path).toBe("");
  });

  it("decodes a base64 body", async () => {
    const event = read("api-post-deployment");
    event.body = Buffer.from(event.body as string).toString("base64");
    event.isBase64Encoded = true;
    expectJson(await call(event), 202);
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input).toBe(read("api-post-deployment").body);
  });

  it("answers 413 for a body over the limit and 415 for a body that is not JSON by Content-Type", async () => {
    const big = withBody(read("api-post-deployment"), `${" ".repeat(MAX_BODY_BYTES)}{}`);
    expect(expectJson(await call(big), 413).error).toBe("PayloadTooLarge");
    const form = read("api-post-deployment");
    form.headers["Content-Type"] = "application/x-www-form-urlencoded";
    form.multiValueHeaders["Content-Type"] = ["application/x-www-form-urlencoded"];
    expect(expectJson(await call(form), 415).error).toBe("UnsupportedMediaType");
    form.headers["Content-Type"] = "application/json; charset=utf-8";
    form.multiValueHeaders["Content-Type"] = ["application/json; charset=utf-8"];
    expectJson(await call(form), 202);
  });

  it("answers 409 when the Idempotency-Key was used for a different request", async () => {
    const key = "portal-change-CHG0031337";
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: `Execution Already Exists: '${execArn(key)}'`, $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(key) }).resolves({
      executionArn: execArn(key),
      stateMachineArn: STATE_MACHINE,
      name: key,
      status: "RUNNING",
      startDate: new Date(),
      input: JSON.stringify({ ...CONSOLE_START, waitForAddressMinutes: 45 }),
    });
    const body = expectJson(await call(read("api-post-deployment-idempotency-key")), 409);
    expect(body.error).toBe("IdempotencyConflict");
    expect(body.message).toContain(`Idempotency-Key ${key} was already used for a different request`);
    expect(body.statusUrl).toBe(`/prod/deployments/${key}`);
  });

  it("treats a name clash with the same request in another key order as the same deployment (202)", async () => {
    const key = "portal-change-CHG0031337";
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: execArn(key),
      status: "RUNNING",
      startDate: new Date(),
      input: JSON.stringify(reversed(CONSOLE_START), null, 2),
    } as never);
    const res = await call(read("api-post-deployment-idempotency-key"));
    expect(expectJson(res, 202)).toEqual({ deploymentId: key, executionArn: execArn(key), statusUrl: `/prod/deployments/${key}` });
  });

  it("answers 200 pointing at the earlier execution when the same request already ran to the end", async () => {
    const name = executionNameFor(CONSOLE_START);
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: execArn(name),
      status: "SUCCEEDED",
      startDate: new Date(),
      stopDate: new Date(),
      input: read("api-post-deployment").body as string,
    } as never);
    const body = expectJson(await call(read("api-post-deployment")), 200);
    expect(body).toMatchObject({ deploymentId: name, executionArn: execArn(name), status: "SUCCEEDED" });
    expect(body.message).toContain("new Idempotency-Key");
  });

  it("answers 503 with Retry-After when Step Functions throttles", async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError("ThrottlingException", 400, "Rate exceeded"));
    const res = await call(read("api-post-deployment"));
    expect(expectJson(res, 503).error).toBe("ServiceUnavailable");
    expect(res.headers?.["retry-after"]).toBe("5");
  });

  it("answers 503 when too many executions are running", async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionLimitExceeded({ message: "limit", $metadata: {} }));
    const res = await call(read("api-post-deployment"));
    expect(expectJson(res, 503).error).toBe("ServiceUnavailable");
    expect(res.headers?.["retry-after"]).toBeDefined();
  });

  it("answers a generic 500 on access denied and logs the detail, never the body", async () => {
    sfnMock.on(StartExecutionCommand).rejects(awsError("AccessDeniedException", 400, "User is not authorized to perform states:StartExecution"));
    const event = read("api-post-deployment");
    const body = expectJson(await call(event), 500);
    expect(body.error).toBe("InternalError");
    expect(body.message).toContain(event.requestContext.requestId);
    expect(body.message).not.toContain("states:StartExecution");
    const error = logs.find((l) => l.level === "error");
    expect(String(error?.attributes.detail)).toContain("Access denied: states:StartExecution on");
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain("milvus-demo.milvus.io");
    expect(logged).not.toContain("secretsmanager");
  });

  it("answers 500 when STATE_MACHINE_ARN is not configured", async () => {
    deps.stateMachineArn = "";
    expect(expectJson(await call(read("api-post-deployment")), 500).error).toBe("InternalError");
    expect(logs.some((l) => l.message === "misconfigured")).toBe(true);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe("GET /deployments/{id}", () => {
  const ID = "req-36007b3a9842dc31133e82b01dab2b6ff65923d71c3e72838fa4d550f710edb2";
  const START = new Date("2026-04-09T14:30:16Z");
  const STOP = new Date("2026-04-09T14:41:02Z");

  it("is the hash the sample POST produces", () => {
    expect(read("api-get-deployment").pathParameters?.id).toBe(ID);
    expect(executionNameFor(CONSOLE_START)).toBe(ID);
  });

  it("RUNNING: status and the newest entered state, read newest-first without execution data", async () => {
    sfnMock.on(DescribeExecutionCommand, { executionArn: execArn(ID) }).resolves({ executionArn: execArn(ID), status: "RUNNING", startDate: START } as never);
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 31, type: "LambdaFunctionScheduled", timestamp: new Date() },
        { id: 30, type: "TaskStateEntered", timestamp: new Date(), stateEnteredEventDetails: { name: "GetIngressStatus" } },
        { id: 28, type: "WaitStateEntered", timestamp: new Date(), stateEnteredEventDetails: { name: "WaitForAddress" } },
      ],
    });
    const body = expectJson(await call(read("api-get-deployment")), 200);
    expect(body).toEqual({
      deploymentId: ID,
      executionArn: execArn(ID),
      status: "RUNNING",
      startDate: START.toISOString(),
      currentStep: "GetIngressStatus",
    });
    const history = sfnMock.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input;
    expect(history).toMatchObject({ executionArn: execArn(ID), reverseOrder: true, includeExecutionData: false });
  });

  it("RUNNING: pages through history until a state was entered", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: execArn(ID), status: "RUNNING", startDate: START } as never);
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: [{ id: 9, type: "MapIterationStarted", timestamp: new Date() }], nextToken: "t1" })
      .resolvesOnce({ events: [{ id: 8, type: "MapStateEntered", timestamp: new Date(), stateEnteredEventDetails: { name: "DeployTargets" } }] });
    expect(expectJson(await call(read("api-get-deployment")), 200).currentStep).toBe("DeployTargets");
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand)[1]?.args[0].input.nextToken).toBe("t1");
  });

  it("RUNNING: leaves the step out when the history cannot be read", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: execArn(ID), status: "RUNNING", startDate: START } as never);
    sfnMock.on(GetExecutionHistoryCommand).rejects(awsError("ThrottlingException", 400));
    const body = expectJson(await call(read("api-get-deployment")), 200);
    expect(body.status).toBe("RUNNING");
    expect(body.currentStep).toBeUndefined();
    expect(logs.some((l) => l.level === "warn" && l.message === "current step unavailable")).toBe(true);
  });

  it("SUCCEEDED: the summary, parsed, and no history call", async () => {
    const summary = { status: "SUCCEEDED", certificate: { arn: RECORD.certificateArn }, cutover: "after-verify", targets: [] };
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: execArn(ID),
      status: "SUCCEEDED",
      startDate: START,
      stopDate: STOP,
      output: JSON.stringify(summary),
    } as never);
    const body = expectJson(await call(read("api-get-deployment")), 200);
    expect(body).toEqual({
      deploymentId: ID,
      executionArn: execArn(ID),
      status: "SUCCEEDED",
      startDate: START.toISOString(),
      stopDate: STOP.toISOString(),
      output: summary,
    });
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });

  it("FAILED: error and cause; a Lambda error's JSON cause is reduced to its message", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: execArn(ID),
      status: "FAILED",
      startDate: START,
      stopDate: STOP,
      error: "KubernetesForbidden",
      cause: JSON.stringify({ errorType: "KubernetesForbidden", errorMessage: "Grant the role an access entry.", trace: ["at x"] }),
    } as never);
    const body = expectJson(await call(read("api-get-deployment")), 200);
    expect(body).toMatchObject({ status: "FAILED", error: "KubernetesForbidden", cause: "Grant the role an access entry." });
    expect(body.output).toBeUndefined();
  });

  it.each(["TIMED_OUT", "ABORTED"])("%s: status and stop date", async (status) => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: execArn(ID), status, startDate: START, stopDate: STOP } as never);
    const body = expectJson(await call(read("api-get-deployment")), 200);
    expect(body).toMatchObject({ status, stopDate: STOP.toISOString() });
    expect(body.currentStep).toBeUndefined();
  });

  it("answers 404 for an unknown deployment", async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "Execution Does Not Exist", $metadata: {} }));
    const body = expectJson(await call(read("api-get-deployment")), 404);
    expect(body.error).toBe("NotFound");
  });

  it("answers 400 for an id that cannot be an execution name", async () => {
    const event = read("api-get-deployment");
    event.pathParameters = { id: "a:b" };
    expect(expectJson(await call(event), 400).error).toBe("InvalidDeploymentId");
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it("answers 503 with Retry-After when DescribeExecution throttles", async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(awsError("ThrottlingException", 400, "Rate exceeded"));
    const res = await call(read("api-get-deployment"));
    expectJson(res, 503);
    expect(res.headers?.["retry-after"]).toBe("5");
  });
});

describe("GET /deployments", () => {
  it("lists the registry, references only", async () => {
    const body = expectJson(await call(read("api-list-deployments")), 200);
    expect(body.deployments).toHaveLength(1);
    const [d] = body.deployments;
    expect(d.targetId).toBe(RECORD.targetId);
    expect(d.certificateArn).toBe(RECORD.certificateArn);
    expect(d.certificateSource).toEqual(RECORD.certificateSource);
    // Internal index attribute, not part of the contract.
    expect(d.sourceBucket).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain("BEGIN");
  });

  it("shows how Milvus was called and the credentials secret's reference (never its values)", async () => {
    const milvusCredentials = { secretsManager: { secretId: "milvus-l7/milvus-credentials" } };
    deps = { ...deps, registry: fakeRegistry([{ ...RECORD, target: { ...RECORD.target, milvusCredentials }, milvusAuth: "password" }]) };
    const [d] = expectJson(await call(read("api-list-deployments")), 200).deployments;
    expect(d.milvusAuth).toBe("password");
    expect(d.target.milvusCredentials).toEqual(milvusCredentials);
  });

  it("answers 503 when the registry is throttled and 500 when it is refused", async () => {
    registry.failWith = new AwsUnavailable("AWS throttled dynamodb:Scan");
    const res = await call(read("api-list-deployments"));
    expectJson(res, 503);
    expect(res.headers?.["retry-after"]).toBe("5");
    registry.failWith = new RegistryError("Access denied: dynamodb:Scan on milvus-l7-deployments");
    expect(expectJson(await call(read("api-list-deployments")), 500).message).not.toContain("dynamodb");
  });
});

describe("routing", () => {
  it("answers 404 for another path", async () => {
    const event = { ...read("api-list-deployments"), resource: "/{proxy+}", path: "/certificates" };
    expect(expectJson(await call(event), 404).error).toBe("NotFound");
  });

  it("answers 405 with Allow for another method", async () => {
    const del = { ...read("api-get-deployment"), httpMethod: "DELETE" };
    const res = await call(del);
    expect(expectJson(res, 405).error).toBe("MethodNotAllowed");
    expect(res.headers?.allow).toBe("GET");
    const put = { ...read("api-list-deployments"), httpMethod: "PUT" };
    expect((await call(put)).headers?.allow).toBe("GET, POST");
  });

  it("routes a greedy {proxy+} resource by path", async () => {
    const event = { ...read("api-get-deployment"), resource: "/{proxy+}", pathParameters: { proxy: "deployments/abc" }, path: "/deployments/abc" };
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: execArn("abc"), status: "ABORTED", startDate: new Date(), stopDate: new Date() } as never);
    expect(expectJson(await call(event), 200).deploymentId).toBe("abc");
  });

  it("builds the status URL from the path the client called (stage, custom-domain base path, none)", async () => {
    const base = read("api-post-deployment");
    const id = executionNameFor(CONSOLE_START);
    const custom = { ...base, requestContext: { ...base.requestContext, path: "/milvus/deployments", domainName: "api.example.com" } };
    expect(bodyOf(await call(custom)).statusUrl).toBe(`/milvus/deployments/${id}`);
    const bare = { ...base, requestContext: { ...base.requestContext, path: "/deployments", domainName: "api.example.com" } };
    expect(bodyOf(await call(bare)).statusUrl).toBe(`/deployments/${id}`);
  });
});

describe("handler (middy wrapper)", () => {
  it("logs one line per request with caller and status, never the body or the signature", async () => {
    const { logger: _unused, ...withoutSpy } = deps;
    const handler = makeHandler(withoutSpy);
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const ok = await handler(read("api-post-deployment"), lambdaContext("milvus-l7-api"));
      const bad = await handler(read("api-post-deployment-invalid"), lambdaContext("milvus-l7-api"));
      expect([ok.statusCode, bad.statusCode]).toEqual([202, 400]);
    } finally {
      spy.mockRestore();
    }
    const lines = written.join("").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const handled = lines.filter((l) => l.message === "request handled");
    expect(handled.map((l) => l.statusCode)).toEqual([202, 400]);
    expect(handled[0]).toMatchObject({
      caller: "arn:aws:sts::123456789012:assumed-role/platform-portal/platform-portal",
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      resource: "/deployments",
    });
    const all = written.join("");
    for (const secretish of ["milvus-demo.milvus.io", "Signature=", "X-Amz-Security-Token", "Milvus_Prod", "secretsmanager"]) {
      expect(all).not.toContain(secretish);
    }
  });
});

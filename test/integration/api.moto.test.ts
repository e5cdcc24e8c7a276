// The API handler (middy wrapper included) against a real moto_server: Step Functions for start/status and
// DynamoDB behind the real registry. moto's Step Functions records executions but runs nothing (unless its
// execute_state_machine config is on, which the sandbox leaves off), so what it answers is fixed:
// - every execution stays RUNNING until StopExecution (then ABORTED, with a stopDate); no output, error or cause;
// - GetExecutionHistory is a canned 4-event list whatever the definition: ExecutionStarted, PassStateEntered
//   "A State", PassStateExited, ExecutionSucceeded — chronological even when reverseOrder is asked for;
// - StartExecution with a taken name returns the same execution only when the input string is byte-identical
//   AND the execution is RUNNING; otherwise ExecutionAlreadyExists — the rule AWS documents for Standard workflows.
import { readFileSync } from "node:fs";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionNameFor } from "../../functions/api/core";
import { type ApiHandler, makeHandler } from "../../functions/api/handler";
import { type DeploymentRecord, dynamoRegistry, REGISTRY_TABLE } from "../../functions/lib/registry";
import { type Moto, startMoto } from "../../sandbox/moto";
import { lambdaContext, renderDefinition } from "../../sandbox/workflow";

const TABLE = "milvus-l7-deployments";
const read = (name: string): APIGatewayProxyEvent =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), "utf8"));
// The request the API samples carry: the console example without its editors' `$schema` key.
const { $schema: _editorHint, ...CONSOLE_START } = JSON.parse(readFileSync(new URL("../../events/console-start.json", import.meta.url), "utf8"));
const HASH_ID = executionNameFor(CONSOLE_START);
const KEY = "portal-change-CHG0031337";

let moto: Moto;
let sfn: SFNClient;
let stateMachineArn: string;
let handler: ApiHandler;
let dynamoRecord: (r: DeploymentRecord) => Promise<void>;

const call = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult & { json: Record<string, unknown> }> => {
  const res = await handler(event, lambdaContext("milvus-l7-api"));
  expect(res.headers?.["content-type"]).toBe("application/json");
  return { ...res, json: JSON.parse(res.body) };
};

const getEvent = (id: string): APIGatewayProxyEvent => {
  const e = read("api-get-deployment");
  return { ...e, path: `/deployments/${id}`, pathParameters: { id }, requestContext: { ...e.requestContext, path: `/prod/deployments/${id}` } };
};

beforeAll(async () => {
  moto = await startMoto("us-east-2");
  const config = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
  sfn = new SFNClient(config);
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: "milvus-l7",
      definition: JSON.stringify(renderDefinition()),
      roleArn: "arn:aws:iam::123456789012:role/milvus-l7-state-machine",
      type: "STANDARD",
    }),
  );
  stateMachineArn = created.stateMachineArn as string;

  const ddb = new DynamoDBClient(config);
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: REGISTRY_TABLE.partitionKey, AttributeType: "S" },
        { AttributeName: REGISTRY_TABLE.certificateIndex.partitionKey, AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: REGISTRY_TABLE.partitionKey, KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: REGISTRY_TABLE.certificateIndex.name,
          KeySchema: [{ AttributeName: REGISTRY_TABLE.certificateIndex.partitionKey, KeyType: "HASH" }],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
  const registry = dynamoRegistry(DynamoDBDocumentClient.from(ddb), TABLE);
  dynamoRecord = (r) => registry.record(r);
  handler = makeHandler({ sfn, stateMachineArn, registry });
});

afterAll(async () => {
  await moto?.stop();
});

describe("API against moto's Step Functions", () => {
  let firstArn: string;

  it("POST /deployments starts an execution named from the request hash (202)", async () => {
    const res = await call(read("api-post-deployment"));
    expect(res.statusCode).toBe(202);
    expect(res.json).toEqual({
      deploymentId: HASH_ID,
      executionArn: `arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${HASH_ID}`,
      statusUrl: `/prod/deployments/${HASH_ID}`,
    });
    firstArn = res.json.executionArn as string;
    // moto holds the original body as the execution's input.
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: firstArn }));
    expect(described.input).toBe(read("api-post-deployment").body);
  });

  it("the same POST again is the same execution (Step Functions' own idempotency)", async () => {
    const res = await call(read("api-post-deployment"));
    expect(res.statusCode).toBe(202);
    expect(res.json.executionArn).toBe(firstArn);
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(listed.executions?.map((e) => e.name)).toEqual([HASH_ID]);
  });

  it("the same request with other key order and whitespace is the same execution too", async () => {
    // moto, like AWS, compares input strings: this clashes, and the handler recognises the same request.
    const event = read("api-post-deployment");
    event.body = JSON.stringify(Object.fromEntries(Object.entries(CONSOLE_START).reverse()), null, 2);
    const res = await call(event);
    expect(res.statusCode).toBe(202);
    expect(res.json.executionArn).toBe(firstArn);
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(listed.executions).toHaveLength(1);
  });

  it("an Idempotency-Key names the execution; the same key with a different body answers 409", async () => {
    const first = await call(read("api-post-deployment-idempotency-key"));
    expect(first.statusCode).toBe(202);
    expect(first.json.deploymentId).toBe(KEY);
    expect(first.json.executionArn).toBe(`arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${KEY}`);

    const again = await call(read("api-post-deployment-idempotency-key"));
    expect(again.statusCode).toBe(202);
    expect(again.json.executionArn).toBe(first.json.executionArn);

    const other = read("api-post-deployment-idempotency-key");
    other.body = JSON.stringify({ ...CONSOLE_START, waitForAddressMinutes: 45 });
    const clash = await call(other);
    expect(clash.statusCode).toBe(409);
    expect(clash.json.error).toBe("IdempotencyConflict");
    expect(clash.json.message).toContain(`Idempotency-Key ${KEY} was already used for a different request`);
    // The clash started nothing: the key's execution still holds the first body.
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: first.json.executionArn as string }));
    expect(described.input).toBe(read("api-post-deployment-idempotency-key").body);
  });

  it("an invalid body answers 400 and starts nothing", async () => {
    const before = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions?.length;
    const res = await call(read("api-post-deployment-invalid"));
    expect(res.statusCode).toBe(400);
    expect(res.json.error).toBe("InvalidRequest");
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions?.length).toBe(before);
  });

  it("GET /deployments/{id} round-trips: RUNNING, with moto's canned history as the current step", async () => {
    const res = await call(read("api-get-deployment"));
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({
      deploymentId: HASH_ID,
      executionArn: firstArn,
      status: "RUNNING",
      startDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      // Not a state of our ASL: moto's fixed history says a Pass state "A State" was entered.
      currentStep: "A State",
    });
  });

  it("a stopped execution reads ABORTED, and the same request then answers 200 without starting anything", async () => {
    await sfn.send(new StopExecutionCommand({ executionArn: firstArn }));
    const status = await call(read("api-get-deployment"));
    expect(status.statusCode).toBe(200);
    expect(status.json).toMatchObject({ status: "ABORTED", stopDate: expect.any(String) });
    expect(status.json.currentStep).toBeUndefined();

    // Closed execution + same name → ExecutionAlreadyExists even for the same input (AWS's rule, and moto's).
    const replay = await call(read("api-post-deployment"));
    expect(replay.statusCode).toBe(200);
    expect(replay.json).toMatchObject({ deploymentId: HASH_ID, executionArn: firstArn, status: "ABORTED" });
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(listed.executions?.filter((e) => e.name === HASH_ID)).toHaveLength(1);
  });

  it("GET of an unknown id answers 404", async () => {
    const res = await call(getEvent("req-0000000000000000000000000000000000000000000000000000000000000000"));
    expect(res.statusCode).toBe(404);
    expect(res.json.error).toBe("NotFound");
  });
});

describe("API against moto's DynamoDB registry", () => {
  it("GET /deployments lists what the workflow recorded", async () => {
    const empty = await call(read("api-list-deployments"));
    expect(empty.statusCode).toBe(200);
    expect(empty.json).toEqual({ deployments: [] });

    const record: DeploymentRecord = {
      targetId: "us-east-2/milvus-eks/milvus/milvus-demo",
      target: {
        cluster: { name: "milvus-eks", region: "us-east-2" },
        namespace: "milvus",
        service: { name: "milvus-demo", port: 19530 },
        ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: {} },
      },
      certificateArn: CONSOLE_START.certificate.arn,
      certificateSource: { secretsManager: { secretId: CONSOLE_START.certificate.source.secretsManager.secretId } },
      albHostname: "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com",
      servedFingerprint256: "AB:CD:EF",
      servedNotAfter: "2026-07-08T00:00:00.000Z",
      lastVerified: "2026-04-09T14:41:00.000Z",
      lastExecution: `arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${HASH_ID}`,
    };
    await dynamoRecord(record);
    const res = await call(read("api-list-deployments"));
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({ deployments: [record] });
  });
});

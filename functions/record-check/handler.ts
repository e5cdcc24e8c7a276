import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { dynamoRegistry } from "../lib/registry";
import { type RecordCheckDeps, type RecordCheckInput, recordCheck } from "./core";

export const makeHandler = (deps: RecordCheckDeps) =>
  createHandler("record-check", (event: RecordCheckInput & StepEvent) => recordCheck(event, deps));

export const handler = builtOnFirstCall(() =>
  makeHandler({ registry: dynamoRegistry(DynamoDBDocumentClient.from(new DynamoDBClient({})), process.env.REGISTRY_TABLE_NAME ?? "") }),
);

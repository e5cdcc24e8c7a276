import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { stepMetrics } from "../lib/metrics";
import { dynamoRegistry } from "../lib/registry";
import { type RecordDeploymentDeps, type RecordDeploymentInput, recordDeployment } from "./core";

export const makeHandler = (deps: RecordDeploymentDeps) =>
  createHandler("record-deployment", (event: RecordDeploymentInput & StepEvent) => recordDeployment(event, deps));

export const handler = builtOnFirstCall(() =>
  makeHandler({
    registry: dynamoRegistry(DynamoDBDocumentClient.from(new DynamoDBClient({})), process.env.REGISTRY_TABLE_NAME ?? ""),
    metrics: stepMetrics,
  }),
);

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { dynamoRegistry } from "../lib/registry";
import { DEFAULT_LEASE_SECONDS, type TargetLeaseDeps, type TargetLeaseInput, targetLease } from "./core";

export const makeHandler = (deps: TargetLeaseDeps) =>
  createHandler("target-lease", (event: TargetLeaseInput & StepEvent) => targetLease(event, deps));

export const handler = builtOnFirstCall(() =>
  makeHandler({
    registry: dynamoRegistry(DynamoDBDocumentClient.from(new DynamoDBClient({})), process.env.REGISTRY_TABLE_NAME ?? ""),
    ttlSeconds: DEFAULT_LEASE_SECONDS,
    isRunning: async (executionArn) => (await import("./running")).isRunning(executionArn),
  }),
);

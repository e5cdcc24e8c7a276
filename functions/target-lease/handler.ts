import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { translateAwsError } from "../lib/aws-errors";
import { type StepEvent, createHandler } from "../lib/handler";
import { RegistryError } from "../lib/errors";
import { dynamoRegistry } from "../lib/registry";
import { DEFAULT_LEASE_SECONDS, type TargetLeaseDeps, type TargetLeaseInput, targetLease } from "./core";

export const makeHandler = (deps: TargetLeaseDeps) =>
  createHandler("target-lease", (event: TargetLeaseInput & StepEvent) => targetLease(event, deps));

const sfn = new SFNClient({});

export const handler = makeHandler({
  registry: dynamoRegistry(DynamoDBDocumentClient.from(new DynamoDBClient({})), process.env.REGISTRY_TABLE_NAME ?? ""),
  ttlSeconds: DEFAULT_LEASE_SECONDS,
  async isRunning(executionArn) {
    try {
      const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return status === "RUNNING";
    } catch (e) {
      if ((e as Error).name === "ExecutionDoesNotExist") return false;
      throw translateAwsError(e, `states:DescribeExecution on ${executionArn}`, (m) => new RegistryError(m));
    }
  },
});

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import type { CheckPlan, Plan } from "../lib/state";
import { DEFAULT_WATCH_SECONDS } from "../lib/polling";
import { dynamoRegistry } from "../lib/registry";
import { type ResolveOptions, resolveInput } from "./core";
import { certificatePrefixesFrom } from "./triggers";

export interface ResolveRequestEvent extends StepEvent {
  /** Whatever started the execution: the console's input, the API's body, or an EventBridge event. */
  request: unknown;
}

export const makeHandler = (opts: ResolveOptions) =>
  createHandler("resolve-request", async (event: ResolveRequestEvent): Promise<Plan | CheckPlan> => resolveInput(event.request, opts));

export const handler = builtOnFirstCall(() =>
  makeHandler({
    defaultRegion: process.env.AWS_REGION ?? "",
    watchSeconds: Number(process.env.ADDRESS_WATCH_SECONDS ?? DEFAULT_WATCH_SECONDS),
    registry: process.env.REGISTRY_TABLE_NAME
      ? dynamoRegistry(DynamoDBDocumentClient.from(new DynamoDBClient({})), process.env.REGISTRY_TABLE_NAME)
      : undefined,
    certificatePrefixes: certificatePrefixesFrom(process.env.CERTIFICATE_BUCKETS),
    ...(process.env.VERIFIER_IN_VPC ? { verifierInVpc: process.env.VERIFIER_IN_VPC === "true" } : {}),
    ...(process.env.EXPIRY_WARNING_DAYS ? { expiryWarningDays: Number(process.env.EXPIRY_WARNING_DAYS) } : {}),
  }),
);

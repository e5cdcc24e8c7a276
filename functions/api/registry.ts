// The API's registry client, in a module of its own: the handler imports it with the first GET /deployments.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { dynamoRegistry } from "../lib/registry";

export const registryFor = (tableName: string) => dynamoRegistry(DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName);

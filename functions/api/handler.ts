// API Gateway (REST, proxy integration) → handleApiRequest. Not createHandler: that stack is for Step Functions
// tasks (it rethrows, which API Gateway would turn into a bare 502); this one always answers JSON. It shares the
// Powertools logger, so API and workflow logs read alike.
import { SFNClient } from "@aws-sdk/client-sfn";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { RegistryError } from "../lib/errors";
import { builtOnFirstCall, stepLogger } from "../lib/handler";
import { type ApiDeps, handleApiRequest } from "./core";

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export const makeHandler = (deps: ApiDeps): ApiHandler => {
  const logger = stepLogger();
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    // logEvent false even if POWERTOOLS_LOGGER_LOG_EVENT is set: the event holds the request body and the
    // caller's SigV4 headers, neither of which belongs in logs.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use({
      before: (request) => {
        const e = request.event;
        logger.appendKeys({
          requestId: e.requestContext?.requestId,
          // AWS_IAM authorisation: who started or read a deployment is worth keeping.
          caller: e.requestContext?.identity?.userArn ?? undefined,
          httpMethod: e.httpMethod,
          resource: e.resource,
        });
      },
      onError: (request) => {
        // handleApiRequest answers every failure itself; this is the last resort so the caller still gets JSON.
        logger.error("request failed", { errorName: request.error?.name, errorMessage: request.error?.message });
        request.response = {
          statusCode: 500,
          headers: { "content-type": "application/json", "cache-control": "no-store" },
          body: JSON.stringify({ error: "InternalError", message: "The request could not be completed." }),
        };
      },
    })
    .handler(async (event: APIGatewayProxyEvent) => {
      const response = await handleApiRequest(event, { ...deps, logger: deps.logger ?? logger });
      logger.info("request handled", { statusCode: response.statusCode });
      return response;
    });
};

/** A missing table name is a deployment mistake: say so on use rather than failing the cold start of every route. */
function unconfiguredRegistry(): ApiDeps["registry"] {
  return { list: () => Promise.reject(new RegistryError("REGISTRY_TABLE_NAME is not set on the API function.")) };
}

/**
 * The registry (DynamoDB) serves GET /deployments only; starting deployments and polling their status — most
 * requests — never read it, so its client loads with the first list, once per container.
 */
function lazyRegistry(tableName: string): ApiDeps["registry"] {
  let loaded: Promise<ApiDeps["registry"]> | undefined;
  return {
    list: async () => {
      loaded ??= import("./registry").then(({ registryFor }) => registryFor(tableName));
      return (await loaded).list();
    },
  };
}

// An unset STATE_MACHINE_ARN is answered per request (500, logged as misconfigured) by the core.
export const handler: ApiHandler = builtOnFirstCall(() => {
  const tableName = process.env.REGISTRY_TABLE_NAME;
  const registry = tableName ? lazyRegistry(tableName) : unconfiguredRegistry();
  return makeHandler({ sfn: new SFNClient({}), stateMachineArn: process.env.STATE_MACHINE_ARN ?? "", registry });
});

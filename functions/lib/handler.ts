// The one middy stack every Lambda uses: Powertools structured JSON logs carrying the execution ARN, one
// line per failure with the error's name (never its stack into a Step Functions Cause, never PEM material).
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";

/** Every task's input carries the execution ARN (`$$.Execution.Id` in the ASL) so its logs can be joined. */
export interface StepEvent {
  executionArn?: string;
}

export const logger = new Logger({ serviceName: "milvus-l7" });

export type StepHandler<I extends StepEvent, O> = (event: I, context: Context) => Promise<O>;

export function createHandler<I extends StepEvent, O>(step: string, core: (event: I) => Promise<O>): StepHandler<I, O> {
  return middy<I, O, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        logger.appendKeys({ step, executionArn: request.event?.executionArn });
      },
      onError: (request) => {
        const error = request.error;
        // Message only: ours never hold secrets, and a foreign error's stack adds nothing for an operator.
        logger.error("step failed", { errorName: error?.name, errorMessage: error?.message });
      },
    })
    .handler(async (event: I) => {
      const result = await core(event);
      logger.info("step succeeded");
      return result;
    });
}

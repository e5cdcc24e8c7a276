// The one middy stack every Lambda uses: Powertools structured JSON logs carrying the execution ARN, one
// line per failure with the error's name (never its stack into a Step Functions Cause, never PEM material), and the
// step's Powertools metrics flushed when it ends.
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { flushStepMetrics } from "./metrics";

/** Every task's input carries the execution ARN (`$$.Execution.Id` in the ASL) so its logs can be joined. */
export interface StepEvent {
  executionArn?: string;
}

let sharedLogger: Logger | undefined;

/**
 * The one Powertools logger of the process, made on first use: it reads POWERTOOLS_* when it is constructed, so
 * whoever runs the handlers (Lambda, `milvus-l7 run`, the sandbox) has set the environment by then.
 */
export function stepLogger(): Logger {
  sharedLogger ??= new Logger({ serviceName: "milvus-l7" });
  return sharedLogger;
}

export type StepHandler<I, O> = (event: I, context: Context) => Promise<O>;

/**
 * A Lambda's exported handler whose dependencies (SDK clients, the logger) are built on the first invocation and
 * kept for the container's life. Importing a handler module therefore does nothing but load code: the CLI, the
 * sandbox and the tests import handlers freely and pass their own dependencies to makeHandler.
 */
export function builtOnFirstCall<I, O>(build: () => StepHandler<I, O>): StepHandler<I, O> {
  let built: StepHandler<I, O> | undefined;
  return (event, context) => {
    built ??= build();
    return built(event, context);
  };
}

export function createHandler<I extends StepEvent, O>(step: string, core: (event: I) => Promise<O>): StepHandler<I, O> {
  const logger = stepLogger();
  return middy<I, O, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        logger.appendKeys({ step, executionArn: request.event?.executionArn });
      },
      // The step's metrics (functions/lib/metrics.ts) go out whether it succeeded or not.
      after: () => {
        flushStepMetrics();
      },
      onError: (request) => {
        flushStepMetrics();
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

import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { stepMetrics } from "../lib/metrics";
import { type VerifyDeps, type VerifyInput, resolveAlb, verifyConnection } from "./core";

export const makeHandler = (deps: VerifyDeps) =>
  createHandler("verify-connection", (event: VerifyInput & StepEvent) => verifyConnection(event, deps));

/**
 * The Secrets Manager client (region and credentials from the Lambda environment), made when the first target that
 * names Milvus credentials is verified: the SDK is a chunk of its own, which the other invocations never load.
 */
function secretsManagerOnFirstUse(): Pick<SecretsManagerClient, "send"> {
  let made: Promise<SecretsManagerClient> | undefined;
  const send = async (command: Parameters<SecretsManagerClient["send"]>[0]) => {
    made ??= import("@aws-sdk/client-secrets-manager").then(({ SecretsManagerClient }) => new SecretsManagerClient({}));
    return (await made).send(command);
  };
  return { send: send as SecretsManagerClient["send"] };
}

export const handler = builtOnFirstCall(() => makeHandler({ resolve: resolveAlb, secretsManager: secretsManagerOnFirstUse(), metrics: stepMetrics }));

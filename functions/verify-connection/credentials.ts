// Milvus credentials, read from Secrets Manager when verify-connection calls Milvus. Only the secret's id travels in
// the workflow (Target.milvusCredentials); the values live in this module's return value for one check and are
// never put into a message: errors name the secret and the shape it must have, never what it holds. The SDK is
// imported when a secret is read: a bundle chunk of its own, so that targets without credentials (and the cold
// start) never load it.
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { translateAwsError } from "../lib/aws-errors";
import { MilvusCredentialsError } from "../lib/errors";
import type { MilvusAuth, MilvusCredentialsRef } from "../lib/state";

/** What the SDK takes as `username` + `password`, or as `token` (an API key, or `user:password`). */
export type MilvusCredentials = { kind: "password"; username: string; password: string } | { kind: "token"; token: string };

export const CREDENTIALS_SHAPE = '{"username": "<Milvus user>", "password": "<its password>"} or {"token": "<API key or user:password>"}';

/** The request field, for messages. */
export const CREDENTIALS_FIELD = "milvus.credentials.secretsManager.secretId";

export function authOf(credentials: MilvusCredentials | undefined): MilvusAuth {
  return credentials?.kind ?? "none";
}

/** Reads and checks the secret `ref` names. Throws MilvusCredentialsError (terminal) or AwsUnavailable (retried). */
export async function readMilvusCredentials(
  sm: Pick<SecretsManagerClient, "send"> | undefined,
  ref: MilvusCredentialsRef,
): Promise<MilvusCredentials> {
  const { secretId } = ref.secretsManager;
  if (!sm) {
    // A wiring mistake, not the operator's: the handler and wire-steps always pass a client.
    throw new MilvusCredentialsError(`verify-connection has no Secrets Manager client to read the Milvus credentials secret ${secretId}.`);
  }
  let text: string | undefined;
  try {
    const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    text = (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (e) {
    throw translateAwsError(
      e,
      `secretsmanager:GetSecretValue on the Milvus credentials secret ${secretId} (${CREDENTIALS_FIELD})`,
      (m) =>
        new MilvusCredentialsError(
          `${m} The deployed stack grants verify-connection secretsmanager:GetSecretValue only on the ARNs in its ` +
            "milvusCredentialSecretArns context value (and kms:Decrypt on its kmsKeyArns): add this secret's ARN there " +
            "and deploy again.",
        ),
    );
  }
  const bad = (what: string) => new MilvusCredentialsError(`The Milvus credentials secret ${secretId} ${what}: store ${CREDENTIALS_SHAPE}.`);
  if (text === undefined) throw bad("has no SecretString (it is a binary secret)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be the password: not used.
    throw bad("is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad("is JSON but not an object");
  const record = parsed as Record<string, unknown>;
  // Field names are safe to show (values are not); they reveal e.g. a `user` or `apiKey` spelling.
  const found = Object.keys(record).slice(0, 10).join(", ") || "none";
  const has = (k: string) => k in record;
  if (has("token") && (has("username") || has("password"))) {
    throw bad(`has both "token" and "username"/"password" (fields found: ${found}); keep one of the two shapes`);
  }
  if (has("token")) {
    if (typeof record.token !== "string" || record.token === "") throw bad('has a "token" that is not a non-empty string');
    return { kind: "token", token: record.token };
  }
  if (!has("username") && !has("password")) throw bad(`has neither "token" nor "username" and "password" (fields found: ${found})`);
  const { username, password } = record;
  if (typeof username !== "string" || username === "") throw bad('has no "username" as a non-empty string');
  if (typeof password !== "string" || password === "") throw bad('has no "password" as a non-empty string');
  if (username.includes(":")) {
    // Milvus splits `user:password` at the first ':' (internal/proxy parseMD), so such a user can never authenticate.
    throw bad('has a "username" containing \':\', which Milvus cannot authenticate');
  }
  return { kind: "password", username, password };
}

// A real SecretsManagerClient whose HTTP layer answers from a map, as Secrets Manager's JSON protocol does
// (awsJson1_1: the value in SecretString; errors as `__type` and `message`), so the SDK's own parsing and error
// classes run. For unit tests that need no moto.
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { HttpResponse } from "@smithy/protocol-http";

/** A secret's string, or the error Secrets Manager answers for it (`__type`, HTTP status). */
export type StubAnswer = string | { error: string; status: number; message?: string };

export function secretsManagerStub(secrets: Record<string, StubAnswer>): SecretsManagerClient & { reads: string[] } {
  const reads: string[] = [];
  const client = new SecretsManagerClient({
    region: "us-east-2",
    credentials: { accessKeyId: "AKIDSTUB", secretAccessKey: "stub" },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const sent = request.body;
        const text = typeof sent === "string" ? sent : new TextDecoder().decode(sent as Uint8Array);
        const { SecretId } = JSON.parse(text) as { SecretId: string };
        reads.push(SecretId);
        const answer = secrets[SecretId] ?? { error: "ResourceNotFoundException", status: 400, message: "Secrets Manager can't find the specified secret." };
        const [statusCode, body] =
          typeof answer === "string"
            ? [200, { ARN: `arn:aws:secretsmanager:us-east-2:123456789012:secret:${SecretId}-AbCdEf`, Name: SecretId, SecretString: answer }]
            : [answer.status, { __type: answer.error, message: answer.message ?? answer.error }];
        const response = new HttpResponse({
          statusCode,
          headers: { "content-type": "application/x-amz-json-1.1" },
          body: Buffer.from(JSON.stringify(body)),
        });
        return { response };
      },
    } as never,
  });
  return Object.assign(client, { reads });
}

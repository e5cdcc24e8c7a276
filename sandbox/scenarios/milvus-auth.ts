// Milvus with authentication on (`common.security.authorizationEnabled: true`, as production Milvus usually runs):
// credentials from a Secrets Manager secret the request names, as a username and password or as a token; and the
// two ways it goes wrong, both caught before the cutover, so the Layer-4 endpoint stays.
import { randomBytes } from "node:crypto";
import type { Sandbox } from "../index";
import { DEMO_TARGET, type Scenario, type ScenarioContext, type ScenarioRun, demoSecret, observedRun } from "./scenario";

/** The Milvus user milvus-l7 verifies as (any user may call Connect, CheckHealth and GetVersion). */
export const MILVUS_USER = "milvus-l7";
/** Where the scenarios store the credentials; a test reads them back to scan for leaks. */
export const CREDENTIALS_SECRET = "milvus-l7/milvus-credentials";

const password = () => randomBytes(12).toString("base64url");

/**
 * Turns authentication on in the Milvus stand-in (root and MILVUS_USER, fresh passwords), runs `body`, and turns it
 * off again.
 */
async function withAuth(
  sandbox: Sandbox,
  ctx: ScenarioContext,
  body: (passwords: { root: string; user: string }) => Promise<ScenarioRun[]>,
): Promise<ScenarioRun[]> {
  const passwords = { root: password(), user: password() };
  sandbox.milvus.enableAuth({ users: { root: passwords.root, [MILVUS_USER]: passwords.user } });
  ctx.say(`Milvus has authentication on (common.security.authorizationEnabled: true), users root and ${MILVUS_USER}`);
  try {
    return await body(passwords);
  } finally {
    sandbox.milvus.disableAuth();
  }
}

/** The sandbox's request for the demo certificate, with `milvus.credentials` naming `credentialsArn` if given. */
async function request(sandbox: Sandbox, credentialsArn?: string): Promise<Record<string, unknown>> {
  const { secretArn } = await demoSecret(sandbox);
  const r = sandbox.request(secretArn) as { milvus: Record<string, unknown> };
  if (credentialsArn) r.milvus = { ...r.milvus, credentials: { secretsManager: { secretId: credentialsArn } } };
  return r;
}

export const milvusAuth: Scenario = {
  name: "milvus-auth",
  summary: "Milvus requires authentication: verify-connection reads a username and password from Secrets Manager at call time; milvusAuth password",
  run: (sandbox, ctx) =>
    withAuth(sandbox, ctx, async ({ user }) => {
      const arn = await sandbox.storeMilvusCredentials({ username: MILVUS_USER, password: user }, CREDENTIALS_SECRET);
      ctx.say(`The request's milvus.credentials names ${arn}, holding {"username", "password"}; only the reference travels in the workflow`);
      return [await observedRun(sandbox, ctx, "deployment with Milvus credentials", await request(sandbox, arn))];
    }),
};

export const milvusAuthToken: Scenario = {
  name: "milvus-auth-token",
  summary: 'Milvus requires authentication: the secret holds {"token": "user:password"}, sent as the SDK sends a token; milvusAuth token',
  run: (sandbox, ctx) =>
    withAuth(sandbox, ctx, async ({ root }) => {
      const arn = await sandbox.storeMilvusCredentials({ token: `root:${root}` }, CREDENTIALS_SECRET);
      ctx.say(`The request's milvus.credentials names ${arn}, holding {"token"}`);
      return [await observedRun(sandbox, ctx, "deployment with a Milvus token", await request(sandbox, arn))];
    }),
};

export const milvusAuthMissing: Scenario = {
  name: "milvus-auth-missing",
  summary:
    "Milvus requires authentication and the request has no milvus.credentials: FAILED MilvusUnauthenticated before the cutover, naming the field; the Service stays LoadBalancer",
  run: (sandbox, ctx) =>
    withAuth(sandbox, ctx, async () => {
      ctx.say(`The request names no milvus.credentials; Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service} is type LoadBalancer`);
      return [await observedRun(sandbox, ctx, "deployment without Milvus credentials", await request(sandbox))];
    }),
};

export const milvusAuthWrong: Scenario = {
  name: "milvus-auth-wrong",
  summary:
    "the Milvus credentials secret holds a wrong password: FAILED MilvusUnauthenticated naming the secret (never its value) before the cutover; the Service stays LoadBalancer",
  run: (sandbox, ctx) =>
    withAuth(sandbox, ctx, async () => {
      const arn = await sandbox.storeMilvusCredentials({ username: MILVUS_USER, password: password() }, CREDENTIALS_SECRET);
      ctx.say(`The secret ${arn} holds a password Milvus does not accept for ${MILVUS_USER}`);
      return [await observedRun(sandbox, ctx, "deployment with wrong Milvus credentials", await request(sandbox, arn))];
    }),
};

// Milvus with authentication in the sandbox: the four milvus-auth scenarios run in-process, so the test can read
// the credentials back from moto and scan everything the runs left behind for them — state, history, output,
// Cause, the handlers' logs and the registry — as the private-key scan does for certificates.
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEvent } from "../events";
import type { TargetSummary } from "../../functions/lib/state";
import { type Sandbox, startSandbox } from "../../sandbox";
import { CREDENTIALS_SECRET, milvusAuth, milvusAuthMissing, milvusAuthToken, milvusAuthWrong } from "../../sandbox/scenarios/milvus-auth";
import type { Scenario, ScenarioContext, ScenarioRun } from "../../sandbox/scenarios";
import { valueLeaks } from "../../sandbox/secrets";

const quiet: ScenarioContext = { say: () => undefined, starting: () => ({}), finished: () => undefined };

let sandbox: Sandbox;

/** A fresh sandbox per describe: the failures must start from the Service as Helm made it (LoadBalancer). */
function freshSandbox(): void {
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
}

/** The credentials secret as the scenario stored it: what must never show up anywhere else. */
async function storedCredentials(): Promise<Record<string, string>> {
  const { SecretString = "{}" } = await sandbox.aws.secretsManager.send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }));
  const value = JSON.parse(SecretString) as { username?: string; password?: string; token?: string };
  if (value.token) return { token: value.token };
  return { password: value.password ?? "", "user:password": `${value.username}:${value.password}` };
}

async function expectNoCredentialsIn(runs: ScenarioRun[]): Promise<void> {
  const values = await storedCredentials();
  expect(Object.values(values).every((v) => v.length > 8), "scan for real values, not empty ones").toBe(true);
  for (const { run } of runs) {
    expect(valueLeaks(values, JSON.stringify(run.events)), "state inputs/outputs and event history").toEqual([]);
    expect(valueLeaks(values, `${JSON.stringify(run.output ?? null)} ${run.error ?? ""} ${run.cause ?? ""}`), "output, error and cause").toEqual([]);
  }
  expect(valueLeaks(values, sandbox.logs.join("\n")), "logs").toEqual([]);
  expect(valueLeaks(values, JSON.stringify(await sandbox.registry.list())), "registry").toEqual([]);
}

/** Runs the scenario; one that stored credentials has every trace of its run scanned for them. */
async function play(scenario: Scenario, storesCredentials = true): Promise<ScenarioRun> {
  const runs = await scenario.run(sandbox, quiet);
  expect(runs).toHaveLength(1);
  if (storesCredentials) await expectNoCredentialsIn(runs);
  return runs[0] as ScenarioRun;
}

const summaryOf = (r: ScenarioRun) => (r.run.output as { targets: TargetSummary[] }).targets[0];

describe("Milvus with authentication, in the sandbox: credentials that work", () => {
  freshSandbox();

  it("milvus-auth: a username and password from Secrets Manager; milvusAuth password, recorded, no exposure warning", async () => {
    const { run, cluster } = await play(milvusAuth);
    expect(run.cause).toBeUndefined();
    expect(run.status).toBe("SUCCEEDED");
    expect(cluster.serviceType).toBe("ClusterIP");
    const summary = summaryOf({ run } as ScenarioRun);
    expect(summary?.milvusAuth).toBe("password");
    expect(summary?.warnings.join(" ")).not.toContain("anyone who can resolve");
    // The plan carries the secret's ARN only; the registry keeps it for renewals, with how Milvus was called.
    const [record] = await sandbox.registry.list();
    expect(record?.target.milvusCredentials?.secretsManager.secretId).toMatch(/^arn:aws:secretsmanager:.*:secret:milvus-l7\/milvus-credentials-/);
    expect(record?.milvusAuth).toBe("password");
  });

  it("milvus-auth-token: a token; milvusAuth token", async () => {
    const { run } = await play(milvusAuthToken);
    expect(run.cause).toBeUndefined();
    expect(summaryOf({ run } as ScenarioRun)?.milvusAuth).toBe("token");
  });

  it("a renewal verifies the authenticated target with the credentials its registry record names", async () => {
    // Milvus with authentication on again, root's password the one the token scenario stored.
    const { token = "" } = await storedCredentials();
    sandbox.milvus.enableAuth({ users: { root: token.slice("root:".length) } });
    try {
      const [record] = await sandbox.registry.list();
      await sandbox.storeInSecret(await sandbox.newCertificate(undefined, { notAfter: new Date(Date.now() + 180 * 86_400_000) }));
      const event = loadEvent("acm-approaching-expiration") as { resources?: string[] };
      event.resources = [record?.certificateArn ?? ""];
      const run = await sandbox.run(event);
      expect(run.cause).toBeUndefined();
      expect((run.output as { targets: TargetSummary[] }).targets.map((t) => t.milvusAuth)).toEqual(["token"]);
      await expectNoCredentialsIn([{ run } as ScenarioRun]);
    } finally {
      sandbox.milvus.disableAuth();
    }
  });

});

describe("Milvus with authentication, in the sandbox: refused before the cutover", () => {
  freshSandbox();

  it("milvus-auth-missing: no credentials → MilvusUnauthenticated before the cutover, naming milvus.credentials", async () => {
    const { run, cluster } = await play(milvusAuthMissing, false);
    expect(run.status).toBe("FAILED");
    expect(run.error).toBe("MilvusUnauthenticated");
    expect(run.cause).toContain("milvus.credentials");
    const entered = run.events.flatMap((e) => (e.type === "StateEntered" ? [e.state.name] : []));
    expect(entered).toContain("BeforeCutoverFailed");
    expect(entered).not.toContain("CutOver");
    expect(cluster.serviceType).toBe("LoadBalancer");
    expect(cluster.changes).toEqual(["apply Ingress milvus/milvus-demo"]);
  });

  it("milvus-auth-wrong: refused credentials → MilvusUnauthenticated naming the secret, never its value", async () => {
    const { run, cluster } = await play(milvusAuthWrong);
    expect(run.error).toBe("MilvusUnauthenticated");
    expect(run.cause).toContain(`refused the credentials in secret arn:aws:secretsmanager:`);
    expect(run.cause).toContain(CREDENTIALS_SECRET);
    expect(run.cause).toContain("please check username and password are correct");
    expect(cluster.serviceType).toBe("LoadBalancer");
    expect(cluster.changes.some((c) => c.startsWith("patch Service"))).toBe(false);
  });
});

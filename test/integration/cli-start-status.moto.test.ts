// `milvus-l7 start` and `status` against a real moto_server holding the rendered ASL as a state machine. The
// commands' cores take their Step Functions client injected (the CLI entry builds real ones). moto records
// executions but runs nothing: an execution stays RUNNING until StopExecution, and GetExecutionHistory is a
// canned list (ExecutionStarted, PassStateEntered "A State", PassStateExited, ExecutionSucceeded) — see
// test/integration/api.moto.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateStateMachineCommand, DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SfnInjections } from "../../cli/stack";
import { startCommand } from "../../cli/start";
import { type StatusSummary, statusCommand } from "../../cli/status";
import { executionNameFor } from "../../functions/api/core";
import { type Moto, startMoto } from "../../sandbox/moto";
import { renderDefinition } from "../../sandbox/workflow";
import { captured } from "../cli-io";

const CONSOLE_START = JSON.parse(readFileSync(new URL("../../events/console-start.json", import.meta.url), "utf8"));
const HASH_ID = executionNameFor(CONSOLE_START);

let moto: Moto;
let sfn: SFNClient;
let stateMachineArn: string;
let dir: string;
let requestFile: string;
let inject: SfnInjections;
const regions: string[] = [];


const executions = async () => (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];

beforeAll(async () => {
  moto = await startMoto("us-east-2");
  sfn = new SFNClient({ endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials });
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: "milvus-l7",
      definition: JSON.stringify(renderDefinition()),
      roleArn: "arn:aws:iam::123456789012:role/milvus-l7-state-machine",
      type: "STANDARD",
    }),
  );
  stateMachineArn = created.stateMachineArn as string;
  dir = mkdtempSync(join(tmpdir(), "milvus-l7-start-"));
  requestFile = join(dir, "request.json");
  writeFileSync(requestFile, JSON.stringify(CONSOLE_START, null, 2));
  // The client is chosen by the region in the ARN; the test records which region was asked for.
  inject = {
    sfn: (region) => {
      regions.push(region);
      return sfn;
    },
    env: {},
  };
});

afterAll(async () => {
  await moto?.stop();
});

describe("without AWS credentials", () => {
  const noCredentials: SfnInjections = {
    sfn: (region) =>
      new SFNClient({
        endpoint: moto.endpoint,
        region,
        credentials: async () => {
          throw Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" });
        },
      }),
    env: {},
  };
  const expectCredentialsHelp = (err: string, command: string) => {
    expect(err).toContain(`milvus-l7 ${command}: no AWS credentials were found (Could not load credentials from any providers).`);
    for (const way of ["aws configure", "AWS_PROFILE=", "aws sso login", "AWS_ACCESS_KEY_ID="]) expect(err).toContain(way);
    expect(err).not.toContain("execution role");
  };

  it("start says so, and how to provide them, and starts nothing", async () => {
    const before = (await executions()).length;
    const io = captured();
    expect(await startCommand([requestFile, "--state-machine", stateMachineArn, "--name", "no-credentials"], io, noCredentials)).toBe(1);
    expect(io.out()).toBe("");
    expectCredentialsHelp(io.err(), "start");
    expect(io.err()).toContain("Nothing was started.");
    expect(await executions()).toHaveLength(before);
  });

  it("status says so too", async () => {
    const io = captured();
    expect(await statusCommand([`arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${HASH_ID}`], io, noCredentials)).toBe(1);
    expect(io.out()).toBe("");
    expectCredentialsHelp(io.err(), "status");
  });
});

describe("milvus-l7 start", () => {
  let executionArn: string;

  it("validates, starts an execution named like the API names it, and prints the ARN and how to follow it", async () => {
    const io = captured();
    expect(await startCommand([requestFile, "--state-machine", stateMachineArn], io, inject)).toBe(0);
    expect(io.err()).toBe("");
    executionArn = `arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${HASH_ID}`;
    expect(io.out().split("\n")).toEqual([`started ${HASH_ID}`, `execution: ${executionArn}`, `follow it: milvus-l7 status ${executionArn} --watch`, ""]);
    expect(regions.at(-1)).toBe("us-east-2");
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.status).toBe("RUNNING");
    expect(JSON.parse(described.input ?? "")).toEqual(CONSOLE_START);
  });

  it("the same request in another layout is the same deployment: nothing new is started", async () => {
    const reordered = join(dir, "reordered.json");
    writeFileSync(reordered, JSON.stringify(Object.fromEntries(Object.entries(CONSOLE_START).reverse())));
    const io = captured();
    expect(await startCommand([reordered, "--json"], io, { ...inject, env: { MILVUS_L7_STATE_MACHINE_ARN: stateMachineArn } })).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ deploymentId: HASH_ID, executionArn, status: "RUNNING", existing: true });
    expect(await executions()).toHaveLength(1);
  });

  it("--name names the execution; the same name with another request is refused", async () => {
    let io = captured();
    expect(await startCommand([requestFile, "--state-machine", stateMachineArn, "--name", "change-42", "--quiet"], io, inject)).toBe(0);
    expect(io.out()).toBe("arn:aws:states:us-east-2:123456789012:execution:milvus-l7:change-42\n");

    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ ...CONSOLE_START, waitForAddressMinutes: 45 }));
    io = captured();
    expect(await startCommand([other, "--state-machine", stateMachineArn, "--name", "change-42"], io, inject)).toBe(1);
    expect(io.err()).toContain("an execution named change-42 already exists with a different request");
    expect(await executions()).toHaveLength(2);
  });

  it("refuses an invalid request, a missing or unknown state machine, and bad usage, starting nothing", async () => {
    const invalid = join(dir, "invalid.json");
    writeFileSync(invalid, JSON.stringify({ ...CONSOLE_START, cutover: "sometime" }));
    let io = captured();
    expect(await startCommand([invalid, "--state-machine", stateMachineArn], io, inject)).toBe(1);
    expect(io.err()).toContain("invalid request (1 problem); nothing was started");
    expect(io.err()).toContain("cutover");

    io = captured();
    expect(await startCommand([requestFile], io, inject)).toBe(2);
    expect(io.err()).toContain("--state-machine <arn> or MILVUS_L7_STATE_MACHINE_ARN");

    io = captured();
    expect(await startCommand([requestFile, "--state-machine", "milvus-l7"], io, inject)).toBe(2);
    expect(io.err()).toContain("is not a state machine ARN");

    io = captured();
    const missing = stateMachineArn.replace(/milvus-l7$/, "not-deployed");
    expect(await startCommand([requestFile, "--state-machine", missing, "--name", "x"], io, inject)).toBe(1);
    expect(io.err()).toContain(`there is no state machine ${missing}`);

    expect(await startCommand([requestFile, "--state-machine", stateMachineArn, "--name", "has space"], captured(), inject)).toBe(2);
    expect(await startCommand([requestFile, "--bogus"], captured(), inject)).toBe(2);
    expect(await executions()).toHaveLength(2);
  });
});

describe("milvus-l7 status", () => {
  const executionArn = () => `arn:aws:states:us-east-2:123456789012:execution:milvus-l7:${HASH_ID}`;

  it("by name: RUNNING, with the current step from the history", async () => {
    const io = captured();
    expect(await statusCommand([HASH_ID, "--state-machine", stateMachineArn], io, inject)).toBe(0);
    const lines = io.out().split("\n");
    expect(lines[0]).toBe(`execution:   ${executionArn()}`);
    expect(lines[1]).toMatch(/^status: {6}RUNNING \(for \S+\)$/);
    expect(lines).toContain("step:        A State");
    expect(lines.filter(Boolean).at(-1)).toMatch(/^RUNNING for \S+, at A State$/);
  });

  it("by ARN, --json: one JSON summary", async () => {
    const io = captured();
    expect(await statusCommand([executionArn(), "--json"], io, inject)).toBe(0);
    const lines = io.out().trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? "") as StatusSummary;
    expect(summary).toMatchObject({ executionArn: executionArn(), name: HASH_ID, status: "RUNNING", currentStep: "A State", targets: [], polls: 0, retries: 0 });
    expect(Date.parse(summary.startDate)).not.toBeNaN();
    expect(summary.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it("--quiet prints the final line only", async () => {
    const io = captured();
    expect(await statusCommand([executionArn(), "--quiet"], io, inject)).toBe(0);
    expect(io.out()).toMatch(/^RUNNING for \S+, at A State\n$/);
  });

  it("an unknown execution is a clear error with its own exit status", async () => {
    let io = captured();
    expect(await statusCommand(["no-such-deployment", "--state-machine", stateMachineArn], io, inject)).toBe(3);
    expect(io.err()).toBe(
      "milvus-l7 status: there is no execution arn:aws:states:us-east-2:123456789012:execution:milvus-l7:no-such-deployment (check the name, the state machine, the account and the region)\n",
    );
    expect(io.out()).toBe("");
    io = captured();
    expect(await statusCommand(["no-such-deployment"], io, inject)).toBe(2);
    expect(io.err()).toContain("name the state machine with --state-machine <arn> or MILVUS_L7_STATE_MACHINE_ARN, or pass the execution ARN");
    expect(await statusCommand(["arn:aws:states:us-east-2:123456789012:stateMachine:milvus-l7"], captured(), inject)).toBe(2);
    expect(await statusCommand([HASH_ID, "--interval", "0"], captured(), { ...inject, env: { MILVUS_L7_STATE_MACHINE_ARN: stateMachineArn } })).toBe(2);
  });

  it("--watch follows the execution until it ends, then exits with its outcome", async () => {
    const io = captured();
    const watching = statusCommand(["change-42", "--watch"], io, { ...inject, env: { MILVUS_L7_STATE_MACHINE_ARN: stateMachineArn }, pollMs: 50 });
    await new Promise((r) => setTimeout(r, 300));
    await sfn.send(new StopExecutionCommand({ executionArn: `${stateMachineArn.replace(":stateMachine:", ":execution:")}:change-42`, error: "Operator", cause: "stopped by hand" }));
    expect(await watching).toBe(1);
    const lines = io.out().split("\n").filter(Boolean);
    expect(lines[0]).toBe("Following arn:aws:states:us-east-2:123456789012:execution:milvus-l7:change-42 (every 5 s; Ctrl-C stops watching, not the execution)");
    expect(lines.at(-1)).toMatch(/^ABORTED after \S+/);
  });
});

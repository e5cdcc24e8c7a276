// `milvus-l7 check`: the input it starts the deployed state machine with (what the schedule sends, narrowed or with
// repair), the choice of the local mode without one, and its usage errors.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import { checkCommand, checkInput } from "../../cli/check";
import { captured } from "../cli-io";

const SM = "arn:aws:states:us-east-2:123456789012:stateMachine:milvus-l7-workflow";

function fakeSfn() {
  const sent: unknown[] = [];
  const client = {
    config: { credentials: async () => ({ accessKeyId: "AKIA", secretAccessKey: "x" }) },
    send: async (command: unknown) => {
      sent.push(command);
      if (command instanceof StartExecutionCommand) return { executionArn: `${SM.replace(":stateMachine:", ":execution:")}:abc` };
      return {};
    },
  };
  return { sent, factory: () => client as never };
}

describe("milvus-l7 check", () => {
  it("sends what the schedule sends, narrowed to a target and with repair when asked", () => {
    expect(checkInput(undefined, false)).toEqual({ check: {} });
    expect(checkInput("us-east-2/milvus-eks/milvus/milvus-demo", true)).toEqual({ check: { targetId: "us-east-2/milvus-eks/milvus/milvus-demo", repair: true } });
  });

  it("starts an execution of the deployed state machine with that input", async () => {
    const { sent, factory } = fakeSfn();
    const io = captured();
    const code = await checkCommand(["--target", "us-east-2/milvus-eks/milvus/milvus-demo", "--repair", "--json"], io, { sfn: factory, env: { MILVUS_L7_STATE_MACHINE_ARN: SM } });
    expect(code, io.err()).toBe(0);
    const start = sent.find((c) => c instanceof StartExecutionCommand) as StartExecutionCommand;
    expect(start.input.stateMachineArn).toBe(SM);
    expect(JSON.parse(start.input.input ?? "")).toEqual({ check: { targetId: "us-east-2/milvus-eks/milvus/milvus-demo", repair: true } });
    expect(JSON.parse(io.out())).toMatchObject({ executionArn: expect.stringContaining(":execution:") });
  });

  it("refuses a malformed target ID, and a local-only option next to a state machine, as usage errors", async () => {
    const io = captured();
    expect(await checkCommand(["--target", "milvus-demo", "--state-machine", SM], io, { sfn: fakeSfn().factory, env: {} })).toBe(2);
    expect(io.err()).toContain("--target must be a target ID: <region>/<cluster>/<namespace>/<ingress>");
    const io2 = captured();
    const { sent, factory } = fakeSfn();
    expect(await checkCommand(["--kubeconfig", "kc"], io2, { sfn: factory, env: { MILVUS_L7_STATE_MACHINE_ARN: SM } })).toBe(2);
    expect(io2.err()).toContain("--kubeconfig is for a check on this machine, but MILVUS_L7_STATE_MACHINE_ARN names a state machine");
    expect(sent).toEqual([]);
  });

  it("without a state machine runs on this machine: no credentials is said before anything starts", async () => {
    const { sent, factory } = fakeSfn();
    const io = captured();
    const noCredentials = async () => {
      throw new Error("Could not load credentials from any providers");
    };
    const registry = join(mkdtempSync(join(tmpdir(), "milvus-l7-check-")), "registry.json");
    const code = await checkCommand(["--registry", registry], io, { sfn: factory, env: {}, defaultRegion: "us-east-2", credentials: noCredentials });
    expect(code).toBe(1);
    expect(sent).toEqual([]);
    expect(io.err()).toContain("milvus-l7 check: no AWS credentials were found");
    expect(existsSync(registry)).toBe(false);
  });
});

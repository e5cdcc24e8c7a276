// Whether an execution still runs, asked only when another execution holds a target's lease: a module of its own
// that the handler imports then, so most invocations never load the Step Functions client.
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { translateAwsError } from "../lib/aws-errors";
import { RegistryError } from "../lib/errors";

const sfn = new SFNClient({});

export async function isRunning(executionArn: string): Promise<boolean> {
  try {
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return status === "RUNNING";
  } catch (e) {
    if ((e as Error).name === "ExecutionDoesNotExist") return false;
    throw translateAwsError(e, `states:DescribeExecution on ${executionArn}`, (m) => new RegistryError(m));
  }
}

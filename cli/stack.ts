// The deployed stack as `start` and `status` reach it: which state machine (a flag or the environment), its
// region from its ARN, a Step Functions client there, the names and ARNs Step Functions accepts, and AWS
// failures as one sentence for the terminal.
import { SFNClient } from "@aws-sdk/client-sfn";
import { translateAwsError } from "../functions/lib/aws-errors";
import { missingCredentials } from "./aws";

export const STATE_MACHINE_ENV = "MILVUS_L7_STATE_MACHINE_ARN";

export const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
export const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:execution:[A-Za-z0-9_-]{1,80}:([A-Za-z0-9_-]{1,80})$/;
export const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** Step Functions clients by region; tests pass one pointed at moto. */
export type SfnFactory = (region: string) => SFNClient;

export interface SfnInjections {
  sfn?: SfnFactory;
  env?: Record<string, string | undefined>;
}

export const defaultSfn: SfnFactory = (region) => new SFNClient({ region });

/** --state-machine, else the environment variable; undefined if neither. */
export function stateMachineFrom(flag: string | undefined, env: Record<string, string | undefined>): string | undefined {
  return flag ?? (env[STATE_MACHINE_ENV] || undefined);
}

/** An SDK failure as one sentence for the terminal (throttling and transient faults say to retry). */
export function awsProblem(e: unknown, what: string): string {
  return translateAwsError(e, what, (m) => new Error(m)).message;
}

/** The message to show when the client has no credentials to sign with (see missingCredentials), else undefined. */
export function sfnWithoutCredentials(sfn: SFNClient): Promise<string | undefined> {
  return missingCredentials(() => sfn.config.credentials());
}

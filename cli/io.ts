// How a command talks to the person running it. Every command writes through a CliIo, so tests capture what it
// prints and the entry point (cli/main) hands it the real process streams. Also what the process would print
// on its own that the CLI keeps off the terminal.

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stdout is a terminal: progress is one line rewritten in place. */
  interactive?: boolean;
  columns?: number;
}

/** This process's stdout and stderr. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interactive: process.stdout.isTTY === true,
    columns: process.stdout.columns,
  };
}

/**
 * The variable @aws-sdk/core reads before it warns, once per process, that future SDK releases will need a newer
 * Node.js. The CLI supports the Node versions package.json names; the notice speaks to whoever picks the
 * runtime, and printed on every command it would push down the output people ran the command for. Only this one
 * notice is affected: every other warning still prints.
 */
export const SDK_NODE_VERSION_NOTICE_SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/** Turns the SDK's Node-version notice off for this process, unless the environment already decides. */
export function quietSdkNodeVersionNotice(env: NodeJS.ProcessEnv = process.env): void {
  env[SDK_NODE_VERSION_NOTICE_SWITCH] ??= "true";
}

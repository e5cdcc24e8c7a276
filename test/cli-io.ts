// A CLI's stdout and stderr captured as strings, for tests of the command cores.
import type { CliIo } from "../cli/io";

export function captured(): CliIo & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    out: () => out,
    err: () => err,
  };
}

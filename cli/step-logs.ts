// Where a local run's step logs go. The handlers log Powertools JSON to the global console, as in Lambda; on an
// operator's terminal that would bury the progress lines, so for the length of a run the console writes to a
// log file instead (and, with --verbose, to stderr too).
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { format } from "node:util";

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

/**
 * Sends everything written to the global console to `path`, one JSON object a line (a line that is not JSON is
 * kept on one line). Returns the function that gives the console back and closes the file.
 */
export function captureLogs(path: string, echo?: (line: string) => void): () => Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const file = createWriteStream(path, { flags: "a", mode: 0o600 });
  const saved = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
  for (const method of CONSOLE_METHODS) {
    console[method] = (...args: unknown[]) => {
      let line = format(...args);
      try {
        line = JSON.stringify(JSON.parse(line));
      } catch {
        line = line.replace(/\n/g, " ");
      }
      file.write(`${line}\n`);
      echo?.(line);
    };
  }
  return () => {
    for (const [method, fn] of saved) console[method] = fn;
    return new Promise((resolve) => file.end(resolve));
  };
}

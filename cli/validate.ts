// `milvus-l7 validate <file>`: check a deployment request offline, with the same schema the API and the
// workflow use, so an operator learns about a typo before starting an execution.

import { readFileSync, statSync } from "node:fs";
import { InvalidRequest, type FieldIssue } from "../functions/lib/errors";
import { type DeploymentRequest, checkRegions, formatIssues, parseRequest } from "../functions/lib/request";

/** Far above any real request (the schema's own limit is 64 KiB of compact JSON); stops us reading a huge file. */
const MAX_FILE_BYTES = 1024 * 1024;

export type ValidateResult = { ok: true; request: DeploymentRequest } | { ok: false; issues: FieldIssue[] };

export function validateFile(path: string): ValidateResult {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_FILE_BYTES) {
      return fileIssue(`is ${size} bytes; a deployment request file may be at most ${MAX_FILE_BYTES}`);
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    return fileIssue(`cannot be read: ${describeFsError(error)}`);
  }
  // Editors on Windows may save a byte-order mark; JSON.parse refuses it.
  text = text.replace(/^\uFEFF/, "");
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return fileIssue(`is not valid JSON${jsonErrorLocation(text, error)}`);
  }
  try {
    const request = parseRequest(input);
    // Like the AWS CLI, the region a request leaves unnamed is the environment's; without one it cannot be checked.
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (region !== undefined) checkRegions(request, region);
    return { ok: true, request };
  } catch (error) {
    if (error instanceof InvalidRequest) return { ok: false, issues: error.issues };
    throw error;
  }
}

function fileIssue(message: string): ValidateResult {
  return { ok: false, issues: [{ path: "(file)", message }] };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return code ?? "unknown error";
  }
}

/**
 * V8's JSON errors quote a slice of the input; a request file could hold something sensitive by mistake, so
 * report only where the error is.
 */
function jsonErrorLocation(text: string, error: unknown): string {
  const match = error instanceof Error ? /position (\d+)/.exec(error.message) : null;
  if (!match) return text.trim() === "" ? " (the file is empty)" : "";
  const offset = Number(match[1]);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return ` (line ${line}, column ${column})`;
}

const USAGE = "usage: milvus-l7 validate <request.json>";

/** Exit codes: 0 valid, 1 invalid, 2 usage. Problems go to `out.error`, one `path: reason` line each. */
export function runValidate(
  args: readonly string[],
  out: { log: (line: string) => void; error: (line: string) => void },
): number {
  if (args.length === 1 && (args[0] === "-h" || args[0] === "--help")) {
    out.log(USAGE);
    return 0;
  }
  const [file] = args;
  if (args.length !== 1 || file === undefined || file.startsWith("-")) {
    out.error(USAGE);
    return 2;
  }
  const result = validateFile(file);
  if (result.ok) {
    const { request } = result;
    out.log(
      `${file}: valid — ${request.milvus.namespace}/${request.milvus.service} on ${request.cluster.name}` +
        ` → https://${request.ingress.host} (cutover ${request.cutover})`,
    );
    return 0;
  }
  const n = result.issues.length;
  out.error(`${file}: invalid request (${n} problem${n === 1 ? "" : "s"})`);
  for (const line of formatIssues(result.issues).split("\n")) out.error(line);
  return 1;
}

// docs/workflow.md (the diagram and one table row per state) and the README's copy of the diagram, both from the
// ASL.
import { type AslMachine, type AslState, type Retrier, allStates, conditionLabel } from "./asl";
import { ASL_FILE, README, REGENERATE } from "./files";
import { code, md, num, table } from "./markdown";
import { catchLabel, workflowMermaid } from "./mermaid";

const README_BEGIN = "<!-- BEGIN workflow diagram: generated from statemachine/milvus-l7.asl.json by `npm run docs` -->";
const README_END = "<!-- END workflow diagram -->";

/** README.md with the workflow diagram between its markers replaced by the one generated from the ASL. */
export function readmeWithDiagram(readme: string, asl: AslMachine): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error(`${README} lacks the workflow diagram markers (${README_BEGIN} … ${README_END})`);
  return `${readme.slice(0, begin + README_BEGIN.length)}\n\n\`\`\`mermaid\n${workflowMermaid(asl)}\n\`\`\`\n\n${readme.slice(end)}`;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c, i: number) => (i ? "-" : "") + c.toLowerCase());
}

/** The Lambda (functions/<name>) behind a Task's `${XFunctionArn}`, else the Resource itself. */
function taskTarget(state: AslState): string {
  const candidates = [state.Resource, state.Parameters?.FunctionName, state.Arguments?.FunctionName];
  for (const c of candidates) {
    const m = typeof c === "string" ? /\$\{([A-Za-z0-9]+?)Function(?:Arn|Name)?\}/.exec(c) : null;
    if (m?.[1]) return code(kebab(m[1]));
  }
  return code(String(state.Resource ?? "?"));
}

function typeCell(state: AslState): string {
  switch (state.Type) {
    case "Task":
      return `Task: ${taskTarget(state)}`;
    case "Map": {
      const over = state.ItemsPath ?? "$";
      const limit = state.MaxConcurrency ? `≤ ${state.MaxConcurrency} at a time` : "all at once";
      return `Map over ${code(over)}, ${limit}`;
    }
    case "Parallel":
      return `Parallel, ${state.Branches?.length ?? 0} branches`;
    case "Wait":
      if (state.Seconds !== undefined) return `Wait ${num(state.Seconds)} s`;
      if (state.SecondsPath !== undefined) return `Wait ${code(state.SecondsPath)} s`;
      return `Wait until ${code(state.TimestampPath ?? state.Timestamp ?? "?")}`;
    default:
      return state.Type;
  }
}

const LAMBDA_SERVICE_ERRORS = "Lambda service errors";

function retrierCell(r: Retrier): string {
  const lambda = r.ErrorEquals.filter((e) => e.startsWith("Lambda."));
  const errors =
    lambda.length >= 2
      ? [...r.ErrorEquals.filter((e) => !e.startsWith("Lambda.")).map(code), LAMBDA_SERVICE_ERRORS]
      : r.ErrorEquals.map(code);
  const attempts = r.MaxAttempts ?? 3;
  if (attempts === 0) return `${errors.join(", ")}: not retried`;
  const interval = r.IntervalSeconds ?? 1;
  const backoff = r.BackoffRate ?? 2;
  const parts = [`${attempts} retries`, `from ${num(interval)} s`];
  if (backoff !== 1) parts.push(`×${num(backoff)}`);
  if (r.MaxDelaySeconds !== undefined) parts.push(`≤ ${num(r.MaxDelaySeconds)} s`);
  if (r.JitterStrategy === "FULL") parts.push("full jitter");
  return `${errors.join(", ")}: ${parts.join(", ")}`;
}

function nextCell(state: AslState, scope: string[], parentType: string | undefined): string {
  const parts: string[] = [];
  for (const rule of state.Choices ?? []) {
    if (rule.Next !== undefined) parts.push(`${code(rule.Next)} if ${md(conditionLabel(rule))}`);
  }
  if (state.Default !== undefined) parts.push(`${code(state.Default)} otherwise`);
  if (state.Next !== undefined) parts.push(code(state.Next));
  if (state.End === true) parts.push(scope.length === 0 ? "end" : parentType === "Parallel" ? "end of branch" : "end of item");
  if (state.Type === "Succeed") parts.push("succeeds");
  if (state.Type === "Fail") {
    if (state.Error !== undefined) parts.push(`fails with ${code(state.Error)}`);
    else if (state.ErrorPath !== undefined) parts.push(`fails with the error at ${code(state.ErrorPath)}`);
    else parts.push("fails");
  }
  for (const c of state.Catch ?? []) parts.push(`${code(c.Next)} on ${md(catchLabel(c))}`);
  return [...new Set(parts)].join("<br>");
}

/** docs/workflow.md: the diagram, then one table row per state. */
export function workflowDoc(asl: AslMachine): string {
  const entries = allStates(asl);
  const typeOfState = new Map(entries.map((e) => [e.name, e.state.Type]));
  const rows = entries.map(({ name, state, scope }) => [
    [...scope, name].map(code).join(" › "),
    typeCell(state),
    state.Comment?.trim() ? md(state.Comment.trim()) : "",
    (state.Retry ?? []).map(retrierCell).join("<br>"),
    nextCell(state, scope, typeOfState.get(scope.at(-1) ?? "")),
  ]);
  const lambdaErrors = [
    ...new Set(entries.flatMap((e) => (e.state.Retry ?? []).flatMap((r) => r.ErrorEquals)).filter((e) => e.startsWith("Lambda."))),
  ];
  const maps = entries.filter((e) => e.state.Type === "Map").map((e) => code(e.name));
  const lines = [
    "# The milvus-l7 workflow",
    "",
    `<!-- Generated by \`${REGENERATE}\` from ${ASL_FILE}. Do not edit: change the ASL and regenerate. -->`,
    "",
    ...(asl.Comment ? [md(asl.Comment), ""] : []),
    `The state machine is defined in one file, [\`${ASL_FILE}\`](../${ASL_FILE}); this page is generated from it.`,
    "",
    "```mermaid",
    workflowMermaid(asl).trimEnd(),
    "```",
    "",
    "How to read it:",
    "",
    "- ↻ marks a state that retries transient errors with backoff (see *Retries* below);",
    "- a dashed edge labelled `error` is a Catch: any error the retries did not absorb ends in that Fail state, whose Cause says what to do;",
    "- an edge out of a Choice is labelled with its condition (a path is shown by its last segment); `otherwise` is the Choice's Default;",
    "- ⏱ marks a Wait state: waiting costs no Lambda time;",
    ...(maps.length > 0 ? [`- a box (${maps.join(", ")}) is a Map: the steps inside it run once per item.`] : []),
    "",
    "## States",
    "",
    table(["State", "Type", "What it does", "Retries", "Next"], rows),
    "",
  ];
  if (lambdaErrors.length > 0) {
    lines.push(`${LAMBDA_SERVICE_ERRORS}: ${lambdaErrors.map(code).join(", ")}.`, "");
  }
  return `${lines.join("\n")}`;
}

// Generates the reference docs from their single sources, so they cannot drift:
//   docs/workflow.md  from statemachine/milvus-l7.asl.json (a Mermaid diagram and a table of every state);
//   docs/request.md   from the zod request schema (functions/lib/request.ts), the console example
//                     (events/console-start.json) and the annotation rules (functions/lib/alb-annotations.ts).
//
//   npx tsx scripts/docs.ts           regenerate both files
//   npx tsx scripts/docs.ts --check   exit 1, naming the stale file, when a committed file differs
//
// Output is deterministic: definition order of the ASL and of the schema, sorted lists elsewhere, no dates.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod/mini";
import {
  ALB_ANNOTATION_PREFIX,
  allowedSslPolicies,
  documentedAlbAnnotations,
  milvusL7Defaults,
  milvusL7OwnedAnnotations,
  withMilvusL7Defaults,
} from "../functions/lib/alb-annotations";
import { MAX_REQUEST_BYTES, requestSchema } from "../functions/lib/request";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ASL_FILE = "statemachine/milvus-l7.asl.json";
export const EXAMPLE_FILE = "events/console-start.json";
export const WORKFLOW_DOC = "docs/workflow.md";
export const REQUEST_DOC = "docs/request.md";
export const REGENERATE = "npx tsx scripts/docs.ts";
export const README = "README.md";
const README_BEGIN = "<!-- BEGIN workflow diagram: generated from statemachine/milvus-l7.asl.json by `npm run docs` -->";
const README_END = "<!-- END workflow diagram -->";

/** README.md with the workflow diagram between its markers replaced by the one generated from the ASL. */
export function readmeWithDiagram(readme: string, asl: AslMachine): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error(`${README} lacks the workflow diagram markers (${README_BEGIN} … ${README_END})`);
  return `${readme.slice(0, begin + README_BEGIN.length)}\n\n\`\`\`mermaid\n${workflowMermaid(asl)}\n\`\`\`\n\n${readme.slice(end)}`;
}

// ===============================================================================================================
// Amazon States Language

export type ChoiceRule = Record<string, unknown> & { Next?: string };

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
}

export interface AslState {
  Type: string;
  Comment?: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Arguments?: Record<string, unknown>;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Choices?: ChoiceRule[];
  Default?: string;
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
  ItemsPath?: string;
  Items?: unknown;
  MaxConcurrency?: number;
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
}

export interface AslMachine {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
}

/** The machines a Map or Parallel state runs (its iterator, or its branches). */
function innerMachines(state: AslState): AslMachine[] {
  if (state.Type === "Map") {
    const processor = state.ItemProcessor ?? state.Iterator;
    return processor ? [processor] : [];
  }
  if (state.Type === "Parallel") return state.Branches ?? [];
  return [];
}

interface StateEntry {
  name: string;
  state: AslState;
  /** Names of the enclosing Map/Parallel states, outermost first; empty at the top level. */
  scope: string[];
}

/** Every state, nested ones right after their Map/Parallel, in definition order. */
export function allStates(machine: AslMachine, scope: string[] = []): StateEntry[] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    { name, state, scope },
    ...innerMachines(state).flatMap((m) => allStates(m, [...scope, name])),
  ]);
}

/** States without a Comment: the table's "what it does" column is empty for them. */
export function statesWithoutComment(asl: AslMachine): string[] {
  return allStates(asl)
    .filter((e) => !e.state.Comment?.trim())
    .map((e) => e.name);
}

// ---------------------------------------------------------------------------------------------------------------
// Choice conditions as short, readable edge labels: `cutover = before-ingress`, `polls ≥ maxPolls`,
// `renewal and not imported`. A path is shown by its last segment, which is what a reader recognises.

const COMPARISONS: Record<string, string> = {
  Equals: "=",
  LessThan: "<",
  GreaterThan: ">",
  LessThanEquals: "≤",
  GreaterThanEquals: "≥",
};
const NEGATED: Record<string, string> = { "=": "≠", "<": "≥", ">": "≤", "≤": ">", "≥": "<" };
const TYPE_TESTS: Record<string, string> = {
  IsNull: "null",
  IsString: "a string",
  IsNumeric: "a number",
  IsBoolean: "a boolean",
  IsTimestamp: "a timestamp",
};
const RULE_FIELDS = new Set(["Variable", "Next", "Comment", "Assign", "Output"]);

function shortPath(path: unknown): string {
  if (typeof path !== "string") return String(path);
  const body = path.replace(/^\$\$?\.?/, "");
  if (body === "") return "input";
  return body.split(".").at(-1) ?? body;
}

function literal(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** One Choice rule (or a nested condition) as text; `negate` renders its opposite. */
export function conditionLabel(rule: Record<string, unknown>, negate = false, nested = false): string {
  const group = (parts: string[], word: string) => {
    const text = parts.join(` ${word} `);
    return nested && parts.length > 1 ? `(${text})` : text;
  };
  if (Array.isArray(rule.And)) {
    const parts = (rule.And as Record<string, unknown>[]).map((r) => conditionLabel(r, negate, true));
    return group(parts, negate ? "or" : "and");
  }
  if (Array.isArray(rule.Or)) {
    const parts = (rule.Or as Record<string, unknown>[]).map((r) => conditionLabel(r, negate, true));
    return group(parts, negate ? "and" : "or");
  }
  if (typeof rule.Not === "object" && rule.Not !== null) {
    return conditionLabel(rule.Not as Record<string, unknown>, !negate, nested);
  }
  if (typeof rule.Condition === "string") {
    // JSONata: show the expression itself.
    const text = rule.Condition.replace(/^\{%\s*|\s*%\}$/g, "");
    return negate ? `not (${text})` : text;
  }
  const variable = rule.Variable;
  const op = Object.keys(rule).find((k) => !RULE_FIELDS.has(k));
  if (op === undefined) return "?";
  const value = rule[op];
  if (op === "IsPresent") {
    const name = shortPath(typeof variable === "string" ? variable.replace(/\[0\]$/, "") : variable);
    return (value === true) !== negate ? name : `no ${name}`;
  }
  if (op === "BooleanEquals") {
    return (value === true) !== negate ? shortPath(variable) : `not ${shortPath(variable)}`;
  }
  const typeTest = TYPE_TESTS[op];
  if (typeTest !== undefined) {
    return `${shortPath(variable)} is${(value === true) !== negate ? "" : " not"} ${typeTest}`;
  }
  const byPath = op.endsWith("Path");
  const base = byPath ? op.slice(0, -"Path".length) : op;
  const rhs = byPath ? shortPath(value) : literal(value);
  if (base === "StringMatches") return `${shortPath(variable)} ${negate ? "does not match" : "matches"} ${rhs}`;
  const comparison = Object.entries(COMPARISONS).find(([suffix]) =>
    ["String", "Numeric", "Boolean", "Timestamp"].some((kind) => base === `${kind}${suffix}`),
  );
  if (comparison === undefined) return `${shortPath(variable)} ${op} ${rhs}`;
  const symbol = negate ? (NEGATED[comparison[1]] ?? comparison[1]) : comparison[1];
  return `${shortPath(variable)} ${symbol} ${rhs}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Mermaid

const MERMAID_RESERVED = new Set([
  "end",
  "subgraph",
  "graph",
  "flowchart",
  "style",
  "class",
  "classdef",
  "click",
  "linkstyle",
  "direction",
  "call",
  "href",
  "default",
]);

/** Mermaid node ids, one per state name, safe and unique. */
function nodeIds(asl: AslMachine): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set(["sfn_start", "sfn_end"]);
  for (const { name } of allStates(asl)) {
    let id = name.replace(/[^A-Za-z0-9_]/g, "_");
    if (!/^[A-Za-z]/.test(id) || MERMAID_RESERVED.has(id.toLowerCase())) id = `s_${id}`;
    const base = id;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(name, id);
  }
  return ids;
}

function mermaidText(s: string): string {
  return s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

function catchLabel(c: Catcher): string {
  return c.ErrorEquals.length === 1 && c.ErrorEquals[0] === "States.ALL" ? "error" : c.ErrorEquals.join(", ");
}

function mapTitle(name: string, state: AslState): string {
  const over = state.ItemsPath ?? (state.Items === undefined ? "$" : "Items");
  const limit = state.MaxConcurrency ? `, ≤ ${state.MaxConcurrency} at a time` : ", all at once";
  return `${name}${state.Retry?.length ? " ↻" : ""}: for each item of ${over}${limit}`;
}

function nodeDeclaration(id: string, name: string, state: AslState): string {
  const retried = state.Retry?.length ? " ↻" : "";
  switch (state.Type) {
    case "Task":
      return `${id}["${mermaidText(name + retried)}"]`;
    case "Choice":
      return `${id}{"${mermaidText(name)}"}`;
    case "Wait":
      return `${id}{{"${mermaidText(`${name} ⏱`)}"}}`;
    case "Fail":
    case "Succeed":
      return `${id}(["${mermaidText(name)}"])`;
    default:
      return `${id}("${mermaidText(name + retried)}")`;
  }
}

interface Scope {
  startId: string;
  endId: string;
  startLabel: string;
  endLabel: string;
}

function emitMachine(machine: AslMachine, scope: Scope, ids: Map<string, string>, indent: string, out: string[]): void {
  const id = (name: string) => ids.get(name) ?? name;
  const states = Object.entries(machine.States);
  const hasEnd = states.some(([, s]) => s.End === true);
  out.push(`${indent}${scope.startId}(("${mermaidText(scope.startLabel)}"))`);
  for (const [name, state] of states) {
    const inner = innerMachines(state);
    if (inner.length === 0) {
      out.push(indent + nodeDeclaration(id(name), name, state));
      continue;
    }
    const title = state.Type === "Map" ? mapTitle(name, state) : `${name}${state.Retry?.length ? " ↻" : ""}: in parallel`;
    out.push(`${indent}subgraph ${id(name)} ["${mermaidText(title)}"]`);
    if (state.Type === "Map" && inner[0]) {
      const sub = { startId: `${id(name)}_start`, endId: `${id(name)}_end`, startLabel: "item", endLabel: "item done" };
      emitMachine(inner[0], sub, ids, `${indent}  `, out);
    } else {
      inner.forEach((branch, i) => {
        const branchId = `${id(name)}_branch${i + 1}`;
        out.push(`${indent}  subgraph ${branchId} ["branch ${i + 1}"]`);
        const sub = { startId: `${branchId}_start`, endId: `${branchId}_end`, startLabel: "start", endLabel: "done" };
        emitMachine(branch, sub, ids, `${indent}    `, out);
        out.push(`${indent}  end`);
      });
    }
    out.push(`${indent}end`);
  }
  if (hasEnd) out.push(`${indent}${scope.endId}(("${mermaidText(scope.endLabel)}"))`);

  const edges: string[] = [`${scope.startId} --> ${id(machine.StartAt)}`];
  const edge = (from: string, to: string, label?: string, dashed = false) =>
    edges.push(`${from} ${dashed ? "-.->" : "-->"}${label === undefined ? "" : `|"${mermaidText(label)}"|`} ${to}`);
  for (const [name, state] of states) {
    for (const rule of state.Choices ?? []) {
      if (rule.Next !== undefined) edge(id(name), id(rule.Next), conditionLabel(rule));
    }
    if (state.Default !== undefined) edge(id(name), id(state.Default), "otherwise");
    if (state.Next !== undefined) edge(id(name), id(state.Next));
    if (state.End === true) edge(id(name), scope.endId);
    for (const c of state.Catch ?? []) edge(id(name), id(c.Next), catchLabel(c), true);
  }
  for (const line of new Set(edges)) out.push(indent + line);
}

/** The workflow as a Mermaid flowchart: Map/Parallel states are subgraphs, Catch edges dashed, ↻ = retried. */
export function workflowMermaid(asl: AslMachine): string {
  const ids = nodeIds(asl);
  const out = ["flowchart TD"];
  emitMachine(asl, { startId: "sfn_start", endId: "sfn_end", startLabel: "start", endLabel: "end" }, ids, "  ", out);
  const entries = allStates(asl);
  const ofType = (type: string) => entries.filter((e) => e.state.Type === type).map((e) => ids.get(e.name));
  out.push("  classDef fail fill:#fde2e1,stroke:#c62828,color:#000");
  out.push("  classDef ok fill:#e3f4e1,stroke:#2e7d32,color:#000");
  out.push("  classDef wait fill:#fff6d6,stroke:#b08800,color:#000");
  out.push("  classDef terminus fill:#eee,stroke:#777,color:#000");
  const classes: [string, (string | undefined)[]][] = [
    ["fail", ofType("Fail")],
    ["ok", ofType("Succeed")],
    ["wait", ofType("Wait")],
  ];
  for (const [cls, members] of classes) {
    if (members.length > 0) out.push(`  class ${members.join(",")} ${cls}`);
  }
  const termini = out
    .map((l) => /^\s*(\w+_(?:start|end))\(\(/.exec(l)?.[1])
    .filter((t): t is string => t !== undefined);
  out.push(`  class ${termini.join(",")} terminus`);
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown helpers

/** Plain text in Markdown (table cells included): nothing may turn into markup, HTML or a column break. */
function md(s: string): string {
  return s
    .replace(/\s*\n\s*/g, " ")
    .replace(/[\\`*_[\]~|]/g, (c) => `\\${c}`)
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** An inline code span, safe in a table cell. */
function code(s: string): string {
  const fence = s.includes("`") ? "``" : "`";
  const pad = s.includes("`") ? " " : "";
  return `${fence}${pad}${s.replace(/\|/g, "\\|")}${pad}${fence}`;
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map((c) => c || " ").join(" | ")} |`),
  ].join("\n");
}

function num(n: number): string {
  return String(Number(n));
}

// ---------------------------------------------------------------------------------------------------------------
// docs/workflow.md

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

// ===============================================================================================================
// docs/request.md

/**
 * What each field means, for readers. The schema says what is allowed (shown next to these); a `.meta({
 * description })` on a field in the schema takes precedence over the text here.
 */
export const FIELD_MEANINGS: Readonly<Record<string, string>> = {
  cluster: "The EKS cluster that runs Milvus.",
  "cluster.name": "EKS cluster name.",
  "cluster.region": "The cluster's AWS region. Omitted: the region milvus-l7 is deployed in.",
  milvus: "The Milvus Service to put behind the ALB.",
  "milvus.namespace": "Namespace of the Milvus Service.",
  "milvus.service": "Name of the Milvus Service: the Ingress backend, and the Service switched to `ClusterIP` at the cutover.",
  "milvus.port": "The Service's gRPC port, the Ingress backend port.",
  ingress: "The Ingress milvus-l7 creates, and through it the ALB.",
  "ingress.name": "Name of the Ingress (in the Milvus namespace).",
  "ingress.host":
    "The host name clients connect to: the Ingress rule's host, the TLS server name, and a name the certificate must cover.",
  "ingress.scheme": "An internet-facing or internal ALB (sets `alb.ingress.kubernetes.io/scheme`).",
  "ingress.route53HostedZoneId":
    "Optional Route 53 hosted zone: milvus-l7 upserts an alias record `host` → ALB (A and AAAA) and makes the final verification connect through the host name.",
  "ingress.annotations":
    "Extra `alb.ingress.kubernetes.io/*` annotations, checked the way the AWS Load Balancer Controller would; see [Ingress annotations](#ingress-annotations).",
  certificate: "The TLS certificate the ALB serves.",
  "certificate.arn":
    "An ACM certificate. Without `source`: used as is. With `source`: re-imported into, so the ARN (and every listener using it) stays.",
  "certificate.source":
    "Where the PEM files are. References only: the private key never enters the workflow's input, output or history.",
  "certificate.source.secretsManager":
    'A Secrets Manager secret whose value is JSON `{"certificate": "<PEM>", "chain": "<PEM>", "privateKey": "<PEM>"}`.',
  "certificate.source.secretsManager.secretId": "The secret's name or ARN.",
  "certificate.source.s3": "Three PEM objects in an S3 bucket (certbot's file names by default).",
  "certificate.source.s3.bucket": "The bucket.",
  "certificate.source.s3.prefix": "Key prefix joined to each object name with `/` (e.g. `live/milvus.example.com`).",
  "certificate.source.s3.certificateKey": "Object name of the leaf certificate.",
  "certificate.source.s3.chainKey": "Object name of the chain: the leaf's issuers, in order.",
  "certificate.source.s3.privateKeyKey": "Object name of the (unencrypted) private key.",
  cutover:
    "`after-verify`: keep the Layer-4 load balancer until the ALB path is proven, then switch the Service to `ClusterIP` (no downtime). `before-ingress`: the Milvus guide's order (Milvus is unreachable from outside until the ALB serves).",
  waitForAddressMinutes:
    "How long to wait for the ALB's address before failing with the controller's latest Warning event.",
  onFailure:
    "What to leave behind when the ALB path cannot be proven before the cutover: `keep-ingress`, or `remove-ingress` to delete the Ingress milvus-l7 created. The Layer-4 endpoint is never touched.",
};

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  description?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

type ZodAny = z.ZodMiniType;
interface LooseDef {
  type: string;
  innerType?: ZodAny;
  in?: ZodAny;
  shape?: Record<string, ZodAny>;
}

function defOf(schema: ZodAny): LooseDef {
  return (schema as unknown as { _zod: { def: LooseDef } })._zod.def;
}

const WRAPPERS = new Set(["optional", "default", "prefault", "nullable", "readonly", "catch", "nonoptional"]);

/** The schema under optional/default/… wrappers and on the input side of pipes (transforms). */
function core(schema: ZodAny): ZodAny {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else return s;
  }
}

function zodChild(schema: ZodAny, key: string): ZodAny | undefined {
  return defOf(core(schema)).shape?.[key];
}

/** The schema's own messages for a value it refuses (its rules, in its words), ignoring type errors. */
function refusal(schema: ZodAny, probes: unknown[], depth: number): string[] {
  for (const probe of probes) {
    const result = core(schema).safeParse(probe);
    if (result.success) continue;
    const messages = result.error.issues
      .filter((i) => i.path.length <= depth && i.code !== "invalid_type" && i.code !== "unrecognized_keys")
      .map((i) => i.message);
    if (messages.length > 0) return [...new Set(messages)];
  }
  return [];
}

export interface FieldDoc {
  path: string;
  type: string;
  required: boolean;
  default?: string;
  allowed: string[];
  meaning: string;
}

function typeOf(js: JsonSchema): string {
  if (js.anyOf ?? js.oneOf) return (js.anyOf ?? js.oneOf ?? []).map(typeOf).join(" or ");
  if (js.properties) return "object";
  const t = Array.isArray(js.type) ? js.type.join(" or ") : js.type;
  if (t === "object") {
    const values = typeof js.additionalProperties === "object" ? js.additionalProperties.type : undefined;
    return typeof values === "string" ? `map of ${values}` : "map";
  }
  if (t === "array") return `list of ${js.items ? typeOf(js.items) : "any"}`;
  return t ?? "any";
}

function jsonAt(value: unknown, path: string[]): unknown {
  let v = value;
  for (const seg of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

function leafPaths(value: unknown, path: string[] = []): [string[], unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
}

/**
 * A default the schema computes in a transform (say, a name that defaults to another field's value) shows in no
 * JSON Schema: find it by parsing the example without the field.
 */
function derivedDefault(example: unknown, path: string[]): string | undefined {
  if (jsonAt(example, path) === undefined) return undefined;
  const without = structuredClone(example) as Record<string, unknown>;
  const parent = jsonAt(without, path.slice(0, -1)) as Record<string, unknown>;
  delete parent[path.at(-1) as string];
  const parsed = requestSchema.safeParse(without);
  if (!parsed.success) return undefined;
  const value = jsonAt(parsed.data, path);
  if (value === undefined) return undefined;
  const source = leafPaths(without).find(([, v]) => v === value && typeof v === "string");
  return source ? `the value of ${code(source[0].join("."))}` : code(JSON.stringify(value));
}

/** Every field of the request, depth first in schema order. */
export function requestFields(example: unknown = readExample()): FieldDoc[] {
  const root = z.toJSONSchema(requestSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const fields: FieldDoc[] = [];
  const walk = (js: JsonSchema, zs: ZodAny | undefined, path: string[]) => {
    for (const [key, child] of Object.entries(js.properties ?? {})) {
      const childPath = [...path, key];
      const dotted = childPath.join(".");
      const zchild = zs ? zodChild(zs, key) : undefined;
      const allowed: string[] = [];
      const type = typeOf(child);
      if (child.enum) allowed.push(`one of ${child.enum.map((v) => code(literal(v))).join(", ")}`);
      else if (child.const !== undefined) allowed.push(`exactly ${code(literal(child.const))}`);
      if (type === "integer" || type === "number") {
        const lo = child.minimum ?? child.exclusiveMinimum;
        const hi = child.maximum ?? child.exclusiveMaximum;
        if (lo !== undefined && hi !== undefined) allowed.push(`${lo} to ${hi}`);
        else if (lo !== undefined) allowed.push(`at least ${lo}`);
        else if (hi !== undefined) allowed.push(`at most ${hi}`);
      }
      if (child.pattern) allowed.push(`pattern ${code(child.pattern)}`);
      if (child.minLength !== undefined || child.maxLength !== undefined) {
        allowed.push(`${child.minLength ?? 0} to ${child.maxLength ?? "∞"} characters`);
      }
      if (zchild && !child.enum) {
        if (type === "string") allowed.push(...refusal(zchild, ["\u0001", "", " "], 0).map(md));
        else if (type === "object") allowed.push(...refusal(zchild, [{}], 0).map(md));
        else if (type.startsWith("map")) allowed.push(...refusal(zchild, [{ x: "" }], 1).map(md));
      }
      const fromSchema = "default" in child ? code(JSON.stringify(child.default)) : undefined;
      fields.push({
        path: dotted,
        type,
        required: (js.required ?? []).includes(key),
        default: fromSchema ?? derivedDefault(example, childPath),
        allowed,
        meaning: child.description ?? FIELD_MEANINGS[dotted] ?? "",
      });
      if (child.properties) walk(child, zchild, childPath);
    }
  };
  walk(root, requestSchema, []);
  return fields;
}

/** Schema fields with no meaning (neither a schema description nor an entry in FIELD_MEANINGS). */
export function fieldsWithoutMeaning(): string[] {
  return requestFields()
    .filter((f) => !f.meaning)
    .map((f) => f.path);
}

function readExample(): unknown {
  return JSON.parse(readFileSync(join(ROOT, EXAMPLE_FILE), "utf8"));
}

/** docs/request.md: every field, the example, and the annotation rules. `exampleText` is events/console-start.json. */
export function requestDoc(exampleText: string = readFileSync(join(ROOT, EXAMPLE_FILE), "utf8")): string {
  const example: unknown = JSON.parse(exampleText);
  const fields = requestFields(example);
  const rows = fields.map((f) => [
    code(f.path),
    f.type,
    f.required ? "yes" : "no",
    f.default ?? "",
    f.allowed.join("; "),
    f.meaning,
  ]);
  const lbKey = `${ALB_ANNOTATION_PREFIX}load-balancer-attributes`;
  const extraAttributes = "access_logs.s3.enabled=true,access_logs.s3.bucket=my-alb-logs";
  const merged = withMilvusL7Defaults({ [lbKey]: extraAttributes })[lbKey] ?? "";
  const owned = Object.entries(milvusL7OwnedAnnotations);
  const accepted = documentedAlbAnnotations.filter((k) => !(k in milvusL7OwnedAnnotations)).sort();
  const lines = [
    "# The deployment request",
    "",
    `<!-- Generated by \`${REGENERATE}\` from functions/lib/request.ts, functions/lib/alb-annotations.ts and ${EXAMPLE_FILE}. Do not edit: change those and regenerate. -->`,
    "",
    "A deployment request is the JSON that starts milvus-l7: the input of a console execution, the body of",
    "`POST /deployments`, and what `npx milvus-l7 validate <file>` checks. One schema",
    "([`functions/lib/request.ts`](../functions/lib/request.ts)) checks it everywhere, and a bad request is rejected",
    "before anything is changed, with one `field.path: what is allowed` line per problem.",
    "",
    "## Rules for every request",
    "",
    `- At most ${MAX_REQUEST_BYTES} bytes of JSON.`,
    "- Objects are strict: an unknown field (a typo such as `namepace`) is rejected, naming the fields allowed.",
    "- No string may contain control characters, and no value may hold PEM material (`-----BEGIN`): pass references",
    "  (`certificate.source`), never a certificate or key, because requests are visible in the Step Functions console.",
    "- When `certificate.arn` and `cluster.region` are both given they must be the same region: an ALB can only use",
    "  an ACM certificate from its own region. Without `cluster.region` the check uses the region milvus-l7 is deployed in.",
    "",
    "## Fields",
    "",
    "A field marked required is required whenever the object holding it is present.",
    "",
    table(["Field", "Type", "Required", "Default", "Allowed", "Meaning"], rows),
    "",
    "## Example",
    "",
    `[\`${EXAMPLE_FILE}\`](../${EXAMPLE_FILE}), ready to paste into the Step Functions console's *Start execution*:`,
    "",
    "```json",
    exampleText.trimEnd(),
    "```",
    "",
    "## Ingress annotations",
    "",
    `\`ingress.annotations\` takes \`${ALB_ANNOTATION_PREFIX}*\` annotations only, as strings (quote numbers and`,
    "booleans). Each is checked the way the AWS Load Balancer Controller and ELB would check it, because the controller",
    "reports a bad annotation only as a Warning event after the Ingress is applied.",
    "",
    "### Set by milvus-l7",
    "",
    "A request may not set these: they carry milvus-l7's guarantees.",
    "",
    table(
      ["Annotation", "Why"],
      owned.map(([k, why]) => [code(k), md(why)]),
    ),
    "",
    "### Added unless the request sets them",
    "",
    table(
      ["Annotation", "Value"],
      Object.entries(milvusL7Defaults).map(([k, v]) => [code(k), code(v)]),
    ),
    "",
    `\`${lbKey}\` is merged attribute by attribute: a request's \`${extraAttributes}\``,
    `becomes \`${merged}\`, so adding access logs does not drop the idle timeout.`,
    "",
    "### Accepted annotations",
    "",
    "The documented AWS Load Balancer Controller Ingress annotations, less those milvus-l7 sets; `<…>` is a name you choose.",
    "",
    ...accepted.map((k) => `- ${code(k)}`),
    "",
    `### Accepted \`${ALB_ANNOTATION_PREFIX}ssl-policy\` values`,
    "",
    "Policies whose minimum is TLS 1.2:",
    "",
    ...allowedSslPolicies.map((p) => `- ${code(p)}`),
    "",
  ];
  return lines.join("\n");
}

// ===============================================================================================================
// Files

/** Every generated file, by path relative to `root`, with the content it should have. */
export function generateDocs(root: string = ROOT): Record<string, string> {
  const asl = JSON.parse(readFileSync(join(root, ASL_FILE), "utf8")) as AslMachine;
  return {
    [WORKFLOW_DOC]: workflowDoc(asl),
    [REQUEST_DOC]: requestDoc(readFileSync(join(root, EXAMPLE_FILE), "utf8")),
    [README]: readmeWithDiagram(readFileSync(join(root, README), "utf8"), asl),
  };
}

/** One message per generated file under `root` that is missing or differs from what would be generated. */
export function staleDocs(root: string = ROOT): string[] {
  const stale: string[] = [];
  for (const [file, want] of Object.entries(generateDocs(root))) {
    const path = join(root, file);
    if (!existsSync(path)) {
      stale.push(`${file} is missing: run \`${REGENERATE}\``);
      continue;
    }
    const have = readFileSync(path, "utf8");
    if (have === want) continue;
    const a = have.split("\n");
    const b = want.split("\n");
    let line = 0;
    while (line < a.length && line < b.length && a[line] === b[line]) line++;
    stale.push(`${file} is stale (first difference at line ${line + 1}): run \`${REGENERATE}\``);
  }
  return stale;
}

function main(argv: string[]): number {
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]}\nusage: ${REGENERATE} [--check]`);
    return 2;
  }
  const asl = JSON.parse(readFileSync(join(ROOT, ASL_FILE), "utf8")) as AslMachine;
  const noComment = statesWithoutComment(asl);
  if (noComment.length > 0) console.error(`warning: states without a Comment in ${ASL_FILE}: ${noComment.join(", ")}`);
  const noMeaning = fieldsWithoutMeaning();
  if (noMeaning.length > 0) {
    console.error(`warning: request fields without a meaning (FIELD_MEANINGS in scripts/docs.ts): ${noMeaning.join(", ")}`);
  }
  if (argv.includes("--check")) {
    const stale = staleDocs(ROOT);
    for (const s of stale) console.error(s);
    if (stale.length === 0) console.log("docs are up to date");
    return stale.length === 0 ? 0 : 1;
  }
  for (const [file, content] of Object.entries(generateDocs(ROOT))) {
    const path = join(ROOT, file);
    if (existsSync(path) && readFileSync(path, "utf8") === content) {
      console.log(`${file}: up to date`);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    console.log(`${file}: written`);
  }
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}

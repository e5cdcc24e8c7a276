// The Amazon States Language as the generators read it: the shape of a state machine, every state in definition
// order (nested ones right after their Map or Parallel), and Choice conditions as short, readable words.
import { literal } from "./markdown";

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
export function innerMachines(state: AslState): AslMachine[] {
  if (state.Type === "Map") {
    const processor = state.ItemProcessor ?? state.Iterator;
    return processor ? [processor] : [];
  }
  if (state.Type === "Parallel") return state.Branches ?? [];
  return [];
}

export interface StateEntry {
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

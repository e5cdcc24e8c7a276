// The workflow as a Mermaid flowchart (docs/workflow.md and the README): Map and Parallel states are subgraphs,
// Catch edges dashed, Choice edges labelled with their conditions, ↻ marks a retried state.
import { type AslMachine, type AslState, type Catcher, allStates, conditionLabel, innerMachines } from "./asl";

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

export function catchLabel(c: Catcher): string {
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

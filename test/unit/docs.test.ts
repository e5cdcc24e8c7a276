// The generated reference docs (scripts/docs.ts, one module per document in scripts/docs/): committed and current,
// and faithful to their sources. The ASL and the schema are read here independently of the generator, so a
// generator bug cannot hide itself.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  documentedAlbAnnotations,
  milvusL7Defaults,
  milvusL7OwnedAnnotations,
} from "../../functions/lib/alb-annotations";
import { requestSchema } from "../../functions/lib/request";
import { generateDocs, staleDocs } from "../../scripts/docs";
import { conditionLabel } from "../../scripts/docs/asl";
import { README, REGENERATE } from "../../scripts/docs/files";
import { workflowMermaid } from "../../scripts/docs/mermaid";
import { requestDoc } from "../../scripts/docs/request-doc";
import { fieldsWithoutMeaning } from "../../scripts/docs/request-fields";
import { workflowDoc } from "../../scripts/docs/workflow-doc";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ASL_FILE = "statemachine/milvus-l7.asl.json";
const EXAMPLE_FILE = "events/console-start.json";
const aslText = readFileSync(join(ROOT, ASL_FILE), "utf8");
const exampleText = readFileSync(join(ROOT, EXAMPLE_FILE), "utf8");

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// The ASL, read here on its own.

interface State {
  Type: string;
  Comment?: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next?: string }[];
  Catch?: { Next: string; ErrorEquals: string[] }[];
  Retry?: unknown[];
  ItemProcessor?: Machine;
  Iterator?: Machine;
  Branches?: Machine[];
}
interface Machine {
  StartAt: string;
  States: Record<string, State>;
}
interface Entry {
  name: string;
  state: State;
  /** The Map/Parallel state this one runs inside, if any. */
  parent?: string;
  machine: Machine;
}

function entries(machine: Machine, parent?: string): Entry[] {
  return Object.entries(machine.States).flatMap(([name, state]) => {
    const inner = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter(
      (m): m is Machine => m !== undefined,
    );
    return [{ name, state, parent, machine }, ...inner.flatMap((m) => entries(m, name))];
  });
}

type Kind = "next" | "default" | "choice" | "catch";
interface Transition {
  from: string;
  to: string;
  kind: Kind;
  /** A Catch's ErrorEquals. */
  errors?: string[];
}

function transitions(all: Entry[]): Transition[] {
  return all.flatMap(({ name, state }) => [
    ...(state.Next ? [{ from: name, to: state.Next, kind: "next" as const }] : []),
    ...(state.Default ? [{ from: name, to: state.Default, kind: "default" as const }] : []),
    ...(state.Choices ?? []).flatMap((c) => (c.Next ? [{ from: name, to: c.Next, kind: "choice" as const }] : [])),
    ...(state.Catch ?? []).map((c) => ({ from: name, to: c.Next, kind: "catch" as const, errors: c.ErrorEquals })),
  ]);
}

const asl = JSON.parse(aslText) as Machine;
const all = entries(asl);

// ---------------------------------------------------------------------------------------------------------------
// The Mermaid, parsed.

interface Graph {
  /** Node and subgraph id → label and the subgraphs it sits in (outermost first). */
  nodes: Map<string, { label: string; within: string[]; subgraph: boolean }>;
  edges: { from: string; to: string; dashed: boolean; label?: string }[];
}

function decode(label: string): string {
  return label.replace(/#quot;/g, '"').replace(/#lt;/g, "<").replace(/#gt;/g, ">");
}

function parseMermaid(text: string): Graph {
  const graph: Graph = { nodes: new Map(), edges: [] };
  const stack: string[] = [];
  const lines = text.split("\n").map((l) => l.trim());
  expect(lines[0]).toBe("flowchart TD");
  for (const line of lines.slice(1)) {
    if (line === "" || /^(classDef|class|direction) /.test(line)) continue;
    const sub = /^subgraph (\w+) \["(.*)"\]$/.exec(line);
    if (sub?.[1] !== undefined && sub[2] !== undefined) {
      graph.nodes.set(sub[1], { label: decode(sub[2]), within: [...stack], subgraph: true });
      stack.push(sub[1]);
      continue;
    }
    if (line === "end") {
      expect(stack.pop(), "an `end` closes a subgraph").toBeDefined();
      continue;
    }
    const edge = /^(\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)$/.exec(line);
    if (edge?.[1] !== undefined && edge[4] !== undefined) {
      const label = edge[3] === undefined ? undefined : decode(edge[3]);
      graph.edges.push({ from: edge[1], to: edge[4], dashed: edge[2] === "-.->", label });
      continue;
    }
    const node = /^(\w+)(?:\["|\{"|\("|\(\["|\{\{"|\(\(")(.*?)(?:"\]|"\}|"\)|"\]\)|"\}\}|"\)\))$/.exec(line);
    if (node?.[1] !== undefined && node[2] !== undefined) {
      expect(graph.nodes.has(node[1]), `node ${node[1]} declared once`).toBe(false);
      graph.nodes.set(node[1], { label: decode(node[2]), within: [...stack], subgraph: false });
      continue;
    }
    throw new Error(`unrecognised Mermaid line: ${line}`);
  }
  expect(stack, "every subgraph is closed").toEqual([]);
  return graph;
}

const graph = parseMermaid(workflowMermaid(JSON.parse(aslText)));

/** The node (or subgraph) whose label names the state. */
const idCache = new Map<string, string>();
function idOf(name: string): string {
  const cached = idCache.get(name);
  if (cached !== undefined) return cached;
  const ids = [...graph.nodes].filter(([, n]) => {
    if (!n.label.startsWith(name)) return false;
    const after = n.label.slice(name.length);
    return after === "" || after.startsWith(" ") || after.startsWith(":");
  });
  expect(ids.map(([id]) => id), `exactly one node for state ${name}`).toHaveLength(1);
  const id = (ids[0] as [string, unknown])[0];
  idCache.set(name, id);
  return id;
}

// ---------------------------------------------------------------------------------------------------------------

describe("committed docs", () => {
  it("are what scripts/docs.ts generates (else run `npx tsx scripts/docs.ts`)", () => {
    expect(staleDocs(), `generated docs are stale: run \`${REGENERATE}\` and commit docs/`).toEqual([]);
  });

  it("pass `scripts/docs.ts --check`", () => {
    const out = execFileSync(join(ROOT, "node_modules/.bin/tsx"), ["scripts/docs.ts", "--check"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(out).toContain("docs are up to date");
  });

  it("are deterministic", () => {
    expect(generateDocs()).toEqual(generateDocs());
    expect(workflowDoc(JSON.parse(aslText))).toBe(workflowDoc(JSON.parse(aslText)));
    expect(requestDoc(exampleText)).toBe(requestDoc(exampleText));
  });

  it("--check logic names a stale or missing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "milvus-l7-docs-"));
    dirs.push(dir);
    for (const file of [ASL_FILE, EXAMPLE_FILE, README]) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), readFileSync(join(ROOT, file)));
    }
    for (const [file, content] of Object.entries(generateDocs(dir))) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), content);
    }
    expect(staleDocs(dir)).toEqual([]);

    const changed = JSON.parse(aslText) as Machine;
    (changed.States[changed.StartAt] as State).Comment = "A different comment.";
    writeFileSync(join(dir, ASL_FILE), JSON.stringify(changed, null, 2));
    rmSync(join(dir, "docs/request.md"));
    const stale = staleDocs(dir);
    expect(stale).toHaveLength(2);
    expect(stale[0]).toMatch(/^docs\/workflow\.md is stale \(first difference at line \d+\): run `npx tsx scripts\/docs\.ts`$/);
    expect(stale[1]).toBe("docs/request.md is missing: run `npx tsx scripts/docs.ts`");
  });
});

describe("docs/workflow.md", () => {
  it("has a node for every ASL state, iterator states inside their Map's subgraph", () => {
    expect(all.length).toBeGreaterThan(15);
    for (const { name, state, parent } of all) {
      const node = graph.nodes.get(idOf(name));
      if (state.Type === "Map" || state.Type === "Parallel") expect(node?.subgraph, name).toBe(true);
      if (parent !== undefined) expect(node?.within, name).toContain(idOf(parent));
      else expect(node?.within, name).toEqual([]);
    }
    // Nothing but states and the start/end markers.
    const stateIds = new Set(all.map((e) => idOf(e.name)));
    const others = [...graph.nodes].filter(([id]) => !stateIds.has(id)).map(([id]) => id);
    for (const id of others) expect(id, "only start/end markers besides states").toMatch(/_(start|end)$/);
  });

  it("has an edge for every Next, Default, Choice and Catch transition, and no other edge between states", () => {
    const expected = transitions(all);
    expect(expected.filter((t) => t.kind === "catch").length).toBeGreaterThan(5);
    const stateIds = new Set(all.map((e) => idOf(e.name)));
    for (const t of expected) {
      const matching = graph.edges.filter((e) => e.from === idOf(t.from) && e.to === idOf(t.to));
      const what = `${t.kind} ${t.from} → ${t.to}`;
      if (t.kind === "catch") {
        // A catch-all reads "error"; a Catch of named errors is labelled with them.
        const label = t.errors?.join(", ") === "States.ALL" ? "error" : t.errors?.join(", ");
        expect(matching.filter((e) => e.dashed && e.label === label), what).toHaveLength(1);
      } else if (t.kind === "default") {
        expect(matching.filter((e) => !e.dashed && e.label === "otherwise"), what).toHaveLength(1);
      } else if (t.kind === "choice") {
        const labelled = matching.filter((e) => !e.dashed && e.label && e.label !== "otherwise");
        expect(labelled.length, what).toBeGreaterThanOrEqual(1);
      } else {
        expect(matching.filter((e) => !e.dashed && e.label === undefined), what).toHaveLength(1);
      }
    }
    const between = graph.edges.filter((e) => stateIds.has(e.from) && stateIds.has(e.to));
    const known = new Set(expected.map((t) => `${idOf(t.from)}>${idOf(t.to)}`));
    for (const e of between) expect(known, `${e.from} → ${e.to} is an ASL transition`).toContain(`${e.from}>${e.to}`);
  });

  it("enters every machine at StartAt and leaves every End state", () => {
    const machines = [asl, ...all.flatMap((e) => [e.state.ItemProcessor, e.state.Iterator, ...(e.state.Branches ?? [])])];
    for (const m of machines.filter((x): x is Machine => x !== undefined)) {
      const into = graph.edges.filter((e) => e.to === idOf(m.StartAt) && /_start$/.test(e.from));
      expect(into, `start → ${m.StartAt}`).toHaveLength(1);
    }
    for (const { name } of all.filter((e) => e.state.End)) {
      expect(graph.edges.some((e) => e.from === idOf(name) && /_end$/.test(e.to)), `${name} → end`).toBe(true);
    }
  });

  it("marks retried states with ↻ and shows the Wait loop", () => {
    for (const { name, state } of all) {
      expect(graph.nodes.get(idOf(name))?.label.includes("↻"), name).toBe((state.Retry?.length ?? 0) > 0);
    }
    const waits = all.filter((e) => e.state.Type === "Wait");
    expect(waits.length).toBeGreaterThan(0);
    for (const { name } of waits) {
      // Follow the diagram's edges from the Wait state: they lead back to it.
      const seen = new Set<string>();
      const queue = graph.edges.filter((e) => e.from === idOf(name)).map((e) => e.to);
      while (queue.length > 0) {
        const id = queue.shift() as string;
        if (seen.has(id)) continue;
        seen.add(id);
        queue.push(...graph.edges.filter((e) => e.from === id).map((e) => e.to));
      }
      expect(seen.has(idOf(name)), `${name} is on a loop`).toBe(true);
    }
  });

  it("labels Choice branches with short conditions", () => {
    expect(conditionLabel({ Variable: "$.cutover", StringEquals: "before-ingress", Next: "X" })).toBe(
      "cutover = before-ingress",
    );
    expect(conditionLabel({ Variable: "$.ingress.ready", BooleanEquals: true, Next: "X" })).toBe("ready");
    expect(conditionLabel({ Variable: "$.ingress.polls", NumericGreaterThanEqualsPath: "$.maxPolls", Next: "X" })).toBe(
      "polls ≥ maxPolls",
    );
    expect(
      conditionLabel({
        And: [
          { Variable: "$.renewal", IsPresent: true },
          { Variable: "$.importedCertificate.imported", BooleanEquals: false },
        ],
        Next: "X",
      }),
    ).toBe("renewal and not imported");
    expect(conditionLabel({ Not: { Variable: "$.targets[0]", IsPresent: true }, Next: "X" })).toBe("no targets");
    expect(conditionLabel({ Not: { Variable: "$.n", NumericLessThan: 3 }, Next: "X" })).toBe("n ≥ 3");
    expect(
      conditionLabel({
        Or: [{ Variable: "$.a", IsNull: true }, { And: [{ Variable: "$.b", StringMatches: "x*" }, { Variable: "$.c", NumericEquals: 1 }] }],
        Next: "X",
      }),
    ).toBe("a is null or (b matches x* and c = 1)");
    expect(conditionLabel({ Not: { Or: [{ Variable: "$.a", BooleanEquals: true }, { Variable: "$.b", IsPresent: true }] } })).toBe(
      "not a and no b",
    );
  });

  it("has a table row for every state with its Comment", () => {
    const doc = workflowDoc(JSON.parse(aslText));
    const rows = doc.split("\n").filter((l) => l.startsWith("| `"));
    expect(rows).toHaveLength(all.length);
    for (const { name, state } of all) {
      const row = rows.find((r) => (r.split(" | ")[0] ?? "").endsWith(`\`${name}\``));
      expect(row, name).toBeDefined();
      if (state.Comment) expect(row, name).toContain(state.Comment.split(/[*_`<>|[\]~\\]/)[0]);
    }
  });
});

describe("docs/request.md", () => {
  const doc = requestDoc(exampleText);

  function schemaPaths(js: Record<string, unknown>, prefix: string[] = []): string[] {
    const properties = (js.properties ?? {}) as Record<string, Record<string, unknown>>;
    return Object.entries(properties).flatMap(([key, child]) => [
      [...prefix, key].join("."),
      ...schemaPaths(child, [...prefix, key]),
    ]);
  }

  it("has a row for every field path of the schema", () => {
    const paths = schemaPaths(z.toJSONSchema(requestSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>);
    expect(paths).toContain("certificate.source.s3.privateKeyKey");
    for (const path of paths) expect(doc, path).toContain(`| \`${path}\` |`);
    expect(fieldsWithoutMeaning(), "give these fields a meaning in FIELD_MEANINGS (scripts/docs/request-fields.ts)").toEqual([]);
  });

  it("shows defaults, enum values and each field's rule in the schema's own words", () => {
    const row = (path: string) => doc.split("\n").find((l) => l.startsWith(`| \`${path}\` |`)) ?? "";
    expect(row("milvus.port")).toContain("`19530`");
    expect(row("cutover")).toContain("`before-ingress`");
    expect(row("ingress.name")).toContain("the value of `milvus.service`");
    expect(row("cluster.region")).toContain("must be an AWS region code");
    expect(row("certificate.source")).toContain("must have exactly one of secretsManager, s3");
    expect(row("certificate.arn")).toContain("&lt;region&gt;");
  });

  it("states the cross-field region rule the schema enforces", () => {
    expect(doc).toContain("they must be the same region");
    const example = JSON.parse(exampleText);
    example.cluster.region = example.cluster.region === "eu-west-1" ? "us-west-2" : "eu-west-1";
    const result = requestSchema.safeParse(example);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain("certificate.arn");
  });

  it("embeds the console example verbatim", () => {
    expect(doc).toContain(`\`\`\`json\n${exampleText.trimEnd()}\n\`\`\``);
  });

  it("lists the owned annotations, the defaults and every accepted documented key", () => {
    for (const key of Object.keys(milvusL7OwnedAnnotations)) expect(doc).toContain(`| \`${key}\` |`);
    for (const [key, value] of Object.entries(milvusL7Defaults)) expect(doc).toContain(`| \`${key}\` | \`${value}\` |`);
    const accepted = documentedAlbAnnotations.filter((k) => !(k in milvusL7OwnedAnnotations));
    expect(accepted.length).toBeGreaterThan(40);
    for (const key of accepted) expect(doc).toContain(`- \`${key}\``);
    for (const key of Object.keys(milvusL7OwnedAnnotations)) expect(doc).not.toContain(`- \`${key}\``);
  });
});

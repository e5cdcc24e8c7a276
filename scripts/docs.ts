// Generates the reference docs from their single sources, so they cannot drift (one module per document, under
// scripts/docs/):
//   docs/workflow.md                     from statemachine/milvus-l7.asl.json (a Mermaid diagram and a table of
//                                        every state), and the same diagram in README.md;
//   docs/request.md                      from the zod request schema (functions/lib/request.ts), the console
//                                        example (events/console-start.json) and the annotation rules
//                                        (functions/lib/alb-annotations.ts);
//   docs/deployment-request.schema.json  the request schema as a JSON Schema, for editors and portals;
//   docs/openapi.json                    the HTTP API (functions/api, infra/constructs/http-api.ts) as OpenAPI 3.1.
//
//   npx tsx scripts/docs.ts           regenerate them
//   npx tsx scripts/docs.ts --check   exit 1, naming the stale file, when a committed file differs
//
// Output is deterministic: definition order of the ASL and of the schema, sorted lists elsewhere, no dates.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type AslMachine, statesWithoutComment } from "./docs/asl";
import {
  ASL_FILE,
  EXAMPLE_FILE,
  OPENAPI_DOC,
  README,
  REGENERATE,
  REQUEST_DOC,
  REQUEST_SCHEMA_DOC,
  ROOT,
  WORKFLOW_DOC,
} from "./docs/files";
import { openApiDoc } from "./docs/openapi";
import { requestDoc } from "./docs/request-doc";
import { fieldsWithoutMeaning } from "./docs/request-fields";
import { requestSchemaDoc } from "./docs/request-schema";
import { readmeWithDiagram, workflowDoc } from "./docs/workflow-doc";

/** Every generated file, by path relative to `root`, with the content it should have. */
export function generateDocs(root: string = ROOT): Record<string, string> {
  const asl = JSON.parse(readFileSync(join(root, ASL_FILE), "utf8")) as AslMachine;
  const exampleText = readFileSync(join(root, EXAMPLE_FILE), "utf8");
  return {
    [WORKFLOW_DOC]: workflowDoc(asl),
    [REQUEST_DOC]: requestDoc(exampleText),
    [REQUEST_SCHEMA_DOC]: requestSchemaDoc(JSON.parse(exampleText)),
    [OPENAPI_DOC]: openApiDoc(),
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
    console.error(`warning: request fields without a meaning (FIELD_MEANINGS in scripts/docs/request-fields.ts): ${noMeaning.join(", ")}`);
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

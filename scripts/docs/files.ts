// Where the generated docs and their sources live, relative to the repository root, and the command that
// regenerates them (named in every generated file and in every staleness message).
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ASL_FILE = "statemachine/milvus-l7.asl.json";
export const EXAMPLE_FILE = "events/console-start.json";
export const WORKFLOW_DOC = "docs/workflow.md";
export const REQUEST_DOC = "docs/request.md";
export const REQUEST_SCHEMA_DOC = "docs/deployment-request.schema.json";
export const OPENAPI_DOC = "docs/openapi.json";
export const REGENERATE = "npx tsx scripts/docs.ts";
export const README = "README.md";

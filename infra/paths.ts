import { fileURLToPath } from "node:url";

/** The repository root (infra/ sits directly below it), so entry points resolve from any working directory. */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The one definition of the workflow (docs/architecture.md, "Decisions"). */
export const ASL_PATH = fileURLToPath(new URL("../statemachine/milvus-l7.asl.json", import.meta.url));

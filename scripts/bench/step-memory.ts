// The memory each Lambda is given, for the cost estimates: the steps table's for the workflow's functions, the
// HTTP API construct's for the API. A function neither names is assumed DEFAULT_MEMORY_MB, and the report names it.
import { API_FUNCTION_MEMORY_MB } from "../../infra/constructs/http-api";
import { STEP_TABLE } from "../../statemachine/steps";

/** Memory assumed for a function that neither the steps table nor the API construct configures. */
export const DEFAULT_MEMORY_MB = 256;

/** Memory per function as the stack deploys it, by function folder name. */
export function stepMemorySizes(): Record<string, number> {
  return { ...Object.fromEntries(STEP_TABLE.map((step) => [step.name, step.memoryMb])), api: API_FUNCTION_MEMORY_MB };
}

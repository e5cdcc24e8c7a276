// Every demo scenario, in the order `milvus-l7 demo --list` shows them. A new scenario goes into a family module
// (or a new one) and into this list; test/integration/demo-scenarios.test.ts fails until it has a test too.
import { dns, deploy } from "./deployment";
import { badRequest, rollback } from "./failures";
import { renewal } from "./renewal";
import type { Scenario } from "./scenario";

export type { ClusterAfterRun, IngressState, Scenario, ScenarioContext, ScenarioRun } from "./scenario";

export const SCENARIOS: readonly Scenario[] = [deploy, renewal, rollback, badRequest, dns];

/** What `milvus-l7 demo` shows without --scenario. */
export const DEFAULT_SCENARIO = deploy.name;

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

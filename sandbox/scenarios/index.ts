// Every demo scenario, in the order `milvus-l7 demo --list` shows them. A new scenario goes into a family module
// (or a new one) and into this list; test/integration/demo-scenarios.test.ts fails until it has a test too.
import { internalAlbRefused, staleAlbNode } from "./alb-addresses";
import { dns, deploy } from "./deployment";
import { autoMode, ingressClassMissing, ingressClassParamsOverride, serviceAnnotationOverride } from "./cluster-config";
import { badRequest, rollback } from "./failures";
import { ingressGroupConflict } from "./ingress-groups";
import { ingressDeleting } from "./ingress-lifecycle";
import { milvusAuth, milvusAuthMissing, milvusAuthToken, milvusAuthWrong } from "./milvus-auth";
import { milvusClusterV1alpha1, milvusOperator } from "./milvus-operator";
import { renewal } from "./renewal";
import { expiring } from "./expiry";
import { certManager } from "./cert-manager";
import { drift, driftClean } from "./drift";
import { rbac } from "./rbac";
import type { Scenario } from "./scenario";
import { chinaRegion } from "./partitions";
import { sourceRangesAnnotation } from "./service-shapes";
import { targetsUnhealthy } from "./target-health";

export type { ClusterAfterRun, IngressState, Scenario, ScenarioContext, ScenarioRun } from "./scenario";

export const SCENARIOS: readonly Scenario[] = [
  deploy,
  renewal,
  expiring,
  certManager,
  drift,
  driftClean,
  rollback,
  badRequest,
  dns,
  staleAlbNode,
  internalAlbRefused,
  milvusAuth,
  milvusAuthToken,
  milvusAuthMissing,
  milvusAuthWrong,
  milvusOperator,
  milvusClusterV1alpha1,
  chinaRegion,
  sourceRangesAnnotation,
  targetsUnhealthy,
  ingressDeleting,
  autoMode,
  ingressClassMissing,
  ingressClassParamsOverride,
  serviceAnnotationOverride,
  ingressGroupConflict,
  rbac,
];

/** What `milvus-l7 demo` shows without --scenario. */
export const DEFAULT_SCENARIO = deploy.name;

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

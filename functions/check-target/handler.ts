import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { defaultClusterConnector } from "../lib/kube";
import { stepMetrics } from "../lib/metrics";
import { type CheckTargetDeps, type CheckTargetInput, checkTarget } from "./core";

export const makeHandler = (deps: CheckTargetDeps) =>
  createHandler("check-target", (event: CheckTargetInput & StepEvent) => checkTarget(event, deps));

export const handler = builtOnFirstCall(() => makeHandler({ connect: defaultClusterConnector(), metrics: stepMetrics }));

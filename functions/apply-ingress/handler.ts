import { type StepEvent, createHandler } from "../lib/handler";
import { defaultClusterConnector } from "../lib/kube";
import { type ApplyIngressDeps, type ApplyIngressInput, applyIngress } from "./core";

export const makeHandler = (deps: ApplyIngressDeps) =>
  createHandler("apply-ingress", (event: ApplyIngressInput & StepEvent) => applyIngress(event, deps));

export const handler = makeHandler({ connect: defaultClusterConnector() });

import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { defaultClusterConnector } from "../lib/kube";
import { type ApplyIngressDeps, type ApplyIngressInput, applyIngress } from "./core";

export const makeHandler = (deps: ApplyIngressDeps) =>
  createHandler("apply-ingress", (event: ApplyIngressInput & StepEvent) => applyIngress(event, deps));

export const handler = builtOnFirstCall(() => makeHandler({ connect: defaultClusterConnector() }));

import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { defaultClusterConnector } from "../lib/kube";
import { type RemoveIngressDeps, type RemoveIngressInput, removeIngress } from "./core";

export const makeHandler = (deps: RemoveIngressDeps) =>
  createHandler("remove-ingress", (event: RemoveIngressInput & StepEvent) => removeIngress(event, deps));

export const handler = builtOnFirstCall(() => makeHandler({ connect: defaultClusterConnector() }));

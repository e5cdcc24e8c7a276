import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { defaultClusterConnector } from "../lib/kube";
import { type PatchServiceDeps, type PatchServiceInput, patchService } from "./core";

export const makeHandler = (deps: PatchServiceDeps) =>
  createHandler("patch-service", (event: PatchServiceInput & StepEvent) => patchService(event, deps));

export const handler = builtOnFirstCall(() => makeHandler({ connect: defaultClusterConnector() }));

import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { defaultClusterConnector } from "../lib/kube";
import { DEFAULT_WATCH_SECONDS } from "../lib/polling";
import { type GetIngressStatusDeps, type GetIngressStatusInput, getIngressStatus } from "./core";

export const makeHandler = (deps: GetIngressStatusDeps) =>
  createHandler("get-ingress-status", (event: GetIngressStatusInput & StepEvent) => getIngressStatus(event, deps));

export const handler = builtOnFirstCall(() =>
  makeHandler({
    connect: defaultClusterConnector(),
    // The stack sets this below the function timeout; the default matches the poll schedule in lib/polling.
    watchSeconds: Number(process.env.ADDRESS_WATCH_SECONDS ?? DEFAULT_WATCH_SECONDS),
  }),
);

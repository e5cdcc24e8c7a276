import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { type VerifyDeps, type VerifyInput, resolveAlb, verifyConnection } from "./core";

export const makeHandler = (deps: VerifyDeps) =>
  createHandler("verify-connection", (event: VerifyInput & StepEvent) => verifyConnection(event, deps));

export const handler = builtOnFirstCall(() => makeHandler({ resolve: resolveAlb }));

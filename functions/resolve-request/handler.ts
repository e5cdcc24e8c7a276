import { type StepEvent, createHandler } from "../lib/handler";
import type { Plan } from "../lib/plan";
import { DEFAULT_WATCH_SECONDS } from "../lib/polling";
import { type ResolveOptions, resolveRequest } from "./core";

export interface ResolveRequestEvent extends StepEvent {
  /** Whatever started the execution: the console's input or the API's body. */
  request: unknown;
}

export const makeHandler = (opts: ResolveOptions) =>
  createHandler("resolve-request", async (event: ResolveRequestEvent): Promise<Plan> => resolveRequest(event.request, opts));

export const handler = makeHandler({
  defaultRegion: process.env.AWS_REGION ?? "",
  watchSeconds: Number(process.env.ADDRESS_WATCH_SECONDS ?? DEFAULT_WATCH_SECONDS),
});

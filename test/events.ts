// The sample inputs in events/, parsed afresh on every call so a test may change its copy.
import { readFileSync } from "node:fs";

export type Json = Record<string, unknown>;

export function loadEvent(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), "utf8")) as Json;
}

// One request being served, and the ways of reading it and answering it that every handler shares.
import type { IncomingMessage, ServerResponse } from "node:http";
import YAML from "yaml";
import { badRequest, StatusError } from "./errors";
import { isObject, type Json, type JsonObject } from "./json";
import type { RequestRecord } from "./types";

export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  record: RequestRecord;
  /** Authenticated by a static service-account token: bound to full access, whatever the IAM access scope. */
  fullAccess?: boolean;
}

export function send(call: Call, code: number, body: Json | string, headers: Record<string, string> = {}): void {
  call.record.status = code;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  call.res.writeHead(code, {
    "Content-Type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
    "Cache-Control": "no-cache, private",
    ...headers,
  });
  call.res.end(text);
}

export async function rawBody(call: Call): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of call.req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A create/update body: JSON, or YAML (which the apiserver also accepts). */
export async function objectBody(call: Call): Promise<JsonObject> {
  const text = await rawBody(call);
  const type = (call.record.contentType ?? "application/json").split(";")[0]?.trim() ?? "";
  if (!["application/json", "application/yaml"].includes(type)) {
    // Protobuf (what kubectl's typed clients send for built-in kinds) is not decoded here.
    throw new StatusError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    );
  }

  let parsed: unknown;
  try {
    parsed = type === "application/yaml" ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding request body: ${(err as Error).message}`);
  }

  if (!isObject(parsed)) throw badRequest("the request body must be an object");
  return parsed;
}

/** The fieldManager a write without ?fieldManager= is recorded under (handlers/create.go prefixFromUserAgent). */
function defaultManager(userAgent: string | undefined): string {
  const prefix = (userAgent ?? "").split("/")[0]?.replace(/[^\x20-\x7e]/g, "").slice(0, 128) ?? "";
  return prefix || "unknown";
}

/** The field manager a write is recorded under: ?fieldManager=, else the user agent's prefix. */
export function fieldManagerOf(call: Call): string {
  return call.url.searchParams.get("fieldManager") || defaultManager(call.record.userAgent);
}

export function isDryRun(call: Call): boolean {
  return call.url.searchParams.getAll("dryRun").includes("All");
}

import { Route53Client } from "@aws-sdk/client-route-53";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { type UpsertDnsDeps, type UpsertDnsInput, upsertDns } from "./core";

export const makeHandler = (deps: UpsertDnsDeps) =>
  createHandler("upsert-dns", (event: UpsertDnsInput & StepEvent) => upsertDns(event, deps));

export const handler = builtOnFirstCall(() => makeHandler({ route53: new Route53Client({}) }));

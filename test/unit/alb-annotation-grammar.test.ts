// One grammar contract, two independent parsers. test/fixtures/alb-annotation-grammar.json holds the AWS Load Balancer
// Controller's own cases for annotation values (string maps, lists, bools, ints, listen-ports) and ELB's security
// policies; every case runs against the product's parser (functions/lib/alb-annotation-grammar.ts), which decides
// what a request may ask for, and the sandbox simulator's parser (sandbox/alb/annotation-grammar.ts), which decides
// what the stand-in controller builds. Both must read each value as the controller does; the simulator must also
// refuse with the controller's own text, because that text reaches FailedBuildModel events.
import { describe, expect, it } from "vitest";
import {
  allowedSslPolicies,
  legacySslPolicies,
  parseGoBool,
  parseGoInt32,
  parseListenPorts as productListenPorts,
  parseStringList,
  parseStringMap,
} from "../../functions/lib/alb-annotation-grammar";
import {
  bool as simulatorBool,
  int32 as simulatorInt32,
  PREFIX,
  parseListenPorts as simulatorListenPorts,
  stringMap as simulatorStringMap,
  stringSlice as simulatorStringSlice,
} from "../../sandbox/alb/annotation-grammar";
import { minTlsVersion, SSL_POLICIES } from "../../sandbox/alb/elbv2";
import { BuildError } from "../../sandbox/alb/errors";
import table from "../fixtures/alb-annotation-grammar.json";

interface Case<T> {
  from: string;
  raw: string;
  parsed?: T;
  /** The controller's error text ({key} stands for the annotation key), or true when only the refusal is pinned. */
  rejected?: string | true;
}

/** The annotation the simulator's parsers are asked about; only its key shows in their messages. */
const ANNOTATION = "some-annotation";

/** What the simulator's parser does with a case: its value, or the BuildError's message. */
function simulatorOutcome<T>(parse: () => T): { value: T } | { error: string } {
  try {
    return { value: parse() };
  } catch (e) {
    expect(e).toBeInstanceOf(BuildError);
    return { error: (e as Error).message };
  }
}

function expectSimulator<T>(c: Case<T>, parse: () => unknown, normalise: (v: unknown) => unknown = (v) => v): void {
  const outcome = simulatorOutcome(parse);
  if (c.rejected === undefined) {
    expect(outcome).toEqual({ value: expect.anything() });
    if ("value" in outcome) expect(normalise(outcome.value)).toEqual(c.parsed);
  } else if (c.rejected === true) {
    expect(outcome).toHaveProperty("error");
  } else {
    expect(outcome).toEqual({ error: c.rejected.replaceAll("{key}", PREFIX + ANNOTATION) });
  }
}

/** Test names show invisible characters, so two cases that differ only in them stay apart. */
const label = (c: Case<unknown>) => `${JSON.stringify(c.raw)} (${c.from})`;

describe("stringMap (ParseStringMapAnnotation, splitKeyValuePairs)", () => {
  const cases = table.stringMap as Case<Record<string, string>>[];
  it.each(cases.map((c) => [label(c), c] as const))("product: %s", (_name, c) => {
    expect(parseStringMap(c.raw)).toEqual(c.rejected === undefined ? { ok: true, map: c.parsed } : { ok: false });
  });
  it.each(cases.map((c) => [label(c), c] as const))("simulator: %s", (_name, c) => {
    expectSimulator(c, () => simulatorStringMap(ANNOTATION, c.raw));
  });
});

describe("stringList (ParseStringSliceAnnotation, splitCommaSeparatedString)", () => {
  const cases = table.stringList as Case<string[]>[];
  it.each(cases.map((c) => [label(c), c] as const))("product: %s", (_name, c) => {
    expect(parseStringList(c.raw)).toEqual(c.parsed);
  });
  it.each(cases.map((c) => [label(c), c] as const))("simulator: %s", (_name, c) => {
    expect(simulatorStringSlice(c.raw)).toEqual(c.parsed);
  });
});

describe("bool (ParseBoolAnnotation, strconv.ParseBool)", () => {
  const cases = table.bool as Case<boolean>[];
  it.each(cases.map((c) => [label(c), c] as const))("product: %s", (_name, c) => {
    expect(parseGoBool(c.raw)).toBe(c.rejected === undefined ? c.parsed : undefined);
  });
  it.each(cases.map((c) => [label(c), c] as const))("simulator: %s", (_name, c) => {
    expectSimulator(c, () => simulatorBool(ANNOTATION, c.raw));
  });
});

describe("int32 (ParseInt32Annotation, strconv.ParseInt(raw, 10, 32))", () => {
  const cases = table.int32 as Case<number>[];
  it.each(cases.map((c) => [label(c), c] as const))("product: %s", (_name, c) => {
    expect(parseGoInt32(c.raw)).toBe(c.rejected === undefined ? c.parsed : undefined);
  });
  it.each(cases.map((c) => [label(c), c] as const))("simulator: %s", (_name, c) => {
    expectSimulator(c, () => simulatorInt32(ANNOTATION, c.raw));
  });
});

describe("listen-ports (computeIngressListenPorts)", () => {
  const cases = table.listenPorts as Case<Record<string, string>>[];
  const asObject = (v: unknown) => Object.fromEntries(v as Map<number, string>);
  it.each(cases.map((c) => [label(c), c] as const))("product: %s", (_name, c) => {
    const parsed = productListenPorts(c.raw);
    if (c.rejected === undefined) expect(typeof parsed === "string" ? parsed : asObject(parsed)).toEqual(c.parsed);
    else expect(parsed).toEqual(expect.any(String));
  });
  it.each(cases.map((c) => [label(c), c] as const))("simulator: %s", (_name, c) => {
    expectSimulator(c, () => simulatorListenPorts(c.raw), asObject);
  });
});

describe("ssl-policy (ELB's predefined security policies)", () => {
  const policies = Object.entries(table.sslPolicies.policies);
  const names = (filter: (minTls: string) => boolean) =>
    policies
      .filter(([, minTls]) => filter(minTls))
      .map(([name]) => name)
      .sort();

  it("the simulator's ELB accepts exactly the predefined policies", () => {
    expect([...SSL_POLICIES].sort()).toEqual(names(() => true));
  });

  it("the product allows exactly the policies whose minimum is TLS 1.2 or later", () => {
    expect([...allowedSslPolicies].sort()).toEqual(names((v) => v === "1.2" || v === "1.3"));
  });

  it("the product names every other predefined policy as one that allows TLS 1.0/1.1", () => {
    expect([...legacySslPolicies].sort()).toEqual(names((v) => v === "1.0" || v === "1.1"));
  });

  it.each(policies)("the simulator's listener for %s refuses what the policy refuses (TLS floor)", (name, minTls) => {
    // Node's own floor is TLS 1.2, so only TLS 1.3-only policies raise it.
    expect(minTlsVersion(name)).toBe(minTls === "1.3" ? "TLSv1.3" : "TLSv1.2");
  });
});

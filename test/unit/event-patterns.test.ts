import { App, Stack } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import { describe, expect, it } from "vitest";
import {
  type EventPattern,
  acmExpiringPattern,
  failedExecutionPattern,
  keyPrefixOf,
  s3CertificateObjectPatterns,
  toCdkEventPattern,
} from "../../functions/lib/event-patterns";
import { type Json, loadEvent } from "../events";

const sample = loadEvent;

const ACM = sample("acm-approaching-expiration");
const ACM_UNKNOWN = sample("acm-approaching-expiration-unknown");
const S3 = sample("s3-object-created");
const S3_OTHER_PREFIX = sample("s3-object-created-other-prefix");

const LOCATIONS = [{ bucket: "milvus-l7-certificates", prefix: "live" }];
const STATE_MACHINE = "arn:aws:states:us-east-2:123456789012:stateMachine:MilvusL7Workflow";

// ---------------------------------------------------------------------------------------------------------------
// The matcher. Rules, from the Amazon EventBridge User Guide:
//  [P1] "Event patterns have the same structure as the events they match" / "For an event pattern to match an
//       event, the event must contain all the field names listed in the event pattern. The field names must also
//       appear in the event with the same nesting structure." / "EventBridge ignores the fields in the event that
//       aren't included in the event pattern." (eb-event-patterns.html, "Create event patterns")
//  [P2] "the value to match is in a JSON array ... so that you can provide multiple values" - a leaf is a list
//       and matches if any of its values does (eb-event-patterns.html, "Match values"; "Or" in the operator table).
//  [P3] "For strings, EventBridge uses exact character-by-character matching without case-folding or any other
//       string normalization." (eb-event-patterns.html)
//  [P4] "For numbers, EventBridge uses string representation. For example, 300, 300.0, and 3.0e2 are not
//       considered equal." (eb-event-patterns.html) - JSON.parse loses the representation, so numbers compare by
//       JavaScript's canonical form; none of our patterns matches a number.
//  [P5] "An event pattern matches the event if any of the values in the array match the value in the event. If
//       the value in the event is an array, then the event pattern matches if the intersection of the event
//       pattern array and the event array is non-empty." (eb-event-patterns-arrays.html)
//  [P6] Prefix matching: "You can match an event depending on the prefix of a value in the event source. You can
//       use prefix matching for string values." (eb-event-patterns-content-based-filtering.html, "Prefix matching")

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function matchValue(allowed: unknown, value: unknown): boolean {
  if (isObject(allowed)) {
    const keys = Object.keys(allowed);
    if (keys.length === 1 && keys[0] === "prefix" && typeof allowed.prefix === "string") {
      return typeof value === "string" && value.startsWith(allowed.prefix); // [P6]
    }
    throw new Error(`matcher: unsupported content filter ${JSON.stringify(allowed)}`);
  }
  if (Array.isArray(allowed)) throw new Error("matcher: a pattern value cannot be a nested list");
  if (typeof allowed === "string") return typeof value === "string" && value === allowed; // [P3]
  if (typeof allowed === "number") return typeof value === "number" && String(value) === String(allowed); // [P4]
  return value === allowed; // true, false, null
}

function matchLeaf(allowed: unknown[], value: unknown): boolean {
  if (allowed.length === 0) throw new Error("matcher: an empty value list matches nothing and EventBridge rejects it");
  if (value === undefined) return false; // [P1]
  if (Array.isArray(value)) return value.some((v) => matchLeaf(allowed, v)); // [P5]
  if (isObject(value)) return false; // a value list matches values, not objects
  return allowed.some((a) => matchValue(a, value)); // [P2]
}

function matches(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new Error("matcher: a pattern (and each nested pattern) must be a JSON object");
  for (const [field, sub] of Object.entries(pattern)) {
    if (field.startsWith("$")) throw new Error(`matcher: unsupported operator ${field}`);
    const value = isObject(event) && Object.hasOwn(event, field) ? event[field] : undefined; // [P1]
    if (Array.isArray(sub)) {
      if (!matchLeaf(sub, value)) return false;
    } else if (isObject(sub)) {
      if (value === undefined) return false; // [P1]
      const candidates = Array.isArray(value) ? value : [value]; // [P5] for arrays of objects
      if (!candidates.some((v) => isObject(v) && matches(sub, v))) return false;
    } else {
      throw new Error(`matcher: pattern field ${field} must be a list of values or an object`);
    }
  }
  return true;
}

/** A Step Functions status change as EventBridge delivers it. */
function statusChange(status: string, stateMachineArn = STATE_MACHINE): Json {
  const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:0d5e3c2a-91b7-4f60-8a1d-6e2f4b9c7d13`;
  return {
    version: "0",
    id: "315c1398-40ff-a850-213b-158f73e60175",
    "detail-type": "Step Functions Execution Status Change",
    source: "aws.states",
    account: "123456789012",
    time: "2026-11-24T03:20:11Z",
    region: "us-east-2",
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn,
      name: "0d5e3c2a-91b7-4f60-8a1d-6e2f4b9c7d13",
      status,
      startDate: 1795921091000,
      stopDate: 1795921211000,
      input: "{}",
      output: null,
      inputDetails: { included: true },
      outputDetails: null,
      error: status === "SUCCEEDED" ? null : "VerificationFailed",
      cause: status === "SUCCEEDED" ? null : "milvus-demo.milvus.io serves a different certificate",
    },
  };
}

const clone = (e: Json): Json => structuredClone(e);
function withKey(event: Json, key: string, bucket?: string): Json {
  const copy = clone(event);
  const detail = copy.detail as { bucket: { name: string }; object: { key: string } };
  detail.object.key = key;
  if (bucket !== undefined) detail.bucket.name = bucket;
  return copy;
}

describe("the matcher follows EventBridge's rules", () => {
  const event = { source: "aws.s3", resources: ["arn:a", "arn:b"], detail: { bucket: { name: "b" }, n: 5 } };

  it("[P1] needs every pattern field, nested the same way, and ignores the others", () => {
    expect(matches({ source: ["aws.s3"] }, event)).toBe(true);
    expect(matches({ region: ["us-east-2"] }, event)).toBe(false);
    expect(matches({ detail: { name: ["b"] } }, event)).toBe(false);
    expect(matches({ detail: { bucket: { name: ["b"] } } }, event)).toBe(true);
    expect(matches({ detail: { bucket: ["b"] } }, event)).toBe(false);
  });

  it("[P2][P3] matches any listed value exactly, without case-folding", () => {
    expect(matches({ source: ["aws.acm", "aws.s3"] }, event)).toBe(true);
    expect(matches({ source: ["AWS.S3"] }, event)).toBe(false);
    expect(matches({ source: ["aws.s3 "] }, event)).toBe(false);
    expect(matches({ detail: { n: [5] } }, event)).toBe(true);
    expect(matches({ detail: { n: ["5"] } }, event)).toBe(false);
  });

  it("[P5] matches an array in the event when any element matches", () => {
    expect(matches({ resources: ["arn:b"] }, event)).toBe(true);
    expect(matches({ resources: ["arn:c"] }, event)).toBe(false);
  });

  it("[P6] matches prefixes of strings only", () => {
    expect(matches({ source: [{ prefix: "aws." }] }, event)).toBe(true);
    expect(matches({ source: [{ prefix: "aws.s3.x" }] }, event)).toBe(false);
    expect(matches({ detail: { n: [{ prefix: "5" }] } }, event)).toBe(false);
  });

  it("refuses what it does not implement rather than guess", () => {
    expect(() => matches({ source: [{ "anything-but": "x" }] }, event)).toThrow(/unsupported/);
    expect(() => matches({ $or: [{ source: ["x"] }] }, event)).toThrow(/unsupported/);
    expect(() => matches({ source: "aws.s3" }, event)).toThrow(/list of values/);
  });
});

describe("acmExpiringPattern", () => {
  const pattern = acmExpiringPattern();

  it("is ACM's Approaching Expiration event, for every certificate", () => {
    expect(pattern).toEqual({ source: ["aws.acm"], "detail-type": ["ACM Certificate Approaching Expiration"] });
  });

  it("matches both ACM samples and none of the others", () => {
    expect(matches(pattern, ACM)).toBe(true);
    expect(matches(pattern, ACM_UNKNOWN)).toBe(true);
    expect(matches(pattern, S3)).toBe(false);
    expect(matches(pattern, S3_OTHER_PREFIX)).toBe(false);
    expect(matches(pattern, statusChange("FAILED"))).toBe(false);
    expect(matches(pattern, { ...clone(ACM), "detail-type": "ACM Certificate Expired" })).toBe(false);
  });
});

describe("s3CertificateObjectPatterns", () => {
  it("makes one pattern per bucket, each with its own folder prefixes", () => {
    expect(
      s3CertificateObjectPatterns([
        { bucket: "b2", prefix: "certs/" },
        { bucket: "milvus-l7-certificates", prefix: "live" },
        { bucket: "milvus-l7-certificates", prefix: "/staging/live" },
        { bucket: "milvus-l7-certificates", prefix: "live" },
      ]),
    ).toEqual([
      {
        source: ["aws.s3"],
        "detail-type": ["Object Created"],
        detail: { bucket: { name: ["b2"] }, object: { key: [{ prefix: "certs/" }] } },
      },
      {
        source: ["aws.s3"],
        "detail-type": ["Object Created"],
        detail: {
          bucket: { name: ["milvus-l7-certificates"] },
          object: { key: [{ prefix: "live/" }, { prefix: "staging/live/" }] },
        },
      },
    ]);
    expect(s3CertificateObjectPatterns([])).toEqual([]);
  });

  it("leaves the key unfiltered for a whole-bucket location", () => {
    expect(s3CertificateObjectPatterns([{ bucket: "b", prefix: "live" }, { bucket: "b", prefix: "" }])).toEqual([
      { source: ["aws.s3"], "detail-type": ["Object Created"], detail: { bucket: { name: ["b"] } } },
    ]);
    expect(keyPrefixOf("")).toBe("");
    expect(keyPrefixOf("/")).toBe("");
  });

  it("matches the certificate sample, not the other prefix, the ACM samples or a status change", () => {
    const [pattern] = s3CertificateObjectPatterns(LOCATIONS);
    expect(matches(pattern, S3)).toBe(true);
    expect(matches(pattern, S3_OTHER_PREFIX)).toBe(false);
    expect(matches(pattern, ACM)).toBe(false);
    expect(matches(pattern, ACM_UNKNOWN)).toBe(false);
    expect(matches(pattern, statusChange("FAILED"))).toBe(false);
  });

  it("treats a prefix as a folder, and pairs each bucket with its own prefixes only", () => {
    const patterns = s3CertificateObjectPatterns([...LOCATIONS, { bucket: "other-bucket", prefix: "tls" }]);
    const any = (e: Json) => patterns.some((p) => matches(p, e));
    expect(any(withKey(S3, "live-backup/milvus-demo.milvus.io/cert.pem"))).toBe(false);
    expect(any(withKey(S3, "tls/cert.pem"))).toBe(false); // tls/ is other-bucket's prefix
    expect(any(withKey(S3, "tls/cert.pem", "other-bucket"))).toBe(true);
    expect(any(withKey(S3, "live/milvus-demo.milvus.io/cert.pem", "other-bucket"))).toBe(false);
    expect(any({ ...clone(S3), "detail-type": "Object Deleted" })).toBe(false);
  });
});

describe("failedExecutionPattern", () => {
  const pattern = failedExecutionPattern(STATE_MACHINE);

  it("matches this state machine's FAILED, TIMED_OUT and ABORTED executions only", () => {
    expect(matches(pattern, statusChange("FAILED"))).toBe(true);
    expect(matches(pattern, statusChange("TIMED_OUT"))).toBe(true);
    expect(matches(pattern, statusChange("ABORTED"))).toBe(true);
    expect(matches(pattern, statusChange("SUCCEEDED"))).toBe(false);
    expect(matches(pattern, statusChange("RUNNING"))).toBe(false);
    expect(matches(pattern, statusChange("FAILED", `${STATE_MACHINE}-other`))).toBe(false);
    expect(matches(pattern, ACM)).toBe(false);
    expect(matches(pattern, S3)).toBe(false);
  });
});

describe("toCdkEventPattern", () => {
  it("renders through aws-cdk-lib back to the same EventBridge JSON", () => {
    // The rule's CloudFormation property, resolved as synth would (a full synth is ~10 s of template checks).
    const stack = new Stack(new App(), "Patterns");
    const patterns: EventPattern[] = [acmExpiringPattern(), ...s3CertificateObjectPatterns(LOCATIONS)];
    const rendered = patterns.map((p, i) => {
      const rule = new events.Rule(stack, `Rule${i}`, { eventPattern: toCdkEventPattern(p) as events.EventPattern });
      return stack.resolve((rule.node.defaultChild as events.CfnRule).eventPattern);
    });
    expect(rendered).toEqual(patterns);
  });

  it("refuses a field the CDK has no property for", () => {
    expect(() => toCdkEventPattern({ "replay-name": ["x"] })).toThrow(/replay-name/);
  });
});

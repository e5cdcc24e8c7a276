import { describe, expect, it } from "vitest";
import { InvalidRequest } from "../../functions/lib/errors";
import type { CertificateSource, Target } from "../../functions/lib/state";
import { DEFAULT_WATCH_SECONDS, WAIT_CAP_SECONDS, maxPollsFor } from "../../functions/lib/polling";
import { type DeploymentRecord, targetIdOf } from "../../functions/lib/registry";
import { resolveRequest } from "../../functions/resolve-request/core";
import {
  type RenewalRegistry,
  type RenewalTrigger,
  certificatePrefixesFrom,
  classifyInput,
  keyCandidates,
  planRenewal,
} from "../../functions/resolve-request/triggers";
import { type Json, loadEvent } from "../events";

const sample = loadEvent;

const ACM = sample("acm-approaching-expiration");
const ACM_UNKNOWN = sample("acm-approaching-expiration-unknown");
const S3 = sample("s3-object-created");
const S3_OTHER_PREFIX = sample("s3-object-created-other-prefix");
const CONSOLE_START = sample("console-start");

const ARN_DEMO = "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64";
const ARN_UNKNOWN = "arn:aws:acm:us-east-2:123456789012:certificate/0b7e3d91-2c4a-4f6e-8d15-7a9c3e5f1b28";
const ARN_S3 = "arn:aws:acm:us-east-2:123456789012:certificate/7d3e9a10-4b2c-4e8f-9a61-5c0b2d7e4f83";
const ARN_S3_WEST = "arn:aws:acm:us-west-2:123456789012:certificate/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const ARN_AS_IS = "arn:aws:acm:us-east-2:123456789012:certificate/c0ffee00-1234-4abc-8def-0123456789ab";

const SECRET: CertificateSource = {
  secretsManager: { secretId: "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-demo.milvus.io-Qx7pZ2" },
};
const BUCKET = "milvus-l7-certificates";
const S3_SOURCE: CertificateSource = {
  s3: {
    bucket: BUCKET,
    certificateKey: "live/milvus-demo.milvus.io/cert.pem",
    chainKey: "live/milvus-demo.milvus.io/chain.pem",
    privateKeyKey: "live/milvus-demo.milvus.io/privkey.pem",
  },
};
const MAX_POLLS = Math.ceil(1200 / (DEFAULT_WATCH_SECONDS + WAIT_CAP_SECONDS));

/** The console example's target, as resolve-request plans it, re-homed by `change`. */
function target(change: { cluster?: string; region?: string; namespace?: string; host?: string } = {}): Target {
  const [planned] = resolveRequest(CONSOLE_START, { defaultRegion: "us-east-2" }).targets;
  if (planned === undefined) throw new Error("console-start.json plans no target");
  return {
    ...planned,
    cluster: { name: change.cluster ?? planned.cluster.name, region: change.region ?? planned.cluster.region },
    namespace: change.namespace ?? planned.namespace,
    ingress: { ...planned.ingress, host: change.host ?? planned.ingress.host },
  };
}

function record(t: Target, certificateArn: string, certificateSource?: CertificateSource, lastVerified = "2026-10-01T00:00:00Z"): DeploymentRecord {
  return {
    targetId: targetIdOf(t),
    target: t,
    certificateArn,
    ...(certificateSource ? { certificateSource } : {}),
    ...(certificateSource && "s3" in certificateSource ? { sourceBucket: certificateSource.s3.bucket } : {}),
    albHostname: "k8s-milvus-milvusde-0123456789-1234567890.us-east-2.elb.amazonaws.com",
    servedFingerprint256: "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
    servedNotAfter: "2026-12-25T00:00:00.000Z",
    lastVerified,
    lastExecution: "arn:aws:states:us-east-2:123456789012:execution:MilvusL7Workflow:first-deploy",
  };
}

/** An in-memory registry with dynamoRegistry's lookup semantics. */
function fakeRegistry(records: DeploymentRecord[]): RenewalRegistry & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async forCertificate(arn) {
      calls.push(`forCertificate ${arn}`);
      return records.filter((r) => r.certificateArn === arn);
    },
    async forSourceObject(bucket, key) {
      calls.push(`forSourceObject ${bucket} ${key}`);
      return records.filter((r) => {
        const s3 = r.certificateSource && "s3" in r.certificateSource ? r.certificateSource.s3 : undefined;
        return s3 !== undefined && s3.bucket === bucket && [s3.certificateKey, s3.chainKey, s3.privateKeyKey].includes(key);
      });
    },
  };
}

const DEMO = target();
const DEMO_B = target({ namespace: "milvus-b" });
const S3_EAST = target({ cluster: "milvus-eks-2" });
const S3_EAST_AS_IS = target({ cluster: "milvus-eks-3" });
const S3_WEST = target({ cluster: "milvus-eks-west", region: "us-west-2" });
const AS_IS = target({ namespace: "milvus-as-is" });

function registry(): RenewalRegistry & { calls: string[] } {
  return fakeRegistry([
    record(DEMO_B, ARN_DEMO, SECRET),
    record(DEMO, ARN_DEMO, SECRET),
    record(S3_EAST, ARN_S3, S3_SOURCE, "2026-10-02T00:00:00Z"),
    // Uses the same ACM certificate with no source: it serves whatever is imported into ARN_S3.
    record(S3_EAST_AS_IS, ARN_S3),
    record(S3_WEST, ARN_S3_WEST, S3_SOURCE, "2026-09-01T00:00:00Z"),
    record(AS_IS, ARN_AS_IS),
  ]);
}

function classified(event: Json): RenewalTrigger {
  const c = classifyInput(event);
  if (c.kind === "request") throw new Error("expected a renewal trigger");
  return c;
}

function invalid(input: unknown): InvalidRequest {
  try {
    classifyInput(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return error as InvalidRequest;
  }
  throw new Error("expected InvalidRequest");
}

describe("classifyInput", () => {
  it("recognises ACM's Approaching Expiration event", () => {
    expect(classifyInput(ACM)).toEqual({
      kind: "acm-expiring",
      certificateArn: ARN_DEMO,
      daysToExpiry: 31,
      commonName: "milvus-demo.milvus.io",
    });
    expect(classifyInput(ACM_UNKNOWN)).toMatchObject({ kind: "acm-expiring", certificateArn: ARN_UNKNOWN, daysToExpiry: 12 });
  });

  it("recognises S3's Object Created event in its EventBridge form, key as delivered", () => {
    expect(classifyInput(S3)).toEqual({ kind: "s3-object-created", bucket: BUCKET, key: "live/milvus-demo.milvus.io/cert.pem" });
    expect(classifyInput(S3_OTHER_PREFIX)).toEqual({
      kind: "s3-object-created",
      bucket: BUCKET,
      key: "archive/milvus-demo.milvus.io/cert2.pem",
    });
  });

  it("passes a deployment request (and anything that is not an event) through untouched", () => {
    expect(classifyInput(CONSOLE_START)).toEqual({ kind: "request", request: CONSOLE_START });
    expect((classifyInput(CONSOLE_START) as { request: unknown }).request).toBe(CONSOLE_START);
    for (const input of [null, "text", 42, [ACM], {}, { source: "aws.acm" }, { "detail-type": "Object Created" }]) {
      expect(classifyInput(input)).toEqual({ kind: "request", request: input });
    }
  });

  it("refuses events it does not handle, naming the detail-type and what is supported", () => {
    const error = invalid({ ...ACM, "detail-type": "ACM Certificate Expired" });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe("detail-type");
    expect(error.message).toContain('"ACM Certificate Expired" from "aws.acm" is not an event milvus-l7 handles');
    expect(error.message).toContain('"ACM Certificate Approaching Expiration" from aws.acm');
    expect(error.message).toContain('"Object Created" from aws.s3');
    expect(error.message).toContain("deployment request");
    expect(invalid({ ...S3, source: "aws.ec2" }).message).toContain('"Object Created" from "aws.ec2"');
    expect(invalid({ ...S3, "detail-type": "Object Deleted" }).message).toContain('"Object Deleted"');
  });

  it("escapes control characters of an unknown detail-type", () => {
    const error = invalid({ source: "x", "detail-type": "evil\nInvalid request: forged" });
    expect(error.message).not.toContain("\n");
    expect(error.message).toContain("evil\\\\u000aInvalid");
  });

  it("refuses an ACM event without a certificate ARN in resources[0]", () => {
    for (const resources of [undefined, [], ["arn:aws:s3:::bucket"], "arn"]) {
      const error = invalid({ ...ACM, resources });
      expect(error.issues.map((i) => i.path)).toEqual(["resources"]);
      expect(error.message).toContain("certificate's ARN");
    }
  });

  it("keeps an ACM event whose detail lacks DaysToExpiry or CommonName", () => {
    expect(classifyInput({ ...ACM, detail: {} })).toEqual({ kind: "acm-expiring", certificateArn: ARN_DEMO });
    expect(classifyInput({ ...ACM, detail: { DaysToExpiry: "31", CommonName: 7 } })).toEqual({
      kind: "acm-expiring",
      certificateArn: ARN_DEMO,
    });
  });

  it("refuses an S3 event without bucket or key", () => {
    expect(invalid({ ...S3, detail: {} }).issues.map((i) => i.path)).toEqual(["detail.bucket.name", "detail.object.key"]);
    expect(invalid({ ...S3, detail: { bucket: { name: BUCKET }, object: { key: "" } } }).issues.map((i) => i.path)).toEqual([
      "detail.object.key",
    ]);
  });
});

describe("planRenewal from an ACM event", () => {
  it("plans every target using the certificate, re-imported from its source only if newer", async () => {
    const plan = await planRenewal(classified(ACM), registry());
    expect(plan).toEqual({
      certificate: { arn: ARN_DEMO, source: SECRET, onlyIfNewer: true, expiryWarningDays: 14 },
      cutover: "after-verify",
      onFailure: "keep-ingress",
      wait: { maxPolls: MAX_POLLS },
      // Ordered by target ID ('-' sorts before '/').
      targets: [DEMO_B, DEMO],
      renewal: { reason: expect.any(String) },
    });
    expect(plan.renewal.reason).toBe(
      `ACM reports ${ARN_DEMO} (milvus-demo.milvus.io) expires in 31 days: re-importing from Secrets Manager secret ` +
        `${(SECRET as { secretsManager: { secretId: string } }).secretsManager.secretId} if it holds a newer certificate, ` +
        "then verifying 2 targets (us-east-2/milvus-eks/milvus-b/milvus-demo, us-east-2/milvus-eks/milvus/milvus-demo).",
    );
  });

  it("waits for addresses like a default request, with the deployed watch length", async () => {
    expect((await planRenewal(classified(ACM), registry())).wait.maxPolls).toBe(maxPollsFor(20 * 60));
    expect((await planRenewal(classified(ACM), registry(), { watchSeconds: 10 })).wait.maxPolls).toBe(maxPollsFor(20 * 60, 10));
  });

  it("ends cleanly for a certificate no deployment uses", async () => {
    const plan = await planRenewal(classified(ACM_UNKNOWN), registry());
    expect(plan).toEqual({
      certificate: { arn: ARN_UNKNOWN },
      cutover: "after-verify",
      onFailure: "keep-ingress",
      wait: { maxPolls: MAX_POLLS },
      targets: [],
      renewal: { reason: `No milvus-l7 deployment uses ${ARN_UNKNOWN}; nothing to renew.` },
    });
  });

  it("ends cleanly, saying renewal needs a source, for a certificate used as is", async () => {
    const event = { ...ACM, resources: [ARN_AS_IS], detail: { DaysToExpiry: 3 } };
    const plan = await planRenewal(classified(event), registry());
    expect(plan.targets).toEqual([]);
    expect(plan.certificate).toEqual({ arn: ARN_AS_IS });
    expect(plan.renewal.reason).toContain(`ACM reports ${ARN_AS_IS} expires in 3 days, but renewal needs a certificate source`);
    expect(plan.renewal.reason).toContain("1 target using it (us-east-2/milvus-eks/milvus-as-is/milvus-demo) recorded none");
    expect(plan.renewal.reason).toContain(`re-import the renewed certificate into ${ARN_AS_IS} yourself`);
  });

  it("keeps targets without a source when another target of the certificate has one", async () => {
    const event = { ...ACM, resources: [ARN_S3] };
    const plan = await planRenewal(classified(event), registry());
    expect(plan.certificate).toEqual({ arn: ARN_S3, source: S3_SOURCE, onlyIfNewer: true, expiryWarningDays: 14 });
    expect(plan.targets).toEqual([S3_EAST, S3_EAST_AS_IS]);
  });

  it("deduplicates targets and, when sources disagree, uses the one verified most recently", async () => {
    const other: CertificateSource = { secretsManager: { secretId: "milvus-l7/older" } };
    const reg = fakeRegistry([
      record(DEMO, ARN_DEMO, other, "2026-01-01T00:00:00Z"),
      record(DEMO_B, ARN_DEMO, SECRET, "2026-10-01T00:00:00Z"),
      record(DEMO_B, ARN_DEMO, SECRET, "2026-10-01T00:00:00Z"),
    ]);
    const plan = await planRenewal(classified(ACM), reg);
    expect(plan.targets).toEqual([DEMO_B, DEMO]);
    expect(plan.certificate.source).toEqual(SECRET);
    expect(plan.renewal.reason).toContain("1 target (us-east-2/milvus-eks/milvus/milvus-demo) recorded a different source");
  });

  it("names at most five targets in the reason", async () => {
    const many = Array.from({ length: 7 }, (_, i) => record(target({ namespace: `ns-${i}` }), ARN_DEMO, SECRET));
    const plan = await planRenewal(classified(ACM), fakeRegistry(many));
    expect(plan.targets).toHaveLength(7);
    expect(plan.renewal.reason).toContain("verifying 7 targets (");
    expect(plan.renewal.reason).toContain("us-east-2/milvus-eks/ns-4/milvus-demo and 2 more).");
  });
});

describe("planRenewal from an S3 event", () => {
  it("plans every target serving the certificate fed by the written object", async () => {
    const reg = registry();
    const plan = await planRenewal(classified(S3), reg, { prefixes: [{ bucket: BUCKET, prefix: "live" }] });
    expect(plan.certificate).toEqual({ arn: ARN_S3, source: S3_SOURCE, onlyIfNewer: true, expiryWarningDays: 14 });
    expect(plan.cutover).toBe("after-verify");
    expect(plan.wait).toEqual({ maxPolls: MAX_POLLS });
    // The east target recorded with the source, and the one using the same ARN as is; the west one is named.
    expect(plan.targets).toEqual([S3_EAST, S3_EAST_AS_IS]);
    expect(plan.renewal.reason).toContain(`s3://${BUCKET}/live/milvus-demo.milvus.io/cert.pem was written: re-importing`);
    expect(plan.renewal.reason).toContain(`into ${ARN_S3} if it holds a newer certificate, then verifying 2 targets`);
    expect(plan.renewal.reason).toContain(`The same source also feeds ${ARN_S3_WEST}, not renewed by this run`);
    expect(reg.calls).toEqual([`forSourceObject ${BUCKET} live/milvus-demo.milvus.io/cert.pem`, `forCertificate ${ARN_S3}`]);
  });

  it("reacts to the chain and the key objects too", async () => {
    for (const key of ["live/milvus-demo.milvus.io/chain.pem", "live/milvus-demo.milvus.io/privkey.pem"]) {
      const event = structuredClone(S3) as { detail: { object: { key: string } } };
      event.detail.object.key = key;
      expect((await planRenewal(classified(event as unknown as Json), registry())).targets).toEqual([S3_EAST, S3_EAST_AS_IS]);
    }
  });

  it("ends cleanly for an object under another prefix", async () => {
    const outside = await planRenewal(classified(S3_OTHER_PREFIX), registry(), { prefixes: [{ bucket: BUCKET, prefix: "live" }] });
    expect(outside.targets).toEqual([]);
    expect(outside.certificate).toEqual({});
    expect(outside.renewal.reason).toBe(
      `s3://${BUCKET}/archive/milvus-demo.milvus.io/cert2.pem is outside the configured certificate locations ` +
        `(s3://${BUCKET}/live); nothing to renew.`,
    );
    // Without the configured locations it is the registry that says no.
    const unused = await planRenewal(classified(S3_OTHER_PREFIX), registry());
    expect(unused.targets).toEqual([]);
    expect(unused.renewal.reason).toBe(
      `No milvus-l7 deployment reads s3://${BUCKET}/archive/milvus-demo.milvus.io/cert2.pem as its certificate, ` +
        "chain or private key; nothing to renew.",
    );
  });

  it("ends cleanly for an object under a configured prefix that no deployment reads", async () => {
    const event = structuredClone(S3) as { detail: { object: { key: string } } };
    event.detail.object.key = "live/milvus-demo.milvus.io/fullchain.pem";
    const plan = await planRenewal(classified(event as unknown as Json), registry(), { prefixes: [{ bucket: BUCKET, prefix: "" }] });
    expect(plan.targets).toEqual([]);
    expect(plan.renewal.reason).toContain("No milvus-l7 deployment reads");
  });

  it("finds a source object whether or not the event URL-encodes its key", async () => {
    const source: CertificateSource = {
      s3: { bucket: BUCKET, certificateKey: "live/dt=2026/cert.pem", chainKey: "live/dt=2026/chain.pem", privateKeyKey: "live/dt=2026/privkey.pem" },
    };
    const reg = fakeRegistry([record(DEMO, ARN_DEMO, source)]);
    for (const key of ["live/dt=2026/cert.pem", "live/dt%3D2026/cert.pem"]) {
      const event = structuredClone(S3) as { detail: { object: { key: string } } };
      event.detail.object.key = key;
      expect((await planRenewal(classified(event as unknown as Json), reg)).targets).toEqual([DEMO]);
    }
    expect(keyCandidates("live/a+b/cert.pem")).toEqual(["live/a+b/cert.pem"]);
    expect(keyCandidates("live/a%2Bb+c/cert.pem")).toEqual(["live/a%2Bb+c/cert.pem", "live/a+b c/cert.pem"]);
    expect(keyCandidates("live/100%/cert.pem")).toEqual(["live/100%/cert.pem"]);
  });

  it("escapes control characters of the key in the reason", async () => {
    const event = structuredClone(S3) as { detail: { object: { key: string } } };
    event.detail.object.key = "live/x\n\u202eevil.pem";
    const plan = await planRenewal(classified(event as unknown as Json), registry());
    expect(plan.renewal.reason).not.toMatch(/[\n\u202e]/);
    expect(plan.renewal.reason).toContain("live/x\\u000a\\u202eevil.pem");
  });
});

describe("renewal plans hold no secret material", () => {
  it("carries references only, whatever else a registry item holds", async () => {
    const leaky = (t: Target) =>
      ({ ...t, privateKeyPem: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----" }) as unknown as Target;
    const records = [record(leaky(DEMO), ARN_DEMO, SECRET), record(leaky(S3_EAST), ARN_S3, S3_SOURCE)].map((r) => ({
      ...r,
      certificatePem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    }));
    for (const event of [ACM, S3]) {
      const plan = await planRenewal(classified(event), fakeRegistry(records));
      expect(plan.targets).toHaveLength(1);
      const json = JSON.stringify(plan);
      expect(json).not.toContain("-----BEGIN");
      expect(json).not.toMatch(/privateKeyPem|certificatePem|servedFingerprint256|albHostname|lastExecution/);
    }
  });
});

describe("renewal plans keep the Milvus credentials reference", () => {
  it("carries the target's milvusCredentials secret id, and nothing else of it", async () => {
    const secretId = "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-credentials-Ab12Cd";
    const withCredentials = { ...DEMO, milvusCredentials: { secretsManager: { secretId, password: "Milvus" } } } as unknown as Target;
    const plan = await planRenewal(classified(ACM), fakeRegistry([record(withCredentials, ARN_DEMO, SECRET)]));
    expect(plan.targets.map((t) => t.milvusCredentials)).toEqual([{ secretsManager: { secretId } }]);
    expect(JSON.stringify(plan)).not.toContain("Milvus\"");
  });
});

describe("certificatePrefixesFrom", () => {
  it("reads the configured locations from JSON", () => {
    expect(certificatePrefixesFrom(undefined)).toEqual([]);
    expect(certificatePrefixesFrom(" ")).toEqual([]);
    expect(certificatePrefixesFrom('[{"bucket":"b","prefix":"live","extra":1}]')).toEqual([{ bucket: "b", prefix: "live" }]);
    expect(() => certificatePrefixesFrom('[{"bucket":"b"}]')).toThrow(/JSON list/);
    expect(() => certificatePrefixesFrom('{"bucket":"b","prefix":""}')).toThrow(/JSON list/);
  });
});

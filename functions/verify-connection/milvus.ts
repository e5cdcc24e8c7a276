// verify-connection's Milvus check: Connect, CheckHealth and GetVersion through the ALB.
//
// Milvus's own gRPC API over @grpc/grpc-js, the transport @zilliz/milvus2-sdk-node uses, but not the SDK itself
// (why: docs/architecture.md, "Decisions"). The three RPCs use a descriptor generated from the SDK's own proto JSON
// (milvus-proto.ts, by scripts/milvus-proto.ts; a test fails when it is stale), parsed once per module, and send
// what the SDK sends (a parity test compares the two; the SDK file paths below are under
// @zilliz/milvus2-sdk-node/dist/milvus).
import type * as tls from "node:tls";
import { isIP } from "node:net";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import protobuf from "protobufjs/light.js";
import {
  endpointNotReady,
  type MilvusL7Error,
  MilvusPermissionDenied,
  MilvusUnauthenticated,
  VerificationFailed,
} from "../lib/errors";
import { CREDENTIALS_FIELD, type MilvusCredentials } from "./credentials";
import { MILVUS_PROTO, MILVUS_SDK_VERSION } from "./milvus-proto";

const SERVICE = "milvus.proto.milvus.MilvusService";
const milvusRoot = protobuf.Root.fromJSON(MILVUS_PROTO as protobuf.INamespace);
milvusRoot.resolveAll();

/**
 * How the SDK's gRPC client turns answers into objects (grpc/GrpcClient.js LOADER_OPTIONS, keepCase names). int64s
 * (Connect's identifier) become exact strings: protobufjs requires its dependency `long` (util/minimal.js).
 */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

type MilvusRpc = "Connect" | "CheckHealth" | "GetVersion";
type Message = Record<string, unknown>;

/**
 * A unary method as @grpc/proto-loader would define it: path, and the protobufjs (de)serializers it would build,
 * for grpc-js's generic Client.makeUnaryRequest. Not proto-loader itself: its fromJSON also builds a
 * FileDescriptorProto of every type (protobufjs/ext/descriptor), far slower than Root.fromJSON.
 */
function unaryMethod(name: MilvusRpc) {
  const method = milvusRoot.lookupService(SERVICE).methods[name];
  const request = method?.resolvedRequestType;
  const response = method?.resolvedResponseType;
  if (!request || !response) throw new Error(`${SERVICE}.${name} is missing from milvus-proto.ts`);
  return {
    path: `/${SERVICE}/${name}`,
    serialize: (value: Message) => Buffer.from(request.encode(request.fromObject(value)).finish()),
    deserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), TO_OBJECT) as Message,
  };
}

const RPCS = { Connect: unaryMethod("Connect"), CheckHealth: unaryMethod("CheckHealth"), GetVersion: unaryMethod("GetVersion") };

/**
 * What the SDK's connect() sends (grpc/GrpcClient.js _getServerInfo) for a client without options: `user` is the
 * config's username (grpc/BaseClient.js defaults it to ""), so "" for a token, whose user is never parsed out.
 */
function connectRequest(credentials: MilvusCredentials | undefined): Message {
  return {
    client_info: {
      sdk_type: "nodejs",
      sdk_version: MILVUS_SDK_VERSION,
      local_time: localTime(new Date()),
      user: credentials?.kind === "password" ? credentials.username : "",
      reserved: {},
    },
  };
}

/**
 * The `authorization` value the SDK computes (utils/Connection.js getAuthString): base64 of the token verbatim, or
 * of `username:password`; standard padded base64, no `Basic ` prefix. Milvus's proxy decodes it the same way
 * (internal/proxy/authentication_interceptor.go: crypto.Base64Decode, then a value without ':' is an API key).
 */
export function authorizationValue(credentials: MilvusCredentials): string {
  const raw = credentials.kind === "token" ? credentials.token : `${credentials.username}:${credentials.password}`;
  return Buffer.from(raw, "utf-8").toString("base64");
}

/** dayjs().format("YYYY-MM-DD HH:mm:ss.SSS"), the SDK's local_time. */
function localTime(d: Date): string {
  const p = (n: number, width = 2) => String(n).padStart(width, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

/**
 * The metadata the SDK's interceptors put on every call (utils/Grpc.js getMetaInterceptor with the client's map
 * from grpc/GrpcClient.js, then getRequestMetadataInterceptor; names in const/client.js METADATA): the credentials
 * (`authorization`, set in the GrpcClient constructor only when there are any, and so on every call, Connect
 * included), the database (the proxy takes a request's database from it), the identifier Connect handed out, the
 * send time.
 */
function callMetadata(identifier: string | undefined, credentials: MilvusCredentials | undefined): Metadata {
  const metadata = new Metadata();
  if (credentials) metadata.set("authorization", authorizationValue(credentials));
  metadata.set("dbname", "default");
  if (identifier) metadata.set("identifier", identifier);
  metadata.set("client-request-unixmsec", String(Date.now()));
  return metadata;
}

export interface MilvusArgs {
  address: string;
  port: number;
  host: string;
  trust: tls.SecureContext;
  timeoutMs: number;
  where: string;
  /** Absent: Milvus is called without credentials, as the SDK does without username, password or token. */
  credentials?: MilvusCredentials;
  /** The secret the credentials came from (Target.milvusCredentials), for messages: never its values. */
  credentialsSecretId?: string;
}

interface MilvusStatus {
  error_code?: string | number;
  code?: number;
  reason?: string;
  retriable?: boolean;
}

// Milvus's legacy error codes for a proxy that is up but not serving yet.
const NOT_READY_ERROR_CODES = new Set(["NotReadyServe", "NotReadyCoordActivating", "RateLimit"]);

/**
 * One unary call with the deadline `timeoutMs`. UNIMPLEMENTED resolves to undefined, as the SDK's retry
 * interceptor turns it into an empty answer (utils/Grpc.js getRetryInterceptor): a Milvus older than Connect
 * (the SDK then carries on without an identifier) or CheckHealth; grpc-js also maps an HTTP 404 to it.
 */
function call(client: Client, rpc: MilvusRpc, request: Message, identifier: string | undefined, args: MilvusArgs) {
  const { path, serialize, deserialize } = RPCS[rpc];
  return new Promise<Message | undefined>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      serialize,
      deserialize,
      request,
      callMetadata(identifier, args.credentials),
      { deadline: Date.now() + args.timeoutMs },
      (error, answer) => {
        if (!error) resolve(answer);
        else if (error.code === status.UNIMPLEMENTED) resolve(undefined);
        else reject(grpcError(error, rpc, args));
      },
    );
  });
}

export async function checkMilvus(args: MilvusArgs): Promise<string> {
  const { address, port, host, trust, where } = args;
  // As the SDK's BaseClient sets it up for `ssl` with `tls: { rootCert, serverName }` (grpc/BaseClient.js), except
  // that the trust store is the one the TLS check used: createSsl(rootCert) would parse every root again.
  const client = new Client(
    `${isIP(address) === 6 ? `[${address}]` : address}:${port}`,
    credentials.createFromSecureContext(trust),
    {
      // SNI and the name checked on the certificate.
      "grpc.ssl_target_name_override": host,
      // ssl_target_name_override does not change HTTP/2 :authority, and a host-rule Ingress answers 404 for any
      // other authority.
      "grpc.default_authority": host,
      // No keepalive options: grpc-js sends no HTTP/2 PINGs unless grpc.keepalive_time_ms is set. The ALB ignores
      // PINGs, so the SDK's default (ping every 10 s, drop the channel after 5 s without an answer) had to be
      // overridden, or a slow call would die of keepalive instead of its own deadline.
    },
  );
  try {
    // Sequential, as the SDK's checkHealth() and getVersion() wait for connect(). No retries inside: Step Functions
    // retries the step with backoff and jitter.
    const connect = await call(client, "Connect", connectRequest(args.credentials), undefined, args);
    const identifier = connect?.identifier ? String(connect.identifier) : undefined;
    const health = ((await call(client, "CheckHealth", {}, identifier, args)) ?? {}) as {
      isHealthy?: boolean;
      reasons?: string[];
      status?: MilvusStatus;
    };
    const version = ((await call(client, "GetVersion", {}, identifier, args)) ?? {}) as { version?: string; status?: MilvusStatus };

    // grpc-js turns an HTTP 404 into UNIMPLEMENTED, so the ALB's 404 (no rule for this :authority yet, or no
    // targets registered) leaves every answer empty.
    if (!version.version) {
      throw endpointNotReady(
        `${where} answered the Milvus RPCs for ${host} with UNIMPLEMENTED, which is what an ALB HTTP 404 ` +
          "becomes: the listener has no rule for this host yet (the ALB controller is still reconciling), or the " +
          "request's :authority is not the Ingress host.",
        "check the Ingress rule's host.",
      );
    }
    if (health.isHealthy === false) {
      // Before the status checks: an unhealthy proxy may also set a non-success status, and it is still
      // "not ready yet", not a wrong endpoint.
      throw endpointNotReady(
        `Milvus ${version.version} behind ${where} reports itself unhealthy: ` +
          `${(health.reasons ?? []).join("; ") || "no reason given"}.`,
        "check the Milvus pods.",
      );
    }
    checkStatus(connect?.status as MilvusStatus | undefined, "Connect", args);
    checkStatus(version.status, "GetVersion", args);
    checkStatus(health.status, "CheckHealth", args);
    if (health.isHealthy !== true) {
      // GetVersion answered, so this is Milvus itself not implementing CheckHealth: retrying cannot help.
      throw new VerificationFailed(
        `Milvus ${version.version} behind ${where} does not implement CheckHealth; verify-connection needs Milvus ` +
          "2.2 or later.",
      );
    }
    return version.version;
  } finally {
    // Closes the channel and its connection to the ALB (a test checks none is left open).
    client.close();
  }
}

/** A Milvus status inside an OK gRPC answer: the proxy is reachable but refused. */
function checkStatus(status: MilvusStatus | undefined, rpc: string, args: MilvusArgs): void {
  if (!status) return;
  const ok =
    (status.error_code === undefined || status.error_code === "Success" || status.error_code === 0) &&
    (status.code === undefined || status.code === 0);
  if (ok) return;
  const said = `${status.error_code ?? ""}${status.code ? ` code ${status.code}` : ""}: ${status.reason || "no reason"}`;
  if (status.retriable || NOT_READY_ERROR_CODES.has(String(status.error_code))) {
    throw endpointNotReady(`Milvus behind ${args.where} is not ready: ${rpc} returned ${said}.`, "check the Milvus pods and the proxy's logs.");
  }
  throw new VerificationFailed(
    `Milvus behind ${args.where} refused ${rpc} for ${args.host}: ${said}. Check the Milvus proxy's logs and ` +
      "whether it requires authentication.",
  );
}

/** A failed call (its status code and details, from grpc-js) as our retryable or terminal error. */
function grpcError(e: ServiceError, rpc: string, args: MilvusArgs): MilvusL7Error {
  const { code, details } = e;
  const said = `${status[code] ?? "code"} (${code}): ${details}`;
  const httpStatus = /HTTP status code (\d{3})/.exec(details)?.[1];
  const { where, host, timeoutMs } = args;
  if (code === status.UNAVAILABLE || httpStatus === "503") {
    return endpointNotReady(
      `Milvus ${rpc} through ${where} for ${host} failed with ${said}. The ALB answers 503 until its targets pass ` +
        "health checks, and Milvus answers UNAVAILABLE while starting.",
      "check the health of the ALB's targets (its target group) and the Milvus pods.",
    );
  }
  // grpc-js also maps an HTTP 401 or 403 to these codes: that is the ALB (an authenticate action, a WAF rule)
  // refusing before Milvus, not Milvus itself, so only a gRPC status (no HTTP status in the details) counts here.
  if (code === status.UNAUTHENTICATED && !httpStatus) {
    // Milvus with common.security.authorizationEnabled refuses every RPC, Connect and health checks included,
    // without valid credentials (internal/proxy/authentication_interceptor.go). Its message is safe to show: it
    // names what failed, never the credentials.
    if (!args.credentials) {
      return new MilvusUnauthenticated(
        `Milvus behind ${where} requires authentication: ${rpc} for ${host} failed with ${said}. Set ` +
          `milvus.credentials (${CREDENTIALS_FIELD}: a Secrets Manager secret holding {"username", "password"} or ` +
          '{"token"}) in the request and run again.',
      );
    }
    return new MilvusUnauthenticated(
      `Milvus behind ${where} refused the credentials in secret ${args.credentialsSecretId} ` +
        `(${args.credentials.kind === "token" ? "a token" : "a username and password"}): ${rpc} for ${host} failed ` +
        `with ${said}. Check the user and password (or token) in that secret against Milvus; an API key works only ` +
        "where Milvus has a hook that verifies API keys (open-source Milvus has none).",
    );
  }
  if (code === status.PERMISSION_DENIED && !httpStatus) {
    return new MilvusPermissionDenied(
      `Milvus behind ${where} denied ${rpc} for ${host} to ${args.credentialsSecretId ? `the user in secret ${args.credentialsSecretId}` : "a caller without credentials"}: ` +
        `${said}. Grant that user's role the privilege Milvus names (or use a user with the admin role).`,
    );
  }
  if (code === status.DEADLINE_EXCEEDED) {
    return endpointNotReady(
      `Milvus ${rpc} through ${where} for ${host} got no answer within ${timeoutMs} ms (${said}).`,
      "check the Milvus proxy's logs and load.",
    );
  }
  return new VerificationFailed(
    `Milvus ${rpc} through ${where} for ${host} failed with ${said}. Check that the Ingress backend is the Milvus ` +
      "Service on port 19530 with alb.ingress.kubernetes.io/backend-protocol-version: GRPC, and the Milvus proxy's logs.",
  );
}


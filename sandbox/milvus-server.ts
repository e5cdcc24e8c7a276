// Milvus stand-in: a grpc-js server for `milvus.proto.milvus.MilvusService`, built from the proto JSON that
// @zilliz/milvus2-sdk-node itself ships, so the wire format is exactly what the real client speaks. It answers
// the RPCs verify-connection makes (Connect, CheckHealth, GetVersion) plus ShowCollections; every other unary
// method is recorded and answered UNIMPLEMENTED, like a Milvus that does not know the method.
// Plaintext h2c on 127.0.0.1: in the sandbox TLS ends at the ALB stand-in, as it does at a real ALB.
// With enableAuth() it checks credentials and privileges the way Milvus's proxy interceptors do (milvus-auth.ts;
// sources in sandbox/README.md).
import { createRequire } from "node:module";
import {
  type GrpcObject,
  type handleUnaryCall,
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceClientConstructor,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedHandleCall,
} from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { type MilvusAuthConfig, checkAuthentication, checkPrivilege, privilegeOf } from "./milvus-auth";

// The SDK's proto JSON is a CommonJS module with an `exports.default`; require() sidesteps the ESM/CJS
// default-import interop differences between tsx, vitest and plain Node.
const require = createRequire(import.meta.url);
const milvusProtoJson = (require("@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus") as { default: object })
  .default;

/** The SDK's own loader options (GrpcClient LOADER_OPTIONS), so both ends decode messages the same way. */
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export type MilvusFault = "unavailable" | "deadline" | "unhealthy" | undefined;

export interface MilvusServerOptions {
  /** What GetVersion and Connect's server_info.build_tags report. */
  version?: string;
  /** Collection names ShowCollections returns. */
  collections?: string[];
}

export interface MilvusServer {
  host: string;
  port: number;
  /** Every RPC received, as `Method@authority` (the HTTP/2 `:authority` the server saw), in arrival order. */
  calls: string[];
  /**
   * `unavailable`: every RPC fails with UNAVAILABLE (a proxy pod not ready). `deadline`: RPCs are never
   * answered, so the client's deadline expires. `unhealthy`: CheckHealth says isHealthy=false.
   */
  setFault(fault: MilvusFault): void;
  /**
   * Authentication on (`common.security.authorizationEnabled: true`): every RPC needs credentials of one of
   * `users`; methods with a privilege need it granted (root and `admins` have all).
   */
  enableAuth(config: MilvusAuthConfig): void;
  disableAuth(): void;
  close(): Promise<void>;
}

const OK_STATUS = { error_code: "Success", reason: "", code: 0, retriable: false, detail: "" };

function milvusServiceDefinition(): ServiceDefinition {
  const pkg = loadPackageDefinition(fromJSON(milvusProtoJson, LOADER_OPTIONS));
  const milvusPkg = ((pkg.milvus as GrpcObject).proto as GrpcObject).milvus as GrpcObject;
  return (milvusPkg.MilvusService as ServiceClientConstructor).service;
}

export async function startMilvusServer(opts: MilvusServerOptions = {}): Promise<MilvusServer> {
  const version = opts.version ?? "v2.5.4";
  const collections = opts.collections ?? [];
  const calls: string[] = [];
  let fault: MilvusFault;
  let auth: MilvusAuthConfig | undefined;
  let nextIdentifier = 1;
  const server = new Server();
  const service = milvusServiceDefinition();

  const answers: Record<string, () => object> = {
    Connect: () => ({
      status: OK_STATUS,
      server_info: {
        build_tags: version,
        build_time: "2025-01-01T00:00:00Z",
        git_commit: "sandbox",
        go_version: "go1.22",
        deploy_mode: "CLUSTER",
        reserved: {},
      },
      // Real Milvus hands out a per-connection identifier; the SDK treats its absence as "Connect unimplemented".
      identifier: String(nextIdentifier++),
    }),
    CheckHealth: () =>
      fault === "unhealthy"
        ? { status: OK_STATUS, isHealthy: false, reasons: ["sandbox: querynode not ready"], quota_states: [] }
        : { status: OK_STATUS, isHealthy: true, reasons: [], quota_states: [] },
    GetVersion: () => ({ status: OK_STATUS, version }),
    ShowCollections: () => ({
      status: OK_STATUS,
      collection_names: collections,
      collection_ids: collections.map((_, i) => String(1000 + i)),
      created_timestamps: collections.map(() => "0"),
      created_utc_timestamps: collections.map(() => "0"),
      inMemory_percentages: [],
      query_service_available: collections.map(() => true),
      shards_num: collections.map(() => 1),
    }),
  };

  const handlers: Record<string, UntypedHandleCall> = {};
  for (const [name, method] of Object.entries(service)) {
    // Streaming methods (replication) stay unregistered: grpc-js answers UNIMPLEMENTED for them by itself.
    if (method.requestStream || method.responseStream) continue;
    const handler: handleUnaryCall<unknown, unknown> = (
      call: ServerUnaryCall<unknown, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      calls.push(`${name}@${call.getHost()}`);
      if (fault === "deadline") return; // never answer: the client's deadline expires
      if (fault === "unavailable") {
        callback({ code: status.UNAVAILABLE, details: "sandbox: Milvus proxy is not serving" });
        return;
      }
      if (auth) {
        // Authentication, then the privilege check, both before the method's handler (the proxy's interceptor chain).
        const who = checkAuthentication(auth, call.metadata.get("authorization").map(String));
        if (who.error) {
          callback(who.error);
          return;
        }
        const denied = checkPrivilege(auth, who.user, privilegeOf(milvusProtoJson, name), String(call.metadata.get("dbname")[0] ?? "default"));
        if (denied) {
          callback(denied);
          return;
        }
      }
      const answer = answers[name];
      if (!answer) {
        callback({ code: status.UNIMPLEMENTED, details: `sandbox: ${name} is not implemented by the stand-in` });
        return;
      }
      callback(null, answer());
    };
    handlers[name] = handler;
  }
  server.addService(service, handlers);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, boundPort) =>
      err ? reject(err) : resolve(boundPort),
    );
  });

  return {
    host: "127.0.0.1",
    port,
    calls,
    setFault(f) {
      fault = f;
    },
    enableAuth(config) {
      auth = config;
    },
    disableAuth() {
      auth = undefined;
    },
    close() {
      return new Promise((resolve) => {
        // Graceful first; a call held by the `deadline` fault would keep tryShutdown waiting, so force after a beat.
        const timer = setTimeout(() => server.forceShutdown(), 200);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

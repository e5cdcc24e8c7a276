// verify-connection's Milvus proto subset (functions/verify-connection/milvus-proto.ts): checked in and current with
// the SDK's proto JSON it is cut from, and speaking the same wire format as the SDK's whole proto.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { MILVUS_PROTO, MILVUS_SDK_VERSION } from "../../functions/verify-connection/milvus-proto";
import {
  METHODS,
  MILVUS_PROTO_FILE,
  REGENERATE_MILVUS_PROTO,
  SERVICE,
  milvusProtoSubset,
  renderMilvusProto,
  sdkProtoJson,
  sdkVersion,
} from "../../scripts/milvus-proto";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TO_OBJECT = { longs: String, enums: String, defaults: true, oneofs: true };

const full = protobuf.Root.fromJSON(sdkProtoJson());
const subset = protobuf.Root.fromJSON(MILVUS_PROTO as protobuf.INamespace);
subset.resolveAll();

describe("the Milvus proto subset", () => {
  it("is what scripts/milvus-proto.ts generates from the installed SDK", () => {
    const have = readFileSync(`${ROOT}/${MILVUS_PROTO_FILE}`, "utf8");
    expect(have === renderMilvusProto(), `${MILVUS_PROTO_FILE} is stale: run \`${REGENERATE_MILVUS_PROTO}\``).toBe(true);
    expect(MILVUS_SDK_VERSION).toBe(sdkVersion());
  });

  it("has the service with exactly the three methods, and every type they use resolves", () => {
    expect(Object.keys(subset.lookupService(SERVICE).methods)).toEqual([...METHODS]);
    expect(() => subset.resolveAll()).not.toThrow();
  });

  it("encodes and decodes every request and answer as the SDK's whole proto does", () => {
    const samples: Record<string, object> = {
      ConnectRequest: { client_info: { sdk_type: "nodejs", sdk_version: "3.0.6", local_time: "2025-01-01 00:00:00.000", user: "u", reserved: { a: "b" } } },
      ConnectResponse: {
        status: { error_code: "NotReadyServe", reason: "starting", code: 1, retriable: true },
        server_info: { build_tags: "v2.5.4", deploy_mode: "CLUSTER", reserved: { k: "v" } },
        identifier: "463148839112884225",
      },
      CheckHealthRequest: {},
      CheckHealthResponse: { status: { error_code: "Success" }, isHealthy: false, reasons: ["querynode"], quota_states: ["DenyToWrite"] },
      GetVersionRequest: {},
      GetVersionResponse: { status: { code: 0 }, version: "v2.5.4" },
    };
    for (const [name, sample] of Object.entries(samples)) {
      const ours = subset.lookupType(`milvus.proto.milvus.${name}`);
      const theirs = full.lookupType(`milvus.proto.milvus.${name}`);
      const bytes = theirs.encode(theirs.fromObject(sample)).finish();
      expect(Buffer.from(ours.encode(ours.fromObject(sample)).finish()), name).toEqual(Buffer.from(bytes));
      expect(ours.toObject(ours.decode(bytes), TO_OBJECT), name).toEqual(theirs.toObject(theirs.decode(bytes), TO_OBJECT));
    }
  });

  it("follows the SDK: a type a needed message starts to use is taken along", () => {
    type Node = { nested?: Record<string, Node>; fields?: Record<string, unknown> };
    const at = (node: Node, path: string): Node =>
      path.split(".").reduce((n: Node, key) => n.nested?.[key] ?? expect.fail(`no ${path}`), node);
    const source = structuredClone(sdkProtoJson()) as Node;
    const serverInfo = at(source, "milvus.proto.common.ServerInfo");
    serverInfo.fields = { ...serverInfo.fields, extra: { type: "KeyValuePair", id: 99 } };
    expect(Object.keys(at(milvusProtoSubset(source) as Node, "milvus.proto.common").nested ?? {})).toContain("KeyValuePair");
    expect(renderMilvusProto(source)).not.toBe(renderMilvusProto());
  });
});

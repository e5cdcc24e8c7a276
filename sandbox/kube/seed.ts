// The Milvus release the workflow starts from.
import { readFileSync } from "node:fs";
import type { KubeApiServer, KubeObject } from "./types";

const FIXTURE = new URL("../fixtures/milvus-demo-service-loadbalancer.json", import.meta.url);

/** The Milvus Service as the Helm chart leaves it (type LoadBalancer behind an NLB); a fresh copy per call. */
export function loadMilvusDemoService(): KubeObject {
  return JSON.parse(readFileSync(FIXTURE, "utf8")) as KubeObject;
}

/** Puts the Milvus Service into the stand-in, as after `helm install milvus-demo milvus/milvus -n milvus`. */
export function seedMilvusRelease(server: KubeApiServer): KubeObject {
  return server.put(loadMilvusDemoService());
}

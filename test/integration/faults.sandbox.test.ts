// The fault matrix. Every fault is injected at each step where it can occur, and the workflow runs through the real
// ASL with the real handlers against the sandbox:
// - Kubernetes: the API stand-in's fault injection, matched by method and path and armed by a hook just before
//   the step's handler runs (the ALB-controller simulator talks to the same apiserver, so a fault armed earlier
//   could hit one of its requests instead); 409/404 are provoked for real where they can be (another field
//   manager owning a field, a deleted Service or Ingress, a namespace that does not exist).
// - AWS: error responses in each service's wire protocol from a middleware on the sandbox's SDK clients
//   (sandbox/aws-faults.ts), so the SDK's own deserializer and retry strategy handle them; "not found" is real.
// - Milvus, the ALB and the controller: the stand-ins' fault switches.
// Transient faults must be retried by the state that hit them (StateRetried in the history) and the run must
// succeed; terminal faults must fail the run at once (no StateRetried for them) with a Cause that names the
// problem and the fix. Every run is scanned for the private keys. The observed outcomes form the table in
// docs/faults.md: the last test fails when it differs (UPDATE_FAULTS_DOC=1 rewrites it).
//
// The scenarios live in test/integration/faults/, one module per concern, and all run from this one file: the
// table is one observation, numbered across its sections in the order the scenarios ran, and the scenarios share
// two sandboxes (one for Kubernetes faults, one for the rest) started here.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox";
import { albControllerFaults } from "./faults/alb-controller";
import { awsFaults } from "./faults/aws";
import { clusterRealityFaults } from "./faults/cluster-realities";
import { keysOf } from "./faults/harness";
import { kubernetesFaults } from "./faults/kubernetes";
import { milvusAlbFaults } from "./faults/milvus-alb";
import { renderDoc } from "./faults/table";

const DOC = new URL("../../docs/faults.md", import.meta.url);

let kubeSandbox: Sandbox;
let awsSandbox: Sandbox;

beforeAll(async () => {
  const options = { watchSeconds: 1, publishDelayMs: 50, healthyDelayMs: 0 };
  [kubeSandbox, awsSandbox] = await Promise.all([startSandbox(options), startSandbox(options)]);
  keysOf.set(kubeSandbox, []);
  keysOf.set(awsSandbox, []);
}, 120_000);

afterAll(async () => {
  await Promise.all([kubeSandbox?.stop(), awsSandbox?.stop()]);
});

// In this order: the table's rows follow it.
kubernetesFaults(() => kubeSandbox);
awsFaults(() => awsSandbox);
milvusAlbFaults(() => awsSandbox);
albControllerFaults(() => awsSandbox);
clusterRealityFaults(() => kubeSandbox);

describe("docs/faults.md", () => {
  it("is the table this run observed (UPDATE_FAULTS_DOC=1 rewrites it)", () => {
    const rendered = renderDoc();
    if (process.env.UPDATE_FAULTS_DOC === "1") {
      writeFileSync(DOC, rendered);
      return;
    }
    const committed = existsSync(DOC) ? readFileSync(DOC, "utf8") : "";
    expect(committed, "docs/faults.md differs from this run: rerun with UPDATE_FAULTS_DOC=1 and review the diff").toBe(rendered);
  });
});

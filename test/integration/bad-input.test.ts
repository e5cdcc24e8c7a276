// The bad-input corpus (test/fixtures/bad-input, made by scripts/make-bad-input.ts) against every way in.
//
// Each request case is rejected three times, each time naming the field: by `milvus-l7 validate` (exit 1), by the
// HTTP API (400, nothing started) and inside the workflow (FAILED with InvalidRequest). Each PEM case sits behind a
// valid request and is rejected inside the workflow (CertificateRejected / CertificateSourceError, the Cause naming
// the problem). For every case the sandbox records no change — no AWS write (ACM import, Route 53, …), no ACM
// certificate added, no Kubernetes write, no state after ImportCertificate — and no private key appears in any
// answer, Cause or log line. One sandbox serves every case: none of them may change it.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createPrivateKey } from "node:crypto";
import { ImportCertificateCommand, ListCertificatesCommand } from "@aws-sdk/client-acm";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { MetadataBearer, MiddlewareStack } from "@smithy/types";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runValidate } from "../../cli/validate";
import { type ApiDeps, type ApiLogger, handleApiRequest } from "../../functions/api/core";
import { ACM_KEY_ALGORITHMS } from "../../functions/lib/certificates";
import { parseRequest, requestSchema } from "../../functions/lib/request";
import type { CorpusIndex, PemCase, RequestCase } from "../../scripts/bad-input/corpus";
import { type Sandbox, startSandbox } from "../../sandbox";
import { keyLeaks } from "../../sandbox/secrets";
import type { WorkflowRun } from "../../sandbox/workflow";

const CORPUS = new URL("../fixtures/bad-input/", import.meta.url);
const corpusPath = (relative: string) => new URL(relative, CORPUS).pathname;
const index: CorpusIndex = JSON.parse(readFileSync(corpusPath("cases.json"), "utf8"));
const requestCases = index.requests;
const pemCases = index.pem;
const requestText = (c: RequestCase) => readFileSync(corpusPath(c.file), "utf8");
/** Where the workflow test stores the PEM sets. */
const BUCKET = "milvus-l7-bad-input";
const SECRET_PREFIX = "bad-input/";

/** How issues print the path: `formatIssues` and the InvalidRequest message call the whole request "(root)". */
const shown = (path: string) => path || "(root)";

// ---------------------------------------------------------------------------------------------------------------
// Private keys each case could leak: pasted into the request, or stored in the PEM set (any encoding).

function keysIn(dir: string): string[] {
  const keys: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = `${dir}/${name}`;
    if (statSync(file).isDirectory()) {
      keys.push(...keysIn(file));
      continue;
    }
    const bytes = readFileSync(file);
    const text = bytes.toString("utf8");
    // Every PRIVATE KEY block, whatever the file (a combined PEM, a YAML or JSON secret, an encrypted key).
    for (const m of text.replace(/\\n/g, "\n").matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g)) {
      keys.push(`${m[0].replace(/^ +/gm, "")}\n`);
    }
    if (name.endsWith(".der")) {
      try {
        keys.push(createPrivateKey({ key: bytes, format: "der", type: "pkcs8" }).export({ type: "pkcs8", format: "pem" }).toString());
      } catch {
        // a DER certificate, not a key
      }
    }
  }
  return keys;
}

function expectNoLeak(keys: readonly string[], where: string, text: string): void {
  for (const key of keys) expect(keyLeaks(key, text), `private key material in ${where}`).toEqual([]);
}

const pastedKeys = (c: RequestCase) => (c.pastedKey ? [readFileSync(corpusPath(c.pastedKey), "utf8")] : []);

// ---------------------------------------------------------------------------------------------------------------

describe("the corpus", () => {
  it("holds at least 50 cases, each request file unique and present", () => {
    expect(requestCases.length + pemCases.length).toBeGreaterThanOrEqual(50);
    const names = [...requestCases, ...pemCases].map((c) => c.case);
    expect(new Set(names).size).toBe(names.length);
    for (const c of requestCases) expect(statSync(corpusPath(c.file)).isFile(), c.file).toBe(true);
  });

  it("names every field of the request schema, and an unknown key at every level", () => {
    // Walks the zod schema itself, so a field added to the schema without a bad-input case fails here.
    const objects: string[] = [""];
    const leaves: string[] = [];
    const walk = (schema: unknown, path: string): void => {
      const def = (schema as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
      switch (def.type) {
        case "object":
          if (path) objects.push(path);
          for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) walk(child, path ? `${path}.${key}` : key);
          return;
        case "optional":
        case "default":
        case "prefault":
        case "nullable":
          walk(def.innerType, path);
          return;
        case "pipe":
          walk(def.in, path);
          return;
        default:
          leaves.push(path);
      }
    };
    walk(requestSchema, "");
    const paths = new Set(requestCases.map((c) => c.path));
    // Annotations are a record: any annotation key under it names it.
    const named = (field: string) =>
      paths.has(field) || (field === "ingress.annotations" && [...paths].some((p) => p.startsWith(`${field}.`)));
    expect([...objects, ...leaves].filter((f) => !named(f)).map(shown), "schema fields without a bad-input case").toEqual([]);
    const isUnknownKey = (c: RequestCase) => /unknown field|^allowed:/.test(c.contains);
    const depth = (path: string) => (path === "" ? 0 : path.split(".").length);
    const unknownKeyAt = (o: string) =>
      requestCases.some((c) => isUnknownKey(c) && c.path.startsWith(o ? `${o}.` : "") && depth(c.path) === depth(o) + 1);
    expect(objects.filter((o) => !unknownKeyAt(o)).map(shown), "levels without an unknown-key case").toEqual([]);
  });

  it("hands the leak checks the private keys of the PEM sets, in every format they are stored in", () => {
    // Without a key, a leak check passes vacuously: all but the sets that hold no private key must yield one.
    const without = pemCases.filter((c) => keysIn(corpusPath(c.dir)).length === 0).map((c) => c.case);
    expect(without.sort()).toEqual(["empty-private-key", "public-key-as-private-key", "s3-object-missing", "secret-missing"]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("milvus-l7 validate", () => {
  it.each(requestCases)("rejects $case, naming $path", (c) => {
    const out: string[] = [];
    const code = runValidate([corpusPath(c.file)], { log: (l) => out.push(l), error: (l) => out.push(l) });
    expect(code, out.join("\n")).toBe(1);
    const line = out.find((l) => l.startsWith(`${shown(c.path)}: `) && l.includes(c.contains));
    expect(line, `no "${shown(c.path)}: …${c.contains}…" line in:\n${out.join("\n")}`).toBeDefined();
    expectNoLeak(pastedKeys(c), "validate's output", out.join("\n"));
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("POST /deployments", () => {
  const STATE_MACHINE = "arn:aws:states:us-east-2:123456789012:stateMachine:milvus-l7";
  const POST: APIGatewayProxyEvent = JSON.parse(readFileSync(new URL("../../events/api-post-deployment.json", import.meta.url), "utf8"));
  const sfn = mockClient(SFNClient);
  const logs: string[] = [];
  const logger: ApiLogger = {
    info: (m, a) => logs.push(JSON.stringify({ m, a })),
    warn: (m, a) => logs.push(JSON.stringify({ m, a })),
    error: (m, a) => logs.push(JSON.stringify({ m, a })),
  };
  const deps: ApiDeps = { sfn: new SFNClient({ region: "us-east-2" }), stateMachineArn: STATE_MACHINE, registry: { list: async () => [] }, logger };

  beforeEach(() => {
    sfn.reset();
    logs.length = 0;
  });
  afterAll(() => sfn.restore());

  it.each(requestCases)("answers 400 to $case, naming $path", async (c) => {
    const res = await handleApiRequest({ ...POST, body: requestText(c) }, deps);
    expect(res.statusCode, res.body).toBe(400);
    const body = JSON.parse(res.body) as { error: string; issues: { path: string; message: string }[] };
    expect(body.error).toBe("InvalidRequest");
    expect(body.issues).toContainEqual({ path: c.path, message: expect.stringContaining(c.contains) });
    expect(sfn.commandCalls(StartExecutionCommand), "an execution was started").toHaveLength(0);
    expectNoLeak(pastedKeys(c), "the API's answer", res.body);
    expectNoLeak(pastedKeys(c), "the API's logs", logs.join("\n"));
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("the workflow, in one sandbox shared by every case", () => {
  let sandbox: Sandbox;
  /** Every AWS call the handlers make through the sandbox's clients, as `service:Command`. */
  const awsCalls: string[] = [];
  /** The Kubernetes writes of the setup (the load balancer controller installing its IngressClass and webhook). */
  let kubeWritesBefore = 0;
  const requests = new Map<string, Record<string, unknown>>();
  const timings: { kind: string; ms: number }[] = [];

  const listCertificates = async () =>
    (
      await sandbox.aws.acm.send(
        new ListCertificatesCommand({ Includes: { keyTypes: [...ACM_KEY_ALGORITHMS] }, MaxItems: 1000 }),
      )
    ).CertificateSummaryList?.map((s) => s.CertificateArn ?? "").sort() ?? [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    await sandbox.aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: "us-east-2" } }));
    for (const c of pemCases) requests.set(c.case, await storePemCase(c));
    // Recording starts after the setup above: from here on, nothing may write.
    kubeWritesBefore = sandbox.kube.mutations.length;
    for (const [service, client] of Object.entries(sandbox.aws) as [string, { middlewareStack: MiddlewareStack<object, MetadataBearer> }][]) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          awsCalls.push(`${service}:${context.commandName ?? "?"}`);
          return next(args);
        },
        { step: "initialize", name: "badInputCallRecorder" },
      );
    }
  }, 120_000);

  afterAll(async () => {
    await sandbox?.stop();
    if (timings.length > 0) {
      const by = (kind: string) => timings.filter((t) => t.kind === kind).map((t) => t.ms);
      const summary = ["request", "pem"].map((k) => `${k}: ${by(k).length} runs, mean ${Math.round(by(k).reduce((a, b) => a + b, 0) / Math.max(1, by(k).length))} ms, max ${Math.max(0, ...by(k))} ms`);
      console.info(`bad-input workflow runs — ${summary.join("; ")}`);
    }
  });

  /** Writes a PEM case where its request will point, and returns that request. */
  async function storePemCase(c: PemCase): Promise<Record<string, unknown>> {
    const dir = corpusPath(c.dir);
    const file = (name: string) => readFileSync(`${dir}/${name}`);
    const name = `${SECRET_PREFIX}${c.case}`;
    let arn: string | undefined;
    if (c.reimportInto) {
      const existing = (part: string) => file(`${c.reimportInto}/${part}`);
      arn = (
        await sandbox.aws.acm.send(
          new ImportCertificateCommand({ Certificate: existing("cert.pem"), CertificateChain: existing("chain.pem"), PrivateKey: existing("privkey.pem") }),
        )
      ).CertificateArn;
    }
    const createSecret = async (secret: { SecretString?: string; SecretBinary?: Uint8Array }) =>
      (await sandbox.aws.secretsManager.send(new CreateSecretCommand({ Name: name, ...secret }))).ARN ?? "";
    switch (c.store) {
      case "secret": {
        const text = (part: string) => file(part).toString("utf8");
        const secretArn = await createSecret({
          SecretString: JSON.stringify({ certificate: text("cert.pem"), chain: text("chain.pem"), privateKey: text("privkey.pem") }),
        });
        return sandbox.request(secretArn, arn);
      }
      case "secret-string":
        return sandbox.request(await createSecret({ SecretString: file(c.secret ?? "").toString("utf8") }), arn);
      case "secret-binary":
        return sandbox.request(await createSecret({ SecretBinary: file(c.secret ?? "") }), arn);
      case "secret-missing":
        return sandbox.request(name, arn);
      case "s3": {
        for (const object of readdirSync(dir).filter((f) => statSync(`${dir}/${f}`).isFile())) {
          await sandbox.aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${c.case}/${object}`, Body: file(object) }));
        }
        const request = sandbox.request("unused", arn) as { certificate: Record<string, unknown> };
        request.certificate = { ...(arn ? { arn } : {}), source: { s3: { bucket: BUCKET, prefix: `${c.case}/`, ...c.keys } } };
        return request;
      }
    }
  }

  /** Runs `input` and checks that the sandbox is as it was: no AWS write, no new certificate, no Kubernetes write. */
  async function runChangingNothing(kind: string, input: unknown): Promise<{ run: WorkflowRun; logs: string }> {
    const kubeBefore = sandbox.kube.mutations.length;
    const callsBefore = awsCalls.length;
    const logsBefore = sandbox.logs.length;
    const certificatesBefore = await listCertificates();
    const started = Date.now();
    const run = await sandbox.run(input);
    timings.push({ kind, ms: Date.now() - started });
    const writes = awsCalls.slice(callsBefore).filter((call) => !/:(Describe|Get|List|Head)/.test(call));
    expect(writes, "AWS writes").toEqual([]);
    expect(await listCertificates(), "ACM certificates").toEqual(certificatesBefore);
    expect(sandbox.kube.mutations.slice(kubeBefore).map((m) => `${m.verb} ${m.kind} ${m.name}`), "Kubernetes writes").toEqual([]);
    return { run, logs: sandbox.logs.slice(logsBefore).join("\n") };
  }

  const statesEntered = (run: WorkflowRun) =>
    [...new Set(run.events.flatMap((e) => (e.type === "StateEntered" ? [e.state.name] : [])))];

  it.each(requestCases)("fails $case in ResolveRequest, naming $path", async (c) => {
    const { run, logs } = await runChangingNothing("request", JSON.parse(requestText(c)));
    expect(run.status, run.cause).toBe("FAILED");
    expect(run.error, run.cause).toBe("InvalidRequest");
    expect(run.cause).toContain(`${shown(c.path)}: `);
    expect(run.cause).toContain(c.contains);
    const entered = statesEntered(run);
    expect([entered[0], entered.at(-1)]).toEqual(["ResolveRequest", "Failed"]);
    expect(entered, "nothing after ResolveRequest").not.toContain("ImportCertificate");
    expect(entered).not.toContain("DeployTargets");
    expectNoLeak(pastedKeys(c), "the Cause", run.cause ?? "");
    expectNoLeak(pastedKeys(c), "the handlers' logs", logs);
  });

  it.each(pemCases)("fails $case in ImportCertificate with $error", async (c) => {
    const request = requests.get(c.case);
    expect(request).toBeDefined();
    expect(() => parseRequest(request), "the request in front of the PEMs is valid").not.toThrow();
    const { run, logs } = await runChangingNothing("pem", request);
    expect(run.status, run.cause).toBe("FAILED");
    expect(run.error, run.cause).toBe(c.error);
    expect(run.cause).toContain(c.contains);
    // The Cause says where the bad PEMs are: the secret, or the S3 objects (s3://bucket/{key,key,key}).
    for (const where of c.store === "s3" ? [`s3://${BUCKET}/`, `${c.case}/`] : [`${SECRET_PREFIX}${c.case}`]) expect(run.cause).toContain(where);
    const entered = statesEntered(run);
    expect(entered).toContain("ImportCertificate");
    expect(entered.at(-1)).toBe("Failed");
    expect(entered, "nothing after ImportCertificate").not.toContain("DeployTargets");
    const keys = keysIn(corpusPath(c.dir));
    expectNoLeak(keys, "the Cause", run.cause ?? "");
    expectNoLeak(keys, "the handlers' logs", logs);
  });

  it("left nothing behind: no Kubernetes write, no AWS write, no deployment recorded", async () => {
    expect(sandbox.kube.mutations.slice(kubeWritesBefore)).toEqual([]);
    expect(awsCalls.filter((call) => !/:(Describe|Get|List|Head)/.test(call))).toEqual([]);
    expect(await sandbox.registry.list()).toEqual([]);
    // Only the certificate imported on purpose for the key-type-change case is in ACM.
    expect(await listCertificates()).toHaveLength(pemCases.filter((c) => c.reimportInto).length);
  });
});

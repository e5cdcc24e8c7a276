import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runValidate, validateFile } from "../../cli/validate";

const EXAMPLE = fileURLToPath(new URL("../../events/console-start.json", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "milvus-l7-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function run(args: string[]) {
  const log: string[] = [];
  const error: string[] = [];
  const code = runValidate(args, { log: (l) => log.push(l), error: (l) => error.push(l) });
  return { code, log, error };
}

describe("validate", () => {
  it("accepts the console example (exit 0)", () => {
    const { code, log, error } = run([EXAMPLE]);
    expect(code).toBe(0);
    expect(error).toEqual([]);
    expect(log).toEqual([
      `${EXAMPLE}: valid — milvus/milvus-demo on milvus-eks → https://milvus-demo.milvus.io (cutover after-verify)`,
    ]);
  });

  it("rejects a bad request (exit 1) with one line per field", () => {
    const bad = file(
      "bad.json",
      JSON.stringify({
        cluster: { name: "milvus-eks", region: "us-east-2" },
        milvus: { namespace: "Milvus", service: "milvus-demo", port: 70000 },
        ingress: {
          host: "*.milvus.io",
          scheme: "public",
          annotations: {
            "alb.ingress.kubernetes.io/success-codes": "200",
            "alb.ingress.kubernetes.io/listen-ports": "HTTPS:443",
          },
        },
        certificate: {},
        extra: true,
      }),
    );
    const { code, log, error } = run([bad]);
    expect(code).toBe(1);
    expect(log).toEqual([]);
    expect(error[0]).toBe(`${bad}: invalid request (8 problems)`);
    expect(error.slice(1).map((l) => l.slice(0, l.indexOf(": ")))).toEqual([
      "milvus.namespace",
      "milvus.port",
      "ingress.host",
      "ingress.scheme",
      "ingress.annotations.alb.ingress.kubernetes.io/success-codes",
      "ingress.annotations.alb.ingress.kubernetes.io/listen-ports",
      "certificate",
      "extra",
    ]);
    expect(error).toContain("ingress.scheme: must be one of internet-facing, internal");
    expect(error).toContain(
      'extra: unknown field "extra"; allowed: cluster, milvus, ingress, certificate, cutover, waitForAddressMinutes, onFailure, driftPolicy',
    );
  });

  it("reports invalid JSON by position, without quoting the file", () => {
    const broken = file("broken.json", '{\n  "cluster": { "name": "milvus-eks" },\n  "secret": "hunter2" oops\n}');
    const { code, error } = run([broken]);
    expect(code).toBe(1);
    expect(error[1]).toMatch(/^\(file\): is not valid JSON \(line 3, column \d+\)$/);
    expect(error.join("\n")).not.toContain("hunter2");
  });

  it("reports an empty file", () => {
    expect(validateFile(file("empty.json", ""))).toEqual({
      ok: false,
      issues: [{ path: "(file)", message: "is not valid JSON (the file is empty)" }],
    });
  });

  it("reports an unreadable file", () => {
    const { code, error } = run([join(dir, "missing.json")]);
    expect(code).toBe(1);
    expect(error[1]).toBe("(file): cannot be read: no such file");
    expect(validateFile(dir)).toEqual({ ok: false, issues: [{ path: "(file)", message: "cannot be read: it is a directory" }] });
  });

  it("refuses a huge file without reading it", () => {
    const huge = file("huge.json", `{"pad":"${"x".repeat(1024 * 1024)}"}`);
    const result = validateFile(huge);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]?.message).toMatch(/^is \d+ bytes; a deployment request file may be at most 1048576$/);
  });

  it("accepts a file saved with a byte-order mark", () => {
    const content = `\uFEFF${readFileSync(EXAMPLE, "utf8")}`;
    expect(validateFile(file("bom.json", content)).ok).toBe(true);
  });

  it("returns the normalised request", () => {
    const result = validateFile(EXAMPLE);
    expect(result.ok && result.request.ingress.name).toBe("milvus-demo");
  });

  it.each([[[]], [["a.json", "b.json"]], [["--strict"]]])("prints usage for %j (exit 2)", (args) => {
    const { code, error } = run(args);
    expect(code).toBe(2);
    expect(error).toEqual(["usage: milvus-l7 validate <request.json>"]);
  });

  it("prints usage on --help (exit 0)", () => {
    expect(run(["--help"])).toEqual({ code: 0, log: ["usage: milvus-l7 validate <request.json>"], error: [] });
  });
});

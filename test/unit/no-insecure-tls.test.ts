// No code path of the product may turn TLS certificate verification off: not in the Lambdas, not in the CLI.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const FORBIDDEN = [
  /rejectUnauthorized\s*:\s*false/,
  /NODE_TLS_REJECT_UNAUTHORIZED/,
  /skipCertCheck\s*:\s*true/,
  /skipTLSVerify\s*:\s*true/,
  /insecure-skip-tls-verify/,
  /checkServerIdentity\s*:\s*\(\)\s*=>\s*undefined/,
  /createInsecure\(\)/,
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

describe("TLS verification", () => {
  it("is never disabled in functions/, cli/ or infra/", () => {
    const files = ["functions", "cli", "infra"].flatMap((d) => sources(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(30);
    const hits = files.flatMap((file) =>
      FORBIDDEN.filter((pattern) => pattern.test(readFileSync(file, "utf8"))).map((pattern) => `${file.slice(ROOT.length)}: ${pattern}`),
    );
    expect(hits).toEqual([]);
  });
});

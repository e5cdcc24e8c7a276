// Finds a private key in text: the PEM, its base64 body (joined or line by line), or the PEM base64-encoded.
export function keyLeaks(keyPem: string, haystack: string): string[] {
  const bodyLines = keyPem
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("-----"));
  const needles: [string, string][] = [
    ["PEM", keyPem.trim()],
    ["base64 body", bodyLines.join("")],
    ["base64 of the PEM", Buffer.from(keyPem).toString("base64").slice(0, 64)],
    // A JSON-escaped PEM keeps its lines; any one full 64-character line of the body is a leak.
    ...bodyLines.filter((l) => l.length >= 32).map((l, i): [string, string] => [`body line ${i + 1}`, l]),
  ];
  return needles.filter(([, needle]) => haystack.includes(needle)).map(([what]) => what);
}

/**
 * Finds a secret value (a Milvus password, a token, a header built from them) in text: as it is, JSON-escaped, or
 * base64-encoded (the `authorization` metadata is base64 of `user:password`).
 */
export function valueLeaks(values: Record<string, string>, haystack: string): string[] {
  const found: string[] = [];
  for (const [what, value] of Object.entries(values)) {
    const forms: [string, string][] = [
      ["as is", value],
      ["JSON-escaped", JSON.stringify(value).slice(1, -1)],
      ["base64", Buffer.from(value).toString("base64")],
    ];
    for (const [form, needle] of forms) if (needle && haystack.includes(needle)) found.push(`${what} (${form})`);
  }
  return found;
}

// Markdown that cannot break: plain text escaped so nothing turns into markup, code spans safe in table cells,
// and tables.

/** Plain text in Markdown (table cells included): nothing may turn into markup, HTML or a column break. */
export function md(s: string): string {
  return s
    .replace(/\s*\n\s*/g, " ")
    .replace(/[\\`*_[\]~|]/g, (c) => `\\${c}`)
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** An inline code span, safe in a table cell. */
export function code(s: string): string {
  const fence = s.includes("`") ? "``" : "`";
  const pad = s.includes("`") ? " " : "";
  return `${fence}${pad}${s.replace(/\|/g, "\\|")}${pad}${fence}`;
}

export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map((c) => c || " ").join(" | ")} |`),
  ].join("\n");
}

export function num(n: number): string {
  return String(Number(n));
}

/** A value as a reader would write it: strings bare, anything else as JSON. */
export function literal(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

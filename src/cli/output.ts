/** Printing results: aligned tables for people, JSON for programs (query results: query-output.ts). */
import type { Datum } from "../store/index.js";

export function datumText(d: Datum): string {
  if (d.NullValue) return "";
  if (d.ScalarValue !== undefined) return d.ScalarValue;
  if (d.ArrayValue) return `[${d.ArrayValue.map(datumText).join(", ")}]`;
  if (d.RowValue) return `(${d.RowValue.Data.map(datumText).join(", ")})`;
  if (d.TimeSeriesValue)
    return `[${d.TimeSeriesValue.map((p) => `${p.Time}: ${datumText(p.Value)}`).join(", ")}]`;
  return "";
}

/** Renders rows of strings as an aligned text table with a header rule. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Printing results: aligned tables for people, CSV and JSON for programs. */
import type { Datum, QueryResponse } from "../store/types.js";

export type OutputFormat = "table" | "csv" | "json";

export function datumText(d: Datum): string {
  if (d.NullValue) return "";
  if (d.ScalarValue !== undefined) return d.ScalarValue;
  if (d.ArrayValue) return `[${d.ArrayValue.map(datumText).join(", ")}]`;
  if (d.RowValue) return `(${d.RowValue.Data.map(datumText).join(", ")})`;
  if (d.TimeSeriesValue)
    return `[${d.TimeSeriesValue.map((p) => `${p.Time}: ${datumText(p.Value)}`).join(", ")}]`;
  return "";
}

const csvField = (text: string): string => (/[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

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

export function formatQueryPage(page: QueryResponse, format: OutputFormat, first: boolean): string {
  const header = page.ColumnInfo.map((c) => c.Name ?? "");
  const rows = page.Rows.map((r) => r.Data.map(datumText));
  switch (format) {
    case "json":
      return page.Rows.map((r) =>
        JSON.stringify(
          Object.fromEntries(header.map((h, i) => [h, r.Data[i]!.NullValue ? null : datumText(r.Data[i]!)])),
        ),
      ).join("\n");
    case "csv":
      return [
        ...(first ? [header.map(csvField).join(",")] : []),
        ...rows.map((r) => r.map(csvField).join(",")),
      ].join("\n");
    default:
      return renderTable(header, rows);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

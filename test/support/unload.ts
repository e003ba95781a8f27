/** Reading back what UNLOAD wrote: its manifest, the lake's keys, and CSV as Timestream's options shape it. */
import type { Lake } from "../../src/lake/index.js";

export interface UnloadManifest {
  result_files: { url: string; file_metadata: { content_length_in_bytes: number; row_count: number } }[];
  query_metadata: Record<string, unknown> & { total_row_count: number; result_format: string };
  author: { name: string; manifest_file_version: string };
}

/** `s3://bucket/key` → [bucket, key]. */
export function splitS3Url(url: string): [string, string] {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw new Error(`not an s3:// URL: ${url}`);
  return [match[1]!, match[2]!];
}

export async function readManifest(lake: Lake, url: string): Promise<UnloadManifest> {
  const [bucket, key] = splitS3Url(url);
  return JSON.parse(Buffer.from(await lake.getObject(bucket, key)).toString("utf8")) as UnloadManifest;
}

export async function listKeys(lake: Lake, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await lake.listObjects(bucket, { prefix, ...(startAfter ? { startAfter } : {}) });
    keys.push(...page.objects.map((o) => o.key));
    if (!page.isTruncated) return keys;
    startAfter = page.nextStartAfter;
  }
}

/**
 * Parses CSV written with quote '"' and an escape character (Timestream's escaped_by): inside
 * quotes the escape character takes the next character literally. An empty unquoted field is NULL
 * (null), a quoted empty field the empty string.
 */
export function parseCsv(text: string, options: { delimiter: string; escape: string }): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let field = "";
  let quoted = false;
  let inQuotes = false;
  const endField = () => {
    row.push(field === "" && !quoted ? null : field);
    field = "";
    quoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === options.escape) field += text[++i] ?? "";
      else if (c === '"') inQuotes = false;
      else field += c;
    } else if (c === '"') {
      inQuotes = true;
      quoted = true;
    } else if (c === options.delimiter) endField();
    else if (c === "\n") {
      endField();
      rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    endField();
    rows.push(row);
  }
  return rows;
}

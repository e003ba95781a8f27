/**
 * Parses the metadata database URL: `sqlite:/abs/path.db` (also `sqlite:///abs/path.db`) or
 * `postgres://…` / `postgresql://…`.
 */
import path from "node:path";
import { validationError } from "../../errors.js";

export type MetadataTarget =
  | { kind: "sqlite"; filePath: string }
  | { kind: "postgres"; url: string; schema: string };

/** Lowercase only: unquoted identifiers fold to lowercase in PostgreSQL, and search_path is unquoted. */
const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export function parseMetadataUrl(url: string, schema?: string): MetadataTarget {
  if (typeof url !== "string" || url.length === 0) throw validationError("the metadata URL is empty");
  if (url.startsWith("sqlite:")) {
    if (schema !== undefined) {
      throw validationError("a schema can only be given for PostgreSQL, not for a SQLite metadata URL", {
        url,
        schema,
      });
    }
    let filePath = url.slice("sqlite:".length);
    if (filePath.startsWith("//")) filePath = filePath.slice(2);
    if (!path.isAbsolute(filePath)) {
      throw validationError(
        `the SQLite metadata URL needs an absolute path (sqlite:/abs/path.db), got ${url}`,
        { url },
      );
    }
    return { kind: "sqlite", filePath };
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const chosen = schema ?? "public";
    if (!schemaPattern.test(chosen)) {
      throw validationError(
        `schema ${JSON.stringify(chosen)} is not a valid schema name (lowercase letters, digits, _; at most 63)`,
        { schema: chosen },
      );
    }
    return { kind: "postgres", url, schema: chosen };
  }
  throw validationError(`unsupported metadata URL ${url}: use sqlite:/abs/path.db or postgres://…`, { url });
}

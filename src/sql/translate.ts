/**
 * Timestream SQL in, one read-only DuckDB statement out. The text is parsed into a tree and the
 * DuckDB SQL printed from the tree: user text only ever reaches DuckDB as quoted names and string
 * literals, and only whitelisted functions are printed.
 */
import type { TableResolver, TranslateOptions, Translation } from "./contract.js";
import { parse } from "./parser.js";
import { translateShow } from "./show.js";
import { QueryTranslator } from "./translate-query.js";

export function translate(sql: string, resolver: TableResolver, options: TranslateOptions): Translation {
  const statement = parse(sql);
  if (statement.kind === "query" || statement.kind === "unload") {
    // An UNLOAD's SELECT is translated exactly as the same SELECT on its own.
    const result = new QueryTranslator(resolver, options).query(statement.query, undefined);
    return {
      duckdbSql: result.sql,
      statementKind: statement.kind === "unload" ? "unload" : "select",
      columnNames: result.columns?.map((column) => column.name),
      ...(statement.kind === "unload" ? { unload: statement.unload } : {}),
    };
  }
  return translateShow(statement, resolver);
}

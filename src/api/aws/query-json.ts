/**
 * The Query operation's answer as JSON text: the members Timestream defines, in the order the
 * object form had, so the bytes are those toAwsJson gave (test/api/query-json.test.ts compares
 * them). The rows, nearly all of the bytes, go through plain JSON.stringify: a Datum holds only
 * strings and booleans, so toAwsJson's replacer (a JS call per key of every Datum) has nothing to do
 * there. Writing the rows as text straight from DuckDB's chunks was tried and was slower than
 * V8's object allocation plus its native JSON.stringify (docs/benchmarks.md).
 */
import type { QueryResponse } from "../../store/index.js";
import { toAwsJson } from "./protocol.js";

export function queryAnswerJson(page: QueryResponse): string {
  // The small members keep toAwsJson's rules; only the rows skip its replacer.
  return `{"QueryId":${toAwsJson(page.QueryId)},"Rows":${JSON.stringify(page.Rows)},"ColumnInfo":${toAwsJson(page.ColumnInfo)}${
    page.NextToken ? `,"NextToken":${toAwsJson(page.NextToken)}` : ""
  },"QueryStatus":${toAwsJson(page.QueryStatus)}}`;
}

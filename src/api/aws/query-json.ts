/**
 * The Query operation's answer as JSON text, written from a page whose rows are already JSON text
 * (TimestreamStore.queryJson): the members Timestream defines, in the order the object form had,
 * so the bytes are those toAwsJson gave for that object (test/api/query-json.test.ts compares them).
 */
import type { QueryResponse, QueryResponseJson } from "../../store/types.js";
import { toAwsJson } from "./protocol.js";

export function queryAnswerJson(page: QueryResponseJson | QueryResponse): string {
  // The small members keep toAwsJson's rules; only the rows, nearly all of the bytes, skip them.
  const rows = "RowsJson" in page ? `[${page.RowsJson.join(",")}]` : toAwsJson(page.Rows);
  return `{"QueryId":${toAwsJson(page.QueryId)},"Rows":${rows},"ColumnInfo":${toAwsJson(page.ColumnInfo)}${
    page.NextToken ? `,"NextToken":${toAwsJson(page.NextToken)}` : ""
  },"QueryStatus":${toAwsJson(page.QueryStatus)}}`;
}

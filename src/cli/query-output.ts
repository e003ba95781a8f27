/**
 * How `hourglass query` prints a result, page by page as the pages arrive:
 *
 * - table, csv: text for people and spreadsheets (every value as Timestream prints it);
 * - json: ONE document, `{"columns":[{"name","type"}],"rows":[{…}]}`, rows keyed by column name
 *   and values as JSON data (see jsonValue);
 * - jsonl: one row object a line, the same values as json;
 * - timestream: the Query API's own response, as `aws timestream-query query` prints it. That
 *   command pages on its own and prints botocore's merged result (PageIterator.build_full_result
 *   with botocore/data/timestream-query/2018-11-01/paginators-1.json: result key Rows; from the
 *   first page ColumnInfo, QueryId, QueryStatus and QueryInsightsResponse, null when absent),
 *   as Python's json.dump with indent=4 writes it (a DOUBLE such as ProgressPercentage keeps ".0").
 */
import type { ColumnInfo, ColumnType, Datum, QueryResponse } from "../store/index.js";
import { datumText, renderTable } from "./output.js";

export const queryFormats = ["table", "csv", "json", "jsonl", "timestream"] as const;
export type QueryFormat = (typeof queryFormats)[number];

export interface QueryPrinter {
  /** Each page in order; the first one even when it has no rows (it names the columns). */
  page(page: QueryResponse): void;
  /** After the last page. */
  end(): void;
}

/** A column's type as Timestream writes it in SQL: `DOUBLE`, `array(BIGINT)`, `row(a VARCHAR)`, `timeseries(DOUBLE)`. */
export function typeText(type: ColumnType): string {
  if (type.ScalarType !== undefined) return type.ScalarType;
  if (type.ArrayColumnInfo !== undefined) return `array(${typeText(type.ArrayColumnInfo.Type)})`;
  if (type.TimeSeriesMeasureValueColumnInfo !== undefined)
    return `timeseries(${typeText(type.TimeSeriesMeasureValueColumnInfo.Type)})`;
  if (type.RowColumnInfo !== undefined)
    return `row(${type.RowColumnInfo.map((field, i) => `${fieldName(field, i)} ${typeText(field.Type)}`).join(", ")})`;
  return "UNKNOWN";
}

const fieldName = (column: ColumnInfo, index: number): string => column.Name ?? `field${index}`;

/**
 * A value as JSON data: NULL as null; BOOLEAN as true/false; INTEGER, DOUBLE and BIGINT as
 * numbers, except a BIGINT beyond ±(2^53 - 1) (a JSON reader would round it) and DOUBLE's NaN and
 * ±Infinity (JSON has no such numbers), which stay strings; arrays as arrays; rows as objects by
 * field name; timeseries as `[{"time","value"}]`; timestamps, dates, times, intervals and VARCHAR
 * as Timestream's text.
 */
export function jsonValue(datum: Datum, type: ColumnType): unknown {
  if (datum.NullValue) return null;
  if (datum.ArrayValue !== undefined) {
    const element = type.ArrayColumnInfo?.Type ?? {};
    return datum.ArrayValue.map((item) => jsonValue(item, element));
  }
  if (datum.TimeSeriesValue !== undefined) {
    const valueType = type.TimeSeriesMeasureValueColumnInfo?.Type ?? {};
    return datum.TimeSeriesValue.map((point) => ({
      time: point.Time,
      value: jsonValue(point.Value, valueType),
    }));
  }
  if (datum.RowValue !== undefined) {
    const fields = type.RowColumnInfo ?? [];
    return Object.fromEntries(
      datum.RowValue.Data.map((item, i) => {
        const field = fields[i];
        return [field === undefined ? `field${i}` : fieldName(field, i), jsonValue(item, field?.Type ?? {})];
      }),
    );
  }
  const text = datum.ScalarValue;
  if (text === undefined) return null;
  switch (type.ScalarType) {
    case "BOOLEAN":
      return text === "true";
    case "INTEGER":
    case "BIGINT": {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case "DOUBLE": {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    default:
      return text;
  }
}

function rowObjects(page: QueryResponse, columns: ColumnInfo[]): Record<string, unknown>[] {
  return page.Rows.map((row) =>
    Object.fromEntries(
      columns.map((column, i) => [column.Name ?? `_col${i}`, jsonValue(row.Data[i]!, column.Type)]),
    ),
  );
}

/** The key order botocore's merge gives: the result key first, then the non-aggregate keys. */
interface AwsCliQueryResult {
  Rows: QueryResponse["Rows"];
  ColumnInfo: ColumnInfo[];
  QueryId: string;
  QueryStatus: QueryResponse["QueryStatus"];
  QueryInsightsResponse: null;
}

/**
 * JSON as the AWS CLI writes it (Python's json.dump, indent 4). The one difference from
 * JSON.stringify here: botocore parses ProgressPercentage, a Double, as a Python float, printed
 * `100.0` where JavaScript prints `100`. Rows hold only strings and booleans.
 */
function awsCliJson(result: AwsCliQueryResult): string {
  return JSON.stringify(result, null, 4).replace(
    /^( {8}"ProgressPercentage": )(-?\d+)(,?)$/m,
    (_, key: string, whole: string, comma: string) => `${key}${whole}.0${comma}`,
  );
}

const csvField = (text: string): string => (/[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

export function createQueryPrinter(format: QueryFormat, write: (text: string) => void): QueryPrinter {
  let columns: ColumnInfo[] | null = null;
  switch (format) {
    case "table":
      return {
        page(page) {
          if (page.Rows.length === 0 && columns !== null) return;
          columns ??= page.ColumnInfo;
          const header = page.ColumnInfo.map((c) => c.Name ?? "");
          write(
            `${renderTable(
              header,
              page.Rows.map((r) => r.Data.map(datumText)),
            )}\n`,
          );
        },
        end() {},
      };
    case "csv":
      return {
        page(page) {
          const lines = page.Rows.map((r) => r.Data.map((d) => csvField(datumText(d))).join(","));
          if (columns === null) {
            columns = page.ColumnInfo;
            lines.unshift(columns.map((c) => csvField(c.Name ?? "")).join(","));
          }
          if (lines.length > 0) write(`${lines.join("\n")}\n`);
        },
        end() {},
      };
    case "jsonl":
      return {
        page(page) {
          columns ??= page.ColumnInfo;
          for (const row of rowObjects(page, columns)) write(`${JSON.stringify(row)}\n`);
        },
        end() {},
      };
    case "json": {
      // Streamed: the head with the first page, rows as they come, the tail at the end.
      let rows = 0;
      return {
        page(page) {
          if (columns === null) {
            columns = page.ColumnInfo;
            const described = columns.map((c, i) => ({ name: c.Name ?? `_col${i}`, type: typeText(c.Type) }));
            write(`{"columns":${JSON.stringify(described)},"rows":[`);
          }
          for (const row of rowObjects(page, columns)) {
            write(`${rows === 0 ? "\n" : ",\n"}${JSON.stringify(row)}`);
            rows += 1;
          }
        },
        end() {
          if (columns === null) return;
          write(rows === 0 ? "]}\n" : "\n]}\n");
        },
      };
    }
    case "timestream": {
      let merged: AwsCliQueryResult | null = null;
      return {
        page(page) {
          merged ??= {
            Rows: [],
            ColumnInfo: page.ColumnInfo,
            QueryId: page.QueryId,
            QueryStatus: page.QueryStatus,
            QueryInsightsResponse: null,
          };
          merged.Rows.push(...page.Rows);
        },
        end() {
          if (merged !== null) write(`${awsCliJson(merged)}\n`);
        },
      };
    }
  }
}

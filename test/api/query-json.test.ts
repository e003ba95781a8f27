/**
 * The Query operation writes its answer as text (src/api/aws/query-json.ts: the rows through plain
 * JSON.stringify, without toAwsJson's replacer). These tests hold it to the bytes the object path
 * gave (the answer's object through toAwsJson), on every column type, NULLs, arrays, rows, time
 * series, text that JSON escapes, and the seed's query over many pages.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toAwsJson } from "../../src/api/aws/protocol.js";
import { queryAnswerJson } from "../../src/api/aws/query-json.js";
import type { QueryResponse } from "../../src/store/types.js";
import { createSeedTable, openTestStore, record, type TestStore } from "../support/store.js";

const TABLE = '"airflow-db"."airflow-table"';
const NOW_S = Date.UTC(2021, 8, 22, 16, 0, 0) / 1000;

/** The answer as the object path wrote it (the members and order queryShape had). */
function objectAnswer(page: QueryResponse): string {
  return toAwsJson({
    QueryId: page.QueryId,
    Rows: page.Rows,
    ColumnInfo: page.ColumnInfo,
    ...(page.NextToken ? { NextToken: page.NextToken } : {}),
    QueryStatus: page.QueryStatus,
  });
}

/** Every page of a query, each written both ways. */
async function bothWays(t: TestStore, sql: string, maxRows?: number): Promise<[string[], string[]]> {
  const objects: string[] = [];
  const texts: string[] = [];
  const extra = maxRows === undefined ? {} : { MaxRows: maxRows };
  let page: QueryResponse = await t.store.query({ QueryString: sql, ...extra });
  for (;;) {
    objects.push(objectAnswer(page));
    texts.push(queryAnswerJson(page));
    if (!page.NextToken) break;
    page = await t.store.query({ QueryString: sql, NextToken: page.NextToken, ...extra });
  }
  return [objects, texts];
}

describe("Query answers written as JSON text", () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore();
    await createSeedTable(t.store);
    const records = [];
    for (let h = 0; h < 40; h++) {
      for (let k = 0; k < 60; k++) {
        records.push(
          record(
            { region: `r-${h % 3}`, instance_name: `host-${h}`, availability_zone: "az" },
            k % 2 ? "cpu_nice" : "counter",
            String(((h * 37 + k * 11) % 1000) / 7),
            NOW_S - 3600 + k * 15,
          ),
        );
      }
    }
    for (let i = 0; i < records.length; i += 100) {
      const result = await t.store.writeRecords({
        DatabaseName: "airflow-db",
        TableName: "airflow-table",
        Records: records.slice(i, i + 100),
      });
      assert.equal(result.rejected.length, 0);
    }
  });
  after(() => t.close());

  it("gives the object path's bytes on every scalar type, NULL and escaped text", async () => {
    const sql = `SELECT 1 AS i, CAST(5000000000 AS BIGINT) AS b, 1.5 AS d, CAST(2 AS DOUBLE) AS whole,
      CAST('NaN' AS DOUBLE) AS nan, true AS t, 'quote " back \\ tab	 é 😀' AS s, NULL AS n,
      CAST(NULL AS VARCHAR) AS ns, CAST(NULL AS DOUBLE) AS nd, TIMESTAMP '2021-09-22 12:00:00.123456789' AS ts,
      DATE '2021-09-22' AS day, 1d AS iv, time, measure_value::double AS v
      FROM ${TABLE} WHERE instance_name = 'host-1' ORDER BY time LIMIT 3`;
    const [objects, texts] = await bothWays(t, sql);
    assert.deepEqual(texts, objects);
    assert.match(texts[0]!, /"ScalarValue":"quote \\" back \\\\ tab\\t é 😀"/);
    assert.match(texts[0]!, /\{"NullValue":true\}/);
  });

  it("gives the object path's bytes on arrays, rows and time series (with NULLs inside)", async () => {
    const sql = `SELECT ARRAY[1, NULL, 3] AS arr, ARRAY['a"', NULL] AS strs, ROW(1, 'x', NULL) AS r,
      CAST(NULL AS ARRAY(INTEGER)) AS no_arr, instance_name,
      CREATE_TIME_SERIES(time, measure_value::double) AS ts
      FROM ${TABLE} WHERE measure_name = 'cpu_nice' GROUP BY instance_name ORDER BY instance_name`;
    const [objects, texts] = await bothWays(t, sql);
    assert.deepEqual(texts, objects);
    assert.match(texts[0]!, /"TimeSeriesValue":\[\{"Time":"/);
    assert.match(texts[0]!, /"ArrayValue":\[\{"ScalarValue":"1"\},\{"NullValue":true\}/);
    assert.match(texts[0]!, /"RowValue":\{"Data":\[/);
  });

  it("gives the object path's bytes and pages on the seed's query, paged by MaxRows and by size", async () => {
    const seed = `SELECT instance_name, BIN(time, 15s) AS binned_timestamp, ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization FROM ${TABLE} WHERE measure_name = 'cpu_nice' GROUP BY region, instance_name, availability_zone, BIN(time, 15s) ORDER BY binned_timestamp ASC, instance_name`;
    const [objects, texts] = await bothWays(t, seed, 97);
    assert.ok(texts.length > 5, `${texts.length} pages`);
    assert.deepEqual(texts, objects);
    const [wholeObjects, wholeTexts] = await bothWays(t, seed);
    assert.deepEqual(wholeTexts, wholeObjects);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CancelQueryCommand,
  DescribeEndpointsCommand,
  PrepareQueryCommand,
  QueryCommand,
  type QueryCommandOutput,
  ResourceNotFoundException,
  type TimestreamQueryClient,
  ValidationException,
} from "@aws-sdk/client-timestream-query";
import { type _Record as WriteRecord, WriteRecordsCommand } from "@aws-sdk/client-timestream-write";
import { buildModel, generateLoop, toSingleMeasureRecords } from "../../src/loadgen/index.js";
import { SEED_QUERY } from "../support/seed.js";
import { createSeedTable, queryAll, SEED_NOW_MS } from "../support/store.js";
import { failure, queryClient, startTestServer, type TestServer, writeClient } from "./helpers.js";

const NOW_S = SEED_NOW_MS / 1000;
const TABLE = `"airflow-db"."airflow-table"`;
/** Enough points for three pages of 1000 rows and a short fourth one. */
const POINTS = 3100;

type Datum = NonNullable<NonNullable<QueryCommandOutput["Rows"]>[number]["Data"]>[number];
const scalar = (d: Datum | undefined) => (d?.NullValue ? null : d?.ScalarValue);

describe("Timestream Query through @aws-sdk/client-timestream-query", () => {
  let t: TestServer;
  let client: TimestreamQueryClient;

  before(async () => {
    t = await startTestServer();
    client = queryClient(t.server.url);
    await createSeedTable(t.store);
    // The points go in through the SDK too, 100 records a call.
    const writer = writeClient(t.server.url);
    try {
      for (let start = 0; start < POINTS; start += 100) {
        const records: WriteRecord[] = [];
        for (let i = start; i < Math.min(start + 100, POINTS); i++) {
          records.push({
            Dimensions: [{ Name: "host", Value: `h-${i % 10}` }],
            MeasureName: "counter",
            MeasureValue: String(i),
            MeasureValueType: "BIGINT",
            Time: String((NOW_S - 2 * 3600 + i) * 1000),
            TimeUnit: "MILLISECONDS",
          });
        }
        await writer.send(
          new WriteRecordsCommand({
            DatabaseName: "airflow-db",
            TableName: "airflow-table",
            Records: records,
          }),
        );
      }
    } finally {
      writer.destroy();
    }
  });
  after(async () => {
    client.destroy();
    await t.close();
  });

  it("answers DescribeEndpoints (the Query client discovers its endpoint too)", async () => {
    const out = await client.send(new DescribeEndpointsCommand({}));
    assert.equal(out.Endpoints?.[0]?.Address, "127.0.0.1");
  });

  it("pages a result of more than 1000 rows with MaxRows and NextToken, in order and without gaps", async () => {
    const sql = `SELECT measure_value::bigint AS v FROM ${TABLE} WHERE measure_name = 'counter' ORDER BY time`;
    const values: number[] = [];
    const pageSizes: number[] = [];
    let token: string | undefined;
    let queryId: string | undefined;
    do {
      const page = await client.send(new QueryCommand({ QueryString: sql, MaxRows: 1000, NextToken: token }));
      pageSizes.push(page.Rows?.length ?? 0);
      for (const row of page.Rows ?? []) values.push(Number(scalar(row.Data?.[0])));
      queryId ??= page.QueryId;
      assert.equal(page.QueryId, queryId, "every page carries the same QueryId");
      assert.deepEqual(page.ColumnInfo, [{ Name: "v", Type: { ScalarType: "BIGINT" } }]);
      token = page.NextToken;
      if (token) assert.ok((page.QueryStatus?.ProgressPercentage ?? 100) < 100);
      else assert.equal(page.QueryStatus?.ProgressPercentage, 100);
    } while (token);
    assert.deepEqual(pageSizes, [1000, 1000, 1000, 100]);
    assert.deepEqual(
      values,
      Array.from({ length: POINTS }, (_, i) => i),
    );
  });

  it("describes columns with Timestream's types, nulls as NullValue, and timestamps with nanoseconds", async () => {
    const out = await client.send(
      new QueryCommand({
        QueryString: `SELECT host, time, measure_value::bigint AS v, CASE WHEN measure_value::bigint > 0 THEN host END AS maybe, count(*) OVER () AS n, measure_value::bigint > 5 AS big FROM ${TABLE} WHERE measure_name = 'counter' ORDER BY time LIMIT 1`,
      }),
    );
    assert.deepEqual(out.ColumnInfo, [
      { Name: "host", Type: { ScalarType: "VARCHAR" } },
      { Name: "time", Type: { ScalarType: "TIMESTAMP" } },
      { Name: "v", Type: { ScalarType: "BIGINT" } },
      { Name: "maybe", Type: { ScalarType: "VARCHAR" } },
      { Name: "n", Type: { ScalarType: "BIGINT" } },
      { Name: "big", Type: { ScalarType: "BOOLEAN" } },
    ]);
    assert.deepEqual(out.Rows?.[0]?.Data, [
      { ScalarValue: "h-0" },
      { ScalarValue: "2021-09-22 14:00:00.000000000" },
      { ScalarValue: "0" },
      { NullValue: true },
      { ScalarValue: String(POINTS) },
      { ScalarValue: "false" },
    ]);
    assert.equal(out.NextToken, undefined);
  });

  it("returns arrays and time series as the SDK's ArrayValue and TimeSeriesValue", async () => {
    const out = await client.send(
      new QueryCommand({
        QueryString: `SELECT ARRAY[1, 2] AS arr, CREATE_TIME_SERIES(time, measure_value::bigint) AS ts FROM ${TABLE} WHERE measure_name = 'counter' AND host = 'h-3' AND measure_value::bigint < 30`,
      }),
    );
    assert.equal(out.ColumnInfo?.[0]?.Type?.ArrayColumnInfo?.Type?.ScalarType, "INTEGER");
    assert.equal(out.ColumnInfo?.[1]?.Type?.TimeSeriesMeasureValueColumnInfo?.Type?.ScalarType, "BIGINT");
    const [arr, ts] = out.Rows?.[0]?.Data ?? [];
    assert.deepEqual(arr?.ArrayValue, [{ ScalarValue: "1" }, { ScalarValue: "2" }]);
    assert.deepEqual(
      ts?.TimeSeriesValue?.map((p) => p.Value?.ScalarValue),
      ["3", "13", "23"],
    );
    assert.equal(ts?.TimeSeriesValue?.[0]?.Time, "2021-09-22 14:00:03.000000000");
  });

  it("returns ColumnInfo and no rows for an empty result", async () => {
    const out = await client.send(
      new QueryCommand({ QueryString: `SELECT host FROM ${TABLE} WHERE measure_name = 'none'` }),
    );
    assert.deepEqual(out.ColumnInfo, [{ Name: "host", Type: { ScalarType: "VARCHAR" } }]);
    assert.deepEqual(out.Rows, []);
  });

  it("cancels a paged query: its NextToken stops working", async () => {
    const sql = `SELECT time FROM ${TABLE} ORDER BY time`;
    const first = await client.send(new QueryCommand({ QueryString: sql, MaxRows: 10 }));
    assert.ok(first.NextToken);
    const cancelled = await client.send(new CancelQueryCommand({ QueryId: first.QueryId }));
    assert.match(cancelled.CancellationMessage ?? "", /cancelled/);
    const err = await failure(
      client.send(new QueryCommand({ QueryString: sql, NextToken: first.NextToken })),
    );
    assert.ok(err instanceof ValidationException, `got ${err.name}`);
    assert.match(err.message, /NextToken/);
  });

  it("prepares a query: its columns and types, without parameters", async () => {
    const out = await client.send(
      new PrepareQueryCommand({ QueryString: `SELECT host, measure_value::bigint AS v FROM ${TABLE}` }),
    );
    assert.deepEqual(
      out.Columns?.map((c) => [c.Name, c.Type?.ScalarType]),
      [
        ["host", "VARCHAR"],
        ["v", "BIGINT"],
      ],
    );
    assert.deepEqual(out.Parameters, []);
  });

  it("runs the seed's query verbatim and returns what the store returns", async () => {
    // The WORKLOAD model's metrics for 13:00:00 to 13:00:50, written straight to the store (the
    // SDK path for writes is covered above; here the query path is what is tested).
    const model = buildModel({ hostScale: 1 });
    const start = Date.UTC(2021, 8, 22, 13, 0, 0) / 1000;
    for (let loop = 0; loop < 6; loop++) {
      const records = toSingleMeasureRecords(generateLoop(model, start + loop * 10)).filter(
        (r) => r.MeasureName === "cpu_nice",
      );
      const result = await t.store.writeRecords(
        { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
        { maxRecords: records.length },
      );
      assert.deepEqual(result.rejected, []);
    }
    const expected = await queryAll(t.store, SEED_QUERY);
    const rows: (string | null | undefined)[][] = [];
    let token: string | undefined;
    let columns: string[] = [];
    do {
      const page = await client.send(new QueryCommand({ QueryString: SEED_QUERY, NextToken: token }));
      columns = (page.ColumnInfo ?? []).map((c) => c.Name ?? "");
      for (const row of page.Rows ?? []) rows.push((row.Data ?? []).map(scalar));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(columns, expected.columns);
    // 60 (region, instance, zone) groups in each of four 15 s bins.
    assert.equal(rows.length, 240);
    // Rows inside one bin may come in any order: compare as sorted sets.
    const sorted = (list: unknown[][]) => list.map((r) => JSON.stringify(r)).sort();
    assert.deepEqual(sorted(rows), sorted(expected.rows));
  });

  it("refuses bad queries with the SDK's named exceptions", async () => {
    const syntax = await failure(client.send(new QueryCommand({ QueryString: "SELEC 1" })));
    assert.ok(syntax instanceof ValidationException, `got ${syntax.name}`);
    assert.match(syntax.message, /SELEC/);

    const unknown = await failure(
      client.send(new QueryCommand({ QueryString: `SELECT 1 FROM "airflow-db"."nope"` })),
    );
    assert.ok(unknown instanceof ResourceNotFoundException, `got ${unknown.name}`);

    const rows = await failure(client.send(new QueryCommand({ QueryString: "SELECT 1", MaxRows: 1001 })));
    assert.ok(rows instanceof ValidationException, `got ${rows.name}`);
    assert.match(rows.message, /MaxRows/);

    const token = await failure(
      client.send(new QueryCommand({ QueryString: "SELECT 1", NextToken: "made-up" })),
    );
    assert.ok(token instanceof ValidationException, `got ${token.name}`);
  });
});

/**
 * `hourglass query --format json|jsonl|timestream` from the real binary: JSON data (numbers as
 * numbers, a BIGINT past 2^53 as text, timeseries and arrays as JSON, NULL as null), one document
 * even for one row, and the same bytes whether the CLI runs the query itself (no server) or asks a
 * running server.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { resolveConfig } from "../../src/config.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import { TimestreamStore } from "../../src/store/index.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

const T0 = Date.UTC(2026, 11, 7, 15, 48, 0);
// One row: a timeseries, an array, a BIGINT beyond 2^53, a NULL, a count, a DOUBLE and a timestamp.
const ONE_ROW = `SELECT host, CREATE_TIME_SERIES(time, measure_value::double) AS series, ARRAY[1, 2] AS arr, 9007199254740993 AS big, CAST(NULL AS VARCHAR) AS nothing, count(*) AS n, max(measure_value::double) AS top, max(time) AS last FROM "hg-db"."cpu" GROUP BY host`;
const MANY_ROWS = `SELECT time, measure_value::double AS v FROM "hg-db"."cpu" ORDER BY time`;

describe("hourglass query: JSON formats", () => {
  let state: string;
  let runtime: HourglassRuntime | null = null;
  const cli = (args: string[]) => runCli(["--state-dir", state, ...args]);
  const query = async (format: string, sql: string, extra: string[] = []) => {
    const result = await cli(["query", sql, "--format", format, ...extra]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  /** Every format's output of both queries (the timestream one paged by 2 rows). */
  const allOutputs = async (parallel: boolean) => {
    const calls = [
      () => query("json", ONE_ROW),
      () => query("jsonl", ONE_ROW),
      () => query("timestream", ONE_ROW),
      () => query("json", MANY_ROWS, ["--max-rows", "2"]),
      () => query("timestream", MANY_ROWS, ["--max-rows", "2"]),
    ];
    // Without a server each CLI opens the store file itself, and DuckDB lets one process at a time.
    const outputs: string[] = [];
    if (parallel) outputs.push(...(await Promise.all(calls.map((call) => call()))));
    else for (const call of calls) outputs.push(await call());
    const [json, jsonl, timestream, pagedJson, pagedTimestream] = outputs as [
      string,
      string,
      string,
      string,
      string,
    ];
    return { json, jsonl, timestream, pagedJson, pagedTimestream };
  };
  let inProcess: Awaited<ReturnType<typeof allOutputs>>;

  before(async () => {
    state = tempDir("hg-query-json-");
    // The data is written in-process (the CLI's own write is tested elsewhere): each CLI start costs seconds.
    const store = await TimestreamStore.open({ dir: state, sweepIntervalMs: 0 });
    try {
      await store.createDatabase("hg-db");
      await store.createTable({
        DatabaseName: "hg-db",
        TableName: "cpu",
        MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
      });
      const result = await store.writeRecords({
        DatabaseName: "hg-db",
        TableName: "cpu",
        Records: [0.71, 0.5, 1].map((value, i) => ({
          Dimensions: [{ Name: "host", Value: "h-1" }],
          MeasureName: "cpu",
          MeasureValue: String(value),
          Time: String(T0 + i * 1000),
        })),
      });
      assert.deepEqual(result.rejected, []);
    } finally {
      await store.close();
    }
    inProcess = await allOutputs(false);
  });
  after(async () => {
    await runtime?.stop();
    fs.rmSync(state, { recursive: true, force: true });
  });

  it("json: one document with typed columns and rows as JSON data, even for one row", () => {
    assert.deepEqual(JSON.parse(inProcess.json), {
      columns: [
        { name: "host", type: "VARCHAR" },
        { name: "series", type: "timeseries(DOUBLE)" },
        { name: "arr", type: "array(INTEGER)" },
        { name: "big", type: "BIGINT" },
        { name: "nothing", type: "VARCHAR" },
        { name: "n", type: "BIGINT" },
        { name: "top", type: "DOUBLE" },
        { name: "last", type: "TIMESTAMP" },
      ],
      rows: [
        {
          host: "h-1",
          series: [
            { time: "2026-12-07 15:48:00.000000000", value: 0.71 },
            { time: "2026-12-07 15:48:01.000000000", value: 0.5 },
            { time: "2026-12-07 15:48:02.000000000", value: 1 },
          ],
          arr: [1, 2],
          big: "9007199254740993",
          nothing: null,
          n: 3,
          top: 1,
          last: "2026-12-07 15:48:02.000000000",
        },
      ],
    });
  });

  it("json: rows of every page in one document", () => {
    const document = JSON.parse(inProcess.pagedJson) as { rows: unknown[] };
    assert.deepEqual(document.rows, [
      { time: "2026-12-07 15:48:00.000000000", v: 0.71 },
      { time: "2026-12-07 15:48:01.000000000", v: 0.5 },
      { time: "2026-12-07 15:48:02.000000000", v: 1 },
    ]);
  });

  it("jsonl: one row object a line, the same values as json", () => {
    const lines = inProcess.jsonl.split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]!), (JSON.parse(inProcess.json) as { rows: unknown[] }).rows[0]);
  });

  it("timestream: the Query API's shapes, pages merged as the AWS CLI merges them", () => {
    const one = JSON.parse(inProcess.timestream);
    assert.deepEqual(Object.keys(one), [
      "Rows",
      "ColumnInfo",
      "QueryId",
      "QueryStatus",
      "QueryInsightsResponse",
    ]);
    assert.match(inProcess.timestream, /^\{\n {4}"Rows": \[/);
    // Python's json.dump prints the Double as a float.
    assert.match(inProcess.timestream, /\n {8}"ProgressPercentage": 100\.0,\n/);
    assert.equal(one.QueryInsightsResponse, null);
    const [host, series, arr, big, nothing] = one.Rows[0].Data;
    assert.deepEqual(host, { ScalarValue: "h-1" });
    assert.deepEqual(series.TimeSeriesValue[0], {
      Time: "2026-12-07 15:48:00.000000000",
      Value: { ScalarValue: "0.71" },
    });
    assert.deepEqual(arr, { ArrayValue: [{ ScalarValue: "1" }, { ScalarValue: "2" }] });
    assert.deepEqual(big, { ScalarValue: "9007199254740993" });
    assert.deepEqual(nothing, { NullValue: true });
    assert.deepEqual(one.ColumnInfo[1], {
      Name: "series",
      Type: { TimeSeriesMeasureValueColumnInfo: { Type: { ScalarType: "DOUBLE" } } },
    });

    const paged = JSON.parse(inProcess.pagedTimestream);
    assert.deepEqual(
      paged.Rows.map((r: { Data: Array<{ ScalarValue: string }> }) => r.Data[1]!.ScalarValue),
      ["0.71", "0.5", "1.0"],
    );
    assert.equal(paged.NextToken, undefined);
  });

  it("prints the same through a running server as in-process", async () => {
    const config = resolveConfig({ flags: { stateDir: state, port: 0 }, env: {}, cwd: state });
    runtime = await startHourglass(config, { workers: 0, scheduler: false });
    const remote = await allOutputs(true);
    const withoutQueryId = (text: string) => text.replace(/"QueryId": "[^"]*"/, '"QueryId": "…"');
    assert.equal(remote.json, inProcess.json);
    assert.equal(remote.jsonl, inProcess.jsonl);
    assert.equal(remote.pagedJson, inProcess.pagedJson);
    assert.equal(withoutQueryId(remote.timestream), withoutQueryId(inProcess.timestream));
    assert.equal(withoutQueryId(remote.pagedTimestream), withoutQueryId(inProcess.pagedTimestream));
  });

  it("documents the formats and the BIGINT rule in --help", async () => {
    const help = await cli(["query", "--help"]);
    assert.equal(help.code, 0);
    for (const format of ["table", "csv", "json", "jsonl", "timestream"])
      assert.match(help.stdout, new RegExp(`"${format}"`));
    assert.match(help.stdout, /a BIGINT beyond ±9007199254740991 \(2\^53 - 1/);
  });
});

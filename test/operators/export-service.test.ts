/**
 * The export service against a real store and lake: formats, compression, empty results, bad
 * requests, and concurrent exports to one key.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { isHourglassError } from "../../src/errors.js";
import { createExportService, type ExportManifest, type ExportService } from "../../src/operators/index.js";
import { queryAll, tempDir } from "../support/store.js";
import {
  BUCKET,
  exportRequest,
  leftoverTemps,
  type OperatorEnv,
  openOperatorEnv,
  writeSeries,
} from "./helpers.js";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
const EMPTY_QUERY = `SELECT instance_name, time FROM "airflow-db"."airflow-table" WHERE time >= '2021-09-22 15:00:00+00:00' AND time < '2021-09-22 16:00:00+00:00'`;

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isHourglassError(error), `a HourglassError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe("the export service", () => {
  let env: OperatorEnv;
  let service: ExportService;
  let plainCsv: string;

  before(async () => {
    env = await openOperatorEnv();
    await writeSeries(env.store, 50, 4); // 200 points, 13:00:00 to 13:01:30
    service = createExportService({ store: env.store, lake: env.lake, clockMs: () => 0 });
    const written = await service.exportToLake(exportRequest({ key: "plain/out.csv" }));
    assert.equal(written.rows, 200);
    plainCsv = text(await env.lake.getObject(BUCKET, "plain/out.csv"));
  });
  after(async () => {
    await env.close();
  });

  it("writes CSV with a header and no index column by default", async () => {
    const lines = plainCsv.trimEnd().split("\n");
    assert.equal(lines[0], "instance_name,time,value");
    assert.equal(lines[1], "i-00000,2021-09-22 13:00:00,0.0");
    assert.equal(lines.length, 201);
    // DuckDB writes the header (its PREFIX) and ends the file with its SUFFIX: one newline, as pandas.
    assert.ok(plainCsv.endsWith("\n") && !plainCsv.endsWith("\n\n"), "the last row ends with one newline");
    assert.equal(plainCsv.split("\n").length, 202);
  });

  it("quotes header names as pandas does, whatever they hold (commas, quotes, newlines, SQL quotes)", async () => {
    const result = await service.exportToLake(
      exportRequest({
        key: "names/out.csv",
        indexColumn: true,
        query: `SELECT instance_name AS "a,b", measure_value::double AS "say ""hi""", 1 AS "it's", 2 AS "back\\slash", 3 AS "two
lines" FROM "airflow-db"."airflow-table" WHERE time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 14:00:00+00:00' ORDER BY time, instance_name`,
      }),
    );
    assert.equal(result.rows, 200);
    const csv = text(await env.lake.getObject(BUCKET, "names/out.csv"));
    const header = ',"a,b","say ""hi""",it\'s,back\\slash,"two\nlines"\n';
    assert.ok(csv.startsWith(`${header}0,i-00000,0.0,1,2,3\n1,`), JSON.stringify(csv.slice(0, 120)));
    assert.ok(csv.endsWith(",1,2,3\n") && !csv.endsWith("\n\n"));
    const manifest = JSON.parse(
      text(await env.lake.getObject(BUCKET, result.manifestKey!)),
    ) as ExportManifest;
    assert.deepEqual(manifest.columns, ["a,b", 'say "hi"', "it's", "back\\slash", "two\nlines"]);
  });

  it("without a header: the rows alone, and header-only of an empty result is an empty file", async () => {
    await service.exportToLake(exportRequest({ key: "noheader/out.csv", header: false }));
    const csv = text(await env.lake.getObject(BUCKET, "noheader/out.csv"));
    assert.equal(csv, plainCsv.slice(plainCsv.indexOf("\n") + 1));
    const empty = await service.exportToLake(
      exportRequest({
        query: EMPTY_QUERY,
        key: "noheader/empty.csv",
        header: false,
        emptyResult: "header-only",
      }),
    );
    assert.deepEqual([empty.written, empty.rows, empty.bytes], [true, 0, 0]);
    assert.equal(empty.sha256, sha256(new Uint8Array()));
    assert.equal((await env.lake.getObject(BUCKET, "noheader/empty.csv")).byteLength, 0);
  });

  it("header-only gzip: the header alone once gunzipped", async () => {
    const result = await service.exportToLake(
      exportRequest({
        query: EMPTY_QUERY,
        key: "empty/header.csv.gz",
        gzip: true,
        emptyResult: "header-only",
      }),
    );
    const zipped = await env.lake.getObject(BUCKET, "empty/header.csv.gz");
    assert.equal(result.sha256, sha256(zipped));
    assert.equal(text(gunzipSync(zipped)), "instance_name,time\n");
  });

  it("writes gzip CSV: the same bytes once gunzipped, and says so in the manifest", async () => {
    const result = await service.exportToLake(exportRequest({ key: "gz/out.csv.gz", gzip: true }));
    const zipped = await env.lake.getObject(BUCKET, "gz/out.csv.gz");
    assert.equal(zipped[0], 0x1f);
    assert.equal(zipped[1], 0x8b);
    assert.equal(result.sha256, sha256(zipped));
    assert.equal(text(gunzipSync(zipped)), plainCsv);
    const manifest = JSON.parse(
      text(await env.lake.getObject(BUCKET, result.manifestKey!)),
    ) as ExportManifest;
    assert.equal(manifest.compression, "gzip");
    assert.equal((await env.lake.headObject(BUCKET, "gz/out.csv.gz"))?.contentType, "application/gzip");
  });

  it("writes parquet that DuckDB reads back with the query's rows and column names", async () => {
    const result = await service.exportToLake(
      exportRequest({ key: "pq/out.parquet", format: "parquet", gzip: true }),
    );
    assert.equal(result.rows, 200);
    const dir = tempDir("hg-parquet-");
    const file = path.join(dir, "out.parquet");
    fs.writeFileSync(file, await env.lake.getObject(BUCKET, "pq/out.parquet"));
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT instance_name, strftime(time, '%Y-%m-%d %H:%M:%S') AS time, value FROM read_parquet('${file}')`,
      );
      assert.deepEqual(reader.columnNames(), ["instance_name", "time", "value"]);
      const fromParquet = reader.getRowsJS().map((row) => row.map(String).join(","));
      const fromQuery = (await queryAll(env.store, exportRequest().query)).rows.map((row) =>
        [row[0], row[1]!.replace(/\.0+$/, ""), Number(row[2])].join(","),
      );
      assert.deepEqual(fromParquet, fromQuery);
    } finally {
      connection.closeSync();
      instance.closeSync();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const manifest = JSON.parse(
      text(await env.lake.getObject(BUCKET, result.manifestKey!)),
    ) as ExportManifest;
    assert.equal(manifest.format, "parquet");
    assert.equal(manifest.header, false);
  });

  it("writes the pandas index column when asked, counting from 0", async () => {
    await service.exportToLake(exportRequest({ key: "idx/out.csv", indexColumn: true }));
    const lines = text(await env.lake.getObject(BUCKET, "idx/out.csv"))
      .trimEnd()
      .split("\n");
    assert.equal(lines[0], ",instance_name,time,value");
    for (const [i, line] of lines.slice(1).entries()) assert.ok(line.startsWith(`${i},`), line);
  });

  describe("an empty result", () => {
    it("skip: writes nothing and says why in the note", async () => {
      const result = await service.exportToLake(exportRequest({ query: EMPTY_QUERY, key: "empty/skip.csv" }));
      assert.deepEqual(
        {
          written: result.written,
          rows: result.rows,
          bytes: result.bytes,
          sha256: result.sha256,
          manifestKey: result.manifestKey,
        },
        { written: false, rows: 0, bytes: 0, sha256: null, manifestKey: null },
      );
      assert.match(
        result.note!,
        /the query returned no rows for s3:\/\/demo-airflow-ts-output\/empty\/skip.csv \(interval \[2021-09-22T13:00:00\+00:00, 2021-09-22T14:00:00\+00:00\)\): nothing written \(emptyResult "skip"\)$/,
      );
      assert.equal(await env.lake.headObject(BUCKET, "empty/skip.csv"), null);
      assert.deepEqual(leftoverTemps(env.lakeDir), []);
    });

    it("skip over an earlier run's file: leaves it, and the note says so", async () => {
      await service.exportToLake(exportRequest({ key: "empty/earlier.csv" }));
      const result = await service.exportToLake(
        exportRequest({ query: EMPTY_QUERY, key: "empty/earlier.csv" }),
      );
      assert.equal(result.written, false);
      assert.match(result.note!, /left as it was/);
      assert.equal(text(await env.lake.getObject(BUCKET, "empty/earlier.csv")), plainCsv);
    });

    it("header-only: commits a file holding only the header, with its manifest", async () => {
      const result = await service.exportToLake(
        exportRequest({
          query: EMPTY_QUERY,
          key: "empty/header.csv",
          emptyResult: "header-only",
          indexColumn: true,
        }),
      );
      assert.equal(result.written, true);
      assert.equal(result.rows, 0);
      assert.equal(text(await env.lake.getObject(BUCKET, "empty/header.csv")), ",instance_name,time\n");
      const manifest = JSON.parse(
        text(await env.lake.getObject(BUCKET, "empty/header.csv.manifest.json")),
      ) as ExportManifest;
      assert.equal(manifest.rows, 0);
      assert.deepEqual(manifest.columns, ["instance_name", "time"]);
    });

    it("fail: a ValidationError naming the target and the interval, and nothing written", async () => {
      await rejects(
        service.exportToLake(
          exportRequest({ query: EMPTY_QUERY, key: "empty/fail.csv", emptyResult: "fail" }),
        ),
        "ValidationError",
        /^the query returned no rows for s3:\/\/demo-airflow-ts-output\/empty\/fail.csv \(interval \[2021-09-22T13:00:00\+00:00, 2021-09-22T14:00:00\+00:00\)\)$/,
      );
      assert.equal(await env.lake.headObject(BUCKET, "empty/fail.csv"), null);
      assert.deepEqual(leftoverTemps(env.lakeDir), []);
    });
  });

  describe("bad requests", () => {
    it("a format other than csv or parquet", async () => {
      await rejects(
        service.exportToLake(exportRequest({ format: "xlsx" })),
        "ValidationError",
        /^invalid export request: format: Invalid option: expected one of "csv"\|"parquet"/,
      );
    });
    it("an unknown empty-result policy", async () => {
      await rejects(
        service.exportToLake(exportRequest({ emptyResult: "ignore" })),
        "ValidationError",
        /emptyResult: Invalid option/,
      );
    });
    it("a bucket that does not exist: NotFound naming it", async () => {
      await rejects(
        service.exportToLake(exportRequest({ bucket: "no-such-bucket" })),
        "NotFound",
        /bucket no-such-bucket does not exist/,
      );
    });
    it("an invalid bucket name", async () => {
      await rejects(
        service.exportToLake(exportRequest({ bucket: "Bad_Bucket" })),
        "ValidationError",
        /invalid bucket name "Bad_Bucket"/,
      );
    });
    it("a key that would escape the bucket", async () => {
      await rejects(
        service.exportToLake(exportRequest({ key: "../x" })),
        "ValidationError",
        /invalid object key "\.\.\/x": it contains a \.\. segment/,
      );
      await rejects(
        service.exportToLake(exportRequest({ key: "a/../../x" })),
        "ValidationError",
        /\.\. segment/,
      );
      await rejects(
        service.exportToLake(exportRequest({ key: "/etc/passwd" })),
        "ValidationError",
        /starts with \//,
      );
    });
    it("a key naming a folder", async () => {
      await rejects(
        service.exportToLake(exportRequest({ key: "2021-09-22-13/" })),
        "ValidationError",
        /names a folder/,
      );
    });
    it("a query with a syntax error: the message has its line and column", async () => {
      await rejects(
        service.exportToLake(
          exportRequest({ query: 'SELECT instance_name\nFROM "airflow-db"."airflow-table"\nWHERE time >' }),
        ),
        "ValidationError",
        /line 3, column \d+/,
      );
      assert.deepEqual(leftoverTemps(env.lakeDir), []);
    });
    it("a query that fails while it runs (a failed cast): a ValidationError, nothing left behind", async () => {
      await rejects(
        service.exportToLake(
          exportRequest({
            query: 'SELECT CAST(instance_name AS DOUBLE) AS x FROM "airflow-db"."airflow-table"',
          }),
        ),
        "ValidationError",
        /^query failed: Conversion Error: Could not convert string 'i-00000' to DOUBLE/,
      );
      assert.deepEqual(leftoverTemps(env.lakeDir), []);
    });
    it("a table that does not exist", async () => {
      await rejects(
        service.exportToLake(exportRequest({ query: 'SELECT * FROM "airflow-db"."no-table"' })),
        "NotFound",
        /Table 'airflow-db.no-table' does not exist/,
      );
    });
    it("header or indexColumn with parquet", async () => {
      await rejects(
        service.exportToLake(exportRequest({ format: "parquet", indexColumn: true })),
        "ValidationError",
        /header and indexColumn apply to CSV exports only/,
      );
    });
    it("missing provenance, an empty query, unknown fields", async () => {
      await rejects(
        service.exportToLake(exportRequest({ provenance: undefined })),
        "ValidationError",
        /provenance: Invalid input/,
      );
      await rejects(
        service.exportToLake(exportRequest({ query: "  " })),
        "ValidationError",
        /query: the query is empty/,
      );
      await rejects(
        service.exportToLake(exportRequest({ compression: "zstd" })),
        "ValidationError",
        /Unrecognized key: "compression"/,
      );
    });
  });

  it("concurrent exports to one key: last commit wins, the file and its manifest always match", async () => {
    const key = "race/out.csv";
    const runs = Array.from({ length: 6 }, (_, i) =>
      service.exportToLake(
        exportRequest({
          key,
          query: `SELECT ${i} AS export_no, instance_name, time FROM "airflow-db"."airflow-table" WHERE time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 14:00:00+00:00' ORDER BY time, instance_name`,
          provenance: { ...exportRequest().provenance, tryNumber: i + 1 },
        }),
      ),
    );
    const results = await Promise.all(runs);
    assert.equal(new Set(results.map((r) => r.sha256)).size, 6, "six different files");
    const data = await env.lake.getObject(BUCKET, key);
    const manifest = JSON.parse(
      text(await env.lake.getObject(BUCKET, `${key}.manifest.json`)),
    ) as ExportManifest;
    assert.equal(manifest.sha256, sha256(data), "the manifest describes the file that is there");
    const exportNo = Number(text(data).split("\n")[1]!.split(",")[0]);
    assert.equal(manifest.tryNumber, exportNo + 1);
    assert.ok(results.some((r) => r.sha256 === manifest.sha256));
    assert.equal(text(data).trimEnd().split("\n").length, 201, "whole: header and every row");
    assert.deepEqual(leftoverTemps(env.lakeDir), []);
  });
});

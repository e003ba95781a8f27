/**
 * UNLOAD on a real store and a real local lake: the files, manifest and metadata Timestream writes,
 * read back (CSV through the lake, Parquet with DuckDB's read_parquet) and compared with the same
 * SELECT's rows; and every refused input, with nothing left in the lake.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { HourglassError } from "../../src/errors.js";
import { type Lake, openLocalLake } from "../../src/lake/index.js";
import { TimestreamStore } from "../../src/store/index.js";
import { queryAll, record, SEED_NOW_MS, tempDir } from "../support/store.js";
import { listKeys, parseCsv, readManifest } from "../support/unload.js";

const nowS = SEED_NOW_MS / 1000;
const SELECT = `SELECT hostname, measure_value::double AS v, time, region FROM "db1x"."tab1" WHERE measure_name = 'cpu'`;

describe("UNLOAD on the store and the local lake", () => {
  let dir: string;
  let store: TimestreamStore;
  let lake: Lake;

  before(async () => {
    dir = tempDir("hg-unload-");
    lake = openLocalLake(path.join(dir, "lake"));
    store = await TimestreamStore.open({
      dir,
      clockMs: () => SEED_NOW_MS,
      sweepIntervalMs: 0,
      threads: 2,
      lake,
    });
    await store.createDatabase("db1x");
    await store.createTable({ DatabaseName: "db1x", TableName: "tab1" });
    const records = [];
    for (let i = 0; i < 90; i++) {
      const region = ["us-east-1", "eu-west-1", "ap south/1"][i % 3]!;
      const hostname = i === 4 ? 'host "quoted", with\\backslash' : `host-${i}`;
      records.push(
        record({ hostname, region }, "cpu", String(i * 0.5), nowS - 600 + i, { TimeUnit: "SECONDS" }),
      );
    }
    for (let i = 0; i < records.length; i += 30) {
      await store.writeRecords({
        DatabaseName: "db1x",
        TableName: "tab1",
        Records: records.slice(i, i + 30),
      });
    }
    await lake.createBucket("exports");
  });

  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function unload(sql: string): Promise<{ rows: number; metadata: string; manifest: string }> {
    const response = await store.query({ QueryString: sql });
    assert.deepEqual(
      response.ColumnInfo.map((c) => [c.Name, c.Type.ScalarType]),
      [
        ["rows", "BIGINT"],
        ["metadataFile", "VARCHAR"],
        ["manifestFile", "VARCHAR"],
      ],
    );
    assert.equal(response.Rows.length, 1);
    assert.equal(response.NextToken, undefined);
    const [rows, metadata, manifest] = response.Rows[0]!.Data.map((d) => d.ScalarValue!);
    return { rows: Number(rows), metadata: metadata!, manifest: manifest! };
  }

  it("writes gzip CSV by default: results/, a manifest and a metadata file, rows equal to the SELECT's", async () => {
    const expected = await queryAll(store, `${SELECT} ORDER BY time`);
    const out = await unload(
      `UNLOAD (${SELECT} ORDER BY time) TO 's3://exports/plain' WITH (include_header = 'true')`,
    );
    assert.equal(out.rows, 90);
    assert.match(out.manifest, /^s3:\/\/exports\/plain\/AEB[0-9A-F]+_[0-9a-f-]{36}_manifest\.json$/);
    assert.match(out.metadata, /^s3:\/\/exports\/plain\/AEB[0-9A-F]+_[0-9a-f-]{36}_metadata\.json$/);
    const manifest = await readManifest(lake, out.manifest);
    assert.equal(manifest.result_files.length, 1);
    const file = manifest.result_files[0]!;
    assert.match(file.url, /^s3:\/\/exports\/plain\/results\/AEB[0-9A-F]+_[0-9a-f-]{36}\.gz$/);
    assert.equal(file.file_metadata.row_count, 90);
    assert.deepEqual(manifest.query_metadata, {
      total_content_length_in_bytes: file.file_metadata.content_length_in_bytes,
      content_length_in_bytes: file.file_metadata.content_length_in_bytes,
      total_row_count: 90,
      result_format: "CSV",
      result_version: "Amazon Timestream version 1.0.0",
    });
    assert.deepEqual(manifest.author, { name: "Amazon Timestream", manifest_file_version: "1.0" });
    const bytes = await lake.getObject("exports", file.url.slice("s3://exports/".length));
    assert.equal(bytes.length, file.file_metadata.content_length_in_bytes);
    const rows = parseCsv(gunzipSync(bytes).toString("utf8"), { delimiter: ",", escape: "\\" });
    assert.deepEqual(rows[0], ["hostname", "v", "time", "region"]);
    assert.deepEqual(rows.slice(1), expected.rows);
    const metadata = JSON.parse(
      Buffer.from(await lake.getObject("exports", out.metadata.slice("s3://exports/".length))).toString(),
    );
    assert.deepEqual(metadata, {
      ColumnInfo: [
        { Name: "hostname", Type: { ScalarType: "VARCHAR" } },
        { Name: "v", Type: { ScalarType: "DOUBLE" } },
        { Name: "time", Type: { ScalarType: "TIMESTAMP" } },
        { Name: "region", Type: { ScalarType: "VARCHAR" } },
      ],
      Author: { Name: "Amazon Timestream", MetadataFileVersion: "1.0" },
    });
    // Exactly the files named, and nothing else (no staging left in the bucket).
    assert.deepEqual(
      (await listKeys(lake, "exports", "plain/")).sort(),
      [file.url, out.manifest, out.metadata].map((u) => u.slice("s3://exports/".length)).sort(),
    );
  });

  it("partitions CSV into results/region=value/ folders without the partition column, with another delimiter", async () => {
    const out = await unload(
      `UNLOAD (${SELECT}) TO 's3://exports/by-region/' WITH (partitioned_by = ARRAY['region'], compression = 'NONE', field_delimiter = '|')`,
    );
    assert.equal(out.rows, 90);
    const manifest = await readManifest(lake, out.manifest);
    const folders = manifest.result_files.map((f) => /\/results\/([^/]+)\//.exec(f.url)![1]).sort();
    // '/' in a value is percent-encoded so that one value stays one folder; spaces stay.
    assert.deepEqual(folders, ["region=ap south%2F1", "region=eu-west-1", "region=us-east-1"]);
    const expected = await queryAll(store, SELECT);
    const got: (string | null)[][] = [];
    for (const f of manifest.result_files) {
      assert.match(f.url, /\.csv$/);
      const region = decodeURIComponent(/region=([^/]+)\//.exec(f.url)![1]!);
      const rows = parseCsv(
        Buffer.from(await lake.getObject("exports", f.url.slice("s3://exports/".length))).toString(),
        { delimiter: "|", escape: "\\" },
      );
      assert.equal(rows.length, f.file_metadata.row_count);
      for (const row of rows) {
        assert.equal(row.length, 3);
        got.push([...row, region]);
      }
    }
    assert.deepEqual(sortRows(got), sortRows(expected.rows));
  });

  for (const [how, extra] of [
    ["written at once", ""],
    ["through the size-splitting pass", ", max_file_size = '16MB', compression = 'NONE'"],
  ]) {
    it(`writes Parquet that DuckDB's read_parquet reads back as the SELECT's rows, partitioned (${how})`, async () => {
      const out = await unload(
        `UNLOAD (SELECT hostname, measure_value::double AS v, time, region FROM "db1x"."tab1") TO 's3://exports/pq-${extra.length}/' WITH (format = 'PARQUET', partitioned_by = ARRAY['region']${extra})`,
      );
      assert.equal(out.rows, 90);
      const manifest = await readManifest(lake, out.manifest);
      assert.equal(manifest.query_metadata.result_format, "PARQUET");
      const duck = await DuckDBInstance.create(":memory:");
      const connection = await duck.connect();
      await connection.run("SET TimeZone = 'UTC'");
      const got: (string | null)[][] = [];
      for (const f of manifest.result_files) {
        assert.match(f.url, /\/results\/region=[^/]+\/AEB[0-9A-F]+_[0-9a-f-]{36}\.parquet$/);
        const local = path.join(dir, "lake", "exports", f.url.slice("s3://exports/".length));
        const region = decodeURIComponent(/region=([^/]+)\//.exec(f.url)![1]!);
        const reader = await connection.runAndReadAll(
          `SELECT hostname, CAST(v AS VARCHAR), strftime(time, '%Y-%m-%d %H:%M:%S.%n') FROM read_parquet('${local}')`,
        );
        const columns = await connection.runAndReadAll(`SELECT name FROM parquet_schema('${local}')`);
        assert.deepEqual(
          columns.getRowsJson().map((r) => r[0]),
          ["duckdb_schema", "hostname", "v", "time"],
          "the partition column is in the folder name, not in the file",
        );
        assert.equal(reader.getRows().length, f.file_metadata.row_count);
        for (const row of reader.getRowsJson()) got.push([...(row as string[]), region]);
      }
      connection.closeSync();
      const expected = await queryAll(
        store,
        `SELECT hostname, CAST(measure_value::double AS VARCHAR), time, region FROM "db1x"."tab1"`,
      );
      assert.deepEqual(sortRows(got), sortRows(expected.rows));
    });
  }

  it("splits a result larger than max_file_size into several files, each with its header, counted per file", async () => {
    const pad = "x".repeat(80);
    const select = `SELECT a.x, b.y, '${pad}' AS pad FROM UNNEST(sequence(1, 1000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 300)) AS b(y) ORDER BY a.x, b.y`;
    const out = await unload(
      `UNLOAD (${select}) TO 's3://exports/split/' WITH (compression = 'NONE', max_file_size = '16MB', include_header = 'true')`,
    );
    assert.equal(out.rows, 300_000);
    const manifest = await readManifest(lake, out.manifest);
    assert.ok(manifest.result_files.length >= 2, `${manifest.result_files.length} files`);
    // DuckDB's size-rotating writer is parallel: the rows are all there, not in the SELECT's order.
    const got: string[] = [];
    for (const f of manifest.result_files) {
      // DuckDB closes a file once it has passed the size: "approximately" the size, as documented.
      assert.ok(
        f.file_metadata.content_length_in_bytes < 17 * 1024 * 1024,
        String(f.file_metadata.content_length_in_bytes),
      );
      const rows = parseCsv(
        Buffer.from(await lake.getObject("exports", f.url.slice("s3://exports/".length))).toString(),
        { delimiter: ",", escape: "\\" },
      );
      assert.deepEqual(rows[0], ["x", "y", "pad"], "every file has the header");
      assert.equal(rows.length - 1, f.file_metadata.row_count);
      for (const row of rows.slice(1)) {
        assert.equal(row[2], pad);
        got.push(`${row[0]},${row[1]}`);
      }
    }
    assert.equal(got.length, 300_000);
    assert.equal(new Set(got).size, 300_000);
    assert.ok(got.every((r) => /^([1-9]\d{0,2}|1000),([1-9]\d?|[12]\d\d|300)$/.test(r)));
  });

  it("refuses bad input with a ValidationError naming it, before anything is written", async () => {
    const cases: [string, RegExp][] = [
      [
        `UNLOAD (${SELECT}) TO 's3://no-such-bucket/x/'`,
        /bucket 'no-such-bucket' does not exist: create it first/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (format = 'JSON')`,
        /format must be 'CSV' or 'PARQUET', got 'JSON'/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (compression = 'ZSTD')`,
        /compression must be 'GZIP' or 'NONE'/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (partitioned_by = ARRAY['nope'])`,
        /partitioned_by names 'nope', which is not a column of the SELECT \(its columns are 'hostname', 'v', 'time', 'region'\)/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (partitioned_by = ARRAY['hostname'])`,
        /must be the last columns of the SELECT, in the same order: end the select list with hostname/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (max_file_size = '10KB')`,
        /max_file_size must be a size from 16MB to 78GB/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (max_file_size = '100GB')`,
        /max_file_size must be a size from 16MB to 78GB/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (include_header = 'yes')`,
        /include_header must be 'TRUE' or 'FALSE'/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (field_delimiter = ';;')`,
        /field_delimiter must be one ASCII character/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (format = 'PARQUET', include_header = 'true')`,
        /include_header applies to format 'CSV' only/,
      ],
      [`UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (encryption = 'SSE_KMS')`, /SSE_KMS' is not supported/],
      [`UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (colour = 'red')`, /unknown UNLOAD option 'colour'/],
      [`UNLOAD (${SELECT}) TO 's3://exports/x/' WITH (format = 'CSV', format = 'CSV')`, /given twice/],
      [
        `UNLOAD (${SELECT}) TO '/tmp/out/'`,
        /TO must be an S3 URL such as 's3:\/\/bucket-name\/folder\/', got '\/tmp\/out\/'/,
      ],
      [`UNLOAD (${SELECT}) TO 'file:///etc/'`, /TO must be an S3 URL/],
      [`UNLOAD (${SELECT}) TO 's3://exports/a/../b/'`, /contains a \.\. segment/],
      [`UNLOAD (${SELECT}) TO 's3://Bad_Bucket/x/'`, /invalid bucket name/],
      [`SELECT * FROM (UNLOAD (${SELECT}) TO 's3://exports/x/')`, /UNLOAD must be the whole statement/],
      [
        `WITH a AS (SELECT 1) UNLOAD (SELECT * FROM a) TO 's3://exports/x/'`,
        /UNLOAD must be the whole statement/,
      ],
      [
        `UNLOAD (UNLOAD (${SELECT}) TO 's3://exports/y/') TO 's3://exports/x/'`,
        /UNLOAD must be the whole statement/,
      ],
      [`UNLOAD (${SELECT}) TO 's3://exports/x/'; SELECT 1`, /only one statement/],
      [`UNLOAD (SELECT nope FROM "db1x"."tab1") TO 's3://exports/x/'`, /nope/],
      [
        `UNLOAD (SELECT 'r' AS region) TO 's3://exports/x/' WITH (partitioned_by = ARRAY['region'])`,
        /every column of the SELECT is a partition column/,
      ],
      [
        `UNLOAD (SELECT 1 AS v, 'café' AS p) TO 's3://exports/x/' WITH (partitioned_by = ARRAY['p'])`,
        /the partition column 'p' has the value 'café', which is not ASCII/,
      ],
      [`UNLOAD (SELECT 1 AS v) TO 's3://exports/x//y/'`, /has an empty or '\.' segment/],
    ];
    for (const [sql, message] of cases) {
      await assert.rejects(
        store.query({ QueryString: sql }),
        (error: unknown) =>
          error instanceof HourglassError && error.code === "ValidationError" && message.test(error.message),
        sql,
      );
    }
    assert.deepEqual(await listKeys(lake, "exports", "x/"), []);
    assert.deepEqual(await listKeys(lake, "exports", "b/"), []);
  });

  it("writes one file for an empty result, and a NULL partition value as __HIVE_DEFAULT_PARTITION__", async () => {
    const empty = await unload(
      `UNLOAD (${SELECT} AND hostname = 'nobody') TO 's3://exports/empty/' WITH (include_header = 'true', compression = 'NONE')`,
    );
    assert.equal(empty.rows, 0);
    const manifest = await readManifest(lake, empty.manifest);
    assert.equal(manifest.result_files.length, 1);
    assert.equal(manifest.result_files[0]!.file_metadata.row_count, 0);
    const text = Buffer.from(
      await lake.getObject("exports", manifest.result_files[0]!.url.slice("s3://exports/".length)),
    ).toString();
    assert.equal(text, '"hostname",v,time,"region"\n');

    const nulls = await unload(
      `UNLOAD (SELECT 1 AS v, CAST(NULL AS VARCHAR) AS p UNION ALL SELECT 2, 'x') TO 's3://exports/nulls/' WITH (partitioned_by = ARRAY['p'])`,
    );
    assert.equal(nulls.rows, 2);
    const folders = (await readManifest(lake, nulls.manifest)).result_files
      .map((f) => /results\/([^/]+)\//.exec(f.url)![1])
      .sort();
    assert.deepEqual(folders, ["p=__HIVE_DEFAULT_PARTITION__", "p=x"]);
  });

  it("refuses more than 100 partitions and leaves nothing behind", async () => {
    await assert.rejects(
      store.query({
        QueryString: `UNLOAD (SELECT measure_value::double AS v, hostname, n.k FROM "db1x"."tab1" CROSS JOIN (VALUES 1, 2) AS n(k)) TO 's3://exports/many/' WITH (partitioned_by = ARRAY['hostname', 'k'])`,
      }),
      /makes 180 partitions; Timestream's limit is 100 per UNLOAD/,
    );
    assert.deepEqual(await listKeys(lake, "exports", "many/"), []);
  });

  it("obeys the query time limit: stopped, with nothing published and no staging left", async () => {
    const limited = await TimestreamStore.open({
      dir: path.join(dir, "limited"),
      clockMs: () => SEED_NOW_MS,
      sweepIntervalMs: 0,
      threads: 2,
      limits: { timeoutMs: 1000 },
      lake,
    });
    try {
      const endless =
        "SELECT count(*) AS n FROM UNNEST(sequence(1, 10000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 10000)) AS b(y) CROSS JOIN UNNEST(sequence(1, 10000)) AS c(z)";
      await assert.rejects(
        limited.query({ QueryString: `UNLOAD (${endless}) TO 's3://exports/slow/'` }),
        (error: unknown) =>
          error instanceof HourglassError &&
          /longer than the time limit of 1 s/.test(error.message) &&
          error.context["limit"] === "queryTimeoutSeconds",
      );
      assert.deepEqual(await listKeys(lake, "exports", "slow/"), []);
      const temp = path.join(dir, "lake", ".tmp");
      const left = fs.existsSync(temp) ? fs.readdirSync(temp).filter((n) => !n.startsWith("meta-")) : [];
      assert.deepEqual(left, [], "the staging folder is removed");
    } finally {
      await limited.close();
    }
  });

  it("is refused where a query's result is written elsewhere (exports)", async () => {
    await assert.rejects(
      store.exportQuery({
        query: `UNLOAD (${SELECT}) TO 's3://exports/x/'`,
        path: path.join(dir, "never.csv"),
        format: "csv",
      }),
      /UNLOAD cannot be used in an export/,
    );
  });
});

function sortRows(rows: (string | null)[][]): (string | null)[][] {
  return [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

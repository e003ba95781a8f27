/**
 * UNLOAD through the official clients on a real server: the AWS SDK for JavaScript v3
 * (TimestreamQueryClient's QueryCommand, S3Client to read the manifest) and boto3 (`python3`). The
 * files are read back (CSV through the lake and through S3, Parquet with DuckDB's read_parquet) and
 * compared with the same SELECT's rows, paged through the Query API.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { PrepareQueryCommand, QueryCommand, type QueryCommandOutput } from "@aws-sdk/client-timestream-query";
import { WriteRecordsCommand } from "@aws-sdk/client-timestream-write";
import { DuckDBInstance } from "@duckdb/node-api";
import { SEED_NOW_MS } from "../support/store.js";
import { parseCsv, readManifest, splitS3Url } from "../support/unload.js";
import { credentials, queryClient, writeClient } from "./helpers.js";
import { type S3TestServer, s3Client, startS3TestServer } from "./s3-helpers.js";

const nowS = SEED_NOW_MS / 1000;
const SELECT = `SELECT hostname, measure_value::double AS cpu, time, region FROM "sdk-db"."sdk-table"`;

/** boto3 as `python3` on PATH has it (the brief's current boto3); Debian's may lack it here. */
const PYTHON = "python3";
const probe = spawnSync(PYTHON, ["-c", "import boto3"], { encoding: "utf8" });
const noBoto3 =
  probe.status === 0 ? false : `${PYTHON} has no boto3 (${(probe.stderr || "").trim().split("\n").at(-1)})`;

describe("UNLOAD through the AWS SDK for JavaScript v3 and boto3", () => {
  let t: S3TestServer;

  before(async () => {
    t = await startS3TestServer();
    await t.store.createDatabase("sdk-db");
    await t.store.createTable({ DatabaseName: "sdk-db", TableName: "sdk-table" });
    const write = writeClient(t.server.url);
    for (let batch = 0; batch < 3; batch++) {
      await write.send(
        new WriteRecordsCommand({
          DatabaseName: "sdk-db",
          TableName: "sdk-table",
          CommonAttributes: { MeasureName: "cpu", MeasureValueType: "DOUBLE", TimeUnit: "SECONDS" },
          Records: Array.from({ length: 100 }, (_, i) => {
            const n = batch * 100 + i;
            return {
              Dimensions: [
                { Name: "hostname", Value: n === 7 ? 'odd "host", name' : `host-${n % 40}` },
                { Name: "region", Value: ["us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"][n % 4]! },
              ],
              MeasureValue: String(n / 4),
              Time: String(nowS - 3600 + n),
            };
          }),
        }),
      );
    }
    await t.lake.createBucket("sdk-exports");
  });

  after(async () => {
    await t?.close();
  });

  /** Every row of a query, paged as the SDK pages. */
  async function selectRows(sql: string): Promise<(string | null)[][]> {
    const client = queryClient(t.server.url);
    const rows: (string | null)[][] = [];
    let token: string | undefined;
    do {
      const page: QueryCommandOutput = await client.send(
        new QueryCommand({ QueryString: sql, MaxRows: 100, NextToken: token }),
      );
      for (const row of page.Rows ?? [])
        rows.push(row.Data!.map((d) => (d.NullValue ? null : d.ScalarValue!)));
      token = page.NextToken;
    } while (token);
    return rows;
  }

  async function unload(sql: string): Promise<{ rows: number; metadata: string; manifest: string }> {
    const out = await queryClient(t.server.url).send(new QueryCommand({ QueryString: sql }));
    assert.deepEqual(
      out.ColumnInfo?.map((c) => [c.Name, c.Type?.ScalarType]),
      [
        ["rows", "BIGINT"],
        ["metadataFile", "VARCHAR"],
        ["manifestFile", "VARCHAR"],
      ],
    );
    assert.equal(out.NextToken, undefined);
    const [rows, metadata, manifest] = out.Rows![0]!.Data!.map((d) => d.ScalarValue!);
    return { rows: Number(rows), metadata: metadata!, manifest: manifest! };
  }

  it("unloads gzip CSV partitioned by region; the manifest read over S3 names files that hold the SELECT's rows", async () => {
    const out = await unload(
      `UNLOAD (${SELECT}) TO 's3://sdk-exports/csv/' WITH (partitioned_by = ARRAY['region'], format = 'CSV', compression = 'GZIP')`,
    );
    assert.equal(out.rows, 300);
    const s3 = s3Client(t.server.url);
    const [bucket, key] = splitS3Url(out.manifest);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const manifest = JSON.parse(await got.Body!.transformToString()) as Awaited<
      ReturnType<typeof readManifest>
    >;
    assert.equal(manifest.query_metadata.total_row_count, 300);
    assert.equal(manifest.result_files.length, 4);
    const rows: (string | null)[][] = [];
    for (const file of manifest.result_files) {
      const region = /\/results\/region=([^/]+)\//.exec(file.url)![1]!;
      const [b, k] = splitS3Url(file.url);
      const text = gunzipSync(await t.lake.getObject(b, k)).toString("utf8");
      const fileRows = parseCsv(text, { delimiter: ",", escape: "\\" });
      assert.equal(fileRows.length, file.file_metadata.row_count);
      for (const row of fileRows) rows.push([...row, region]);
    }
    assert.deepEqual(sortRows(rows), sortRows(await selectRows(SELECT)));
  });

  it("unloads Parquet that read_parquet reads back as the SELECT's rows", async () => {
    const out = await unload(
      `UNLOAD (${SELECT} WHERE region = 'eu-west-1') TO 's3://sdk-exports/parquet/' WITH (format = 'PARQUET')`,
    );
    assert.equal(out.rows, 75);
    const manifest = await readManifest(t.lake, out.manifest);
    assert.equal(manifest.result_files.length, 1);
    const [, key] = splitS3Url(manifest.result_files[0]!.url);
    assert.match(key, /^parquet\/results\/AEB[0-9A-F]+_[0-9a-f-]{36}\.parquet$/);
    const duck = await DuckDBInstance.create(":memory:");
    const connection = await duck.connect();
    const reader = await connection.runAndReadAll(
      `SELECT hostname, CAST(cpu AS VARCHAR), strftime(time, '%Y-%m-%d %H:%M:%S.%n'), region FROM read_parquet('${path.join(t.lakeDir, "sdk-exports", key)}')`,
    );
    connection.closeSync();
    const expected = await selectRows(
      `SELECT hostname, CAST(measure_value::double AS VARCHAR), time, region FROM "sdk-db"."sdk-table" WHERE region = 'eu-west-1'`,
    );
    assert.deepEqual(sortRows(reader.getRowsJson() as string[][]), sortRows(expected));
  });

  it("runs an UNLOAD once for a ClientToken sent again (an SDK retry), and PrepareQuery refuses UNLOAD", async () => {
    const client = queryClient(t.server.url);
    const sql = `UNLOAD (${SELECT}) TO 's3://sdk-exports/retried/'`;
    const first = await client.send(new QueryCommand({ QueryString: sql, ClientToken: "retry-token-1" }));
    const again = await client.send(new QueryCommand({ QueryString: sql, ClientToken: "retry-token-1" }));
    assert.deepEqual(again.Rows, first.Rows);
    const manifests = (await t.lake.listObjects("sdk-exports", { prefix: "retried/" })).objects.filter((o) =>
      o.key.endsWith("_manifest.json"),
    );
    assert.equal(manifests.length, 1);
    const other = await client.send(new QueryCommand({ QueryString: sql, ClientToken: "retry-token-2" }));
    assert.notDeepEqual(other.Rows, first.Rows, "another token is another UNLOAD");
    await assert.rejects(
      client.send(new PrepareQueryCommand({ QueryString: sql })),
      (error: Error) =>
        error.name === "ValidationException" && /PrepareQuery takes a SELECT/.test(error.message),
    );
  });

  it("answers bad input with ValidationException and a message that says what to change", async () => {
    const client = queryClient(t.server.url);
    const cases: [string, RegExp][] = [
      [`UNLOAD (${SELECT}) TO 's3://missing-bucket/x/'`, /bucket 'missing-bucket' does not exist/],
      [
        `UNLOAD (${SELECT}) TO 's3://sdk-exports/x/' WITH (format = 'AVRO')`,
        /format must be 'CSV' or 'PARQUET'/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://sdk-exports/x/' WITH (partitioned_by = ARRAY['zone'])`,
        /partitioned_by names 'zone', which is not a column of the SELECT/,
      ],
      [
        `UNLOAD (${SELECT}) TO 's3://sdk-exports/x/' WITH (max_file_size = '1TB')`,
        /max_file_size must be a size/,
      ],
      [`UNLOAD (${SELECT}) TO 'gs://sdk-exports/x/'`, /TO must be an S3 URL/],
      [`SELECT * FROM (UNLOAD (${SELECT}) TO 's3://sdk-exports/x/')`, /UNLOAD must be the whole statement/],
    ];
    for (const [sql, message] of cases) {
      await assert.rejects(
        client.send(new QueryCommand({ QueryString: sql })),
        (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(error.name, "ValidationException", sql);
          assert.equal(error.$metadata?.httpStatusCode, 400);
          assert.match(error.message, message, sql);
          return true;
        },
      );
    }
    assert.deepEqual((await t.lake.listObjects("sdk-exports", { prefix: "x/" })).objects, []);
  });

  it("works from boto3: UNLOAD, then the manifest and the CSV files through boto3's S3 client", {
    skip: noBoto3,
  }, async () => {
    const script = String.raw`
import csv, gzip, io, json, sys
import boto3
endpoint, key, secret, select = sys.argv[1:5]
common = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
query = boto3.client("timestream-query", **common)
s3 = boto3.client("s3", **common)
unload = query.query(QueryString="UNLOAD (" + select + ") TO 's3://sdk-exports/boto/' WITH (partitioned_by = ARRAY['region'], include_header = 'true')")
names = [c["Name"] for c in unload["ColumnInfo"]]
result = dict(zip(names, [d["ScalarValue"] for d in unload["Rows"][0]["Data"]]))
def get(url):
    bucket, _, key = url[len("s3://"):].partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
manifest = json.loads(get(result["manifestFile"]))
metadata = json.loads(get(result["metadataFile"]))
rows = []
for f in manifest["result_files"]:
    region = f["url"].split("/results/region=")[1].split("/")[0]
    text = gzip.decompress(get(f["url"])).decode("utf-8")
    reader = csv.reader(io.StringIO(text), escapechar="\\", doublequote=False)
    header = next(reader)
    rows += [row + [region] for row in reader]
paginator = query.get_paginator("query")
expected = [[d.get("ScalarValue") for d in r["Data"]] for page in paginator.paginate(QueryString=select, PaginationConfig={"PageSize": 100}) for r in page["Rows"]]
print(json.dumps({"rows": result["rows"], "header": header, "columns": [c["Name"] for c in metadata["ColumnInfo"]],
                  "got": sorted(rows), "expected": sorted(expected)}))
`;
    const { stdout } = await promisify(execFile)(
      PYTHON,
      ["-c", script, t.server.url, credentials.accessKeyId, credentials.secretAccessKey, SELECT],
      { timeout: 120_000 },
    );
    const out = JSON.parse(stdout) as {
      rows: string;
      header: string[];
      columns: string[];
      got: string[][];
      expected: string[][];
    };
    assert.equal(out.rows, "300");
    assert.deepEqual(out.header, ["hostname", "cpu", "time"]);
    assert.deepEqual(out.columns, ["hostname", "cpu", "time", "region"]);
    assert.equal(out.got.length, 300);
    assert.deepEqual(out.got, out.expected);
  });
});

function sortRows<T>(rows: T[][]): T[][] {
  return [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { SEED_NOW_MS } from "../support/store.js";
import { credentials, startTestServer, type TestServer } from "./helpers.js";

/** Debian's Python, whose boto3 (1.26) speaks JSON 1.0/1.1 over HTTP/1.1; the first python3 on PATH is another build. */
const PYTHON = "/usr/bin/python3";
const probe = spawnSync(PYTHON, ["-c", "import boto3"], { encoding: "utf8" });
const skipReason =
  probe.status === 0
    ? false
    : `${PYTHON} has no boto3 (${(probe.stderr || probe.error?.message || "").trim().split("\n").at(-1)}); install Debian's python3-boto3 to run this test`;
if (skipReason) console.log(`# skipping the boto3 test: ${skipReason}`);

const SCRIPT = String.raw`
import json, sys
import boto3
from botocore.config import Config

endpoint, key, secret, now_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
common = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
              aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
write = boto3.client("timestream-write", **common)
query = boto3.client("timestream-query", **common)
kinesis = boto3.client("kinesis", **common)
out = {}

out["database"] = write.create_database(DatabaseName="boto-db")["Database"]["DatabaseName"]
write.create_table(DatabaseName="boto-db", TableName="boto-table",
                   RetentionProperties={"MemoryStoreRetentionPeriodInHours": 24, "MagneticStoreRetentionPeriodInDays": 1})
records = [{"Dimensions": [{"Name": "host", "Value": "h-%d" % i}], "MeasureName": "cpu",
            "MeasureValue": str(i * 1.5), "MeasureValueType": "DOUBLE",
            "Time": str(now_s - 60), "TimeUnit": "SECONDS"} for i in range(5)]
out["ingested"] = write.write_records(DatabaseName="boto-db", TableName="boto-table", Records=records)["RecordsIngested"]

try:
    write.write_records(DatabaseName="boto-db", TableName="boto-table",
                        Records=[dict(records[0], MeasureValue="oops")])
except write.exceptions.RejectedRecordsException as e:
    out["rejected"] = e.response["RejectedRecords"]

try:
    write.describe_table(DatabaseName="boto-db", TableName="missing")
except write.exceptions.ResourceNotFoundException as e:
    out["not_found"] = e.response["Error"]["Code"]

result = query.query(QueryString='SELECT host, measure_value::double AS v FROM "boto-db"."boto-table" ORDER BY host', MaxRows=2)
rows = [[d["ScalarValue"] for d in r["Data"]] for r in result["Rows"]]
while "NextToken" in result:
    result = query.query(QueryString='SELECT host, measure_value::double AS v FROM "boto-db"."boto-table" ORDER BY host',
                         MaxRows=2, NextToken=result["NextToken"])
    rows += [[d["ScalarValue"] for d in r["Data"]] for r in result["Rows"]]
out["rows"] = rows
out["columns"] = [[c["Name"], c["Type"]["ScalarType"]] for c in result["ColumnInfo"]]
out["created"] = write.describe_database(DatabaseName="boto-db")["Database"]["CreationTime"].timestamp()

kinesis.create_stream(StreamName="boto-stream", ShardCount=1)
put = kinesis.put_record(StreamName="boto-stream", Data=b"\x00hello\xff", PartitionKey="k")
iterator = kinesis.get_shard_iterator(StreamName="boto-stream", ShardId=put["ShardId"],
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
got = kinesis.get_records(ShardIterator=iterator)["Records"]
out["kinesis"] = [list(r["Data"]) for r in got]
print(json.dumps(out))
`;

describe("Debian's boto3 against the AWS-compatible endpoints", { skip: skipReason }, () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t?.close();
  });

  it("creates a database and table, writes records, queries them with paging, and uses Kinesis", async () => {
    const { stdout } = await promisify(execFile)(
      PYTHON,
      [
        "-c",
        SCRIPT,
        t.server.url,
        credentials.accessKeyId,
        credentials.secretAccessKey,
        String(SEED_NOW_MS / 1000),
      ],
      { timeout: 60_000 },
    );
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(out["database"], "boto-db");
    assert.deepEqual(out["ingested"], { Total: 5, MemoryStore: 5, MagneticStore: 0 });
    assert.deepEqual(
      (out["rejected"] as { RecordIndex: number }[]).map((r) => r.RecordIndex),
      [0],
    );
    assert.equal(out["not_found"], "ResourceNotFoundException");
    assert.deepEqual(out["rows"], [
      ["h-0", "0.0"],
      ["h-1", "1.5"],
      ["h-2", "3.0"],
      ["h-3", "4.5"],
      ["h-4", "6.0"],
    ]);
    assert.deepEqual(out["columns"], [
      ["host", "VARCHAR"],
      ["v", "DOUBLE"],
    ]);
    assert.equal(out["created"], SEED_NOW_MS / 1000);
    assert.deepEqual(out["kinesis"], [[0, 104, 101, 108, 108, 111, 255]]);
  });
});

/**
 * Query paging as Timestream's: a token per page, the latest token good again (the same rows),
 * earlier tokens and another query's tokens refused. Read through the clients users page with:
 * the SDK for JavaScript v3's paginator, boto3's paginator (Debian's 1.26 and the current one on
 * PATH) and the AWS CLI, which pages by default. Every row is compared with the native result.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { paginateQuery, QueryCommand } from "@aws-sdk/client-timestream-query";
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  WriteRecordsCommand,
} from "@aws-sdk/client-timestream-write";
import type { Datum } from "../../src/store/types.js";
import {
  credentials,
  failure,
  queryClient,
  startTestServer,
  type TestServer,
  writeClient,
} from "./helpers.js";

const run = promisify(execFile);
const ROWS = 2_500;
const SQL = 'SELECT host, measure_value::bigint AS v FROM "paging-db"."paging-table" ORDER BY v';

function pythonWithBoto3(python: string): string | false {
  const probe = spawnSync(python, ["-c", "import boto3; print(boto3.__version__)"], { encoding: "utf8" });
  return probe.status === 0 ? false : `${python} has no boto3`;
}
const debianSkip = pythonWithBoto3("/usr/bin/python3");
const currentSkip = pythonWithBoto3("python3");
const cliSkip = spawnSync("aws", ["--version"]).status === 0 ? false : "the AWS CLI (aws) is not on PATH";
for (const reason of [debianSkip, currentSkip, cliSkip]) if (reason) console.log(`# skipping: ${reason}`);

const PAGINATE = `
import json, sys, boto3
from botocore.config import Config
q = boto3.client("timestream-query", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4],
                 config=Config(retries={"max_attempts": 1}))
rows, tokens = [], []
for page in q.get_paginator("query").paginate(QueryString=sys.argv[2], PaginationConfig={"PageSize": 100}):
    rows += [[d["ScalarValue"] for d in r["Data"]] for r in page["Rows"]]
    if "NextToken" in page: tokens.append(page["NextToken"])
print(json.dumps({"rows": rows, "tokens": tokens}))
`;

describe("Query paging through AWS clients", () => {
  let t: TestServer;
  let expected: string[][];
  before(async () => {
    t = await startTestServer({ nowMs: Date.now() });
    const write = writeClient(t.server.url);
    await write.send(new CreateDatabaseCommand({ DatabaseName: "paging-db" }));
    await write.send(
      new CreateTableCommand({
        DatabaseName: "paging-db",
        TableName: "paging-table",
        RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
      }),
    );
    const now = Date.now();
    for (let start = 0; start < ROWS; start += 100) {
      await write.send(
        new WriteRecordsCommand({
          DatabaseName: "paging-db",
          TableName: "paging-table",
          Records: Array.from({ length: 100 }, (_, i) => ({
            Dimensions: [{ Name: "host", Value: `h-${start + i}` }],
            MeasureName: "n",
            MeasureValue: String(start + i),
            MeasureValueType: "BIGINT",
            Time: String(now - 60_000),
            TimeUnit: "MILLISECONDS",
          })),
        }),
      );
    }
    // The native result, in one page, straight from the store.
    const native = await t.store.query({ QueryString: SQL });
    assert.equal(native.NextToken, undefined);
    expected = native.Rows.map((r) => r.Data.map((d: Datum) => String(d.ScalarValue)));
    assert.equal(expected.length, ROWS);
  });
  after(() => t.close());

  it("gives every page a token of its own through the JS SDK's paginator", async () => {
    const client = queryClient(t.server.url);
    const rows: string[][] = [];
    const tokens = new Set<string>();
    for await (const page of paginateQuery({ client, pageSize: 100 }, { QueryString: SQL })) {
      rows.push(...(page.Rows ?? []).map((r) => (r.Data ?? []).map((d) => String(d.ScalarValue))));
      if (page.NextToken) {
        assert.ok(!tokens.has(page.NextToken), "a token repeats");
        tokens.add(page.NextToken);
      }
    }
    assert.equal(tokens.size, ROWS / 100 - 1);
    assert.deepEqual(rows, expected);
  });

  it("answers the latest token again with the same rows, then refuses the tokens before it", async () => {
    const client = queryClient(t.server.url);
    const first = await client.send(new QueryCommand({ QueryString: SQL, MaxRows: 100 }));
    const second = await client.send(
      new QueryCommand({ QueryString: SQL, MaxRows: 100, NextToken: first.NextToken }),
    );
    const again = await client.send(
      new QueryCommand({ QueryString: SQL, MaxRows: 100, NextToken: first.NextToken }),
    );
    assert.deepEqual(again.Rows, second.Rows);
    assert.equal(again.NextToken, second.NextToken);
    assert.notEqual(second.NextToken, first.NextToken);
    await client.send(new QueryCommand({ QueryString: SQL, MaxRows: 100, NextToken: second.NextToken }));
    const stale = await failure(
      client.send(new QueryCommand({ QueryString: SQL, MaxRows: 100, NextToken: first.NextToken })),
    );
    assert.equal(stale.name, "ValidationException");
    assert.match(stale.message, /no longer valid: a later token of this query was used/);
  });

  it("refuses a token with another query, a token used six times, and text it never handed out", async () => {
    const client = queryClient(t.server.url);
    const first = await client.send(new QueryCommand({ QueryString: SQL, MaxRows: 10 }));
    const other = await failure(
      client.send(new QueryCommand({ QueryString: `${SQL} DESC`, MaxRows: 10, NextToken: first.NextToken })),
    );
    assert.match(other.message, /belongs to another query/);
    for (let use = 1; use <= 5; use++) {
      await client.send(new QueryCommand({ QueryString: SQL, MaxRows: 10, NextToken: first.NextToken }));
    }
    const sixth = await failure(
      client.send(new QueryCommand({ QueryString: SQL, MaxRows: 10, NextToken: first.NextToken })),
    );
    assert.match(sixth.message, /used 5 times/);
    const forged = await failure(
      client.send(new QueryCommand({ QueryString: SQL, NextToken: "bm90IGEgdG9rZW4" })),
    );
    assert.equal(forged.name, "ValidationException");
    assert.match(forged.message, /invalid or has expired/);
  });

  for (const [label, python, skip] of [
    ["Debian's boto3", "/usr/bin/python3", debianSkip],
    ["the current boto3", "python3", currentSkip],
  ] as const) {
    it(`pages through ${label}'s paginator, every row equal`, { skip }, async () => {
      const { stdout } = await run(
        python,
        ["-c", PAGINATE, t.server.url, SQL, credentials.accessKeyId, credentials.secretAccessKey],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const out = JSON.parse(stdout) as { rows: string[][]; tokens: string[] };
      assert.equal(new Set(out.tokens).size, out.tokens.length);
      assert.deepEqual(out.rows, expected);
    });
  }

  it("pages through the AWS CLI, which pages by default", { skip: cliSkip }, async () => {
    const { stdout } = await run(
      "aws",
      [
        "timestream-query",
        "query",
        "--endpoint-url",
        t.server.url,
        "--region",
        "us-east-1",
        "--query-string",
        SQL,
        "--page-size",
        "100",
        "--output",
        "json",
      ],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const answer = JSON.parse(stdout) as { Rows: { Data: { ScalarValue: string }[] }[] };
    assert.deepEqual(
      answer.Rows.map((r) => r.Data.map((d) => d.ScalarValue)),
      expected,
    );
  });
});

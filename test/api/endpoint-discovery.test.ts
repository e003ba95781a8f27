/**
 * Timestream clients that discover their endpoint (DescribeEndpoints) before each call: the SDK for
 * JavaScript v3 with an endpoint provider, and botocore (boto3 and the AWS CLI) with the endpoint
 * set by environment or profile, the ways current botocore prefers. Before, botocore called
 * https://127.0.0.1 after discovery and every call failed.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  DescribeEndpointsCommand,
  QueryCommand,
  TimestreamQueryClient,
} from "@aws-sdk/client-timestream-query";
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  ListDatabasesCommand,
  TimestreamWriteClient,
  WriteRecordsCommand,
} from "@aws-sdk/client-timestream-write";
import { tempDir } from "../support/store.js";
import { credentials, startTestServer, type TestServer } from "./helpers.js";

const run = promisify(execFile);

/** The python3 on PATH must have a botocore that reads AWS_ENDPOINT_URL (1.31 and later). */
const probe = spawnSync(
  "python3",
  [
    "-c",
    "import botocore; v = tuple(int(x) for x in botocore.__version__.split('.')[:2]); print(botocore.__version__); assert v >= (1, 31)",
  ],
  { encoding: "utf8" },
);
const botoSkip =
  probe.status === 0
    ? false
    : `python3 on PATH has no botocore 1.31 or later (${(probe.stdout || probe.stderr || probe.error?.message || "").trim().split("\n").at(-1)})`;
if (botoSkip) console.log(`# skipping the botocore discovery tests: ${botoSkip}`);
const awsCli = spawnSync("aws", ["--version"], { encoding: "utf8" });
const cliSkip = awsCli.status === 0 ? false : "the AWS CLI (aws) is not on PATH";
if (cliSkip) console.log(`# skipping the AWS CLI discovery test: ${cliSkip}`);

const SCRIPT = `
import json, sys, boto3
from botocore.config import Config
cfg = Config(retries={"max_attempts": 1})
write = boto3.client("timestream-write", region_name="us-east-1", config=cfg)
query = boto3.client("timestream-query", region_name="us-east-1", config=cfg)
out = {}
out["databases"] = [d["DatabaseName"] for d in write.list_databases()["Databases"]]
out["rows"] = [r["Data"][0]["ScalarValue"] for r in query.query(QueryString=sys.argv[1])["Rows"]]
print(json.dumps(out))
`;

describe("endpoint discovery", () => {
  let t: TestServer;
  let dir: string;
  const countQuery = 'SELECT count(*) FROM "disc-db"."disc-table"';
  before(async () => {
    t = await startTestServer({ nowMs: Date.now() });
    dir = tempDir("hg-discovery-");
    const write = new TimestreamWriteClient({ region: "us-east-1", credentials, endpoint: t.server.url });
    await write.send(new CreateDatabaseCommand({ DatabaseName: "disc-db" }));
    await write.send(
      new CreateTableCommand({
        DatabaseName: "disc-db",
        TableName: "disc-table",
        RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
      }),
    );
    await write.send(
      new WriteRecordsCommand({
        DatabaseName: "disc-db",
        TableName: "disc-table",
        Records: [1, 2, 3].map((i) => ({
          Dimensions: [{ Name: "host", Value: `h-${i}` }],
          MeasureName: "cpu",
          MeasureValue: String(i),
          MeasureValueType: "DOUBLE",
          Time: String(Date.now() - 60_000),
          TimeUnit: "MILLISECONDS",
        })),
      }),
    );
  });
  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the SDK for JavaScript v3 discovers and calls this server through an endpoint provider", async () => {
    const provider = () => ({ url: new URL(t.server.url) });
    const query = new TimestreamQueryClient({ region: "us-east-1", credentials, endpointProvider: provider });
    const endpoints = await query.send(new DescribeEndpointsCommand({}));
    assert.equal(endpoints.Endpoints?.[0]?.Address, "127.0.0.1");
    const result = await query.send(new QueryCommand({ QueryString: countQuery }));
    assert.equal(result.Rows?.[0]?.Data?.[0]?.ScalarValue, "3");
    const write = new TimestreamWriteClient({ region: "us-east-1", credentials, endpointProvider: provider });
    const listed = await write.send(new ListDatabasesCommand({}));
    assert.deepEqual(
      listed.Databases?.map((d) => d.DatabaseName),
      ["disc-db"],
    );
  });

  const botoEnv = (extra: Record<string, string>) => ({
    ...process.env,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_CONFIG_FILE: path.join(dir, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "no-credentials"),
    ...extra,
  });

  it("boto3 discovers with the endpoint in AWS_ENDPOINT_URL", { skip: botoSkip }, async () => {
    const { stdout } = await run("python3", ["-c", SCRIPT, countQuery], {
      env: botoEnv({ AWS_ENDPOINT_URL: t.server.url }),
    });
    assert.deepEqual(JSON.parse(stdout), { databases: ["disc-db"], rows: ["3"] });
  });

  it("boto3 discovers with per-service variables and with a profile's endpoint_url", {
    skip: botoSkip,
  }, async () => {
    const perService = await run("python3", ["-c", SCRIPT, countQuery], {
      env: botoEnv({
        AWS_ENDPOINT_URL_TIMESTREAM_QUERY: t.server.url,
        AWS_ENDPOINT_URL_TIMESTREAM_WRITE: t.server.url,
      }),
    });
    assert.deepEqual(JSON.parse(perService.stdout), { databases: ["disc-db"], rows: ["3"] });
    const configFile = path.join(dir, "config");
    fs.writeFileSync(configFile, `[profile hourglass]\nendpoint_url = ${t.server.url}\nregion = us-east-1\n`);
    const profile = await run("python3", ["-c", SCRIPT, countQuery], {
      env: botoEnv({ AWS_CONFIG_FILE: configFile, AWS_PROFILE: "hourglass" }),
    });
    assert.deepEqual(JSON.parse(profile.stdout), { databases: ["disc-db"], rows: ["3"] });
  });

  it("the AWS CLI discovers with the endpoint in AWS_ENDPOINT_URL", {
    skip: cliSkip || botoSkip,
  }, async () => {
    const { stdout } = await run(
      "aws",
      [
        "timestream-query",
        "query",
        "--region",
        "us-east-1",
        "--query-string",
        countQuery,
        "--output",
        "json",
      ],
      { env: botoEnv({ AWS_ENDPOINT_URL: t.server.url }) },
    );
    const answer = JSON.parse(stdout) as { Rows: { Data: { ScalarValue: string }[] }[] };
    assert.equal(answer.Rows[0]?.Data[0]?.ScalarValue, "3");
  });
});

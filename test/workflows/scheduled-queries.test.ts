/**
 * Timestream scheduled queries on a real runtime (store, lake, scheduler, worker processes),
 * through the AWS SDK for JavaScript (TimestreamQueryClient) and boto3: the seed's query
 * aggregated into a derived table every hour, run on demand and by the scheduler, the error
 * report of a run that fails, list (paging), update, delete, tags, and each bad input.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  CreateScheduledQueryCommand,
  type CreateScheduledQueryCommandInput,
  DeleteScheduledQueryCommand,
  DescribeScheduledQueryCommand,
  ExecuteScheduledQueryCommand,
  ListScheduledQueriesCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  TimestreamQueryClient,
  UntagResourceCommand,
  UpdateScheduledQueryCommand,
} from "@aws-sdk/client-timestream-query";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { startHourglass } from "../../src/runtime/index.js";
import {
  checkMappings,
  cronOfScheduleExpression,
  recordsOfRow,
  type TimestreamConfiguration,
} from "../../src/workflows/scheduled-queries/index.js";
import { credentials, writeTestKey } from "../api/helpers.js";
import { loadSeedData, queryRows, type Scenario, startScenario } from "../e2e/helpers.js";

const reports = "sq-reports";
const DB = "airflow-db";
const DERIVED = "cpu-hourly";

/** The seed's query over the hour before @scheduled_runtime, aggregated per host and hour. */
const hourlyQuery =
  "SELECT region, instance_name, BIN(time, 1h) AS hour, " +
  "ROUND(AVG(measure_value::double), 4) AS avg_cpu, " +
  "ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 4) AS p90_cpu, COUNT(*) AS points " +
  `FROM "${DB}"."airflow-table" ` +
  "WHERE measure_name = 'cpu_nice' AND time >= @scheduled_runtime - 1h AND time < @scheduled_runtime " +
  "GROUP BY region, instance_name, BIN(time, 1h)";

function request(
  name: string,
  overrides: Partial<CreateScheduledQueryCommandInput> = {},
): CreateScheduledQueryCommandInput {
  return {
    Name: name,
    QueryString: hourlyQuery,
    ScheduleConfiguration: { ScheduleExpression: "cron(0 * * * ? *)" },
    NotificationConfiguration: { SnsConfiguration: { TopicArn: "arn:aws:sns:us-east-1:000000000000:sq" } },
    ScheduledQueryExecutionRoleArn: "arn:aws:iam::000000000000:role/sq",
    ErrorReportConfiguration: { S3Configuration: { BucketName: reports, ObjectKeyPrefix: "errors" } },
    TargetConfiguration: {
      TimestreamConfiguration: {
        DatabaseName: DB,
        TableName: DERIVED,
        TimeColumn: "hour",
        DimensionMappings: [
          { Name: "region", DimensionValueType: "VARCHAR" },
          { Name: "instance_name", DimensionValueType: "VARCHAR" },
        ],
        MultiMeasureMappings: {
          TargetMultiMeasureName: "cpu_hourly",
          MultiMeasureAttributeMappings: [
            { SourceColumn: "avg_cpu", MeasureValueType: "DOUBLE" },
            { SourceColumn: "p90_cpu", MeasureValueType: "DOUBLE" },
            { SourceColumn: "points", MeasureValueType: "BIGINT" },
          ],
        },
      },
    },
    ...overrides,
  };
}

async function rejects(promise: Promise<unknown>, name: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe("Timestream scheduled queries", () => {
  const clock = { now: Date.parse("2021-09-22T15:10:00Z") };
  let s: Scenario;
  let client: TimestreamQueryClient;
  let arn: string;
  const derivedRows = () =>
    queryRows(
      s.runtime.store,
      `SELECT instance_name, time, avg_cpu, points FROM "${DB}"."${DERIVED}" ORDER BY time, instance_name`,
    );

  before(async () => {
    s = await startScenario({ clockMs: () => clock.now, tickMs: 200, dagFiles: {} });
    // The server checks signatures; it reads keys.json again when the file changes.
    writeTestKey(s.runtime.config.stateDir);
    await loadSeedData(
      s.runtime.store,
      s.runtime.lake,
      Date.parse("2021-09-22T12:00:00Z"),
      Date.parse("2021-09-22T15:10:00Z"),
    );
    await s.runtime.store.createTable({
      DatabaseName: DB,
      TableName: DERIVED,
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 7 },
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    await s.runtime.lake.createBucket(reports);
    client = new TimestreamQueryClient({
      region: "us-east-1",
      credentials,
      endpoint: s.runtime.url,
      maxAttempts: 1,
    });
  });
  after(async () => {
    client?.destroy();
    await s?.close();
  });

  it("creates one as a generated DAG, listed with the others and enabled", async () => {
    const created = await client.send(new CreateScheduledQueryCommand(request("cpu-hourly")));
    arn = created.Arn!;
    assert.match(arn, /^arn:aws:timestream:local:\d{12}:scheduled-query\/cpu-hourly-[0-9a-f]{16}$/);
    const dag = await s.runtime.workflows.getDag("scheduled-query.cpu-hourly");
    assert.equal(dag.isPaused, false);
    const described = (await client.send(new DescribeScheduledQueryCommand({ ScheduledQueryArn: arn })))
      .ScheduledQuery!;
    assert.equal(described.State, "ENABLED");
    assert.equal(described.QueryString, hourlyQuery);
    assert.equal(described.NextInvocationTime?.toISOString(), "2021-09-22T16:00:00.000Z");
    assert.deepEqual(described.RecentlyFailedRuns, []);
    // A retry of the same call (same ClientToken) answers the same ARN; another one is a conflict.
    const token = "a".repeat(40);
    const again = await client.send(
      new CreateScheduledQueryCommand(request("token-query", { ClientToken: token })),
    );
    assert.equal(
      (await client.send(new CreateScheduledQueryCommand(request("token-query", { ClientToken: token }))))
        .Arn,
      again.Arn,
    );
    await rejects(
      client.send(new CreateScheduledQueryCommand(request("cpu-hourly"))),
      "ConflictException",
      /cpu-hourly.*exists/,
    );
    await client.send(new DeleteScheduledQueryCommand({ ScheduledQueryArn: again.Arn }));
  });

  it("runs on demand for an InvocationTime: the hour before it lands in the derived table", async () => {
    await client.send(
      new ExecuteScheduledQueryCommand({
        ScheduledQueryArn: arn,
        InvocationTime: new Date("2021-09-22T14:00:00Z"),
      }),
    );
    const rows = await derivedRows();
    assert.equal(rows.length, 6, "one row per host");
    assert.ok(
      rows.every((r) => r[1]!.startsWith("2021-09-22 13:00:00") && r[3] === "60"),
      JSON.stringify(rows[0]),
    );
    const summary = (await client.send(new DescribeScheduledQueryCommand({ ScheduledQueryArn: arn })))
      .ScheduledQuery!.LastRunSummary!;
    assert.equal(summary.RunStatus, "MANUAL_TRIGGER_SUCCESS");
    assert.equal(summary.InvocationTime?.toISOString(), "2021-09-22T14:00:00.000Z");
    assert.equal(summary.ExecutionStats?.RecordsIngested, 6);
    assert.equal(summary.ExecutionStats?.QueryResultRows, 6);
  });

  it("runs on the scheduler every hour, its run in runs list, @scheduled_runtime the fire time", {
    timeout: 180_000,
  }, async () => {
    const dagId = "scheduled-query.cpu-hourly";
    const finished = new Promise<string>((resolve) => {
      s.runtime.events.on("run:finished", (e) => {
        if (e.run.dagId === dagId) resolve(e.state);
      });
    });
    clock.now = Date.parse("2021-09-22T16:00:30Z");
    s.runtime.scheduler.wake();
    assert.equal(await finished, "success");
    const runs = await s.runtime.workflows.listRuns({ dagId });
    assert.deepEqual(
      runs.map((r) => [r.runId, r.runType, r.state]),
      [["scheduled__2021-09-22T15:00:00+00:00", "scheduled", "success"]],
    );
    const hours = new Set((await derivedRows()).map((r) => r[1]!.slice(0, 19)));
    assert.deepEqual([...hours].sort(), ["2021-09-22 13:00:00", "2021-09-22 15:00:00"]);
    const described = (await client.send(new DescribeScheduledQueryCommand({ ScheduledQueryArn: arn })))
      .ScheduledQuery!;
    assert.equal(described.LastRunSummary?.RunStatus, "AUTO_TRIGGER_SUCCESS");
    assert.equal(described.LastRunSummary?.InvocationTime?.toISOString(), "2021-09-22T16:00:00.000Z");
  });

  it("writes an error report to the lake for a run that fails, and keeps it in RecentlyFailedRuns", async () => {
    await s.runtime.store.createTable({ DatabaseName: DB, TableName: "scratch" });
    const failing = await client.send(
      new CreateScheduledQueryCommand(
        request("fails", {
          QueryString: `SELECT COUNT(*) AS n FROM "${DB}"."scratch" WHERE time < @scheduled_runtime`,
          TargetConfiguration: undefined,
        }),
      ),
    );
    await s.runtime.store.deleteTable(DB, "scratch");
    await client.send(
      new ExecuteScheduledQueryCommand({
        ScheduledQueryArn: failing.Arn,
        InvocationTime: new Date("2021-09-22T14:00:00Z"),
      }),
    );
    const described = (
      await client.send(new DescribeScheduledQueryCommand({ ScheduledQueryArn: failing.Arn }))
    ).ScheduledQuery!;
    const last = described.LastRunSummary!;
    assert.equal(last.RunStatus, "MANUAL_TRIGGER_FAILURE");
    assert.match(last.FailureReason ?? "", /scratch/);
    assert.equal(described.RecentlyFailedRuns?.length, 1);
    const location = last.ErrorReportLocation!.S3ReportLocation!;
    assert.equal(location.BucketName, reports);
    assert.match(location.ObjectKey!, /^errors\/fails\/2021-09-22T14:00:00.000Z\/[0-9a-f-]+\.json$/);
    const report = JSON.parse(
      new TextDecoder().decode(await s.runtime.lake.getObject(reports, location.ObjectKey!)),
    );
    assert.equal(report.scheduledQueryArn, failing.Arn);
    assert.match(report.errors[0].reason, /scratch/);
    await client.send(new DeleteScheduledQueryCommand({ ScheduledQueryArn: failing.Arn }));
  });

  it("lists with paging, updates the state (pausing its DAG), tags, and deletes", async () => {
    for (const name of ["page-a", "page-b", "page-c"])
      await client.send(new CreateScheduledQueryCommand(request(name)));
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListScheduledQueriesCommand({ MaxResults: 2, NextToken: token }));
      assert.ok(page.ScheduledQueries!.length <= 2);
      names.push(...page.ScheduledQueries!.map((q) => q.Name!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(names, ["cpu-hourly", "page-a", "page-b", "page-c"]);

    await client.send(new UpdateScheduledQueryCommand({ ScheduledQueryArn: arn, State: "DISABLED" }));
    assert.equal((await s.runtime.workflows.getDag("scheduled-query.cpu-hourly")).isPaused, true);
    const disabled = (await client.send(new DescribeScheduledQueryCommand({ ScheduledQueryArn: arn })))
      .ScheduledQuery!;
    assert.equal(disabled.State, "DISABLED");
    assert.equal(disabled.NextInvocationTime, undefined);
    await client.send(new UpdateScheduledQueryCommand({ ScheduledQueryArn: arn, State: "ENABLED" }));
    assert.equal((await s.runtime.workflows.getDag("scheduled-query.cpu-hourly")).isPaused, false);

    await client.send(
      new TagResourceCommand({
        ResourceARN: arn,
        Tags: [
          { Key: "team", Value: "ops" },
          { Key: "env", Value: "test" },
        ],
      }),
    );
    await client.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ["env"] }));
    assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags, [
      { Key: "team", Value: "ops" },
    ]);

    for (const name of ["page-a", "page-b", "page-c"]) {
      const found = (await client.send(new ListScheduledQueriesCommand({}))).ScheduledQueries!.find(
        (q) => q.Name === name,
      )!;
      await client.send(new DeleteScheduledQueryCommand({ ScheduledQueryArn: found.Arn }));
    }
    assert.deepEqual(
      (await client.send(new ListScheduledQueriesCommand({}))).ScheduledQueries!.map((q) => q.Name),
      ["cpu-hourly"],
    );
    await s.runtime.scheduler.bag.reload();
    assert.equal(s.runtime.scheduler.bag.get("scheduled-query.page-a"), undefined, "its DAG is gone");
  });

  it("refuses each bad input with Timestream's error, creating nothing", async () => {
    const missingTable = request("bad-1");
    missingTable.TargetConfiguration!.TimestreamConfiguration!.TableName = "no-such-table";
    await rejects(
      client.send(new CreateScheduledQueryCommand(missingTable)),
      "ValidationException",
      /no-such-table.*does not exist/,
    );

    const extraMapping = request("bad-2");
    extraMapping.TargetConfiguration!.TimestreamConfiguration!.DimensionMappings!.push({
      Name: "availability_zone",
      DimensionValueType: "VARCHAR",
    });
    await rejects(
      client.send(new CreateScheduledQueryCommand(extraMapping)),
      "ValidationException",
      /availability_zone' is not a column of the query/,
    );

    const unmapped = request("bad-3");
    unmapped.TargetConfiguration!.TimestreamConfiguration!.MultiMeasureMappings!.MultiMeasureAttributeMappings!.pop();
    await rejects(
      client.send(new CreateScheduledQueryCommand(unmapped)),
      "ValidationException",
      /'points' is not mapped/,
    );

    const wrongType = request("bad-4");
    wrongType.TargetConfiguration!.TimestreamConfiguration!.MultiMeasureMappings!
      .MultiMeasureAttributeMappings![0]!.MeasureValueType = "VARCHAR";
    await rejects(
      client.send(new CreateScheduledQueryCommand(wrongType)),
      "ValidationException",
      /avg_cpu' is DOUBLE; it must be VARCHAR/,
    );

    for (const expression of ["cron(0 * * * *)", "rate(7 minutes)", "cron(0 * * * * *)", "every hour"]) {
      await rejects(
        client.send(
          new CreateScheduledQueryCommand(
            request("bad-5", { ScheduleConfiguration: { ScheduleExpression: expression } }),
          ),
        ),
        "ValidationException",
        /ScheduleExpression/,
      );
    }
    await rejects(
      client.send(
        new CreateScheduledQueryCommand(request("bad-6", { QueryString: "SELECT nope FROM nowhere" })),
      ),
      "ValidationException",
      /QueryString does not run/,
    );
    await rejects(
      client.send(
        new CreateScheduledQueryCommand(
          request("bad-7", {
            ErrorReportConfiguration: { S3Configuration: { BucketName: "no-such-bucket" } },
          }),
        ),
      ),
      "ValidationException",
      /no-such-bucket/,
    );
    const unknown = "arn:aws:timestream:local:000000000000:scheduled-query/nope-0000000000000000";
    await rejects(
      client.send(new DescribeScheduledQueryCommand({ ScheduledQueryArn: unknown })),
      "ResourceNotFoundException",
      /nope/,
    );
    await rejects(
      client.send(new DeleteScheduledQueryCommand({ ScheduledQueryArn: unknown })),
      "ResourceNotFoundException",
      /nope/,
    );
    await rejects(
      client.send(
        new ExecuteScheduledQueryCommand({ ScheduledQueryArn: unknown, InvocationTime: new Date() }),
      ),
      "ResourceNotFoundException",
      /nope/,
    );
    await rejects(
      client.send(new TagResourceCommand({ ResourceARN: unknown, Tags: [{ Key: "a", Value: "b" }] })),
      "ResourceNotFoundException",
      /nope/,
    );
    assert.deepEqual(
      (await client.send(new ListScheduledQueriesCommand({}))).ScheduledQueries!.map((q) => q.Name),
      ["cpu-hourly"],
    );
  });

  it("keeps its definitions, summaries and DAG over a restart", async () => {
    const { ScheduledQueryService } = await import("../../src/workflows/scheduled-queries/index.js");
    const reopened = new ScheduledQueryService({
      stateDir: s.stateDir,
      store: s.runtime.store,
      lake: s.runtime.lake,
    });
    const kept = reopened.byArn(arn);
    assert.equal(kept.LastRunSummary?.RunStatus, "AUTO_TRIGGER_SUCCESS");
    assert.deepEqual(kept.Tags, [{ Key: "team", Value: "ops" }]);
    assert.deepEqual(
      reopened.list().map((d) => d.Name),
      ["cpu-hourly"],
    );
  });

  it("works through boto3", async (t) => {
    const PYTHON = "/usr/bin/python3";
    if (spawnSync(PYTHON, ["-c", "import boto3"]).status !== 0) return t.skip(`${PYTHON} has no boto3`);
    const script = `
import json, sys, datetime
import boto3
from botocore.config import Config
endpoint, body = sys.argv[1], json.loads(sys.argv[2])
q = boto3.client("timestream-query", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="${credentials.accessKeyId}",
                 aws_secret_access_key="${credentials.secretAccessKey}", config=Config(retries={"max_attempts": 1}))
out = {}
arn = q.create_scheduled_query(**body)["Arn"]
q.execute_scheduled_query(ScheduledQueryArn=arn, InvocationTime=datetime.datetime(2021, 9, 22, 15, tzinfo=datetime.timezone.utc))
d = q.describe_scheduled_query(ScheduledQueryArn=arn)["ScheduledQuery"]
out["status"] = d["LastRunSummary"]["RunStatus"]
out["ingested"] = d["LastRunSummary"]["ExecutionStats"]["RecordsIngested"]
out["names"] = [s["Name"] for s in q.list_scheduled_queries(MaxResults=1)["ScheduledQueries"]]
q.update_scheduled_query(ScheduledQueryArn=arn, State="DISABLED")
out["state"] = q.describe_scheduled_query(ScheduledQueryArn=arn)["ScheduledQuery"]["State"]
try:
    q.create_scheduled_query(**body)
except q.exceptions.ConflictException as e:
    out["conflict"] = e.response["Error"]["Code"]
q.delete_scheduled_query(ScheduledQueryArn=arn)
try:
    q.describe_scheduled_query(ScheduledQueryArn=arn)
except q.exceptions.ResourceNotFoundException as e:
    out["gone"] = e.response["Error"]["Code"]
print(json.dumps(out))
`;
    const body = request("boto-hourly", { QueryString: hourlyQuery });
    const { stdout } = await promisify(execFile)(
      PYTHON,
      ["-c", script, s.runtime.url, JSON.stringify(body)],
      {
        timeout: 120_000,
      },
    );
    assert.deepEqual(JSON.parse(stdout), {
      status: "MANUAL_TRIGGER_SUCCESS",
      ingested: 6,
      names: ["boto-hourly"],
      state: "DISABLED",
      conflict: "ConflictException",
      gone: "ResourceNotFoundException",
    });
  });
});

describe("ScheduleExpression to cron", () => {
  it("translates AWS cron (6 fields, ?, days 1-7) and rate()", () => {
    assert.equal(cronOfScheduleExpression("cron(0 * * * ? *)"), "0 * * * *");
    assert.equal(cronOfScheduleExpression("cron(15 10 ? * 2-6 *)"), "15 10 * * 1-5");
    assert.equal(cronOfScheduleExpression("cron(0 8 1 * ? *)"), "0 8 1 * *");
    assert.equal(cronOfScheduleExpression("cron(0 0 ? * 6#3 *)"), "0 0 * * 5#3");
    assert.equal(cronOfScheduleExpression("cron(0 0 ? * MON *)"), "0 0 * * MON");
    assert.equal(cronOfScheduleExpression("rate(1 hour)"), "0 * * * *");
    assert.equal(cronOfScheduleExpression("rate(15 minutes)"), "*/15 * * * *");
    assert.equal(cronOfScheduleExpression("rate(6 hours)"), "0 */6 * * *");
    assert.equal(cronOfScheduleExpression("rate(1 day)"), "0 0 * * *");
    assert.equal(cronOfScheduleExpression("rate(1 minute)"), "* * * * *");
  });
  it("refuses what it cannot run, saying why", () => {
    const cases: Array<[string, RegExp]> = [
      ["cron(0 * * * *)", /6 fields/],
      ["cron(0 * 1 * 2 *)", /must be \?/],
      ["cron(0 * ? * 8 *)", /outside 1-7/],
      ["cron(0 * * * ? 2022)", /year/],
      ["rate(7 minutes)", /does not divide the hour/],
      ["rate(5 hours)", /does not divide the day/],
      ["rate(2 days)", /more than one day/],
      ["rate(2 hour)", /rate\(2 hours\)/],
      ["rate(0 minutes)", /at least 1/],
      ["hourly", /cron\(\.\.\.\)/],
    ];
    for (const [expression, message] of cases) {
      assert.throws(
        () => cronOfScheduleExpression(expression),
        (e: Error) => message.test(e.message),
        expression,
      );
    }
  });
});

describe("TargetConfiguration mappings", () => {
  const columns = [
    { Name: "t", Type: { ScalarType: "TIMESTAMP" as const } },
    { Name: "host", Type: { ScalarType: "VARCHAR" as const } },
    { Name: "metric", Type: { ScalarType: "VARCHAR" as const } },
    { Name: "v", Type: { ScalarType: "DOUBLE" as const } },
    { Name: "n", Type: { ScalarType: "BIGINT" as const } },
  ];
  const row = (metric: string, v: string | null, n: string) => ({
    Data: [
      { ScalarValue: "2021-09-22 13:00:00.000000123" },
      { ScalarValue: "h-1" },
      { ScalarValue: metric },
      v === null ? { NullValue: true } : { ScalarValue: v },
      { ScalarValue: n },
    ],
  });
  const mixed: TimestreamConfiguration = {
    DatabaseName: "db",
    TableName: "t",
    TimeColumn: "t",
    DimensionMappings: [{ Name: "host", DimensionValueType: "VARCHAR" }],
    MeasureNameColumn: "metric",
    MixedMeasureMappings: [
      { MeasureName: "cpu", SourceColumn: "v", TargetMeasureName: "cpu_avg", MeasureValueType: "DOUBLE" },
      {
        MeasureName: "mem",
        MeasureValueType: "MULTI",
        MultiMeasureAttributeMappings: [
          { SourceColumn: "v", TargetMultiMeasureAttributeName: "used", MeasureValueType: "DOUBLE" },
          { SourceColumn: "n", MeasureValueType: "BIGINT" },
        ],
      },
    ],
  };

  it("picks a row's MixedMeasureMapping by its measure name column, keeps nanoseconds, leaves NULLs out", () => {
    checkMappings(mixed, columns);
    assert.deepEqual(recordsOfRow(mixed, columns, row("cpu", "0.5", "3")), [
      {
        Time: "1632315600000000123",
        TimeUnit: "NANOSECONDS",
        Dimensions: [{ Name: "host", Value: "h-1", DimensionValueType: "VARCHAR" }],
        MeasureName: "cpu_avg",
        MeasureValue: "0.5",
        MeasureValueType: "DOUBLE",
      },
    ]);
    const mem = recordsOfRow(mixed, columns, row("mem", null, "7"));
    assert.equal(mem.length, 1);
    assert.equal(mem[0]!.MeasureName, "mem");
    assert.deepEqual(mem[0]!.MeasureValues, [{ Name: "n", Value: "7", Type: "BIGINT" }]);
    assert.deepEqual(recordsOfRow(mixed, columns, row("cpu", null, "3")), [], "no measure value, no record");
  });

  it("refuses mappings that do not fit the query", () => {
    const both = {
      ...mixed,
      MultiMeasureMappings: { TargetMultiMeasureName: "m", MultiMeasureAttributeMappings: [] },
    };
    assert.throws(
      () => checkMappings(both, columns),
      /exactly one of MultiMeasureMappings and MixedMeasureMappings/,
    );
    assert.throws(
      () => checkMappings({ ...mixed, TimeColumn: "host" }, columns),
      /TimeColumn 'host' is VARCHAR; it must be TIMESTAMP/,
    );
    assert.throws(
      () =>
        checkMappings(
          { ...mixed, DimensionMappings: [{ Name: "n", DimensionValueType: "VARCHAR" }] },
          columns,
        ),
      /dimension 'n' is BIGINT/,
    );
    assert.throws(
      () => checkMappings({ ...mixed, MeasureNameColumn: undefined }, columns),
      /need a MeasureNameColumn/,
    );
    assert.throws(
      () => checkMappings({ ...mixed, MixedMeasureMappings: [mixed.MixedMeasureMappings![0]!] }, columns),
      /column 'n' is not mapped/,
    );
  });
});

describe("scheduled queries over a server restart", () => {
  it("come back with their state, tags and DAG", { timeout: 240_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hg-sq-restart-"));
    const config = resolveConfig({
      flags: { stateDir: path.join(dir, "state"), dagsDir: path.join(dir, "dags"), port: 0, workers: 1 },
      env: {},
      cwd: dir,
    });
    const clockMs = () => Date.parse("2021-09-22T15:10:00Z");
    fs.mkdirSync(config.stateDir, { recursive: true });
    writeTestKey(config.stateDir);
    const start = () => startHourglass(config, { clockMs, workers: 0, scheduler: false, log: silentLog });
    let runtime = await start();
    try {
      await runtime.store.createDatabase(DB);
      await runtime.store.createTable({ DatabaseName: DB, TableName: "airflow-table" });
      // The query needs the table's columns, which its first record makes.
      await runtime.store.writeRecords({
        DatabaseName: DB,
        TableName: "airflow-table",
        Records: [
          {
            Dimensions: [
              { Name: "region", Value: "us-east-2" },
              { Name: "instance_name", Value: "i-1" },
            ],
            MeasureName: "cpu_nice",
            MeasureValue: "0.5",
            MeasureValueType: "DOUBLE",
            Time: String(Date.parse("2021-09-22T15:00:00Z")),
          },
        ],
      });
      await runtime.store.createTable({ DatabaseName: DB, TableName: DERIVED });
      await runtime.lake.createBucket(reports);
      let client = new TimestreamQueryClient({
        region: "us-east-1",
        credentials,
        endpoint: runtime.url,
        maxAttempts: 1,
      });
      const { Arn } = await client.send(
        new CreateScheduledQueryCommand(request("kept", { Tags: [{ Key: "team", Value: "ops" }] })),
      );
      await client.send(new UpdateScheduledQueryCommand({ ScheduledQueryArn: Arn, State: "DISABLED" }));
      client.destroy();
      await runtime.stop();

      runtime = await start();
      client = new TimestreamQueryClient({
        region: "us-east-1",
        credentials,
        endpoint: runtime.url,
        maxAttempts: 1,
      });
      const kept = (await client.send(new DescribeScheduledQueryCommand({ ScheduledQueryArn: Arn })))
        .ScheduledQuery!;
      assert.equal(kept.State, "DISABLED");
      assert.equal(kept.QueryString, hourlyQuery);
      assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceARN: Arn }))).Tags, [
        { Key: "team", Value: "ops" },
      ]);
      const dag = await runtime.workflows.getDag("scheduled-query.kept");
      assert.equal(dag.isPaused, true);
      assert.ok(runtime.scheduler.bag.get("scheduled-query.kept"), "its generated DAG is loaded again");
      client.destroy();
    } finally {
      await runtime.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import {
  createTaskContext,
  intervalsBetween,
  isoUtc,
  parseDateInZone,
  parseRunId,
  parseSchedule,
  type RunType,
  renderTemplate,
  runIdFor,
  type TaskContext,
  timeFilter,
} from "../../src/workflows/index.js";

const interval = { start: new Date("2021-09-22T13:00:00Z"), end: new Date("2021-09-22T14:00:00Z") };

function seedContext(overrides: Partial<Parameters<typeof createTaskContext>[0]> = {}): TaskContext {
  return createTaskContext({
    dagId: "timestream-airflow-demo",
    taskId: "ts_query",
    runType: "scheduled",
    dataInterval: interval,
    tryNumber: 1,
    conf: {
      command: "dags backfill -s 2021-09-10 -e 2021-10-10 timestream-airflow-demo",
      nested: { level: 2 },
    },
    params: { table: "airflow-table", limit: 10, flags: { a: true } },
    log: () => undefined,
    ...overrides,
  });
}

function assertValidation(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isHourglassError(error, "ValidationError"), `expected a ValidationError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("task context", () => {
  it("describes the seed's 13:00 interval as the seed's code and logs do", () => {
    const ctx = seedContext();
    assert.equal(ctx.runId, "scheduled__2021-09-22T13:00:00+00:00");
    assert.equal(ctx.logicalDate.toISOString(), "2021-09-22T13:00:00.000Z");
    assert.equal(ctx.folder, "2021-09-22-13");
    assert.equal(ctx.sql.start, "2021-09-22 13:00:00+00:00");
    assert.equal(ctx.sql.end, "2021-09-22 14:00:00+00:00");
    assert.equal(
      ctx.sql.timeFilter(),
      "time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 14:00:00+00:00'",
    );
    assert.equal(ctx.ds, "2021-09-22");
    assert.equal(ctx.dsNodash, "20210922");
    assert.equal(ctx.ts, "2021-09-22T13:00:00+00:00");
    assert.equal(ctx.tsNodash, "20210922T130000");
    assert.equal(ctx.tryNumber, 1);
    assert.equal(ctx.signal.aborted, false);
    assert.ok(Object.isFrozen(ctx));
  });

  it("passes log and signal through", () => {
    const lines: string[] = [];
    const controller = new AbortController();
    const ctx = seedContext({ log: (m) => lines.push(m), signal: controller.signal });
    ctx.log("Data will be uploaded to 2021-09-22-13");
    controller.abort();
    assert.deepEqual(lines, ["Data will be uploaded to 2021-09-22-13"]);
    assert.equal(ctx.signal.aborted, true);
  });

  it("time filters for other columns, quoted or not; anything else is refused", () => {
    assert.equal(
      timeFilter(interval, "binned_timestamp"),
      "binned_timestamp >= '2021-09-22 13:00:00+00:00' AND binned_timestamp < '2021-09-22 14:00:00+00:00'",
    );
    assert.match(seedContext().sql.timeFilter('"my time"'), /^"my time" >= '/);
    for (const bad of ["time; DROP TABLE x", "", "1time", 'a"b']) {
      assertValidation(
        () => seedContext().sql.timeFilter(bad),
        /time filter column must be a plain identifier/,
      );
    }
  });

  it("refuses an interval that ends before it starts, a try number below 1, an unknown run type, no log", () => {
    assertValidation(
      () => seedContext({ dataInterval: { start: interval.end, end: interval.start } }),
      /end .* is before its start/,
    );
    assertValidation(() => seedContext({ tryNumber: 0 }), /tryNumber must be an integer >= 1/);
    assertValidation(
      () => seedContext({ runType: "cron" as RunType }),
      /run type must be one of scheduled, backfill, manual/,
    );
    assertValidation(
      () => seedContext({ log: undefined as unknown as () => void }),
      /log must be a function/,
    );
    assertValidation(
      () => seedContext({ dataInterval: { start: new Date("x"), end: interval.end } }),
      /dataInterval.start must be a valid Date/,
    );
  });
});

describe("run ids", () => {
  it("follow Airflow: <type>__<logical date isoformat>", () => {
    const date = new Date("2021-09-21T01:00:00Z");
    assert.equal(runIdFor("scheduled", date), "scheduled__2021-09-21T01:00:00+00:00");
    assert.equal(runIdFor("backfill", date), "backfill__2021-09-21T01:00:00+00:00");
    assert.equal(
      runIdFor("manual", new Date("2021-09-23T09:20:39.123Z")),
      "manual__2021-09-23T09:20:39.123000+00:00",
    );
    assert.deepEqual(parseRunId("backfill__2021-09-21T01:00:00+00:00"), {
      runType: "backfill",
      logicalDate: date,
    });
    assert.equal(
      parseRunId("manual__2021-09-23T09:20:39.123000+00:00")?.logicalDate.toISOString(),
      "2021-09-23T09:20:39.123Z",
    );
    assert.equal(parseRunId("adhoc__2021-09-21"), null);
    assertValidation(() => runIdFor("other" as RunType, date), /run type must be one of/);
  });

  it("the seed's backfill run ids, one per hour of 2021-09-21 and the first of 2021-09-22", () => {
    const intervals = intervalsBetween(
      parseSchedule("0 */1 * * *"),
      parseDateInZone("2021-09-21"),
      parseDateInZone("2021-09-22"),
    );
    const ids = intervals.map((i) => runIdFor("backfill", i.start));
    assert.equal(ids.length, 25);
    assert.equal(ids[0], "backfill__2021-09-21T00:00:00+00:00");
    assert.equal(ids[1], "backfill__2021-09-21T01:00:00+00:00");
    assert.equal(ids[24], "backfill__2021-09-22T00:00:00+00:00");
    assert.equal(new Set(ids).size, 25);
  });
});

describe("templates", () => {
  const cases: Array<[string, string]> = [
    ["{{ ds }}", "2021-09-22"],
    ["{{ds_nodash}}", "20210922"],
    ["{{ ts }}", "2021-09-22T13:00:00+00:00"],
    ["{{ ts_nodash }}", "20210922T130000"],
    ["{{ logical_date }}", "2021-09-22T13:00:00+00:00"],
    ["{{ data_interval_start }}", "2021-09-22T13:00:00+00:00"],
    ["{{ data_interval_end }}", "2021-09-22T14:00:00+00:00"],
    ["{{ dag_id }}", "timestream-airflow-demo"],
    ["{{ task_id }}", "ts_query"],
    ["{{ run_id }}", "scheduled__2021-09-22T13:00:00+00:00"],
    ["{{ run_type }}", "scheduled"],
    ["{{ try_number }}", "1"],
    [
      "s3://demo-airflow-ts-output/{{ folder }}/my_file.csv",
      "s3://demo-airflow-ts-output/2021-09-22-13/my_file.csv",
    ],
    ["{{ time_filter }}", "time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 14:00:00+00:00'"],
    ["{{ sql.start }}", "2021-09-22 13:00:00+00:00"],
    ["{{ params.table }}", "airflow-table"],
    ["{{ params.limit }}", "10"],
    ["{{ params.flags }}", '{"a":true}'],
    ["{{ conf.command }}", "dags backfill -s 2021-09-10 -e 2021-10-10 timestream-airflow-demo"],
    ["{{ conf.nested.level }}", "2"],
    ["no placeholders }} here", "no placeholders }} here"],
  ];
  for (const [template, expected] of cases) {
    it(template, () => assert.equal(renderTemplate(template, seedContext()), expected));
  }

  it("renders the seed's query for the 13:00 interval", () => {
    const sql =
      "SELECT instance_name FROM \"airflow-db\".\"airflow-table\" WHERE measure_name = 'cpu_nice' AND time BETWEEN '{{ sql.start }}' AND '{{ sql.end }}'";
    assert.equal(
      renderTemplate(sql, seedContext()),
      "SELECT instance_name FROM \"airflow-db\".\"airflow-table\" WHERE measure_name = 'cpu_nice' AND time BETWEEN '2021-09-22 13:00:00+00:00' AND '2021-09-22 14:00:00+00:00'",
    );
  });

  const errors: Array<[string, RegExp]> = [
    ["{{ execution_date }}", /unknown placeholder \{\{ execution_date \}\} \(known: ds, /],
    ["{{ params.missing }}", /unknown placeholder \{\{ params.missing \}\}: the DAG has no param "missing"/],
    [
      "{{ conf.missing }}",
      /unknown placeholder \{\{ conf.missing \}\}: the trigger conf has no key "missing"/,
    ],
    ["{{ ds.year }}", /unknown placeholder \{\{ ds.year \}\}: ds has no field "year"/],
    ["{{ sql.middle }}", /sql has no field "middle"/],
    ["{{ 1 + 1 }}", /invalid placeholder \{\{ 1 \+ 1 \}\}: only names and dotted paths/],
    ["{{ params['table'] }}", /invalid placeholder/],
    ["{{}}", /invalid placeholder/],
    ["WHERE time > '{{ ds ", /unclosed placeholder at offset 14/],
  ];
  for (const [template, pattern] of errors) {
    it(`refuses ${template}`, () => assertValidation(() => renderTemplate(template, seedContext()), pattern));
  }

  it("isoUtc keeps sub-second precision as microseconds", () => {
    assert.equal(isoUtc(new Date("2021-09-22T13:00:00.5Z")), "2021-09-22T13:00:00.500000+00:00");
  });
});

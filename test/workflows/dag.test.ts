import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { isHourglassError } from "../../src/errors.js";
import {
  type DagDefinition,
  dag,
  getTask,
  isDag,
  isOperatorDescriptor,
  resolveStartDate,
  retryDelayMsAfter,
  task,
} from "../../src/workflows/index.js";

const noop = () => undefined;

/** The seed's DAG, written for Hourglass. */
const seedDefinition = (): DagDefinition => ({
  id: "timestream-airflow-demo",
  schedule: "0 */1 * * *",
  startDate: "2021-09-21T00:00:00Z",
  dagrunTimeoutMs: 2 * 60 * 60 * 1000,
  defaultArgs: { retries: 0, retryDelayMs: 5 * 60 * 1000, dependsOnPast: false },
  tasks: [task({ id: "ts_query", run: noop })],
});

function assertInvalid(definition: unknown, ...patterns: RegExp[]): void {
  assert.throws(
    () => dag(definition as DagDefinition),
    (error: unknown) => {
      assert.ok(
        isHourglassError(error, "ValidationError"),
        `expected a ValidationError, got ${String(error)}`,
      );
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("dag(): a valid definition", () => {
  it("the seed's DAG, with Airflow's defaults filled in", () => {
    const d = dag(seedDefinition());
    assert.ok(isDag(d));
    assert.equal(d.id, "timestream-airflow-demo");
    assert.deepEqual(d.schedule, {
      kind: "cron",
      expression: "0 */1 * * *",
      cron: "0 */1 * * *",
      timezone: "UTC",
    });
    assert.equal((d.startDate as Date).toISOString(), "2021-09-21T00:00:00.000Z");
    assert.equal(d.endDate, null);
    assert.equal(d.catchup, true);
    assert.equal(d.maxActiveRuns, 16);
    assert.equal(d.maxActiveTasks, 16);
    assert.equal(d.dagrunTimeoutMs, 7_200_000);
    assert.deepEqual(d.warnings, []);
    const t = getTask(d, "ts_query")!;
    assert.equal(t.retries, 0);
    assert.equal(t.retryDelayMs, 300_000);
    assert.equal(t.retryExponentialBackoff, false);
    assert.equal(t.executionTimeoutMs, null);
    assert.ok(Object.isFrozen(d));
  });

  it("orders tasks so each comes after its upstream tasks, and records downstream", () => {
    const d = dag({
      id: "order",
      schedule: null,
      tasks: [
        task({ id: "load", upstream: ["transform"], run: noop }),
        task({ id: "extract", run: noop }),
        task({ id: "transform", upstream: ["extract", "extract"], run: noop }),
        task({ id: "report", upstream: ["extract"], run: noop }),
      ],
    });
    assert.deepEqual(
      d.tasks.map((t) => t.id),
      ["extract", "transform", "load", "report"],
    );
    assert.deepEqual(getTask(d, "extract")!.downstream, ["transform", "report"]);
    assert.deepEqual(getTask(d, "transform")!.upstream, ["extract"]);
  });

  it("task settings override defaultArgs, which override the defaults", () => {
    const d = dag({
      id: "retries",
      schedule: "@daily",
      startDate: new Date("2021-01-01T00:00:00Z"),
      dependsOnPast: true,
      defaultArgs: {
        retries: 2,
        retryDelayMs: 1000,
        retryExponentialBackoff: true,
        executionTimeoutMs: 60_000,
      },
      tasks: [task({ id: "a", run: noop }), task({ id: "b", retries: 5, dependsOnPast: false, run: noop })],
    });
    const [a, b] = [getTask(d, "a")!, getTask(d, "b")!];
    assert.deepEqual(
      [a.retries, a.retryDelayMs, a.retryExponentialBackoff, a.executionTimeoutMs, a.dependsOnPast],
      [2, 1000, true, 60_000, true],
    );
    assert.deepEqual([b.retries, b.dependsOnPast], [5, false]);
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelayMsAfter(a, n)),
      [1000, 2000, 4000, 8000],
    );
    assert.equal(retryDelayMsAfter({ ...a, maxRetryDelayMs: 3000 }, 4), 3000);
    assert.equal(retryDelayMsAfter({ ...a, retryExponentialBackoff: false }, 4), 1000);
    assert.throws(() => retryDelayMsAfter(a, 0), /failedTryNumber must be an integer >= 1/);
  });

  it("an operator task carries its descriptor; a run may return one", () => {
    const d = dag({
      id: "ops",
      schedule: "@once",
      startDate: "2021-09-21",
      tasks: [task({ id: "export", operator: { kind: "export", path: "{{ folder }}/my_file.csv" } })],
    });
    assert.deepEqual(getTask(d, "export")!.operator, { kind: "export", path: "{{ folder }}/my_file.csv" });
    assert.ok(isOperatorDescriptor({ kind: "export" }));
    assert.ok(!isOperatorDescriptor({ kind: "" }));
    assert.ok(!isOperatorDescriptor("export"));
  });

  it("a time zone applies to the schedule and to date strings without an offset", () => {
    const d = dag({
      id: "london",
      schedule: "@daily",
      timezone: "Europe/London",
      startDate: "2021-09-21",
      tasks: [task({ id: "a", run: noop })],
    });
    assert.equal(d.schedule.timezone, "Europe/London");
    assert.equal((d.startDate as Date).toISOString(), "2021-09-20T23:00:00.000Z");
  });

  it("a relative start date is kept relative, resolved against now, with a warning", () => {
    const d = dag({ ...seedDefinition(), startDate: { daysAgo: 1 } });
    assert.deepEqual(d.startDate, { daysAgo: 1 });
    assert.match(d.warnings[0] ?? "", /relative/);
    assert.equal(
      resolveStartDate(d, new Date("2021-09-23T09:20:39Z"))!.toISOString(),
      "2021-09-22T00:00:00.000Z",
    );
    assert.equal(
      resolveStartDate(dag(seedDefinition()), new Date())!.toISOString(),
      "2021-09-21T00:00:00.000Z",
    );
  });

  it("params: plain specs and zod schemas", () => {
    const specs = dag({ ...seedDefinition(), params: { table: { type: "string", default: "cpu" } } });
    assert.equal(specs.params.kind, "specs");
    const schema = dag({ ...seedDefinition(), params: z.object({ table: z.string().default("cpu") }) });
    assert.equal(schema.params.kind, "schema");
  });

  it("a manual-only DAG needs no start date", () => {
    const d = dag({
      id: "timestream-backfill",
      schedule: null,
      catchup: false,
      tasks: [task({ id: "cli_command", run: noop })],
    });
    assert.equal(d.schedule.kind, "manual");
    assert.equal(d.startDate, null);
  });
});

describe("dag(): invalid definitions are ValidationErrors naming the problem", () => {
  const cases: Array<[string, (def: DagDefinition) => unknown, RegExp[]]> = [
    ["an id with a space", (d) => ({ ...d, id: "my dag" }), [/dag id "my dag" must be 1-250 characters/]],
    ["an id too long", (d) => ({ ...d, id: "x".repeat(251) }), [/must be 1-250 characters/]],
    ["an id with a slash", (d) => ({ ...d, id: "a/b" }), [/dag id "a\/b" must be 1-250 characters/]],
    ["an id with a control character", (d) => ({ ...d, id: "a\nb" }), [/dag id "a\\nb" must be 1-250/]],
    [
      "the id ..",
      (d) => ({ ...d, id: ".." }),
      [/dag id "\.\." is not allowed: "\." and "\.\." name a folder/],
    ],
    ["the id .", (d) => ({ ...d, id: "." }), [/dag id "\." is not allowed/]],
    ["an id that is not a string", (d) => ({ ...d, id: 7 }), [/dag id must be a string, got number 7/]],
    [
      "an invalid cron",
      (d) => ({ ...d, schedule: "0 */1 * *" }),
      [/invalid cron expression "0 \*\/1 \* \*": expected 5 fields/],
    ],
    [
      "an unknown time zone",
      (d) => ({ ...d, timezone: "Europe/Atlantis" }),
      [/unknown time zone "Europe\/Atlantis"/],
    ],
    [
      "an end date before the start date",
      (d) => ({ ...d, endDate: "2021-09-20" }),
      [/endDate 2021-09-20T00:00:00.000Z is before startDate 2021-09-21/],
    ],
    [
      "a start date that is not a date",
      (d) => ({ ...d, startDate: "21/09/2021" }),
      [/startDate: invalid date "21\/09\/2021"/],
    ],
    ["a bad relative start date", (d) => ({ ...d, startDate: { daysAgo: -1 } }), [/daysAgo: <integer >= 0>/]],
    [
      "a missing start date",
      (d) => ({ ...d, startDate: undefined }),
      [/startDate is required for schedule "0 \*\/1 \* \* \*"/],
    ],
    [
      "maxActiveRuns 0",
      (d) => ({ ...d, maxActiveRuns: 0 }),
      [/maxActiveRuns must be an integer >= 1, got number 0/],
    ],
    [
      "maxActiveTasks 1.5",
      (d) => ({ ...d, maxActiveTasks: 1.5 }),
      [/maxActiveTasks must be an integer >= 1/],
    ],
    [
      "a negative dagrun timeout",
      (d) => ({ ...d, dagrunTimeoutMs: -1 }),
      [/dagrunTimeoutMs must be an integer >= 1/],
    ],
    ["catchup as a string", (d) => ({ ...d, catchup: "yes" }), [/catchup must be true or false/]],
    [
      "tags that are not strings",
      (d) => ({ ...d, tags: ["ok", 3] }),
      [/tags must be an array of non-empty strings/],
    ],
    [
      "negative retries in defaultArgs",
      (d) => ({ ...d, defaultArgs: { retries: -1 } }),
      [/defaultArgs: retries must be an integer >= 0, got number -1/],
    ],
    [
      "an unknown defaultArgs field",
      (d) => ({ ...d, defaultArgs: { retry_delay: 300 } }),
      [/defaultArgs: unknown field "retry_delay" \(did you mean "retryDelayMs"\?\)/],
    ],
    [
      "an Airflow field name",
      (d) => ({ ...d, schedule_interval: "@hourly" }),
      [/unknown field "schedule_interval" \(did you mean "schedule"\?\)/],
    ],
    ["no tasks", (d) => ({ ...d, tasks: [] }), [/tasks must be a non-empty array/]],
    ["bad params", (d) => ({ ...d, params: { n: { type: "float" } } }), [/params.n: type must be one of/]],
    [
      "duplicate task ids",
      (d) => ({
        ...d,
        tasks: [
          { id: "a", run: noop },
          { id: "a", run: noop },
        ],
      }),
      [/task id "a" is used more than once/],
    ],
    [
      "an unknown upstream task",
      (d) => ({
        ...d,
        tasks: [
          { id: "a", run: noop },
          { id: "b", upstream: ["a", "ghost"], run: noop },
        ],
      }),
      [/task "b": unknown upstream task "ghost"/],
    ],
    [
      "a cycle",
      (d) => ({
        ...d,
        tasks: [
          { id: "a", upstream: ["c"], run: noop },
          { id: "b", upstream: ["a"], run: noop },
          { id: "c", upstream: ["b"], run: noop },
          { id: "d", upstream: ["a"], run: noop },
        ],
      }),
      [/tasks form a cycle: a -> b -> c -> a/],
    ],
    [
      "a task depending on itself",
      (d) => ({ ...d, tasks: [{ id: "a", upstream: ["a"], run: noop }] }),
      [/cycle: a -> a/],
    ],
    [
      "a task with negative retries",
      (d) => ({ ...d, tasks: [{ id: "a", retries: -2, run: noop }] }),
      [/task "a": retries must be an integer >= 0/],
    ],
    [
      "a task with both run and operator",
      (d) => ({ ...d, tasks: [{ id: "a", run: noop, operator: { kind: "x" } }] }),
      [/task "a": give exactly one of run or operator/],
    ],
    [
      "a task with neither run nor operator",
      (d) => ({ ...d, tasks: [{ id: "a" }] }),
      [/give exactly one of run or operator/],
    ],
    [
      "an operator without kind",
      (d) => ({ ...d, tasks: [{ id: "a", operator: { path: "x" } }] }),
      [/operator must be an object with a non-empty "kind"/],
    ],
    [
      "run that is not a function",
      (d) => ({ ...d, tasks: [{ id: "a", run: "python ts_query.py" }] }),
      [/run must be a function/],
    ],
    [
      "a task id with a slash",
      (d) => ({ ...d, tasks: [{ id: "a/b", run: noop }] }),
      [/task id "a\/b" must be 1-250 characters/],
    ],
    ["a task that is not an object", (d) => ({ ...d, tasks: ["a"] }), [/tasks\[0\] must be an object/]],
  ];
  for (const [name, change, patterns] of cases) {
    it(name, () => assertInvalid(change(seedDefinition()), ...patterns));
  }

  it("reports every problem at once, with the DAG id", () => {
    assertInvalid(
      { ...seedDefinition(), schedule: "61 * * * *", timezone: "Nowhere/City", maxActiveRuns: -1 },
      /^invalid DAG "timestream-airflow-demo": /,
      /unknown time zone "Nowhere\/City"/,
      /maxActiveRuns/,
    );
  });

  it("dag(null) and task() with a bad definition", () => {
    assert.throws(() => dag(null as unknown as DagDefinition), /dag\(\) needs an object/);
    assert.throws(
      () => task({ id: "t", retries: -1, run: noop }),
      (error: unknown) =>
        isHourglassError(error, "ValidationError") &&
        /invalid task "t": task: retries must be an integer >= 0/.test(error.message),
    );
  });
});

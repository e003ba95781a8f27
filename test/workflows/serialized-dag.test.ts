/**
 * The serialized DAG, what the DAG processor's parse process sends the server: everything the
 * scheduler, the API and the CLI read survives a trip through JSON; task functions do not travel.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import {
  dag,
  deserializeDag,
  isDag,
  resolveParams,
  type SerializedDag,
  serializeDag,
  task,
} from "../../src/workflows/index.js";

const viaJson = (value: SerializedDag): SerializedDag => JSON.parse(JSON.stringify(value)) as SerializedDag;

describe("serializeDag / deserializeDag", () => {
  it("keeps the schedule, dates, limits, params, tasks and their operators; drops task functions", () => {
    const original = dag({
      id: "export.hourly-v2",
      description: "the seed's export",
      schedule: "0 */1 * * *",
      timezone: "Europe/London",
      startDate: "2021-09-21T00:00:00Z",
      endDate: "2021-10-01",
      catchup: false,
      maxActiveRuns: 2,
      maxActiveTasks: 3,
      dagrunTimeoutMs: 7_200_000,
      tags: ["seed", "export"],
      defaultArgs: { retries: 2, retryDelayMs: 1000, retryExponentialBackoff: true },
      params: { table: { type: "string", default: "airflow-table" }, limit: { type: "integer", minimum: 1 } },
      tasks: [
        task({ id: "prepare", run: () => "ready", executionTimeoutMs: 5000 }),
        task({
          id: "export",
          upstream: ["prepare"],
          operator: { kind: "export", query: "SELECT 1 WHERE {{ time_filter }}", bucket: "b", key: "k" },
          dependsOnPast: true,
        }),
      ],
    });
    const copy = deserializeDag(viaJson(serializeDag(original)));
    assert.ok(isDag(copy));
    assert.ok(Object.isFrozen(copy));
    for (const field of [
      "id",
      "description",
      "timezone",
      "catchup",
      "maxActiveRuns",
      "maxActiveTasks",
      "dagrunTimeoutMs",
      "tags",
      "warnings",
    ] as const) {
      assert.deepEqual(copy[field], original[field], field);
    }
    assert.deepEqual(copy.schedule, original.schedule);
    assert.deepEqual(copy.startDate, original.startDate);
    assert.deepEqual(copy.endDate, original.endDate);
    assert.deepEqual(copy.params, original.params);
    const withoutRun = original.tasks.map(({ run: _run, ...rest }) => rest);
    assert.deepEqual(
      copy.tasks.map((t) => ({ ...t })),
      withoutRun,
    );
    assert.equal(copy.tasks[0]!.run, undefined, "a task function stays in the DAG file");
    assert.deepEqual(resolveParams(copy.params, { limit: 5 }), { table: "airflow-table", limit: 5 });
    assert.throws(() => resolveParams(copy.params, { limit: 0 }), /limit: must be >= 1/);
  });

  it("a relative start date stays relative; a zod schema is left to the worker", () => {
    const original = dag({
      id: "relative",
      schedule: "@daily",
      startDate: { daysAgo: 1 },
      params: z.object({ table: z.string().default("cpu") }),
      tasks: [task({ id: "only", run: () => {} })],
    });
    const copy = deserializeDag(viaJson(serializeDag(original)));
    assert.deepEqual(copy.startDate, { daysAgo: 1 });
    assert.deepEqual(copy.warnings, original.warnings);
    assert.equal(copy.params.kind, "schema");
    // The server cannot run the schema: it takes the conf as given, the worker checks it.
    assert.deepEqual(resolveParams(copy.params, { table: 7 }), { table: 7 });
    assert.throws(() => resolveParams(original.params, { table: 7 }), /invalid params/);
  });

  it("manual and @once schedules", () => {
    for (const schedule of [null, "@once"]) {
      const original = dag({
        id: "m",
        schedule,
        ...(schedule === null ? {} : { startDate: "2021-09-21" }),
        tasks: [task({ id: "only", run: () => {} })],
      });
      const copy = deserializeDag(viaJson(serializeDag(original)));
      assert.deepEqual(copy.schedule, original.schedule);
      assert.deepEqual(copy.startDate, original.startDate);
    }
  });
});

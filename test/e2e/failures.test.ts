/**
 * The seed's failure scenarios: an export failing on a query error is retried as configured, then
 * fails; the DAG file is fixed (the scheduler reloads it) and clearing the task writes the file.
 * Then the query is changed and a date range cleared: those intervals are exported again with the
 * new query, and their manifests name the new code version.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { codeVersionOf } from "../../src/workflows/index.js";
import { bucket, loadSeedData, type Scenario, startScenario } from "./helpers.js";

const dagText = (table: string, decimals: number) => `import { dag, exportQuery, task } from "hourglass";
export default dag({
  id: "fragile", schedule: "@hourly", startDate: "2021-09-22T00:00:00Z", catchup: false,
  defaultArgs: { retries: 1, retryDelayMs: 0 },
  tasks: [task({ id: "ts_query", operator: exportQuery({
    query: "SELECT instance_name, BIN(time, 15s) AS binned_timestamp, ROUND(AVG(measure_value::double), ${decimals}) AS avg_cpu FROM \\"airflow-db\\".\\"${table}\\" WHERE measure_name = 'cpu_nice' AND {{ time_filter }} GROUP BY instance_name, BIN(time, 15s) ORDER BY binned_timestamp, instance_name",
    bucket: "${bucket}", key: "fragile/{{ folder }}/my_file.csv", indexColumn: true,
  }) })],
});
`;

describe("failures, fixes and re-exports", () => {
  let s: Scenario;
  let file: string;
  before(async () => {
    s = await startScenario({
      clockMs: () => Date.parse("2021-09-23T00:10:00Z"),
      tickMs: 200,
      dagFiles: { "fragile.ts": dagText("airflow-tabel", 2) },
    });
    file = path.join(s.dagsDir, "fragile.ts");
    await loadSeedData(
      s.runtime.store,
      s.runtime.lake,
      Date.parse("2021-09-22T12:00:00Z"),
      Date.parse("2021-09-22T16:00:00Z"),
    );
    await s.runtime.workflows.setPaused("fragile", false);
  });
  after(async () => s?.close());

  const edit = async (text: string) => {
    const loaded = s.runtime.events.waitFor("dags:loaded", (e) => e.dagIds.includes("fragile"), 20_000);
    fs.writeFileSync(file, text);
    await loaded;
    return codeVersionOf(text);
  };
  const manifest = async (hour: string) =>
    JSON.parse(
      new TextDecoder().decode(
        await s.runtime.lake.getObject(bucket, `fragile/2021-09-22-${hour}/my_file.csv.manifest.json`),
      ),
    );

  it("a query error is retried as configured, then the task fails", async () => {
    const { workflows, events } = s.runtime;
    const finished = events.waitFor(
      "run:finished",
      (e) => e.run.runId === "manual__2021-09-22T13:00:00+00:00",
      30_000,
    );
    const run = await workflows.trigger("fragile", { logicalDate: "2021-09-22T13:00:00Z" });
    assert.equal((await finished).state, "failed");
    const state = await workflows.taskState("fragile", run.runId, "ts_query");
    assert.equal(state.state, "failed");
    assert.deepEqual(
      state.tries.map((t) => t.state),
      ["failed", "failed"],
    );
    assert.match(state.tries[0]!.error ?? "", /airflow-tabel/);
    assert.match(
      (await workflows.taskLog("fragile", run.runId, "ts_query", 2)).text,
      /Task failed: .*airflow-tabel/,
    );
  });

  it("after the DAG file is fixed (and reloaded), clearing the task writes the file", async () => {
    const { workflows, events } = s.runtime;
    const version = await edit(dagText("airflow-table", 2));
    const runId = "manual__2021-09-22T13:00:00+00:00";
    const finished = events.waitFor("run:finished", (e) => e.run.runId === runId, 30_000);
    await workflows.clear({ dagId: "fragile", runId, onlyFailed: true });
    assert.equal((await finished).state, "success");
    const state = await workflows.taskState("fragile", runId, "ts_query");
    assert.equal(state.tryNumber, 3);
    const m = await manifest("13");
    assert.equal(m.codeVersion, version);
    assert.equal(m.tryNumber, 3);
    assert.match(m.query, /ROUND\(AVG\(measure_value::double\), 2\)/);
  });

  it("a changed query and a cleared date range re-export those intervals with the new code version", async () => {
    const { workflows, events } = s.runtime;
    const second = events.waitFor(
      "run:finished",
      (e) => e.run.runId === "manual__2021-09-22T14:00:00+00:00",
      30_000,
    );
    await workflows.trigger("fragile", { logicalDate: "2021-09-22T14:00:00Z" });
    assert.equal((await second).state, "success");
    const before13 = await manifest("13");
    const version = await edit(dagText("airflow-table", 1));
    assert.notEqual(version, before13.codeVersion);
    let finished = 0;
    const both = new Promise<void>((resolve) => {
      events.on("run:finished", (e) => {
        if (e.run.dagId === "fragile" && ++finished === 2) resolve();
      });
    });
    const cleared = await workflows.clear({
      dagId: "fragile",
      from: "2021-09-22T13:00:00Z",
      to: "2021-09-22T14:00:00Z",
    });
    assert.equal(cleared.runs.length, 2);
    await both;
    for (const hour of ["13", "14"]) {
      const m = await manifest(hour);
      assert.equal(m.codeVersion, version, hour);
      assert.match(m.query, /ROUND\(AVG\(measure_value::double\), 1\)/);
    }
  });
});

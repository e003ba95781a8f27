/**
 * `freshness: { reexportLateData: { settle, within } }` end to end: the scheduler re-exports an
 * hour once its late data has been quiet for `settle` (the test moves the clock; nothing sleeps),
 * once per change, never beyond `within`, as runs of type reexport.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  bucket,
  demoDagFile,
  demoDagId,
  loadSeedData,
  type Scenario,
  startScenario,
} from "../e2e/helpers.js";

const hourMs = 3_600_000;
const minuteMs = 60_000;
const t10 = Date.parse("2021-09-22T10:00:00Z");
const dagText = fs
  .readFileSync(demoDagFile, "utf8")
  .replace(
    "startDate: { daysAgo: 1 }",
    'startDate: "2021-09-22T10:00:00Z",\n  endDate: "2021-09-22T12:30:00Z",\n  freshness: { reexportLateData: { settle: "15m", within: "24h" } }',
  );

describe("reexportLateData", () => {
  const clock = { now: t10 + 3 * hourMs + 5 * minuteMs }; // 13:05
  let s: Scenario;
  let host = 0;

  const writeLate = async (timeMs: number) => {
    host += 1;
    const result = await s.runtime.store.writeRecords({
      DatabaseName: "airflow-db",
      TableName: "airflow-table",
      Records: [
        {
          Dimensions: [
            { Name: "region", Value: "us-east-2" },
            { Name: "availability_zone", Value: "us-east-2-1" },
            { Name: "instance_name", Value: `i-late-${host}` },
          ],
          MeasureName: "cpu_nice",
          MeasureValue: "0.5",
          MeasureValueType: "DOUBLE",
          Time: String(timeMs),
        },
      ],
    });
    assert.equal(result.rejected.length, 0, JSON.stringify(result.rejected));
  };
  const reexports = async () =>
    (await s.runtime.workflows.listRuns({ dagId: demoDagId, runTypes: ["reexport"], limit: 100 }))
      .map((r) => r.runId)
      .sort();
  /** A scheduler tick at the clock's time; then waits until no run of the DAG is queued or running. */
  const tickAndSettle = async () => {
    await s.runtime.scheduler.tick({ fullPass: true });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const open = await s.runtime.workflows.listRuns({ dagId: demoDagId, states: ["queued", "running"] });
      if (open.length === 0) return;
      if (Date.now() > deadline) throw new Error(`runs still open: ${open.map((r) => r.runId).join(", ")}`);
      // The next run to end, or a fresh look soon (a run may end between the look and the listener).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 100);
        const off = s.runtime.events.on("run:finished", done);
        function done() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    }
  };
  const statuses = async () =>
    (
      await s.runtime.freshness.exportsStatus({
        dagId: demoDagId,
        from: "2021-09-22T10:00:00Z",
        to: "2021-09-22T12:00:00Z",
      })
    ).intervals.map((i) => i.status);

  before(async () => {
    s = await startScenario({ clockMs: () => clock.now, tickMs: 200, dagFiles: { "demo.ts": dagText } });
    await loadSeedData(s.runtime.store, s.runtime.lake, t10, t10 + 3 * hourMs);
    let finished = 0;
    const done = new Promise<void>((resolve) => {
      s.runtime.events.on("run:finished", ({ run }) => {
        if (run.dagId === demoDagId && ++finished === 3) resolve();
      });
    });
    await s.runtime.workflows.setPaused(demoDagId, false);
    await done;
  });
  after(async () => s?.close());

  it("re-exports an hour on its own once its late data has been quiet for settle, once per change", {
    timeout: 180_000,
  }, async () => {
    clock.now = t10 + 3 * hourMs + 10 * minuteMs; // 13:10: a record for 12:50
    await writeLate(t10 + 2 * hourMs + 50 * minuteMs);
    clock.now += 14 * minuteMs; // 13:24: quiet for 14 minutes, not yet 15
    await tickAndSettle();
    assert.deepEqual(await reexports(), []);
    assert.deepEqual(await statuses(), ["fresh", "fresh", "stale-data"]);

    const written: string[] = [];
    const off = s.runtime.events.on("export:written", (e) => written.push(e.key));
    clock.now += 2 * minuteMs; // 13:26: settled
    await tickAndSettle();
    const first = await reexports();
    assert.equal(first.length, 1);
    assert.match(first[0]!, /^reexport__2021-09-22T12:00:00\+00:00__v\d+$/);
    assert.deepEqual(written, ["2021-09-22-12/my_file.csv"]);
    const csv = new TextDecoder().decode(await s.runtime.lake.getObject(bucket, "2021-09-22-12/my_file.csv"));
    assert.match(csv, /i-late-1,2021-09-22 12:50:00,0\.5/);
    assert.deepEqual(await statuses(), ["fresh", "fresh", "fresh"]);
    const run = await s.runtime.workflows.getRun(demoDagId, first[0]!);
    assert.equal(run.runType, "reexport");
    assert.equal(run.state, "success");

    // Nothing new: later ticks re-export nothing.
    clock.now += 30 * minuteMs;
    await tickAndSettle();
    assert.deepEqual(await reexports(), first);

    // Two late records for 11:00, 5 minutes apart: settle counts from the second; one re-export.
    await writeLate(t10 + hourMs + 30 * minuteMs);
    clock.now += 5 * minuteMs;
    await writeLate(t10 + hourMs + 31 * minuteMs);
    clock.now += 12 * minuteMs; // 12 minutes after the second: not yet
    await tickAndSettle();
    assert.deepEqual(await reexports(), first);
    clock.now += 4 * minuteMs;
    await tickAndSettle();
    const second = await reexports();
    assert.equal(second.length, 2);
    assert.ok(second.some((id) => id.startsWith("reexport__2021-09-22T11:00:00+00:00__v")));
    assert.deepEqual(written, ["2021-09-22-12/my_file.csv", "2021-09-22-11/my_file.csv"]);
    off();
    assert.deepEqual(await statuses(), ["fresh", "fresh", "fresh"]);
  });

  it("leaves intervals that ended longer than within ago stale", { timeout: 120_000 }, async () => {
    clock.now = t10 + hourMs + 25 * hourMs; // 25 hours after the 10:00 interval ended
    await writeLate(t10 + 40 * minuteMs);
    clock.now += 20 * minuteMs;
    const before = await reexports();
    await tickAndSettle();
    assert.deepEqual(await reexports(), before);
    assert.equal((await statuses())[0], "stale-data");
  });

  it("refuses bad freshness options when the DAG file loads", async () => {
    const { dag } = await import("../../src/workflows/index.js");
    const base = { id: "x", schedule: "@hourly", startDate: "2021-09-22", tasks: [] };
    assert.throws(
      () => dag({ ...base, freshness: { reexportLateData: { settle: "15 minutes", within: "24h" } } }),
      /freshness.reexportLateData.settle must be a duration such as "15m", got string "15 minutes"/,
    );
    assert.throws(
      () => dag({ ...base, freshness: { reexportLateData: { settle: "2d", within: "24h" } } }),
      /settle \(2d\) must be shorter than within \(24h\)/,
    );
    assert.throws(() => dag({ ...base, freshness: { reexport: true } as never }), /freshness/);
  });
});

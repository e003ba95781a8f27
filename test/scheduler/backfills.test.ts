import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { TimestreamStore } from "../../src/store/index.js";
import type { BackfillProgress } from "../../src/workflows/metadata/index.js";
import { dagSource, onEachDatabase, rejectsWith } from "./helpers.js";

const seedQuery =
  'SELECT instance_name, BIN(time, 15s) AS binned_timestamp FROM "airflow-db"."airflow-table" WHERE measure_name = \'cpu_nice\' AND {{ time_filter }}';
const dags = {
  "seed.ts": `import { dag, exportQuery, task } from "hourglass";
export default dag({
  id: "seed", schedule: "0 */1 * * *", startDate: "2021-09-22T00:00:00Z", catchup: false,
  tasks: [task({ id: "ts_query", operator: exportQuery({ query: ${JSON.stringify(seedQuery)}, bucket: "b", key: "{{ folder }}/my_file.csv" }) })],
});
`,
  "ends.ts": dagSource({
    id: "ends",
    schedule: "@hourly",
    startDate: "2021-09-01T00:00:00Z",
    endDate: "2021-09-10T00:00:00Z",
  }),
  "manual.ts": dagSource({ id: "manual", schedule: null, startDate: "2021-09-01T00:00:00Z" }),
};

// The seed's table: memory store 24 h, magnetic store 1 day, for the retention warnings.
let store: TimestreamStore;
const now = Date.parse("2021-09-23T09:20:39Z");
before(async () => {
  store = await TimestreamStore.open({ path: ":memory:", clockMs: () => now, sweepIntervalMs: 0 });
  await store.createDatabase("airflow-db");
  await store.createTable({
    DatabaseName: "airflow-db",
    TableName: "airflow-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
});
after(async () => store?.close());

onEachDatabase(
  "backfills",
  {
    start: now,
    dags,
    scheduler: { retention: { describeTable: (db, table) => store.describeTable(db, table) } },
  },
  (harness) => {
    it("a dry run lists the seed's 25 intervals and warns about those older than the table's retention", async () => {
      const h = harness();
      const { plan, backfill } = await h.service.createBackfill({
        dagId: "seed",
        from: "2021-09-21",
        to: "2021-09-22",
        dryRun: true,
      });
      assert.equal(backfill, undefined);
      assert.equal(plan.intervals.length, 25);
      assert.equal(plan.intervals[0]!.runId, "backfill__2021-09-21T00:00:00+00:00");
      assert.equal(plan.intervals[1]!.runId, "backfill__2021-09-21T01:00:00+00:00");
      assert.equal(plan.intervals[24]!.runId, "backfill__2021-09-22T00:00:00+00:00");
      assert.equal(plan.intervals[24]!.end, "2021-09-22T01:00:00.000Z");
      assert.equal(plan.warnings.length, 1);
      assert.match(
        plan.warnings[0]!,
        /^10 of 25 intervals start before 2021-09-21T09:20:39\.000Z, older than the retention of "airflow-db"\."airflow-table" \(memory 24 h \+ magnetic 1 d\)/,
      );
      assert.equal((await h.service.listBackfills()).length, 0, "a dry run creates nothing");
    });

    it("runs the seed's backfill: 25 runs with backfill__ run ids, progress to 25/25, completed", async () => {
      const h = harness();
      const seen: BackfillProgress[] = [];
      const off = h.scheduler.events.on("backfill:progress", ({ progress }) => seen.push(progress));
      const created = await h.service.createBackfill({
        dagId: "seed",
        from: "2021-09-21",
        to: "2021-09-22",
        maxActiveRuns: 5,
      });
      assert.equal(created.backfill?.state, "queued");
      assert.equal(created.results?.filter((r) => r.disposition === "created").length, 25);
      let most = 0;
      h.scheduler.events.on("run:started", async () => {
        most = Math.max(
          most,
          (await h.metadata.countActive({ backfillId: created.backfill!.id })).runningRuns,
        );
      });
      await h.work();
      off();
      const runs = await h.runs("seed");
      assert.equal(runs.length, 25);
      assert.deepEqual(
        runs.slice(0, 2).map((r) => [r.runId, r.runType, r.state]),
        [
          ["backfill__2021-09-21T00:00:00+00:00", "backfill", "success"],
          ["backfill__2021-09-21T01:00:00+00:00", "backfill", "success"],
        ],
      );
      assert.ok(runs.every((r) => r.state === "success"));
      assert.ok(most <= 5, `at most maxActiveRuns at once, saw ${most}`);
      const view = await h.service.getBackfill(created.backfill!.id);
      assert.equal(view.state, "completed");
      assert.deepEqual([view.progress?.done, view.progress?.total, view.progress?.succeeded], [25, 25, 25]);
      assert.equal(seen.at(-1)?.state, "completed");
      assert.ok(
        seen.some((p) => p.done > 0 && p.done < 25),
        "progress was announced along the way",
      );
    });

    it("again over the same range: skipped (reprocess none) or run again (reprocess all)", async () => {
      const h = harness();
      const skipped = await h.service.createBackfill({
        dagId: "seed",
        from: "2021-09-21T00:00Z",
        to: "2021-09-21T02:00Z",
      });
      assert.deepEqual(
        skipped.results?.map((r) => r.disposition),
        ["skipped", "skipped", "skipped"],
      );
      assert.match(skipped.results?.[0]?.reason ?? "", /already ended success/);
      await h.work();
      assert.equal((await h.service.getBackfill(skipped.backfill!.id)).state, "completed");
      const again = await h.service.createBackfill({
        dagId: "seed",
        from: "2021-09-21T00:00Z",
        to: "2021-09-21T02:00Z",
        reprocess: "all",
      });
      assert.deepEqual(
        again.results?.map((r) => r.disposition),
        ["reprocessed", "reprocessed", "reprocessed"],
      );
      const ran = await h.work();
      assert.deepEqual(
        ran.map((ti) => ti.tryNumber),
        [2, 2, 2],
      );
    });

    it("backfill tasks yield to scheduled ones; pause, resume and cancel", async () => {
      const h = harness();
      const created = await h.service.createBackfill({
        dagId: "seed",
        from: "2021-09-20T00:00Z",
        to: "2021-09-20T05:00Z",
        maxActiveRuns: 2,
      });
      const id = created.backfill!.id;
      await h.unpause("seed");
      await h.scheduler.tick();
      const [first] = await h.metadata.claimTaskInstances("test-worker", 1, h.clock.now);
      const firstRun = await h.metadata.getRun(first!.dagRunId);
      assert.equal(
        firstRun?.runType,
        "scheduled",
        "the scheduled run's task is claimed before the backfill's",
      );
      await h.metadata.finishTry(
        { dagRunId: first!.dagRunId, taskId: first!.taskId, tryNumber: 1, workerId: "test-worker" },
        { state: "success" },
        h.clock.now,
      );
      await h.service.setPaused("seed", true);

      assert.equal((await h.service.pauseBackfill(id)).state, "paused");
      await rejectsWith(
        h.service.pauseBackfill(id),
        "Conflict",
        /backfill \d+ is paused: only a queued or running backfill can become paused/,
      );
      await h.work();
      const paused = await h.service.getBackfill(id);
      assert.equal(paused.progress?.done, 2, "the two runs already running finished; no other started");
      assert.equal((await h.service.resumeBackfill(id)).state, "running");
      await h.scheduler.tick();
      const cancelled = await h.service.cancelBackfill(id);
      assert.equal(cancelled.state, "cancelled");
      await h.work();
      const runs = await h.metadata.listRuns({ backfillId: id });
      assert.equal(runs.filter((r) => r.state === "failed").length, 2, "runs that never started fail");
      assert.equal(runs.filter((r) => r.state === "success").length, 4);
      await rejectsWith(h.service.cancelBackfill(id), "Conflict", /is already cancelled/);
    });

    it("refuses bad requests with clear errors", async () => {
      const h = harness();
      await rejectsWith(
        h.service.createBackfill({ dagId: "seed", from: "2021-09-22", to: "2021-09-21" }),
        "ValidationError",
        /backfill range is reversed: from 2021-09-22T00:00:00\.000Z is after to 2021-09-21/,
      );
      await rejectsWith(
        h.service.createBackfill({ dagId: "ends", from: "2021-09-09", to: "2021-09-11" }),
        "ValidationError",
        /goes past the DAG's end date 2021-09-10T00:00:00\.000Z/,
      );
      await rejectsWith(
        h.service.createBackfill({ dagId: "ghost", from: "2021-09-21", to: "2021-09-22" }),
        "NotFound",
        /DAG "ghost" is not known/,
      );
      await rejectsWith(
        h.service.createBackfill({ dagId: "manual", from: "2021-09-21", to: "2021-09-22" }),
        "ValidationError",
        /has no periodic intervals to backfill/,
      );
      await rejectsWith(
        h.service.createBackfill({ dagId: "seed", from: "21/09/2021", to: "2021-09-22" }),
        "ValidationError",
        /from: invalid date "21\/09\/2021"/,
      );
      await rejectsWith(
        h.service.createBackfill({ dagId: "seed", from: "2021-09-21T00:30Z", to: "2021-09-21T00:40Z" }),
        "ValidationError",
        /no interval of "0 \*\/1 \* \* \*" starts between/,
      );
      await rejectsWith(
        h.service.createBackfill({
          dagId: "seed",
          from: "2021-09-21",
          to: "2021-09-22",
          reprocess: "some" as "all",
        }),
        "ValidationError",
        /reprocess must be one of none, failed, all/,
      );
      await rejectsWith(
        h.service.createBackfill({ dagId: "seed", from: "2021-09-21", to: "2021-09-22", maxActiveRuns: 0 }),
        "ValidationError",
        /maxActiveRuns must be an integer >= 1/,
      );
      const open = await h.service.createBackfill({
        dagId: "seed",
        from: "2021-09-19",
        to: "2021-09-19T01:00Z",
      });
      await rejectsWith(
        h.service.createBackfill({ dagId: "seed", from: "2021-09-18", to: "2021-09-18" }),
        "Conflict",
        /already has backfill \d+ \(queued\)/,
      );
      await h.service.cancelBackfill(open.backfill!.id);
      await rejectsWith(h.service.getBackfill(9999), "NotFound", /backfill 9999 does not exist/);
    });
  },
);

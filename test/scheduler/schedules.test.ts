import assert from "node:assert/strict";
import { it } from "node:test";
import { Scheduler } from "../../src/workflows/scheduler/index.js";
import { dagSource, hourMs, iso, onEachDatabase } from "./helpers.js";

/** Table-driven: what the scheduler creates for each schedule shape (the pure planner has its own tests). */
const cases = [
  {
    id: "catchup-on",
    fields: { schedule: "@hourly", startDate: "2024-03-01T00:00:00Z" },
    first: [
      "2024-03-01T00:00",
      "2024-03-01T01:00",
      "2024-03-01T02:00",
      "2024-03-01T03:00",
      "2024-03-01T04:00",
    ],
    afterAnHour: ["2024-03-01T05:00"],
  },
  {
    id: "catchup-off",
    fields: { schedule: "@hourly", startDate: "2024-03-01T00:00:00Z", catchup: false },
    first: ["2024-03-01T04:00"],
    afterAnHour: ["2024-03-01T05:00"],
  },
  {
    id: "start-inside-interval",
    fields: { schedule: "0 */1 * * *", startDate: "2024-03-01T00:30:00Z" },
    first: ["2024-03-01T01:00", "2024-03-01T02:00", "2024-03-01T03:00", "2024-03-01T04:00"],
    afterAnHour: ["2024-03-01T05:00"],
  },
  {
    id: "end-date",
    fields: { schedule: "@hourly", startDate: "2024-03-01T00:00:00Z", endDate: "2024-03-01T02:30:00Z" },
    first: ["2024-03-01T00:00", "2024-03-01T01:00", "2024-03-01T02:00"],
    afterAnHour: [],
  },
  {
    id: "daily-leap-year",
    fields: { schedule: "@daily", startDate: "2024-02-27" },
    first: ["2024-02-27T00:00", "2024-02-28T00:00", "2024-02-29T00:00"],
    afterAnHour: [],
  },
  {
    id: "manual-only",
    fields: { schedule: null, startDate: "2024-03-01T00:00:00Z" },
    first: [],
    afterAnHour: [],
  },
] as const;

const dags = Object.fromEntries(cases.map((c) => [`${c.id}.ts`, dagSource({ id: c.id, ...c.fields })]));
const starts = async (h: ReturnType<Parameters<Parameters<typeof onEachDatabase>[2]>[0]>, dagId: string) =>
  (await h.runs(dagId)).map((run) => iso(run.dataIntervalStart).slice(0, 16));

onEachDatabase(
  "the scheduler creates exactly the due runs",
  { start: "2024-03-01T05:30:00Z", dags },
  (harness) => {
    it("starts new DAGs paused, and creates nothing for them", async () => {
      const h = harness();
      for (const c of cases) {
        const dag = await h.metadata.getDag(c.id);
        assert.equal(dag?.isPaused, true, c.id);
      }
      await h.scheduler.tick();
      assert.equal((await h.metadata.listRuns()).length, 0);
    });

    it("on unpause: catchup on, off, a start inside an interval, an end date, a daily schedule, manual only", async () => {
      const h = harness();
      for (const c of cases) await h.unpause(c.id);
      await h.scheduler.tick();
      for (const c of cases) assert.deepEqual(await starts(h, c.id), [...c.first], c.id);
      const run = (await h.runs("catchup-on"))[0]!;
      assert.equal(run.runId, "scheduled__2024-03-01T00:00:00+00:00");
      assert.equal(run.runType, "scheduled");
      assert.equal(iso(run.dataIntervalEnd), "2024-03-01T01:00:00.000Z");
    });

    it("creates nothing twice: ticking again, or a restarted scheduler on the same database", async () => {
      const h = harness();
      await h.scheduler.tick();
      const again = new Scheduler({
        metadata: h.metadata,
        dagsDirs: [h.dagsDir],
        clockMs: h.clock,
        tickMs: 0,
        watch: false,
      });
      await again.bag.start();
      await again.tick();
      await again.stop();
      for (const c of cases) assert.deepEqual(await starts(h, c.id), [...c.first], c.id);
    });

    it("an hour later, each schedule's next interval (and none past an end date)", async () => {
      const h = harness();
      h.clock.advance(hourMs);
      await h.scheduler.tick();
      for (const c of cases) assert.deepEqual(await starts(h, c.id), [...c.first, ...c.afterAnHour], c.id);
    });

    it("a crash after a run was created but before the schedule moved: the run is reused, not made again", async () => {
      const h = harness();
      h.clock.advance(hourMs);
      // What a scheduler that died between its two steps leaves: the run exists, the bookkeeping is behind.
      const interval = { start: Date.parse("2024-03-01T06:00:00Z"), end: Date.parse("2024-03-01T07:00:00Z") };
      const made = await h.metadata.createRun(
        {
          dagId: "catchup-on",
          runType: "scheduled",
          interval,
          runId: "scheduled__2024-03-01T06:00:00+00:00",
          tasks: [{ taskId: "only" }],
        },
        h.clock.now,
      );
      assert.equal(made.created, true);
      await h.scheduler.tick();
      const runs = await h.runs("catchup-on");
      assert.equal(runs.filter((r) => r.dataIntervalStart === interval.start).length, 1);
      assert.equal(runs.length, 7);
      assert.equal((await h.metadata.getDag("catchup-on"))?.lastScheduledIntervalEnd, interval.end);
    });

    it("a paused DAG gets no new runs; unpaused, it catches up on the hours it missed", async () => {
      const h = harness();
      await h.service.setPaused("catchup-on", true);
      h.clock.advance(3 * hourMs);
      await h.scheduler.tick();
      assert.equal((await h.runs("catchup-on")).length, 7);
      await h.service.setPaused("catchup-on", false);
      await h.scheduler.tick();
      assert.deepEqual((await starts(h, "catchup-on")).slice(-3), [
        "2024-03-01T07:00",
        "2024-03-01T08:00",
        "2024-03-01T09:00",
      ]);
    });
  },
);

import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { CreateRunResult, DagRun } from "../../src/workflows/metadata/index.js";
import { dagDefinition, hourInterval, hourMs, onEachDatabase, rejectsWith, t0 } from "./helpers.js";

function created(result: CreateRunResult): DagRun {
  assert.equal(result.created, true, "expected a new run");
  return (result as { run: DagRun }).run;
}

onEachDatabase("runs", (context) => {
  before(async () => {
    const { store } = context();
    for (const dagId of ["runs", "race", "manual", "listing", "states", "counts", "other"]) {
      await store.upsertDag(dagDefinition(dagId), t0);
    }
  });

  it("createRun creates a queued run with its task instances and default ids", async () => {
    const { store } = context();
    const run = created(
      await store.createRun(
        {
          dagId: "runs",
          runType: "scheduled",
          interval: hourInterval(0),
          conf: { region: "eu" },
          codeVersion: "v1",
          tasks: [{ taskId: "extract" }, { taskId: "load", retries: 2, retryDelayMs: 1000, priority: 5 }],
        },
        t0 + hourMs,
      ),
    );
    assert.equal(run.runId, "scheduled__2024-03-01T00:00:00+00:00");
    assert.equal(run.state, "queued");
    assert.equal(run.logicalDate, t0);
    assert.deepEqual([run.dataIntervalStart, run.dataIntervalEnd], [t0, t0 + hourMs]);
    assert.equal(run.intervalExplicit, true);
    assert.deepEqual(run.conf, { region: "eu" });
    assert.equal(run.createdAt, t0 + hourMs);
    assert.deepEqual(await store.getRun(run.id), run);
    assert.deepEqual(await store.getRunByRunId("runs", run.runId), run);
    const tasks = await store.listTaskInstances({ dagRunId: run.id });
    assert.deepEqual(
      tasks.map((ti) => [ti.taskId, ti.state, ti.tryNumber, ti.maxTries, ti.retryDelayMs, ti.priority]),
      [
        ["extract", "none", 0, 1, 0, 0],
        ["load", "none", 0, 3, 1000, 5],
      ],
    );
  });

  it("a second create of the same interval returns the existing run and creates nothing", async () => {
    const { store } = context();
    const first = created(
      await store.createRun({ dagId: "runs", runType: "scheduled", interval: hourInterval(1) }, t0),
    );
    const again = await store.createRun(
      {
        dagId: "runs",
        runType: "backfill",
        interval: hourInterval(1),
        runId: "another_id",
        tasks: [{ taskId: "x" }],
      },
      t0,
    );
    assert.deepEqual(again, { created: false, existing: first });
    const sameRunId = await store.createRun(
      { dagId: "runs", runType: "scheduled", interval: hourInterval(2), runId: first.runId },
      t0,
    );
    assert.deepEqual(sameRunId, { created: false, existing: first });
    assert.equal((await store.listRuns({ dagId: "runs", interval: hourInterval(1) })).length, 1);
    assert.deepEqual(await store.listTaskInstances({ dagRunId: first.id }), []);
    // Another DAG may have a run for the same interval.
    created(await store.createRun({ dagId: "other", runType: "scheduled", interval: hourInterval(1) }, t0));
  });

  it("concurrent creators of the same intervals: exactly one run per interval", async () => {
    const { store, openAnother } = context();
    const others = [await openAnother(), await openAnother()];
    const intervals = Array.from({ length: 20 }, (_, index) => hourInterval(100 + index));
    const attempts = intervals.flatMap((interval) =>
      [store, ...others].map((creator, index) =>
        creator.createRun(
          {
            dagId: "race",
            runType: index === 0 ? "scheduled" : "backfill",
            runId: `creator${index}__${interval.start}`,
            interval,
            tasks: [{ taskId: "a" }, { taskId: "b" }],
          },
          t0,
        ),
      ),
    );
    const results = await Promise.all(attempts);
    assert.equal(results.filter((result) => result.created).length, intervals.length);
    const runs = await store.listRuns({ dagId: "race" });
    assert.equal(runs.length, intervals.length);
    for (const result of results) {
      const run = result.created ? result.run : result.existing;
      assert.ok(runs.some((candidate) => candidate.id === run.id));
    }
    const tasks = await store.listTaskInstances({ dagId: "race" });
    assert.equal(tasks.length, intervals.length * 2);
  });

  it("manual runs: without an interval they cover their instant and never collide with intervals", async () => {
    const { store } = context();
    created(await store.createRun({ dagId: "manual", runType: "scheduled", interval: hourInterval(0) }, t0));
    const trigger = created(await store.createRun({ dagId: "manual", runType: "manual" }, t0 + 5000));
    assert.equal(trigger.intervalExplicit, false);
    assert.deepEqual(
      [trigger.logicalDate, trigger.dataIntervalStart, trigger.dataIntervalEnd],
      [t0 + 5000, t0 + 5000, t0 + 5000],
    );
    assert.equal(trigger.runId, "manual__2024-03-01T00:00:05+00:00");
    created(await store.createRun({ dagId: "manual", runType: "manual" }, t0 + 6000));
    const atSameInstant = await store.createRun({ dagId: "manual", runType: "manual" }, t0 + 5000);
    assert.equal(atSameInstant.created, false, "same default run id");
    // With an explicit interval a manual run counts like any other.
    const explicit = await store.createRun(
      { dagId: "manual", runType: "manual", interval: hourInterval(0) },
      t0,
    );
    assert.equal(explicit.created, false);
    const fresh = created(
      await store.createRun({ dagId: "manual", runType: "manual", interval: hourInterval(1) }, t0),
    );
    assert.equal(fresh.intervalExplicit, true);
    const scheduledLater = await store.createRun(
      { dagId: "manual", runType: "scheduled", interval: hourInterval(1) },
      t0,
    );
    assert.deepEqual(scheduledLater, { created: false, existing: fresh });
  });

  it("refuses bad runs with clear errors", async () => {
    const { store } = context();
    await rejectsWith(
      store.createRun({ dagId: "runs", runType: "scheduled" }, t0),
      "ValidationError",
      /a scheduled run needs an interval/,
    );
    await rejectsWith(
      store.createRun({ dagId: "runs", runType: "scheduled", interval: { start: t0 + 1, end: t0 } }, t0),
      "ValidationError",
      /interval must have start <= end/,
    );
    await rejectsWith(
      store.createRun({ dagId: "runs", runType: "weekly" as never, interval: hourInterval(9) }, t0),
      "ValidationError",
      /runType must be one of scheduled, backfill, manual/,
    );
    await rejectsWith(
      store.createRun({ dagId: "nope", runType: "scheduled", interval: hourInterval(9) }, t0),
      "NotFound",
      /DAG nope does not exist/,
    );
    await rejectsWith(
      store.createRun({ dagId: "runs", runType: "manual", conf: [1] as never }, t0),
      "ValidationError",
      /conf must be a JSON object/,
    );
    await rejectsWith(
      store.createRun(
        {
          dagId: "runs",
          runType: "scheduled",
          interval: hourInterval(9),
          tasks: [{ taskId: "a" }, { taskId: "a" }],
        },
        t0,
      ),
      "ValidationError",
      /task a is listed twice/,
    );
    await rejectsWith(
      store.createRun(
        {
          dagId: "runs",
          runType: "scheduled",
          interval: hourInterval(9),
          tasks: [{ taskId: "a", retries: -1 }],
        },
        t0,
      ),
      "ValidationError",
      /tasks\[0\]\.retries must be an integer >= 0/,
    );
    assert.equal((await store.listRuns({ dagId: "runs", interval: hourInterval(9) })).length, 0);
  });

  it("listRuns filters by state, type, interval and backfill, in logical-date order", async () => {
    const { store } = context();
    const runs: DagRun[] = [];
    for (let index = 0; index < 4; index++) {
      runs.push(
        created(
          await store.createRun(
            {
              dagId: "listing",
              runType: index === 3 ? "backfill" : "scheduled",
              interval: hourInterval(index),
            },
            t0,
          ),
        ),
      );
    }
    await store.setRunState(runs[1]!.id, { to: "running" }, t0);
    const all = await store.listRuns({ dagId: "listing" });
    assert.deepEqual(
      all.map((run) => run.id),
      runs.map((run) => run.id),
    );
    assert.deepEqual(
      (await store.listRuns({ dagId: "listing", order: "desc", limit: 2 })).map((run) => run.id),
      [runs[3]!.id, runs[2]!.id],
    );
    assert.deepEqual(
      (await store.listRuns({ dagId: "listing", states: ["running"] })).map((run) => run.id),
      [runs[1]!.id],
    );
    assert.deepEqual(
      (await store.listRuns({ dagId: "listing", runTypes: ["backfill"] })).map((run) => run.id),
      [runs[3]!.id],
    );
    assert.deepEqual(
      (
        await store.listRuns({
          dagId: "listing",
          interval: { start: hourInterval(1).start, end: hourInterval(2).end },
        })
      ).map((run) => run.id),
      [runs[1]!.id, runs[2]!.id],
    );
    assert.deepEqual(await store.listRuns({ dagId: "listing", states: [] }), []);
    await rejectsWith(
      store.listRuns({ states: ["done" as never] }),
      "ValidationError",
      /states\[0\] must be one of/,
    );
    await rejectsWith(store.listRuns({ limit: 0 }), "ValidationError", /limit must be a positive integer/);
    await rejectsWith(
      store.listRuns({ order: "up" as never }),
      "ValidationError",
      /order must be one of asc, desc/,
    );
  });

  it("setRunState is a compare-and-set that stamps start and end", async () => {
    const { store } = context();
    const run = created(
      await store.createRun({ dagId: "states", runType: "scheduled", interval: hourInterval(0) }, t0),
    );
    const running = await store.setRunState(run.id, { from: ["queued"], to: "running" }, t0 + 10);
    assert.equal(running?.state, "running");
    assert.equal(running?.startedAt, t0 + 10);
    assert.equal(await store.setRunState(run.id, { from: ["queued"], to: "running" }, t0 + 20), null);
    const again = await store.setRunState(run.id, { to: "running" }, t0 + 30);
    assert.equal(again?.startedAt, t0 + 10, "the first start is kept");
    const done = await store.setRunState(run.id, { from: ["running"], to: "success" }, t0 + 40);
    assert.equal(done?.endedAt, t0 + 40);
    await rejectsWith(
      store.setRunState(999_999, { to: "running" }, t0),
      "NotFound",
      /run 999999 does not exist/,
    );
    await rejectsWith(
      store.setRunState(run.id, { to: "done" as never }, t0),
      "ValidationError",
      /to must be one of/,
    );
    await rejectsWith(
      store.setRunState(run.id, { to: "failed", from: [] }, t0),
      "ValidationError",
      /from must list/,
    );
  });

  it("countActive counts queued and running runs and task instances per DAG", async () => {
    const { store } = context();
    const tasks = [{ taskId: "a" }, { taskId: "b" }, { taskId: "c" }];
    const first = created(
      await store.createRun({ dagId: "counts", runType: "scheduled", interval: hourInterval(0), tasks }, t0),
    );
    created(
      await store.createRun({ dagId: "counts", runType: "scheduled", interval: hourInterval(1), tasks }, t0),
    );
    await store.setRunState(first.id, { to: "running" }, t0);
    await store.transitionTaskInstances(first.id, ["a", "b"], { from: ["none"], to: "queued" }, t0);
    await store.registerWorker({ workerId: "counter", pid: 1, host: "h" }, t0);
    assert.equal((await store.claimTaskInstances("counter", 1, t0)).length, 1);
    assert.deepEqual(await store.countActive({ dagId: "counts" }), {
      queuedRuns: 1,
      runningRuns: 1,
      queuedTasks: 1,
      runningTasks: 1,
    });
    assert.deepEqual(await store.countActive({ dagId: "no_such_dag" }), {
      queuedRuns: 0,
      runningRuns: 0,
      queuedTasks: 0,
      runningTasks: 0,
    });
  });
});

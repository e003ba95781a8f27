import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { CreateBackfillInput, MetadataStore } from "../../src/workflows/metadata/index.js";
import { dagDefinition, hourInterval, hourMs, onEachDatabase, rejectsWith, t0 } from "./helpers.js";

const tasks = [{ taskId: "export" }];

function backfillOf(
  dagId: string,
  first: number,
  count: number,
  reprocess: CreateBackfillInput["reprocess"],
) {
  const intervals = Array.from({ length: count }, (_, index) => hourInterval(first + index));
  return {
    dagId,
    from: intervals[0]!.start,
    to: intervals[intervals.length - 1]!.end,
    reprocess,
    maxActiveRuns: 2,
    intervals,
    tasks,
  } satisfies CreateBackfillInput;
}

/** Runs a run's only task to `outcome` and sets the run's state to match. */
async function finishRun(store: MetadataStore, dagRunId: number, outcome: "success" | "failed", now: number) {
  await store.setRunState(dagRunId, { to: "running" }, now);
  await store.transitionTaskInstances(dagRunId, ["export"], { from: ["none"], to: "queued" }, now);
  const [ti] = await store.claimTaskInstances("bw", 1, now);
  assert.equal(ti?.dagRunId, dagRunId);
  await store.finishTry(
    { dagRunId, taskId: "export", tryNumber: ti.tryNumber, workerId: "bw" },
    outcome === "success" ? { state: "success" } : { state: "failed", error: "no", retry: false },
    now,
  );
  await store.setRunState(dagRunId, { to: outcome }, now);
}

onEachDatabase("backfills", (context) => {
  before(async () => {
    const { store } = context();
    for (const dagId of ["bf", "bf_all", "bf_cancel", "bf_bad"])
      await store.upsertDag(dagDefinition(dagId), t0);
  });

  it("creates one run per interval, reprocesses failed runs, skips the rest, and reports progress", async () => {
    const { store } = context();
    const ok = await store.createRun(
      { dagId: "bf", runType: "scheduled", interval: hourInterval(0), tasks },
      t0,
    );
    const bad = await store.createRun(
      { dagId: "bf", runType: "scheduled", interval: hourInterval(1), tasks },
      t0,
    );
    const busy = await store.createRun(
      { dagId: "bf", runType: "scheduled", interval: hourInterval(2), tasks },
      t0,
    );
    assert.ok(ok.created && bad.created && busy.created);
    await finishRun(store, ok.run.id, "success", t0 + 1);
    await finishRun(store, bad.run.id, "failed", t0 + 2);

    const { backfill, results } = await store.createBackfill(backfillOf("bf", 0, 5, "failed"), t0 + 10);
    assert.deepEqual(
      [
        backfill.state,
        backfill.total,
        backfill.reprocess,
        backfill.maxActiveRuns,
        backfill.from,
        backfill.to,
      ],
      ["queued", 5, "failed", 2, t0, t0 + 5 * hourMs],
    );
    assert.deepEqual(
      results.map((result) => [result.start, result.disposition, result.reason]),
      [
        [t0, "skipped", `run ${ok.run.runId} already ended success`],
        [t0 + hourMs, "reprocessed", undefined],
        [t0 + 2 * hourMs, "skipped", `run ${busy.run.runId} is already queued`],
        [t0 + 3 * hourMs, "created", undefined],
        [t0 + 4 * hourMs, "created", undefined],
      ],
    );
    const reprocessed = await store.getRun(bad.run.id);
    assert.deepEqual(
      [reprocessed?.state, reprocessed?.backfillId, reprocessed?.clearNumber],
      ["queued", backfill.id, 1],
    );
    assert.equal((await store.getTaskInstance({ dagRunId: bad.run.id, taskId: "export" }))?.state, "none");
    const fresh = await store.listRuns({ dagId: "bf", runTypes: ["backfill"] });
    assert.equal(fresh.length, 2);
    assert.ok(fresh.every((run) => run.backfillId === backfill.id && run.runId.startsWith("backfill__")));
    assert.equal((await store.listRuns({ backfillId: backfill.id })).length, 3);
    assert.equal((await store.countActive({ backfillId: backfill.id })).queuedRuns, 3);

    const before = await store.getBackfillProgress(backfill.id);
    assert.deepEqual(before, {
      backfillId: backfill.id,
      state: "queued",
      total: 5,
      created: 2,
      reprocessed: 1,
      skipped: 2,
      queued: 3,
      running: 0,
      succeeded: 0,
      failed: 0,
      done: 2,
    });
    await store.setBackfillState(backfill.id, { from: ["queued"], to: "running" }, t0 + 11);
    const runIds = results
      .filter((result) => result.disposition !== "skipped")
      .map((result) => result.dagRunId);
    await finishRun(store, runIds[0]!, "success", t0 + 20);
    await finishRun(store, runIds[1]!, "failed", t0 + 21);
    await finishRun(store, runIds[2]!, "success", t0 + 22);
    const after = await store.getBackfillProgress(backfill.id);
    assert.deepEqual(
      [after.state, after.succeeded, after.failed, after.done, after.total],
      ["running", 2, 1, 5, 5],
    );
    const completed = await store.setBackfillState(
      backfill.id,
      { from: ["running"], to: "completed" },
      t0 + 30,
    );
    assert.deepEqual([completed?.state, completed?.completedAt], ["completed", t0 + 30]);
    assert.equal(
      await store.setBackfillState(backfill.id, { from: ["running"], to: "paused" }, t0 + 31),
      null,
    );
  });

  it("reprocess all reruns finished runs; one unfinished backfill per DAG", async () => {
    const { store } = context();
    const done = await store.createRun(
      { dagId: "bf_all", runType: "scheduled", interval: hourInterval(0), tasks },
      t0,
    );
    assert.ok(done.created);
    await finishRun(store, done.run.id, "success", t0 + 1);
    const { backfill, results } = await store.createBackfill(backfillOf("bf_all", 0, 2, "all"), t0 + 2);
    assert.deepEqual(
      results.map((result) => result.disposition),
      ["reprocessed", "created"],
    );
    await rejectsWith(
      store.createBackfill(backfillOf("bf_all", 5, 2, "none"), t0 + 3),
      "Conflict",
      new RegExp(`DAG bf_all already has backfill ${backfill.id} \\(queued\\)`),
    );
    await store.setBackfillState(backfill.id, { to: "paused" }, t0 + 4);
    assert.deepEqual(
      (await store.listBackfills({ dagId: "bf_all", states: ["paused"] })).map((item) => item.id),
      [backfill.id],
    );
    assert.deepEqual(
      await store.getBackfill(backfill.id),
      (await store.listBackfills({ dagId: "bf_all" }))[0],
    );
  });

  it("cancel fails the runs that never started and leaves running ones alone", async () => {
    const { store } = context();
    const { backfill, results } = await store.createBackfill(backfillOf("bf_cancel", 0, 3, "none"), t0);
    const [started, waiting] = results.map((result) => result.dagRunId);
    await store.setRunState(started!, { to: "running" }, t0 + 1);
    const cancelled = await store.cancelBackfill(backfill.id, t0 + 2);
    assert.deepEqual([cancelled.state, cancelled.completedAt], ["cancelled", t0 + 2]);
    assert.equal((await store.getRun(started!))?.state, "running");
    assert.equal((await store.getRun(waiting!))?.state, "failed");
    assert.equal((await store.getTaskInstance({ dagRunId: waiting!, taskId: "export" }))?.state, "skipped");
    await rejectsWith(store.cancelBackfill(backfill.id, t0 + 3), "Conflict", /is already cancelled/);
    // A new backfill may start once the old one is finished.
    const next = await store.createBackfill(backfillOf("bf_cancel", 10, 1, "none"), t0 + 4);
    assert.equal(next.backfill.state, "queued");
  });

  it("refuses bad backfills with clear errors", async () => {
    const { store } = context();
    await rejectsWith(
      store.createBackfill({ ...backfillOf("bf_bad", 0, 1, "none"), intervals: [] }, t0),
      "ValidationError",
      /holds no interval of the schedule/,
    );
    await rejectsWith(
      store.createBackfill({ ...backfillOf("bf_bad", 0, 1, "none"), intervals: [hourInterval(3)] }, t0),
      "ValidationError",
      /intervals\[0\] .* is outside the backfill range/,
    );
    await rejectsWith(
      store.createBackfill(
        { ...backfillOf("bf_bad", 0, 2, "none"), intervals: [hourInterval(0), hourInterval(0)] },
        t0,
      ),
      "ValidationError",
      /intervals\[1\] .* is listed twice/,
    );
    await rejectsWith(
      store.createBackfill({ ...backfillOf("bf_bad", 0, 1, "none"), from: t0 + hourMs, to: t0 }, t0),
      "ValidationError",
      /range must have start < end/,
    );
    await rejectsWith(
      store.createBackfill({ ...backfillOf("bf_bad", 0, 1, "none"), reprocess: "some" as never }, t0),
      "ValidationError",
      /reprocess must be one of none, failed, all/,
    );
    await rejectsWith(
      store.createBackfill({ ...backfillOf("bf_bad", 0, 1, "none"), maxActiveRuns: 0 }, t0),
      "ValidationError",
      /maxActiveRuns must be an integer >= 1/,
    );
    await rejectsWith(
      store.createBackfill(backfillOf("nope", 0, 1, "none"), t0),
      "NotFound",
      /DAG nope does not exist/,
    );
    await rejectsWith(store.getBackfillProgress(999_999), "NotFound", /backfill 999999 does not exist/);
    await rejectsWith(store.cancelBackfill(999_999, t0), "NotFound", /backfill 999999 does not exist/);
    await rejectsWith(
      store.setBackfillState(999_999, { to: "paused" }, t0),
      "NotFound",
      /backfill 999999 does not exist/,
    );
    assert.deepEqual(await store.listBackfills({ dagId: "bf_bad" }), [], "nothing was half-created");
    assert.deepEqual(await store.listRuns({ dagId: "bf_bad" }), []);
  });
});

import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { MetadataStore, TaskState } from "../../src/workflows/metadata/index.js";
import { dagDefinition, hourInterval, onEachDatabase, rejectsWith, t0 } from "./helpers.js";

const dagId = "clearing";
const tasks = [{ taskId: "extract", retries: 1 }, { taskId: "transform", retries: 1 }, { taskId: "load" }];

/**
 * A finished run: extract succeeded (try 1), transform failed twice (tries 1 and 2), load
 * upstream_failed. Returns its id.
 */
async function failedRun(store: MetadataStore, index: number): Promise<number> {
  const result = await store.createRun(
    { dagId, runType: "scheduled", interval: hourInterval(index), tasks },
    t0,
  );
  assert.ok(result.created);
  const runId = result.run.id;
  await store.setRunState(runId, { to: "running" }, t0);
  const run = async (taskId: string, outcome: "success" | "failed", now: number) => {
    await store.transitionTaskInstances(
      runId,
      [taskId],
      { from: ["none", "up_for_retry"], to: "queued" },
      now,
    );
    const [ti] = await store.claimTaskInstances("w", 1, now);
    assert.equal(ti?.taskId, taskId);
    await store.finishTry(
      { dagRunId: runId, taskId, tryNumber: ti.tryNumber, workerId: "w" },
      outcome === "success" ? { state: "success" } : { state: "failed", error: `${taskId} broke` },
      now + 1,
    );
  };
  await run("extract", "success", t0 + 10);
  await run("transform", "failed", t0 + 20);
  await run("transform", "failed", t0 + 30);
  await store.transitionTaskInstances(runId, ["load"], { from: ["none"], to: "upstream_failed" }, t0 + 40);
  await store.setRunState(runId, { to: "failed" }, t0 + 40);
  return runId;
}

async function states(
  store: MetadataStore,
  runId: number,
): Promise<Record<string, [TaskState, number, number]>> {
  const result: Record<string, [TaskState, number, number]> = {};
  for (const ti of await store.listTaskInstances({ dagRunId: runId }))
    result[ti.taskId] = [ti.state, ti.tryNumber, ti.maxTries];
  return result;
}

onEachDatabase("clearing", (context) => {
  before(async () => {
    await context().store.upsertDag(dagDefinition(dagId), t0);
  });

  it("clearing failed tasks resets them, keeps earlier tries, and requeues the run", async () => {
    const { store } = context();
    const runId = await failedRun(store, 0);
    assert.deepEqual(await states(store, runId), {
      extract: ["success", 1, 2],
      transform: ["failed", 2, 2],
      load: ["upstream_failed", 0, 1],
    });
    const cleared = await store.clearTaskInstances({ dagId, dagRunIds: [runId], onlyFailed: true }, t0 + 100);
    assert.deepEqual(cleared, {
      dagRunIds: [runId],
      taskInstances: [
        { dagRunId: runId, taskId: "load" },
        { dagRunId: runId, taskId: "transform" },
      ],
    });
    // The next try is try 3, with a fresh allowance of one retry.
    assert.deepEqual(await states(store, runId), {
      extract: ["success", 1, 2],
      transform: ["none", 2, 4],
      load: ["none", 0, 1],
    });
    const run = await store.getRun(runId);
    assert.deepEqual([run?.state, run?.clearNumber, run?.endedAt, run?.startedAt], ["queued", 1, null, null]);
    assert.deepEqual(
      (await store.listTaskTries({ dagRunId: runId, taskId: "transform" })).map((attempt) => [
        attempt.tryNumber,
        attempt.state,
      ]),
      [
        [1, "failed"],
        [2, "failed"],
      ],
    );
    await store.transitionTaskInstances(runId, ["transform"], { from: ["none"], to: "queued" }, t0 + 200);
    const [again] = await store.claimTaskInstances("w", 1, t0 + 200);
    assert.equal(again?.tryNumber, 3);
    assert.equal((await store.listTaskTries({ dagRunId: runId, taskId: "transform" })).length, 3);
  });

  it("clears by interval and task, with the caller's downstream tasks only where something was selected", async () => {
    const { store } = context();
    const first = await failedRun(store, 10);
    const second = await failedRun(store, 11);
    // `first` has nothing failed any more, so only `second` has a selected task instance.
    await store.markRun(first, "success", t0 + 50);
    const cleared = await store.clearTaskInstances(
      {
        dagId,
        interval: { start: hourInterval(10).start, end: hourInterval(11).end },
        taskIds: ["transform"],
        onlyFailed: true,
        downstreamTaskIds: ["load"],
      },
      t0 + 100,
    );
    assert.deepEqual(cleared.dagRunIds, [second]);
    assert.deepEqual(
      cleared.taskInstances.map((key) => key.taskId),
      ["load", "transform"],
    );
    assert.equal((await store.getRun(first))?.state, "success", "untouched");
    assert.equal((await store.getRun(first))?.clearNumber, 0);
  });

  it("clearing a running task closes its try; its worker's late finish is ignored; a running run stays running", async () => {
    const { store } = context();
    const result = await store.createRun(
      { dagId, runType: "scheduled", interval: hourInterval(20), tasks },
      t0,
    );
    assert.ok(result.created);
    const runId = result.run.id;
    await store.setRunState(runId, { to: "running" }, t0);
    await store.transitionTaskInstances(runId, ["extract"], { from: ["none"], to: "queued" }, t0);
    await store.registerWorker({ workerId: "busy", pid: 7, host: "box" }, t0);
    const [ti] = await store.claimTaskInstances("busy", 1, t0 + 1);
    assert.ok(ti);
    await store.clearTaskInstances({ dagId, dagRunIds: [runId], taskIds: ["extract"] }, t0 + 5);
    const [attempt] = await store.listTaskTries(ti);
    assert.deepEqual(
      [attempt?.state, attempt?.endedAt, attempt?.error],
      ["failed", t0 + 5, "cleared while running"],
    );
    assert.equal(
      await store.finishTry(
        { dagRunId: runId, taskId: "extract", tryNumber: 1, workerId: "busy" },
        { state: "success" },
        t0 + 9,
      ),
      null,
    );
    assert.equal((await store.getTaskInstance(ti))?.state, "none");
    assert.deepEqual((await store.heartbeat("busy", t0 + 10)).running, [], "the worker must stop its try");
    const run = await store.getRun(runId);
    assert.deepEqual([run?.state, run?.clearNumber, run?.startedAt], ["running", 1, t0]);
  });

  it("refuses a clear that does not say which runs", async () => {
    const { store } = context();
    await rejectsWith(store.clearTaskInstances({ dagId }, t0), "ValidationError", /say which runs to clear/);
    await rejectsWith(
      store.clearTaskInstances({ dagId, interval: { start: t0 + 1, end: t0 } }, t0),
      "ValidationError",
      /interval must have start <= end/,
    );
    assert.deepEqual(await store.clearTaskInstances({ dagId, dagRunIds: [] }, t0), {
      dagRunIds: [],
      taskInstances: [],
    });
  });

  it("markRun success settles every unfinished task as success", async () => {
    const { store } = context();
    const runId = await failedRun(store, 30);
    const run = await store.markRun(runId, "success", t0 + 500);
    assert.deepEqual([run.state, run.endedAt], ["success", t0 + 500]);
    assert.deepEqual(
      Object.values(await states(store, runId)).map(([state]) => state),
      ["success", "success", "success"],
    );
  });

  it("markRun failed fails queued and running tasks, skips unstarted ones, and closes running tries", async () => {
    const { store } = context();
    const result = await store.createRun(
      { dagId, runType: "scheduled", interval: hourInterval(31), tasks },
      t0,
    );
    assert.ok(result.created);
    const runId = result.run.id;
    await store.setRunState(runId, { to: "running" }, t0);
    await store.transitionTaskInstances(
      runId,
      ["extract", "transform"],
      { from: ["none"], to: "queued" },
      t0,
    );
    const [running] = await store.claimTaskInstances("marker", 1, t0 + 1);
    assert.ok(running);
    await store.markRun(runId, "failed", t0 + 11);
    const after = await states(store, runId);
    assert.equal(after[running.taskId]?.[0], "failed");
    assert.equal(after.load?.[0], "skipped");
    assert.deepEqual(
      Object.values(after)
        .map(([state]) => state)
        .sort(),
      ["failed", "failed", "skipped"],
    );
    const [attempt] = await store.listTaskTries(running);
    assert.deepEqual(
      [attempt?.state, attempt?.error],
      ["failed", "run marked failed while this try was running"],
    );
    assert.equal((await store.getTaskInstance(running))?.durationMs, 10);
    await rejectsWith(store.markRun(999_999, "failed", t0), "NotFound", /run 999999 does not exist/);
    await rejectsWith(
      store.markRun(runId, "running" as never, t0),
      "ValidationError",
      /state must be one of success, failed/,
    );
  });
});

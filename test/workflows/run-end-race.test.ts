/**
 * A clear that commits between the scheduler reading a run's task instances and the scheduler
 * ending the run must win: the run stays open (a clear keeps a running run running and bumps its
 * clear_number), and a later tick ends it on what the cleared tasks then do.
 *
 * The interleaving is made deterministic: the clear runs on a second store (its own connection)
 * at the exact moment the tick is about to end the run.
 */
import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { DagRun, MetadataStore } from "../../src/workflows/metadata/index.js";
import { advanceDag } from "../../src/workflows/scheduler/advance-runs.js";
import type { EventSink } from "../../src/workflows/scheduler/events.js";
import { dagDefinition, hourInterval, onEachDatabase, rejectsWith, t0 } from "../metadata/helpers.js";

const dagId = "end_race";
const tasks = [{ taskId: "extract" }, { taskId: "load" }];

/** Runs one task instance to success the way a worker does: queue, claim, finish. */
async function succeed(store: MetadataStore, dagRunId: number, taskId: string, now: number) {
  const queued = await store.transitionTaskInstances(
    dagRunId,
    [taskId],
    { from: ["none", "up_for_retry"], to: "queued" },
    now,
  );
  assert.equal(queued, 1, `${taskId} could not be queued`);
  const [ti] = await store.claimTaskInstances("race-worker", 1, now);
  assert.deepEqual([ti?.dagRunId, ti?.taskId], [dagRunId, taskId]);
  await store.finishTry(
    { dagRunId, taskId, tryNumber: ti!.tryNumber, workerId: "race-worker" },
    { state: "success" },
    now + 1,
  );
}

/** A running run whose task instances have all succeeded (but which is not ended yet). */
async function runWithAllTasksDone(store: MetadataStore, index: number): Promise<DagRun> {
  const created = await store.createRun(
    { dagId, runType: "scheduled", interval: hourInterval(index), tasks },
    t0,
  );
  assert.ok(created.created);
  const running = await store.setRunState(created.run.id, { from: ["queued"], to: "running" }, t0);
  assert.ok(running);
  for (const task of tasks) await succeed(store, running.id, task.taskId, t0 + 10);
  return running;
}

/** Records the runs the tick reports finished. */
function finishedRuns(): EventSink & { finished: DagRun[] } {
  return {
    finished: [],
    emit(event, payload) {
      if (event === "run:finished") this.finished.push((payload as { run: DagRun }).run);
    },
  };
}

onEachDatabase("ending a run that a clear just reopened", (context) => {
  before(async () => {
    await context().store.upsertDag(dagDefinition(dagId), t0);
  });

  it("setRunStates with the clear number read before the clear leaves the run running", async () => {
    const { store, openAnother } = context();
    const user = await openAnother();
    const run = await runWithAllTasksDone(store, 0);

    // The scheduler's read: the run (with its clear number), then its task instances, all ended.
    const [read] = await store.listRuns({ dagId, states: ["running"], interval: hourInterval(0) });
    assert.equal(read?.id, run.id);
    const tis = await store.listTaskInstances({ dagRunId: run.id });
    assert.deepEqual(
      tis.map((ti) => ti.state),
      ["success", "success"],
    );

    // The user's clear commits in between.
    const cleared = await user.clearTaskInstances({ dagId, dagRunIds: [run.id], taskIds: ["load"] }, t0 + 20);
    assert.deepEqual(cleared.dagRunIds, [run.id]);

    // The scheduler ends the run on its stale read: nothing moves.
    const stale = await store.setRunStates(
      [run.id],
      { to: "success", from: ["running"], clearNumbers: new Map([[run.id, read!.clearNumber]]) },
      t0 + 30,
    );
    assert.deepEqual(stale, []);
    const after = await store.getRun(run.id);
    assert.deepEqual([after?.state, after?.clearNumber, after?.endedAt], ["running", 1, null]);

    // A fresh tick reads the cleared task as unfinished and does not end the run ...
    const [fresh] = await store.listRuns({ dagId, states: ["running"], interval: hourInterval(0) });
    const freshTis = await store.listTaskInstances({ dagRunId: run.id });
    assert.equal(freshTis.find((ti) => ti.taskId === "load")?.state, "none");
    // ... until the cleared task ran again; then the run ends with the clear number it read.
    await succeed(store, run.id, "load", t0 + 40);
    const ended = await store.setRunStates(
      [run.id],
      { to: "success", from: ["running"], clearNumbers: new Map([[run.id, fresh!.clearNumber]]) },
      t0 + 50,
    );
    assert.deepEqual(
      ended.map((r) => [r.id, r.state, r.clearNumber, r.endedAt]),
      [[run.id, "success", 1, t0 + 50]],
    );
  });

  it("a tick whose end of the run races with a clear leaves the run for the next tick", async () => {
    const { kind, store, openAnother } = context();
    const user = await openAnother();
    const run = await runWithAllTasksDone(store, 1);
    const dagRow = await store.getDag(dagId);
    assert.ok(dagRow);
    const events = finishedRuns();

    // The clear commits right when the tick, having read the run's task instances, ends the run.
    let clearedAtEnd = 0;
    const clearingBeforeEnd = (tx: MetadataStore): MetadataStore =>
      new Proxy(tx, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== "function") return value;
          // The store's methods use private fields: call them on the store, not on the proxy.
          if (property !== "setRunStates") return value.bind(target);
          return async (...args: Parameters<MetadataStore["setRunStates"]>) => {
            if (args[1].to === "success" && args[0].includes(run.id)) {
              clearedAtEnd += 1;
              await user.clearTaskInstances({ dagId, dagRunIds: [run.id], taskIds: ["load"] }, t0 + 20);
            }
            return value.apply(target, args);
          };
        },
      });
    const tick = (nowMs: number, hook: boolean) => {
      const work = (tx: MetadataStore) =>
        advanceDag({
          metadata: hook ? clearingBeforeEnd(tx) : tx,
          events,
          nowMs,
          row: dagRow,
          // No loaded DAG: the tick only ends runs, which is all this test is about.
          loaded: undefined,
          backfills: [],
          onlyRuns: new Set([run.id]),
        });
      // As the scheduler does, one transaction per DAG per tick. SQLite's holds the write lock
      // from its first statement, so a clear from another connection could not commit inside it
      // (the race cannot happen there); the tick runs without one to interleave the clear anyway.
      return kind === "postgres" ? store.transaction(work) : work(store);
    };

    await tick(t0 + 30, true);
    assert.equal(clearedAtEnd, 1);
    const after = await store.getRun(run.id);
    assert.deepEqual([after?.state, after?.clearNumber, after?.endedAt], ["running", 1, null]);
    assert.equal(
      events.finished.some((r) => r.id === run.id),
      false,
    );

    // The next tick sees the cleared task unfinished and leaves the run running ...
    await tick(t0 + 40, false);
    assert.equal((await store.getRun(run.id))?.state, "running");
    // ... and once it ran again, the tick after ends the run.
    await succeed(store, run.id, "load", t0 + 50);
    await tick(t0 + 60, false);
    const ended = await store.getRun(run.id);
    assert.deepEqual([ended?.state, ended?.clearNumber, ended?.endedAt], ["success", 1, t0 + 60]);
    assert.deepEqual(
      events.finished.map((r) => [r.id, r.state]),
      [[run.id, "success"]],
    );
  });

  it("rejects clearNumbers that do not cover every run or are not clear numbers", async () => {
    const { store } = context();
    const created = await store.createRun({ dagId, runType: "manual", runId: "bad-input", tasks }, t0);
    assert.ok(created.created);
    const id = created.run.id;
    const change = (clearNumbers: unknown) => ({
      to: "success" as const,
      from: ["running" as const],
      clearNumbers: clearNumbers as ReadonlyMap<number, number>,
    });
    await rejectsWith(store.setRunStates([id], change(new Map()), t0), "ValidationError", /no entry/);
    await rejectsWith(store.setRunStates([id], change(new Map([[id, -1]])), t0), "ValidationError", />= 0/);
    await rejectsWith(store.setRunStates([id], change(new Map([[id, 1.5]])), t0), "ValidationError", />= 0/);
    await rejectsWith(store.setRunStates([id], change({ [id]: 0 }), t0), "ValidationError", /must be a Map/);
    // Nothing moved on a bad call.
    assert.equal((await store.getRun(id))?.state, "queued");
  });

  it("groups runs by clear number: only the runs still at the number read end", async () => {
    const { store } = context();
    const first = await runWithAllTasksDone(store, 2);
    const second = await runWithAllTasksDone(store, 3);
    await store.clearTaskInstances({ dagId, dagRunIds: [second.id], taskIds: ["load"] }, t0 + 20);
    // The read for `second` is stale (0); `first` is still at 0.
    const ended = await store.setRunStates(
      [first.id, second.id],
      {
        to: "success",
        from: ["running"],
        clearNumbers: new Map([
          [first.id, 0],
          [second.id, 0],
        ]),
      },
      t0 + 30,
    );
    assert.deepEqual(
      ended.map((r) => r.id),
      [first.id],
    );
    assert.equal((await store.getRun(second.id))?.state, "running");
  });
});

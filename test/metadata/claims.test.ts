import assert from "node:assert/strict";
import { it } from "node:test";
import type { MetadataStore } from "../../src/workflows/metadata/index.js";
import {
  dagDefinition,
  hourInterval,
  onEachDatabase,
  rejectsWith,
  sqliteTargets,
  startFixture,
  t0,
} from "./helpers.js";

/** Creates `runs` runs of `tasksPerRun` task instances each, all queued. */
async function queueWork(
  store: MetadataStore,
  dagId: string,
  runs: number,
  tasksPerRun: number,
): Promise<Set<string>> {
  await store.upsertDag(dagDefinition(dagId), t0);
  const keys = new Set<string>();
  const taskIds = Array.from({ length: tasksPerRun }, (_, index) => `task_${index}`);
  for (let index = 0; index < runs; index++) {
    const result = await store.createRun(
      {
        dagId,
        runType: "scheduled",
        interval: hourInterval(index),
        tasks: taskIds.map((taskId) => ({ taskId })),
      },
      t0,
    );
    assert.ok(result.created);
    await store.setRunState(result.run.id, { to: "running" }, t0);
    assert.equal(
      await store.transitionTaskInstances(result.run.id, taskIds, { from: ["none"], to: "queued" }, t0),
      tasksPerRun,
    );
    for (const taskId of taskIds) keys.add(`${result.run.id}/${taskId}`);
  }
  return keys;
}

async function claimAll(store: MetadataStore, workerId: string, limit: number): Promise<string[]> {
  const claimed: string[] = [];
  for (;;) {
    const batch = await store.claimTaskInstances(workerId, limit, t0 + 1);
    if (batch.length === 0) return claimed;
    for (const ti of batch) {
      assert.equal(ti.state, "running");
      assert.equal(ti.workerId, workerId);
      claimed.push(`${ti.dagRunId}/${ti.taskId}`);
    }
  }
}

function assertExactlyOnce(claimed: string[], expected: Set<string>): void {
  assert.equal(new Set(claimed).size, claimed.length, "a task instance was claimed twice");
  assert.deepEqual(new Set(claimed), expected);
}

onEachDatabase("claims: order and bookkeeping", (context) => {
  it("claims by priority, then longest queued, up to the limit, starting a try", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("order"), t0);
    const result = await store.createRun(
      {
        dagId: "order",
        runType: "scheduled",
        interval: hourInterval(0),
        tasks: [
          { taskId: "late" },
          { taskId: "early" },
          { taskId: "urgent", priority: 10 },
          { taskId: "idle" },
        ],
      },
      t0,
    );
    assert.ok(result.created);
    const run = result.run;
    await store.transitionTaskInstances(run.id, ["early"], { from: ["none"], to: "queued" }, t0 + 1);
    await store.transitionTaskInstances(run.id, ["late", "urgent"], { from: ["none"], to: "queued" }, t0 + 2);
    const first = await store.claimTaskInstances("w1", 2, t0 + 10);
    assert.deepEqual(
      first.map((ti) => [ti.taskId, ti.tryNumber, ti.startedAt, ti.heartbeatAt]),
      [
        ["urgent", 1, t0 + 10, t0 + 10],
        ["early", 1, t0 + 10, t0 + 10],
      ],
    );
    const second = await store.claimTaskInstances("w2", 5, t0 + 11);
    assert.deepEqual(
      second.map((ti) => [ti.taskId, ti.workerId]),
      [["late", "w2"]],
    );
    assert.deepEqual(await store.claimTaskInstances("w2", 5, t0 + 12), [], "idle was never queued");
    const tries = await store.listTaskTries({ dagRunId: run.id, taskId: "urgent" });
    assert.deepEqual(
      tries.map((attempt) => [
        attempt.tryNumber,
        attempt.state,
        attempt.workerId,
        attempt.startedAt,
        attempt.endedAt,
      ]),
      [[1, "running", "w1", t0 + 10, null]],
    );
  });

  it("refuses bad claims", async () => {
    const { store } = context();
    await rejectsWith(
      store.claimTaskInstances("w", 0, t0),
      "ValidationError",
      /limit must be an integer from 1 to 500/,
    );
    await rejectsWith(
      store.claimTaskInstances("w", 501, t0),
      "ValidationError",
      /limit must be an integer from 1 to 500/,
    );
    await rejectsWith(
      store.claimTaskInstances("", 1, t0),
      "ValidationError",
      /workerId must be a non-empty string/,
    );
    await rejectsWith(store.claimTaskInstances("w", 1, Number.NaN), "ValidationError", /now must be a time/);
  });

  it("transitions never move running task instances and respect the retry delay", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("transitions"), t0);
    const result = await store.createRun(
      {
        dagId: "transitions",
        runType: "scheduled",
        interval: hourInterval(0),
        tasks: [{ taskId: "flaky", retries: 1, retryDelayMs: 60_000 }],
      },
      t0,
    );
    assert.ok(result.created);
    const runId = result.run.id;
    await store.transitionTaskInstances(runId, ["flaky"], { from: ["none"], to: "queued" }, t0);
    const [claimed] = await store.claimTaskInstances("tw", 1, t0 + 1);
    assert.ok(claimed);
    await rejectsWith(
      store.transitionTaskInstances(runId, ["flaky"], { from: ["running"], to: "none" }, t0),
      "ValidationError",
      /a running task instance cannot be moved/,
    );
    await rejectsWith(
      store.transitionTaskInstances(runId, ["flaky"], { from: ["none"], to: "running" as never }, t0),
      "ValidationError",
      /to must be one of none, scheduled, queued, upstream_failed, skipped/,
    );
    await rejectsWith(
      store.transitionTaskInstances(runId, ["flaky"], { from: [], to: "queued" }, t0),
      "ValidationError",
      /from must list at least one state/,
    );
    const failed = await store.finishTry(
      { dagRunId: runId, taskId: "flaky", tryNumber: 1, workerId: "tw" },
      { state: "failed", error: "boom" },
      t0 + 1000,
    );
    assert.equal(failed?.state, "up_for_retry");
    assert.equal(failed?.nextRetryAt, t0 + 61_000);
    const requeue = { from: ["up_for_retry" as const], to: "queued" as const };
    assert.equal(await store.transitionTaskInstances(runId, ["flaky"], requeue, t0 + 60_999), 0, "too early");
    assert.equal(await store.transitionTaskInstances(runId, ["flaky"], requeue, t0 + 61_000), 1);
    const [retry] = await store.claimTaskInstances("tw", 1, t0 + 61_001);
    assert.equal(retry?.tryNumber, 2);
    assert.equal(retry?.nextRetryAt, null);
  });
});

onEachDatabase("claims: two stores claiming at once", (context) => {
  it("never hand the same task instance to both", async () => {
    const { store, openAnother } = context();
    const other = await openAnother();
    const expected = await queueWork(store, "shared", 30, 4);
    const [mine, theirs] = await Promise.all([claimAll(store, "store_a", 4), claimAll(other, "store_b", 4)]);
    assertExactlyOnce([...mine, ...theirs], expected);
    assert.ok(
      mine.length > 0 && theirs.length > 0,
      `one claimer got everything (${mine.length}/${theirs.length})`,
    );
  });
});

// SQLite only: stores in one process queue for a SQLite file before SQLite's own lock (see
// file-lock.ts), so only separate processes exercise BEGIN IMMEDIATE itself. On PostgreSQL the
// two-store test above already uses two connection pools, which PostgreSQL cannot tell from two
// processes.
onEachDatabase(
  "claims: two processes claiming at once",
  (context) => {
    it("never hand the same task instance to both", async () => {
      const { store, target } = context();
      const expected = await queueWork(store, "multi", 50, 3);
      const children = ["p1", "p2"].map((workerId) =>
        startFixture("claim-loop.ts", [target.options, workerId]),
      );
      await Promise.all(children.map((child) => child.printed("ready")));
      for (const child of children) child.send("go");
      const results = await Promise.all(children.map((child) => child.done));
      const claimed: string[] = [];
      for (const result of results) {
        assert.equal(result.code, 0, result.stderr);
        for (const line of result.lines) {
          if (line.startsWith("claimed ")) claimed.push(line.slice("claimed ".length).replace(/\/1$/, ""));
        }
      }
      assertExactlyOnce(claimed, expected);
      const running = await store.listTaskInstances({ dagId: "multi", states: ["running"] });
      assert.equal(running.length, expected.size);
    });
  },
  [sqliteTargets],
);

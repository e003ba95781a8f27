import assert from "node:assert/strict";
import { it } from "node:test";
import type { TaskInstance } from "../../src/workflows/metadata/index.js";
import { dagSource, onEachDatabase, rejectsWith } from "./helpers.js";

const manualHourly = { schedule: "@hourly", startDate: "2024-03-01T00:00:00Z", catchup: false };
/** Manual-only DAGs: no scheduled run appears beside the triggered ones. */
const manualOnly = { schedule: null, startDate: "2024-03-01T00:00:00Z" };
const only = (dagId: string, ran: TaskInstance[]) => ran.filter((ti) => ti.dagId === dagId);
const noop = (id: string, extra = "") => `task({ id: ${JSON.stringify(id)}, run: () => {}${extra} })`;

const dags = {
  "chain.ts": dagSource(
    { id: "chain", ...manualHourly },
    `[${noop("a")}, ${noop("b", ', upstream: ["a"]')}, ${noop("c", ', upstream: ["b"]')}, ${noop("d", ', upstream: ["a"]')}]`,
  ),
  "retry.ts": dagSource(
    {
      id: "retry",
      ...manualOnly,
      defaultArgs: {
        retries: 2,
        retryDelayMs: 60_000,
        retryExponentialBackoff: true,
        maxRetryDelayMs: 90_000,
      },
    },
    `[${noop("r")}]`,
  ),
  "limits.ts": dagSource(
    {
      id: "limits",
      schedule: "@hourly",
      startDate: "2024-03-01T00:00:00Z",
      maxActiveRuns: 2,
      maxActiveTasks: 3,
    },
    `[${noop("x")}, ${noop("y")}, ${noop("z")}]`,
  ),
  "timeout.ts": dagSource(
    { id: "timeout", ...manualOnly, dagrunTimeoutMs: 30 * 60_000 },
    `[${noop("slow")}, ${noop("after", ', upstream: ["slow"]')}]`,
  ),
  "past.ts": dagSource({ id: "past", ...manualOnly, dependsOnPast: true }, `[${noop("p")}]`),
  "params.ts": `import { dag, task } from "hourglass";
export default dag({ id: "params", schedule: null, startDate: "2024-03-01T00:00:00Z",
  params: { table: { type: "string", default: "cpu" }, limit: { type: "integer", default: 10, minimum: 1 } },
  tasks: [task({ id: "t", run: () => {} })] });
`,
};

onEachDatabase("runs and task instances", { start: "2024-03-01T10:30:00Z", dags }, (harness) => {
  it("queues tasks whose upstreams succeeded, in dependency order, and ends the run success", async () => {
    const h = harness();
    await h.unpause("chain");
    const run = await h.service.trigger("chain", { logicalDate: "2024-03-01T05:00:00Z" });
    assert.equal(run.runId, "manual__2024-03-01T05:00:00+00:00");
    assert.equal(run.dataIntervalEnd, "2024-03-01T06:00:00.000Z");
    const order = only("chain", await h.work()).map((ti) => ti.taskId);
    assert.equal(order[0], "a");
    assert.ok(order.indexOf("b") < order.indexOf("c"));
    const done = await h.service.getRun("chain", run.runId);
    assert.equal(done.state, "success");
    assert.deepEqual(
      done.taskInstances.map((ti) => ti.state),
      ["success", "success", "success", "success"],
    );
  });

  it("a failed task makes its downstream upstream_failed and the run failed", async () => {
    const h = harness();
    const run = await h.service.trigger("chain", { logicalDate: "2024-03-01T06:00:00Z" });
    await h.work((ti) => (ti.taskId === "b" ? { error: "boom" } : "success"));
    const done = await h.service.getRun("chain", run.runId);
    assert.equal(done.state, "failed");
    const states = Object.fromEntries(done.taskInstances.map((ti) => [ti.taskId, ti.state]));
    assert.deepEqual(states, { a: "success", b: "failed", c: "upstream_failed", d: "success" });
  });

  it("clearing only failed tasks runs them again as a new try, keeping the earlier try", async () => {
    const h = harness();
    const runId = "manual__2024-03-01T06:00:00+00:00";
    const cleared = await h.service.clear({ dagId: "chain", runId, onlyFailed: true });
    assert.deepEqual(cleared.taskInstances.map((ti) => ti.taskId).sort(), ["b", "c"]);
    assert.equal((await h.service.getRun("chain", runId)).state, "queued");
    await h.work();
    const b = await h.service.taskState("chain", runId, "b");
    assert.equal(b.state, "success");
    assert.equal(b.tryNumber, 2);
    assert.deepEqual(
      b.tries.map((t) => [t.tryNumber, t.state]),
      [
        [1, "failed"],
        [2, "success"],
      ],
    );
    assert.equal((await h.service.getRun("chain", runId)).state, "success");
  });

  it("retries after the retry delay, with exponential backoff capped by maxRetryDelayMs", async () => {
    const h = harness();
    await h.unpause("retry");
    const run = await h.service.trigger("retry", { logicalDate: "2024-03-01T01:00:00Z" });
    const failTwice = (ti: { tryNumber: number }) =>
      ti.tryNumber < 3 ? { error: `try ${ti.tryNumber} failed` } : "success";
    assert.deepEqual(
      only("retry", await h.work(failTwice)).map((ti) => ti.tryNumber),
      [1],
    );
    assert.equal((await h.service.taskState("retry", run.runId, "r")).state, "up_for_retry");
    h.clock.advance(59_999);
    assert.deepEqual(only("retry", await h.work(failTwice)), [], "not before retryDelayMs");
    h.clock.advance(1);
    assert.deepEqual(
      only("retry", await h.work(failTwice)).map((ti) => ti.tryNumber),
      [2],
    );
    // 60 s x 2 = 120 s, capped at 90 s.
    h.clock.advance(89_999);
    assert.deepEqual(only("retry", await h.work(failTwice)), []);
    h.clock.advance(1);
    assert.deepEqual(
      only("retry", await h.work(failTwice)).map((ti) => ti.tryNumber),
      [3],
    );
    assert.equal((await h.service.getRun("retry", run.runId)).state, "success");
  });

  it("fails for good once the retries are used up", async () => {
    const h = harness();
    const run = await h.service.trigger("retry", { logicalDate: "2024-03-01T02:00:00Z" });
    for (const step of [0, 60_000, 90_000]) {
      h.clock.advance(step);
      await h.work(() => ({ error: "always" }));
    }
    const state = await h.service.taskState("retry", run.runId, "r");
    assert.equal(state.state, "failed");
    assert.equal(state.tries.length, 3);
    assert.equal((await h.service.getRun("retry", run.runId)).state, "failed");
  });

  it("holds max active runs (queued runs wait) and max active tasks", async () => {
    const h = harness();
    await h.unpause("limits");
    await h.scheduler.tick();
    const runs = await h.runs("limits");
    assert.equal(runs.length, 10);
    assert.equal(runs.filter((r) => r.state === "running").length, 2);
    assert.equal(runs.filter((r) => r.state === "queued").length, 8);
    const active = await h.metadata.countActive({ dagId: "limits" });
    assert.equal(active.queuedTasks + active.runningTasks, 3);
    let most = 0;
    for (let i = 0; i < 100; i += 1) {
      const ran = await h.work();
      if (ran.length === 0) break;
      const now = await h.metadata.listRuns({ dagId: "limits", states: ["running"] });
      most = Math.max(most, now.length);
    }
    assert.ok(most <= 2);
    assert.ok((await h.runs("limits")).every((r) => r.state === "success"));
  });

  it("fails a run that exceeds dagrunTimeoutMs, and its running task with it", async () => {
    const h = harness();
    await h.unpause("timeout");
    const run = await h.service.trigger("timeout", { logicalDate: "2024-03-01T03:00:00Z" });
    await h.scheduler.tick();
    const [claimed] = await h.metadata.claimTaskInstances("test-worker", 1, h.clock.now);
    assert.equal(claimed?.taskId, "slow");
    h.clock.advance(30 * 60_000);
    // The worker is alive: it heartbeats (else the scheduler would take the try for an orphan).
    await h.metadata.heartbeat("test-worker", h.clock.now);
    await h.scheduler.tick();
    const done = await h.service.getRun("timeout", run.runId);
    assert.equal(done.state, "failed");
    assert.deepEqual(
      done.taskInstances.map((ti) => [ti.taskId, ti.state]),
      [
        ["after", "skipped"],
        ["slow", "failed"],
      ],
    );
    // The worker learns at its next heartbeat that it no longer holds the try, and stops it.
    const { running } = await h.metadata.heartbeat("test-worker", h.clock.now);
    assert.equal(running.length, 0);
  });

  it("dependsOnPast: a task waits until the same task of the previous run succeeded", async () => {
    const h = harness();
    await h.unpause("past");
    await h.service.trigger("past", { logicalDate: "2024-03-01T01:00:00Z" });
    await h.work((ti) => (ti.dagId === "past" ? { error: "no" } : "success"));
    const second = await h.service.trigger("past", { logicalDate: "2024-03-01T02:00:00Z" });
    assert.deepEqual(only("past", await h.work()), []);
    assert.equal((await h.service.taskState("past", second.runId, "p")).state, "none");
    await h.service.clear({ dagId: "past", runId: "manual__2024-03-01T01:00:00+00:00" });
    const ran = only("past", await h.work());
    assert.deepEqual(
      ran.map((ti) => ti.dagRunId),
      [ran[0]!.dagRunId, second.id],
    );
    assert.equal((await h.service.getRun("past", second.runId)).state, "success");
  });

  it("trigger: conf is checked against the DAG's params; a taken interval and an unknown DAG are refused", async () => {
    const h = harness();
    await rejectsWith(
      h.service.trigger("params", { conf: { limit: 0 } }),
      "ValidationError",
      /limit: must be >= 1, got 0/,
    );
    await rejectsWith(
      h.service.trigger("params", { conf: { table: 5 } }),
      "ValidationError",
      /table: expected a string/,
    );
    await rejectsWith(h.service.trigger("nope"), "NotFound", /DAG "nope" is not known/);
    await rejectsWith(
      h.service.trigger("chain", { logicalDate: "2024-03-01T05:10:00Z" }),
      "Conflict",
      /manual__2024-03-01T05:00:00\+00:00 \(success\) already covers/,
    );
    await rejectsWith(
      h.service.trigger("chain", { logicalDate: "yesterday" }),
      "ValidationError",
      /invalid date "yesterday"/,
    );
    const run = await h.service.trigger("params", { conf: { limit: 5, extra: "kept" } });
    assert.deepEqual(run.conf, { limit: 5, extra: "kept" });
    assert.match(run.runId, /^manual__2024-03-01T/);
  });

  it("mark success settles the run's unfinished tasks", async () => {
    const h = harness();
    const run = await h.service.trigger("chain", { logicalDate: "2024-03-01T08:00:00Z" });
    const marked = await h.service.markRun("chain", run.runId, "success");
    assert.equal(marked.state, "success");
    const done = await h.service.getRun("chain", run.runId);
    assert.ok(done.taskInstances.every((ti) => ti.state === "success"));
    await rejectsWith(
      h.service.markRun("chain", "manual__nope", "failed"),
      "NotFound",
      /has no run manual__nope/,
    );
  });

  it("clear by a date range, with downstream; bad clear requests get clear errors", async () => {
    const h = harness();
    const cleared = await h.service.clear({
      dagId: "chain",
      from: "2024-03-01T05:00:00Z",
      to: "2024-03-01T06:00:00Z",
      taskIds: ["b"],
      downstream: true,
    });
    assert.deepEqual(cleared.runs.sort(), [
      "manual__2024-03-01T05:00:00+00:00",
      "manual__2024-03-01T06:00:00+00:00",
    ]);
    assert.deepEqual([...new Set(cleared.taskInstances.map((ti) => ti.taskId))].sort(), ["b", "c"]);
    await h.work();
    await rejectsWith(h.service.clear({ dagId: "chain" }), "ValidationError", /say what to clear/);
    await rejectsWith(
      h.service.clear({ dagId: "chain", from: "2024-03-02", to: "2024-03-01" }),
      "ValidationError",
      /the range is reversed/,
    );
    await rejectsWith(
      h.service.clear({ dagId: "chain", runId: "x", taskIds: ["zz"] }),
      "ValidationError",
      /has no task zz/,
    );
  });
});

import assert from "node:assert/strict";
import { before, it } from "node:test";
import type { MetadataStore, TaskInstance, TaskSpec } from "../../src/workflows/metadata/index.js";
import { dagDefinition, hourInterval, onEachDatabase, rejectsWith, t0 } from "./helpers.js";

let nextInterval = 0;

/** A running run whose listed tasks are queued, then claimed by `workerId`. */
async function claimed(
  store: MetadataStore,
  workerId: string,
  tasks: TaskSpec[],
  now = t0,
): Promise<TaskInstance[]> {
  const result = await store.createRun(
    { dagId: "tries", runType: "scheduled", interval: hourInterval(nextInterval++), tasks },
    now,
  );
  assert.ok(result.created);
  await store.setRunState(result.run.id, { to: "running" }, now);
  const taskIds = tasks.map((task) => task.taskId);
  await store.transitionTaskInstances(result.run.id, taskIds, { from: ["none"], to: "queued" }, now);
  const claims = await store.claimTaskInstances(workerId, tasks.length, now);
  assert.equal(claims.length, tasks.length);
  return claims;
}

const ref = (ti: TaskInstance) => ({
  dagRunId: ti.dagRunId,
  taskId: ti.taskId,
  tryNumber: ti.tryNumber,
  workerId: ti.workerId!,
});

onEachDatabase("tries", (context) => {
  before(async () => {
    await context().store.upsertDag(dagDefinition("tries"), t0);
  });

  it("a successful try ends the task instance and its history entry", async () => {
    const { store } = context();
    const [ti] = await claimed(store, "w", [{ taskId: "ok" }]);
    assert.equal(
      await store.recordTaskProcess(ref(ti!), { pid: 4242, logPath: "/logs/ok/1.log" }, t0 + 5),
      true,
    );
    const done = await store.finishTry(ref(ti!), { state: "success", exitCode: 0 }, t0 + 100);
    assert.equal(done?.state, "success");
    assert.equal(done?.durationMs, 100);
    assert.equal(done?.exitCode, 0);
    assert.equal(done?.pid, 4242);
    assert.equal(done?.logPath, "/logs/ok/1.log");
    const [attempt] = await store.listTaskTries(ref(ti!));
    assert.deepEqual(
      [attempt?.state, attempt?.pid, attempt?.endedAt, attempt?.exitCode, attempt?.logPath],
      ["success", 4242, t0 + 100, 0, "/logs/ok/1.log"],
    );
    assert.equal(await store.finishTry(ref(ti!), { state: "success" }, t0 + 200), null, "a try ends once");
    assert.equal(await store.recordTaskProcess(ref(ti!), { pid: 1 }, t0 + 200), false);
  });

  it("each try keeps the code version it ran; the task instance and the run show the latest", async () => {
    const { store } = context();
    const [first] = await claimed(store, "w", [{ taskId: "versioned" }]);
    await store.finishTry(ref(first!), { state: "success", codeVersion: "aaaaaaaaaaaa" }, t0 + 10);
    assert.equal((await store.getRun(first!.dagRunId))?.codeVersion, "aaaaaaaaaaaa");
    // The DAG file changed; the run is cleared and runs again.
    await store.clearTaskInstances({ dagId: "tries", dagRunIds: [first!.dagRunId] }, t0 + 20);
    await store.setRunState(first!.dagRunId, { to: "running" }, t0 + 21);
    await store.transitionTaskInstances(
      first!.dagRunId,
      ["versioned"],
      { from: ["none"], to: "queued" },
      t0 + 21,
    );
    const [second] = await store.claimTaskInstances("w", 1, t0 + 22);
    assert.equal(second?.tryNumber, 2);
    const done = await store.finishTry(
      ref(second!),
      { state: "success", codeVersion: "bbbbbbbbbbbb" },
      t0 + 30,
    );
    assert.equal(done?.codeVersion, "bbbbbbbbbbbb");
    assert.equal((await store.getRun(first!.dagRunId))?.codeVersion, "bbbbbbbbbbbb");
    assert.deepEqual(
      (await store.listTaskTries(ref(second!))).map((t) => [t.tryNumber, t.codeVersion]),
      [
        [1, "aaaaaaaaaaaa"],
        [2, "bbbbbbbbbbbb"],
      ],
    );
  });

  it("a failed try is retried while tries remain, then fails for good", async () => {
    const { store } = context();
    const [first] = await claimed(store, "w", [{ taskId: "flaky", retries: 1, retryDelayMs: 5000 }]);
    const retry = await store.finishTry(
      ref(first!),
      { state: "failed", error: "timeout", exitCode: 1 },
      t0 + 10,
    );
    assert.deepEqual(
      [retry?.state, retry?.nextRetryAt, retry?.error, retry?.exitCode],
      ["up_for_retry", t0 + 5010, "timeout", 1],
    );
    await store.transitionTaskInstances(
      first!.dagRunId,
      ["flaky"],
      { from: ["up_for_retry"], to: "queued" },
      t0 + 5010,
    );
    const [second] = await store.claimTaskInstances("w", 1, t0 + 5011);
    assert.equal(second?.tryNumber, 2);
    const failed = await store.finishTry(
      ref(second!),
      { state: "failed", error: "timeout again" },
      t0 + 5020,
    );
    assert.deepEqual([failed?.state, failed?.nextRetryAt], ["failed", null]);
    const tries = await store.listTaskTries(ref(first!));
    assert.deepEqual(
      tries.map((attempt) => [attempt.tryNumber, attempt.state, attempt.error]),
      [
        [1, "failed", "timeout"],
        [2, "failed", "timeout again"],
      ],
    );
  });

  it("a failure marked not retryable fails at once; a skip ends as skipped", async () => {
    const { store } = context();
    const [fatal, skip] = await claimed(store, "w", [
      { taskId: "fatal", retries: 3 },
      { taskId: "skip", retries: 3 },
    ]);
    const fatalDone = await store.finishTry(
      ref(fatal!),
      { state: "failed", error: "bad SQL", retry: false },
      t0 + 1,
    );
    assert.equal(fatalDone?.state, "failed");
    const skipped = await store.finishTry(ref(skip!), { state: "skipped" }, t0 + 1);
    assert.equal(skipped?.state, "skipped");
  });

  it("finishTry ignores a stale attempt (other worker or other try)", async () => {
    const { store } = context();
    const [ti] = await claimed(store, "owner", [{ taskId: "stale" }]);
    assert.equal(
      await store.finishTry({ ...ref(ti!), workerId: "intruder" }, { state: "success" }, t0),
      null,
    );
    assert.equal(await store.finishTry({ ...ref(ti!), tryNumber: 2 }, { state: "success" }, t0), null);
    assert.equal((await store.getTaskInstance(ref(ti!)))?.state, "running");
  });

  it("refuses bad outcomes and references", async () => {
    const { store } = context();
    const [ti] = await claimed(store, "w", [{ taskId: "bad" }]);
    await rejectsWith(
      store.finishTry(ref(ti!), { state: "failed" } as never, t0),
      "ValidationError",
      /outcome\.error/,
    );
    await rejectsWith(
      store.finishTry(ref(ti!), { state: "done" } as never, t0),
      "ValidationError",
      /outcome\.state must be one of/,
    );
    await rejectsWith(
      store.finishTry({ ...ref(ti!), tryNumber: 0 }, { state: "success" }, t0),
      "ValidationError",
      /tryNumber must be an integer >= 1/,
    );
    await rejectsWith(
      store.recordTaskProcess(ref(ti!), { pid: -3 }, t0),
      "ValidationError",
      /pid must be an integer >= 1/,
    );
    assert.equal((await store.getTaskInstance(ref(ti!)))?.state, "running");
  });

  it("createTaskInstances adds only missing tasks and refuses an unknown run", async () => {
    const { store } = context();
    const result = await store.createRun(
      {
        dagId: "tries",
        runType: "scheduled",
        interval: hourInterval(nextInterval++),
        tasks: [{ taskId: "a" }],
      },
      t0,
    );
    assert.ok(result.created);
    assert.equal(await store.createTaskInstances(result.run.id, [{ taskId: "a" }, { taskId: "b" }], t0), 1);
    assert.deepEqual(
      (await store.listTaskInstances({ dagRunId: result.run.id })).map((ti) => ti.taskId),
      ["a", "b"],
    );
    await rejectsWith(
      store.createTaskInstances(999_999, [{ taskId: "a" }], t0),
      "NotFound",
      /run 999999 does not exist/,
    );
    assert.equal(await store.getTaskInstance({ dagRunId: result.run.id, taskId: "zzz" }), null);
  });
});

onEachDatabase("workers, heartbeats and orphans", (context) => {
  before(async () => {
    await context().store.upsertDag(dagDefinition("tries"), t0);
  });

  it("heartbeats keep a worker's tries alive; a silent worker's tries are orphans", async () => {
    const { store } = context();
    await store.registerWorker({ workerId: "alive", pid: 10, host: "box" }, t0);
    await store.registerWorker({ workerId: "silent", pid: 11, host: "box" }, t0);
    const [mine] = await claimed(store, "alive", [{ taskId: "kept" }], t0);
    const [lost] = await claimed(store, "silent", [{ taskId: "lost", retries: 1 }], t0);

    const beat = await store.heartbeat("alive", t0 + 30_000);
    assert.deepEqual(beat.running, [ref(mine!)]);
    assert.equal((await store.getTaskInstance(ref(mine!)))?.heartbeatAt, t0 + 30_000);

    const orphans = await store.findOrphans(t0 + 20_000);
    assert.deepEqual(
      orphans.map((ti) => [ti.taskId, ti.workerId]),
      [["lost", "silent"]],
    );
    assert.deepEqual(await store.markDeadWorkers(t0 + 20_000, t0 + 31_000), ["silent"]);
    const workers = await store.listWorkers();
    assert.deepEqual(
      workers.map((worker) => [worker.id, worker.state]),
      [
        ["alive", "running"],
        ["silent", "dead"],
      ],
    );

    // The scheduler fails the orphan's try in the dead worker's name; it goes up for retry.
    const failed = await store.finishTry(
      ref(lost!),
      { state: "failed", error: "worker heartbeat lost" },
      t0 + 31_000,
    );
    assert.equal(failed?.state, "up_for_retry");
    await store.transitionTaskInstances(
      lost!.dagRunId,
      ["lost"],
      { from: ["up_for_retry"], to: "queued" },
      t0 + 31_000,
    );
    const [retaken] = await store.claimTaskInstances("alive", 1, t0 + 32_000);
    assert.equal(retaken?.tryNumber, 2);

    // The silent worker comes back: it is running again but holds nothing, so it stops its old try.
    const back = await store.heartbeat("silent", t0 + 33_000);
    assert.deepEqual(back.running, []);
    assert.equal((await store.listWorkers()).find((worker) => worker.id === "silent")?.state, "running");
    assert.equal(
      await store.finishTry(ref(lost!), { state: "success" }, t0 + 34_000),
      null,
      "its late finish is ignored",
    );
  });

  it("stopWorker and re-registration", async () => {
    const { store } = context();
    await store.registerWorker({ workerId: "cycle", pid: 20, host: "box" }, t0);
    await store.stopWorker("cycle", t0 + 1);
    const stopped = (await store.listWorkers()).find((worker) => worker.id === "cycle");
    assert.deepEqual([stopped?.state, stopped?.stoppedAt], ["stopped", t0 + 1]);
    const again = await store.registerWorker({ workerId: "cycle", pid: 21, host: "box" }, t0 + 2);
    assert.deepEqual(
      [again.state, again.pid, again.startedAt, again.stoppedAt],
      ["running", 21, t0 + 2, null],
    );
  });

  it("refuses unknown workers and bad registrations", async () => {
    const { store } = context();
    await rejectsWith(store.heartbeat("ghost", t0), "NotFound", /worker ghost is not registered/);
    await rejectsWith(store.stopWorker("ghost", t0), "NotFound", /worker ghost is not registered/);
    await rejectsWith(
      store.registerWorker({ workerId: "w", pid: 0, host: "h" }, t0),
      "ValidationError",
      /pid must be an integer >= 1/,
    );
    await rejectsWith(
      store.registerWorker({ workerId: "w", pid: 1, host: "" }, t0),
      "ValidationError",
      /host must be a non-empty string/,
    );
    await rejectsWith(store.findOrphans(Number.NaN), "ValidationError", /heartbeatBefore must be a time/);
  });
});

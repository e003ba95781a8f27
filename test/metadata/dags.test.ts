import assert from "node:assert/strict";
import { it } from "node:test";
import { dagDefinition, onEachDatabase, rejectsWith, t0 } from "./helpers.js";

onEachDatabase("DAGs", (context) => {
  it("a new DAG starts paused by default, or unpaused when asked", async () => {
    const { store } = context();
    const paused = await store.upsertDag(dagDefinition("new_default"), t0);
    assert.equal(paused.isPaused, true);
    assert.equal(paused.isActive, true);
    assert.equal(paused.lastScheduledIntervalEnd, null);
    assert.equal(paused.createdAt, t0);
    const unpaused = await store.upsertDag({ ...dagDefinition("new_unpaused"), pausedOnCreate: false }, t0);
    assert.equal(unpaused.isPaused, false);
  });

  it("a re-upsert updates the definition but keeps pause state and schedule bookkeeping", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("kept"), t0);
    await store.setPaused("kept", false, t0 + 1);
    assert.equal(await store.advanceSchedule("kept", null, t0 + 3_600_000, t0 + 2), true);
    const updated = await store.upsertDag(
      {
        ...dagDefinition("kept", { codeVersion: "v2", maxActiveRuns: 3, catchup: false }),
        pausedOnCreate: true,
      },
      t0 + 3,
    );
    assert.equal(updated.codeVersion, "v2");
    assert.equal(updated.maxActiveRuns, 3);
    assert.equal(updated.catchup, false);
    assert.equal(updated.isPaused, false);
    assert.equal(updated.lastScheduledIntervalEnd, t0 + 3_600_000);
    assert.equal(updated.createdAt, t0);
    assert.equal(updated.updatedAt, t0 + 3);
    assert.deepEqual(await store.getDag("kept"), updated);
  });

  it("setPaused pauses and unpauses, and refuses an unknown DAG", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("pausable"), t0);
    assert.equal((await store.setPaused("pausable", false, t0)).isPaused, false);
    assert.equal((await store.setPaused("pausable", true, t0)).isPaused, true);
    await rejectsWith(store.setPaused("nope", true, t0), "NotFound", /DAG nope does not exist/);
  });

  it("advanceSchedule is a compare-and-set that never moves backwards", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("sched"), t0);
    const first = t0 + 3_600_000;
    const second = t0 + 7_200_000;
    assert.equal(await store.advanceSchedule("sched", null, first, t0), true);
    assert.equal(await store.advanceSchedule("sched", null, second, t0), false, "a stale expectation loses");
    assert.equal(await store.advanceSchedule("sched", first, second, t0), true);
    assert.equal((await store.getDag("sched"))?.lastScheduledIntervalEnd, second);
    await rejectsWith(
      store.advanceSchedule("sched", second, first, t0),
      "ValidationError",
      /cannot move backwards/,
    );
    await rejectsWith(store.advanceSchedule("nope", null, first, t0), "NotFound", /DAG nope/);
  });

  it("two schedulers advancing at once: exactly one wins", async () => {
    const { store, openAnother } = context();
    const other = await openAnother();
    await store.upsertDag(dagDefinition("race"), t0);
    const outcomes = await Promise.all([
      store.advanceSchedule("race", null, t0 + 3_600_000, t0),
      other.advanceSchedule("race", null, t0 + 3_600_000, t0),
    ]);
    assert.deepEqual(outcomes.sort(), [false, true]);
  });

  it("listDags filters by active and paused, ordered by id", async () => {
    const { store } = context();
    await store.upsertDag({ ...dagDefinition("list_b"), pausedOnCreate: false }, t0);
    await store.upsertDag(dagDefinition("list_a"), t0);
    const ids = (await store.listDags()).map((dag) => dag.dagId).filter((id) => id.startsWith("list_"));
    assert.deepEqual(ids, ["list_a", "list_b"]);
    const unpaused = (await store.listDags({ paused: false })).map((dag) => dag.dagId);
    assert.ok(unpaused.includes("list_b") && !unpaused.includes("list_a"));
  });

  it("deactivateMissingDags marks DAGs whose files are gone, and upsert revives them", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("gone"), t0);
    const present = (await store.listDags({ activeOnly: true }))
      .map((dag) => dag.dagId)
      .filter((id) => id !== "gone");
    assert.deepEqual(await store.deactivateMissingDags(present, t0 + 1), ["gone"]);
    assert.equal((await store.getDag("gone"))?.isActive, false);
    assert.ok(!(await store.listDags({ activeOnly: true })).some((dag) => dag.dagId === "gone"));
    assert.equal((await store.upsertDag(dagDefinition("gone"), t0 + 2)).isActive, true);
  });

  it("getDag returns null for an unknown DAG", async () => {
    assert.equal(await context().store.getDag("unknown"), null);
  });

  it("refuses bad definitions with a message naming the field", async () => {
    const { store } = context();
    await rejectsWith(
      store.upsertDag(dagDefinition(""), t0),
      "ValidationError",
      /dagId must be a non-empty string/,
    );
    await rejectsWith(
      store.upsertDag(dagDefinition("bad", { maxActiveRuns: 0 }), t0),
      "ValidationError",
      /maxActiveRuns must be an integer >= 1/,
    );
    await rejectsWith(
      store.upsertDag(dagDefinition("bad", { startDate: 1.5 }), t0),
      "ValidationError",
      /startDate must be a time in epoch milliseconds/,
    );
    await rejectsWith(
      store.upsertDag(dagDefinition("bad", { startDate: t0 + 10, endDate: t0 }), t0),
      "ValidationError",
      /startDate is after endDate/,
    );
    await rejectsWith(
      store.upsertDag(dagDefinition("bad"), Number.NaN),
      "ValidationError",
      /now must be a time/,
    );
    assert.equal(await store.getDag("bad"), null);
  });

  it("import errors replace per file, flag the file's DAGs, and clear", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("broken", { filePath: "/dags/broken.ts" }), t0);
    await store.recordImportErrors(
      "/dags/broken.ts",
      [{ message: "SyntaxError: unexpected token", line: 3, column: 7 }, { message: "second problem" }],
      t0 + 1,
    );
    await store.recordImportErrors("/dags/other.ts", [{ message: "other file" }], t0 + 1);
    const errors = await store.listImportErrors();
    assert.deepEqual(errors, [
      {
        filePath: "/dags/broken.ts",
        message: "SyntaxError: unexpected token",
        line: 3,
        column: 7,
        at: t0 + 1,
      },
      { filePath: "/dags/broken.ts", message: "second problem", line: null, column: null, at: t0 + 1 },
      { filePath: "/dags/other.ts", message: "other file", line: null, column: null, at: t0 + 1 },
    ]);
    assert.equal((await store.getDag("broken"))?.importError, "SyntaxError: unexpected token");
    await store.recordImportErrors("/dags/broken.ts", [], t0 + 2);
    assert.deepEqual(
      (await store.listImportErrors()).map((error) => error.filePath),
      ["/dags/other.ts"],
    );
    assert.equal((await store.getDag("broken"))?.importError, null);
    await rejectsWith(
      store.recordImportErrors("/dags/x.ts", [{ message: "" }], t0),
      "ValidationError",
      /errors\[0\]\.message/,
    );
  });
});

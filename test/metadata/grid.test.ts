/** listGrid, the web UI grid's read: runs in logical-date order and their task states, on SQLite and PostgreSQL. */
import assert from "node:assert/strict";
import { before, it } from "node:test";
import { dagDefinition, hourInterval, hourMs, onEachDatabase, t0 } from "./helpers.js";

onEachDatabase("grid", (context) => {
  before(async () => {
    const { store } = context();
    for (const dagId of ["grid", "grid-other"]) await store.upsertDag(dagDefinition(dagId), t0);
    // Created out of order: the answer is in logical-date order all the same.
    for (const hour of [2, 0, 1]) {
      await store.createRun(
        {
          dagId: "grid",
          runType: hour === 1 ? "manual" : "scheduled",
          interval: hourInterval(hour),
          tasks: [{ taskId: "a" }, { taskId: "b" }],
        },
        t0,
      );
    }
    await store.createRun(
      { dagId: "grid-other", runType: "scheduled", interval: hourInterval(0), tasks: [{ taskId: "z" }] },
      t0,
    );
  });

  it("gives a DAG's runs in logical-date order with their task instance states, and nothing of other DAGs", async () => {
    const { store } = context();
    const grid = await store.listGrid({ dagId: "grid" });
    assert.deepEqual(
      grid.runs.map((r) => [r.runId, r.runType, r.state, r.start, r.end]),
      [0, 1, 2].map((h) => [
        `${h === 1 ? "manual" : "scheduled"}__${new Date(t0 + h * hourMs).toISOString().slice(0, 19)}+00:00`,
        h === 1 ? "manual" : "scheduled",
        "queued",
        t0 + h * hourMs,
        t0 + (h + 1) * hourMs,
      ]),
    );
    const ids = new Set(grid.runs.map((r) => r.id));
    assert.equal(grid.taskInstances.length, 6);
    assert.ok(grid.taskInstances.every((t) => ids.has(t.dagRunId) && t.state === "none"));
    assert.deepEqual([...new Set(grid.taskInstances.map((t) => t.taskId))].sort(), ["a", "b"]);
  });

  it("keeps to an interval range: runs whose data interval lies inside, and only their task instances", async () => {
    const { store } = context();
    const grid = await store.listGrid({
      dagId: "grid",
      interval: { start: t0 + hourMs, end: t0 + 3 * hourMs },
    });
    assert.equal(grid.runs.length, 2);
    assert.equal(grid.taskInstances.length, 4);
    assert.deepEqual(await store.listGrid({ dagId: "nope" }), { runs: [], taskInstances: [] });
  });
});

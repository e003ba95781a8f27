/**
 * The metadata DB's batching, on SQLite and PostgreSQL: transaction() (several calls, one commit,
 * all or nothing), countTaskInstances, createBackfill's multi-row inserts (more runs than one
 * INSERT holds, with existing runs among them), the new batch methods, PostgreSQL deadlocks run
 * again, and the default run id in Airflow's form.
 */
import assert from "node:assert/strict";
import { before, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { parseRunId, runIdFor } from "../../src/workflows/context.js";
import type { MetadataStore } from "../../src/workflows/metadata/index.js";
import {
  dagDefinition,
  hourInterval,
  hourMs,
  onEachDatabase,
  postgresTargets,
  rejectsWith,
  t0,
} from "../metadata/helpers.js";

const tasks = [{ taskId: "extract" }, { taskId: "load" }];

async function runCount(store: MetadataStore, dagId: string): Promise<number> {
  return (await store.listRuns({ dagId })).length;
}

onEachDatabase("metadata batches", (context) => {
  before(async () => {
    const { store } = context();
    for (const dagId of ["tx", "tx_fail", "count", "bulk", "ids"])
      await store.upsertDag(dagDefinition(dagId), t0);
  });

  it("transaction: every call commits together, and reads inside see the writes before them", async () => {
    const { store } = context();
    const result = await store.transaction(async (tx) => {
      const created = await tx.createRun(
        { dagId: "tx", runType: "scheduled", interval: hourInterval(0), tasks },
        t0,
      );
      assert.ok(created.created);
      const running = await tx.setRunState(created.run.id, { to: "running", from: ["queued"] }, t0 + 1);
      assert.equal(running?.state, "running");
      const moved = await tx.transitionTaskInstances(
        created.run.id,
        ["extract"],
        { from: ["none"], to: "queued" },
        t0 + 2,
      );
      assert.equal(moved, 1);
      assert.equal((await tx.getRun(created.run.id))?.state, "running");
      assert.equal(await tx.countTaskInstances({ dagRunId: created.run.id, states: ["queued"] }), 1);
      // A transaction inside a transaction is the same one.
      await tx.transaction(async (inner) => {
        assert.equal((await inner.getRun(created.run.id))?.state, "running");
      });
      return created.run.id;
    });
    const run = await store.getRun(result);
    assert.equal(run?.state, "running");
    assert.equal(run?.startedAt, t0 + 1);
    const tis = await store.listTaskInstances({ dagRunId: result });
    assert.deepEqual(
      tis.map((ti) => [ti.taskId, ti.state]),
      [
        ["extract", "queued"],
        ["load", "none"],
      ],
    );
  });

  it("transaction: an error thrown by the work commits nothing", async () => {
    const { store } = context();
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.createRun({ dagId: "tx_fail", runType: "scheduled", interval: hourInterval(0), tasks }, t0);
        await tx.createRun({ dagId: "tx_fail", runType: "scheduled", interval: hourInterval(1), tasks }, t0);
        throw new Error("changed my mind");
      }),
      /changed my mind/,
    );
    assert.equal(await runCount(store, "tx_fail"), 0);
  });

  it("transaction: a call that fails fails the whole transaction, even if the work catches it", async () => {
    const { store } = context();
    const caught: unknown[] = [];
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.createRun({ dagId: "tx_fail", runType: "scheduled", interval: hourInterval(2), tasks }, t0);
        try {
          // A run of a DAG that does not exist: the database refuses it (NotFound).
          await tx.createRun({ dagId: "no_such_dag", runType: "scheduled", interval: hourInterval(2) }, t0);
        } catch (error) {
          caught.push(error);
        }
        return "done";
      }),
      (error: unknown) => isHourglassError(error, "NotFound"),
    );
    assert.equal(caught.length, 1);
    assert.equal(await runCount(store, "tx_fail"), 0);
  });

  it("transaction: a bad argument is refused before it touches the database, and the rest commits", async () => {
    const { store } = context();
    const id = await store.transaction(async (tx) => {
      const created = await tx.createRun(
        { dagId: "tx_fail", runType: "scheduled", interval: hourInterval(3), tasks },
        t0,
      );
      assert.ok(created.created);
      await rejectsWith(
        tx.setRunState(created.run.id, { to: "done" as never }, t0),
        "ValidationError",
        /to must be one of/,
      );
      return created.run.id;
    });
    assert.equal((await store.getRun(id))?.state, "queued");
  });

  it("transaction: its store is refused once the transaction ended", async () => {
    const { store } = context();
    let leaked: MetadataStore | undefined;
    await store.transaction(async (tx) => {
      leaked = tx;
    });
    await rejectsWith(leaked!.listDags(), "Internal", /after its transaction ended/);
    await rejectsWith(leaked!.close(), "Internal", /cannot be closed/);
  });

  it("countTaskInstances counts what listTaskInstances lists, without reading the rows", async () => {
    const { store } = context();
    for (const index of [0, 1, 2]) {
      const created = await store.createRun(
        { dagId: "count", runType: "scheduled", interval: hourInterval(index), tasks },
        t0,
      );
      assert.ok(created.created);
      if (index > 0) {
        await store.transitionTaskInstances(
          created.run.id,
          ["extract"],
          { from: ["none"], to: "queued" },
          t0,
        );
      }
    }
    for (const filter of [
      { dagId: "count" },
      { dagId: "count", states: ["queued" as const] },
      { dagId: "count", states: ["queued" as const, "running" as const] },
      { dagId: "count", taskIds: ["load"] },
      { dagId: "count", states: [] },
      { dagId: "count", taskIds: [] },
    ]) {
      assert.equal(
        await store.countTaskInstances(filter),
        (await store.listTaskInstances(filter)).length,
        JSON.stringify(filter),
      );
    }
    assert.equal(await store.countTaskInstances({ dagId: "count", states: ["queued"] }), 2);
    await rejectsWith(
      store.countTaskInstances({ states: ["sleeping" as never] }),
      "ValidationError",
      /states\[0\] must be one of/,
    );
  });

  it("createBackfill over more runs than one INSERT holds, with existing runs among them", async () => {
    const { store } = context();
    const count = 1234;
    // Existing runs at 10 (queued: skipped), 600 (failed: reprocessed) and 1200 (success: skipped).
    const queued = await store.createRun(
      { dagId: "bulk", runType: "scheduled", interval: hourInterval(10), tasks },
      t0,
    );
    const failed = await store.createRun(
      { dagId: "bulk", runType: "scheduled", interval: hourInterval(600), tasks },
      t0,
    );
    const succeeded = await store.createRun(
      { dagId: "bulk", runType: "scheduled", interval: hourInterval(1200), tasks },
      t0,
    );
    assert.ok(queued.created && failed.created && succeeded.created);
    await store.markRun(failed.run.id, "failed", t0);
    await store.markRun(succeeded.run.id, "success", t0);
    const intervals = Array.from({ length: count }, (_, index) => ({
      ...hourInterval(index),
      runId: runIdFor("backfill", new Date(hourInterval(index).start)),
    }));
    const created = await store.createBackfill(
      {
        dagId: "bulk",
        from: t0,
        to: t0 + count * hourMs,
        reprocess: "failed",
        maxActiveRuns: 4,
        intervals,
        tasks,
        conf: { source: "test" },
      },
      t0 + 5,
    );
    assert.equal(created.results.length, count);
    const byDisposition = (name: string) => created.results.filter((result) => result.disposition === name);
    assert.equal(byDisposition("created").length, count - 3);
    assert.deepEqual(
      byDisposition("reprocessed").map((result) => result.dagRunId),
      [failed.run.id],
    );
    assert.deepEqual(
      byDisposition("skipped").map((result) => [result.dagRunId, result.reason]),
      [
        [queued.run.id, `run ${queued.run.runId} is already queued`],
        [succeeded.run.id, `run ${succeeded.run.runId} already ended success`],
      ],
    );
    // Results in interval order, each naming the run that covers its interval.
    assert.deepEqual(
      created.results.map((result) => result.start),
      intervals.map((interval) => interval.start),
    );
    const runs = await store.listRuns({ dagId: "bulk" });
    assert.equal(runs.length, count);
    const byId = new Map(runs.map((run) => [run.id, run]));
    for (const result of byDisposition("created")) {
      const run = byId.get(result.dagRunId)!;
      assert.equal(run.dataIntervalStart, result.start);
      assert.equal(run.runId, runIdFor("backfill", new Date(result.start)));
      assert.equal(run.backfillId, created.backfill.id);
      assert.deepEqual(run.conf, { source: "test" });
      assert.equal(run.state, "queued");
    }
    assert.equal(byId.get(failed.run.id)?.state, "queued");
    assert.equal(byId.get(failed.run.id)?.backfillId, created.backfill.id);
    // Every new run has its task instances, and nothing else has more.
    assert.equal(await store.countTaskInstances({ dagId: "bulk" }), count * tasks.length);
    assert.equal(
      await store.countTaskInstances({ dagId: "bulk", states: ["none"] }),
      (count - 1) * tasks.length,
    );
    const progress = await store.getBackfillProgress(created.backfill.id);
    assert.equal(progress.total, count);
    assert.equal(progress.created, count - 3);
    assert.equal(progress.reprocessed, 1);
    assert.equal(progress.skipped, 2);
    assert.equal(progress.queued, count - 2);
  });

  it("createBackfill: two intervals given one run id make one run; the second interval is skipped", async () => {
    const { store } = context();
    await store.upsertDag(dagDefinition("bulk_ids"), t0);
    const created = await store.createBackfill(
      {
        dagId: "bulk_ids",
        from: t0,
        to: t0 + 2 * hourMs,
        reprocess: "none",
        maxActiveRuns: 1,
        intervals: [
          { ...hourInterval(0), runId: "same" },
          { ...hourInterval(1), runId: "same" },
        ],
        tasks,
      },
      t0,
    );
    assert.deepEqual(
      created.results.map((result) => [result.disposition, result.reason ?? null]),
      [
        ["created", null],
        ["skipped", "run same is already queued"],
      ],
    );
    assert.equal(await runCount(store, "bulk_ids"), 1);
  });

  it("the default run id is Airflow's: <type>__<logical date>+00:00, as runIdFor writes it", async () => {
    const { store } = context();
    const scheduled = await store.createRun(
      { dagId: "ids", runType: "scheduled", interval: hourInterval(0) },
      t0,
    );
    assert.ok(scheduled.created);
    assert.equal(scheduled.run.runId, "scheduled__2024-03-01T00:00:00+00:00");
    assert.equal(scheduled.run.runId, runIdFor("scheduled", new Date(t0)));
    const manual = await store.createRun({ dagId: "ids", runType: "manual", logicalDate: t0 + 1234 }, t0);
    assert.ok(manual.created);
    assert.equal(manual.run.runId, "manual__2024-03-01T00:00:01.234000+00:00");
    assert.deepEqual(parseRunId(manual.run.runId), { runType: "manual", logicalDate: new Date(t0 + 1234) });
    // A run made with the earlier default form keeps its id, is found by it, and still parses.
    const legacy = await store.createRun(
      {
        dagId: "ids",
        runType: "backfill",
        interval: hourInterval(5),
        runId: "backfill__2024-03-01T05:00:00.000Z",
      },
      t0,
    );
    assert.ok(legacy.created);
    assert.equal((await store.getRunByRunId("ids", "backfill__2024-03-01T05:00:00.000Z"))?.id, legacy.run.id);
    assert.deepEqual(parseRunId(legacy.run.runId), {
      runType: "backfill",
      logicalDate: new Date(hourInterval(5).start),
    });
  });
});

onEachDatabase(
  "metadata transactions that deadlock",
  (context) => {
    it("PostgreSQL: the deadlock's victim is rolled back and run again, and both transactions commit", async () => {
      const { store, openAnother } = context();
      const other = await openAnother();
      await store.upsertDag(dagDefinition("dl"), t0);
      const first = await store.createRun(
        { dagId: "dl", runType: "scheduled", interval: hourInterval(0) },
        t0,
      );
      const second = await store.createRun(
        { dagId: "dl", runType: "scheduled", interval: hourInterval(1) },
        t0,
      );
      assert.ok(first.created && second.created);
      const [a, b] = [first.run.id, second.run.id];
      // Each transaction locks one run, waits until the other holds its run, then wants the other's.
      let signalA!: () => void;
      let signalB!: () => void;
      const aHolds = new Promise<void>((resolve) => {
        signalA = resolve;
      });
      const bHolds = new Promise<void>((resolve) => {
        signalB = resolve;
      });
      const calls = { a: 0, b: 0 };
      const lockInOrder = (
        tx: MetadataStore,
        mine: number,
        theirs: number,
        holds: () => void,
        wait: Promise<void>,
      ) =>
        (async () => {
          await tx.setRunState(mine, { to: "running" }, t0 + 1);
          holds();
          await wait;
          await tx.setRunState(theirs, { to: "running" }, t0 + 1);
        })();
      // Each also inserts a run of its own: were a transaction that PostgreSQL reported as failed
      // in fact committed, its next attempt would find that run already there (created: false).
      const own = (tx: MetadataStore, index: number) =>
        tx.createRun({ dagId: "dl", runType: "scheduled", interval: hourInterval(index) }, t0);
      const results = await Promise.all([
        store.transaction(async (tx) => {
          calls.a += 1;
          await lockInOrder(tx, a, b, signalA, bHolds);
          return (await own(tx, 2)).created;
        }),
        other.transaction(async (tx) => {
          calls.b += 1;
          await lockInOrder(tx, b, a, signalB, aHolds);
          return (await own(tx, 3)).created;
        }),
      ]);
      assert.deepEqual(results, [true, true]);
      // The victim ran again. How often is timing: its retry may meet the survivor again (see
      // retryDelayMs in postgres-database.ts), so at least once, not exactly once.
      assert.ok(calls.a + calls.b >= 3, `neither transaction ran again: ${JSON.stringify(calls)}`);
      assert.deepEqual(
        (await store.listRuns({ dagId: "dl" })).map((run) => run.dataIntervalStart).sort((x, y) => x - y),
        [0, 1, 2, 3].map((index) => hourInterval(index).start),
      );
      assert.equal((await store.getRun(a))?.state, "running");
      assert.equal((await store.getRun(b))?.state, "running");
    });
  },
  [postgresTargets],
);

/**
 * Pausing a DAG whose task is already queued. Airflow's rule: a paused DAG is not scheduled, but
 * a task instance already handed out runs ("any running tasks are allowed to complete and all
 * downstream tasks are put in to a state of Scheduled"). Here: the queued task is claimed and runs
 * as a worker would claim it; the task after it is not queued until the DAG is unpaused.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { dagSource, onEachDatabase } from "./helpers.js";

const chain = dagSource(
  { id: "chain", schedule: null },
  `[task({ id: "first", run: () => {} }), task({ id: "second", upstream: ["first"], run: () => {} })]`,
);

onEachDatabase(
  "pausing a DAG with a task already queued",
  { start: "2021-09-23T00:10:00Z", dags: { "chain.ts": chain } },
  (h) => {
    it("the queued task still runs (as in Airflow); the next one waits until the DAG is unpaused", async () => {
      const { service, scheduler, metadata, clock } = h();
      await h().unpause("chain");
      await service.trigger("chain", {});
      await scheduler.tick({ fullPass: true });
      const [run] = await h().runs("chain");
      assert.ok(run !== undefined);
      const states = async () =>
        Object.fromEntries(
          (await metadata.listTaskInstances({ dagRunId: run.id })).map((ti) => [ti.taskId, ti.state]),
        );
      assert.equal((await states()).first, "queued");

      await service.setPaused("chain", true);
      // A worker's claim after the pause still gets the queued task.
      const claimed = await metadata.claimTaskInstances("test-worker", 10, clock.now);
      assert.deepEqual(
        claimed.map((ti) => ti.taskId),
        ["first"],
      );
      const ti = claimed[0]!;
      await metadata.finishTry(
        { dagRunId: ti.dagRunId, taskId: ti.taskId, tryNumber: ti.tryNumber, workerId: "test-worker" },
        { state: "success" },
        clock.now,
      );
      scheduler.markRunChanged(ti.dagRunId);
      await scheduler.tick({ fullPass: true });
      await scheduler.tick({ fullPass: true });
      const paused = await states();
      assert.equal(paused.first, "success");
      assert.notEqual(paused.second, "queued", "nothing new is queued while the DAG is paused");
      assert.deepEqual(await metadata.claimTaskInstances("test-worker", 10, clock.now), []);

      await service.setPaused("chain", false);
      const ran = await h().work();
      assert.deepEqual(
        ran.map((t) => t.taskId),
        ["second"],
      );
      assert.equal((await h().runs("chain"))[0]?.state, "success");
    });
  },
);

import assert from "node:assert/strict";
import { it } from "node:test";
import { dagSource, onEachDatabase } from "./helpers.js";

const dags = { "lost.ts": dagSource({ id: "lost", schedule: null, startDate: "2024-03-01T00:00:00Z" }) };

onEachDatabase(
  "a worker that stops heartbeating",
  { start: "2024-03-01T00:00:00Z", dags, scheduler: { heartbeatTimeoutMs: 30_000, maxLostWorkers: 2 } },
  (harness) => {
    it("loses its try: the task runs again as a new try, without using up a retry (retries: 0)", async () => {
      const h = harness();
      await h.unpause("lost");
      const run = await h.service.trigger("lost", { logicalDate: "2024-03-01T00:00:00Z" });
      await h.scheduler.tick();
      await h.metadata.registerWorker({ workerId: "doomed", pid: 1, host: "test" }, h.clock.now);
      const [claimed] = await h.metadata.claimTaskInstances("doomed", 1, h.clock.now);
      assert.equal(claimed?.tryNumber, 1);
      h.clock.advance(30_000);
      await h.scheduler.tick();
      assert.equal(
        (await h.service.taskState("lost", run.runId, "only")).state,
        "running",
        "not before the timeout",
      );
      // Orphans are looked for a few times per heartbeat timeout (here every 5 s of the clock).
      h.clock.advance(5_000);
      const retried = h.scheduler.events.waitFor("task:retry", (e) => e.runId === run.runId, 5000);
      await h.scheduler.tick();
      assert.match(
        (await retried).error,
        /^worker heartbeat lost \(worker doomed, no heartbeat for 35000 ms\)/,
      );
      assert.equal((await h.metadata.listWorkers()).find((w) => w.id === "doomed")?.state, "dead");
      const ran = await h.work();
      assert.deepEqual(
        ran.map((ti) => ti.tryNumber),
        [2],
      );
      const state = await h.service.taskState("lost", run.runId, "only");
      assert.equal(state.state, "success");
      assert.deepEqual(
        state.tries.map((t) => [t.tryNumber, t.state]),
        [
          [1, "failed"],
          [2, "success"],
        ],
      );
    });

    it("fails for good after maxLostWorkers lost tries (a task that kills its worker does not loop forever)", async () => {
      const h = harness();
      const run = await h.service.trigger("lost", { logicalDate: "2024-03-02T00:00:00Z" });
      for (let lost = 1; lost <= 2; lost += 1) {
        await h.scheduler.tick();
        await h.metadata.registerWorker({ workerId: `doomed-${lost}`, pid: 1, host: "test" }, h.clock.now);
        assert.equal((await h.metadata.claimTaskInstances(`doomed-${lost}`, 1, h.clock.now)).length, 1);
        h.clock.advance(60_000);
        await h.scheduler.tick();
      }
      const state = await h.service.taskState("lost", run.runId, "only");
      assert.equal(state.state, "failed");
      assert.equal(state.tries.length, 2);
      assert.equal((await h.service.getRun("lost", run.runId)).state, "failed");
    });
  },
);

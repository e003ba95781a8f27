import assert from "node:assert/strict";
import path from "node:path";
import { it } from "node:test";
import { sqliteTargets } from "../metadata/helpers.js";
import { dagSource, hourMs, onEachDatabase } from "./helpers.js";

const hourly = { schedule: "@hourly", startDate: "2024-03-01T00:00:00Z" };
const good = dagSource({ id: "good", ...hourly });
const broken = `import { dag, task } from "hourglass";
export default dag({ id: "syntax", ...hourly
  tasks: [task({ id: "a", run: () => {} })],
});
`;
const dags = {
  "good.ts": good,
  "syntax.ts": broken,
  "cycle.ts": dagSource(
    { id: "cycle", ...hourly },
    `[task({ id: "a", upstream: ["b"], run: () => {} }), task({ id: "b", upstream: ["a"], run: () => {} })]`,
  ),
  "upstream.ts": dagSource(
    { id: "upstream", ...hourly },
    `[task({ id: "a", upstream: ["ghost"], run: () => {} })]`,
  ),
  "cron.ts": dagSource({ id: "cron", schedule: "61 * * * *", startDate: "2024-03-01T00:00:00Z" }),
};

onEachDatabase(
  "the DAG folder: import errors, reloads, vanished files",
  { start: "2024-03-01T02:30:00Z", dags },
  (harness) => {
    it("records each broken file with its problem (and the line of a syntax error); the good DAG loads paused", async () => {
      const h = harness();
      const errors = await h.service.importErrors();
      const byFile = Object.fromEntries(errors.map((e) => [path.basename(e.file), e]));
      assert.deepEqual(Object.keys(byFile).sort(), ["cron.ts", "cycle.ts", "syntax.ts", "upstream.ts"]);
      assert.match(byFile["syntax.ts"]!.message, /syntax error/);
      assert.equal(byFile["syntax.ts"]!.line, 3);
      assert.match(byFile["cycle.ts"]!.message, /tasks form a cycle: (a -> b -> a|b -> a -> b)/);
      assert.match(byFile["upstream.ts"]!.message, /task "a": unknown upstream task "ghost"/);
      assert.match(
        byFile["cron.ts"]!.message,
        /invalid cron expression "61 \* \* \* \*": minute value 61 is out of range 0-59/,
      );
      const list = await h.service.listDags();
      assert.deepEqual(
        list.map((d) => [d.dagId, d.isPaused]),
        [["good", true]],
      );
    });

    it("a DAG file that breaks keeps its DAG running on the last good definition, flagged; the others are unaffected", async () => {
      const h = harness();
      await h.unpause("good");
      await h.scheduler.tick();
      assert.equal((await h.runs("good")).length, 2);
      await h.writeDag("good.ts", good.replace("export default", "export default oops"));
      const flagged = await h.service.getDag("good");
      assert.match(flagged.importError ?? "", /syntax error/);
      assert.equal(flagged.isActive, true);
      h.clock.advance(hourMs);
      await h.scheduler.tick();
      assert.equal((await h.runs("good")).length, 3);
      await h.writeDag("good.ts", good);
      assert.equal((await h.service.getDag("good")).importError, null);
      assert.ok(!(await h.service.importErrors()).some((e) => e.file.endsWith("good.ts")));
    });

    it("a DAG whose file is gone becomes inactive and gets no runs", async () => {
      const h = harness();
      await h.removeDag("good.ts");
      assert.equal((await h.service.getDag("good")).isActive, false);
      h.clock.advance(hourMs);
      await h.scheduler.tick();
      assert.equal((await h.runs("good")).length, 3);
      await h.writeDag("good.ts", good);
      assert.equal((await h.service.getDag("good")).isActive, true);
    });
  },
);

onEachDatabase(
  "unpauseOnLoad",
  {
    start: "2024-03-01T02:30:00Z",
    dags: { "demo.ts": dagSource({ id: "demo", ...hourly }) },
    scheduler: { unpauseOnLoad: ["demo"] },
  },
  (harness) => {
    it("starts the named DAGs unpaused (the demo), so their catchup begins at once", async () => {
      const h = harness();
      assert.equal((await h.service.getDag("demo")).isPaused, false);
      await h.scheduler.tick();
      assert.equal((await h.runs("demo")).length, 2);
    });
  },
  [sqliteTargets],
);

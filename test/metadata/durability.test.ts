import assert from "node:assert/strict";
import { it } from "node:test";
import { openMetadata } from "../../src/workflows/metadata/index.js";
import { postgresTargets, sqliteTargets, startFixture } from "./helpers.js";

for (const factory of [sqliteTargets, postgresTargets]) {
  it(`a committed run survives kill -9 of its process [${factory.kind}]`, {
    skip: factory.skip,
  }, async () => {
    const target = await factory.create();
    try {
      const child = startFixture("commit-run.ts", [target.options, "durable"]);
      const line = await child.line((candidate) => candidate.startsWith("committed "));
      child.kill();
      const ended = await child.done;
      assert.equal(ended.signal, "SIGKILL");
      const dagRunId = Number(line.slice("committed ".length));
      const store = await openMetadata(target.options);
      try {
        const run = await store.getRun(dagRunId);
        assert.equal(run?.dagId, "durable");
        assert.equal(run?.state, "queued");
        assert.deepEqual(
          (await store.listTaskInstances({ dagRunId })).map((ti) => ti.taskId),
          ["export"],
        );
      } finally {
        await store.close();
      }
    } finally {
      await target.destroy();
    }
  });
}

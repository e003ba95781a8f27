/**
 * The worker pool with real worker processes, inside a real runtime (store, HTTP server,
 * metadata DB on SQLite), on the real clock with short heartbeats so nothing waits long.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";

const dagFile = `import { dag, task } from "hourglass";
export default dag({
  id: "work", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [
    task({ id: "hello", run: async (ctx) => {
      ctx.log("hello from " + ctx.folder);
      console.log("printed to stdout");
      const dbs = await ctx.services.store.listDatabaseDescriptions();
      ctx.log("databases: " + dbs.length);
    } }),
    task({ id: "after", upstream: ["hello"], run: () => "done" }),
  ],
});
export const crashing = dag({
  id: "crashing", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [task({ id: "victim", run: async (ctx) => {
    if (ctx.tryNumber === 1) await new Promise((resolve) => setTimeout(resolve, 60_000));
    ctx.log("second try");
  } })],
});
export const hung = dag({
  id: "hung", schedule: null, startDate: "2024-03-01T00:00:00Z",
  defaultArgs: { retries: 1, retryDelayMs: 0 },
  tasks: [task({ id: "spin", executionTimeoutMs: 500, run: (ctx) => {
    if (ctx.tryNumber === 1) { const end = Date.now() + 60_000; while (Date.now() < end) {} }
  } })],
});
export const slow = dag({
  id: "slow", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [task({ id: "wait", run: (ctx) => new Promise((resolve) => setTimeout(resolve, 60_000)) })],
});
`;

/** Polls `condition` until it holds, failing after a deadline (never a fixed sleep). */
async function until(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("worker processes", () => {
  let root: string;
  let runtime: HourglassRuntime;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-workers-"));
    fs.mkdirSync(path.join(root, "dags"));
    fs.writeFileSync(path.join(root, "dags", "work.ts"), dagFile);
    const config = resolveConfig({
      flags: { stateDir: path.join(root, "state"), dagsDir: path.join(root, "dags"), port: 0, workers: 2 },
      env: {},
      cwd: root,
    });
    runtime = await startHourglass(config, {
      tickMs: 200,
      heartbeatTimeoutMs: 1500,
      heartbeatIntervalMs: 200,
      killGraceMs: 300,
      stopGraceMs: 300,
      log: silentLog,
    });
    for (const dagId of ["work", "crashing", "hung", "slow"]) await runtime.workflows.setPaused(dagId, false);
  });
  after(async () => {
    await runtime?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("run tasks in order, with ctx.services, and write each try's log (stdout included)", async () => {
    const finished = runtime.events.waitFor("run:finished", (e) => e.run.dagId === "work", 30_000);
    const run = await runtime.workflows.trigger("work", { logicalDate: "2024-03-01T05:00:00Z" });
    assert.equal((await finished).state, "success");
    const log = await runtime.workflows.taskLog("work", run.runId, "hello");
    assert.equal(log.tryNumber, 1);
    assert.match(
      log.text,
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] \{worker\} INFO - Starting attempt 1 of 1 on worker /m,
    );
    assert.match(log.text, /\{hello\} INFO - hello from 2024-03-01-05\n/);
    assert.match(log.text, /\{hello\} INFO - databases: 0\n/);
    assert.match(log.text, /\{hello\} INFO - printed to stdout\n/);
    assert.match(log.text, /Marking task as SUCCESS/);
    const file = path.join(root, "state", "logs", "work", run.runId, "hello", "1.log");
    assert.equal(fs.readFileSync(file, "utf8"), log.text);
  });

  it("a worker killed mid-task is replaced; the scheduler sees the lost heartbeat and runs the task again", async () => {
    const started = runtime.events.waitFor("task:started", (e) => e.dagId === "crashing", 30_000);
    const run = await runtime.workflows.trigger("crashing", { logicalDate: "2024-03-01T05:00:00Z" });
    const { pid, workerId } = await started;
    assert.ok(pid !== null);
    const retried = runtime.events.waitFor("task:retry", (e) => e.dagId === "crashing", 30_000);
    const finished = runtime.events.waitFor("run:finished", (e) => e.run.dagId === "crashing", 30_000);
    process.kill(pid, "SIGKILL");
    assert.match((await retried).error, new RegExp(`^worker heartbeat lost \\(worker ${workerId}`));
    assert.equal((await finished).state, "success");
    const state = await runtime.workflows.taskState("crashing", run.runId, "victim");
    assert.deepEqual(
      state.tries.map((t) => [t.tryNumber, t.state]),
      [
        [1, "failed"],
        [2, "success"],
      ],
    );
    const first = await runtime.workflows.taskLog("crashing", run.runId, "victim", 1);
    assert.match(first.text, /the worker process exited \(SIGKILL\) while running this try/);
    await until(
      () => !runtime.workerPool!.workers().some((w) => w.pid === pid),
      "the killed worker was replaced",
    );
  });

  it("a task that hangs past its execution timeout (ignoring its signal) is killed with its worker; the try fails and is retried", async () => {
    const started = runtime.events.waitFor("task:started", (e) => e.dagId === "hung", 30_000);
    const run = await runtime.workflows.trigger("hung", { logicalDate: "2024-03-01T05:00:00Z" });
    const { pid } = await started;
    const retried = runtime.events.waitFor("task:retry", (e) => e.dagId === "hung", 30_000);
    const finished = runtime.events.waitFor("run:finished", (e) => e.run.dagId === "hung", 30_000);
    assert.match(
      (await retried).error,
      /^execution timeout: the task ran longer than 500 ms \(the worker was killed\)/,
    );
    assert.equal((await finished).state, "success");
    await until(() => {
      const live = runtime.workerPool!.workers();
      return live.length === 2 && !live.some((w) => w.pid === pid);
    }, "the hung worker was replaced");
    const first = await runtime.workflows.taskLog("hung", run.runId, "spin", 1);
    assert.match(first.text, /the task ignored the stop for 300 ms: killing worker process/);
  });

  it("stop(): running tasks get the grace period, then are cleared to run again after a restart; stop is idempotent", async () => {
    const started = runtime.events.waitFor("task:started", (e) => e.dagId === "slow", 30_000);
    const run = await runtime.workflows.trigger("slow", { logicalDate: "2024-03-01T05:00:00Z" });
    await started;
    await Promise.all([runtime.stop(), runtime.stop()]);
    const ti = await (async () => {
      const { openMetadata } = await import("../../src/workflows/metadata/index.js");
      const metadata = await openMetadata({ url: runtime.config.metadataUrl });
      try {
        const found = await metadata.getRunByRunId("slow", run.runId);
        return await metadata.getTaskInstance({ dagRunId: found!.id, taskId: "wait" });
      } finally {
        await metadata.close();
      }
    })();
    assert.equal(ti?.state, "none");
    assert.equal(
      ti?.maxTries,
      2,
      "a fresh allowance: the interrupted try does not count against the retries",
    );
    assert.equal(fs.existsSync(path.join(root, "state", "server.json")), false);
  });
});

describe("worker pool start-up", () => {
  it("returns once every worker has loaded the DAG files, and a file that fails to load does not hold it up", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-preload-"));
    fs.mkdirSync(path.join(root, "dags"));
    const marker = path.join(root, "loaded-by.txt");
    // Each process that imports the file appends its pid: the server's DAG bag and every worker.
    fs.writeFileSync(
      path.join(root, "dags", "marked.ts"),
      `import fs from "node:fs";
import { dag, task } from "hourglass";
await new Promise((resolve) => setTimeout(resolve, 300));
fs.appendFileSync(${JSON.stringify(marker)}, process.pid + "\\n");
export default dag({ id: "marked", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [task({ id: "t", run: () => {} })] });
`,
    );
    fs.writeFileSync(path.join(root, "dags", "broken.ts"), "export default dag({ id: ");
    const config = resolveConfig({
      flags: { stateDir: path.join(root, "state"), dagsDir: path.join(root, "dags"), port: 0, workers: 2 },
      env: {},
      cwd: root,
    });
    const runtime = await startHourglass(config, { log: silentLog });
    try {
      const loadedBy = fs.readFileSync(marker, "utf8").trim().split("\n").map(Number);
      const workerPids = runtime.workerPool!.workers().map((w) => w.pid);
      assert.equal(workerPids.length, 2);
      for (const pid of workerPids) assert.ok(loadedBy.includes(pid!), `worker ${pid} loaded the DAG file`);
    } finally {
      await runtime.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

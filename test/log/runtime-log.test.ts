/**
 * The process log of a real runtime (`startHourglass`, as `hourglass up` runs it): a 500 is in
 * `<state>/logs/server.log` with its request id, method, path and stack while the client gets only
 * the id; a 4xx is there at debug level only; config.logLevel (HOURGLASS_LOG_LEVEL) filters; a
 * worker process's failure line reaches the server's log.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveConfig } from "../../src/config.js";
import { serverLogPath } from "../../src/log/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import { tempDir } from "../support/store.js";

type Line = Record<string, unknown> & { level: number; msg: string };
const logLines = (stateDir: string): Line[] =>
  fs
    .readFileSync(serverLogPath(stateDir), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Line);

const failingDag = `import { dag, task } from "hourglass";
export default dag({
  id: "doomed", schedule: null, startDate: "2024-03-01T00:00:00Z",
  tasks: [task({ id: "fails", run: () => { throw new Error("the source is gone"); } })],
});
`;

describe("the runtime's process log", () => {
  let root: string;
  let runtime: HourglassRuntime;
  const stateDir = () => runtime.config.stateDir;

  before(async () => {
    root = tempDir("hg-runtime-log-");
    fs.mkdirSync(path.join(root, "dags"));
    fs.writeFileSync(path.join(root, "dags", "doomed.ts"), failingDag);
    const config = resolveConfig({
      flags: { stateDir: path.join(root, "state"), dagsDir: path.join(root, "dags"), port: 0, workers: 1 },
      env: { HOURGLASS_LOG_LEVEL: "debug" },
      cwd: root,
    });
    runtime = await startHourglass(config, { tickMs: 200 });
    await runtime.store.createDatabase("logdb");
    await runtime.store.createTable({ DatabaseName: "logdb", TableName: "broken" });
  });
  after(async () => {
    await runtime?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("logs a 500 with its request id, method, path and stack; the client gets only the id", async () => {
    const record = {
      Dimensions: [{ Name: "host", Value: "h1" }],
      MeasureName: "cpu",
      MeasureValue: "1",
      Time: String(Date.now()),
    };
    const write = () =>
      fetch(`${runtime.url}/api/v1/databases/logdb/tables/broken/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ Records: [record] }),
      });
    assert.equal((await write()).status, 200);
    // A real failure of the dependency: the table's data disappears behind the store's back.
    const store = runtime.store as unknown as {
      engine: { run(sql: string): Promise<number> };
      catalog: { getTable(db: string, name: string): { id: number } };
    };
    await store.engine.run(`DROP TABLE _hg.t${store.catalog.getTable("logdb", "broken").id}_points`);
    const response = await write();
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: { message: string; context: { requestId: string } } };
    const requestId = body.error.context.requestId;
    assert.equal(
      body.error.message,
      `internal error (request id ${requestId}); the server log has the details`,
    );
    assert.doesNotMatch(JSON.stringify(body), /_points|stack|at /);

    const logged = logLines(stateDir()).filter((l) => l["requestId"] === requestId);
    assert.equal(logged.length, 1);
    const line = logged[0]!;
    assert.equal(line.level, 50);
    assert.equal(line.msg, "request failed");
    assert.equal(line["part"], "api");
    assert.equal(line["method"], "POST");
    assert.equal(line["path"], "/api/v1/databases/logdb/tables/broken/records");
    const err = line["err"] as { message: string; stack: string };
    assert.match(err.message, /_points/);
    assert.match(err.stack, /\n\s+at /);
  });

  it("logs a request refused for the client's fault at debug level", async () => {
    const response = await fetch(`${runtime.url}/api/v1/databases/no-such-db`);
    assert.equal(response.status, 404);
    const refused = logLines(stateDir()).filter(
      (l) => l.msg === "request refused" && l["path"] === "/api/v1/databases/no-such-db",
    );
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.level, 20);
    assert.equal(refused[0]!["code"], "NotFound");
  });

  it("has a worker process's failure line, from that worker, and the scheduler's", async () => {
    await runtime.workflows.setPaused("doomed", false);
    const failed = runtime.events.waitFor("task:failed", (e) => e.dagId === "doomed", 60_000);
    const run = await runtime.workflows.trigger("doomed", { logicalDate: "2024-03-01T05:00:00Z" });
    await failed;
    const lines = logLines(stateDir()).filter((l) => l["runId"] === run.runId);
    const fromWorker = lines.find((l) => l.msg === "task failed" && l["workerId"] !== undefined);
    assert.ok(fromWorker, `no worker line among ${JSON.stringify(lines)}`);
    assert.equal(fromWorker.level, 40);
    assert.equal(fromWorker["part"], "worker-pool");
    assert.equal(fromWorker["taskId"], "fails");
    assert.equal(fromWorker["error"], "the source is gone");
    const workerPids = runtime.workerPool!.workers().map((w) => w.pid);
    assert.ok(workerPids.includes(fromWorker["sourcePid"] as number), "the worker process's own pid");
    assert.ok(lines.some((l) => l["part"] === "scheduler" && l.msg === "task failed" && l.level === 40));
  });
});

describe("the level from the configuration filters the runtime's log", () => {
  it("at warn: no start-up line, no refused request", async () => {
    const root = tempDir("hg-runtime-log-warn-");
    const config = resolveConfig({
      flags: { stateDir: path.join(root, "state"), dagsDir: path.join(root, "dags"), port: 0 },
      env: { HOURGLASS_LOG_LEVEL: "warn" },
      cwd: root,
    });
    assert.equal(config.logLevel, "warn");
    const runtime = await startHourglass(config, { scheduler: false, workers: 0 });
    try {
      assert.equal((await fetch(`${runtime.url}/api/v1/databases/nope`)).status, 404);
      runtime.log.warn({ probe: true }, "a warning");
    } finally {
      await runtime.stop();
    }
    const lines = logLines(config.stateDir);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["a warning"],
    );
    fs.rmSync(root, { recursive: true, force: true });
  });
});

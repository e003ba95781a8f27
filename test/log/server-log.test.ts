/**
 * The process log on its own: the level filters, warnings and errors reach stderr (one readable
 * line on a terminal), the file rotates at its bound, and a worker's JSON lines are relayed at
 * their own level.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createLog, openServerLog, RotatingFile, relayLogLine } from "../../src/log/index.js";
import { tempDir } from "../support/store.js";

const readLines = (file: string) =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("the server log", () => {
  const dirs: string[] = [];
  const newDir = () => {
    const dir = tempDir("hg-log-");
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes JSON lines at the configured level to <state>/logs/server.log, warnings and errors to stderr too", () => {
    const stateDir = newDir();
    const stderr: string[] = [];
    const serverLog = openServerLog({
      stateDir,
      level: "info",
      stderr: { write: (text) => stderr.push(text) },
    });
    serverLog.log.debug({ detail: 1 }, "not at info");
    serverLog.log.info({ part: "api" }, "an info line");
    serverLog.log.child({ part: "scheduler" }).error({ err: new Error("boom") }, "a failure");
    serverLog.close();
    assert.equal(serverLog.file, path.join(stateDir, "logs", "server.log"));
    const lines = readLines(serverLog.file);
    assert.deepEqual(
      lines.map((l) => [l["level"], l["msg"], l["part"]]),
      [
        [30, "an info line", "api"],
        [50, "a failure", "scheduler"],
      ],
    );
    assert.match(String(lines[0]!["time"]), /^\d{4}-\d\d-\d\dT/);
    assert.match(String((lines[1]!["err"] as { stack: string }).stack), /Error: boom\n\s+at /);
    // stderr: only the error, as the same JSON when it is not a terminal.
    assert.equal(stderr.length, 1);
    assert.equal((JSON.parse(stderr[0]!) as { msg: string }).msg, "a failure");
  });

  it("filters by level: at warn, info lines go nowhere; at silent, nothing is written", () => {
    const stateDir = newDir();
    const serverLog = openServerLog({ stateDir, level: "warn", stderr: { write: () => true } });
    serverLog.log.info({}, "dropped");
    serverLog.log.warn({}, "kept");
    serverLog.close();
    assert.deepEqual(
      readLines(serverLog.file).map((l) => l["msg"]),
      ["kept"],
    );
    const silentDir = newDir();
    const silent = openServerLog({ stateDir: silentDir, level: "silent" });
    silent.log.error({}, "not written");
    silent.close();
    assert.equal(fs.existsSync(path.join(silentDir, "logs")), false);
  });

  it("shows one readable line per warning on a terminal (the stack stays in the file)", () => {
    const stateDir = newDir();
    const stderr: string[] = [];
    const serverLog = openServerLog({
      stateDir,
      level: "info",
      stderr: { write: (text) => stderr.push(text), isTTY: true },
    });
    serverLog.log.child({ connector: "c1" }).warn({ err: new Error("disk full"), delayMs: 200 }, "retrying");
    serverLog.close();
    assert.equal(stderr.length, 1);
    assert.match(
      stderr[0]!,
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}retrying connector=c1 delayMs=200 err="disk full"\n$/,
    );
    assert.match(fs.readFileSync(serverLog.file, "utf8"), /"stack":"Error: disk full/);
  });

  it("rotates at the size bound: server.log, .1 … up to the files kept, the oldest dropped", () => {
    const dir = newDir();
    const file = path.join(dir, "server.log");
    const rotating = new RotatingFile(file, { maxBytes: 1000, keepFiles: 3 });
    const line = (n: number) => `${JSON.stringify({ n }).padEnd(99)}\n`; // 100 bytes each
    for (let n = 0; n < 10; n += 1) rotating.write(line(n));
    assert.equal(fs.statSync(file).size, 1000);
    assert.equal(fs.existsSync(`${file}.1`), false, "not before the bound");
    rotating.write(line(10));
    assert.equal(fs.statSync(file).size, 100);
    assert.equal(fs.statSync(`${file}.1`).size, 1000);
    for (let n = 11; n < 40; n += 1) rotating.write(line(n));
    rotating.close();
    const names = fs.readdirSync(dir).sort();
    assert.deepEqual(names, ["server.log", "server.log.1", "server.log.2"]);
    const first = (name: string) => (readLines(path.join(dir, name))[0] as { n: number }).n;
    assert.deepEqual([first("server.log.2"), first("server.log.1"), first("server.log")], [10, 20, 30]);
    // Reopened (a restart), it goes on from the file's size.
    const again = new RotatingFile(file, { maxBytes: 1000, keepFiles: 3 });
    for (let n = 40; n < 50; n += 1) again.write(line(n));
    again.close();
    assert.equal(first("server.log.1"), 30);
  });

  it("a log file that cannot be written is said once on stderr; nothing throws", () => {
    const dir = newDir();
    const told: unknown[] = [];
    // A folder where the file should be: every open fails.
    fs.mkdirSync(path.join(dir, "server.log"));
    const rotating = new RotatingFile(path.join(dir, "server.log"), { onWriteError: (e) => told.push(e) });
    rotating.write("a\n");
    rotating.write("b\n");
    assert.equal(told.length, 1);
    assert.match(String(told[0]), /EISDIR/);
  });

  it("relays a worker's JSON lines at their own level, with their fields", () => {
    const stateDir = newDir();
    const serverLog = openServerLog({ stateDir, level: "info", stderr: { write: () => true } });
    const relayed = serverLog.log.child({ workerId: "w1" });
    const worker = createLog({ level: "debug", write: (line) => relayLogLine(relayed, line) });
    worker.warn({ taskId: "t" }, "task failed");
    worker.debug({}, "below the server's level");
    relayLogLine(relayed, "not json");
    serverLog.close();
    const lines = readLines(serverLog.file);
    assert.deepEqual(
      lines.map((l) => [l["level"], l["msg"], l["workerId"], l["taskId"]]),
      [
        [40, "task failed", "w1", "t"],
        [30, "not json", "w1", undefined],
      ],
    );
    assert.equal(lines[0]!["sourcePid"], process.pid);
  });
});

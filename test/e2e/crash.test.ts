/**
 * kill -9 of the whole runtime in the middle of a backfill, then a restart on the same state:
 * the backfill goes on, no run is created twice, every interval is exported, and a watcher
 * listing the lake all along never sees a partial file.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { HttpClient } from "../../src/api/client.js";
import { openLocalLake } from "../../src/lake/index.js";
import { RemoteWorkflows } from "../../src/runtime/index.js";
import { TimestreamStore } from "../../src/store/index.js";
import { tempDir } from "../support/store.js";
import { bucket, demoDagFile, demoDagId, loadSeedData } from "./helpers.js";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "runtime.ts");
const hours = 12;

function startRuntime(
  stateDir: string,
  dagsDir: string,
): Promise<{ child: ChildProcess; api: RemoteWorkflows }> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, stateDir, dagsDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\S+)\n/.exec(out);
      if (match) resolve({ child, api: new RemoteWorkflows(new HttpClient(match[1]!)) });
    });
    child.on("exit", (code) =>
      reject(new Error(`the runtime exited (${code}) before it was ready: ${stderr}`)),
    );
  });
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, deadlineMs = 60_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("kill -9 in the middle of a backfill", () => {
  let dir: string;
  let stateDir: string;
  let dagsDir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    dir = tempDir("hourglass-crash-");
    stateDir = path.join(dir, "state");
    dagsDir = path.join(dir, "dags");
    fs.mkdirSync(dagsDir, { recursive: true });
    fs.copyFileSync(demoDagFile, path.join(dagsDir, "timestream-airflow-demo.ts"));
    const store = await TimestreamStore.open({ dir: stateDir, sweepIntervalMs: 0 });
    try {
      const from = Date.parse("2021-09-21T00:00:00Z");
      await loadSeedData(store, openLocalLake(path.join(stateDir, "lake")), from, from + hours * 3_600_000, {
        memoryHours: 24,
        magneticDays: 73000,
      });
    } finally {
      await store.close();
    }
  });
  after(() => {
    child?.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("goes on after a restart: no duplicate runs, every interval exported, never a partial file in the lake", async () => {
    const lake = openLocalLake(path.join(stateDir, "lake"));
    const partial: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const listed = await lake.listObjects(bucket);
        for (const object of listed.objects.filter((o) => o.key.endsWith("/my_file.csv"))) {
          const text = new TextDecoder().decode(
            await lake.getObject(bucket, object.key).catch(() => new Uint8Array()),
          );
          // 6 hosts, a point a minute: a header and 360 rows, ending with a newline.
          if (text.length > 0 && (text.split("\n").length !== 362 || !text.endsWith("\n")))
            partial.push(object.key);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    let started = await startRuntime(stateDir, dagsDir);
    child = started.child;
    const created = await started.api.createBackfill({
      dagId: demoDagId,
      from: "2021-09-21T00:00:00Z",
      to: `2021-09-21T${String(hours - 1).padStart(2, "0")}:00:00Z`,
      maxActiveRuns: 2,
    });
    const id = created.backfill!.id;
    await until(async () => {
      const view = await started.api.getBackfill(id);
      return (view.progress?.done ?? 0) >= 3 ? true : undefined;
    }, "three runs done");
    child.kill("SIGKILL");
    await new Promise((resolve) => child!.once("exit", resolve));
    const doneBefore = (await lake.listObjects(bucket)).objects.filter((o) =>
      o.key.endsWith("/my_file.csv"),
    ).length;
    assert.ok(doneBefore < hours, "killed in the middle");

    started = await startRuntime(stateDir, dagsDir);
    child = started.child;
    const view = await until(async () => {
      const v = await started.api.getBackfill(id);
      return v.state === "completed" ? v : undefined;
    }, "the backfill completed after the restart");
    watching = false;
    await watcher;

    assert.deepEqual([view.progress?.succeeded, view.progress?.total], [hours, hours]);
    const runs = await started.api.listRuns({ dagId: demoDagId, limit: 100 });
    assert.equal(runs.length, hours, "no run created twice");
    assert.equal(new Set(runs.map((r) => r.dataIntervalStart)).size, hours);
    const files = (await lake.listObjects(bucket)).objects.filter((o) => o.key.endsWith("/my_file.csv"));
    assert.equal(files.length, hours, "every interval exported");
    assert.deepEqual(partial, [], "the watcher never saw a partial file");
    child.kill("SIGKILL");
  });
});

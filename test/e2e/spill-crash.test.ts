/**
 * kill -9 of the server while a query is spilling to disk, then a restart on the same state: the
 * store opens, the data is intact, and the spill files the killed process left are gone.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openLocalLake } from "../../src/lake/index.js";
import { STORE_TEMP_FOLDER, TimestreamStore } from "../../src/store/index.js";
import { tempDir } from "../support/store.js";
import { loadSeedData, queryRows } from "./helpers.js";

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "query-runtime.ts");
const hours = 3;
/** About 20 million groups: far more than 64 MB of hash table, so DuckDB spills it. */
const SPILLING =
  "SELECT count(*) FROM (SELECT a.x, b.y, count(*) AS n FROM UNNEST(sequence(1, 10000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 2000)) AS b(y) GROUP BY a.x, b.y)";

function startServer(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, stateDir], {
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
      if (match) resolve({ child, url: match[1]! });
    });
    child.on("exit", (code) =>
      reject(new Error(`the server exited (${code}) before it was ready: ${stderr}`)),
    );
  });
}

/** DuckDB's spill files in the temp folder, with their sizes. */
function spillFiles(folder: string): { name: string; size: number }[] {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((name) => name.startsWith("duckdb_temp"))
    .map((name) => ({ name, size: fs.statSync(path.join(folder, name)).size }));
}

describe("kill -9 while a query spills to disk", () => {
  let dir: string;
  let stateDir: string;
  let child: ChildProcess | undefined;
  let loaded: number;
  const countSql = 'SELECT count(*) FROM "airflow-db"."airflow-table"';
  before(async () => {
    dir = tempDir("hourglass-spill-crash-");
    stateDir = path.join(dir, "state");
    fs.mkdirSync(path.join(stateDir, "dags"), { recursive: true });
    const store = await TimestreamStore.open({ dir: stateDir, sweepIntervalMs: 0 });
    try {
      const from = Date.parse("2021-09-21T00:00:00Z");
      loaded = await loadSeedData(
        store,
        openLocalLake(path.join(stateDir, "lake")),
        from,
        from + hours * 3_600_000,
        {
          memoryHours: 24,
          magneticDays: 73000,
        },
      );
    } finally {
      await store.close();
    }
  });
  after(() => {
    child?.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("opens again with the data intact and the temp folder emptied", async () => {
    const temp = path.join(stateDir, STORE_TEMP_FOLDER);
    const started = await startServer(stateDir);
    child = started.child;
    const query = fetch(`${started.url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ QueryString: SPILLING }),
    }).catch(() => null); // the server dies under it
    const deadline = Date.now() + 120_000;
    while (!spillFiles(temp).some((f) => f.size > 0)) {
      if (Date.now() > deadline) assert.fail("the query did not spill within 120 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGKILL");
    await new Promise((resolve) => child!.once("exit", resolve));
    child = undefined;
    await query;
    assert.ok(spillFiles(temp).length > 0, "the killed server left its spill files");

    const store = await TimestreamStore.open({ dir: stateDir, sweepIntervalMs: 0 });
    try {
      assert.deepEqual(spillFiles(temp), [], "the temp folder is emptied when the store opens");
      assert.deepEqual(await queryRows(store, countSql), [[String(loaded)]]);
    } finally {
      await store.close();
    }
    // And the server starts on it again and answers.
    const again = await startServer(stateDir);
    child = again.child;
    const response = await fetch(`${again.url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ QueryString: countSql }),
    });
    const body = (await response.json()) as { Rows: { Data: { ScalarValue: string }[] }[] };
    assert.equal(body.Rows[0]!.Data[0]!.ScalarValue, String(loaded));
  });
});

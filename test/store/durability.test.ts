import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { TimestreamStore } from "../../src/store/index.js";
import { queryAll, SEED_NOW_MS, tempDir } from "../support/store.js";

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "writer-child.ts");

/** Starts the writer, waits until it has acknowledged `minAcks` batches plus a random few, then SIGKILLs it. */
function runAndKill(dir: string, create: boolean, minAcks: number, extra: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = [
      "--import",
      "tsx",
      child,
      dir,
      String(SEED_NOW_MS),
      ...(create ? ["--create"] : []),
      ...extra,
    ];
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let lastAck = -1;
    let buffer = "";
    let stderr = "";
    const killAt = minAcks + Math.floor(Math.random() * 5);
    proc.stdout.on("data", (data: Buffer) => {
      buffer += data.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const match = /^acked (\d+)$/.exec(line);
        if (match) lastAck = Number(match[1]);
        if (lastAck >= killAt) proc.kill("SIGKILL");
      }
    });
    proc.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    proc.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`writer exited without being killed: ${stderr}`));
      else resolve(lastAck);
    });
  });
}

describe("store durability", () => {
  it("keeps every acknowledged record after kill -9 of the writing process", {
    timeout: 120_000,
  }, async () => {
    const dir = tempDir("hg-crash-");
    try {
      const firstAck = await runAndKill(dir, true, 3);
      const secondAck = await runAndKill(dir, false, 2);
      const store = await TimestreamStore.open({ dir, clockMs: () => SEED_NOW_MS, sweepIntervalMs: 0 });
      try {
        const { rows } = await queryAll(
          store,
          `SELECT count(*), count(DISTINCT time), min(measure_value::double), max(measure_value::double) FROM "crash-db"."crash-table"`,
        );
        const [total, times] = rows[0]!.map(Number);
        // The second run restarts its batch numbers at 0: the same times, the same values, so its
        // writes are idempotent re-writes of the first run's and add rows only beyond its batches.
        const batches = Math.max(firstAck, secondAck) + 1;
        assert.ok(
          times! >= batches,
          `every acknowledged batch is there: ${times} distinct times, ${batches} acked`,
        );
        assert.ok(total! >= batches * 500, `at least ${batches * 500} rows, found ${total}`);
        assert.equal(total! % 500, 0, "no batch is there in part: a batch is one transaction");
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("store durability: data versions", () => {
  it("after kill -9 mid-write, every bucket's version and record count agree with its data", {
    timeout: 120_000,
  }, async () => {
    const dir = tempDir("hg-crash-versions-");
    try {
      // Buckets of one second: each batch (one second of data) lands in a bucket of its own.
      const firstAck = await runAndKill(dir, true, 3, ["--bucket-ms", "1000"]);
      // The second run re-writes the first run's batches (no-ops: no bucket may move) and goes on.
      const secondAck = await runAndKill(dir, false, firstAck + 2, ["--bucket-ms", "1000"]);
      const store = await TimestreamStore.open({
        dir,
        clockMs: () => SEED_NOW_MS,
        sweepIntervalMs: 0,
        dataVersions: { bucketMs: 1000 },
      });
      try {
        const { rows } = await queryAll(
          store,
          `SELECT to_milliseconds(time), count(*) FROM "crash-db"."crash-table" GROUP BY time ORDER BY time`,
        );
        const counts = new Map(rows.map((row) => [Number(row[0]), Number(row[1])]));
        const { buckets } = await store.dataVersionsRead(
          `SELECT * FROM "crash-db"."crash-table"`,
          SEED_NOW_MS - 7_200_000,
          SEED_NOW_MS,
        );
        assert.ok(buckets.length >= Math.max(firstAck, secondAck) + 1, "a bucket per acknowledged batch");
        assert.deepEqual(
          new Map(buckets.map((b) => [b.startMs, b.records])),
          counts,
          "each bucket counts exactly the records its data holds: no version without its data, no data without its version",
        );
        // Versions are commit numbers: distinct per batch, and the re-written batches kept theirs.
        const versions = buckets.map((b) => b.version);
        assert.equal(new Set(versions).size, versions.length);
        assert.deepEqual(
          versions,
          [...versions].sort((a, b) => a - b),
          "later batches carry higher versions",
        );
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("store: one process per state folder", () => {
  it("refuses a second process with a clear message naming the file", { timeout: 60_000 }, async () => {
    const dir = tempDir("hg-lock-");
    const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
    try {
      const script = `import { TimestreamStore } from ${JSON.stringify(new URL("../../src/store/index.ts", import.meta.url).pathname)};
        try { await TimestreamStore.open({ dir: ${JSON.stringify(dir)} }); console.log("opened"); }
        catch (e) { console.log(e.code + ": " + e.message); }`;
      const output = await new Promise<string>((resolve, reject) => {
        const proc = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        proc.stdout.on("data", (d: Buffer) => {
          out += d.toString();
        });
        proc.on("error", reject);
        proc.on("close", () => resolve(out));
      });
      assert.match(output, /^Conflict: the store .*store\.duckdb is open in another process \(pid \d+\)/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Crash safety: the connector is killed with SIGKILL at random points while it works through a
 * backlog, and started again each time; in the end the store holds every generated record exactly
 * once (at-least-once delivery + the store's idempotent writes).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { buildModel, historical, recordsPerLoop } from "../../src/loadgen/index.js";
import { streamSink } from "../../src/loadgen/sinks.js";
import { TimestreamStore } from "../../src/store/index.js";
import { readCheckpoint } from "../../src/stream/connector/index.js";
import { openStreamService, parseSequenceNumber } from "../../src/stream/index.js";
import { DB, rows, SEED_NOW_MS, SEED_START_S, TABLE, tempDir } from "./helpers.js";

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "connector-child.ts");
const LOOPS = 6; // one minute, a loop every 10 s: 156,000 records
const BATCH = 8_000;
const KILLS = 4;

interface Child {
  process: ChildProcess;
  lines: string[];
  /** Resolves when `count` lines (default 1) matching `pattern` have been printed. */
  waitFor(pattern: RegExp, ms: number, count?: number): Promise<string>;
  stderr(): string;
}

function spawnChild(dir: string): Child {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", childScript, dir, String(SEED_NOW_MS), String(BATCH)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  let buffered = "";
  let errors = "";
  const waiters: { pattern: RegExp; count: number; resolve: (line: string) => void }[] = [];
  child.stderr!.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line) && --waiter.count === 0) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  return {
    process: child,
    lines,
    stderr: () => errors,
    waitFor(pattern, ms, count = 1) {
      const seen = lines.filter((l) => pattern.test(l));
      if (seen.length >= count) return Promise.resolve(seen[count - 1]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line ${pattern} after ${ms} ms; stderr: ${errors}`)),
          ms,
        );
        waiters.push({
          pattern,
          count: count - seen.length,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        child.once("exit", (code, signal) => {
          clearTimeout(timer);
          reject(
            new Error(`the child exited (${code ?? signal}) before printing ${pattern}; stderr: ${errors}`),
          );
        });
      });
    },
  };
}

describe("crash safety of the connector", () => {
  const dir = tempDir("hg-connector-crash-");
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("holds every record exactly once after repeated SIGKILLs and restarts", async () => {
    // The backlog: one minute of the generator on a 4-shard stream, and the seed's table.
    const streams = await openStreamService({ dir, sweepIntervalMs: 0 });
    await streams.createStream("metrics", 4);
    const generated = await historical({
      from: SEED_START_S,
      to: SEED_START_S + LOOPS * 10,
      stepSeconds: 10,
      sink: streamSink(streams, "metrics"),
    });
    await streams.close();
    const setup = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
    await setup.createDatabase(DB);
    await setup.createTable({
      DatabaseName: DB,
      TableName: TABLE,
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    });
    await setup.close();
    assert.equal(generated.records, LOOPS * recordsPerLoop(buildModel({}), "single", true).total);

    const seed = Date.now();
    let previous: Record<string, string> = {};
    const writtenAtKills: number[] = [];
    for (let round = 0; round < KILLS; round++) {
      const child = spawnChild(dir);
      const started = await child.waitFor(/^started /, 60_000);
      // Each run resumes exactly at the checkpoint the last one saved.
      const resumedAt = JSON.parse(started.slice("started ".length)) as (string | null)[];
      assert.deepEqual(
        resumedAt.filter((s) => s !== null).sort(),
        Object.values(previous).sort(),
        `round ${round}`,
      );
      // A pseudo-random point: after 0 to 2 batches, then 0 to 150 ms more (seed printed on failure).
      const batches = (seed >> round) % 3;
      if (batches > 0) await child.waitFor(/^batch /, 60_000, batches);
      await new Promise((resolve) => setTimeout(resolve, (seed * (round + 3)) % 150));
      child.process.kill("SIGKILL");
      const [, signal] = (await once(child.process, "exit")) as [number | null, string | null];
      assert.equal(signal, "SIGKILL", `round ${round} (seed ${seed}): ${child.stderr()}`);
      const checkpoint = await readCheckpoint(dir, "metrics");
      const now = checkpoint?.shards ?? {};
      for (const [shard, sequence] of Object.entries(previous)) {
        assert.ok(
          parseSequenceNumber(now[shard]).offset >= parseSequenceNumber(sequence).offset,
          `checkpoints never go back (${shard}, seed ${seed})`,
        );
      }
      previous = now;
      writtenAtKills.push(checkpoint?.counts.written ?? 0);
    }
    // The kills came while there was work left: the last run still had records to write.
    assert.ok(
      writtenAtKills.at(-1)! < generated.records,
      `written at the kills: ${writtenAtKills} (seed ${seed})`,
    );

    // The last run catches up, then stops cleanly on SIGTERM.
    const last = spawnChild(dir);
    await last.waitFor(/^idle$/, 120_000);
    last.process.kill("SIGTERM");
    await last.waitFor(/^stopped /, 60_000);
    const [code] = (await once(last.process, "exit")) as [number | null];
    assert.equal(code, 0, last.stderr());

    const store = await TimestreamStore.open({ dir, clockMs: () => SEED_NOW_MS, sweepIntervalMs: 0 });
    try {
      const model = buildModel({});
      const perMeasure = await rows(
        store,
        `SELECT measure_name, count(*), count(DISTINCT concat(region, cell, silo, instance_name, coalesce(process_name, ''), CAST(time AS VARCHAR))) FROM "${DB}"."${TABLE}" GROUP BY measure_name ORDER BY measure_name`,
      );
      const metrics = String(LOOPS * model.metricSeries.length);
      const events = String(LOOPS * model.eventSeries.length);
      const both = String(LOOPS * (model.metricSeries.length + model.eventSeries.length));
      for (const [measure, count, distinct] of perMeasure) {
        const expected =
          measure === "memory_free"
            ? both
            : ["task_completed", "task_end_state", "gc_reclaimed", "gc_pause"].includes(measure!)
              ? events
              : metrics;
        assert.equal(count, expected, `${measure}: none lost, none twice (seed ${seed})`);
        assert.equal(distinct, expected, `${measure}: every record distinct (seed ${seed})`);
      }
      assert.equal(perMeasure.length, 24);
      const [[total]] = (await rows(store, `SELECT count(*) FROM "${DB}"."${TABLE}"`)) as [[string]];
      assert.equal(Number(total), generated.records);
    } finally {
      await store.close();
    }
  });
});

/**
 * Catchup: the seed's scenario with real data. 1,000 hosts x 20 measures every 10 s for a day
 * (172.8 M rows at 24 hours) are loaded through the store's native path (cached in --dir between
 * runs). Then:
 *
 * - by hand: the 24 hourly exports as DuckDB `COPY (hand-written query) TO 'file.csv' (HEADER)`
 *   on the same tables, one after the other;
 * - Hourglass: a runtime with the demo DAG (examples/dags/timestream-airflow-demo.ts), clock at
 *   2021-09-23 00:10 UTC; unpausing it runs the day's 24 intervals; timed to the 24th file. As the
 *   hand-written side is timed from an open connection, the runtime is timed once it is up.
 *   startHourglass returns once its workers have loaded the DAG files; by default the script also
 *   waits until the workers' CPU time stops growing. `--cold` unpauses as soon as startHourglass
 *   returns.
 *
 * Goal: Hourglass / by hand <= 1.2.
 *
 * The machine is shared, so one round can be off by a factor of two either way: `--repeat N` runs
 * N rounds (by hand, then Hourglass, each round in a fresh lake and metadata DB) and prints each
 * round's ratio, the ratio of the medians, and the load average before and after.
 *
 *   node --import tsx bench/catchup.ts [--hours 24] [--workers 2] [--repeat 1] [--cold] [--dir /tmp/hg-bench-catchup]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { resolveConfig } from "../src/config.js";
import { startHourglass } from "../src/runtime/index.js";
import { TimestreamStore } from "../src/store/index.js";
import { arg, fmt, loadSeedMetrics, median, peakRssMb, tempDir } from "./util.js";

const hours = arg("hours", 24);
const workers = arg("workers", 2);
const repeat = arg("repeat", 1);
const cold = process.argv.includes("--cold");
const dirIndex = process.argv.indexOf("--dir");
const dir = dirIndex >= 0 ? process.argv[dirIndex + 1]! : "/tmp/hg-bench-catchup";
const markerFile = path.join(dir, `loaded-${hours}h.json`);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const DAY_S = Date.UTC(2021, 8, 22) / 1000;
const nowMs = Date.UTC(2021, 8, 23, 0, 10);
const iso = (s: number) => new Date(s * 1000).toISOString().slice(0, 19).replace("T", " ");

async function load(): Promise<void> {
  if (fs.existsSync(markerFile)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  const store = await TimestreamStore.open({ dir, clockMs: () => nowMs, sweepIntervalMs: 0 });
  await store.createDatabase("airflow-db");
  await store.createTable({
    DatabaseName: "airflow-db",
    TableName: "airflow-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
  });
  const loops = hours * 360;
  const t0 = performance.now();
  await loadSeedMetrics(store, DAY_S, hours);
  await store.checkpoint();
  await store.close();
  const seconds = (performance.now() - t0) / 1000;
  fs.writeFileSync(markerFile, JSON.stringify({ rows: loops * 20000, seconds }));
  process.stderr.write(`loaded ${fmt(loops * 20000)} rows in ${seconds.toFixed(0)} s\n`);
}

/** The 24 exports by hand: the best hand-written DuckDB SQL on the store's own tables, COPY to CSV. */
async function byHand(outDir: string): Promise<number> {
  const instance = await DuckDBInstance.create(path.join(dir, "store.duckdb"));
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const { measure_id } = (
    await connection.runAndReadAll("SELECT measure_id FROM _hg.t1_measures WHERE measure_name = 'cpu_nice'")
  ).getRowObjectsJson()[0] as { measure_id: number };
  const dims = (
    await connection.runAndReadAll(
      "SELECT name, physical FROM _hg.columns WHERE table_id = 1 AND kind = 'dimension'",
    )
  ).getRowObjectsJson() as { name: string; physical: string }[];
  const col = (name: string) => `s.${dims.find((d) => d.name === name)!.physical}`;
  const t0 = performance.now();
  for (let h = 0; h < 24; h += 1) {
    const start = DAY_S + h * 3600;
    const query = `SELECT ${col("instance_name")} AS instance_name, time_bucket(INTERVAL 15 SECOND, p.time) AS binned_timestamp,
      round(avg(p.v_double), 2) AS avg_cpu_utilization, quantile_disc(p.v_double, [0.9, 0.95, 0.99]) AS q
      FROM _hg.t1_points p JOIN _hg.t1_series s ON s.series_id = p._series_id
      WHERE p._measure_id = ${measure_id} AND p.time >= TIMESTAMP_NS '${iso(start)}' AND p.time < TIMESTAMP_NS '${iso(start + 3600)}'
      GROUP BY ${col("region")}, ${col("instance_name")}, ${col("availability_zone")}, binned_timestamp
      ORDER BY binned_timestamp, ${col("region")}, ${col("instance_name")}, ${col("availability_zone")}`;
    await connection.run(`COPY (${query}) TO '${path.join(outDir, `${h}.csv`)}' (HEADER)`);
  }
  const seconds = (performance.now() - t0) / 1000;
  connection.closeSync();
  instance.closeSync();
  return seconds;
}

/** CPU time (user + system) of a process, in clock ticks, from Linux's /proc; null elsewhere. */
function cpuTicks(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/**
 * Waits until the worker processes are idle: they load the DAG files as they start, and the pool
 * has no signal for when that is done, so this watches their CPU time stop growing (quiet for
 * 500 ms: on a loaded machine a busy process can go a few hundred ms without running), for at most
 * 10 s. Without /proc it waits 2 s. Returns the seconds waited.
 */
async function workersSettled(pids: number[]): Promise<number> {
  const started = performance.now();
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let last = pids.map(cpuTicks);
  if (last.some((ticks) => ticks === null)) {
    await pause(2000);
    return (performance.now() - started) / 1000;
  }
  let quietSince = performance.now();
  while (performance.now() - started < 10_000) {
    await pause(50);
    const now = pids.map(cpuTicks);
    if (now.some((ticks, i) => ticks !== last[i])) quietSince = performance.now();
    else if (performance.now() - quietSince >= 500) break;
    last = now;
  }
  return (performance.now() - started) / 1000;
}

/** Hourglass: unpause the demo DAG and wait for its 24 runs; seconds to the 24th file. */
async function withHourglass(
  work: string,
): Promise<{ seconds: number; files: number; settledSeconds: number }> {
  const dagsDir = path.join(work, "dags");
  fs.mkdirSync(dagsDir);
  fs.copyFileSync(
    path.join(root, "examples", "dags", "timestream-airflow-demo.ts"),
    path.join(dagsDir, "demo.ts"),
  );
  const config = resolveConfig({
    flags: {
      stateDir: dir,
      dagsDir,
      port: 0,
      workers,
      metadataUrl: `sqlite:${path.join(work, "metadata.db")}`,
      lakeDir: path.join(work, "lake"),
    },
    env: {},
    cwd: work,
  });
  const runtime = await startHourglass(config, { clockMs: () => nowMs, tickMs: 100 });
  try {
    await runtime.lake.createBucket("demo-airflow-ts-output");
    const pids = (runtime.workerPool?.workers() ?? []).flatMap((w) => (w.pid === null ? [] : [w.pid]));
    const settledSeconds = cold ? 0 : await workersSettled(pids);
    let files = 0;
    let finished = 0;
    let lastFileMs = 0;
    const startedMs = performance.now();
    const done = new Promise<void>((resolve) => {
      runtime.events.on("export:written", () => {
        files += 1;
        lastFileMs = performance.now();
      });
      runtime.events.on("run:finished", ({ run }) => {
        if (run.dagId === "timestream-airflow-demo" && ++finished === 24) resolve();
      });
    });
    await runtime.workflows.setPaused("timestream-airflow-demo", false);
    await done;
    return {
      seconds: ((files === 24 ? lastFileMs : performance.now()) - startedMs) / 1000,
      files,
      settledSeconds,
    };
  } finally {
    await runtime.stop();
  }
}

const loadAverage = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(", ");

await load();
console.log(
  `catchup: the seed's day (${hours} h of 1,000 hosts x 20 measures every 10 s), 24 hourly exports, ${workers} workers`,
);
const loadBefore = loadAverage();
const rounds: { hand: number; ours: number }[] = [];
for (let round = 1; round <= repeat; round++) {
  const work = tempDir("hg-bench-catchup-run-");
  try {
    const hand = await byHand(work);
    const ours = await withHourglass(work);
    rounds.push({ hand, ours: ours.seconds });
    const what = `${cold ? "right after start" : `once the workers were idle, ${ours.settledSeconds.toFixed(1)} s after start`}, to ${ours.files === 24 ? "the 24th file" : `the end of the 24 runs, ${ours.files} files`}`;
    console.log(
      `  ${repeat > 1 ? `round ${round}: ` : ""}by hand (DuckDB COPY of a hand-written query, one after the other) ${hand.toFixed(2)} s; Hourglass (unpause ${what}) ${ours.seconds.toFixed(2)} s; ratio ${(ours.seconds / hand).toFixed(2)}`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
if (repeat > 1) {
  const hand = median(rounds.map((r) => r.hand));
  const ours = median(rounds.map((r) => r.ours));
  const ratios = rounds.map((r) => r.ours / r.hand).sort((a, b) => a - b);
  console.log(
    `  medians of ${repeat} rounds: by hand ${hand.toFixed(2)} s, Hourglass ${ours.toFixed(2)} s, ratio ${(ours / hand).toFixed(2)} (round ratios ${ratios[0]!.toFixed(2)} to ${ratios.at(-1)!.toFixed(2)})`,
  );
}
const last = rounds.at(-1)!;
console.log(
  `  ratio ${(repeat > 1 ? median(rounds.map((r) => r.ours)) / median(rounds.map((r) => r.hand)) : last.ours / last.hand).toFixed(2)} (goal <= 1.2); load average ${loadBefore} before, ${loadAverage()} after; peak RSS ${peakRssMb()} MB`,
);

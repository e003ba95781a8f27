/**
 * Catchup: the seed's scenario with real data. 1,000 hosts x 20 measures every 10 s for a day
 * (172.8 M rows at 24 hours) are loaded through the store's native path (cached in --dir between
 * runs). Then:
 *
 * - by hand: the 24 hourly exports as DuckDB `COPY (hand-written query) TO 'file.csv' (HEADER)`
 *   on the same tables, one after the other;
 * - Hourglass: a runtime with the demo DAG (examples/dags/timestream-airflow-demo.ts), clock at
 *   2021-09-23 00:10 UTC; unpausing it runs the day's 24 intervals; timed to the 24th file.
 *
 * Goal: Hourglass / by hand <= 1.2.
 *
 *   node --import tsx bench/catchup.ts [--hours 24] [--workers 2] [--dir /tmp/hg-bench-catchup]
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { resolveConfig } from "../src/config.js";
import { startHourglass } from "../src/runtime/index.js";
import { TimestreamStore } from "../src/store/index.js";
import { arg, fmt, loadSeedMetrics, peakRssMb, tempDir } from "./util.js";

const hours = arg("hours", 24);
const workers = arg("workers", 2);
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

await load();
const work = tempDir("hg-bench-catchup-run-");
try {
  const handSeconds = await byHand(work);

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
    const oursSeconds = ((files === 24 ? lastFileMs : performance.now()) - startedMs) / 1000;
    console.log(
      `catchup: the seed's day (${hours} h of 1,000 hosts x 20 measures every 10 s), 24 hourly exports`,
    );
    console.log(
      `  by hand (DuckDB COPY of a hand-written query, one after the other): ${handSeconds.toFixed(2)} s`,
    );
    console.log(
      `  Hourglass (unpause to the ${files === 24 ? "24th file" : `end of the 24 runs, ${files} files`}, ${workers} workers): ${oursSeconds.toFixed(2)} s`,
    );
    console.log(
      `  ratio ${(oursSeconds / handSeconds).toFixed(2)} (goal <= 1.2); peak RSS ${peakRssMb()} MB`,
    );
  } finally {
    await runtime.stop();
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

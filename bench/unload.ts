/**
 * UNLOAD: the seed's query result (about 240,000 rows from one hour of 1,000 hosts x 20 measures
 * every 10 s) and one measure's raw rows for the hour (360,000), written to the lake by UNLOAD as
 * gzip CSV, Parquet, and gzip CSV partitioned by region, against the native export path (the
 * store's exportQuery: one COPY of the same SELECT to one gzip CSV file) in the same script, runs
 * alternating. The ratio is UNLOAD's median time over the export's.
 *
 *   node --import tsx bench/unload.ts [--hours 1] [--runs 3] [--dir /tmp/hg-bench-unload-1h]
 *
 * The loaded table is kept in --dir and reused by later runs.
 */
import fs from "node:fs";
import path from "node:path";
import { openLocalLake } from "../src/lake/index.js";
import { TimestreamStore } from "../src/store/index.js";
import { arg, fmt, loadSeedMetrics, median, peakRssMb } from "./util.js";

const hours = arg("hours", 1);
const runs = arg("runs", 3);
const dirIndex = process.argv.indexOf("--dir");
const dir = dirIndex >= 0 ? process.argv[dirIndex + 1]! : `/tmp/hg-bench-unload-${hours}h`;
const markerFile = path.join(dir, `loaded-${hours}h.json`);
const END_S = Date.UTC(2021, 8, 22, 18, 0, 0) / 1000;
const START_S = END_S - hours * 3600;
const clockMs = () => (END_S + 60) * 1000;
const iso = (s: number) => new Date(s * 1000).toISOString().replace("T", " ").replace(".000Z", "+00:00");
const HOUR = `time BETWEEN '${iso(END_S - 3600)}' AND '${iso(END_S)}'`;
const SEED_QUERY = `SELECT instance_name, BIN(time, 15s) AS binned_timestamp, ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND ${HOUR} GROUP BY region, instance_name, availability_zone, BIN(time, 15s) ORDER BY binned_timestamp ASC`;
const RAW_QUERY = `SELECT instance_name, availability_zone, time, measure_value::double AS cpu_nice, region FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND ${HOUR}`;

async function load(): Promise<void> {
  if (fs.existsSync(markerFile)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  const store = await TimestreamStore.open({ dir, clockMs, sweepIntervalMs: 0 });
  await store.createDatabase("airflow-db");
  await store.createTable({
    DatabaseName: "airflow-db",
    TableName: "airflow-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
  await loadSeedMetrics(store, START_S, hours);
  await store.checkpoint();
  await store.close();
  fs.writeFileSync(markerFile, JSON.stringify({ rows: hours * 360 * 20000 }));
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  await load();
  const lakeDir = path.join(dir, "lake");
  fs.rmSync(lakeDir, { recursive: true, force: true });
  const lake = openLocalLake(lakeDir);
  await lake.createBucket("bench-unload");
  const store = await TimestreamStore.open({ dir, clockMs, sweepIntervalMs: 0, lake });
  const exportFile = path.join(dir, "export.csv.gz");
  const cases: [string, string, string][] = [
    ["seed query, gzip CSV", SEED_QUERY, ""],
    ["raw hour, gzip CSV", RAW_QUERY, ""],
    ["raw hour, Parquet", RAW_QUERY, "WITH (format = 'PARQUET')"],
    ["raw hour, gzip CSV by region", RAW_QUERY, "WITH (partitioned_by = ARRAY['region'])"],
  ];
  console.log(`UNLOAD vs the native export (one COPY to one gzip CSV), ${runs} runs each, medians`);
  for (const [name, select, options] of cases) {
    let rows = 0;
    const unload = async () => {
      const response = await store.query({
        QueryString: `UNLOAD (${select}) TO 's3://bench-unload/${name.replaceAll(/[^a-z]+/g, "-")}/' ${options}`,
      });
      rows = Number(response.Rows[0]!.Data[0]!.ScalarValue);
    };
    const native = () => store.exportQuery({ query: select, path: exportFile, format: "csv", gzip: true });
    await unload();
    await native();
    const unloadS: number[] = [];
    const nativeS: number[] = [];
    for (let r = 0; r < runs; r++) {
      if (r % 2 === 0) {
        unloadS.push(await timed(unload));
        nativeS.push(await timed(native));
      } else {
        nativeS.push(await timed(native));
        unloadS.push(await timed(unload));
      }
    }
    const u = median(unloadS);
    const n = median(nativeS);
    console.log(
      `${name.padEnd(30)} ${fmt(rows).padStart(9)} rows  UNLOAD ${u.toFixed(2)} s  export ${n.toFixed(2)} s  ratio ${(u / n).toFixed(2)}`,
    );
  }
  console.log(`peak RSS ${fmt(peakRssMb())} MB`);
  await store.close();
  fs.rmSync(exportFile, { force: true });
}

await main();

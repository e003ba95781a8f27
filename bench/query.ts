/**
 * Query: the seed's query over one hour inside a 6-hour table (1,000 hosts x 20 measures every 10 s:
 * 7.2 M rows an hour, 43.2 M in all), through the Timestream dialect, against the best hand-written
 * DuckDB SQL over the same tables, in the same script, runs alternating so that both see the same
 * load. Also: the export of that result to CSV (our export path vs a hand-written COPY), the full
 * Query API with paging, and optionally the same query and data in PostgreSQL (`--pg`).
 *
 *   node --import tsx bench/query.ts [--hours 6] [--runs 5] [--pg] [--dir /tmp/hg-bench-query-6h]
 *
 * The loaded table is kept in --dir and reused by later runs; PostgreSQL's copy in schema hg_bench_6h.
 */
import fs from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import pg from "pg";
import { TimestreamStore } from "../src/store/index.js";
import { arg, fmt, loadSeedMetrics, median, peakRssMb } from "./util.js";

const hours = arg("hours", 6);
const runs = arg("runs", 5);
const withPg = process.argv.includes("--pg");
const dirIndex = process.argv.indexOf("--dir");
// One folder per table size, so that the 2-hour and 6-hour tables can both stay cached.
const dir = dirIndex >= 0 ? process.argv[dirIndex + 1]! : `/tmp/hg-bench-query-${hours}h`;
const markerFile = path.join(dir, `loaded-${hours}h.json`);

// Data ends at a fixed hour so reruns reuse it; the store's clock is pinned just after it.
const END_S = Date.UTC(2021, 8, 22, 18, 0, 0) / 1000;
const START_S = END_S - hours * 3600;
const clockMs = () => (END_S + 60) * 1000;
const queryStart = START_S + Math.min(2, hours - 1) * 3600; // the third hour (or the last, for short tables)
const iso = (s: number) => new Date(s * 1000).toISOString().replace("T", " ").replace(".000Z", "+00:00");
const SEED_QUERY = `SELECT instance_name, BIN(time, 15s) AS binned_timestamp, ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND time BETWEEN '${iso(queryStart)}' AND '${iso(queryStart + 3600)}' GROUP BY region, instance_name, availability_zone, BIN(time, 15s) ORDER BY binned_timestamp ASC`;

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
  const loops = hours * 360;
  const t0 = performance.now();
  await loadSeedMetrics(store, START_S, hours);
  await store.checkpoint();
  await store.close();
  const seconds = (performance.now() - t0) / 1000;
  fs.writeFileSync(markerFile, JSON.stringify({ rows: loops * 20000, seconds }));
  process.stderr.write(`loaded ${fmt(loops * 20000)} rows in ${seconds.toFixed(0)} s\n`);
}

interface Timings {
  /** Wall-clock seconds per run. */
  wall: number[];
  /** CPU seconds per run (all of this process's threads, DuckDB's included): what other people's
   * load on the shared cores disturbs least. */
  cpu: number[];
}

/** Times two pieces of work in alternating order (a b, b a, …) after a warm-up of each. */
async function timeAlternating(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<[Timings, Timings]> {
  await a();
  await b();
  const timings: [Timings, Timings] = [
    { wall: [], cpu: [] },
    { wall: [], cpu: [] },
  ];
  const once = async (work: () => Promise<unknown>, into: Timings) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await work();
    into.wall.push((performance.now() - t0) / 1000);
    const cpu = process.cpuUsage(cpu0);
    into.cpu.push((cpu.user + cpu.system) / 1e6);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      await once(a, timings[0]);
      await once(b, timings[1]);
    } else {
      await once(b, timings[1]);
      await once(a, timings[0]);
    }
  }
  return timings;
}

async function timeIt(work: () => Promise<unknown>): Promise<number[]> {
  await work(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    times.push((performance.now() - t0) / 1000);
  }
  return times;
}

await load();

// 1. Through the store: the translation, the Query API (every page), and the export.
const store = await TimestreamStore.open({ dir, clockMs, sweepIntervalMs: 0 });
const translated = store.translate(SEED_QUERY);
const translateTimes = await timeIt(async () => store.translate(SEED_QUERY));
let apiRows = 0;
const apiTimes = await timeIt(async () => {
  apiRows = 0;
  let page = await store.query({ QueryString: SEED_QUERY });
  apiRows += page.Rows.length;
  while (page.NextToken) {
    page = await store.query({ QueryString: SEED_QUERY, NextToken: page.NextToken });
    apiRows += page.Rows.length;
  }
});
const exportPath = path.join(dir, "ours.csv");
const exportTimes = await timeIt(() =>
  store.exportQuery({ query: SEED_QUERY, path: exportPath, format: "csv", header: true, indexColumn: true }),
);
const apiPeak = peakRssMb();
await store.close();

// 2. The same DuckDB file opened directly: the translated SQL vs the best hand-written SQL.
const instance = await DuckDBInstance.create(path.join(dir, "store.duckdb"));
const connection = await instance.connect();
await connection.run("SET TimeZone = 'UTC'");
// The expert knows the physical layout: the measure's id, the series table's dimension columns.
const ids = (
  await connection.runAndReadAll("SELECT measure_id FROM _hg.t1_measures WHERE measure_name = 'cpu_nice'")
).getRowObjectsJson()[0] as { measure_id: number };
const dims = (
  await connection.runAndReadAll(
    "SELECT name, physical FROM _hg.columns WHERE table_id = 1 AND kind = 'dimension'",
  )
).getRowObjectsJson() as { name: string; physical: string }[];
const col = (name: string) => `s.${dims.find((d) => d.name === name)!.physical}`;
const lo = `TIMESTAMP_NS '${iso(queryStart).replace("+00:00", "")}'`;
const hi = `TIMESTAMP_NS '${iso(queryStart + 3600).replace("+00:00", "")}'`;
// The same result as the seed's query (columns, rounding, nearest-rank percentiles), written as
// a DuckDB expert would: the points filtered by measure id and time in the scan, one series join
// for the dimensions, the three percentiles as one quantile_disc over a list. Of the forms tried
// (docs/benchmarks.md), none was faster beyond the noise.
const quantiles = "quantile_disc(p.v_double, [0.9, 0.95, 0.99])";
const handWritten = `SELECT ${col("instance_name")} AS instance_name, time_bucket(INTERVAL 15 SECOND, p.time) AS binned_timestamp,
  round(avg(p.v_double), 2) AS avg_cpu_utilization, round(${quantiles}[1], 2) AS p90_cpu_utilization,
  round(${quantiles}[2], 2) AS p95_cpu_utilization, round(${quantiles}[3], 2) AS p99_cpu_utilization
  FROM _hg.t1_points p JOIN _hg.t1_series s ON s.series_id = p._series_id
  WHERE p._measure_id = ${ids.measure_id} AND p.time BETWEEN ${lo} AND ${hi}
  GROUP BY ${col("region")}, ${col("instance_name")}, ${col("availability_zone")}, binned_timestamp
  ORDER BY binned_timestamp`;
// Both must give the same rows (in any order inside a bin), or the comparison means nothing.
const sortedRows = async (sql: string) =>
  (await connection.runAndReadAll(sql))
    .getRowsJson()
    .map((row) => JSON.stringify(row))
    .sort();
const ourResult = await sortedRows(translated);
const handResult = await sortedRows(handWritten);
if (ourResult.length !== handResult.length || ourResult.some((row, k) => row !== handResult[k])) {
  throw new Error(
    `the dialect's result differs from the hand-written SQL's: ${ourResult.length} vs ${handResult.length} rows, first ${ourResult[0]} vs ${handResult[0]}`,
  );
}
let ourRows = 0;
let handRows = 0;
const [ours, hand] = await timeAlternating(
  async () => {
    ourRows = (await connection.runAndReadAll(translated)).currentRowCount;
  },
  async () => {
    handRows = (await connection.runAndReadAll(handWritten)).currentRowCount;
  },
);
const oursTimes = ours.wall;
const handTimes = hand.wall;
const handExport = path.join(dir, "hand.csv");
const handExportTimes = await timeIt(() =>
  connection.run(`COPY (${handWritten}) TO '${handExport}' (HEADER)`),
);
connection.closeSync();
instance.closeSync();

const m = (xs: number[]) => median(xs);
console.log(
  `seed query over 1 h of a ${hours} h table (${fmt(hours * 3600 * 2000)} rows), medians of ${runs} runs`,
);
console.log(`  dialect -> DuckDB : ${m(oursTimes).toFixed(3)} s (${fmt(ourRows)} rows)`);
console.log(`  hand-written SQL  : ${m(handTimes).toFixed(3)} s (${fmt(handRows)} rows)`);
console.log(
  `  ratio             : ${(m(oursTimes) / m(handTimes)).toFixed(2)} (same rows; runs alternated; min ${Math.min(...oursTimes).toFixed(3)} s vs ${Math.min(...handTimes).toFixed(3)} s)`,
);
console.log(
  `  CPU time          : ${m(ours.cpu).toFixed(3)} s vs ${m(hand.cpu).toFixed(3)} s, ratio ${(m(ours.cpu) / m(hand.cpu)).toFixed(2)}`,
);
console.log(
  `  translation       : ${(m(translateTimes) * 1000).toFixed(2)} ms (not in the dialect's time above)`,
);
console.log(
  `  export to CSV     : ours ${m(exportTimes).toFixed(3)} s vs hand-written COPY ${m(handExportTimes).toFixed(3)} s, ratio ${(m(exportTimes) / m(handExportTimes)).toFixed(2)}`,
);
console.log(
  `  Query API, all pages (${fmt(apiRows)} rows as Timestream Datum JSON): ${m(apiTimes).toFixed(3)} s`,
);
console.log(`  peak RSS: ${apiPeak} MB (store and API), ${peakRssMb()} MB after the raw DuckDB runs`);

if (withPg) {
  // The same rows in PostgreSQL, narrow like ours, with a btree on (measure_id, time).
  const client = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" });
  await client.connect();
  const schema = `hg_bench_${hours}h`;
  const exists = await client.query(`SELECT to_regclass('${schema}.points') AS t`);
  if (!exists.rows[0].t) {
    const inst = await DuckDBInstance.create(path.join(dir, "store.duckdb"));
    const con = await inst.connect();
    const pointsCsv = path.join(dir, "points.csv");
    const seriesCsv = path.join(dir, "series.csv");
    await con.run(
      `COPY (SELECT _series_id, _measure_id, strftime(time, '%Y-%m-%d %H:%M:%S'), v_double FROM _hg.t1_points) TO '${pointsCsv}' (HEADER false)`,
    );
    await con.run(
      `COPY (SELECT series_id, ${dims.map((d) => d.physical).join(", ")} FROM _hg.t1_series) TO '${seriesCsv}' (HEADER false)`,
    );
    con.closeSync();
    inst.closeSync();
    fs.chmodSync(dir, 0o755);
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await client.query(
      `CREATE TABLE ${schema}.series(series_id int, ${dims.map((d) => `"${d.name}" text`).join(", ")})`,
    );
    await client.query(
      `CREATE TABLE ${schema}.points(series_id int, measure_id int, time timestamp, value double precision)`,
    );
    await client.query(`COPY ${schema}.series FROM '${seriesCsv}' (FORMAT csv)`);
    await client.query(`COPY ${schema}.points FROM '${pointsCsv}' (FORMAT csv)`);
    fs.rmSync(pointsCsv);
    fs.rmSync(seriesCsv);
    await client.query(
      `CREATE INDEX ON ${schema}.points(measure_id, time); ANALYZE ${schema}.points; ANALYZE ${schema}.series`,
    );
  }
  // percentile_disc, the nearest-rank percentile that Timestream and our quantile_disc return
  // (percentile_cont interpolates: other values); PostgreSQL computes the identical aggregate once.
  const pgPercentile = (k: number) =>
    `round(((percentile_disc(ARRAY[0.9, 0.95, 0.99]) WITHIN GROUP (ORDER BY p.value))[${k}])::numeric, 2)`;
  const pgSql = `SELECT s.instance_name, date_bin('15 seconds', p.time, '1970-01-01') AS binned_timestamp,
    round(avg(p.value)::numeric, 2), ${pgPercentile(1)}, ${pgPercentile(2)}, ${pgPercentile(3)}
    FROM ${schema}.points p JOIN ${schema}.series s USING (series_id)
    WHERE p.measure_id = ${ids.measure_id} AND p.time BETWEEN '${iso(queryStart)}' AND '${iso(queryStart + 3600)}'
    GROUP BY s.region, s.instance_name, s.availability_zone, binned_timestamp ORDER BY binned_timestamp`;
  await client.query("SET TimeZone = 'UTC'");
  const pgTimes = await timeIt(() => client.query(pgSql));
  await client.end();
  console.log(
    `  PostgreSQL (date_bin + percentile_disc, btree on (measure_id, time)): ${m(pgTimes).toFixed(3)} s, ratio to the dialect ${(m(pgTimes) / m(oursTimes)).toFixed(1)}x`,
  );
}

/**
 * The seed's table for the query benchmarks: the WORKLOAD model's metrics (1,000 hosts x 20
 * measures every 10 s, 7.2 M rows an hour) for `hours`, loaded once through the store's native path
 * into a folder per size (`/tmp/hg-bench-query-<hours>h`) and reused by later runs, and the seed's
 * query over its third hour (the last, for shorter tables).
 */
import fs from "node:fs";
import path from "node:path";
import { TimestreamStore } from "../src/store/index.js";
import { fmt, loadSeedMetrics } from "./util.js";

export interface SeedTable {
  dir: string;
  hours: number;
  /** The store's clock, pinned just after the data so that reruns see the same table. */
  clockMs: () => number;
  /** The query's window start, epoch seconds. */
  queryStart: number;
  /** The seed's query, verbatim, over one hour of the table. */
  seedQuery: string;
}

// Data ends at a fixed hour so reruns reuse it.
const END_S = Date.UTC(2021, 8, 22, 18, 0, 0) / 1000;

/** `2021-09-22 15:00:00+00:00`: how the seed's query writes its instants. */
export const isoSeconds = (s: number): string =>
  new Date(s * 1000).toISOString().replace("T", " ").replace(".000Z", "+00:00");

export function seedTable(hours: number, dirOverride?: string): SeedTable {
  const dir = dirOverride ?? `/tmp/hg-bench-query-${hours}h`;
  const startS = END_S - hours * 3600;
  const queryStart = startS + Math.min(2, hours - 1) * 3600;
  const seedQuery = `SELECT instance_name, BIN(time, 15s) AS binned_timestamp, ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND time BETWEEN '${isoSeconds(queryStart)}' AND '${isoSeconds(queryStart + 3600)}' GROUP BY region, instance_name, availability_zone, BIN(time, 15s) ORDER BY binned_timestamp ASC`;
  return { dir, hours, clockMs: () => (END_S + 60) * 1000, queryStart, seedQuery };
}

/** Loads the table unless its folder already holds it (a marker file says so). */
export async function loadSeedTable(table: SeedTable): Promise<void> {
  const marker = path.join(table.dir, `loaded-${table.hours}h.json`);
  if (fs.existsSync(marker)) return;
  fs.rmSync(table.dir, { recursive: true, force: true });
  const store = await TimestreamStore.open({ dir: table.dir, clockMs: table.clockMs, sweepIntervalMs: 0 });
  await store.createDatabase("airflow-db");
  await store.createTable({
    DatabaseName: "airflow-db",
    TableName: "airflow-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
  const t0 = performance.now();
  await loadSeedMetrics(store, table.clockMs() / 1000 - 60 - table.hours * 3600, table.hours);
  await store.checkpoint();
  await store.close();
  const seconds = (performance.now() - t0) / 1000;
  const rows = table.hours * 360 * 20_000;
  fs.writeFileSync(marker, JSON.stringify({ rows, seconds }));
  process.stderr.write(`loaded ${fmt(rows)} rows in ${seconds.toFixed(0)} s\n`);
}

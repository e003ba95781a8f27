/**
 * Whole-pipeline scenarios: a real runtime (store, lake, HTTP server, metadata DB, scheduler,
 * worker processes) on a temp state folder, the seed's DAG file, and generated cpu_nice data.
 *
 * The data is a small stand-in for the DevOps model (the loadgen's full model writes 26,000
 * records a loop; the export only reads cpu_nice): 6 hosts in 2 regions with the seed's
 * dimension names, one cpu_nice point a minute each, on the minute (so a point falls exactly on
 * every hour boundary, where half-open intervals matter).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { type HourglassRuntime, type StartOptions, startHourglass } from "../../src/runtime/index.js";
import type { TimestreamStore } from "../../src/store/index.js";
import type { WriteRecord } from "../../src/store/types.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const demoDagFile = path.join(root, "examples", "dags", "timestream-airflow-demo.ts");
export const demoDagId = "timestream-airflow-demo";
export const bucket = "demo-airflow-ts-output";

export interface Scenario {
  root: string;
  dagsDir: string;
  stateDir: string;
  runtime: HourglassRuntime;
  close(): Promise<void>;
}

export async function startScenario(
  options: StartOptions & { dagFiles?: Record<string, string> },
): Promise<Scenario> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-e2e-"));
  const dagsDir = path.join(dir, "dags");
  fs.mkdirSync(dagsDir);
  for (const [name, text] of Object.entries(
    options.dagFiles ?? { "timestream-airflow-demo.ts": fs.readFileSync(demoDagFile, "utf8") },
  )) {
    fs.writeFileSync(path.join(dagsDir, name), text);
  }
  const config = resolveConfig({
    flags: { stateDir: path.join(dir, "state"), dagsDir, port: 0, workers: 2 },
    env: {},
    cwd: dir,
  });
  const runtime = await startHourglass(config, { log: silentLog, ...options });
  return {
    root: dir,
    dagsDir,
    stateDir: config.stateDir,
    runtime,
    async close() {
      await runtime.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const hosts = [
  { region: "us-east-2", az: "us-east-2-1", name: "i-zaZswmJk-apollo-0000.amazonaws.com" },
  { region: "us-east-2", az: "us-east-2-2", name: "i-zaZswmJk-apollo-0001.amazonaws.com" },
  { region: "us-east-2", az: "us-east-2-3", name: "i-zaZswmJk-zeus-0000.amazonaws.com" },
  { region: "eu-west-1", az: "eu-west-1-1", name: "i-zaZswmJk-athena-0000.amazonaws.com" },
  { region: "eu-west-1", az: "eu-west-1-2", name: "i-zaZswmJk-demeter-0000.amazonaws.com" },
  { region: "eu-west-1", az: "eu-west-1-3", name: "i-zaZswmJk-hercules-0000.amazonaws.com" },
];

/** The seed's table (retention as given) with magnetic writes on, the bucket, and cpu_nice data in [fromMs, toMs). */
export async function loadSeedData(
  store: TimestreamStore,
  lake: HourglassRuntime["lake"],
  fromMs: number,
  toMs: number,
  retention = { memoryHours: 24, magneticDays: 1 },
): Promise<number> {
  await store.createDatabase("airflow-db");
  await store.createTable({
    DatabaseName: "airflow-db",
    TableName: "airflow-table",
    RetentionProperties: {
      MemoryStoreRetentionPeriodInHours: retention.memoryHours,
      MagneticStoreRetentionPeriodInDays: retention.magneticDays,
    },
    // The data is loaded "late" (after the fact), so it must be allowed past the memory store.
    MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
  });
  await lake.createBucket(bucket);
  let written = 0;
  let records: WriteRecord[] = [];
  const flush = async () => {
    if (records.length === 0) return;
    const result = await store.writeRecords(
      { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
      { maxRecords: records.length },
    );
    if (result.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(result.rejected[0])}`);
    written += records.length;
    records = [];
  };
  for (let t = fromMs; t < toMs; t += 60_000) {
    hosts.forEach((host, i) => {
      records.push({
        Dimensions: [
          { Name: "region", Value: host.region },
          { Name: "availability_zone", Value: host.az },
          { Name: "instance_name", Value: host.name },
        ],
        MeasureName: "cpu_nice",
        MeasureValue: String(((t / 60_000 + i * 7) % 100) / 100),
        MeasureValueType: "DOUBLE",
        Time: String(t / 1000),
        TimeUnit: "SECONDS",
      });
    });
    if (records.length >= 20_000) await flush();
  }
  await flush();
  return written;
}

/** The demo DAG's query over [start, end), run by the store (the seed's query with a half-open interval). */
export function seedQueryFor(startSql: string, endSql: string): string {
  return (
    "SELECT instance_name, BIN(time, 15s) AS binned_timestamp, " +
    "ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, " +
    "ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, " +
    "ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, " +
    "ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization " +
    'FROM "airflow-db"."airflow-table" ' +
    `WHERE measure_name = 'cpu_nice' AND time >= '${startSql}' AND time < '${endSql}' ` +
    "GROUP BY region, instance_name, availability_zone, BIN(time, 15s) " +
    "ORDER BY binned_timestamp ASC, region, instance_name, availability_zone"
  );
}

/** Every row of a query as arrays of scalar text. */
export async function queryRows(store: TimestreamStore, sql: string): Promise<string[][]> {
  const rows: string[][] = [];
  let token: string | undefined;
  do {
    const page = await store.query({
      QueryString: sql,
      ...(token === undefined ? {} : { NextToken: token }),
    });
    for (const row of page.Rows) rows.push(row.Data.map((d) => d.ScalarValue ?? ""));
    token = page.NextToken;
  } while (token !== undefined);
  return rows;
}

/** The rows of a pandas-style CSV (a leading index column), without the header and the index. */
export function csvRows(text: string): { header: string; rows: string[][] } {
  const lines = text.trimEnd().split("\n");
  return { header: lines[0]!, rows: lines.slice(1).map((line) => line.split(",").slice(1)) };
}

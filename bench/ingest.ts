/**
 * Ingest: the WORKLOAD model (26,000-record loops, single-measure) through the store's native batch
 * path, against a naive row-by-row DuckDB appender of the same rows in the same script.
 *
 *   node --import tsx bench/ingest.ts [--loops 60] [--loops-per-write 2]
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance, timestampNanosValue } from "@duckdb/node-api";
import { buildModel, generateLoop, METRIC_DIMENSIONS, toSingleMeasureRecords } from "../src/loadgen/index.js";
import { TimestreamStore } from "../src/store/index.js";
import type { WriteRecord } from "../src/store/types.js";
import { arg, fmt, peakRssMb, tempDir } from "./util.js";

const loops = arg("loops", 60);
const loopsPerWrite = arg("loops-per-write", 2);
const model = buildModel({ hostScale: 1 });
const nowS = Math.floor(Date.now() / 1000);
const firstTime = nowS - loops * 10 - 60;
const loopRecords = (l: number): WriteRecord[] =>
  toSingleMeasureRecords(generateLoop(model, firstTime + l * 10));

async function ours(): Promise<{ rows: number; seconds: number }> {
  const dir = tempDir("hg-bench-ingest-");
  const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
  await store.createDatabase("bench-db");
  await store.createTable({
    DatabaseName: "bench-db",
    TableName: "bench-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
  let rows = 0;
  let busyMs = 0;
  for (let l = 0; l < loops; l += loopsPerWrite) {
    const records: WriteRecord[] = [];
    for (let k = l; k < Math.min(loops, l + loopsPerWrite); k++) records.push(...loopRecords(k));
    const t0 = performance.now();
    const result = await store.writeRecords(
      { DatabaseName: "bench-db", TableName: "bench-table", Records: records },
      { maxRecords: records.length },
    );
    busyMs += performance.now() - t0;
    if (result.rejected.length > 0) throw new Error(`rejected: ${result.rejected[0]!.Reason}`);
    rows += result.RecordsIngested.Total;
  }
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rows, seconds: busyMs / 1000 };
}

/** The naive path: one wide table, one appendX call per value, endRow per record. */
async function naiveAppender(): Promise<{ rows: number; seconds: number }> {
  const dir = tempDir("hg-bench-naive-");
  const instance = await DuckDBInstance.create(path.join(dir, "naive.duckdb"));
  const connection = await instance.connect();
  const dims = METRIC_DIMENSIONS.map((d) => `"${d}" VARCHAR`).join(", ");
  await connection.run(
    `CREATE TABLE points(${dims}, process_name VARCHAR, jdk_version VARCHAR, measure_name VARCHAR, time TIMESTAMP_NS, v_double DOUBLE, v_bigint BIGINT, v_varchar VARCHAR)`,
  );
  const columns = [...METRIC_DIMENSIONS, "process_name", "jdk_version"];
  let rows = 0;
  let busyMs = 0;
  for (let l = 0; l < loops; l++) {
    const records = loopRecords(l);
    const t0 = performance.now();
    const appender = await connection.createAppender("points");
    for (const r of records) {
      const byName = new Map(r.Dimensions!.map((d) => [d.Name, d.Value]));
      for (const c of columns) {
        const v = byName.get(c);
        if (v === undefined) appender.appendNull();
        else appender.appendVarchar(v);
      }
      appender.appendVarchar(r.MeasureName!);
      appender.appendTimestampNanoseconds(timestampNanosValue(BigInt(r.Time!) * 1_000_000_000n));
      const type = r.MeasureValueType;
      if (type === "DOUBLE") appender.appendDouble(Number(r.MeasureValue));
      else appender.appendNull();
      if (type === "BIGINT") appender.appendBigInt(BigInt(r.MeasureValue!));
      else appender.appendNull();
      if (type === "VARCHAR") appender.appendVarchar(r.MeasureValue!);
      else appender.appendNull();
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
    busyMs += performance.now() - t0;
    rows += records.length;
  }
  connection.closeSync();
  instance.closeSync();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rows, seconds: busyMs / 1000 };
}

// Each side runs in its own process so that each peak memory figure is its own.
const part = process.argv[process.argv.indexOf("--part") + 1];
if (process.argv.includes("--part")) {
  const r = part === "naive" ? await naiveAppender() : await ours();
  process.stdout.write(JSON.stringify({ ...r, peakRssMb: peakRssMb() }));
} else {
  const run = (which: string) => {
    const out = execFileSync(process.execPath, [
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      "--part",
      which,
      "--loops",
      String(loops),
      "--loops-per-write",
      String(loopsPerWrite),
    ]);
    return JSON.parse(out.toString()) as { rows: number; seconds: number; peakRssMb: number };
  };
  const baseline = run("naive");
  const result = run("ours");
  const baseRate = baseline.rows / baseline.seconds;
  const ourRate = result.rows / result.seconds;
  console.log(`loops=${loops} (${fmt(loops * 26000)} records), loops per write=${loopsPerWrite}`);
  console.log(
    `naive row-by-row appender: ${fmt(baseRate)} rows/s (${baseline.seconds.toFixed(2)} s), peak RSS ${baseline.peakRssMb} MB`,
  );
  console.log(
    `hourglass native batch   : ${fmt(ourRate)} records/s (${result.seconds.toFixed(2)} s), peak RSS ${result.peakRssMb} MB`,
  );
  console.log(`ratio (ours / naive)     : ${(ourRate / baseRate).toFixed(2)}x`);
}

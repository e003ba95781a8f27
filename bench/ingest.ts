/**
 * Ingest: the WORKLOAD model (26,000-record loops, single-measure) through the store's native batch
 * paths (columnar `writeColumns`, and WriteRecords-shaped objects), against a naive row-by-row
 * DuckDB appender of the same rows in the same script. Each side runs in its own process. Also the
 * same loops as multi-measure records (the flat shape's metrics_record / events_record), counted
 * in values so that the rate compares with the single-measure ones.
 *
 *   node --import tsx bench/ingest.ts [--loops 60] [--loops-per-write 2]
 *
 * `--versions [--rounds 5]`: the store's data versions (docs/store.md) on against off, the same
 * columnar and WriteRecords loops, alternating in fresh processes; prints the median of each and
 * the ratio (the goal: within 5 %).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance, timestampNanosValue } from "@duckdb/node-api";
import {
  buildModel,
  type ColumnarLoop,
  generateLoop,
  METRIC_DIMENSIONS,
  toColumnarLoop,
  toMultiMeasureRecords,
  toSingleMeasureRecords,
} from "../src/loadgen/index.js";
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

async function ours(which: string): Promise<{ rows: number; seconds: number }> {
  const versionsOff = which.endsWith("-noversions");
  const part = which.replace(/-noversions$/, "");
  const columnar = part === "columnar";
  const dir = tempDir("hg-bench-ingest-");
  const store = await TimestreamStore.open({
    dir,
    sweepIntervalMs: 0,
    ...(versionsOff ? { dataVersions: { enabled: false } } : {}),
  });
  await store.createDatabase("bench-db");
  await store.createTable({
    DatabaseName: "bench-db",
    TableName: "bench-table",
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
  let rows = 0;
  let busyMs = 0;
  if (part === "multi") {
    // Multi-measure records (metrics_record and events_record: 2,200 records, 26,000 values a
    // loop), WriteRecords-shaped, several loops a call. Rows here count values, as the others do.
    for (let l = 0; l < loops; l += loopsPerWrite) {
      const records: WriteRecord[] = [];
      for (let k = l; k < Math.min(loops, l + loopsPerWrite); k++)
        records.push(...toMultiMeasureRecords(generateLoop(model, firstTime + k * 10)));
      const t0 = performance.now();
      const result = await store.writeRecords(
        { DatabaseName: "bench-db", TableName: "bench-table", Records: records },
        { maxRecords: records.length },
      );
      busyMs += performance.now() - t0;
      if (result.rejected.length > 0) throw new Error(`rejected: ${result.rejected[0]!.Reason}`);
      for (const r of records) rows += r.MeasureValues!.length;
    }
  } else if (columnar) {
    // The columnar native path: loops' columns as the generator makes them (no strings), several
    // loops a call (the same series list; a time a row).
    for (let l = 0; l < loops; l += loopsPerWrite) {
      const parts: ColumnarLoop[] = [];
      for (let k = l; k < Math.min(loops, l + loopsPerWrite); k++)
        parts.push(toColumnarLoop(generateLoop(model, firstTime + k * 10)));
      const size = parts.reduce((n, p) => n + p.seriesIndex.length, 0);
      const seriesIndex = new Int32Array(size);
      const measureIndex = new Int32Array(size);
      const values: (number | bigint | string)[] = [];
      const timeNs: bigint[] = [];
      let at = 0;
      for (const p of parts) {
        seriesIndex.set(p.seriesIndex, at);
        measureIndex.set(p.measureIndex, at);
        for (const v of p.values) values.push(v);
        for (let i = 0; i < p.seriesIndex.length; i++) timeNs.push(p.timeNs);
        at += p.seriesIndex.length;
      }
      const t0 = performance.now();
      const result = await store.writeColumns({
        DatabaseName: "bench-db",
        TableName: "bench-table",
        series: parts[0]!.series,
        measures: parts[0]!.measures,
        seriesIndex,
        measureIndex,
        values,
        timeNs,
      });
      busyMs += performance.now() - t0;
      if (result.rejected.length > 0) throw new Error(`rejected: ${result.rejected[0]!.Reason}`);
      rows += result.RecordsIngested.Total;
    }
  } else {
    // WriteRecords-shaped records (strings for values and times), several loops a call.
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
  const r = part === "naive" ? await naiveAppender() : await ours(part!);
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
  if (process.argv.includes("--versions")) {
    const rounds = arg("rounds", 5);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`${loops} loops of the WORKLOAD model a run, ${rounds} rounds, data versions on vs off`);
    for (const path of ["columnar", "records"]) {
      const on: number[] = [];
      const off: number[] = [];
      for (let r = 0; r < rounds; r++) {
        // Alternating, so that a busy moment of the machine hits both sides alike.
        const a = run(`${path}-noversions`);
        const b = run(path);
        off.push(a.rows / a.seconds);
        on.push(b.rows / b.seconds);
      }
      const ratio = median(on) / median(off);
      console.log(
        `${path.padEnd(9)} versions off ${fmt(median(off)).padStart(9)} records/s, on ${fmt(median(on)).padStart(9)} records/s: on/off ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %)`,
      );
    }
    process.exit(0);
  }
  const baseline = run("naive");
  const columnar = run("columnar");
  const records = run("records");
  const multi = run("multi");
  const rate = (r: { rows: number; seconds: number }) => r.rows / r.seconds;
  const line = (label: string, r: { rows: number; seconds: number; peakRssMb: number }) =>
    console.log(
      `${label.padEnd(34)} ${fmt(rate(r)).padStart(9)} records/s  (${r.seconds.toFixed(2)} s, peak RSS ${r.peakRssMb} MB, ratio to naive ${(rate(r) / rate(baseline)).toFixed(2)}x)`,
    );
  console.log(`${loops} loops of the WORKLOAD model: ${fmt(loops * 26000)} records`);
  line("naive row-by-row DuckDB appender", baseline);
  line(`hourglass writeColumns (${loopsPerWrite} loops/call)`, columnar);
  line(`hourglass writeRecords (${loopsPerWrite} loops/call)`, records);
  line(`multi-measure writeRecords (values/s)`, multi);
}

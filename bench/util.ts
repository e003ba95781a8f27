/** Small helpers shared by the benchmarks: timing, peak memory, and printing a result line. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildModel, generateLoop, toSingleMeasureRecords } from "../src/loadgen/index.js";
import type { TimestreamStore } from "../src/store/index.js";
import type { WriteRecord } from "../src/store/types.js";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Peak resident set size of this process so far, in MB (Linux's VmHWM). */
export function peakRssMb(): number {
  try {
    const status = fs.readFileSync("/proc/self/status", "utf8");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    if (match) return Math.round(Number(match[1]) / 1024);
  } catch {
    // not Linux
  }
  return Math.round(process.memoryUsage().rss / 1e6);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

export function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/**
 * Loads the WORKLOAD model's metrics (1,000 hosts x 20 measures, a loop every 10 s) for `hours`
 * from `startS` into airflow-db.airflow-table through the store's native batch path, two loops a
 * write, printing progress an hour at a time.
 */
export async function loadSeedMetrics(store: TimestreamStore, startS: number, hours: number): Promise<void> {
  const model = buildModel({ hostScale: 1 });
  const loops = hours * 360;
  for (let l = 0; l < loops; l += 2) {
    const records: WriteRecord[] = [];
    for (let k = l; k < Math.min(loops, l + 2); k++) {
      records.push(...toSingleMeasureRecords(generateLoop(model, startS + k * 10, { includeEvents: false })));
    }
    const result = await store.writeRecords(
      { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
      { maxRecords: records.length },
    );
    if (result.rejected.length > 0) throw new Error(result.rejected[0]!.Reason);
    if (l % 360 === 0) process.stderr.write(`loaded ${l / 360} h of ${hours} h\n`);
  }
}

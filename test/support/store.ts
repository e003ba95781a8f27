import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TimestreamStore } from "../../src/store/index.js";
import type { Datum, QueryResponse, WriteRecord } from "../../src/store/types.js";

export function tempDir(prefix = "hg-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fixed "now" the tests move by hand: 2021-09-22 16:00:00 UTC, the seed's afternoon. */
export const SEED_NOW_MS = Date.UTC(2021, 8, 22, 16, 0, 0);

export interface TestStore {
  store: TimestreamStore;
  dir: string;
  clock: { nowMs: number };
  close(): Promise<void>;
}

export async function openTestStore(nowMs = SEED_NOW_MS): Promise<TestStore> {
  const dir = tempDir("hg-store-");
  const clock = { nowMs };
  const store = await TimestreamStore.open({
    dir,
    clockMs: () => clock.nowMs,
    sweepIntervalMs: 0,
    threads: 2,
  });
  return {
    store,
    dir,
    clock,
    async close() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createSeedTable(
  store: TimestreamStore,
  options: { memoryHours?: number; magneticDays?: number; magneticWrites?: boolean } = {},
): Promise<void> {
  await store.createDatabase("airflow-db");
  await store.createTable({
    DatabaseName: "airflow-db",
    TableName: "airflow-table",
    RetentionProperties: {
      MemoryStoreRetentionPeriodInHours: options.memoryHours ?? 24,
      MagneticStoreRetentionPeriodInDays: options.magneticDays ?? 1,
    },
    MagneticStoreWriteProperties: { EnableMagneticStoreWrites: options.magneticWrites ?? false },
  });
}

/** Reads every page of a query into plain rows of scalar strings (null for NullValue). */
export async function queryAll(
  store: TimestreamStore,
  sql: string,
): Promise<{ columns: string[]; rows: (string | null)[][] }> {
  let response: QueryResponse = await store.query({ QueryString: sql });
  const columns = response.ColumnInfo.map((c) => c.Name ?? "");
  const rows: (string | null)[][] = [];
  for (;;) {
    for (const row of response.Rows) rows.push(row.Data.map(scalar));
    if (!response.NextToken) break;
    response = await store.query({ QueryString: sql, NextToken: response.NextToken });
  }
  return { columns, rows };
}

function scalar(d: Datum): string | null {
  if (d.NullValue) return null;
  if (d.ScalarValue !== undefined) return d.ScalarValue;
  return JSON.stringify(d);
}

export function record(
  dims: Record<string, string>,
  measureName: string,
  value: string,
  timeSeconds: number,
  extra: Partial<WriteRecord> = {},
): WriteRecord {
  return {
    Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
    MeasureName: measureName,
    MeasureValue: value,
    MeasureValueType: "DOUBLE",
    Time: String(timeSeconds),
    TimeUnit: "SECONDS",
    ...extra,
  };
}

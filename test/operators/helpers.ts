/**
 * Shared set-up for the operator tests: a real store (DuckDB in a temp folder, clock pinned to the
 * seed's afternoon) and a real local lake, created the way the examples' setup creates them.
 */
import fs from "node:fs";
import path from "node:path";
import { setUpDemo } from "../../examples/setup.js";
import type { Lake } from "../../src/lake/index.js";
import { openLocalLake } from "../../src/lake/index.js";
import { buildModel, generateLoop, iterateSingleMeasureRecords } from "../../src/loadgen/index.js";
import type { TaskServices } from "../../src/operators/index.js";
import { createLocalTaskServices } from "../../src/runtime/task-services.js";
import type { TimestreamStore } from "../../src/store/index.js";
import type { WriteRecord } from "../../src/store/types.js";
import { createTaskContext, type TaskContext, type TaskContextInput } from "../../src/workflows/index.js";
import { openTestStore, type TestStore, tempDir } from "../support/store.js";

export const BUCKET = "demo-airflow-ts-output";
/** A fixed writtenAt for manifests. */
export const WRITTEN_AT_MS = Date.UTC(2021, 8, 22, 14, 0, 2);

export const at = (hhmmss: string): Date => new Date(`2021-09-22T${hhmmss}Z`);

export interface OperatorEnv {
  t: TestStore;
  store: TimestreamStore;
  lake: Lake;
  lakeDir: string;
  services: TaskServices;
  close(): Promise<void>;
}

export async function openOperatorEnv(): Promise<OperatorEnv> {
  const t = await openTestStore();
  const lakeDir = tempDir("hg-lake-");
  const lake = openLocalLake(lakeDir);
  await setUpDemo(t.store, lake);
  const services = createLocalTaskServices({ store: t.store, lake, clockMs: () => WRITTEN_AT_MS });
  return {
    t,
    store: t.store,
    lake,
    lakeDir,
    services,
    async close() {
      await t.close();
      fs.rmSync(lakeDir, { recursive: true, force: true });
    },
  };
}

export interface LoggedContext {
  ctx: TaskContext;
  lines: string[];
}

export function contextFor(
  start: Date,
  end: Date,
  extra: Partial<Omit<TaskContextInput, "log" | "dataInterval">> = {},
): LoggedContext {
  const lines: string[] = [];
  const ctx = createTaskContext({
    dagId: "timestream-airflow-demo",
    taskId: "ts_query",
    runType: "scheduled",
    dataInterval: { start, end },
    log: (line) => lines.push(line),
    ...extra,
  });
  return { ctx, lines };
}

const model = buildModel({ hostScale: 1 });

/** cpu_nice of the WORKLOAD model's 1000 hosts, one loop at each time: real instance names, real values. */
export async function writeCpuNice(store: TimestreamStore, times: Date[]): Promise<void> {
  for (const time of times) {
    const loop = generateLoop(model, time.getTime() / 1000, { includeEvents: false });
    const records: WriteRecord[] = [];
    for (const r of iterateSingleMeasureRecords(loop)) if (r.MeasureName === "cpu_nice") records.push(r);
    const result = await store.writeRecords(
      { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
      { maxRecords: records.length },
    );
    if (result.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(result.rejected[0])}`);
  }
}

/** A simple table of `hosts` series with `points` points each, 30 s apart from 13:00, value = (host * 7 + point) % 100 / 100. */
export async function writeSeries(store: TimestreamStore, hosts: number, points: number): Promise<void> {
  const base = at("13:00:00").getTime() / 1000;
  for (let p = 0; p < points; p++) {
    const records: WriteRecord[] = [];
    for (let h = 0; h < hosts; h++) {
      records.push({
        Dimensions: [
          { Name: "region", Value: "us-east-2" },
          { Name: "instance_name", Value: `i-${String(h).padStart(5, "0")}` },
          { Name: "availability_zone", Value: "us-east-2-1" },
        ],
        MeasureName: "cpu_nice",
        MeasureValue: String(((h * 7 + p) % 100) / 100),
        MeasureValueType: "DOUBLE",
        Time: String(base + p * 30),
        TimeUnit: "SECONDS",
      });
    }
    const result = await store.writeRecords(
      { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
      { maxRecords: records.length },
    );
    if (result.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(result.rejected[0])}`);
  }
}

/** Files left in the lake's temp folder (there should be none once an export has finished). */
export function leftoverTemps(lakeDir: string): string[] {
  const dir = path.join(lakeDir, ".tmp");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => !name.startsWith("meta-")) : [];
}

/** A request as the export operator would send it, for tests that call the service directly. */
export function exportRequest(overrides: Record<string, unknown> = {}) {
  return {
    query: `SELECT instance_name, time, measure_value::double AS value FROM "airflow-db"."airflow-table" WHERE time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 14:00:00+00:00' ORDER BY time, instance_name`,
    bucket: BUCKET,
    key: "2021-09-22-13/out.csv",
    format: "csv" as const,
    emptyResult: "skip" as const,
    provenance: {
      dagId: "d",
      taskId: "t",
      runId: "scheduled__2021-09-22T13:00:00+00:00",
      tryNumber: 1,
      dataIntervalStart: "2021-09-22T13:00:00+00:00",
      dataIntervalEnd: "2021-09-22T14:00:00+00:00",
      codeVersion: "abc123def456",
    },
    ...overrides,
  };
}

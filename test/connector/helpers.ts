import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TimestreamStore } from "../../src/store/index.js";
import type { StreamConnector } from "../../src/stream/connector/index.js";
import { openStreamService, type StreamRecord, type StreamService } from "../../src/stream/index.js";

export function tempDir(prefix = "hg-connector-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The seed's afternoon: data is generated from 13:00 and the store's clock says 16:00. */
export const SEED_START_S = Date.UTC(2021, 8, 22, 13, 0, 0) / 1000;
export const SEED_NOW_MS = Date.UTC(2021, 8, 22, 16, 0, 0);
export const DB = "airflow-db";
export const TABLE = "airflow-table";

export interface Pipeline {
  dir: string;
  streams: StreamService;
  store: TimestreamStore;
  /** The stream service's clock (epoch ms); tests move it to expire iterators or records. */
  streamClock: { nowMs: number };
  close(): Promise<void>;
}

/** A stream service and a store on one fresh state folder, with the seed's table and a stream. */
export async function openPipeline(
  options: { shards?: number; stream?: string; storeNowMs?: number; createTable?: boolean } = {},
): Promise<Pipeline> {
  const dir = tempDir();
  const streamClock = { nowMs: Date.now() };
  const streams = await openStreamService({
    dir,
    clock: () => streamClock.nowMs,
    sweepIntervalMs: 0,
    syncPolicy: "none",
  });
  const nowMs = options.storeNowMs ?? SEED_NOW_MS;
  const store = await TimestreamStore.open({ dir, clockMs: () => nowMs, sweepIntervalMs: 0, threads: 2 });
  if (options.createTable !== false) {
    await store.createDatabase(DB);
    await store.createTable({
      DatabaseName: DB,
      TableName: TABLE,
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    });
  }
  await streams.createStream(options.stream ?? "metrics", options.shards ?? 4);
  return {
    dir,
    streams,
    store,
    streamClock,
    async close() {
      await streams.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms` with `what`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once the connector has written (counts.written + rejected + parseFailed) `count` records. */
export function whenHandled(connector: StreamConnector, count: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const handled = () => {
      const c = connector.status().counts;
      return c.written + c.rejected + c.parseFailed >= count;
    };
    if (handled()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `the connector handled ${JSON.stringify(connector.status().counts)} of ${count} records after ${ms} ms`,
        ),
      );
    }, ms);
    const off = connector.on("batch:written", () => {
      if (!handled()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Every record of every shard of a stream, shard by shard. */
export async function readStream(streams: StreamService, name: string): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  for (const shard of (await streams.describeStream(name)).Shards) {
    let iterator = await streams.getShardIterator(name, shard.ShardId, "TRIM_HORIZON");
    for (;;) {
      const page = await streams.getRecords(iterator);
      out.push(...page.Records);
      if (page.Records.length === 0) break;
      iterator = page.NextShardIterator!;
    }
  }
  return out;
}

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), "utf8");

/** One single-measure payload of the original generator's shape. */
export function singlePayload(host: string, measure: string, value: string, timeS: number, type = "DOUBLE") {
  return json({
    MeasureName: measure,
    MeasureValue: value,
    MeasureValueType: type,
    Time: String(timeS),
    TimeUnit: "SECONDS",
    region: "eu-west-1",
    instance_name: host,
  });
}

/** Scalar cells of every page of a query. */
export async function rows(store: TimestreamStore, sql: string): Promise<(string | null)[][]> {
  const out: (string | null)[][] = [];
  let page = await store.query({ QueryString: sql });
  for (;;) {
    for (const row of page.Rows)
      out.push(row.Data.map((d) => (d.NullValue ? null : (d.ScalarValue ?? null))));
    if (!page.NextToken) return out;
    page = await store.query({ QueryString: sql, NextToken: page.NextToken });
  }
}

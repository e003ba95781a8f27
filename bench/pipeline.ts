/**
 * Pipeline benchmark.
 *
 * 1. Generated to stored: the historical generator (host scale 1, a loop every 10 s, single-measure
 *    JSON) → the stream (4 shards, fsync per group commit) → the connector → the store, all in
 *    this process and at the same time, timed from the first loop to the last record committed;
 *    against the store's native batch path alone (generator → storeSink, a loop a WriteRecords).
 * 2. Lag: the real-time generator at host scale 10 (10,000 metric and 12,000 event series), a loop
 *    every second (the original's default `--sleep-time 0` means back to back; ours keeps loops on
 *    whole seconds, so 1 s is its fastest), into the stream, for `--lag-seconds`, single-measure
 *    then flat JSON; then at host scale 1. The lag is Kinesis's MillisBehindLatest (largest over
 *    the shards, sampled from connector.status()), against the batching delay (1 s); beside it, the
 *    end-to-end latency per batch (its oldest record's arrival on the stream → its checkpoint).
 *
 * Part 1 also checks that the pipeline stored every record exactly once (as the acceptance test
 * did when it ran the whole hour; test/connector/pipeline.test.ts now runs 3 loops): the
 * connector wrote each record once (a second delivery would not add a row, the store's writes
 * being idempotent on the key, but would count as written twice), the lag is 0, and the table
 * holds, per measure, one row per series and loop at as many distinct times as loops. It stops
 * with an error otherwise.
 *
 *   node --import tsx bench/pipeline.ts [--minutes 60] [--lag-seconds 60] [--lag-scale 10]
 *   (--minutes 0 or --lag-seconds 0 skips that part)
 */
import fs from "node:fs";
import {
  buildModel,
  EVENT_MEASURES,
  historical,
  METRIC_MEASURES,
  type RecordShape,
  realtime,
} from "../src/loadgen/index.js";
import { storeSink, streamSink } from "../src/loadgen/sinks.js";
import { TimestreamStore } from "../src/store/index.js";
import { defaultMaxDelayMs, type StreamConnector, startConnector } from "../src/stream/connector/index.js";
import { openStreamService } from "../src/stream/index.js";
import { arg, fmt, peakRssMb, tempDir } from "./util.js";

const minutes = arg("minutes", 60);
const lagSeconds = arg("lag-seconds", 60);
const lagScale = arg("lag-scale", 10);
const DB = "bench-db";
const TABLE = "bench-table";

async function openStore(dir: string): Promise<TimestreamStore> {
  const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
  await store.createDatabase(DB);
  await store.createTable({
    DatabaseName: DB,
    TableName: TABLE,
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
  return store;
}

/** The hour (or `minutes`) that ended a minute ago, on a whole minute: inside the memory store. */
function range(): { from: number; to: number } {
  const to = Math.floor(Date.now() / 60_000) * 60 - 60;
  return { from: to - minutes * 60, to };
}

async function nativePath(): Promise<{ records: number; seconds: number }> {
  const dir = tempDir("hg-bench-native-");
  const store = await openStore(dir);
  const sink = storeSink(store, DB, TABLE);
  const startedMs = performance.now();
  const summary = await historical({ ...range(), stepSeconds: 10, sink });
  const seconds = (performance.now() - startedMs) / 1000;
  if (sink.stats.rejected > 0) throw new Error(`native path: ${sink.stats.firstProblem}`);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { records: summary.records, seconds };
}

/** Resolves once the connector has written `records` records. */
function written(connector: StreamConnector, records: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => connector.status().counts.written >= records;
    if (done()) resolve();
    connector.on("batch:written", () => {
      if (done()) resolve();
    });
  });
}

async function rows(store: TimestreamStore, sql: string): Promise<(string | null)[][]> {
  const out: (string | null)[][] = [];
  let page = await store.query({ QueryString: sql });
  for (;;) {
    for (const row of page.Rows)
      out.push(row.Data.map((d) => (d.NullValue ? null : (d.ScalarValue ?? null))));
    if (!page.NextToken) return out;
    page = await store.query({ QueryString: sql, NextToken: page.NextToken });
  }
}

/** Throws unless `table` holds each of the `generated` records once (see the file's comment). */
async function checkExactlyOnce(
  store: TimestreamStore,
  table: string,
  generated: number,
  status: ReturnType<StreamConnector["status"]>,
): Promise<void> {
  const problems: string[] = [];
  if (status.counts.written !== generated)
    problems.push(`the connector wrote ${status.counts.written} records, ${generated} were generated`);
  if (status.counts.deadLettered > 0) problems.push(`${status.counts.deadLettered} records dead-lettered`);
  if (status.lag.records !== 0) problems.push(`${status.lag.records} records still behind`);
  const model = buildModel({ hostScale: 1 });
  const loops =
    generated /
    (model.metricSeries.length * METRIC_MEASURES.length + model.eventSeries.length * EVENT_MEASURES.length);
  const expected = new Map<string, number>();
  for (const m of METRIC_MEASURES)
    expected.set(m, (expected.get(m) ?? 0) + loops * model.metricSeries.length);
  for (const m of EVENT_MEASURES)
    expected.set(m.name, (expected.get(m.name) ?? 0) + loops * model.eventSeries.length);
  const stored = await rows(
    store,
    `SELECT measure_name, count(*), count(DISTINCT time) FROM "${DB}"."${table}" GROUP BY measure_name`,
  );
  for (const [name, count, times] of stored) {
    const want = expected.get(name!);
    if (want === undefined) problems.push(`an unexpected measure ${name}`);
    else if (Number(count) !== want || Number(times) !== loops)
      problems.push(`${name}: ${count} rows at ${times} times, expected ${want} at ${loops}`);
    expected.delete(name!);
  }
  for (const name of expected.keys()) problems.push(`${name}: no rows`);
  if (problems.length > 0) throw new Error(`pipeline, not exactly once: ${problems.join("; ")}`);
}

async function throughStream(): Promise<{
  records: number;
  seconds: number;
  generatorSeconds: number;
  batches: number;
  drainSeconds: number;
}> {
  const dir = tempDir("hg-bench-pipeline-");
  const store = await openStore(dir);
  const streams = await openStreamService({ dir, sweepIntervalMs: 0 });
  await streams.createStream("metrics", 4);
  const connector = await startConnector({
    streams,
    store,
    stream: "metrics",
    database: DB,
    table: TABLE,
    stateDir: dir,
  });
  const startedMs = performance.now();
  const summary = await historical({ ...range(), stepSeconds: 10, sink: streamSink(streams, "metrics") });
  const generatorSeconds = (performance.now() - startedMs) / 1000;
  await written(connector, summary.records);
  const seconds = (performance.now() - startedMs) / 1000;
  const status = await connector.stop();
  await checkExactlyOnce(store, TABLE, summary.records, status);

  // The connector alone: a second one drains the same (now full) stream into another table.
  await store.createTable({
    DatabaseName: DB,
    TableName: `${TABLE}-drain`,
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
  });
  const drainStartedMs = performance.now();
  const drain = await startConnector({
    streams,
    store,
    stream: "metrics",
    database: DB,
    table: `${TABLE}-drain`,
    stateDir: dir,
    name: "drain",
  });
  await written(drain, summary.records);
  const drainSeconds = (performance.now() - drainStartedMs) / 1000;
  await checkExactlyOnce(store, `${TABLE}-drain`, summary.records, await drain.stop());
  await streams.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    records: summary.records,
    seconds,
    generatorSeconds,
    batches: status.counts.batches,
    drainSeconds,
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

const spread = (values: number[]): string =>
  `max ${fmt(Math.max(...values))} ms, p95 ${fmt(percentile(values, 0.95))} ms, median ${fmt(percentile(values, 0.5))} ms`;

/** How often the lag is sampled from connector.status(). */
const lagSampleMs = 200;
/** The lag is also reported without the first seconds, when the store creates every series. */
const warmUpSeconds = 10;

async function lag(shape: RecordShape, hostScale: number): Promise<void> {
  const dir = tempDir("hg-bench-lag-");
  const store = await openStore(dir);
  const streams = await openStreamService({ dir, sweepIntervalMs: 0 });
  await streams.createStream("metrics", 4);
  const connector = await startConnector({
    streams,
    store,
    stream: "metrics",
    database: DB,
    table: TABLE,
    stateDir: dir,
    mapping: shape === "multi" ? "flat" : "single",
  });
  // End to end, per batch: its oldest record's arrival on the stream → its checkpoint.
  const endToEnd: number[] = [];
  connector.on("batch:written", (b) => endToEnd.push(b.committedAtMs - b.oldestArrivalMs));
  // The lag as Kinesis and Flink's connector report it: MillisBehindLatest, per shard and the
  // largest over the shards (the connector keeps it current between reads).
  const behind: number[] = [];
  const behindAfterWarmUp: number[] = [];
  const behindPerShard = new Map<string, number>();
  let producing = true;
  const startedMs = performance.now();
  const sampler = setInterval(() => {
    if (!producing) return;
    const status = connector.status();
    behind.push(status.lag.millisBehindLatest);
    if (performance.now() - startedMs >= warmUpSeconds * 1000)
      behindAfterWarmUp.push(status.lag.millisBehindLatest);
    for (const s of status.shards) {
      behindPerShard.set(s.shardId, Math.max(behindPerShard.get(s.shardId) ?? 0, s.millisBehindLatest));
    }
  }, lagSampleMs);
  const summary = await realtime({
    hostScale,
    intervalSeconds: 1,
    signal: AbortSignal.timeout(lagSeconds * 1000),
    shape,
    sink: streamSink(streams, "metrics"),
  });
  producing = false;
  clearInterval(sampler);
  const drainStartedMs = performance.now();
  await written(connector, summary.records);
  const drainSeconds = (performance.now() - drainStartedMs) / 1000;
  const status = await connector.stop();
  await streams.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const meets = (values: number[]): string => (Math.max(...values) < defaultMaxDelayMs ? "met" : "NOT met");
  console.log(
    `lag, ${shape === "multi" ? "flat JSON → multi" : "single"}-measure, host scale ${hostScale}, a loop every 1 s for ${lagSeconds} s: ` +
      `${fmt(summary.records)} records in ${summary.loops} loops (${fmt(summary.records / lagSeconds)} records/s; ` +
      `${summary.skippedTicks} ticks skipped: the producer was busy), ${status.counts.batches} batches, ` +
      `drained ${drainSeconds.toFixed(1)} s after the generator stopped`,
  );
  console.log(
    `  lag (MillisBehindLatest, largest over the shards, sampled every ${lagSampleMs} ms): ${spread(behind)}; ` +
      `per shard max ${[...behindPerShard.values()].map((v) => fmt(v)).join(" / ")} ms; ` +
      `goal < ${defaultMaxDelayMs} ms (the batching delay): ${meets(behind)}`,
  );
  if (behindAfterWarmUp.length > 0) {
    console.log(
      `  lag after the first ${warmUpSeconds} s (the store's first writes create every series): ` +
        `${spread(behindAfterWarmUp)}; goal: ${meets(behindAfterWarmUp)}`,
    );
  }
  console.log(`  end to end (arrival → commit, per batch): ${spread(endToEnd)}`);
}

if (minutes > 0) {
  const native = await nativePath();
  const pipeline = await throughStream();
  const nativeRate = native.records / native.seconds;
  const pipelineRate = pipeline.records / pipeline.seconds;
  console.log(
    `generated to stored, ${minutes} min at host scale 1, a loop every 10 s (${fmt(native.records)} single-measure records):`,
  );
  console.log(
    `  generator → storeSink (native batch path):       ${fmt(nativeRate)} records/s (${native.seconds.toFixed(1)} s)`,
  );
  console.log(
    `  generator → stream → connector → store:          ${fmt(pipelineRate)} records/s (${pipeline.seconds.toFixed(1)} s; ` +
      `generator done after ${pipeline.generatorSeconds.toFixed(1)} s, ${pipeline.batches} batches)`,
  );
  console.log(`  ratio pipeline / native: ${(pipelineRate / nativeRate).toFixed(2)}`);
  console.log(
    "  exactly once (both connectors): each record written once, every measure's rows and times as generated",
  );
  console.log(
    `  the connector alone, draining the full stream into another table: ${fmt(pipeline.records / pipeline.drainSeconds)} records/s ` +
      `(${pipeline.drainSeconds.toFixed(1)} s; ratio to native ${(pipeline.records / pipeline.drainSeconds / nativeRate).toFixed(2)})`,
  );
}
if (lagSeconds > 0) {
  await lag("single", lagScale);
  await lag("multi", lagScale);
  // The seed's fleet: the lag is then the batching delay plus a write.
  await lag("single", 1);
}
console.log(`peak RSS ${fmt(peakRssMb())} MB`);

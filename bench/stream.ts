/**
 * Stream benchmark: PutRecords throughput (500-record calls of ~300-byte JSON, as the load generator
 * sends) with the default sync policy (fsync per group commit) against no fsync as the baseline, and
 * GetRecords throughput reading the same records back.
 *
 * Usage: node --import tsx bench/stream.ts [records per run, default 200000] [concurrent producers, default 4]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStreamService, type PutRecordInput, type SyncPolicy } from "../src/stream/index.js";

const totalRecords = Number(process.argv[2] ?? 200_000);
const producers = Number(process.argv[3] ?? 4);
const recordsPerCall = 500;
const shardCount = 4;

function payload(i: number): PutRecordInput {
  const host = `i-zaZswmJk-apollo-${String(i % 1000).padStart(4, "0")}.amazonaws.com`;
  const body = {
    region: "us-east-2",
    cell: "us-east-2-cell-1",
    silo: "us-east-2-cell-1-silo-2",
    availability_zone: "us-east-2-2",
    microservice_name: "apollo",
    instance_name: host,
    MeasureName: "cpu_user",
    MeasureValue: (Math.random() * 100).toFixed(6),
    MeasureValueType: "DOUBLE",
    Time: String(1_700_000_000 + i),
    TimeUnit: "SECONDS",
  };
  return { Data: Buffer.from(JSON.stringify(body)), PartitionKey: host };
}

async function run(
  syncPolicy: SyncPolicy,
  recordCount = totalRecords,
): Promise<{ putPerSec: number; getPerSec: number; bytesPerRecord: number; shardWrites: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bench-stream-"));
  try {
    const service = await openStreamService({ dir, syncPolicy, sweepIntervalMs: 0 });
    await service.createStream("bench", shardCount);
    const calls = Math.ceil(recordCount / recordsPerCall);
    const batches = Array.from({ length: Math.min(calls, 50) }, (_, c) =>
      Array.from({ length: recordsPerCall }, (_, i) => payload(c * recordsPerCall + i)),
    );
    const bytesPerRecord = batches[0]!.reduce((sum, record) => sum + record.Data.length, 0) / recordsPerCall;
    let shardWrites = 0;
    service.on("records", () => shardWrites++);
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (next < calls) {
          const call = next++;
          const result = await service.putRecords("bench", batches[call % batches.length]!);
          if (result.FailedRecordCount > 0) throw new Error("records refused");
        }
      }),
    );
    const putSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    const readStarted = process.hrtime.bigint();
    let read = 0;
    for (const shard of (await service.describeStream("bench")).Shards) {
      let iterator: string | null = await service.getShardIterator("bench", shard.ShardId, "TRIM_HORIZON");
      for (;;) {
        const page = await service.getRecords(iterator!, 10_000);
        read += page.Records.length;
        iterator = page.NextShardIterator;
        if (page.Records.length === 0) break;
      }
    }
    const getSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
    if (read !== calls * recordsPerCall) throw new Error(`read ${read} of ${calls * recordsPerCall}`);
    await service.close();
    return { putPerSec: read / putSeconds, getPerSec: read / getSeconds, bytesPerRecord, shardWrites };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (value: number) => Math.round(value).toLocaleString("en-US");
await run("none", Math.min(totalRecords, 20_000)); // warm-up, so neither measured run pays for the JIT
const none = await run("none");
const fsync = await run("fsync");
console.log(
  `stream bench: ${fmt(totalRecords)} records of ~${Math.round(fsync.bytesPerRecord)} B, ` +
    `${recordsPerCall}-record PutRecords calls, ${producers} concurrent producers, ${shardCount} shards`,
);
console.log(`PutRecords, fsync per group commit: ${fmt(fsync.putPerSec)} records/s`);
console.log(`PutRecords, no fsync (baseline):    ${fmt(none.putPerSec)} records/s`);
console.log(`  ratio fsync / no fsync: ${(fsync.putPerSec / none.putPerSec).toFixed(2)}`);
const putCalls = Math.ceil(totalRecords / recordsPerCall);
console.log(
  `  shard write+fsync pairs: ${fmt(fsync.shardWrites)} for ${fmt(putCalls)} calls ` +
    `(${fmt(putCalls * shardCount)} without group commit)`,
);
console.log(`GetRecords (10,000-record pages):   ${fmt(fsync.getPerSec)} records/s`);

/** Many small calls at once: what group commit is for. */
async function runSmallCalls(syncPolicy: SyncPolicy, calls: number, concurrency: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bench-stream-"));
  try {
    const service = await openStreamService({ dir, syncPolicy, sweepIntervalMs: 0 });
    await service.createStream("small", shardCount);
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < calls) await service.putRecord("small", payload(next++));
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await service.close();
    return calls / seconds;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const smallCalls = 20_000;
const smallConcurrency = 64;
const smallFsync = await runSmallCalls("fsync", smallCalls, smallConcurrency);
const smallNone = await runSmallCalls("none", smallCalls, smallConcurrency);
const smallSerial = await runSmallCalls("fsync", 2_000, 1);
console.log(`PutRecord, 1 record a call, ${smallConcurrency} concurrent callers:`);
console.log(`  fsync per group commit: ${fmt(smallFsync)} records/s`);
console.log(
  `  no fsync (baseline):    ${fmt(smallNone)} records/s (ratio ${(smallFsync / smallNone).toFixed(2)})`,
);
console.log(`  one caller at a time, fsync: ${fmt(smallSerial)} records/s (every call pays a whole fsync)`);

/**
 * WriteRecords through the AWS SDK for JavaScript v3 (TimestreamWriteClient, signed) against a
 * real `hourglass up` (a child process on loopback), 100-record calls with 16 in flight, against
 * the native batch path in this process (store.writeRecords with the same calls, 16 in flight: the
 * store's group commit) over a store of its own. Rounds alternate (native, SDK, native, …) so both
 * see the same load from other work on the machine; prints records/s, the ratio SDK / native
 * (goal: at least 0.5), and the CPU time of this process and of the server.
 *
 *   node --import tsx bench/aws-write.ts [--calls 1000] [--rounds 3] [--in-flight 16] [--server-cpu-prof dir]
 */
import fs from "node:fs";
import path from "node:path";
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  TimestreamWriteClient,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from "@aws-sdk/client-timestream-write";
import { TimestreamStore } from "../src/store/index.js";
import type { WriteRecord } from "../src/store/types.js";
import { loadAverage, processCpuSeconds, serverNodeArgs, startServerChild } from "./aws-server.js";
import { arg, fmt, median, tempDir } from "./util.js";

const calls = arg("calls", 1000);
const rounds = arg("rounds", 3);
const inFlight = arg("in-flight", 16);
const RECORDS_PER_CALL = 100;
const DATABASE = "bench-db";
const TABLE = "bench-table";
const retention = { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 };

// Each call is one instant of 100 hosts' cpu, a millisecond after the last (in order, as producers
// send them), from an hour ago on; both paths get the same calls, made before the clock starts.
let timeMs = Date.now() - 3_600_000;
const hosts = Array.from({ length: RECORDS_PER_CALL }, (_, i) => [{ Name: "host", Value: `host-${i}` }]);
function makeCalls(): WriteRecord[][] {
  return Array.from({ length: calls }, () => {
    timeMs += 1;
    const time = String(timeMs);
    return hosts.map((Dimensions) => ({
      Dimensions,
      MeasureName: "cpu",
      MeasureValue: (Math.random() * 100).toFixed(3),
      MeasureValueType: "DOUBLE" as const,
      Time: time,
    }));
  });
}

/** Sends every call, `inFlight` at a time, through `write`; returns records/s. */
async function run(batches: WriteRecord[][], write: (records: WriteRecord[]) => Promise<void>) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < batches.length) await write(batches[next++]!);
    }),
  );
  return (batches.length * RECORDS_PER_CALL) / ((performance.now() - started) / 1000);
}

const work = tempDir("hg-bench-aws-write-");
const loadBefore = loadAverage();

// The native path: a store in this process, the same calls.
const store = await TimestreamStore.open({ dir: path.join(work, "native"), sweepIntervalMs: 0 });
await store.createDatabase(DATABASE);
await store.createTable({ DatabaseName: DATABASE, TableName: TABLE, RetentionProperties: retention });
const native = async (records: WriteRecord[]) => {
  const result = await store.writeRecords({ DatabaseName: DATABASE, TableName: TABLE, Records: records });
  if (result.rejected.length > 0) throw new Error(result.rejected[0]!.Reason);
};

// The SDK path: `hourglass up` as a child, the SDK's default handler (keep-alive, up to 50
// sockets: one a call in flight).
const serverDir = path.join(work, "server");
fs.mkdirSync(serverDir);
const server = await startServerChild(serverDir, { nodeArgs: serverNodeArgs() });
const client = new TimestreamWriteClient({
  region: "us-east-1",
  endpoint: server.url,
  credentials: server.credentials,
  maxAttempts: 1,
});
await client.send(new CreateDatabaseCommand({ DatabaseName: DATABASE }));
await client.send(
  new CreateTableCommand({ DatabaseName: DATABASE, TableName: TABLE, RetentionProperties: retention }),
);
const sdk = async (records: WriteRecord[]) => {
  await client.send(
    new WriteRecordsCommand({
      DatabaseName: DATABASE,
      TableName: TABLE,
      // The same shape; ours types Version as number | bigint.
      Records: records as WriteRecordsCommandInput["Records"],
    }),
  );
};

// Warm-up: both paths' code compiled and their connections open.
await run(makeCalls().slice(0, inFlight * 4), native);
await run(makeCalls().slice(0, inFlight * 4), sdk);

const nativeRates: number[] = [];
const sdkRates: number[] = [];
let nativeCpu = 0;
let benchCpu = 0;
let serverCpu = 0;
for (let r = 0; r < rounds; r++) {
  const batches = makeCalls();
  const native0 = process.cpuUsage();
  nativeRates.push(await run(batches, native));
  const nativeUsage = process.cpuUsage(native0);
  nativeCpu += (nativeUsage.user + nativeUsage.system) / 1e6;
  const cpu0 = process.cpuUsage();
  const server0 = processCpuSeconds(server.pid);
  sdkRates.push(await run(makeCalls(), sdk));
  const cpu = process.cpuUsage(cpu0);
  benchCpu += (cpu.user + cpu.system) / 1e6;
  serverCpu += processCpuSeconds(server.pid) - server0;
}
client.destroy();
await server.stop();
await store.close();
fs.rmSync(work, { recursive: true, force: true });

const nativeRate = median(nativeRates);
const sdkRate = median(sdkRates);
const records = calls * RECORDS_PER_CALL * rounds;
console.log(
  `WriteRecords, ${RECORDS_PER_CALL} records a call, ${inFlight} in flight, ${calls} calls a round, median of ${rounds} rounds`,
);
console.log(`  load average: ${loadBefore} at the start, ${loadAverage()} at the end`);
console.log(`  signatures: ${server.auth}`);
console.log(
  `  native store.writeRecords (in process): ${fmt(nativeRate)} records/s (rounds: ${nativeRates.map(fmt).join(", ")})`,
);
console.log(
  `  JS SDK -> hourglass up (child):          ${fmt(sdkRate)} records/s (rounds: ${sdkRates.map(fmt).join(", ")})`,
);
console.log(`  ratio SDK / native: ${(sdkRate / nativeRate).toFixed(2)} (goal: at least 0.5)`);
// CPU time (all threads, DuckDB's included) is what the machine's other work disturbs least.
const perThousand = (seconds: number) => `${((seconds / records) * 1e6).toFixed(1)} ms`;
console.log(
  `  CPU per 1,000 records: native ${perThousand(nativeCpu)}; through the SDK ${perThousand(benchCpu + serverCpu)} (client ${perThousand(benchCpu)}, server ${perThousand(serverCpu)})`,
);

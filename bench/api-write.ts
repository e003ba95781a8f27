/**
 * API-shaped writes: 100-record WriteRecords calls, as an SDK user sends them, from 1 caller (each
 * call waits for the last: the sequential baseline, one transaction and one WAL sync a call) and
 * from 8 concurrent callers (the store's group commit writes the calls waiting in its queue
 * together). Prints records/s for both and the ratio, median of `--rounds` rounds.
 *
 *   node --import tsx bench/api-write.ts [--calls 400] [--rounds 3]
 */
import fs from "node:fs";
import { TimestreamStore } from "../src/store/index.js";
import type { WriteRecord } from "../src/store/types.js";
import { arg, fmt, median, tempDir } from "./util.js";

const calls = arg("calls", 400);
const rounds = arg("rounds", 3);
const RECORDS_PER_CALL = 100;

const dir = tempDir("hg-bench-api-write-");
const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
await store.createDatabase("bench-db");
await store.createTable({
  DatabaseName: "bench-db",
  TableName: "bench-table",
  RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
});

// Each call is one instant of 100 hosts' cpu, each call a millisecond after the last (in order,
// as producers send them): the writer's usual append path.
let timeMs = Date.now() - 3_600_000;
const hosts = Array.from({ length: RECORDS_PER_CALL }, (_, i) => [{ Name: "host", Value: `host-${i}` }]);
function nextCall(): WriteRecord[] {
  timeMs += 1;
  const time = String(timeMs);
  return hosts.map((Dimensions) => ({
    Dimensions,
    MeasureName: "cpu",
    MeasureValue: String(Math.random() * 100),
    MeasureValueType: "DOUBLE",
    Time: time,
  }));
}

async function run(callers: number): Promise<number> {
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (sent < calls) {
        sent++;
        const result = await store.writeRecords({
          DatabaseName: "bench-db",
          TableName: "bench-table",
          Records: nextCall(),
        });
        if (result.rejected.length > 0) throw new Error(result.rejected[0]!.Reason);
      }
    }),
  );
  return (calls * RECORDS_PER_CALL) / ((performance.now() - started) / 1000);
}

await run(1); // warm-up
const sequential: number[] = [];
const concurrent: number[] = [];
for (let r = 0; r < rounds; r++) {
  sequential.push(await run(1));
  concurrent.push(await run(8));
}
const one = median(sequential);
const eight = median(concurrent);
console.log(`WriteRecords, ${RECORDS_PER_CALL} records a call, ${calls} calls, median of ${rounds} rounds:`);
console.log(
  `  1 caller (sequential baseline): ${fmt(one)} records/s (${((RECORDS_PER_CALL / one) * 1000).toFixed(2)} ms a call)`,
);
console.log(`  8 concurrent callers:           ${fmt(eight)} records/s`);
console.log(`  ratio 8 callers / 1 caller:     ${(eight / one).toFixed(2)}x`);
await store.close();
fs.rmSync(dir, { recursive: true, force: true });

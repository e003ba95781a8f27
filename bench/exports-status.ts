/**
 * `exports status` for a year of hourly exports (8,760 intervals; goal under 200 ms): a real
 * store (one record an hour, so 8,760 version buckets, and 8,760 exports in the ledger), a real
 * SQLite metadata DB with 8,760 runs, and the DAG loaded from its file. Late records land in 1 %
 * of the hours after their export, so some intervals are stale. The baseline, in the same script:
 * reading the 8,760 manifests a ledger-less design would read (small JSON files from a folder).
 *
 *   node --import tsx bench/exports-status.ts [--rounds 5]
 */
import fs from "node:fs";
import path from "node:path";
import { FreshnessService } from "../src/freshness/index.js";
import { TimestreamStore } from "../src/store/index.js";
import { openMetadata } from "../src/workflows/metadata/index.js";
import { Scheduler } from "../src/workflows/scheduler/index.js";
import { arg, median, tempDir } from "./util.js";

const rounds = arg("rounds", 5);
const hourMs = 3_600_000;
const hours = 8760;
const nowMs = Date.parse("2026-01-01T00:30:00Z");
const firstMs = nowMs - 30 * 60_000 - hours * hourMs;
const dir = tempDir("hg-bench-status-");
const dagsDir = path.join(dir, "dags");
fs.mkdirSync(dagsDir);
fs.writeFileSync(
  path.join(dagsDir, "year.ts"),
  `import { dag, exportQuery, task } from "hourglass";
export default dag({ id: "year", schedule: "@hourly", startDate: "${new Date(firstMs).toISOString()}", catchup: false,
  tasks: [task({ id: "export", operator: exportQuery({ query: 'SELECT * FROM "bench-db"."bench-t" WHERE {{ time_filter }}', bucket: "b", key: "{{ folder }}/f.csv" }) })] });
`,
);

const store = await TimestreamStore.open({ dir, clockMs: () => nowMs, sweepIntervalMs: 0 });
await store.createDatabase("bench-db");
await store.createTable({
  DatabaseName: "bench-db",
  TableName: "bench-t",
  RetentionProperties: { MemoryStoreRetentionPeriodInHours: 8766, MagneticStoreRetentionPeriodInDays: 730 },
});
const record = (timeMs: number, value: number) => ({
  Dimensions: [{ Name: "host", Value: "h" }],
  MeasureName: "m",
  MeasureValue: String(value),
  Time: String(timeMs),
});
// One record an hour, 100 hours a call: every hour a bucket with its version.
for (let h = 0; h < hours; h += 100) {
  const records = [];
  for (let k = h; k < Math.min(hours, h + 100); k++) records.push(record(firstMs + k * hourMs, k));
  await store.writeRecords({ DatabaseName: "bench-db", TableName: "bench-t", Records: records });
}
const metadata = await openMetadata({ url: `sqlite:${path.join(dir, "metadata.db")}` });
const scheduler = new Scheduler({
  metadata,
  dagsDirs: [dagsDir],
  watch: false,
  tickMs: 0,
  clockMs: () => nowMs,
});
await scheduler.bag.start();
const loaded = scheduler.bag.get("year");
if (loaded === undefined) throw new Error("the bench DAG did not load");
const intervals = Array.from({ length: hours }, (_, k) => ({
  start: firstMs + k * hourMs,
  end: firstMs + (k + 1) * hourMs,
  runId: `scheduled__${new Date(firstMs + k * hourMs).toISOString()}`,
}));
await metadata.createBackfill(
  {
    dagId: "year",
    from: firstMs,
    to: firstMs + hours * hourMs,
    reprocess: "none",
    maxActiveRuns: 16,
    intervals,
    tasks: [{ taskId: "export", retries: 0, retryDelayMs: 0, priority: 0 }],
    codeVersion: loaded.codeVersion,
  },
  nowMs,
);
const runs = await metadata.listRuns({ dagId: "year" });
await metadata.setRunStates(
  runs.map((r) => r.id),
  { to: "success", from: ["queued"] },
  nowMs,
);
// The ledger: each hour exported once, with the versions it read.
const manifestsDir = path.join(dir, "manifests");
fs.mkdirSync(manifestsDir);
for (const interval of intervals) {
  const { reads, buckets } = await store.dataVersionsRead(
    'SELECT * FROM "bench-db"."bench-t"',
    interval.start,
    interval.end,
  );
  await store.recordExport({
    dagId: "year",
    taskId: "export",
    intervalStartMs: interval.start,
    intervalEndMs: interval.end,
    runId: interval.runId,
    tryNumber: 1,
    codeVersion: loaded.codeVersion,
    bucket: "b",
    key: `${interval.start}/f.csv`,
    written: true,
    rows: 1,
    writtenMs: interval.end + 60_000,
    reads,
  });
  fs.writeFileSync(path.join(manifestsDir, `${interval.start}.json`), JSON.stringify({ reads, buckets }));
}
// Late data in 1 % of the hours.
for (let k = 0; k < hours; k += 100) {
  await store.writeRecords({
    DatabaseName: "bench-db",
    TableName: "bench-t",
    Records: [record(firstMs + k * hourMs + 1000, -k)],
  });
}

const freshness = new FreshnessService({ store, workflows: scheduler });
const ours: number[] = [];
const baseline: number[] = [];
let counts = {};
for (let r = 0; r < rounds; r++) {
  let t0 = performance.now();
  const view = await freshness.exportsStatus({ dagId: "year" });
  ours.push(performance.now() - t0);
  counts = view.counts;
  if (view.intervals.length !== hours)
    throw new Error(`expected ${hours} intervals, got ${view.intervals.length}`);
  t0 = performance.now();
  let read = 0;
  for (const name of fs.readdirSync(manifestsDir)) {
    JSON.parse(await fs.promises.readFile(path.join(manifestsDir, name), "utf8"));
    read += 1;
  }
  baseline.push(performance.now() - t0);
  if (read !== hours) throw new Error("manifests missing");
}
// Where the time goes: each of the service's reads alone.
{
  const { planIntervalsBetween } = await import("../src/workflows/index.js");
  let t0 = performance.now();
  await planIntervalsBetween(loaded.dag.schedule, new Date(firstMs), new Date(nowMs));
  const planMs = performance.now() - t0;
  t0 = performance.now();
  await metadata.listRuns({ dagId: "year", interval: { start: firstMs, end: nowMs }, order: "asc" });
  const runsMs = performance.now() - t0;
  t0 = performance.now();
  const ledger = await store.latestExports("year", firstMs, nowMs);
  const ledgerMs = performance.now() - t0;
  t0 = performance.now();
  await store.readDataVersions([ledger[0]!.reads[0]!.tableId], firstMs, nowMs);
  const versionsMs = performance.now() - t0;
  console.log(
    `  parts: plan intervals ${planMs.toFixed(0)} ms, runs ${runsMs.toFixed(0)} ms, ledger ${ledgerMs.toFixed(0)} ms, versions ${versionsMs.toFixed(0)} ms`,
  );
}
console.log(`exports status over ${hours} hourly intervals (median of ${rounds}): ${JSON.stringify(counts)}`);
console.log(`  hourglass exports status (ledger + versions + runs): ${median(ours).toFixed(0)} ms`);
console.log(`  baseline: reading ${hours} manifests only:          ${median(baseline).toFixed(0)} ms`);
console.log(`  ratio baseline / ours: ${(median(baseline) / median(ours)).toFixed(2)}x`);
await store.close();
await metadata.close();
fs.rmSync(dir, { recursive: true, force: true });

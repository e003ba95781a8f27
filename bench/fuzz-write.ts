/**
 * The WriteRecords fuzzer of test/api/write-hardening.test.ts, for longer: a fresh state folder,
 * a real HTTP server, `--workers` callers sending random and mutated bodies for `--seconds`. Prints
 * the calls by status, the records acknowledged and found by a count(*) afterwards, and /health's
 * slowest answer; exits 1 on a 5xx, a malformed answer, a /health slower than 1 s, or a count that
 * differs from what was acknowledged.
 *
 *   node --import tsx bench/fuzz-write.ts [--seconds 120] [--workers 4] [--seed 1]
 */
import fs from "node:fs";
import { createApp } from "../src/api/app.js";
import { startHttpServer } from "../src/api/http-server.js";
import { TimestreamStore } from "../src/store/index.js";
import { runWriteFuzz } from "../test/support/write-fuzz.js";
import { arg, tempDir } from "./util.js";

const seconds = arg("seconds", 120);
const workers = arg("workers", 4);
const seed = arg("seed", Date.now() % 100_000);

const dir = tempDir("hg-bench-fuzz-write-");
const errors: unknown[] = [];
const store = await TimestreamStore.open({ dir, sweepIntervalMs: 0 });
const server = await startHttpServer(
  createApp({ store, logger: { error: (details) => errors.push(details) } }),
);
let failed = false;
try {
  await store.createDatabase("fuzz-db");
  await store.createTable({ DatabaseName: "fuzz-db", TableName: "fuzz-table" });
  console.log(`fuzzing WriteRecords for ${seconds} s with ${workers} callers, seed ${seed}`);
  const report = await runWriteFuzz({
    url: server.url,
    database: "fuzz-db",
    table: "fuzz-table",
    nowMs: Date.now(),
    seconds,
    seed,
    workers,
  });
  const page = await store.query({ QueryString: 'SELECT count(*) FROM "fuzz-db"."fuzz-table"' });
  const stored = Number(page.Rows[0]?.Data[0]?.ScalarValue);
  console.log(`calls              ${report.calls} (${(report.calls / seconds).toFixed(1)}/s)`);
  console.log(`by status          ${JSON.stringify(report.byStatus)}`);
  console.log(`acknowledged       ${report.acknowledged} records`);
  console.log(`queryable          ${stored} records`);
  console.log(
    `/health            ${report.healthChecks} checks, slowest ${report.maxHealthMs.toFixed(0)} ms`,
  );
  console.log(`internal errors    ${errors.length} logged`);
  for (const problem of report.problems) console.log("PROBLEM", JSON.stringify(problem));
  failed =
    report.problems.length > 0 ||
    stored !== report.acknowledged ||
    report.maxHealthMs >= 1000 ||
    errors.length > 0;
  console.log(failed ? "FAILED" : "ok");
} finally {
  await server.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

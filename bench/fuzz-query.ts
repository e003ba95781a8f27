/**
 * The SQL fuzzer of test/api/query-fuzz.test.ts, for longer: a fresh state folder with the seed's
 * table (300 points), a real HTTP server with a 2 s query time limit, `--workers` callers sending
 * random and mutated Timestream SQL to the REST route and the Timestream Query endpoint for
 * `--seconds`. Prints the calls by status, /health's slowest answer and the slowest call; exits 1
 * on a 5xx, a malformed answer or one that shows internals, a /health slower than 1 s, an internal
 * error in the log, or a count(*) that changed.
 *
 *   node --import tsx bench/fuzz-query.ts [--seconds 120] [--workers 4] [--seed 1]
 */
import fs from "node:fs";
import { createApp } from "../src/api/app.js";
import { startHttpServer } from "../src/api/http-server.js";
import { TimestreamStore } from "../src/store/index.js";
import { runQueryFuzz, seedFuzzTable } from "../test/support/query-fuzz.js";
import { SEED_NOW_MS } from "../test/support/store.js";
import { arg, tempDir } from "./util.js";

const seconds = arg("seconds", 120);
const workers = arg("workers", 4);
const seed = arg("seed", Date.now() % 100_000);
const timeoutMs = arg("query-timeout-ms", 2000);

const dir = tempDir("hg-bench-fuzz-query-");
const errors: unknown[] = [];
const store = await TimestreamStore.open({
  dir,
  clockMs: () => SEED_NOW_MS,
  sweepIntervalMs: 0,
  limits: { timeoutMs },
});
const server = await startHttpServer(
  createApp({ store, logger: { error: (details) => errors.push(details) } }),
);
let failed = false;
try {
  const seeded = await seedFuzzTable(store);
  console.log(`fuzzing queries for ${seconds} s with ${workers} callers, seed ${seed}`);
  const report = await runQueryFuzz({ url: server.url, seconds, seed, workers });
  const page = await store.query({ QueryString: 'SELECT count(*) FROM "airflow-db"."airflow-table"' });
  const stored = Number(page.Rows[0]?.Data[0]?.ScalarValue);
  console.log(`calls              ${report.calls} (${(report.calls / seconds).toFixed(1)}/s)`);
  console.log(`by status          ${JSON.stringify(report.byStatus)}`);
  console.log(`records            ${seeded} seeded, ${stored} afterwards`);
  console.log(
    `/health            ${report.healthChecks} checks, slowest ${report.maxHealthMs.toFixed(0)} ms`,
  );
  console.log(`slowest call       ${report.slowest.ms.toFixed(0)} ms: ${report.slowest.query.slice(0, 300)}`);
  console.log(`internal errors    ${errors.length} logged`);
  for (const problem of report.problems) console.log("PROBLEM", JSON.stringify(problem));
  for (const error of errors.slice(0, 5)) console.log("LOGGED", JSON.stringify(error).slice(0, 2000));
  failed = report.problems.length > 0 || stored !== seeded || report.maxHealthMs >= 1000 || errors.length > 0;
  console.log(failed ? "FAILED" : "ok");
} finally {
  await server.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/**
 * Orchestration: a backfill of a year of hourly runs (8,760) of a no-op task, through the whole
 * machinery (scheduler, metadata DB, worker processes, HTTP server), timed from `create` to the
 * backfill's completion. Baseline: the seed's backfill on MWAA ran 25 runs in about 18 s
 * (1.4 runs/s); the goal is the year in under 60 s (>= 146 runs/s, 100x the seed's rate).
 *
 *   node --import tsx bench/orchestration.ts [--runs 8760] [--workers 2] [--pg]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { resolveConfig } from "../src/config.js";
import { startHourglass } from "../src/runtime/index.js";
import { arg, fmt, peakRssMb, tempDir } from "./util.js";

const runs = arg("runs", 8760);
const workers = arg("workers", 2);
const withPg = process.argv.includes("--pg");
const seedRunsPerSecond = 25 / 18;
/** Others share the machine's two cores: the figure means little without the load it ran under. */
const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(", ");
const loadStart = loadAverage();

const dir = tempDir("hg-bench-orchestration-");
const dagsDir = path.join(dir, "dags");
fs.mkdirSync(dagsDir);
fs.writeFileSync(
  path.join(dagsDir, "noop.ts"),
  `import { dag, task } from "hourglass";
export default dag({ id: "noop", schedule: "@hourly", startDate: "2020-01-01T00:00:00Z", catchup: false,
  maxActiveRuns: 64, maxActiveTasks: 64, tasks: [task({ id: "noop", run: () => {} })] });
`,
);
// PostgreSQL: a database of its own, dropped at the end (the runtime uses the URL's database).
const pgAdmin = "postgres://postgres@127.0.0.1:5432/test";
const pgDatabase = `hg_bench_${Date.now()}`;
if (withPg) {
  const admin = new pg.Client({ connectionString: pgAdmin });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pgDatabase}`);
  await admin.end();
}
const config = resolveConfig({
  flags: {
    stateDir: path.join(dir, "state"),
    dagsDir,
    port: 0,
    workers,
    ...(withPg ? { metadataUrl: `postgres://postgres@127.0.0.1:5432/${pgDatabase}` } : {}),
  },
  env: {},
  cwd: dir,
});

const runtime = await startHourglass(config, {
  tickMs: 100,
});
try {
  const from = Date.parse("2020-01-01T00:00:00Z");
  const to = new Date(from + (runs - 1) * 3_600_000).toISOString();
  const startedMs = performance.now();
  const created = await runtime.workflows.createBackfill({
    dagId: "noop",
    from: new Date(from).toISOString(),
    to,
    maxActiveRuns: 64,
  });
  const createdMs = performance.now() - startedMs;
  const id = created.backfill!.id;
  await new Promise<void>((resolve) => {
    runtime.events.on("backfill:progress", ({ progress }) => {
      if (progress.backfillId === id && progress.state === "completed") resolve();
    });
  });
  const totalS = (performance.now() - startedMs) / 1000;
  const view = await runtime.workflows.getBackfill(id);
  const rate = runs / totalS;
  console.log(
    `orchestration: backfill of ${fmt(runs)} hourly runs (no-op task), ${workers} workers, metadata on ${withPg ? "PostgreSQL" : "SQLite"}`,
  );
  console.log(`  created the backfill (all runs) in ${(createdMs / 1000).toFixed(2)} s`);
  console.log(
    `  done ${view.progress?.succeeded}/${view.progress?.total} in ${totalS.toFixed(1)} s: ${rate.toFixed(1)} runs/s`,
  );
  console.log(
    `  seed (MWAA): 25 runs in ~18 s = ${seedRunsPerSecond.toFixed(2)} runs/s; ratio ${(rate / seedRunsPerSecond).toFixed(1)}x (goal >= 100x, the year in < 60 s)`,
  );
  console.log(
    `  peak RSS ${peakRssMb()} MB; load average ${loadStart} at the start, ${loadAverage()} at the end`,
  );
  for (const run of await runtime.workflows.listRuns({ dagId: "noop", states: ["failed"], limit: 5 })) {
    const details = await runtime.workflows.getRun("noop", run.runId);
    console.log(
      `  failed: ${run.runId}: ${details.taskInstances.map((ti) => `${ti.taskId} ${ti.state} ${ti.error ?? ""}`).join("; ")}`,
    );
  }
} finally {
  await runtime.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  if (withPg) {
    const admin = new pg.Client({ connectionString: pgAdmin });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pgDatabase}`);
    await admin.end();
  }
}

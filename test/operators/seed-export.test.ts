/**
 * The seed's DAG end to end, minus the scheduler: the example DAG file is loaded as the scheduler
 * loads it, and its ts_query task runs through the operator registry against a real store and lake.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "../../src/config.js";
import { silentLog } from "../../src/log/index.js";
import { type ExportManifest, type ExportToLakeResult, runOperator } from "../../src/operators/index.js";
import { setUpDemoResources } from "../../src/runtime/demo.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import { type DagBag, type LoadedDag, loadDags } from "../../src/workflows/index.js";
import { queryAll, tempDir } from "../support/store.js";
import {
  at,
  BUCKET,
  contextFor,
  leftoverTemps,
  type OperatorEnv,
  openOperatorEnv,
  WRITTEN_AT_MS,
  writeCpuNice,
} from "./helpers.js";

const dagsDir = fileURLToPath(new URL("../../examples/dags/", import.meta.url));
const seedHeader =
  ",instance_name,binned_timestamp,avg_cpu_utilization,p90_cpu_utilization,p95_cpu_utilization,p99_cpu_utilization";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const csvLines = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8").trimEnd().split("\n");

describe("the seed's export DAG (examples/dags/timestream-airflow-demo.ts)", () => {
  let env: OperatorEnv;
  let bag: DagBag;
  let demo: LoadedDag;

  before(async () => {
    env = await openOperatorEnv();
    // Loops of the WORKLOAD model's cpu_nice inside 13:00–14:00, one exactly at 14:00:00 and one after.
    await writeCpuNice(env.store, [
      at("13:03:15"),
      at("13:20:00"),
      at("13:45:30"),
      at("13:59:59"),
      at("14:00:00"),
      at("14:10:00"),
    ]);
    bag = await loadDags(dagsDir);
    demo = bag.dags.get("timestream-airflow-demo")!;
  });
  after(async () => {
    await env.close();
  });

  const runTsQuery = async (start: string, end: string, tryNumber = 1) => {
    const { ctx, lines } = contextFor(at(start), at(end), { tryNumber });
    const operator = demo.dag.tasks[0]!.operator!;
    const result = (await runOperator(operator, ctx, env.services, {
      codeVersion: demo.codeVersion,
    })) as ExportToLakeResult;
    return { result, lines };
  };

  it("loads with the seed's settings, and a warning for the relative start date", () => {
    assert.deepEqual(bag.importErrors, []);
    assert.ok(demo, "timestream-airflow-demo is loaded");
    const { dag } = demo;
    assert.equal(dag.schedule.expression, "0 */1 * * *");
    assert.deepEqual(dag.startDate, { daysAgo: 1 });
    assert.equal(dag.catchup, true);
    assert.equal(dag.dagrunTimeoutMs, 2 * 60 * 60 * 1000);
    assert.equal(dag.tasks.length, 1);
    const tsQuery = dag.tasks[0]!;
    assert.equal(tsQuery.id, "ts_query");
    assert.equal(tsQuery.retries, 0);
    assert.equal(tsQuery.retryDelayMs, 5 * 60 * 1000);
    assert.equal(tsQuery.operator?.kind, "export");
    assert.ok(bag.warnings.some((w) => w.dagId === "timestream-airflow-demo" && /relative/.test(w.message)));
  });

  it("writes [13:00, 14:00) to demo-airflow-ts-output/2021-09-22-13/my_file.csv in the seed's CSV shape, rows equal to the query's", async () => {
    const { result, lines } = await runTsQuery("13:00:00", "14:00:00");
    assert.equal(result.written, true);
    assert.equal(result.key, "2021-09-22-13/my_file.csv");
    assert.equal(lines[0], "Data will be uploaded to demo-airflow-ts-output/2021-09-22-13/my_file.csv");
    const queryLine = lines.find((l) => l.startsWith("Query to be run: "));
    assert.ok(queryLine);
    const sql = queryLine.slice("Query to be run: ".length);
    assert.match(sql, /time >= '2021-09-22 13:00:00\+00:00' AND time < '2021-09-22 14:00:00\+00:00'/);

    const file = csvLines(await env.lake.getObject(BUCKET, "2021-09-22-13/my_file.csv"));
    assert.equal(file[0], seedHeader);
    const rows = file.slice(1).map((line) => line.split(","));
    assert.equal(rows.length, result.rows);
    for (const [i, row] of rows.entries()) assert.equal(row[0], String(i), "the index column counts from 0");
    for (const row of rows) assert.match(row[2]!, /^2021-09-22 13:\d{2}:\d{2}$/);
    // Three loops' bins (13:03:15, 13:20:00, 13:45:30, 13:59:45) of ~1000 hosts (silos merged by the GROUP BY).
    assert.deepEqual(
      [...new Set(rows.map((r) => r[2]))],
      ["2021-09-22 13:03:15", "2021-09-22 13:20:00", "2021-09-22 13:45:30", "2021-09-22 13:59:45"],
    );

    // The same SQL through the query API: the same rows, in the same (full) order.
    const expected = await queryAll(env.store, sql);
    assert.equal(rows.length, expected.rows.length);
    rows.forEach((row, i) => {
      const [instance, bin, ...numbers] = expected.rows[i]!;
      assert.equal(row[1], instance);
      assert.equal(row[2], bin!.replace(/\.0+$/, ""));
      assert.deepEqual(row.slice(3).map(Number), numbers.map(Number));
    });
  });

  it("puts a point exactly at 14:00:00 in the next hour's file only (half-open intervals)", async () => {
    const thirteen = csvLines(await env.lake.getObject(BUCKET, "2021-09-22-13/my_file.csv"));
    assert.ok(!thirteen.some((line) => line.includes("2021-09-22 14:00:00")));
    const { result } = await runTsQuery("14:00:00", "15:00:00");
    assert.equal(result.key, "2021-09-22-14/my_file.csv");
    const fourteen = csvLines(await env.lake.getObject(BUCKET, "2021-09-22-14/my_file.csv"));
    const bins = new Set(fourteen.slice(1).map((line) => line.split(",")[2]));
    assert.deepEqual([...bins], ["2021-09-22 14:00:00", "2021-09-22 14:10:00"]);
    // The seed's BETWEEN would have put the 14:00:00 point in both files.
    const between = await queryAll(
      env.store,
      `SELECT count(*) FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND time BETWEEN '2021-09-22 13:00:00+00:00' AND '2021-09-22 14:00:00+00:00' AND time = '2021-09-22 14:00:00+00:00'`,
    );
    assert.equal(between.rows[0]![0], "1000");
  });

  it("writes a manifest beside the file: rows, bytes, sha256, columns, format, query, interval, run, try, code version", async () => {
    const data = await env.lake.getObject(BUCKET, "2021-09-22-13/my_file.csv");
    const manifest = JSON.parse(
      Buffer.from(await env.lake.getObject(BUCKET, "2021-09-22-13/my_file.csv.manifest.json")).toString(
        "utf8",
      ),
    ) as ExportManifest;
    assert.equal(manifest.manifestVersion, 1);
    assert.equal(manifest.bucket, BUCKET);
    assert.equal(manifest.key, "2021-09-22-13/my_file.csv");
    assert.equal(manifest.sha256, sha256(data));
    assert.equal(manifest.bytes, data.byteLength);
    assert.equal(manifest.rows, csvLines(data).length - 1);
    assert.deepEqual(manifest.columns, seedHeader.split(",").slice(1));
    assert.equal(manifest.format, "csv");
    assert.equal(manifest.compression, "none");
    assert.equal(manifest.header, true);
    assert.equal(manifest.indexColumn, true);
    assert.match(
      manifest.query,
      /^SELECT instance_name, BIN\(time, 15s\).*time >= '2021-09-22 13:00:00\+00:00'/,
    );
    assert.deepEqual(manifest.interval, {
      start: "2021-09-22T13:00:00+00:00",
      end: "2021-09-22T14:00:00+00:00",
    });
    assert.equal(manifest.dagId, "timestream-airflow-demo");
    assert.equal(manifest.taskId, "ts_query");
    assert.equal(manifest.runId, "scheduled__2021-09-22T13:00:00+00:00");
    assert.equal(manifest.tryNumber, 1);
    assert.equal(manifest.codeVersion, demo.codeVersion);
    assert.match(demo.codeVersion, /^[0-9a-f]{12}$/);
    assert.equal(manifest.writtenAt, new Date(WRITTEN_AT_MS).toISOString());
    const head = await env.lake.headObject(BUCKET, "2021-09-22-13/my_file.csv");
    assert.equal(head?.contentType, "text/csv");
  });

  it("re-runs: the same data gives the same bytes; new data replaces the file and its manifest", async () => {
    const before = await env.lake.getObject(BUCKET, "2021-09-22-13/my_file.csv");
    const again = await runTsQuery("13:00:00", "14:00:00", 2);
    assert.equal(again.result.sha256, sha256(before), "a full ORDER BY makes re-runs byte-identical");

    await writeCpuNice(env.store, [at("13:30:00")]);
    const third = await runTsQuery("13:00:00", "14:00:00", 3);
    const after = await env.lake.getObject(BUCKET, "2021-09-22-13/my_file.csv");
    assert.notEqual(third.result.sha256, again.result.sha256);
    assert.equal(third.result.sha256, sha256(after));
    assert.ok(third.result.rows > again.result.rows);
    const manifest = JSON.parse(
      Buffer.from(await env.lake.getObject(BUCKET, "2021-09-22-13/my_file.csv.manifest.json")).toString(
        "utf8",
      ),
    ) as ExportManifest;
    assert.equal(manifest.sha256, third.result.sha256);
    assert.equal(manifest.tryNumber, 3);
    const listed = await env.lake.listObjects(BUCKET, { prefix: "2021-09-22-13/" });
    assert.deepEqual(
      listed.objects.map((o) => o.key),
      ["2021-09-22-13/my_file.csv", "2021-09-22-13/my_file.csv.manifest.json"],
    );
    assert.deepEqual(leftoverTemps(env.lakeDir), []);
  });

  it("an hour without data writes nothing and says so in the log (emptyResult skip)", async () => {
    const { result, lines } = await runTsQuery("15:00:00", "16:00:00");
    assert.equal(result.written, false);
    assert.equal(result.manifestKey, null);
    assert.match(
      lines.at(-1)!,
      /^Query returned nothing - no data uploaded: the query returned no rows for s3:\/\/demo-airflow-ts-output\/2021-09-22-15\/my_file.csv/,
    );
    const listed = await env.lake.listObjects(BUCKET, { prefix: "2021-09-22-15/" });
    assert.deepEqual(listed.objects, []);
    assert.deepEqual(leftoverTemps(env.lakeDir), []);
  });
});

describe("the seed's backfill DAG (examples/dags/timestream-backfill.ts), on a real server", () => {
  let state: string;
  let runtime: HourglassRuntime;
  const conf = (to: string) => ({ dag: "timestream-airflow-demo", from: "2021-09-22T13:00:00Z", to });

  before(async () => {
    state = tempDir("hg-backfill-dag-");
    const config = resolveConfig({
      flags: { stateDir: state, dagsDir: path.join(state, "dags"), port: 0, workers: 2 },
      env: {},
      cwd: state,
    });
    fs.mkdirSync(config.dagsDir);
    // Two workers: the command task waits for the backfill it creates, whose run needs the other.
    runtime = await startHourglass(config, {
      dagsDirs: [dagsDir],
      unpauseOnLoad: ["timestream-backfill"],
      tickMs: 200,
      log: silentLog,
    });
    await setUpDemoResources(runtime.store, runtime.lake);
  });
  after(async () => {
    await runtime.stop();
    fs.rmSync(state, { recursive: true, force: true });
  });

  const runBackfillDag = async (to: string) => {
    const run = await runtime.workflows.trigger("timestream-backfill", { conf: conf(to) });
    const finished = await runtime.events.waitFor(
      "run:finished",
      (e) => e.run.dagId === "timestream-backfill" && e.run.runId === run.runId,
      120_000,
    );
    const log = await runtime.workflows.taskLog("timestream-backfill", run.runId, "cli_command");
    return { state: finished.state, log: log.text };
  };

  it("runs the real `hourglass backfill create`, which backfills the other DAG through this server", async () => {
    const { state: runState, log } = await runBackfillDag("2021-09-22T13:00:00Z");
    assert.equal(runState, "success", log);
    assert.match(
      log,
      /Running command: hourglass backfill create timestream-airflow-demo --from 2021-09-22T13:00:00Z/,
    );
    const [backfill] = await runtime.workflows.listBackfills({ dagId: "timestream-airflow-demo" });
    assert.ok(backfill, "the command created a backfill");
    assert.equal(backfill.state, "completed");
    assert.equal(backfill.total, 1);
    const runs = await runtime.workflows.listRuns({
      dagId: "timestream-airflow-demo",
      runTypes: ["backfill"],
    });
    assert.deepEqual(
      runs.map((r) => [r.dataIntervalStart, r.state]),
      [["2021-09-22T13:00:00.000Z", "success"]],
    );
  });

  it("passes a trigger's value as one argument: a `;` in it is part of a bad date, not a command", async () => {
    const { state: runState, log } = await runBackfillDag("2021-09-22; touch pwned");
    assert.equal(runState, "failed");
    assert.match(log, /'2021-09-22; touch pwned'/);
    assert.match(log, /\[stderr\] error: .*to/);
    assert.equal(fs.existsSync(path.join(process.cwd(), "pwned")), false);
  });
});

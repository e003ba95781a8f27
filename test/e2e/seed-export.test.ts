/**
 * The seed's scenarios end to end: unpausing the demo DAG runs the 24 hours since yesterday's
 * midnight and writes 24 files, each the seed's query over its hour [start, end); the seed's
 * backfill of 2021-09-21..2021-09-22 makes 25 runs named backfill__…, started from the CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli.js";
import {
  bucket,
  csvRows,
  demoDagId,
  loadSeedData,
  queryRows,
  type Scenario,
  seedQueryFor,
  startScenario,
} from "./helpers.js";

const hourMs = 3_600_000;
const sqlTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}+00:00`;
const folder = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace("T", "-");

async function assertFileIsTheQuery(s: Scenario, startMs: number): Promise<void> {
  const { runtime } = s;
  const text = new TextDecoder().decode(
    await runtime.lake.getObject(bucket, `${folder(startMs)}/my_file.csv`),
  );
  const file = csvRows(text);
  assert.equal(
    file.header,
    ",instance_name,binned_timestamp,avg_cpu_utilization,p90_cpu_utilization,p95_cpu_utilization,p99_cpu_utilization",
  );
  const expected = await queryRows(runtime.store, seedQueryFor(sqlTime(startMs), sqlTime(startMs + hourMs)));
  assert.equal(file.rows.length, expected.length, folder(startMs));
  assert.equal(expected.length, 6 * 60, "6 hosts, one point a minute, each its own 15 s bin");
  file.rows.forEach((row, i) => {
    const want = expected[i]!;
    assert.equal(row[0], want[0]);
    assert.equal(row[1], want[1]!.slice(0, 19), "timestamps print as 2021-09-22 13:03:15");
    for (let c = 2; c < 6; c += 1) assert.equal(Number(row[c]), Number(want[c]));
  });
  // Half-open: the hour's first bin is in this file, the next hour's first point is not.
  assert.equal(file.rows[0]![1], sqlTime(startMs).slice(0, 19));
  assert.ok(file.rows.every((row) => row[1]! < sqlTime(startMs + hourMs).slice(0, 19)));
}

describe("the seed's catchup: unpausing the demo DAG", () => {
  const now = Date.parse("2021-09-23T00:10:00Z");
  let s: Scenario;
  before(async () => {
    s = await startScenario({ clockMs: () => now, tickMs: 200 });
    await loadSeedData(
      s.runtime.store,
      s.runtime.lake,
      Date.parse("2021-09-22T00:00:00Z"),
      Date.parse("2021-09-23T00:00:00Z"),
    );
  });
  after(async () => s?.close());

  it("makes exactly 24 runs and 24 files, each equal to the seed's query over its hour", async () => {
    const { runtime } = s;
    assert.equal((await runtime.workflows.getDag(demoDagId)).isPaused, true, "new DAGs start paused");
    const written: string[] = [];
    runtime.events.on("export:written", (e) => written.push(e.key));
    let finished = 0;
    const all = new Promise<void>((resolve) => {
      runtime.events.on("run:finished", (e) => {
        if (e.run.dagId === demoDagId && ++finished === 24) resolve();
      });
    });
    await runtime.workflows.setPaused(demoDagId, false);
    await all;
    const runs = await runtime.workflows.listRuns({ dagId: demoDagId });
    assert.equal(runs.length, 24);
    assert.ok(runs.every((r) => r.state === "success" && r.runType === "scheduled"));
    assert.deepEqual(runs.map((r) => r.runId).sort()[0], "scheduled__2021-09-22T00:00:00+00:00");
    const listed = await runtime.lake.listObjects(bucket, { prefix: "2021-09-22-" });
    const files = listed.objects.map((o) => o.key).filter((k) => k.endsWith("/my_file.csv"));
    assert.equal(files.length, 24);
    assert.deepEqual(written.sort(), files.sort());
    for (let h = 0; h < 24; h += 1)
      await assertFileIsTheQuery(s, Date.parse("2021-09-22T00:00:00Z") + h * hourMs);
    const log = await runtime.workflows.taskLog(
      demoDagId,
      "scheduled__2021-09-22T13:00:00+00:00",
      "ts_query",
    );
    assert.match(log.text, /Data will be uploaded to demo-airflow-ts-output\/2021-09-22-13\/my_file\.csv/);
    assert.match(log.text, /time >= '2021-09-22 13:00:00\+00:00' AND time < '2021-09-22 14:00:00\+00:00'/);
  });
});

describe("the seed's backfill: 2021-09-21 to 2021-09-22 from the CLI", () => {
  const now = Date.parse("2021-09-23T09:20:39Z");
  let s: Scenario;
  before(async () => {
    s = await startScenario({ clockMs: () => now, tickMs: 200 });
    await loadSeedData(
      s.runtime.store,
      s.runtime.lake,
      Date.parse("2021-09-21T00:00:00Z"),
      Date.parse("2021-09-22T01:00:00Z"),
      { memoryHours: 24, magneticDays: 7 },
    );
  });
  after(async () => s?.close());

  it("makes 25 runs named backfill__…, one file per hour, with a progress bar until done", async () => {
    const cli = await runCli([
      "--state-dir",
      s.stateDir,
      "backfill",
      "create",
      demoDagId,
      "--from",
      "2021-09-21",
      "--to",
      "2021-09-22",
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /backfill 1 of timestream-airflow-demo: 25 interval\(s\), 0 skipped/);
    assert.match(cli.stdout, /is completed: 25\/25 done \(succeeded 25, failed 0/);
    assert.match(cli.stderr, /backfill 1 of timestream-airflow-demo .*25\/25 runs/);
    const runs = await s.runtime.workflows.listRuns({ dagId: demoDagId, limit: 100 });
    assert.equal(runs.length, 25);
    const ids = runs.map((r) => r.runId).sort();
    assert.equal(ids[0], "backfill__2021-09-21T00:00:00+00:00");
    assert.equal(ids[1], "backfill__2021-09-21T01:00:00+00:00");
    assert.equal(ids[24], "backfill__2021-09-22T00:00:00+00:00");
    const listed = await s.runtime.lake.listObjects(bucket);
    assert.equal(listed.objects.filter((o) => o.key.endsWith("/my_file.csv")).length, 25);
    await assertFileIsTheQuery(s, Date.parse("2021-09-21T01:00:00Z"));
  });
});

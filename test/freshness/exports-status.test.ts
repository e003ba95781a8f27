/**
 * Export freshness end to end (issue 12's acceptance): a real runtime with a test clock, the
 * seed's DAG over three hours, then a record 20 minutes late, `backfill create --reprocess stale`
 * through the real CLI, and a changed query.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  bucket,
  demoDagFile,
  demoDagId,
  loadSeedData,
  type Scenario,
  startScenario,
} from "../e2e/helpers.js";
import { runCli } from "../support/cli.js";

const hourMs = 3_600_000;
const t10 = Date.parse("2021-09-22T10:00:00Z");
/** The demo DAG, started at 10:00 so that catchup runs 10:00, 11:00 and 12:00 at 13:05. */
const dagText = fs
  .readFileSync(demoDagFile, "utf8")
  .replace("startDate: { daysAgo: 1 }", 'startDate: "2021-09-22T10:00:00Z"');
const lateHost = "i-late-host-0000.amazonaws.com";

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("exports status and --reprocess stale", () => {
  const clock = { now: t10 + 3 * hourMs + 5 * 60_000 }; // 13:05
  let s: Scenario;
  const status = async () =>
    s.runtime.freshness.exportsStatus({
      dagId: demoDagId,
      from: "2021-09-22T10:00:00Z",
      to: "2021-09-22T12:00:00Z",
    });

  before(async () => {
    s = await startScenario({ clockMs: () => clock.now, tickMs: 200, dagFiles: { "demo.ts": dagText } });
    await loadSeedData(s.runtime.store, s.runtime.lake, t10, t10 + 3 * hourMs);
    let finished = 0;
    const done = new Promise<void>((resolve) => {
      s.runtime.events.on("run:finished", ({ run }) => {
        if (run.dagId === demoDagId && ++finished === 3) resolve();
      });
    });
    await s.runtime.workflows.setPaused(demoDagId, false);
    await done;
  });
  after(async () => s?.close());

  it("shows every exported hour fresh, with the manifest recording the versions it read", async () => {
    const view = await status();
    assert.deepEqual(
      view.intervals.map((i) => [i.start, i.status]),
      [
        ["2021-09-22T10:00:00.000Z", "fresh"],
        ["2021-09-22T11:00:00.000Z", "fresh"],
        ["2021-09-22T12:00:00.000Z", "fresh"],
      ],
    );
    const manifest = JSON.parse(
      new TextDecoder().decode(
        await s.runtime.lake.getObject(bucket, "2021-09-22-12/my_file.csv.manifest.json"),
      ),
    );
    const read = manifest.dataVersions.tables[0];
    assert.equal(read.table, "airflow-db.airflow-table");
    assert.equal(read.records, 6 * 60, "one hour of the six hosts' points");
    assert.equal(read.buckets.length, 1);
    assert.equal(read.buckets[0].start, "2021-09-22T12:00:00.000Z");
  });

  it("makes an hour stale by data when a record arrives 20 minutes late, and --reprocess stale re-exports only it", {
    timeout: 180_000,
  }, async () => {
    clock.now = t10 + 3 * hourMs + 10 * 60_000; // 13:10: a record for 12:50, 20 minutes after its hour ended
    const lateTimeMs = t10 + 2 * hourMs + 50 * 60_000;
    const result = await s.runtime.store.writeRecords({
      DatabaseName: "airflow-db",
      TableName: "airflow-table",
      Records: [
        {
          Dimensions: [
            { Name: "region", Value: "us-east-2" },
            { Name: "availability_zone", Value: "us-east-2-1" },
            { Name: "instance_name", Value: lateHost },
          ],
          MeasureName: "cpu_nice",
          MeasureValue: "0.42",
          MeasureValueType: "DOUBLE",
          Time: String(lateTimeMs),
        },
      ],
    });
    assert.equal(result.rejected.length, 0);
    const view = await status();
    assert.deepEqual(
      view.intervals.map((i) => i.status),
      ["fresh", "fresh", "stale-data"],
    );
    const { version, ...staleData } = view.intervals[2]!.staleData!;
    assert.ok(version > 0);
    assert.deepEqual(staleData, {
      records: 1,
      lastWriteAt: "2021-09-22T13:10:00.000Z",
      tables: ["airflow-db.airflow-table"],
    });
    assert.deepEqual(view.counts, {
      fresh: 2,
      "stale-data": 1,
      "stale-code": 0,
      missing: 0,
      failed: 0,
      running: 0,
    });

    // The same through the CLI (talking to the server) and the REST route.
    const cli = await runCli([
      "--state-dir",
      s.stateDir,
      "exports",
      "status",
      "--dag",
      demoDagId,
      "--from",
      "2021-09-22T10:00:00Z",
      "--to",
      "2021-09-22T12:00:00Z",
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(
      cli.stdout,
      /2021-09-22T12:00:00\.000Z\s+stale-data .*1 record\(s\) arrived after the export, the last at 2021-09-22T13:10:00\.000Z/,
    );
    assert.match(cli.stdout, /3 interval\(s\) of timestream-airflow-demo .*: 2 fresh, 1 stale-data/);
    const rest = await fetch(
      `${s.runtime.url}/api/v1/dags/${demoDagId}/exports/status?from=2021-09-22T10:00:00Z&to=2021-09-22T12:00:00Z`,
    );
    assert.equal(rest.status, 200);
    assert.deepEqual(((await rest.json()) as { counts: unknown }).counts, view.counts);

    const written: string[] = [];
    const off = s.runtime.events.on("export:written", (e) => written.push(e.key));
    const backfill = await runCli([
      "--state-dir",
      s.stateDir,
      "backfill",
      "create",
      demoDagId,
      "--from",
      "2021-09-22T10:00:00Z",
      "--to",
      "2021-09-22T12:00:00Z",
      "--reprocess",
      "stale",
    ]);
    off();
    assert.equal(backfill.code, 0, backfill.stderr);
    assert.match(backfill.stdout, /backfill \d+ of timestream-airflow-demo: 1 interval\(s\), 0 skipped/);
    assert.deepEqual(written, ["2021-09-22-12/my_file.csv"], "only the stale hour is written again");
    const csv = new TextDecoder().decode(await s.runtime.lake.getObject(bucket, "2021-09-22-12/my_file.csv"));
    assert.match(csv, new RegExp(`${lateHost.replaceAll(".", "\\.")},2021-09-22 12:50:00,0\\.42`));
    assert.deepEqual(
      (await status()).intervals.map((i) => i.status),
      ["fresh", "fresh", "fresh"],
    );
    // Nothing stale is left: asking again re-exports nothing.
    const again = await runCli([
      "--state-dir",
      s.stateDir,
      "backfill",
      "create",
      demoDagId,
      "--from",
      "2021-09-22T10:00:00Z",
      "--to",
      "2021-09-22T12:00:00Z",
      "--reprocess",
      "stale",
    ]);
    assert.equal(again.code, 2, "a ValidationError");
    assert.match(
      again.stderr,
      /is stale: nothing to re-export \(see `hourglass exports status --dag timestream-airflow-demo`\)/,
    );
  });

  it("makes every exported hour stale by code once the query changes", { timeout: 120_000 }, async () => {
    const before = (await s.runtime.workflows.getDag(demoDagId)).codeVersion;
    fs.writeFileSync(
      path.join(s.dagsDir, "demo.ts"),
      dagText.replace("ROUND(AVG(measure_value::double), 2)", "ROUND(AVG(measure_value::double), 3)"),
    );
    const after = await until("the changed DAG file to load", async () => {
      const version = (await s.runtime.workflows.getDag(demoDagId)).codeVersion;
      return version !== before ? version : undefined;
    });
    const view = await status();
    assert.deepEqual(
      view.intervals.map((i) => [i.status, i.staleCode]),
      Array.from({ length: 3 }, () => ["stale-code", { exported: before, current: after }]),
    );
    assert.equal(view.codeVersion, after);
  });

  it("refuses bad requests with what to do", async () => {
    await assert.rejects(
      s.runtime.freshness.exportsStatus({ dagId: "no-such-dag" }),
      /DAG "no-such-dag" is not known/,
    );
    await assert.rejects(
      s.runtime.freshness.exportsStatus({ dagId: demoDagId, from: "2021-09-23", to: "2021-09-22" }),
      /the range is reversed/,
    );
    await assert.rejects(
      s.runtime.freshness.exportsStatus({ dagId: demoDagId, from: "yesterday" }),
      /from: /,
    );
    const rest = await fetch(`${s.runtime.url}/api/v1/dags/no-such-dag/exports/status`);
    assert.equal(rest.status, 404);
    const cli = await runCli([
      "--state-dir",
      s.stateDir,
      "exports",
      "status",
      "--dag",
      demoDagId,
      "--format",
      "xml",
    ]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /'xml' must be table or json/);
  });
});

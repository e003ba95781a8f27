/**
 * The README's seed table, step by step, as a user types it: a plain `hourglass up` (no --demo),
 * then the real CLI for everything else. Database, table, bucket, stream and connector are made by
 * hand; records go in through `hourglass stream put` and through the Kinesis endpoint; the seed's
 * export DAG is unpaused and writes its hourly files; the seed's backfill DAG is triggered with
 * conf and the backfill it creates runs; the server is stopped and started again and the
 * connector resumes from its checkpoint with nothing lost or doubled.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { BIN, runCli } from "../support/cli.js";
import { tempDir } from "../support/store.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const EXAMPLE_DAGS = path.join(root, "examples", "dags");
const DB = "airflow-db";
const TABLE = "airflow-table";
const BUCKET = "demo-airflow-ts-output";
const STREAM = "airflow-timestream";

describe("the seed's pipeline, step by step, against a plain hourglass up", () => {
  const dir = tempDir("hg-seed-steps-");
  const stateDir = path.join(dir, "state");
  const cli = async (args: string[], input?: string) => {
    const result = await runCli(["--state-dir", stateDir, ...args], input === undefined ? {} : { input });
    assert.equal(result.code, 0, `hourglass ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  let server: ChildProcess | null = null;
  let serverUrl = "";
  /** The key the first start created and printed (the AWS clients below sign with it). */
  let firstKey: { accessKeyId: string; secretAccessKey: string } | null = null;

  async function startServer(): Promise<void> {
    const child = spawn(
      process.execPath,
      [BIN, "--state-dir", stateDir, "up", "--port", "0", "--dags", EXAMPLE_DAGS, "--workers", "2"],
      { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
    );
    server = child;
    let err = "";
    let started = false;
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on("data", (d: Buffer) => {
        err += d.toString();
        const url = /hourglass is up: API (\S+)/.exec(err);
        if (!started && url?.[1] && /press Ctrl\+C to stop/.test(err)) {
          started = true;
          serverUrl = url[1];
          const id = /export AWS_ACCESS_KEY_ID=(\S+)/.exec(err)?.[1];
          const secret = /export AWS_SECRET_ACCESS_KEY=(\S+)/.exec(err)?.[1];
          if (firstKey === null) {
            assert.ok(id && secret, `the first start prints a key: ${err}`);
            firstKey = { accessKeyId: id, secretAccessKey: secret };
          } else {
            assert.ok(!err.includes(firstKey.secretAccessKey), "later starts never print the secret");
          }
          resolve();
        }
      });
      child.once("exit", (code) => reject(new Error(`hourglass up exited ${code}: ${err}`)));
    });
  }
  async function stopServer(): Promise<void> {
    if (!server) return;
    const exited = once(server, "exit");
    server.kill("SIGINT");
    const [code] = await exited;
    assert.equal(code, 0, "hourglass up stops cleanly on Ctrl+C");
    server = null;
  }
  after(async () => {
    server?.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Records of the seed's shape (the original generator's `single` mapping): cpu_nice of some hosts. */
  let serial = 0;
  const records = (n: number, timeMs: number) =>
    Array.from({ length: n }, () => {
      const i = serial++;
      return JSON.stringify({
        MeasureName: "cpu_nice",
        MeasureValue: String((i % 100) + 0.5),
        MeasureValueType: "DOUBLE",
        Time: String(timeMs + i),
        TimeUnit: "MILLISECONDS",
        region: "us-east-1",
        availability_zone: "us-east-1a",
        instance_name: `i-${i % 7}`,
      });
    });
  const count = async () => {
    const out = await cli(["query", `SELECT count(*) AS n FROM "${DB}"."${TABLE}"`, "--format", "json"]);
    return Number((JSON.parse(out) as { rows: { n: number }[] }).rows[0]?.n);
  };
  /** Waits for a condition by asking again; the deadline only turns a hang into a failure. */
  const waitFor = async <T>(
    what: string,
    probe: () => Promise<T | null>,
    deadlineMs = 240_000,
  ): Promise<T> => {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const value = await probe();
      if (value !== null) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  it("runs the seed's flow from the README without --demo", async () => {
    await startServer();

    // cdk deploy: the database, then the table; the bucket; the Kinesis stream; the Flink job.
    await cli(["db", "create", DB]);
    await cli(["table", "create", DB, TABLE, "--memory-hours", "24", "--magnetic-days", "1"]);
    await cli(["lake", "mb", BUCKET]);
    await cli(["stream", "create", STREAM, "--shards", "1"]);
    await cli(["connector", "create", "flink", "--stream", STREAM, "--database", DB, "--table", TABLE]);

    // Records an hour ago (the last complete hour for the DAG) through the CLI and through Kinesis.
    const hourStart = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    await cli(
      ["stream", "put", STREAM, "--partition-key", "cli", "--lines"],
      records(300, hourStart + 60_000).join("\n"),
    );
    const kinesis = new KinesisClient({
      region: "us-east-1",
      endpoint: serverUrl,
      credentials: firstKey!,
    });
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: records(200, hourStart + 120_000).map((line, i) => ({
          Data: new TextEncoder().encode(line),
          PartitionKey: `k${i}`,
        })),
      }),
    );
    assert.equal(put.FailedRecordCount, 0);
    kinesis.destroy();
    await waitFor("500 records in the table", async () => ((await count()) === 500 ? true : null));

    // Unpause the seed's DAG: its catchup exports every hour since yesterday, one CSV an hour.
    await cli(["dags", "unpause", "timestream-airflow-demo"]);
    const folder = new Date(hourStart).toISOString().slice(0, 13).replace("T", "-");
    const key = `${folder}/my_file.csv`;
    await waitFor(`the export of ${key}`, async () => {
      const listing = await cli(["lake", "ls", `${BUCKET}/`, "--recursive"]);
      return listing.includes(key) ? true : null;
    });
    const csv = await cli(["lake", "cat", `${BUCKET}/${key}`]);
    const lines = csv.trim().split("\n");
    assert.match(lines[0] ?? "", /instance_name,binned_timestamp,avg_cpu_utilization,p90_cpu_utilization/);
    assert.ok(lines.length > 7, `rows for each instance: ${lines.length}`);

    // MWAA had no CLI: the seed backfilled through a DAG whose conf names the range.
    const backfillFrom = new Date(hourStart - 3 * 3_600_000).toISOString();
    const backfillTo = new Date(hourStart - 2 * 3_600_000).toISOString();
    // New DAGs start paused (Airflow's default): a trigger's run waits until the DAG is unpaused.
    await cli(["dags", "unpause", "timestream-backfill"]);
    await cli([
      "dags",
      "trigger",
      "timestream-backfill",
      "--conf",
      JSON.stringify({ dag: "timestream-airflow-demo", from: backfillFrom, to: backfillTo }),
    ]);
    // The trigger's run runs `hourglass backfill create …` (the server's own CLI, over HTTP).
    const triggerRun = await waitFor("the backfill DAG's run to end", async () => {
      const runs = JSON.parse(await cli(["runs", "list", "--dag", "timestream-backfill", "--json"])) as {
        runId: string;
        state: string;
      }[];
      const run = runs[0];
      return run && !["queued", "running"].includes(run.state) ? run : null;
    });
    if (triggerRun.state !== "success") {
      const log = await runCli([
        "--state-dir",
        stateDir,
        "tasks",
        "logs",
        "timestream-backfill",
        triggerRun.runId,
        "cli_command",
      ]);
      assert.fail(`the backfill DAG's run ended ${triggerRun.state}: ${log.stdout}${log.stderr}`);
    }
    const backfill = await waitFor("the backfill to finish", async () => {
      const list = JSON.parse(
        await cli(["backfill", "list", "--dag", "timestream-airflow-demo", "--json"]),
      ) as {
        id: string;
        state: string;
      }[];
      const found = list[0];
      return found && !["queued", "running"].includes(found.state) ? found : null;
    });
    assert.equal(backfill.state, "completed", JSON.stringify(backfill));

    // Stop the server, put records while it is down, start it: the connector resumes from its
    // checkpoint and the table holds every record exactly once.
    await stopServer();
    await cli(
      ["stream", "put", STREAM, "--partition-key", "offline", "--lines"],
      records(150, hourStart + 180_000).join("\n"),
    );
    await startServer();
    await waitFor("650 records in the table", async () => {
      const n = await count();
      assert.ok(n <= 650, `records doubled: ${n}`);
      return n === 650 ? true : null;
    });
    const described = JSON.parse(await cli(["connector", "describe", "flink", "--json"])) as {
      state: string;
      counts: { written: number };
    };
    assert.equal(described.state, "running");
    await stopServer();
  });
});

/**
 * Managed connectors on a real server (startHourglass): created, stopped, started and deleted over
 * REST; records put through the Kinesis endpoint (@aws-sdk/client-kinesis) and the REST stream
 * routes reach the table; a server restart resumes each connector after its checkpoint, with
 * nothing lost nor written twice; one failing connector leaves the others running.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateStreamCommand, type KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { resolveConfig } from "../../src/config.js";
import { createLog } from "../../src/log/index.js";
import { type HourglassRuntime, startHourglass } from "../../src/runtime/index.js";
import type { ConnectorDescription } from "../../src/stream/connector/index.js";
import { openStreamService } from "../../src/stream/index.js";
import { kinesisClient, writeTestKey } from "../api/helpers.js";
import { queryAll, tempDir } from "../support/store.js";

const DB = "devops";
const TABLE = "metrics";
let serial = 0;

/** `n` single-measure payloads, each its own series (host-<serial>), so the table counts them exactly. */
function payloads(n: number): string[] {
  const nowMs = Date.now();
  return Array.from({ length: n }, () =>
    JSON.stringify({
      MeasureName: "cpu",
      MeasureValue: String(serial % 100),
      MeasureValueType: "DOUBLE",
      Time: String(nowMs),
      TimeUnit: "MILLISECONDS",
      host: `host-${serial++}`,
    }),
  );
}

describe("managed connectors on a running server", () => {
  const dir = tempDir("hg-managed-");
  const config = resolveConfig({
    flags: { stateDir: dir, dagsDir: path.join(dir, "dags"), port: 0, workers: 1 },
    env: {},
    cwd: dir,
  });
  const errors: string[] = [];
  let runtime: HourglassRuntime;
  let kinesis: KinesisClient;

  const start = async () => {
    writeTestKey(config.stateDir);
    runtime = await startHourglass(config, {
      scheduler: false,
      workers: 0,
      writeServerInfo: false,
      // Only errors: a connector failing is the log line the last test looks for.
      log: createLog({ level: "error", write: (line) => errors.push(line) }),
    });
    kinesis = kinesisClient(runtime.url);
  };
  const api = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(new URL(`/api/v1${route}`, runtime.url), {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const describeConnector = async (name: string): Promise<ConnectorDescription> => {
    const { status, body } = await api("GET", `/connectors/${name}`);
    assert.equal(status, 200, JSON.stringify(body));
    return body as ConnectorDescription;
  };
  /** Waits (on the manager's batch events, not on a timer) until the connector wrote `total`. */
  const waitForWritten = async (name: string, total: number) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const batch = new Promise<void>((resolve) => {
        const off = runtime.connectors.on("batch:written", (b) => {
          if (b.connector === name) {
            off();
            resolve();
          }
        });
        setTimeout(() => {
          off();
          resolve();
        }, 1_000).unref();
      });
      const d = await describeConnector(name);
      if (d.counts.written >= total) return d;
      assert.ok(
        Date.now() < deadline,
        `connector ${name} wrote ${d.counts.written} of ${total}: ${d.reason}`,
      );
      await batch;
    }
  };
  const rows = async (table = TABLE) =>
    Number((await queryAll(runtime.store, `SELECT count(*) FROM "${DB}"."${table}"`)).rows[0]![0]);
  const putWithSdk = async (stream: string, n: number) => {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: payloads(n).map((p, i) => ({ Data: new TextEncoder().encode(p), PartitionKey: `k${i}` })),
      }),
    );
    assert.equal(out.FailedRecordCount, 0);
  };
  const putWithRest = async (stream: string, n: number) => {
    const { status } = await api("POST", `/streams/${stream}/records`, {
      Records: payloads(n).map((p, i) => ({
        Data: Buffer.from(p).toString("base64"),
        PartitionKey: `r${i}`,
      })),
    });
    assert.equal(status, 200);
  };

  before(async () => {
    await start();
    await runtime.store.createDatabase(DB);
    await runtime.store.createTable({ DatabaseName: DB, TableName: TABLE });
    await kinesis.send(new CreateStreamCommand({ StreamName: "metrics", ShardCount: 2 }));
  });
  after(async () => {
    kinesis?.destroy();
    await runtime?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("moves records put by the Kinesis SDK and over REST into the table; describe shows counts and checkpoints", async () => {
    const created = await api("POST", "/connectors", {
      name: "m",
      stream: "metrics",
      database: DB,
      table: TABLE,
      maxDelayMs: 50,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.state, "running");
    assert.equal(created.body.deadLetterStream, "metrics-deadletter");
    assert.equal(created.body.enabled, true);

    await putWithSdk("metrics", 100);
    await putWithRest("metrics", 50);
    const d = await waitForWritten("m", 150);
    assert.equal(await rows(), 150);
    assert.equal(d.counts.written, 150);
    assert.equal(d.counts.rejected, 0);
    assert.equal(d.counts.deadLettered, 0);
    assert.equal(d.shards.length, 2);
    assert.ok(d.shards.every((s) => s.checkpoint !== null && /^49\d+$/.test(s.checkpoint)));
    assert.equal(d.lag.records, 0);
    assert.equal(d.reason, null);
    assert.ok(d.checkpointSavedAt);

    const listed = await api("GET", "/connectors");
    assert.deepEqual(
      listed.body.connectors.map((c: ConnectorDescription) => [c.name, c.state]),
      [["m", "running"]],
    );
  });

  it("stop leaves new records on the stream (the lag shows them); start writes them", async () => {
    const stopped = await api("POST", "/connectors/m/stop");
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, "stopped");
    assert.equal(stopped.body.enabled, false);
    assert.match(stopped.body.reason, /stopped with `connector stop`/);

    await putWithSdk("metrics", 40);
    const waiting = await describeConnector("m");
    assert.equal(waiting.state, "stopped");
    assert.equal(waiting.lag.records, 40);
    assert.ok((waiting.lag.millisBehindLatest ?? -1) >= 0);
    assert.equal(waiting.counts.written, 150);
    assert.equal(await rows(), 150);

    const started = await api("POST", "/connectors/m/start");
    assert.equal(started.status, 200);
    assert.equal(started.body.state, "running");
    await waitForWritten("m", 190);
    assert.equal(await rows(), 190);
  });

  it("a server restart resumes the connector after its checkpoint: nothing lost, nothing doubled", async () => {
    await putWithSdk("metrics", 60);
    // Stopped while those may still be on their way: the connector writes and checkpoints what it read.
    kinesis.destroy();
    await runtime.stop();
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "connectors.json"), "utf8"));
    assert.deepEqual(
      saved.connectors.map((c: { name: string; enabled: boolean }) => [c.name, c.enabled]),
      [["m", true]],
    );
    // Records that arrive while no server runs wait on the stream.
    const streams = await openStreamService({ dir, sweepIntervalMs: 0 });
    await streams.putRecords(
      "metrics",
      payloads(30).map((p, i) => ({ Data: Buffer.from(p), PartitionKey: `offline${i}` })),
    );
    await streams.close();

    await start();
    const d = await waitForWritten("m", 280);
    assert.equal(d.state, "running");
    assert.equal(await rows(), 280);
    assert.equal(d.counts.written, 280);
    assert.equal(d.lag.records, 0);
  });

  it("answers bad input clearly: unknown name, duplicate, bad name, bad body", async () => {
    const unknown = await api("GET", "/connectors/zzz");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "NotFound");
    assert.match(unknown.body.error.message, /no connector named zzz/);
    for (const route of ["/connectors/zzz/start", "/connectors/zzz/stop"]) {
      assert.equal((await api("POST", route)).status, 404, route);
    }
    assert.equal((await api("DELETE", "/connectors/zzz")).status, 404);

    const duplicate = await api("POST", "/connectors", {
      name: "m",
      stream: "metrics",
      database: DB,
      table: TABLE,
    });
    assert.equal(duplicate.status, 409);
    assert.match(duplicate.body.error.message, /a connector named m already exists/);

    const checks: [unknown, RegExp][] = [
      [{ name: "a b", stream: "metrics", database: DB, table: TABLE }, /connector name "a b" must be/],
      [{ name: "x", stream: "metrics", database: DB }, /table: /],
      [{ name: "x", stream: "metrics", database: DB, table: TABLE, mapping: "xml" }, /mapping/],
      [{ name: "x", stream: "metrics", database: DB, table: TABLE, from: "yesterday" }, /from must be/],
      [{ name: "x", stream: "metrics", database: DB, table: TABLE, colour: "red" }, /colour/],
      ["not json", /must be JSON/],
    ];
    for (const [body, message] of checks) {
      const answer = await api("POST", "/connectors", body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error.code, "ValidationError");
      assert.match(answer.body.error.message, message);
    }
    assert.equal((await api("GET", "/connectors/a%20b")).status, 400);
    const listed = await api("GET", "/connectors");
    assert.deepEqual(
      listed.body.connectors.map((c: ConnectorDescription) => c.name),
      ["m"],
    );
  });

  it("a connector whose stream or table is missing, or that fails later, is failed with the reason; the others run on", async () => {
    const missing = await api("POST", "/connectors", {
      name: "lost",
      stream: "nope",
      database: DB,
      table: TABLE,
    });
    assert.equal(missing.status, 201);
    assert.equal(missing.body.state, "failed");
    assert.match(
      missing.body.reason,
      /cannot start \(nope → devops\.metrics\): stream nope not found; create it/,
    );

    // Created afterwards: `start` tries again.
    await runtime.streams.createStream("nope", 1);
    const retried = await api("POST", "/connectors/lost/start");
    assert.equal(retried.body.state, "running");

    // A stream deleted under a running connector: its next read fails for good (a missing table
    // would be retried: it may be created again).
    await runtime.store.createTable({ DatabaseName: DB, TableName: "doomed" });
    await runtime.streams.createStream("other", 1);
    const doomed = await api("POST", "/connectors", {
      name: "doomed",
      stream: "other",
      database: DB,
      table: "doomed",
      maxDelayMs: 0,
    });
    assert.equal(doomed.body.state, "running");
    const failed = new Promise((resolve) =>
      runtime.connectors.on("connector:failed", (e) => e.connector === "doomed" && resolve(e)),
    );
    await runtime.streams.deleteStream("other");
    await failed;
    const d = await describeConnector("doomed");
    assert.equal(d.state, "failed");
    assert.match(
      d.reason ?? "",
      /failed while running: reading shardId-000000000000 of other failed: the stream .* no longer exists/,
    );

    await putWithSdk("metrics", 20);
    await waitForWritten("m", 300);
    assert.equal(await rows(), 300);
    assert.equal((await describeConnector("m")).state, "running");
  });

  it("delete stops the connector and removes its definition and checkpoint", async () => {
    for (const name of ["lost", "doomed"]) {
      const deleted = await api("DELETE", `/connectors/${name}`);
      assert.equal(deleted.status, 204);
      assert.equal(fs.existsSync(path.join(dir, "connectors", `${name}.json`)), false);
    }
    const listed = await api("GET", "/connectors");
    assert.deepEqual(
      listed.body.connectors.map((c: ConnectorDescription) => c.name),
      ["m"],
    );
    assert.equal((await api("GET", "/connectors/lost")).status, 404);
  });

  it("starts a new connector at a time: only records that arrived at or after it", async () => {
    await runtime.store.createTable({ DatabaseName: DB, TableName: "recent" });
    await putWithSdk("metrics", 10);
    const described = await runtime.streams.getShardStats("metrics");
    const cut = new Date(Math.max(...described.map((s) => s.LastArrivalTimestamp?.getTime() ?? 0)) + 1);
    // Records stamped after `cut` by the stream's clock (the real one): wait until it passed.
    while (Date.now() <= cut.getTime()) await new Promise((resolve) => setImmediate(resolve));
    await putWithSdk("metrics", 7);
    const created = await api("POST", "/connectors", {
      name: "recent",
      stream: "metrics",
      database: DB,
      table: "recent",
      from: cut.toISOString(),
      maxDelayMs: 0,
    });
    assert.equal(created.body.state, "running", created.body.reason);
    await waitForWritten("recent", 7);
    assert.equal(await rows("recent"), 7);
    assert.deepEqual(
      errors.filter((e) => !/lost|doomed/.test(e)),
      [],
    );
  });
});

import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import {
  type ConnectorEventMap,
  type ConnectorOptions,
  checkpointPath,
  readCheckpoint,
  type StreamConnector,
  startConnector,
} from "../../src/stream/connector/index.js";
import {
  DB,
  eventually,
  openPipeline,
  type Pipeline,
  rows,
  SEED_START_S,
  singlePayload,
  TABLE,
  whenHandled,
} from "./helpers.js";

const fast = { retry: { initialDelayMs: 20, maxDelayMs: 100 } };

function options(p: Pipeline, extra: Partial<ConnectorOptions> = {}): ConnectorOptions {
  return {
    streams: p.streams,
    store: p.store,
    stream: "metrics",
    database: DB,
    table: TABLE,
    stateDir: p.dir,
    ...fast,
    ...extra,
  };
}

/** `count` records of distinct series, spread over shards by their partition keys. */
async function put(p: Pipeline, count: number, first = 0, key?: string): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const records = Array.from({ length: Math.min(500, count - start) }, (_, i) => {
      const n = first + start + i;
      return {
        Data: singlePayload(`host-${n}`, "cpu_user", String(n), SEED_START_S),
        PartitionKey: key ?? `host-${n}`,
      };
    });
    const result = await p.streams.putRecords("metrics", records);
    assert.equal(result.FailedRecordCount, 0);
  }
}

const countRows = async (p: Pipeline): Promise<number> =>
  Number((await rows(p.store, `SELECT count(*) FROM "${DB}"."${TABLE}"`))[0]![0]);

function nextEvent<E extends keyof ConnectorEventMap>(
  connector: StreamConnector,
  event: E,
  matches: (payload: ConnectorEventMap[E]) => boolean = () => true,
): Promise<ConnectorEventMap[E]> {
  return new Promise((resolve) => {
    const off = connector.on(event, (payload) => {
      if (!matches(payload)) return;
      off();
      resolve(payload);
    });
  });
}

describe("connector: stream → store", () => {
  let p: Pipeline;
  before(async () => {
    p = await openPipeline();
  });
  after(async () => {
    await p.close();
  });

  it("writes every record, checkpoints each shard after the write, and resumes after its checkpoint", async () => {
    const first = await startConnector(options(p, { batchSize: 50, maxDelayMs: 50 }));
    const sizes: number[] = [];
    first.on("batch:written", (b) => sizes.push(b.records));
    await put(p, 200);
    await whenHandled(first, 200, 20_000);
    assert.ok(
      sizes.every((n) => n <= 50),
      `batches of at most 50: ${sizes}`,
    );

    const stats = await p.streams.getShardStats("metrics");
    const status = first.status();
    assert.equal(status.counts.written, 200);
    assert.equal(status.lag.records, 0);
    for (const shard of status.shards) {
      const last = stats.find((s) => s.ShardId === shard.shardId)!.LastSequenceNumber;
      assert.equal(shard.checkpoint, last, `${shard.shardId} is checkpointed at its last record`);
    }
    const saved = await readCheckpoint(p.dir, "metrics");
    assert.deepEqual(
      saved!.shards,
      Object.fromEntries(status.shards.map((s) => [s.shardId, s.checkpoint])),
      "the file holds the same positions",
    );
    assert.equal(saved!.counts.written, 200);
    assert.equal((await first.stop()).state, "stopped");

    await put(p, 100, 200);
    const second = await startConnector(options(p, { batchSize: 50, maxDelayMs: 50 }));
    assert.equal(second.status().lag.records, 100, "100 records are behind the checkpoint before it reads");
    await whenHandled(second, 300, 20_000);
    assert.equal(second.status().counts.written, 300, "counts carry on from the checkpoint");
    await second.stop();
    assert.equal(await countRows(p), 300);
  });

  it("seals full batches at once and writes a partly filled one after maxDelayMs", async () => {
    const connector = await startConnector(
      options(p, { name: "delay", from: "latest", batchSize: 10, maxDelayMs: 400 }),
    );
    const batches: { records: number; atMs: number }[] = [];
    connector.on("batch:written", (b) => batches.push({ records: b.records, atMs: performance.now() }));
    const putAtMs = performance.now();
    await put(p, 25, 1000, "one-shard");
    await eventually(() => (batches.length === 3 ? true : undefined), 20_000, "three batches");
    await connector.stop();
    assert.deepEqual(
      batches.map((b) => b.records),
      [10, 10, 5],
    );
    assert.ok(
      batches[2]!.atMs - putAtMs >= 390,
      `the last 5 waited ${batches[2]!.atMs - putAtMs} ms (maxDelayMs 400)`,
    );
  });

  it("from latest skips the records that were on the stream before it started", async () => {
    await put(p, 10, 2000);
    const connector = await startConnector(options(p, { name: "latest", from: "latest", maxDelayMs: 20 }));
    await put(p, 5, 3000);
    await whenHandled(connector, 5, 20_000);
    await connector.stop();
    assert.equal(connector.status().counts.written, 5);
    assert.equal(connector.status().counts.read, 5);
  });

  it("renews shard iterators that expired while it waited at the tip", async () => {
    const connector = await startConnector(options(p, { name: "expiry", from: "latest", maxDelayMs: 20 }));
    await put(p, 4, 4000);
    await whenHandled(connector, 4, 20_000);
    p.streamClock.nowMs += 6 * 60_000; // iterators live 5 minutes
    await put(p, 4, 4100);
    await whenHandled(connector, 8, 20_000);
    await connector.stop();
    assert.equal(connector.status().state, "stopped");
    assert.equal(connector.status().lastError, null);
  });

  it("retries while the table is missing, and a stop then leaves the batch for the next run", async () => {
    const connector = await startConnector(options(p, { name: "outage", from: "latest", maxDelayMs: 20 }));
    await put(p, 3, 5000);
    await whenHandled(connector, 3, 20_000);
    const before = (await readCheckpoint(p.dir, "outage"))!;
    await p.store.deleteTable(DB, TABLE);
    const retrying = nextEvent(connector, "error", (e) => e.retrying);
    await put(p, 6, 5100);
    const { error } = await retrying;
    assert.equal(error.code, "NotFound");
    assert.match(
      error.message,
      /writing to airflow-db\.airflow-table failed: Table 'airflow-db\.airflow-table' does not exist/,
    );
    assert.match(connector.status().lastError!.message, /does not exist/);

    // Stopping while the write keeps failing: nothing is checkpointed, so nothing is skipped.
    const final = await connector.stop();
    assert.equal(final.state, "stopped");
    assert.deepEqual((await readCheckpoint(p.dir, "outage"))!.shards, before.shards);

    await p.store.createTable({ DatabaseName: DB, TableName: TABLE });
    const again = await startConnector(options(p, { name: "outage", maxDelayMs: 20 }));
    await whenHandled(again, 9, 20_000);
    await again.stop();
    assert.equal(await countRows(p), 6, "the new table holds the 6 records written during the outage");
  });

  it("keeps retrying a missing table until it exists, then catches up", async () => {
    const connector = await startConnector(options(p, { name: "waits", from: "latest", maxDelayMs: 20 }));
    await p.store.deleteTable(DB, TABLE);
    const retries: number[] = [];
    connector.on("error", (e) => {
      if (e.retrying) retries.push(e.delayMs!);
    });
    await put(p, 5, 6000);
    await eventually(() => (retries.length >= 3 ? true : undefined), 20_000, "three retries");
    assert.ok(
      retries.every((ms) => ms <= 110),
      `backoff capped at retry.maxDelayMs: ${retries}`,
    );
    await p.store.createTable({ DatabaseName: DB, TableName: TABLE });
    await whenHandled(connector, 5, 20_000);
    await connector.stop();
    assert.equal(await countRows(p), 5);
    assert.ok(connector.status().counts.retries >= 3);
  });

  it("reports MillisBehindLatest per shard and in all, kept current while it cannot read", async () => {
    const connector = await startConnector(
      options(p, { name: "lag", from: "latest", batchSize: 5, maxDelayMs: 20 }),
    );
    await p.store.deleteTable(DB, TABLE);
    // One batch being retried, one sealed and waiting: the reader stops reading.
    await put(p, 10, 8000, "lag-key");
    await eventually(() => (connector.status().counts.read === 10 ? true : undefined), 20_000, "10 read");
    const shardId = connector.status().shards.find((s) => s.lastRead !== null)!.shardId;
    assert.equal(connector.status().lag.millisBehindLatest, 0, "it read everything there was");
    // Records that arrive 5 s later are not read; they are the newest, so a read now would be 0
    // behind (the gap before them does not count)...
    p.streamClock.nowMs += 5_000;
    await put(p, 3, 8100, "lag-key");
    const shardLag = () => connector.status().shards.find((s) => s.shardId === shardId)!.millisBehindLatest;
    assert.equal(shardLag(), 0);
    // ... and records 3 s after those put the next record to read 3 s behind the newest.
    p.streamClock.nowMs += 3_000;
    await put(p, 2, 8200, "lag-key");
    const behind = connector.status();
    const shard = behind.shards.find((s) => s.shardId === shardId)!;
    assert.equal(shard.millisBehindLatest, 3_000);
    assert.equal(behind.lag.millisBehindLatest, 3_000, "the largest over the shards");
    assert.equal(shard.behindRecords, 15);
    assert.ok(behind.shards.every((s) => s.shardId === shardId || s.millisBehindLatest === 0));
    await p.store.createTable({ DatabaseName: DB, TableName: TABLE });
    await whenHandled(connector, 15, 20_000);
    const caughtUp = connector.status();
    assert.equal(caughtUp.lag.millisBehindLatest, 0);
    assert.equal(caughtUp.lag.records, 0);
    await connector.stop();
  });

  it("counts records that retention removed before it could read them", async () => {
    const connector = await startConnector(options(p, { name: "retention", from: "latest", maxDelayMs: 20 }));
    await put(p, 2, 7000, "retention-key");
    await whenHandled(connector, 2, 20_000);
    await connector.stop();
    await put(p, 3, 7100, "retention-key");
    p.streamClock.nowMs += 25 * 3_600_000; // past the 24-hour retention
    await put(p, 4, 7200, "retention-key");
    const again = await startConnector(options(p, { name: "retention", maxDelayMs: 20 }));
    const warning = nextEvent(again, "error", (e) => /expired/.test(e.error.message));
    await whenHandled(again, 6, 20_000);
    assert.match(
      (await warning).error.message,
      /^3 record\(s\) of shardId-\d{12} expired \(stream retention\) before the connector read them$/,
    );
    const shard = again.status().shards.find((s) => s.expiredUnread > 0)!;
    assert.equal(shard.expiredUnread, 3);
    await again.stop();
  });

  it("starts over when the stream was deleted and created again", async () => {
    const q = await openPipeline({ stream: "again" });
    try {
      const opts = { ...options(q), stream: "again", maxDelayMs: 20 };
      const first = await startConnector(opts);
      await q.streams.putRecords("again", [
        { Data: singlePayload("h1", "cpu_user", "1", SEED_START_S), PartitionKey: "k" },
      ]);
      await whenHandled(first, 1, 20_000);
      await first.stop();
      await q.streams.deleteStream("again");
      q.streamClock.nowMs += 1000;
      await q.streams.createStream("again", 2);
      await q.streams.putRecords("again", [
        { Data: singlePayload("h2", "cpu_user", "2", SEED_START_S), PartitionKey: "k" },
      ]);
      const second = await startConnector(opts);
      assert.match(second.status().lastError!.message, /was created again since checkpoint again was saved/);
      await whenHandled(second, 1, 20_000);
      await second.stop();
      assert.equal(Object.keys((await readCheckpoint(q.dir, "again"))!.shards).length, 1);
      assert.equal(Number((await rows(q.store, `SELECT count(*) FROM "${DB}"."${TABLE}"`))[0]![0]), 2);
    } finally {
      await q.close();
    }
  });

  it("refuses bad options, a missing stream or table, another connector's checkpoint and a second run of one name", async () => {
    const refused = async (extra: Partial<ConnectorOptions>, code: string, message: RegExp) => {
      await assert.rejects(startConnector(options(p, extra)), (error: unknown) => {
        assert.ok(isHourglassError(error, code as never), `expected ${code}, got ${String(error)}`);
        assert.match(error.message, message);
        return true;
      });
    };
    await refused({ batchSize: 0 }, "ValidationError", /batchSize must be an integer in 1\.\.1000000, got 0/);
    await refused({ maxDelayMs: -1 }, "ValidationError", /maxDelayMs must be an integer/);
    await refused(
      { mapping: "xml" as never },
      "ValidationError",
      /mapping must be single, flat or auto, got "xml"/,
    );
    await refused({ from: "middle" as never }, "ValidationError", /from must be trim-horizon or latest/);
    await refused({ name: "a/b" }, "ValidationError", /connector name "a\/b" must be 1\.\.128 characters/);
    await refused({ deadLetterStream: "metrics" }, "ValidationError", /must not be the source stream/);
    await refused({ stream: "x".repeat(120) }, "ValidationError", /too long to add "-deadletter"/);
    await refused({ stream: "nope" }, "NotFound", /stream nope not found/);
    await refused({ table: "no-such-table" }, "NotFound", /Table 'airflow-db\.no-such-table' does not exist/);

    fs.mkdirSync(`${p.dir}/connectors`, { recursive: true });
    fs.copyFileSync(checkpointPath(p.dir, "metrics"), checkpointPath(p.dir, "copied"));
    const elsewhere = JSON.parse(fs.readFileSync(checkpointPath(p.dir, "copied"), "utf8"));
    fs.writeFileSync(
      checkpointPath(p.dir, "copied"),
      JSON.stringify({ ...elsewhere, name: "copied", table: "other-table" }),
    );
    await refused(
      { name: "copied" },
      "Conflict",
      /belongs to metrics → airflow-db\.other-table; give this connector another name/,
    );

    fs.writeFileSync(checkpointPath(p.dir, "broken"), "{ not json");
    await refused({ name: "broken" }, "Internal", /checkpoint file .*broken\.json is damaged/);

    const one = await startConnector(options(p, { name: "twice", from: "latest" }));
    await refused({ name: "twice" }, "Conflict", /a connector named twice already runs in this process/);
    await one.stop();
  });

  it("reports a stream deleted under it as a failure", async () => {
    await p.streams.createStream("doomed", 1);
    const connector = await startConnector(options(p, { stream: "doomed", maxDelayMs: 20 }));
    const failed = nextEvent(connector, "error", (e) => !e.retrying);
    await p.streams.deleteStream("doomed");
    const { error } = await failed;
    assert.match(
      error.message,
      /reading shardId-000000000000 of doomed failed: .*no longer exists|not found/,
    );
    await assert.rejects(connector.done, /doomed/);
    assert.equal(connector.status().state, "failed");
  });
});

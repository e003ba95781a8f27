/**
 * Resharding under load: a producer puts records through the Kinesis endpoint with the AWS SDK
 * while UpdateShardCount takes the stream from 2 to 4 to 3 shards; the connector follows the
 * lineage and writes every record exactly once, parents before children.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type KinesisClient, PutRecordsCommand, UpdateShardCountCommand } from "@aws-sdk/client-kinesis";
import { type StreamConnector, startConnector } from "../../src/stream/connector/index.js";
import { kinesisClient, startTestServer, type TestServer } from "../api/helpers.js";
import { DB, rows, SEED_NOW_MS, singlePayload, TABLE, whenHandled } from "./helpers.js";

const HOSTS = 20;
const PER_CALL = 100;
const STEP = 2_000; // records between reshards

describe("the connector through resharding under load", () => {
  let t: TestServer;
  let client: KinesisClient;
  let connector: StreamConnector;

  before(async () => {
    t = await startTestServer({ nowMs: SEED_NOW_MS });
    client = kinesisClient(t.server.url);
    await t.store.createDatabase(DB);
    await t.store.createTable({
      DatabaseName: DB,
      TableName: TABLE,
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
    });
    await t.stream.createStream("metrics", 2);
  });
  after(async () => {
    await connector?.stop().catch(() => undefined);
    client.destroy();
    await t.close();
  });

  it("writes every record once, in order per partition key, while UpdateShardCount goes 2 → 4 → 3", async () => {
    connector = await startConnector({
      streams: t.stream,
      store: t.store,
      stream: "metrics",
      database: DB,
      table: TABLE,
      stateDir: t.dir,
      batchSize: 1_500,
      maxDelayMs: 50,
    });
    const checkpoints: Record<string, string>[] = [];
    connector.on("batch:written", (b) => checkpoints.push({ ...b.checkpoint }));

    // Host h's n-th record is at base + n seconds: unique by (host, time), in put order per host.
    const baseS = SEED_NOW_MS / 1000 - 3_600;
    const counters = new Array<number>(HOSTS).fill(0);
    let put = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const records = Array.from({ length: PER_CALL }, (_, i) => {
          const host = i % HOSTS;
          const n = counters[host]!++;
          return {
            PartitionKey: `host-${host}`,
            Data: singlePayload(`host-${host}`, "seq", String(n), baseS + n),
          };
        });
        const out = await client.send(new PutRecordsCommand({ StreamName: "metrics", Records: records }));
        assert.equal(out.FailedRecordCount, 0);
        put += PER_CALL;
      }
    })();
    const whenPut = async (count: number) => {
      while (put < count) await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      await whenPut(STEP);
      const up = await client.send(
        new UpdateShardCountCommand({
          StreamName: "metrics",
          TargetShardCount: 4,
          ScalingType: "UNIFORM_SCALING",
        }),
      );
      assert.deepEqual([up.CurrentShardCount, up.TargetShardCount], [2, 4]);
      await whenPut(put + STEP);
      const down = await client.send(
        new UpdateShardCountCommand({
          StreamName: "metrics",
          TargetShardCount: 3,
          ScalingType: "UNIFORM_SCALING",
        }),
      );
      assert.deepEqual([down.CurrentShardCount, down.TargetShardCount], [4, 3]);
      await whenPut(put + STEP);
    } finally {
      producing = false;
      await producer;
    }

    await whenHandled(connector, put, 120_000);
    const status = connector.status();
    assert.equal(status.counts.written, put, "every record written once");
    assert.equal(status.counts.read, put);
    assert.equal(status.lag.records, 0);
    const [[count]] = (await rows(t.store, `SELECT count(*) FROM "${DB}"."${TABLE}"`)) as [[string]];
    assert.equal(Number(count), put);
    const duplicates = await rows(
      t.store,
      `SELECT instance_name, time, count(*) FROM "${DB}"."${TABLE}" GROUP BY instance_name, time HAVING count(*) > 1`,
    );
    assert.deepEqual(duplicates, []);
    const perHost = await rows(
      t.store,
      `SELECT instance_name, count(*), max(measure_value::double) FROM "${DB}"."${TABLE}" GROUP BY instance_name`,
    );
    for (const [host, n, max] of perHost)
      assert.equal(Number(max), Number(n) - 1, `${host}: 0..n-1, none missing`);

    // Lineage: a child's records were first written in a batch whose checkpoint already held
    // each parent's last record (parents read to their end before the child, per-key order kept).
    const described = await t.stream.describeStream("metrics");
    const stats = new Map((await t.stream.getShardStats("metrics")).map((s) => [s.ShardId, s]));
    const closed = described.Shards.filter((s) => s.SequenceNumberRange.EndingSequenceNumber !== undefined);
    assert.ok(closed.length >= 4, `2 → 4 → 3 closes shards (${closed.length})`);
    for (const shard of described.Shards) {
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p) => p !== undefined);
      const first = checkpoints.find((c) => c[shard.ShardId] !== undefined);
      if (first === undefined || parents.length === 0) continue;
      for (const parent of parents) {
        const last = stats.get(parent!)!.LastSequenceNumber;
        if (last !== null) assert.equal(first[parent!], last, `${parent} finished before ${shard.ShardId}`);
      }
    }
    // Closed shards stay in the status and the checkpoint, as finished.
    for (const shard of closed) {
      const s = status.shards.find((x) => x.shardId === shard.ShardId);
      assert.ok(s?.closed && s.finished, `${shard.ShardId} is finished: ${JSON.stringify(s)}`);
      const last = stats.get(shard.ShardId)!.LastSequenceNumber;
      if (last !== null) assert.equal(s.checkpoint, last);
    }
    assert.equal(status.shards.filter((s) => !s.closed).length, 3);

    // A restart resumes with every closed shard finished: nothing is written again.
    await connector.stop();
    connector = await startConnector({
      streams: t.stream,
      store: t.store,
      stream: "metrics",
      database: DB,
      table: TABLE,
      stateDir: t.dir,
      maxDelayMs: 50,
    });
    await client.send(
      new PutRecordsCommand({
        StreamName: "metrics",
        Records: [{ PartitionKey: "host-0", Data: singlePayload("host-0", "seq", "-1", baseS - 1) }],
      }),
    );
    await whenHandled(connector, put + 1, 60_000);
    assert.equal(connector.status().counts.written, put + 1);
    assert.ok(
      connector
        .status()
        .shards.filter((s) => s.closed)
        .every((s) => s.finished),
    );
  });
});

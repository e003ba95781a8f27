import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { hashKeyForPartitionKey, type StreamService } from "../../src/stream/index.js";
import { hourglassError, openTestService, records, removeDir, text } from "./helpers.js";

const maxKey = (1n << 128n) - 1n;
const half = ((maxKey + 1n) / 2n).toString();

/** Every record of every shard, following lineage from the given shards (parents before children). */
async function readLineage(
  service: StreamService,
  stream: string,
): Promise<{ shardId: string; data: string; key: string }[]> {
  const out: { shardId: string; data: string; key: string }[] = [];
  const start = await service.listShards(stream, { Type: "AT_TRIM_HORIZON" });
  const pending = start.map((s) => s.ShardId);
  const parentsDone = new Map<string, number>();
  const done = new Set<string>();
  while (pending.length > 0) {
    const shardId = pending.shift()!;
    if (done.has(shardId)) continue;
    done.add(shardId);
    let iterator: string | null = await service.getShardIterator(stream, shardId, "TRIM_HORIZON");
    while (iterator !== null) {
      const page = await service.getRecords(iterator);
      for (const r of page.Records) out.push({ shardId, data: text(r.Data), key: r.PartitionKey });
      iterator = page.NextShardIterator;
      if (iterator === null) {
        for (const child of page.ChildShards ?? []) {
          const seen = (parentsDone.get(child.ShardId) ?? 0) + 1;
          parentsDone.set(child.ShardId, seen);
          if (seen === child.ParentShards.length) pending.push(child.ShardId);
        }
      } else if (page.Records.length === 0) break; // an open shard's tip
    }
  }
  return out;
}

describe("resharding: SplitShard, MergeShards, UpdateShardCount", () => {
  let service: StreamService;
  let dir: string;
  before(async () => {
    ({ service, dir } = await openTestService());
  });
  after(async () => {
    await service.close();
    removeDir(dir);
  });

  it("splits a shard: the parent closes at its last record, children continue the numbering", async () => {
    await service.createStream("split", 2);
    await service.putRecords("split", records(50, "a"));
    await service.splitShard("split", "shardId-000000000000", (BigInt(half) / 2n).toString());
    const d = await service.describeStream("split");
    assert.equal(d.StreamStatus, "ACTIVE");
    assert.deepEqual(
      d.Shards.map((s) => [
        s.ShardId,
        s.ParentShardId,
        s.HashKeyRange.StartingHashKey,
        s.HashKeyRange.EndingHashKey,
      ]),
      [
        ["shardId-000000000000", undefined, "0", (BigInt(half) - 1n).toString()],
        ["shardId-000000000001", undefined, half, maxKey.toString()],
        ["shardId-000000000002", "shardId-000000000000", "0", (BigInt(half) / 2n - 1n).toString()],
        [
          "shardId-000000000003",
          "shardId-000000000000",
          (BigInt(half) / 2n).toString(),
          (BigInt(half) - 1n).toString(),
        ],
      ],
    );
    const parent = d.Shards[0]!;
    const stats = await service.getShardStats("split");
    assert.equal(parent.SequenceNumberRange.EndingSequenceNumber, stats[0]!.LastSequenceNumber);
    assert.equal(stats[0]!.Closed, true);
    assert.equal(d.Shards[1]!.SequenceNumberRange.EndingSequenceNumber, undefined);
    assert.deepEqual(
      (await service.listShards("split", { Type: "AT_LATEST" })).map((s) => s.ShardId),
      ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"],
    );
    assert.deepEqual(
      (await service.listShards("split", { Type: "AT_TRIM_HORIZON" })).map((s) => s.ShardId),
      ["shardId-000000000000", "shardId-000000000001"],
    );
    assert.equal((await service.listShards("split", { Type: "FROM_TRIM_HORIZON" })).length, 4);

    // Writes go to the children at once, by hash key; the parent takes nothing more.
    const put = await service.putRecords("split", records(50, "b"));
    for (const [i, r] of put.Records.entries()) {
      const shardId = (r as { ShardId: string }).ShardId;
      const shard = d.Shards.find((s) => s.ShardId === shardId)!;
      const hash = hashKeyForPartitionKey(`key-${i}`);
      assert.ok(shard.SequenceNumberRange.EndingSequenceNumber === undefined, `${shardId} is open`);
      assert.ok(
        hash >= BigInt(shard.HashKeyRange.StartingHashKey) &&
          hash <= BigInt(shard.HashKeyRange.EndingHashKey),
      );
    }

    // The parent reads to its end, then no next iterator and its children.
    let iterator = await service.getShardIterator("split", "shardId-000000000000", "TRIM_HORIZON");
    const first = await service.getRecords(iterator, 5);
    assert.equal(first.Records.length, 5);
    assert.ok(first.NextShardIterator);
    iterator = first.NextShardIterator;
    const rest = await service.getRecords(iterator);
    assert.equal(rest.NextShardIterator, null);
    assert.equal(5 + rest.Records.length, stats[0]!.RecordCount);
    assert.deepEqual(rest.ChildShards, [
      {
        ShardId: "shardId-000000000002",
        ParentShards: ["shardId-000000000000"],
        HashKeyRange: d.Shards[2]!.HashKeyRange,
      },
      {
        ShardId: "shardId-000000000003",
        ParentShards: ["shardId-000000000000"],
        HashKeyRange: d.Shards[3]!.HashKeyRange,
      },
    ]);
    // LATEST on a closed shard is its end.
    const latest = await service.getShardIterator("split", "shardId-000000000000", "LATEST");
    const end = await service.getRecords(latest);
    assert.deepEqual([end.Records.length, end.NextShardIterator, end.ChildShards?.length], [0, null, 2]);
    // Waiting on a closed shard's end does not wait.
    assert.equal(
      await service.waitForRecords("split", "shardId-000000000000", stats[0]!.LastSequenceNumber, 60_000),
      true,
    );

    const all = await readLineage(service, "split");
    assert.equal(all.length, 100);
    assert.equal(new Set(all.map((r) => r.data)).size, 100);
  });

  it("refuses bad splits with Kinesis's error codes, changing nothing", async () => {
    await service.createStream("bad-split", 1);
    const before = await service.describeStream("bad-split");
    const invalid = hourglassError("ValidationError", "InvalidArgumentException");
    await assert.rejects(service.splitShard("bad-split", "shardId-000000000000", "0"), invalid); // at the first key
    await assert.rejects(
      service.splitShard("bad-split", "shardId-000000000000", (maxKey + 1n).toString()),
      invalid,
    );
    await assert.rejects(service.splitShard("bad-split", "shardId-000000000000", "-5"), invalid);
    await assert.rejects(service.splitShard("bad-split", "shardId-000000000000", "12x"), invalid);
    await assert.rejects(
      service.splitShard("bad-split", "shardId-000000000009", half),
      hourglassError("ValidationError", "ResourceNotFoundException"),
    );
    await assert.rejects(
      service.splitShard("nope", "shardId-000000000000", half),
      hourglassError("NotFound", "ResourceNotFoundException"),
    );
    assert.deepEqual(await service.describeStream("bad-split"), before);
    // The last key of the range is a valid split point: the upper child gets one key.
    await service.splitShard("bad-split", "shardId-000000000000", maxKey.toString());
    const d = await service.describeStream("bad-split");
    assert.equal(d.Shards[2]!.HashKeyRange.StartingHashKey, maxKey.toString());
    assert.equal(d.Shards[2]!.HashKeyRange.EndingHashKey, maxKey.toString());
    // A closed shard cannot be split or merged again.
    await assert.rejects(
      service.splitShard("bad-split", "shardId-000000000000", half),
      hourglassError("ValidationError", "InvalidArgumentException", /already been merged or split/),
    );
    // Two reshards at once: the second is refused while the stream is UPDATING.
    const results = await Promise.allSettled([
      service.splitShard("bad-split", "shardId-000000000001", half),
      service.splitShard("bad-split", "shardId-000000000002", "1"),
    ]);
    assert.equal(results[0].status, "fulfilled");
    assert.equal(results[1].status, "rejected");
    assert.ok(
      hourglassError("Conflict", "ResourceInUseException")((results[1] as PromiseRejectedResult).reason),
    );
  });

  it("merges two adjacent shards into one child with both parents; refuses non-adjacent ones", async () => {
    await service.createStream("merge", 3);
    await service.putRecords("merge", records(60, "m"));
    await assert.rejects(
      service.mergeShards("merge", "shardId-000000000000", "shardId-000000000002"),
      hourglassError("ValidationError", "InvalidArgumentException", /not adjacent/),
    );
    await assert.rejects(
      service.mergeShards("merge", "shardId-000000000001", "shardId-000000000001"),
      hourglassError("ValidationError", "InvalidArgumentException"),
    );
    await service.mergeShards("merge", "shardId-000000000002", "shardId-000000000001");
    const d = await service.describeStream("merge");
    const child = d.Shards[3]!;
    assert.equal(child.ShardId, "shardId-000000000003");
    assert.equal(child.ParentShardId, "shardId-000000000002");
    assert.equal(child.AdjacentParentShardId, "shardId-000000000001");
    assert.equal(child.HashKeyRange.StartingHashKey, d.Shards[1]!.HashKeyRange.StartingHashKey);
    assert.equal(child.HashKeyRange.EndingHashKey, maxKey.toString());
    const it1 = await service.getShardIterator("merge", "shardId-000000000001", "LATEST");
    assert.deepEqual((await service.getRecords(it1)).ChildShards, [
      {
        ShardId: "shardId-000000000003",
        ParentShards: ["shardId-000000000002", "shardId-000000000001"],
        HashKeyRange: child.HashKeyRange,
      },
    ]);
    await assert.rejects(
      service.mergeShards("merge", "shardId-000000000000", "shardId-000000000001"),
      hourglassError("ValidationError", "InvalidArgumentException", /already been merged or split/),
    );
    await service.putRecords("merge", records(60, "n"));
    assert.equal((await readLineage(service, "merge")).length, 120);
  });

  it("UpdateShardCount 2 → 4 → 3 gives even ranges through splits and merges, within Kinesis's limits", async () => {
    await service.createStream("count", 2);
    await service.putRecords("count", records(100, "x"));
    assert.deepEqual(await service.updateShardCount("count", 4), {
      StreamName: "count",
      StreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/count",
      CurrentShardCount: 2,
      TargetShardCount: 4,
    });
    await service.putRecords("count", records(100, "y"));
    assert.equal((await service.updateShardCount("count", 3)).TargetShardCount, 3);
    await service.putRecords("count", records(100, "z"));
    const open = await service.listShards("count", { Type: "AT_LATEST" });
    const even = [0n, 1n, 2n].map((i) => (i * ((maxKey + 1n) / 3n)).toString());
    assert.deepEqual(
      open.map((s) => s.HashKeyRange.StartingHashKey).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
      even,
    );
    const all = await readLineage(service, "count");
    assert.equal(all.length, 300);
    // Per key, the order of puts is the order of reads following the lineage.
    const byKey = new Map<string, string[]>();
    for (const r of all) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.data[0]!]);
    for (const [key, letters] of byKey) assert.deepEqual(letters, ["x", "y", "z"], key);

    const limit = hourglassError("ValidationError", "LimitExceededException");
    await assert.rejects(service.updateShardCount("count", 7), limit); // more than double
    await assert.rejects(service.updateShardCount("count", 1), limit); // less than half
    await assert.rejects(
      service.updateShardCount("count", 0),
      hourglassError("ValidationError", "InvalidArgumentException"),
    );
    await service.createStream("count-big", 40);
    await assert.rejects(service.updateShardCount("count-big", 65), limit); // past the shard limit
    // Ten changes a rolling 24 hours.
    for (let i = 0; i < 8; i++) await service.updateShardCount("count", i % 2 === 0 ? 4 : 3);
    await assert.rejects(
      service.updateShardCount("count", 4),
      hourglassError("ValidationError", "LimitExceededException", /10 times/),
    );
  });

  it("keeps the lineage across a restart; a reshard cut before stream.json changed leaves the old layout", async () => {
    await service.createStream("durable", 2);
    await service.putRecords("durable", records(40, "p"));
    await service.updateShardCount("durable", 3);
    await service.putRecords("durable", records(40, "q"));
    const before = await service.describeStream("durable");
    await service.close();
    // A crash after the children's folders were made, before stream.json named them.
    const orphan = path.join(
      dir,
      "streams",
      "durable",
      `shardId-${String(before.Shards.length).padStart(12, "0")}`,
    );
    fs.mkdirSync(orphan);
    ({ service } = await openTestService({ dir }));
    assert.deepEqual(await service.describeStream("durable"), before);
    assert.ok(!fs.existsSync(orphan), "the cut reshard's folder is removed");
    assert.ok(service.recovery.some((note) => note.file === orphan));
    assert.equal((await readLineage(service, "durable")).length, 80);
    await service.putRecords("durable", records(10, "r"));
    assert.equal((await readLineage(service, "durable")).length, 90);
  });

  it("routes records put before a reshard but written after it to the children", async () => {
    await service.createStream("race", 1);
    // The split takes its turn on the write queue first; the put was framed for the parent before.
    const [, put] = await Promise.all([
      service.splitShard("race", "shardId-000000000000", half),
      service.putRecords("race", records(200, "s")),
    ]);
    assert.equal(put.FailedRecordCount, 0);
    const all = await readLineage(service, "race");
    assert.equal(all.length, 200);
    const stats = await service.getShardStats("race");
    assert.deepEqual(
      stats.map((s) => s.RecordCount),
      [0, ...stats.slice(1).map((s) => s.RecordCount)],
      "the closed parent took none",
    );
    assert.equal(
      stats.reduce((n, s) => n + s.RecordCount, 0),
      200,
    );
  });
});

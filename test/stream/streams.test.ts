import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { openStreamService, type StreamService } from "../../src/stream/index.js";
import { hourglassError, openTestService, records, removeDir, type TestClock } from "./helpers.js";

describe("streams: create, list, describe, delete", () => {
  let service: StreamService;
  let dir: string;
  let clock: TestClock;
  before(async () => {
    ({ service, dir, clock } = await openTestService());
  });
  after(async () => {
    await service.close();
    removeDir(dir);
  });

  it("creates a stream and describes it as Kinesis does", async () => {
    const created = await service.createStream("metrics", 3);
    const described = await service.describeStream("metrics");
    assert.deepEqual(created, described);
    assert.equal(described.StreamName, "metrics");
    assert.equal(described.StreamARN, "arn:aws:kinesis:us-east-1:000000000000:stream/metrics");
    assert.equal(described.StreamStatus, "ACTIVE");
    assert.equal(described.RetentionPeriodHours, 24);
    assert.equal(described.StreamCreationTimestamp.getTime(), clock.nowMs);
    assert.equal(described.HasMoreShards, false);
    assert.deepEqual(
      described.Shards.map((shard) => shard.ShardId),
      ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"],
    );
    assert.equal(described.Shards[0]!.HashKeyRange.StartingHashKey, "0");
    assert.equal(described.Shards[2]!.HashKeyRange.EndingHashKey, ((1n << 128n) - 1n).toString());
    assert.match(described.Shards[1]!.SequenceNumberRange.StartingSequenceNumber, /^\d{56}$/);
    assert.ok(fs.existsSync(path.join(dir, "streams", "metrics", "stream.json")));
  });

  it("lists streams by name", async () => {
    await service.createStream("a.b_c-1", 1, { retentionHours: 48 });
    assert.deepEqual(await service.listStreams(), ["a.b_c-1", "metrics"]);
    assert.equal((await service.describeStream("a.b_c-1")).RetentionPeriodHours, 48);
  });

  it("refuses to create a stream that exists", async () => {
    await assert.rejects(
      service.createStream("metrics", 1),
      hourglassError("Conflict", "ResourceInUseException"),
    );
  });

  it("refuses bad stream names", async () => {
    for (const bad of ["", "a".repeat(129), "has space", "slash/name", "ünïcode", ".", "..", "~tmp"]) {
      await assert.rejects(
        service.createStream(bad, 1),
        hourglassError("ValidationError", undefined, /stream name/),
        bad,
      );
    }
    await assert.rejects(service.describeStream("bad name"), hourglassError("ValidationError"));
    await service.createStream("a".repeat(128), 1);
    await service.deleteStream("a".repeat(128));
  });

  it("refuses bad shard counts and retention periods", async () => {
    for (const bad of [0, -1, 1.5, 65, Number.NaN]) {
      await assert.rejects(
        service.createStream("shards", bad),
        hourglassError("ValidationError", undefined, /shard count/),
      );
    }
    for (const bad of [23, 8761, 24.5]) {
      await assert.rejects(
        service.createStream("retention", 1, { retentionHours: bad }),
        hourglassError("ValidationError", undefined, /retention/),
      );
      await assert.rejects(service.updateRetention("metrics", bad), hourglassError("ValidationError"));
    }
    assert.deepEqual(await service.listStreams(), ["a.b_c-1", "metrics"]);
  });

  it("says NotFound for unknown streams and shards", async () => {
    const missing = hourglassError("NotFound", "ResourceNotFoundException");
    await assert.rejects(service.describeStream("nope"), missing);
    await assert.rejects(service.deleteStream("nope"), missing);
    await assert.rejects(service.updateRetention("nope", 48), missing);
    await assert.rejects(service.putRecord("nope", { Data: Buffer.from("x"), PartitionKey: "k" }), missing);
    await assert.rejects(service.putRecords("nope", records(1)), missing);
    await assert.rejects(service.getShardIterator("nope", "shardId-000000000000", "LATEST"), missing);
    await assert.rejects(service.getShardIterator("metrics", "shardId-000000000003", "LATEST"), missing);
    await assert.rejects(service.getShardStats("nope"), missing);
    await assert.rejects(service.waitForRecords("nope", "shardId-000000000000", null, 10), missing);
    await assert.rejects(
      service.getShardIterator("metrics", "shard-0", "LATEST"),
      hourglassError("ValidationError", undefined, /shard id/),
    );
  });

  it("updates retention and keeps it across a reopen", async () => {
    await service.updateRetention("metrics", 168);
    assert.equal((await service.describeStream("metrics")).RetentionPeriodHours, 168);
  });

  it("deletes a stream with its files, after which its name is free again", async () => {
    await service.putRecords("a.b_c-1", records(5));
    const iterator = await service.getShardIterator("a.b_c-1", "shardId-000000000000", "TRIM_HORIZON");
    await service.deleteStream("a.b_c-1");
    assert.deepEqual(await service.listStreams(), ["metrics"]);
    assert.ok(!fs.existsSync(path.join(dir, "streams", "a.b_c-1")));
    await assert.rejects(
      service.getRecords(iterator),
      hourglassError("NotFound", "ResourceNotFoundException"),
    );
    // Re-created under the same name: an iterator of the old stream must not read the new one.
    clock.advance(1);
    await service.createStream("a.b_c-1", 1);
    await service.putRecords("a.b_c-1", records(1));
    await assert.rejects(service.getRecords(iterator), hourglassError("NotFound"));
    assert.deepEqual(fs.readdirSync(path.join(dir, "streams")).sort(), ["a.b_c-1", "metrics"]);
  });

  it("keeps streams across close and reopen, and refuses calls after close", async () => {
    await service.close();
    await assert.rejects(service.listStreams(), hourglassError("Conflict"));
    await assert.rejects(service.putRecords("metrics", records(1)), hourglassError("Conflict"));
    service = await openStreamService({ dir, clock: clock.now, sweepIntervalMs: 0 });
    assert.deepEqual(await service.listStreams(), ["a.b_c-1", "metrics"]);
    const metrics = await service.describeStream("metrics");
    assert.equal(metrics.RetentionPeriodHours, 168);
    assert.equal(metrics.Shards.length, 3);
  });

  it("refuses bad options", async () => {
    const bad = [
      { dir: "" },
      { dir, syncPolicy: "sometimes" as "none" },
      { dir, segmentBytes: 0 },
      { dir, segmentBytes: 1.5 },
      { dir, sweepIntervalMs: -1 },
    ];
    for (const options of bad) {
      await assert.rejects(
        openStreamService(options),
        hourglassError("ValidationError"),
        JSON.stringify(options),
      );
    }
  });

  it("lets only one service at a time open a state folder", async () => {
    await assert.rejects(openStreamService({ dir }), hourglassError("Conflict", undefined, /already open/));
  });
});

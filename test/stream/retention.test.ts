import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { openStreamService, type StreamService } from "../../src/stream/index.js";
import {
  openTestService,
  readAll,
  records,
  removeDir,
  type TestClock,
  text,
  withDeadline,
} from "./helpers.js";

const shard0 = "shardId-000000000000";
const hourMs = 3_600_000;

describe("retention", () => {
  let service: StreamService;
  let dir: string;
  let clock: TestClock;
  const segmentFiles = () =>
    fs.readdirSync(path.join(dir, "streams", "logs", shard0)).filter((name) => name.endsWith(".seg"));

  before(async () => {
    ({ service, dir, clock } = await openTestService({ segmentBytes: 500 }));
    await service.createStream("logs", 1);
  });
  after(async () => {
    await service.close();
    removeDir(dir);
  });

  it("hides records older than retention from readers, then deletes their segment files", async () => {
    const start = clock.nowMs;
    // Ten batches one hour apart, 20 records of ~31 bytes each: a 500-byte segment per batch.
    for (let hour = 0; hour < 10; hour++) {
      await service.putRecords("logs", records(20, `h${hour}-`));
      clock.advance(hourMs);
    }
    const filesBefore = segmentFiles().length;
    assert.ok(filesBefore >= 10, `${filesBefore} segment files`);
    assert.equal((await service.getShardStats("logs"))[0]!.RecordCount, 200);

    // Now = start + 10 h. Move to start + 24 h + 3.5 h: hours 0..3 are past retention.
    clock.nowMs = start + 27.5 * hourMs;
    const iterator = await service.getShardIterator("logs", shard0, "TRIM_HORIZON");
    const visible = await readAll(service, iterator);
    assert.equal(visible.length, 120);
    assert.equal(text(visible[0]!.Data), "h4-0", "TRIM_HORIZON starts at the oldest retained record");
    assert.equal((await service.getShardStats("logs"))[0]!.RecordCount, 120);

    const trimmed: number[] = [];
    service.on("trimmed", (event) => trimmed.push(event.segmentsDeleted));
    const deleted = await service.sweepRetention();
    assert.ok(deleted > 0);
    assert.deepEqual(trimmed, [deleted]);
    assert.equal(segmentFiles().length, filesBefore - deleted);
    // What is left still reads the same, and nothing retained was deleted.
    const after = await readAll(service, await service.getShardIterator("logs", shard0, "TRIM_HORIZON"));
    assert.deepEqual(
      after.map((record) => record.SequenceNumber),
      visible.map((record) => record.SequenceNumber),
    );
    // An old position (an iterator taken before the sweep) resumes at the trim horizon.
    const old = await readAll(
      service,
      await service.getShardIterator("logs", shard0, "AT_SEQUENCE_NUMBER", {
        StartingSequenceNumber: "49000000000000000000000000000000000000000000000000000000",
      }),
    );
    assert.equal(text(old[0]!.Data), "h4-0");
  });

  it("deletes a fully expired tail without reusing its sequence numbers", async () => {
    const stats = (await service.getShardStats("logs"))[0]!;
    clock.advance(48 * hourMs);
    await service.sweepRetention();
    assert.equal(segmentFiles().length, 1, "only an empty tail is left");
    const emptyStats = (await service.getShardStats("logs"))[0]!;
    assert.equal(emptyStats.RecordCount, 0);
    assert.equal(emptyStats.FirstSequenceNumber, null);
    assert.deepEqual(
      await readAll(service, await service.getShardIterator("logs", shard0, "TRIM_HORIZON")),
      [],
    );
    // Reopen: the counter survives in the tail's file name.
    await service.close();
    service = await openStreamService({ dir, clock: clock.now, sweepIntervalMs: 0, segmentBytes: 500 });
    const put = await service.putRecord("logs", { Data: Buffer.from("fresh"), PartitionKey: "k" });
    assert.ok(put.SequenceNumber > stats.LastSequenceNumber!);
    const all = await readAll(service, await service.getShardIterator("logs", shard0, "TRIM_HORIZON"));
    assert.deepEqual(
      all.map((record) => text(record.Data)),
      ["fresh"],
    );
  });

  it("applies a longer retention at once, and sweeps on open", async () => {
    await service.createStream("week", 1, { retentionHours: 24 });
    await service.putRecords("week", records(50, "w"));
    clock.advance(30 * hourMs);
    await service.updateRetention("week", 168);
    assert.equal((await service.getShardStats("week"))[0]!.RecordCount, 50);
    await service.updateRetention("week", 24);
    assert.equal((await service.getShardStats("week"))[0]!.RecordCount, 0);
    await service.putRecords("week", records(50, "x"));
    clock.advance(30 * hourMs);
    await service.close();
    const weekFiles = () =>
      fs.readdirSync(path.join(dir, "streams", "week", shard0)).filter((n) => n.endsWith(".seg"));
    assert.ok(weekFiles().length > 1);
    service = await openStreamService({ dir, clock: clock.now, sweepIntervalMs: 0, segmentBytes: 500 });
    assert.equal(weekFiles().length, 1, "the sweep on open deleted the expired segments");
  });

  it("runs the sweep on its timer", async () => {
    await service.close();
    service = await openStreamService({ dir, clock: clock.now, sweepIntervalMs: 5, segmentBytes: 500 });
    await service.putRecords("logs", records(100, "timer"));
    await service.putRecords("logs", records(10, "timer2"));
    clock.advance(25 * hourMs);
    const trimmed = await withDeadline(
      new Promise((resolve) => service.on("trimmed", resolve)),
      5000,
      "sweep timer",
    );
    assert.ok(trimmed);
  });
});

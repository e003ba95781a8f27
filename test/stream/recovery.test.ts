import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { encodeFrame } from "../../src/stream/frame.js";
import { openStreamService, type StreamService } from "../../src/stream/index.js";
import { hourglassError, readAll, records, removeDir, TestClock, tempDir, text } from "./helpers.js";

const shard0 = "shardId-000000000000";

describe("recovery on open", () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) removeDir(dir);
  });

  async function setUp(segmentBytes = 1024) {
    const dir = tempDir();
    dirs.push(dir);
    const clock = new TestClock();
    const open = () => openStreamService({ dir, clock: clock.now, sweepIntervalMs: 0, segmentBytes });
    const service = await open();
    await service.createStream("s", 1);
    const shardDir = path.join(dir, "streams", "s", shard0);
    const files = (suffix: string) =>
      fs
        .readdirSync(shardDir)
        .filter((name) => name.endsWith(suffix))
        .sort();
    return { dir, clock, open, service, shardDir, files };
  }

  const readShard = async (service: StreamService) =>
    (await readAll(service, await service.getShardIterator("s", shard0, "TRIM_HORIZON"))).map((record) => ({
      seq: record.SequenceNumber,
      data: text(record.Data),
      key: record.PartitionKey,
    }));

  it("holds every record across close and reopen, with index files or without", async () => {
    const { service, open, files, shardDir, clock } = await setUp();
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      await service.putRecords("s", records(30, `b${i}-`));
    }
    const before = await readShard(service);
    assert.equal(before.length, 600);
    await service.close();
    const segments = files(".seg");
    assert.ok(segments.length > 5);
    assert.equal(files(".idx").length, segments.length - 1, "every sealed segment has an index file");

    let reopened = await open();
    assert.deepEqual(reopened.recovery, []);
    assert.deepEqual(await readShard(reopened), before);
    const fromTime = await reopened.getShardIterator("s", shard0, "AT_TIMESTAMP", {
      Timestamp: new Date(clock.nowMs),
    });
    assert.equal(text((await reopened.getRecords(fromTime, 1)).Records[0]!.Data), "b19-0");
    await reopened.close();

    // Index files are derived data: damaged or missing ones are rebuilt by scanning the segment.
    const idx = files(".idx");
    fs.writeFileSync(path.join(shardDir, idx[0]!), "{ not json");
    fs.rmSync(path.join(shardDir, idx[1]!));
    fs.writeFileSync(path.join(shardDir, idx[2]!), JSON.stringify({ version: 1, firstOffset: 0 }));
    reopened = await open();
    assert.deepEqual(await readShard(reopened), before);
    const put = await reopened.putRecord("s", { Data: Buffer.from("after"), PartitionKey: "k" });
    assert.ok(put.SequenceNumber > before.at(-1)!.seq);
    await reopened.close();
    assert.equal(files(".idx").length, files(".seg").length - 1);
  });

  it("opens sealed segments from their index files, and reports damage found later when reading", async () => {
    const { service, open, files, shardDir } = await setUp();
    for (let i = 0; i < 10; i++) await service.putRecords("s", records(30, `d${i}-`));
    await service.close();
    const firstSegment = path.join(shardDir, files(".seg")[0]!);
    const bytes = fs.readFileSync(firstSegment);
    bytes[40] ^= 0xff; // inside the second frame; the size is unchanged, so the index file still matches
    fs.writeFileSync(firstSegment, bytes);
    const reopened = await open();
    assert.deepEqual(
      reopened.recovery,
      [],
      "a sealed segment with a matching index file is not scanned on open",
    );
    const iterator = await reopened.getShardIterator("s", shard0, "TRIM_HORIZON");
    await assert.rejects(
      reopened.getRecords(iterator),
      hourglassError("Internal", undefined, /damaged segment/),
    );
    await reopened.close();
  });

  it("keeps records across a reopen with syncPolicy none too", async () => {
    const dir = tempDir();
    dirs.push(dir);
    let service = await openStreamService({ dir, syncPolicy: "none", sweepIntervalMs: 0, segmentBytes: 512 });
    await service.createStream("s", 1);
    for (let i = 0; i < 5; i++) await service.putRecords("s", records(20, `n${i}-`));
    const before = await readShard(service);
    await service.close();
    service = await openStreamService({ dir, syncPolicy: "none", sweepIntervalMs: 0, segmentBytes: 512 });
    assert.equal(before.length, 100);
    assert.deepEqual(await readShard(service), before);
    await service.close();
  });

  it("cuts off a torn frame at the tail and goes on from the last whole one", async () => {
    const { service, open, files, shardDir } = await setUp(1 << 20);
    await service.putRecords("s", records(10, "t"));
    const before = await readShard(service);
    await service.close();
    const tail = path.join(shardDir, files(".seg").at(-1)!);
    const goodBytes = fs.statSync(tail).size;
    // A frame the crash interrupted: its first 17 bytes only.
    const frame = encodeFrame(10, Date.now(), Buffer.from("k"), Buffer.from("lost"));
    fs.appendFileSync(tail, frame.subarray(0, 17));

    const reopened = await open();
    assert.equal(reopened.recovery.length, 1);
    assert.equal(reopened.recovery[0]!.truncatedBytes, 17);
    assert.match(reopened.recovery[0]!.reason, /runs past the end/);
    assert.equal(fs.statSync(tail).size, goodBytes);
    assert.deepEqual(await readShard(reopened), before);
    const put = await reopened.putRecord("s", { Data: Buffer.from("next"), PartitionKey: "k" });
    assert.equal(put.SequenceNumber, before.at(-1)!.seq.slice(0, -2) + "10", "offset 10 is given again");
    assert.deepEqual((await readShard(reopened)).map((record) => record.data).slice(-2), ["t9", "next"]);
    await reopened.close();
  });

  it("cuts off a tail frame whose checksum does not match, and garbage after it", async () => {
    const { service, open, files, shardDir } = await setUp(1 << 20);
    await service.putRecords("s", records(5, "c"));
    await service.close();
    const tail = path.join(shardDir, files(".seg").at(-1)!);
    const bytes = fs.readFileSync(tail);
    const lastFrameBytes = 8 + 14 + "key-4".length + "c4".length;
    bytes[bytes.length - 1] ^= 0xff; // flip a bit in the last frame's data
    fs.writeFileSync(tail, Buffer.concat([bytes, Buffer.from("garbage after the frame")]));

    const reopened = await open();
    assert.match(reopened.recovery[0]!.reason, /checksum/);
    assert.equal(fs.statSync(tail).size, bytes.length - lastFrameBytes);
    assert.deepEqual(
      (await readShard(reopened)).map((record) => record.data),
      ["c0", "c1", "c2", "c3"],
    );
    await reopened.close();
  });

  it("recovers a stream whose only segment was never written, and a half-made create", async () => {
    const { dir, service, open } = await setUp();
    await service.close();
    fs.mkdirSync(path.join(dir, "streams", "~creating-ghost"));
    const reopened = await open();
    assert.deepEqual(await reopened.listStreams(), ["s"]);
    assert.deepEqual(await readShard(reopened), []);
    assert.ok(!fs.existsSync(path.join(dir, "streams", "~creating-ghost")));
    await reopened.close();
  });

  it("refuses a state folder open elsewhere and takes over a lock file nobody holds", async () => {
    const { dir, service, open } = await setUp();
    await assert.rejects(
      open(),
      hourglassError("Conflict", undefined, /stream state .* already open in this process/),
    );
    await service.close();
    const lock = path.join(dir, "streams.lock");
    // A file naming a live process (our parent) but no lock behind it: what a killed owner leaves
    // when its pid was reused. The kernel's lock is free, so the file is taken over (Linux); the
    // cross-process refusal is tested in test/process-lock.test.ts.
    fs.writeFileSync(lock, `${process.ppid}\n`);
    if (process.platform !== "linux") fs.rmSync(lock);
    const reopened = await open();
    assert.equal(fs.readFileSync(lock, "utf8"), `${process.pid}\n`);
    await reopened.close();
    assert.ok(!fs.existsSync(lock), "close releases the lock");
  });
});

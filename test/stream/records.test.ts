import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseSequenceNumber, type StreamService, streamLimits } from "../../src/stream/index.js";
import {
  hourglassError,
  openTestService,
  readAll,
  records,
  removeDir,
  type TestClock,
  text,
} from "./helpers.js";

const shard0 = "shardId-000000000000";

describe("records: put, iterate, get", () => {
  let service: StreamService;
  let dir: string;
  let clock: TestClock;
  before(async () => {
    ({ service, dir, clock } = await openTestService({ segmentBytes: 2048 }));
    await service.createStream("one", 1);
    await service.createStream("four", 4);
  });
  after(async () => {
    await service.close();
    removeDir(dir);
  });

  it("gives increasing fixed-width sequence numbers whose string order is numeric order", async () => {
    const seen: string[] = [];
    for (let call = 0; call < 12; call++) {
      const result = await service.putRecords("one", records(100, `c${call}-`));
      assert.equal(result.FailedRecordCount, 0);
      for (const entry of result.Records) {
        assert.ok("SequenceNumber" in entry);
        assert.equal(entry.ShardId, shard0);
        seen.push(entry.SequenceNumber);
      }
    }
    const single = await service.putRecord("one", { Data: Buffer.from("last"), PartitionKey: "k" });
    seen.push(single.SequenceNumber);
    assert.ok(seen.every((seq) => /^\d{56}$/.test(seq)));
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i - 1]! < seen[i]!, `${seen[i - 1]} < ${seen[i]}`);
      assert.ok(BigInt(seen[i - 1]!) < BigInt(seen[i]!));
    }
    // 1,201 records of ~30 bytes in 2 KiB segments: the log spans many segment files.
    const all = await readAll(service, await service.getShardIterator("one", shard0, "TRIM_HORIZON"));
    assert.deepEqual(
      all.map((record) => record.SequenceNumber),
      seen,
    );
    assert.equal(text(all[0]!.Data), "c0-0");
    assert.equal(all[0]!.PartitionKey, "key-0");
    assert.equal(text(all.at(-1)!.Data), "last");
  });

  it("pages GetRecords by limit and returns the next iterator every time", async () => {
    let iterator = await service.getShardIterator("one", shard0, "TRIM_HORIZON");
    const page1 = await service.getRecords(iterator, 7);
    assert.equal(page1.Records.length, 7);
    assert.ok(page1.NextShardIterator);
    const page2 = await service.getRecords(page1.NextShardIterator!, 5);
    assert.deepEqual(
      page2.Records.map((record) => text(record.Data)),
      ["c0-7", "c0-8", "c0-9", "c0-10", "c0-11"],
    );
    // The same iterator can be used again (until it expires) and gives the same page.
    const again = await service.getRecords(page1.NextShardIterator!, 5);
    assert.deepEqual(again.Records, page2.Records);
    iterator = await service.getShardIterator("one", shard0, "LATEST");
    const empty = await service.getRecords(iterator);
    assert.deepEqual(empty.Records, []);
    assert.equal(empty.MillisBehindLatest, 0);
    assert.ok(empty.NextShardIterator);
  });

  it("supports all five iterator types", async () => {
    clock.advance(60_000);
    const before = clock.nowMs;
    const put = await service.putRecords("four", records(40, "t"));
    const onShard0 = put.Records.filter((entry) => "ShardId" in entry && entry.ShardId === shard0);
    const seqs = onShard0.map((entry) => ("SequenceNumber" in entry ? entry.SequenceNumber : ""));
    assert.ok(seqs.length >= 3, "the 40 keys spread over the 4 shards");
    clock.advance(60_000);
    const later = await service.putRecord("four", { Data: Buffer.from("later"), PartitionKey: "a" }); // "a" → shard 0
    assert.equal(later.ShardId, shard0);

    const latest = await service.getShardIterator("four", shard0, "LATEST");
    const trim = await service.getShardIterator("four", shard0, "TRIM_HORIZON");
    const at = await service.getShardIterator("four", shard0, "AT_SEQUENCE_NUMBER", {
      StartingSequenceNumber: seqs[1],
    });
    const afterSeq = await service.getShardIterator("four", shard0, "AFTER_SEQUENCE_NUMBER", {
      StartingSequenceNumber: seqs[1],
    });
    const atTime = await service.getShardIterator("four", shard0, "AT_TIMESTAMP", {
      Timestamp: new Date(before + 1),
    });
    const atStart = await service.getShardIterator("four", shard0, "AT_TIMESTAMP", {
      Timestamp: new Date(before),
    });
    const future = await service.getShardIterator("four", shard0, "AT_TIMESTAMP", {
      Timestamp: new Date(before + 1e9),
    });

    const seqOf = async (iterator: string) =>
      (await readAll(service, iterator)).map((record) => record.SequenceNumber);
    assert.deepEqual(await seqOf(trim), [...seqs, later.SequenceNumber]);
    assert.deepEqual(await seqOf(at), [...seqs.slice(1), later.SequenceNumber]);
    assert.deepEqual(await seqOf(afterSeq), [...seqs.slice(2), later.SequenceNumber]);
    assert.deepEqual(await seqOf(atTime), [later.SequenceNumber]);
    assert.deepEqual(await seqOf(atStart), [...seqs, later.SequenceNumber]);
    assert.deepEqual(await seqOf(future), []);
    assert.deepEqual(await seqOf(latest), []);
    const next = await service.putRecord("four", { Data: Buffer.from("next"), PartitionKey: "a" });
    assert.deepEqual(await seqOf(latest), [next.SequenceNumber]);
  });

  it("finds AT_TIMESTAMP positions through the sparse index of a long shard", async () => {
    const stamps: { ms: number; seq: string }[] = [];
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      const result = await service.putRecords("one", records(50, `ts${i}-`));
      const first = result.Records[0]!;
      assert.ok("SequenceNumber" in first);
      stamps.push({ ms: clock.nowMs, seq: first.SequenceNumber });
    }
    for (const { ms, seq } of [stamps[0]!, stamps[13]!, stamps[29]!]) {
      const iterator = await service.getShardIterator("one", shard0, "AT_TIMESTAMP", {
        Timestamp: new Date(ms),
      });
      const page = await service.getRecords(iterator, 1);
      assert.equal(page.Records[0]!.SequenceNumber, seq);
      assert.equal(page.Records[0]!.ApproximateArrivalTimestamp.getTime(), ms);
    }
  });

  it("reports MillisBehindLatest from the newest record's arrival, 0 when caught up", async () => {
    await service.createStream("lag", 1);
    clock.advance(1000);
    await service.putRecords("lag", records(10, "old"));
    clock.advance(5000);
    await service.putRecords("lag", records(10, "new"));
    const iterator = await service.getShardIterator("lag", shard0, "TRIM_HORIZON");
    const first = await service.getRecords(iterator, 4);
    assert.equal(first.MillisBehindLatest, 5000);
    const second = await service.getRecords(first.NextShardIterator!, 10);
    assert.equal(text(second.Records.at(-1)!.Data), "new3");
    assert.equal(second.MillisBehindLatest, 0, "the last record returned arrived with the newest");
    const third = await service.getRecords(second.NextShardIterator!);
    assert.equal(third.Records.length, 6);
    assert.equal(third.MillisBehindLatest, 0);
    const stats = await service.getShardStats("lag");
    assert.equal(stats[0]!.RecordCount, 20);
    assert.equal(stats[0]!.LastSequenceNumber, third.Records.at(-1)!.SequenceNumber);
    assert.equal(stats[0]!.FirstSequenceNumber, first.Records[0]!.SequenceNumber);
    assert.equal(stats[0]!.LastArrivalTimestamp!.getTime(), clock.nowMs);
    // Lag in records of a consumer whose checkpoint is the 4th record: 16.
    const checkpoint = parseSequenceNumber(first.Records[3]!.SequenceNumber).offset;
    assert.equal(parseSequenceNumber(stats[0]!.LastSequenceNumber!).offset - checkpoint, 16);
  });

  it("stops a GetRecords page at 10 MiB", async () => {
    await service.createStream("big", 1);
    const data = Buffer.alloc(1_000_000, 7);
    for (let i = 0; i < 3; i++) {
      await service.putRecords(
        "big",
        Array.from({ length: 4 }, () => ({ Data: data, PartitionKey: "p" })),
      );
    }
    const page = await service.getRecords(await service.getShardIterator("big", shard0, "TRIM_HORIZON"));
    assert.equal(page.Records.length, 10);
    assert.ok(page.MillisBehindLatest === 0);
    const rest = await service.getRecords(page.NextShardIterator!);
    assert.equal(rest.Records.length, 2);
    assert.deepEqual(rest.Records[1]!.Data, data);
  });

  it("reports bad records in PutRecords one by one and stores the rest", async () => {
    await service.createStream("mixed", 1);
    const result = await service.putRecords("mixed", [
      { Data: Buffer.from("ok1"), PartitionKey: "k" },
      { Data: Buffer.from("x"), PartitionKey: "" },
      { Data: Buffer.from("x"), PartitionKey: "k".repeat(257) },
      { Data: Buffer.alloc(streamLimits.maxRecordBytes), PartitionKey: "k" },
      { Data: "not bytes" as unknown as Uint8Array, PartitionKey: "k" },
      { Data: Buffer.from("x"), PartitionKey: "k", ExplicitHashKey: "x" },
      null as unknown as { Data: Uint8Array; PartitionKey: string },
      { Data: Buffer.alloc(streamLimits.maxRecordBytes - 1), PartitionKey: "k" },
      { Data: Buffer.from("ok2"), PartitionKey: "🙂".repeat(256) },
    ]);
    assert.equal(result.FailedRecordCount, 6);
    const reasons = result.Records.map((entry) => ("ErrorCode" in entry ? entry.ErrorMessage : "ok"));
    assert.equal(reasons[0], "ok");
    assert.match(reasons[1]!, /PartitionKey must be 1\.\.256 characters, got 0/);
    assert.match(reasons[2]!, /got 257/);
    assert.match(reasons[3]!, /1048577 bytes/);
    assert.match(reasons[4]!, /Data must be bytes/);
    assert.match(reasons[5]!, /ExplicitHashKey/);
    assert.match(reasons[6]!, /must be an object/);
    assert.equal(reasons[7], "ok", "exactly 1 MiB with the key counts as fitting");
    assert.equal(reasons[8], "ok", "256 characters, even of 4 UTF-8 bytes each");
    for (const entry of result.Records)
      if ("ErrorCode" in entry) assert.equal(entry.ErrorCode, "InvalidArgumentException");
    const stored = await readAll(service, await service.getShardIterator("mixed", shard0, "TRIM_HORIZON"));
    assert.deepEqual(
      stored.map((record) => record.Data.length),
      [3, streamLimits.maxRecordBytes - 1, 3],
    );
  });

  it("refuses bad calls whole", async () => {
    const invalid = hourglassError("ValidationError");
    await assert.rejects(
      service.putRecords("mixed", records(501)),
      hourglassError("ValidationError", undefined, /1\.\.500/),
    );
    await assert.rejects(service.putRecords("mixed", []), invalid);
    await assert.rejects(service.putRecords("mixed", "x" as unknown as []), invalid);
    // Six records of 1 MiB less a little each: every one fits, the call (over 5 MiB) does not.
    const nearlyMiB = Buffer.alloc(streamLimits.maxRecordBytes - 10);
    await assert.rejects(
      service.putRecords(
        "mixed",
        Array.from({ length: 6 }, () => ({ Data: nearlyMiB, PartitionKey: "k" })),
      ),
      hourglassError("ValidationError", undefined, /more than 5242880/),
    );
    const bad = hourglassError("ValidationError", "InvalidArgumentException");
    await assert.rejects(service.putRecord("mixed", { Data: Buffer.from("x"), PartitionKey: "" }), bad);
    await assert.rejects(
      service.putRecord("mixed", { Data: Buffer.from("x"), PartitionKey: "k".repeat(257) }),
      bad,
    );
    await assert.rejects(
      service.putRecord("mixed", { Data: Buffer.alloc(streamLimits.maxRecordBytes), PartitionKey: "k" }),
      hourglassError("ValidationError", "InvalidArgumentException", /more than 1048576/),
    );
    const stats = await service.getShardStats("mixed");
    assert.equal(stats[0]!.RecordCount, 3, "nothing of the refused calls was stored");
  });

  it("refuses bad iterators, sequence numbers, timestamps and limits", async () => {
    const badArg = hourglassError("ValidationError", "InvalidArgumentException");
    for (const garbage of [
      "",
      "not-an-iterator",
      Buffer.from('{"v":1}').toString("base64url"),
      "x".repeat(600),
    ]) {
      await assert.rejects(service.getRecords(garbage), badArg, garbage);
    }
    const iterator = await service.getShardIterator("one", shard0, "TRIM_HORIZON");
    for (const limit of [0, 10_001, 1.5, -3]) {
      await assert.rejects(
        service.getRecords(iterator, limit),
        hourglassError("ValidationError", undefined, /limit/),
      );
    }
    const four0 = await service.putRecord("four", { Data: Buffer.from("z"), PartitionKey: "a" });
    const atSeq = (StartingSequenceNumber?: string, shardId = shard0) =>
      service.getShardIterator("four", shardId, "AT_SEQUENCE_NUMBER", { StartingSequenceNumber });
    await assert.rejects(atSeq(), badArg);
    await assert.rejects(atSeq("12345"), badArg);
    await assert.rejects(
      atSeq(four0.SequenceNumber, "shardId-000000000001"),
      badArg,
      "another shard's number",
    );
    const beyond = four0.SequenceNumber.slice(0, -3) + "999";
    await assert.rejects(atSeq(beyond), badArg, "a number not given yet");
    await assert.rejects(
      service.getShardIterator("four", shard0, "AFTER_SEQUENCE_NUMBER", { StartingSequenceNumber: beyond }),
      badArg,
    );
    await assert.rejects(service.getShardIterator("four", shard0, "AT_TIMESTAMP"), badArg);
    await assert.rejects(
      service.getShardIterator("four", shard0, "AT_TIMESTAMP", { Timestamp: new Date(Number.NaN) }),
      badArg,
    );
    await assert.rejects(service.getShardIterator("four", shard0, "AT_SOMETHING" as "LATEST"), badArg);
  });

  it("expires shard iterators after 5 minutes", async () => {
    const iterator = await service.getShardIterator("one", shard0, "TRIM_HORIZON");
    clock.advance(streamLimits.shardIteratorTtlMs);
    const page = await service.getRecords(iterator, 1);
    assert.equal(page.Records.length, 1, "still valid at exactly 5 minutes");
    clock.advance(1);
    await assert.rejects(
      service.getRecords(iterator, 1),
      hourglassError("ValidationError", "ExpiredIteratorException", /expired/),
    );
    // The iterator a read hands back is good for 5 minutes from that read.
    await service.getRecords(page.NextShardIterator!, 1);
  });

  it("wakes a waiting consumer when records arrive, and times out otherwise", async () => {
    await service.createStream("wait", 2);
    assert.equal(await service.waitForRecords("wait", shard0, null, 20), false);
    const events: string[] = [];
    const off = service.on("records", (event) =>
      events.push(`${event.streamName}/${event.shardId}/${event.count}`),
    );
    const waiting = service.waitForRecords("wait", shard0, null, 10_000);
    const put = await service.putRecord("wait", { Data: Buffer.from("w"), PartitionKey: "a" });
    assert.equal(await waiting, true);
    assert.equal(await service.waitForRecords("wait", shard0, null, 10_000), true, "already there");
    const afterPut = service.waitForRecords("wait", shard0, put.SequenceNumber, 10_000);
    await service.putRecord("wait", { Data: Buffer.from("w"), PartitionKey: "abc" }); // shard 1 does not count
    await service.putRecord("wait", { Data: Buffer.from("w"), PartitionKey: "a" });
    assert.equal(await afterPut, true);
    off();
    assert.deepEqual(events, [
      "wait/shardId-000000000000/1",
      "wait/shardId-000000000001/1",
      "wait/shardId-000000000000/1",
    ]);
    await assert.rejects(
      service.waitForRecords("wait", shard0, "bad", 10),
      hourglassError("ValidationError", undefined, /sequence number/),
    );
    await assert.rejects(service.waitForRecords("wait", shard0, null, -1), hourglassError("ValidationError"));
  });

  it("keeps writing when an event listener throws", async () => {
    const warning = new Promise<Error>((resolve) => process.once("warning", resolve));
    const off = service.on("records", () => {
      throw new Error("listener bug");
    });
    const put = await service.putRecord("one", { Data: Buffer.from("still stored"), PartitionKey: "k" });
    off();
    assert.match((await warning).message, /listener bug/);
    const iterator = await service.getShardIterator("one", shard0, "AT_SEQUENCE_NUMBER", {
      StartingSequenceNumber: put.SequenceNumber,
    });
    assert.equal(text((await service.getRecords(iterator)).Records[0]!.Data), "still stored");
  });

  it("batches concurrent calls into shared writes, each acknowledged with its own numbers", async () => {
    await service.createStream("concurrent", 2);
    let writes = 0;
    const off = service.on("records", (event) => {
      if (event.streamName === "concurrent") writes++;
    });
    const calls = Array.from({ length: 40 }, (_, c) =>
      service.putRecords("concurrent", records(25, `c${c}-`)),
    );
    const results = await Promise.all(calls);
    const bySeq = new Map<string, string>();
    results.forEach((result, c) => {
      assert.equal(result.FailedRecordCount, 0);
      result.Records.forEach((entry, i) => {
        assert.ok("SequenceNumber" in entry);
        bySeq.set(entry.SequenceNumber, `c${c}-${i}`);
      });
    });
    assert.equal(bySeq.size, 1000);
    off();
    // Calls made together share one write (and one fsync) per shard instead of one each.
    assert.ok(writes <= 4, `${writes} writes for 40 calls`);
    let read = 0;
    for (const shardId of ["shardId-000000000000", "shardId-000000000001"]) {
      for (const record of await readAll(
        service,
        await service.getShardIterator("concurrent", shardId, "TRIM_HORIZON"),
      )) {
        assert.equal(text(record.Data), bySeq.get(record.SequenceNumber));
        read++;
      }
    }
    assert.equal(read, 1000);
  });
});

describe("records read in place: GetRecords' pages without copies", () => {
  let service: StreamService;
  let dir: string;
  before(async () => {
    // Large segments: a read takes 1 MiB of a segment at a time, and frames straddle those reads.
    ({ service, dir } = await openTestService({ segmentBytes: 64 * 1024 * 1024 }));
    await service.createStream("pages", 1);
  });
  after(async () => {
    await service.close();
    removeDir(dir);
  });

  /** Sizes around the 1 MiB read: small, a third of it (straddling reads), and the largest record. */
  const sizes = [10, 350_000, 350_000, 350_000, 350_000, 7, streamLimits.maxRecordBytes - 2, 3, 350_000, 1];
  const payload = (i: number, size: number): Buffer => Buffer.alloc(size, 0x61 + (i % 26));

  it("gives GetRecords' records, iterator and lag, with data views into the read buffers", async () => {
    const arrivals: number[] = [];
    const off = service.on("records", (event) => arrivals.push(event.arrivalMs));
    for (const [i, size] of sizes.entries()) {
      const put = await service.putRecords("pages", [{ Data: payload(i, size), PartitionKey: `k${i}` }]);
      assert.equal(put.FailedRecordCount, 0);
    }
    await service.putRecords(
      "pages",
      Array.from({ length: 400 }, (_, i) => ({ Data: Buffer.from(`small-${i}`), PartitionKey: "s" })),
    );
    off();
    const start = await service.getShardIterator("pages", shard0, "TRIM_HORIZON");
    const expected = await readAll(service, start, 5);
    assert.equal(expected.length, sizes.length + 400);
    for (const [i, size] of sizes.entries()) assert.deepEqual(expected[i]!.Data, payload(i, size));
    // The "records" event gives each commit's arrival time.
    assert.equal(arrivals.length, sizes.length + 1);
    assert.equal(arrivals.at(-1), expected.at(-1)!.ApproximateArrivalTimestamp.getTime());

    let iterator: string | null = start;
    const seen = [];
    for (let calls = 0; seen.length < expected.length; calls++) {
      assert.ok(calls < 100);
      const out = await service.getRecordPage(iterator!, 7);
      const same = await service.getRecords(iterator!, 7);
      assert.equal(out.NextShardIterator, same.NextShardIterator);
      assert.equal(out.MillisBehindLatest, same.MillisBehindLatest);
      assert.equal(out.page.count, same.Records.length);
      for (let i = 0; i < out.page.count; i++) {
        const record = out.page.record(i);
        assert.deepEqual(record, same.Records[i]);
        assert.equal(out.page.sequenceNumber(i), record.SequenceNumber);
        assert.equal(out.page.partitionKey(i), record.PartitionKey);
        assert.equal(out.page.arrivalMs(i), record.ApproximateArrivalTimestamp.getTime());
        assert.equal(out.page.offset(i), parseSequenceNumber(record.SequenceNumber).offset);
        // A view of the buffer the read filled: no copy.
        const data = out.page.data(i);
        assert.equal(data.buffer, out.page.buffer(i).buffer);
        assert.deepEqual(
          out.page.buffer(i).subarray(out.page.dataStart(i), out.page.dataEnd(i)),
          Buffer.from(data),
        );
        seen.push(record);
      }
      iterator = out.NextShardIterator;
    }
    assert.deepEqual(seen, expected);
    // The 400 small records came from one read: they share its buffer.
    const tail = await service.getRecordPage(
      await service.getShardIterator("pages", shard0, "AT_SEQUENCE_NUMBER", {
        StartingSequenceNumber: expected[sizes.length]!.SequenceNumber,
      }),
    );
    assert.equal(tail.page.count, 400);
    assert.ok(
      Array.from({ length: 400 }, (_, i) => tail.page.buffer(i)).every((b) => b === tail.page.buffer(0)),
    );
  });

  it("reads right when readers at different places take turns", async () => {
    const all = await readAll(service, await service.getShardIterator("pages", shard0, "TRIM_HORIZON"));
    // Two readers, one a record behind the other, each resuming where it stopped.
    let a: string | null = await service.getShardIterator("pages", shard0, "TRIM_HORIZON");
    let b: string | null = await service.getShardIterator("pages", shard0, "AT_SEQUENCE_NUMBER", {
      StartingSequenceNumber: all[1]!.SequenceNumber,
    });
    const fromA = [];
    const fromB = [];
    while (fromA.length < all.length || fromB.length < all.length - 1) {
      const pageA = await service.getRecords(a!, 3);
      fromA.push(...pageA.Records);
      a = pageA.NextShardIterator;
      const pageB = await service.getRecords(b!, 2);
      fromB.push(...pageB.Records);
      b = pageB.NextShardIterator;
      if (pageA.Records.length === 0 && pageB.Records.length === 0) break;
    }
    assert.deepEqual(fromA, all);
    assert.deepEqual(fromB, all.slice(1));
  });
});

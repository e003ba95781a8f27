import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  hashKeyForPartitionKey,
  hashKeyRanges,
  type StreamService,
  shardForHashKey,
  shardForPartitionKey,
} from "../../src/stream/index.js";
import { PartitionKeyRouter } from "../../src/stream/key-router.js";
import { hourglassError, openTestService, removeDir } from "./helpers.js";

const twoTo128 = 1n << 128n;

describe("shard selection", () => {
  it("hashes partition keys with MD5 read as a big-endian 128-bit integer", () => {
    // Known digests, checked against node:crypto so the constants are not taken on trust.
    const known = { a: "0cc175b9c0f1b6a831c399e269772661", abc: "900150983cd24fb0d6963f7d28e17f72" };
    for (const [key, hex] of Object.entries(known)) {
      assert.equal(createHash("md5").update(key).digest("hex"), hex);
      assert.equal(hashKeyForPartitionKey(key), BigInt(`0x${hex}`));
    }
    // 0x0cc1.../2^128 = 0.0498: shard 0 of 4, shard 1 of 32; 0x9001.../2^128 = 0.5625: shard 2 of 4.
    assert.equal(shardForPartitionKey("a", 4), 0);
    assert.equal(shardForPartitionKey("a", 32), 1);
    assert.equal(shardForPartitionKey("abc", 4), 2);
    assert.equal(shardForPartitionKey("abc", 2), 1);
    assert.equal(shardForPartitionKey("abc", 1), 0);
  });

  it("hashes the UTF-8 bytes of non-ASCII keys", () => {
    const key = "hôte-東京-🙂";
    const expected = BigInt(`0x${createHash("md5").update(Buffer.from(key, "utf8")).digest("hex")}`);
    assert.equal(hashKeyForPartitionKey(key), expected);
  });

  it("splits [0, 2^128 - 1] evenly, the last shard taking the remainder", () => {
    const ranges = hashKeyRanges(3);
    const width = twoTo128 / 3n;
    assert.deepEqual(ranges[0], { StartingHashKey: "0", EndingHashKey: (width - 1n).toString() });
    assert.deepEqual(ranges[1], {
      StartingHashKey: width.toString(),
      EndingHashKey: (2n * width - 1n).toString(),
    });
    assert.equal(ranges[2]!.StartingHashKey, (2n * width).toString());
    assert.equal(ranges[2]!.EndingHashKey, (twoTo128 - 1n).toString());
    assert.deepEqual(hashKeyRanges(1), [{ StartingHashKey: "0", EndingHashKey: (twoTo128 - 1n).toString() }]);
    // Every range boundary maps to the shard that owns it.
    for (let i = 0; i < ranges.length; i++) {
      assert.equal(shardForHashKey(BigInt(ranges[i]!.StartingHashKey), 3), i);
      assert.equal(shardForHashKey(BigInt(ranges[i]!.EndingHashKey), 3), i);
    }
    assert.throws(() => shardForHashKey(twoTo128, 3), hourglassError("ValidationError"));
    assert.throws(() => shardForHashKey(-1n, 3), hourglassError("ValidationError"));
  });

  it("routes keys through a cache with the same answers as MD5 every time, and refuses bad keys", () => {
    // A cache of 16 keys, so it starts over many times among 1,000 keys asked for twice.
    const router = new PartitionKeyRouter(7, 16);
    const keys = Array.from({ length: 1_000 }, (_, i) =>
      i % 3 === 0 ? `hôte-${i}-🙂` : `i-${i}.amazonaws.com`,
    );
    for (const key of [...keys, ...keys.reverse()]) {
      const routed = router.route(key);
      assert.ok(typeof routed !== "string");
      assert.equal(routed.shardIndex, shardForPartitionKey(key, 7), key);
      assert.deepEqual(routed.bytes, Buffer.from(key, "utf8"));
    }
    assert.equal(router.route(""), "PartitionKey must be 1..256 characters, got 0");
    assert.equal(router.route("k".repeat(257)), "PartitionKey must be 1..256 characters, got 257");
    assert.ok(typeof router.route("🙂".repeat(256)) !== "string", "256 characters of 4 UTF-8 bytes each");
  });

  describe("in a stream", () => {
    let service: StreamService;
    let dir: string;
    before(async () => {
      ({ service, dir } = await openTestService());
      await service.createStream("hashes", 4);
    });
    after(async () => {
      await service.close();
      removeDir(dir);
    });

    it("puts a record on the shard its partition key's MD5 picks", async () => {
      const a = await service.putRecord("hashes", { Data: Buffer.from("x"), PartitionKey: "a" });
      const abc = await service.putRecord("hashes", { Data: Buffer.from("y"), PartitionKey: "abc" });
      assert.equal(a.ShardId, "shardId-000000000000");
      assert.equal(abc.ShardId, "shardId-000000000002");
    });

    it("lets ExplicitHashKey override the partition key, at range boundaries too", async () => {
      const ranges = hashKeyRanges(4);
      const put = (ExplicitHashKey: string) =>
        service.putRecord("hashes", { Data: Buffer.from("z"), PartitionKey: "a", ExplicitHashKey });
      assert.equal((await put(ranges[3]!.StartingHashKey)).ShardId, "shardId-000000000003");
      assert.equal((await put(ranges[1]!.EndingHashKey)).ShardId, "shardId-000000000001");
      assert.equal((await put("0")).ShardId, "shardId-000000000000");
      assert.equal((await put((twoTo128 - 1n).toString())).ShardId, "shardId-000000000003");
    });

    it("refuses an ExplicitHashKey that is not a decimal in [0, 2^128 - 1]", async () => {
      for (const bad of [twoTo128.toString(), "-1", "12a", "", "0x10", "007"]) {
        await assert.rejects(
          service.putRecord("hashes", { Data: Buffer.from("z"), PartitionKey: "a", ExplicitHashKey: bad }),
          hourglassError("ValidationError", "InvalidArgumentException", /ExplicitHashKey/),
          bad,
        );
      }
    });
  });
});

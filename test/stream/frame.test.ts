import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import { tableCrc32 } from "../../src/stream/crc32.js";
import { checkFrame, decodeFrame, encodeFrame, maxFrameBodyBytes } from "../../src/stream/frame.js";

describe("frames", () => {
  it("computes the same CRC-32 with the fallback table as zlib (older Node 20 releases)", () => {
    assert.equal(tableCrc32(Buffer.from("123456789")), 0xcbf43926); // the standard check value
    for (const size of [0, 1, 7, 1000, 65_537]) {
      const data = randomBytes(size);
      assert.equal(tableCrc32(data), zlib.crc32(data), `${size} bytes`);
    }
  });

  it("round-trips a record and refuses damaged or impossible frames", () => {
    const frame = encodeFrame(123_456_789, Date.UTC(2024, 0, 1), Buffer.from("clé"), Buffer.from("payload"));
    const check = checkFrame(frame, 0);
    assert.deepEqual(check, { kind: "ok", frameBytes: frame.length });
    assert.deepEqual(decodeFrame(frame, 0, frame.length), {
      offset: 123_456_789,
      arrivalMs: Date.UTC(2024, 0, 1),
      partitionKey: "clé",
      data: Buffer.from("payload"),
    });
    assert.equal(checkFrame(frame.subarray(0, frame.length - 1), 0).kind, "incomplete");
    const flipped = Buffer.from(frame);
    flipped[frame.length - 2]! ^= 1;
    assert.deepEqual(checkFrame(flipped, 0), { kind: "corrupt", reason: "checksum mismatch" });
    const tooLong = Buffer.from(frame);
    tooLong.writeUInt32LE(maxFrameBodyBytes + 1, 0);
    assert.equal(checkFrame(tooLong, 0).kind, "corrupt");
    const zeros = Buffer.alloc(64);
    assert.equal(
      checkFrame(zeros, 0).kind,
      "corrupt",
      "a zero-filled tail (a preallocated block) is not a frame",
    );
  });
});

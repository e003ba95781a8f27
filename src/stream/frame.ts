import { crc32 } from "./crc32.js";
import { maxRecordBytes } from "./limits.js";

/**
 * One record on disk:
 *
 *   [bodyLength u32 LE][crc32(body) u32 LE][body]
 *   body = [offset u48 LE][arrivalMs u48 LE][partitionKeyLength u16 LE][partitionKey UTF-8][data]
 *
 * The length and checksum let recovery find where a write torn by a crash begins; the offset inside
 * the body lets it check that frames follow each other without a gap.
 */
export const frameHeaderBytes = 8;
const bodyFixedBytes = 6 + 6 + 2;
/** No valid body is longer: a larger length field can only be garbage. */
export const maxFrameBodyBytes = bodyFixedBytes + maxRecordBytes;

export interface FrameRecord {
  offset: number;
  arrivalMs: number;
  partitionKey: string;
  data: Uint8Array;
}

/** Bytes of the frame of a record with this partition key and data. */
export const frameBytesOf = (partitionKeyBytes: number, dataBytes: number): number =>
  frameHeaderBytes + bodyFixedBytes + partitionKeyBytes + dataBytes;

/**
 * Writes a frame with the record's bytes but not yet its offset, arrival time and checksum at `pos`
 * of `target`, and returns its size: the producer's data is copied when the call is made, the
 * position is stamped when the batch is written.
 */
export function writeUnstampedFrame(
  target: Buffer,
  pos: number,
  partitionKey: Buffer,
  data: Uint8Array,
): number {
  const frameBytes = frameBytesOf(partitionKey.length, data.length);
  target.writeUInt32LE(frameBytes - frameHeaderBytes, pos);
  target.writeUInt16LE(partitionKey.length, pos + 20);
  target.set(partitionKey, pos + 22);
  target.set(data, pos + 22 + partitionKey.length);
  return frameBytes;
}

/** A frame of its own (see writeUnstampedFrame). */
export function buildFrame(partitionKey: Buffer, data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(frameBytesOf(partitionKey.length, data.length));
  writeUnstampedFrame(frame, 0, partitionKey, data);
  return frame;
}

/**
 * Writes the offset and arrival time into the built frame at `pos` and seals it with its checksum;
 * returns the frame's size.
 */
export function stampFrame(buf: Buffer, offset: number, arrivalMs: number, pos = 0): number {
  const frameBytes = frameHeaderBytes + buf.readUInt32LE(pos);
  buf.writeUIntLE(offset, pos + 8, 6);
  buf.writeUIntLE(arrivalMs, pos + 14, 6);
  buf.writeUInt32LE(crc32(buf.subarray(pos + frameHeaderBytes, pos + frameBytes)), pos + 4);
  return frameBytes;
}

export function encodeFrame(
  offset: number,
  arrivalMs: number,
  partitionKey: Buffer,
  data: Uint8Array,
): Buffer {
  const frame = buildFrame(partitionKey, data);
  stampFrame(frame, offset, arrivalMs);
  return frame;
}

export type FrameCheck =
  | { kind: "ok"; frameBytes: number }
  | { kind: "incomplete"; needBytes: number } // the buffer ends inside the frame: read more
  | { kind: "corrupt"; reason: string };

/**
 * Checks the frame starting at `pos` in `buf` without decoding it. `verifyChecksum` false skips the
 * CRC (for frames whose checksum this process computed or already checked), not the other checks.
 */
export function checkFrame(buf: Buffer, pos: number, verifyChecksum = true): FrameCheck {
  if (buf.length - pos < frameHeaderBytes) return { kind: "incomplete", needBytes: frameHeaderBytes };
  const bodyBytes = buf.readUInt32LE(pos);
  if (bodyBytes < bodyFixedBytes + 1 || bodyBytes > maxFrameBodyBytes) {
    return { kind: "corrupt", reason: `frame length ${bodyBytes} is impossible` };
  }
  const frameBytes = frameHeaderBytes + bodyBytes;
  if (buf.length - pos < frameBytes) return { kind: "incomplete", needBytes: frameBytes };
  if (
    verifyChecksum &&
    crc32(buf.subarray(pos + frameHeaderBytes, pos + frameBytes)) !== buf.readUInt32LE(pos + 4)
  ) {
    return { kind: "corrupt", reason: "checksum mismatch" };
  }
  const pkBytes = buf.readUInt16LE(pos + frameHeaderBytes + 12);
  if (pkBytes < 1 || bodyFixedBytes + pkBytes > bodyBytes) {
    return { kind: "corrupt", reason: `partition key length ${pkBytes} is impossible` };
  }
  return { kind: "ok", frameBytes };
}

/**
 * The size of the whole, sound frame at `pos` (length in range, partition key inside the body, and
 * the checksum when `verifyChecksum`), or 0 when it is cut short or damaged: checkFrame says which.
 * The read path's check, without an object per frame.
 */
export function soundFrameBytes(buf: Buffer, pos: number, verifyChecksum: boolean): number {
  if (buf.length - pos < frameHeaderBytes) return 0;
  const bodyBytes = buf.readUInt32LE(pos);
  if (bodyBytes < bodyFixedBytes + 1 || bodyBytes > maxFrameBodyBytes) return 0;
  const frameBytes = frameHeaderBytes + bodyBytes;
  if (buf.length - pos < frameBytes) return 0;
  const pkBytes = buf.readUInt16LE(pos + frameHeaderBytes + 12);
  if (pkBytes < 1 || bodyFixedBytes + pkBytes > bodyBytes) return 0;
  if (
    verifyChecksum &&
    crc32(buf.subarray(pos + frameHeaderBytes, pos + frameBytes)) !== buf.readUInt32LE(pos + 4)
  ) {
    return 0;
  }
  return frameBytes;
}

/** Offset and arrival time of a checked frame, without copying its data. */
export function frameHeader(buf: Buffer, pos: number): { offset: number; arrivalMs: number } {
  return { offset: buf.readUIntLE(pos + 8, 6), arrivalMs: buf.readUIntLE(pos + 14, 6) };
}

/** Decodes a checked frame; the data is copied so the caller's read buffer can be reused. */
export function decodeFrame(buf: Buffer, pos: number, frameBytes: number): FrameRecord {
  const pkBytes = buf.readUInt16LE(pos + 20);
  const pkStart = pos + 22;
  return {
    offset: buf.readUIntLE(pos + 8, 6),
    arrivalMs: buf.readUIntLE(pos + 14, 6),
    partitionKey: buf.toString("utf8", pkStart, pkStart + pkBytes),
    data: Buffer.from(buf.subarray(pkStart + pkBytes, pos + frameBytes)),
  };
}

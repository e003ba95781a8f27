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

/**
 * Builds a frame with the record's bytes but not yet its offset, arrival time and checksum: the
 * producer's data is copied when the call is made, the position is stamped when the batch is written.
 */
export function buildFrame(partitionKey: Buffer, data: Uint8Array): Buffer {
  const bodyBytes = bodyFixedBytes + partitionKey.length + data.length;
  const frame = Buffer.allocUnsafe(frameHeaderBytes + bodyBytes);
  frame.writeUInt32LE(bodyBytes, 0);
  frame.writeUInt16LE(partitionKey.length, 20);
  partitionKey.copy(frame, 22);
  frame.set(data, 22 + partitionKey.length);
  return frame;
}

/** Writes the offset and arrival time into a built frame and seals it with its checksum. */
export function stampFrame(frame: Buffer, offset: number, arrivalMs: number): void {
  frame.writeUIntLE(offset, 8, 6);
  frame.writeUIntLE(arrivalMs, 14, 6);
  frame.writeUInt32LE(crc32(frame.subarray(frameHeaderBytes)), 4);
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

/** Checks the frame starting at `pos` in `buf` without decoding it. */
export function checkFrame(buf: Buffer, pos: number): FrameCheck {
  if (buf.length - pos < frameHeaderBytes) return { kind: "incomplete", needBytes: frameHeaderBytes };
  const bodyBytes = buf.readUInt32LE(pos);
  if (bodyBytes < bodyFixedBytes + 1 || bodyBytes > maxFrameBodyBytes) {
    return { kind: "corrupt", reason: `frame length ${bodyBytes} is impossible` };
  }
  const frameBytes = frameHeaderBytes + bodyBytes;
  if (buf.length - pos < frameBytes) return { kind: "incomplete", needBytes: frameBytes };
  const body = buf.subarray(pos + frameHeaderBytes, pos + frameBytes);
  if (crc32(body) !== buf.readUInt32LE(pos + 4)) return { kind: "corrupt", reason: "checksum mismatch" };
  const pkBytes = body.readUInt16LE(12);
  if (pkBytes < 1 || bodyFixedBytes + pkBytes > bodyBytes) {
    return { kind: "corrupt", reason: `partition key length ${pkBytes} is impossible` };
  }
  return { kind: "ok", frameBytes };
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

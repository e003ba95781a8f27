import { frameHeaderBytes } from "./frame.js";
import { formatSequenceNumber, formatShardId } from "./sequence-number.js";
import type { StreamRecord } from "./types.js";

/** Where the fields sit in a frame (see frame.ts). */
const offsetAt = 8;
const arrivalAt = 14;
const keyLengthAt = 20;
const keyAt = 22;

/**
 * The records of one read, left where the read put them: in the buffers read from the segment file
 * (each read gets a fresh buffer, never reused), found by their frame's position. Nothing is copied
 * and no object is made per record until one is asked for, so a consumer that parses the data in
 * place (the connector) reads a page of 10,000 records with a few allocations.
 *
 * `data(i)` is a view: it keeps its read buffer (at most a few MiB) alive while it is held.
 * Treat the bytes as read-only.
 */
export class RecordPage {
  /** Records in the page. */
  count = 0;
  private readonly buffers: Buffer[] = [];
  private bufferOf = new Uint16Array(64);
  private framePos = new Int32Array(64);

  constructor(readonly shardIndex: number) {}

  /** Adds the buffer that the next frames are in; returns its number. */
  addBuffer(buffer: Buffer): number {
    this.buffers.push(buffer);
    return this.buffers.length - 1;
  }

  /** Adds the (checked) frame at `pos` of buffer `bufferNumber`. */
  addFrame(bufferNumber: number, pos: number): void {
    if (this.count === this.framePos.length) {
      const bufferOf = new Uint16Array(this.count * 2);
      bufferOf.set(this.bufferOf);
      this.bufferOf = bufferOf;
      const framePos = new Int32Array(this.count * 2);
      framePos.set(this.framePos);
      this.framePos = framePos;
    }
    this.bufferOf[this.count] = bufferNumber;
    this.framePos[this.count] = pos;
    this.count++;
  }

  /** The buffer record `i` is in; its data is `[dataStart(i), dataEnd(i))` of it. */
  buffer(i: number): Buffer {
    return this.buffers[this.bufferOf[i]!]!;
  }

  dataStart(i: number): number {
    const pos = this.framePos[i]!;
    return pos + keyAt + this.buffer(i).readUInt16LE(pos + keyLengthAt);
  }

  dataEnd(i: number): number {
    const pos = this.framePos[i]!;
    return pos + frameHeaderBytes + this.buffer(i).readUInt32LE(pos);
  }

  /** The record's offset in its shard. */
  offset(i: number): number {
    return this.buffer(i).readUIntLE(this.framePos[i]! + offsetAt, 6);
  }

  arrivalMs(i: number): number {
    return this.buffer(i).readUIntLE(this.framePos[i]! + arrivalAt, 6);
  }

  partitionKey(i: number): string {
    const pos = this.framePos[i]!;
    const buffer = this.buffer(i);
    return buffer.toString("utf8", pos + keyAt, pos + keyAt + buffer.readUInt16LE(pos + keyLengthAt));
  }

  /** A view of the record's data (no copy). */
  data(i: number): Uint8Array {
    return this.buffer(i).subarray(this.dataStart(i), this.dataEnd(i));
  }

  sequenceNumber(i: number): string {
    return formatSequenceNumber(this.shardIndex, this.offset(i));
  }

  /** Record `i` as GetRecords gives it. */
  record(i: number): StreamRecord {
    return {
      SequenceNumber: this.sequenceNumber(i),
      ApproximateArrivalTimestamp: new Date(this.arrivalMs(i)),
      Data: this.data(i),
      PartitionKey: this.partitionKey(i),
    };
  }

  get shardId(): string {
    return formatShardId(this.shardIndex);
  }
}

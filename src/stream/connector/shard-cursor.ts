/**
 * Where the connector stands in one shard: its shard iterator, what it read, what is checkpointed
 * (in the store), and the shard's newest record, from which the lag in records is a subtraction of
 * offsets.
 */
import { formatSequenceNumber, parseSequenceNumber, parseShardId } from "../sequence-number.js";
import type { ShardStats, StreamService } from "../types.js";
import type { ConnectorStartPosition, ShardStatus } from "./types.js";

const offsetOf = (sequenceNumber: string | null): number =>
  sequenceNumber === null ? -1 : parseSequenceNumber(sequenceNumber).offset;

export class ShardCursor {
  readonly index: number;
  iterator = "";
  checkpoint: string | null;
  lastRead: string | null = null;
  /** Read calls that failed in a row, for the backoff. */
  failures = 0;
  millisBehindLatest = 0;
  expiredUnread = 0;
  /** Offset of the shard's newest record, -1 when it has none. */
  latestOffset: number;
  /** The sequence number to wait after while nothing was read yet (null: any record). */
  private waitAfter: string | null;
  /** Offset of the first record the connector had to write when it started. */
  private readonly startOffset: number;
  /** Offset the next read should start at, when known: a larger one means retention removed records. */
  private expectedOffset: number | null;

  private constructor(
    readonly shardId: string,
    stats: ShardStats,
    checkpoint: string | null,
    from: ConnectorStartPosition,
  ) {
    this.index = parseShardId(shardId);
    this.checkpoint = checkpoint;
    this.latestOffset = offsetOf(stats.LastSequenceNumber);
    if (checkpoint !== null) {
      this.startOffset = offsetOf(checkpoint) + 1;
      this.expectedOffset = this.startOffset;
      this.waitAfter = checkpoint;
    } else if (from === "latest") {
      // Skipping what is there is a decision to keep: it is checkpointed at start, so a later run
      // (with any `from`) neither reads those records nor skips records that came after.
      this.checkpoint = stats.LastSequenceNumber;
      this.startOffset = this.latestOffset + 1;
      this.expectedOffset = this.startOffset;
      this.waitAfter = stats.LastSequenceNumber;
    } else {
      this.startOffset =
        stats.FirstSequenceNumber === null ? this.latestOffset + 1 : offsetOf(stats.FirstSequenceNumber);
      this.expectedOffset = null;
      this.waitAfter = null;
    }
  }

  static async open(
    streams: Pick<StreamService, "getShardIterator">,
    stream: string,
    stats: ShardStats,
    checkpoint: string | null,
    from: ConnectorStartPosition,
  ): Promise<ShardCursor> {
    const cursor = new ShardCursor(stats.ShardId, stats, checkpoint, from);
    await cursor.renewIterator(streams, stream);
    return cursor;
  }

  /**
   * A new iterator just after the last record read (an iterator expires after 5 minutes, e.g. while
   * a store outage holds the readers back), or at the start position when nothing was read yet.
   */
  async renewIterator(streams: Pick<StreamService, "getShardIterator">, stream: string): Promise<void> {
    const after = this.lastRead ?? this.waitAfter;
    this.iterator =
      after === null
        ? await streams.getShardIterator(stream, this.shardId, "TRIM_HORIZON")
        : await streams.getShardIterator(stream, this.shardId, "AFTER_SEQUENCE_NUMBER", {
            StartingSequenceNumber: after,
          });
  }

  /** What to pass to waitForRecords: the last record the connector has. */
  get waitAfterSequence(): string | null {
    return this.lastRead ?? this.waitAfter;
  }

  /** After an empty read from the trim horizon: wait for records after the newest (all older ones expired). */
  waitAfterLatest(): void {
    if (this.lastRead === null && this.waitAfter === null && this.latestOffset >= 0) {
      this.waitAfter = formatSequenceNumber(this.index, this.latestOffset);
    }
  }

  /** Records that were read; returns how many records retention removed before they could be read. */
  noteRead(firstSequence: string, lastSequence: string): number {
    const first = parseSequenceNumber(firstSequence).offset;
    const gap = this.expectedOffset === null ? 0 : Math.max(0, first - this.expectedOffset);
    this.expiredUnread += gap;
    const last = parseSequenceNumber(lastSequence).offset;
    this.expectedOffset = last + 1;
    this.lastRead = lastSequence;
    if (last > this.latestOffset) this.latestOffset = last;
    return gap;
  }

  noteLatest(lastSequence: string): void {
    const offset = parseSequenceNumber(lastSequence).offset;
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  status(): ShardStatus {
    const nextToWrite = this.checkpoint === null ? this.startOffset : offsetOf(this.checkpoint) + 1;
    return {
      shardId: this.shardId,
      checkpoint: this.checkpoint,
      lastRead: this.lastRead,
      latest: this.latestOffset < 0 ? null : formatSequenceNumber(this.index, this.latestOffset),
      behindRecords: Math.max(0, this.latestOffset + 1 - nextToWrite),
      millisBehindLatest: this.millisBehindLatest,
      expiredUnread: this.expiredUnread,
    };
  }
}

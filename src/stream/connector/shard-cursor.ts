/**
 * Where the connector stands in one shard: its shard iterator, what it read, what is checkpointed
 * (in the store), and the shard's newest record, from which the lag in records is a subtraction of
 * offsets.
 */
import { formatSequenceNumber, parseSequenceNumber, parseShardId } from "../sequence-number.js";
import type { ShardStats, StreamService } from "../types.js";
import type { ConnectorStartPosition, ShardStatus } from "./types.js";

/** Commits remembered while the reader does not read (see noteCommitted). */
const maxUnreadCommits = 4096;

const offsetOf = (sequenceNumber: string | null): number =>
  sequenceNumber === null ? -1 : parseSequenceNumber(sequenceNumber).offset;

export class ShardCursor {
  readonly index: number;
  iterator = "";
  /** The shard was split or merged: it ends at its last record. */
  closed: boolean;
  /** A closed shard read to its end (its last records are in a batch, or it had none). */
  finished = false;
  checkpoint: string | null;
  lastRead: string | null = null;
  /** Read calls that failed in a row, for the backoff. */
  failures = 0;
  expiredUnread = 0;
  /** Offset of the shard's newest record, -1 when it has none. */
  latestOffset: number;
  /** Arrival time of the shard's newest record (epoch ms), 0 when unknown. */
  private latestArrivalMs: number;
  /** Offset and arrival time of the last record read; -1 before the first. */
  private lastReadOffset = -1;
  private lastReadArrivalMs = 0;
  /** MillisBehindLatest as the last read returned it. */
  private readMillisBehindLatest = 0;
  /** Commits to the shard seen since the last read, oldest first: where unread records start, and when they arrived. */
  private readonly unread: { firstOffset: number; lastOffset: number; arrivalMs: number }[] = [];
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
    from: "trim-horizon" | "latest",
  ) {
    this.index = parseShardId(shardId);
    this.closed = stats.Closed === true;
    this.checkpoint = checkpoint;
    this.latestOffset = offsetOf(stats.LastSequenceNumber);
    this.latestArrivalMs = stats.LastArrivalTimestamp?.getTime() ?? 0;
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
    streams: Pick<StreamService, "getShardIterator" | "getRecordPage">,
    stream: string,
    stats: ShardStats,
    checkpoint: string | null,
    from: ConnectorStartPosition,
  ): Promise<ShardCursor> {
    let start: "trim-horizon" | "latest" = from === "latest" ? "latest" : "trim-horizon";
    let shardStats = stats;
    if (from instanceof Date && checkpoint === null) {
      // A start at a time is a "latest" start at the record before the first one that arrived at
      // or after it (checkpointed at once like "latest": a later run does not go back before it).
      const iterator = await streams.getShardIterator(stream, stats.ShardId, "AT_TIMESTAMP", {
        Timestamp: from,
      });
      const { page } = await streams.getRecordPage(iterator, 1);
      const first = stats.FirstSequenceNumber === null ? null : offsetOf(stats.FirstSequenceNumber);
      const at = page.count > 0 ? page.offset(0) : offsetOf(stats.LastSequenceNumber) + 1;
      if (first !== null && at > first) {
        start = "latest";
        const index = parseShardId(stats.ShardId);
        shardStats = { ...stats, LastSequenceNumber: formatSequenceNumber(index, at - 1) };
      }
    }
    const cursor = new ShardCursor(stats.ShardId, shardStats, checkpoint, start);
    if (shardStats !== stats) {
      // The shard's newest record is still the real one, for the lag.
      cursor.latestOffset = offsetOf(stats.LastSequenceNumber);
    }
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

  /**
   * Records [firstOffset, lastOffset] were read, the last of which arrived at `lastArrivalMs`, with
   * GetRecords' MillisBehindLatest. Returns how many records retention removed before they could
   * be read.
   */
  noteRead(
    firstOffset: number,
    lastOffset: number,
    lastArrivalMs: number,
    millisBehindLatest: number,
  ): number {
    const gap = this.expectedOffset === null ? 0 : Math.max(0, firstOffset - this.expectedOffset);
    this.expiredUnread += gap;
    this.expectedOffset = lastOffset + 1;
    this.lastRead = formatSequenceNumber(this.index, lastOffset);
    this.lastReadOffset = lastOffset;
    this.lastReadArrivalMs = lastArrivalMs;
    this.readMillisBehindLatest = millisBehindLatest;
    if (lastOffset > this.latestOffset) this.latestOffset = lastOffset;
    this.latestArrivalMs = Math.max(this.latestArrivalMs, lastArrivalMs + millisBehindLatest);
    while (this.unread.length > 0 && this.unread[0]!.lastOffset <= lastOffset) this.unread.shift();
    const head = this.unread[0];
    if (head !== undefined && head.firstOffset <= lastOffset) head.firstOffset = lastOffset + 1;
    return gap;
  }

  /** A read that found nothing new: caught up, as far as that read could tell. */
  noteCaughtUp(): void {
    this.readMillisBehindLatest = 0;
  }

  /** Records [firstSequence, lastSequence], arrived at `arrivalMs`, were committed to the shard. */
  noteCommitted(firstSequence: string, lastSequence: string, arrivalMs: number): void {
    const lastOffset = parseSequenceNumber(lastSequence).offset;
    if (lastOffset > this.latestOffset) this.latestOffset = lastOffset;
    if (arrivalMs > this.latestArrivalMs) this.latestArrivalMs = arrivalMs;
    if (lastOffset <= this.lastReadOffset) return;
    // Bounded while the reader waits: past this, commits in the middle are forgotten (the oldest
    // unread one, which gives the lag, is kept).
    if (this.unread.length >= maxUnreadCommits) this.unread.splice(1, 1);
    this.unread.push({ firstOffset: parseSequenceNumber(firstSequence).offset, lastOffset, arrivalMs });
  }

  /**
   * Kinesis's MillisBehindLatest, kept current: the arrival of the shard's newest record minus that
   * of the next record to read (what a GetRecords made now would return), 0 when there is nothing
   * to read. Between reads it follows the shard's commits, so it grows while the reader waits for
   * room behind a slow store, and does not count the gap before a burst that just arrived.
   */
  millisBehindLatest(): number {
    if (this.latestOffset <= this.lastReadOffset) return 0;
    const head = this.unread[0];
    if (head !== undefined && head.firstOffset <= Math.max(this.lastReadOffset + 1, this.startOffset)) {
      return Math.max(0, this.latestArrivalMs - head.arrivalMs);
    }
    // The next record came before the commits seen since the last read: as that read said,
    // moved on by what arrived since.
    if (this.lastReadOffset < 0) return this.readMillisBehindLatest;
    return Math.max(this.readMillisBehindLatest, this.latestArrivalMs - this.lastReadArrivalMs);
  }

  status(): ShardStatus {
    const nextToWrite = this.checkpoint === null ? this.startOffset : offsetOf(this.checkpoint) + 1;
    return {
      ...(this.closed ? { closed: true as const } : {}),
      ...(this.finished ? { finished: true as const } : {}),
      shardId: this.shardId,
      checkpoint: this.checkpoint,
      lastRead: this.lastRead,
      latest: this.latestOffset < 0 ? null : formatSequenceNumber(this.index, this.latestOffset),
      behindRecords: Math.max(0, this.latestOffset + 1 - nextToWrite),
      millisBehindLatest: this.millisBehindLatest(),
      expiredUnread: this.expiredUnread,
    };
  }
}

import type { WriteRecord } from "../../store/types.js";
import type { StreamRecord } from "../types.js";
import { DimensionPool } from "./dimension-pool.js";
import { isMapFailure, type MapResult } from "./mapping.js";

/** A stream record and its shard, as the dead-letter stream needs them. */
export interface BatchEntry {
  shardId: string;
  record: StreamRecord;
}

/**
 * Records on their way to one store write. Every stream record gives at most one store record, so
 * `sources[i]` is the stream record of `records[i]` and a rejection's RecordIndex maps back to it.
 * (Parallel arrays rather than an object per record: a batch holds 50,000 of them.)
 */
export class Batch {
  readonly records: WriteRecord[] = [];
  readonly sources: StreamRecord[] = [];
  readonly sourceShards: string[] = [];
  readonly failures: { entry: BatchEntry; reason: string }[] = [];
  /** Shard index → last sequence number of that shard in this batch: the checkpoint after it. */
  readonly lastSequence = new Map<number, { shardId: string; sequenceNumber: string }>();
  readonly pool = new DimensionPool();
  size = 0;
  /** performance.now() when the first record came in: the batch is due maxDelayMs after. */
  firstReceivedMs = 0;
  oldestArrivalMs = Number.POSITIVE_INFINITY;
  newestArrivalMs = Number.NEGATIVE_INFINITY;

  add(
    shardId: string,
    shardIndex: number,
    record: StreamRecord,
    mapped: MapResult,
    receivedMs: number,
  ): void {
    if (this.size === 0) this.firstReceivedMs = receivedMs;
    this.size++;
    if (isMapFailure(mapped)) {
      this.failures.push({ entry: { shardId, record }, reason: mapped.failure });
    } else {
      this.records.push(mapped);
      this.sources.push(record);
      this.sourceShards.push(shardId);
    }
    const last = this.lastSequence.get(shardIndex);
    if (last) last.sequenceNumber = record.SequenceNumber;
    else this.lastSequence.set(shardIndex, { shardId, sequenceNumber: record.SequenceNumber });
    const arrivalMs = record.ApproximateArrivalTimestamp.getTime();
    if (arrivalMs < this.oldestArrivalMs) this.oldestArrivalMs = arrivalMs;
    if (arrivalMs > this.newestArrivalMs) this.newestArrivalMs = arrivalMs;
  }

  /** The stream record behind `records[index]`. */
  source(index: number): BatchEntry {
    return { shardId: this.sourceShards[index]!, record: this.sources[index]! };
  }
}

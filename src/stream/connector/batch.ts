import type { WriteRecord } from "../../store/types.js";
import { DimensionPool } from "./dimension-pool.js";
import { isMapFailure, type MapResult } from "./mapping.js";

/** A stream record as the connector keeps it until its batch is written. */
export interface BatchEntry {
  shardId: string;
  shardIndex: number;
  sequenceNumber: string;
  partitionKey: string;
  arrivalMs: number;
  /** Kept for the dead-letter stream, should the store refuse the record. */
  data: Uint8Array;
}

/**
 * Records on their way to one store write. Every stream record gives at most one store record, so
 * `entries[i]` is the stream record of `records[i]` and a rejection's RecordIndex maps back to it.
 */
export class Batch {
  readonly records: WriteRecord[] = [];
  readonly entries: BatchEntry[] = [];
  readonly failures: { entry: BatchEntry; reason: string }[] = [];
  /** Shard index → last sequence number of that shard in this batch: the checkpoint after it. */
  readonly lastSequence = new Map<number, { shardId: string; sequenceNumber: string }>();
  readonly pool = new DimensionPool();
  size = 0;
  /** performance.now() when the first record came in: the batch is due maxDelayMs after. */
  firstReceivedMs = 0;
  oldestArrivalMs = Number.POSITIVE_INFINITY;
  newestArrivalMs = Number.NEGATIVE_INFINITY;

  add(entry: BatchEntry, mapped: MapResult, receivedMs: number): void {
    if (this.size === 0) this.firstReceivedMs = receivedMs;
    this.size++;
    if (isMapFailure(mapped)) {
      this.failures.push({ entry, reason: mapped.failure });
    } else {
      this.records.push(mapped);
      this.entries.push(entry);
    }
    this.lastSequence.set(entry.shardIndex, { shardId: entry.shardId, sequenceNumber: entry.sequenceNumber });
    if (entry.arrivalMs < this.oldestArrivalMs) this.oldestArrivalMs = entry.arrivalMs;
    if (entry.arrivalMs > this.newestArrivalMs) this.newestArrivalMs = entry.arrivalMs;
  }
}

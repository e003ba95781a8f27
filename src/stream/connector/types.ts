/**
 * The connector's public types: its options, its status snapshot and its lifecycle events.
 */
import type { HourglassError } from "../../errors.js";
import type { StoreService, TimestreamStore } from "../../store/index.js";
import type { StreamService } from "../types.js";

/**
 * How stream payloads become store records:
 * - `single`: the original Flink mapping; one JSON object per measure (MeasureName, MeasureValue,
 *   MeasureValueType, Time, TimeUnit), every other key a VARCHAR dimension.
 * - `flat`: the later generator's JSON; one object per series with `@type` metrics|events and
 *   `time`, becoming a MULTI record `metrics_record` / `events_record`.
 * - `auto`: `flat` for objects with an `@type` key, `single` for the others.
 */
export type ConnectorMapping = "single" | "flat" | "auto";

/**
 * Where a shard is read from when the connector has no checkpoint for it: its oldest record, its
 * next new record, or the first record that arrived at or after a time (Kinesis's AT_TIMESTAMP).
 */
export type ConnectorStartPosition = "trim-horizon" | "latest" | Date;

/**
 * The store calls the connector makes: the local store's (single-measure rows go through its
 * columnar write, `writeColumns`; multi-measure records through WriteRecords).
 */
export type ConnectorStore = Pick<StoreService, "writeRecords" | "describeTable"> &
  Pick<TimestreamStore, "writeColumns">;

/** The stream calls the connector makes (the local service: it waits on shards without polling). */
export type ConnectorStreams = Pick<
  StreamService,
  | "createStream"
  | "describeStream"
  | "getShardIterator"
  | "getRecords"
  | "getRecordPage"
  | "getShardStats"
  | "waitForRecords"
  | "putRecords"
  | "on"
>;

export interface RetryOptions {
  /** First wait after a transient failure. Default 100 ms. */
  initialDelayMs?: number;
  /** Waits double up to this cap. Default 30 s. */
  maxDelayMs?: number;
}

export interface ConnectorOptions {
  streams: ConnectorStreams;
  store: ConnectorStore;
  /** The source stream; every shard is read. */
  stream: string;
  database: string;
  table: string;
  /** The state folder: checkpoints go to `<stateDir>/connectors/<name>.json`. */
  stateDir: string;
  /** Names the checkpoint; default: the stream's name. 1..128 of a-z A-Z 0-9 _ . - */
  name?: string;
  /** Default `single`. */
  mapping?: ConnectorMapping;
  /** Records per store write, at most. Default 50,000. */
  batchSize?: number;
  /** A partly filled batch is written once its oldest record has waited this long. Default 1,000 ms. */
  maxDelayMs?: number;
  /** Start of shards without a checkpoint. Default `trim-horizon`. */
  from?: ConnectorStartPosition;
  /** Where records that cannot be stored go; default `<stream>-deadletter`, created on first use. */
  deadLetterStream?: string;
  retry?: RetryOptions;
  /** Milliseconds since the epoch, for status times; defaults to Date.now. */
  clock?: () => number;
}

export type ConnectorState = "running" | "stopping" | "stopped" | "failed";

export interface ShardStatus {
  shardId: string;
  /** The shard was split or merged (resharding): it takes no more records. */
  closed?: true;
  /** A closed shard read to its end: its children are being read (its checkpoint stays, as finished). */
  finished?: true;
  /** Last sequence number written to the store and checkpointed; null before the first. */
  checkpoint: string | null;
  /** Last sequence number read from the shard (written or waiting in a batch). */
  lastRead: string | null;
  /** Newest sequence number in the shard. */
  latest: string | null;
  /** Records in the shard after the checkpoint: not yet in the store. */
  behindRecords: number;
  /**
   * Kinesis's MillisBehindLatest, kept current between reads: arrival of the shard's newest record
   * minus arrival of the next record to read (what a GetRecords now would return); 0 when caught up.
   */
  millisBehindLatest: number;
  /** Records that retention removed before the connector read them. */
  expiredUnread: number;
}

export interface ConnectorCounts {
  /** Records read from the stream. */
  read: number;
  /** Records the store took (an identical record again counts: it is an idempotent no-op). */
  written: number;
  /** Records the store refused (each also dead-lettered). */
  rejected: number;
  /** Records that could not be mapped to a store record (each also dead-lettered). */
  parseFailed: number;
  /** Records put on the dead-letter stream. */
  deadLettered: number;
  /** Batches written and checkpointed. */
  batches: number;
  /** Store, stream or checkpoint calls tried again after a transient failure. */
  retries: number;
}

export interface ConnectorStatus {
  name: string;
  stream: string;
  database: string;
  table: string;
  mapping: ConnectorMapping;
  deadLetterStream: string;
  state: ConnectorState;
  startedAt: string;
  shards: ShardStatus[];
  /** Sums and maxima over the shards. */
  lag: { records: number; millisBehindLatest: number };
  /** Records written per second over the last 10 s. */
  recordsPerSecond: number;
  counts: ConnectorCounts;
  lastBatchAt: string | null;
  lastError: { message: string; code: string; at: string } | null;
}

export interface ConnectorEventMap {
  /** A batch was written to the store, its refused records dead-lettered, and the checkpoint saved. */
  "batch:written": {
    records: number;
    written: number;
    rejected: number;
    parseFailed: number;
    deadLettered: number;
    durationMs: number;
    /** Stream arrival times of the batch's oldest and newest records (epoch ms). */
    oldestArrivalMs: number;
    newestArrivalMs: number;
    /** When the checkpoint was saved (epoch ms): the end-to-end delay is this minus an arrival. */
    committedAtMs: number;
    checkpoint: Record<string, string>;
  };
  /** A record went to the dead-letter stream. */
  "record:deadlettered": {
    kind: "parse" | "rejected";
    reason: string;
    shardId: string;
    sequenceNumber: string;
    partitionKey: string;
    recordIndex?: number;
  };
  /** A failure: `retrying` tells whether the connector keeps going (it stops when false). */
  error: { error: HourglassError; retrying: boolean; delayMs?: number };
}

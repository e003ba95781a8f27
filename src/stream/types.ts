import type { HashKeyRange } from "./hash-key.js";
import type { RecordPage } from "./record-page.js";
import type { RecoveryNote } from "./shard-log.js";

/** Kinesis's DescribeStream StreamDescription. */
export interface StreamDescription {
  StreamName: string;
  StreamARN: string;
  /** UPDATING while a split, merge or UpdateShardCount is being applied (they take effect at once). */
  StreamStatus: "ACTIVE" | "UPDATING";
  StreamModeDetails: { StreamMode: "PROVISIONED" };
  RetentionPeriodHours: number;
  StreamCreationTimestamp: Date;
  Shards: ShardDescription[];
  HasMoreShards: false;
  EnhancedMonitoring: { ShardLevelMetrics: string[] }[];
  EncryptionType: "NONE";
}

export interface ShardDescription {
  ShardId: string;
  /** The shard that was split, or the first of two merged (only for shards made by a reshard). */
  ParentShardId?: string;
  /** The other shard of a merge. */
  AdjacentParentShardId?: string;
  HashKeyRange: HashKeyRange;
  /** EndingSequenceNumber is set once a split or merge closed the shard. */
  SequenceNumberRange: { StartingSequenceNumber: string; EndingSequenceNumber?: string };
}

/** A child of a shard that has been read to its end (GetRecords' ChildShards). */
export interface ChildShard {
  ShardId: string;
  ParentShards: string[];
  HashKeyRange: HashKeyRange;
}

/** ListShards' ShardFilter (AT_TIMESTAMP and FROM_TIMESTAMP take Timestamp, AFTER_SHARD_ID takes ShardId). */
export interface ShardFilter {
  Type:
    | "AFTER_SHARD_ID"
    | "AT_TRIM_HORIZON"
    | "FROM_TRIM_HORIZON"
    | "AT_LATEST"
    | "AT_TIMESTAMP"
    | "FROM_TIMESTAMP";
  ShardId?: string;
  Timestamp?: Date;
}

/** UpdateShardCount's answer. */
export interface UpdateShardCountOutput {
  StreamName: string;
  StreamARN: string;
  CurrentShardCount: number;
  TargetShardCount: number;
}

export interface PutRecordInput {
  Data: Uint8Array;
  PartitionKey: string;
  /** A decimal hash key in [0, 2^128 - 1] that picks the shard instead of the partition key's MD5. */
  ExplicitHashKey?: string;
}

export interface PutRecordOutput {
  ShardId: string;
  SequenceNumber: string;
}

export interface PutRecordFailure {
  ErrorCode: "InvalidArgumentException";
  ErrorMessage: string;
}

export interface PutRecordsOutput {
  FailedRecordCount: number;
  /** One entry per input record, in order. */
  Records: (PutRecordOutput | PutRecordFailure)[];
}

export type ShardIteratorType =
  | "TRIM_HORIZON"
  | "LATEST"
  | "AT_SEQUENCE_NUMBER"
  | "AFTER_SEQUENCE_NUMBER"
  | "AT_TIMESTAMP";

export interface ShardIteratorOptions {
  /** For AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER. */
  StartingSequenceNumber?: string;
  /** For AT_TIMESTAMP: the first record that arrived at or after this time. */
  Timestamp?: Date;
}

export interface StreamRecord {
  SequenceNumber: string;
  ApproximateArrivalTimestamp: Date;
  Data: Uint8Array;
  PartitionKey: string;
}

export interface GetRecordsOutput {
  Records: StreamRecord[];
  /** Null once a closed shard (split or merged) has been read to its end; ChildShards then names its children. */
  NextShardIterator: string | null;
  ChildShards?: ChildShard[];
  /** Arrival of the shard's newest record minus arrival of the last record returned; 0 when caught up. */
  MillisBehindLatest: number;
}

/**
 * GetRecords without an object per record: the page's records stay in the buffers they were read
 * into (see RecordPage). For consumers in this process that parse the data in place.
 */
export interface RecordPageOutput {
  page: RecordPage;
  NextShardIterator: string | null;
  ChildShards?: ChildShard[];
  MillisBehindLatest: number;
}

/** Where a shard stands, for consumers that compute their lag. */
export interface ShardStats {
  ShardId: string;
  /** Sequence number of the oldest record a reader can get (retention applied), null when none. */
  FirstSequenceNumber: string | null;
  /** Sequence number of the newest record, null when the shard never had one. */
  LastSequenceNumber: string | null;
  /** Records a reader at TRIM_HORIZON would get now. */
  RecordCount: number;
  /** Arrival time of the newest record, null when the shard never had one. */
  LastArrivalTimestamp: Date | null;
  /** Set when a split or merge closed the shard: LastSequenceNumber is then its last record for good. */
  Closed?: true;
}

/** fsync: every acknowledged batch is on stable storage (survives power loss). none: in the OS page
 * cache only (survives a crash or kill -9 of the process, not of the machine). */
export type SyncPolicy = "fsync" | "none";

export interface StreamServiceOptions {
  /** The state folder; streams live in `<dir>/streams/<name>/`. */
  dir: string;
  /** Milliseconds since the epoch; tests inject one to move time. Defaults to Date.now. */
  clock?: () => number;
  syncPolicy?: SyncPolicy;
  /** A segment file is sealed once it holds this many bytes; defaults to 64 MiB. */
  segmentBytes?: number;
  /** How often the retention sweep runs; 0 turns the timer off (it still runs on open). Default 60 s. */
  sweepIntervalMs?: number;
  /** Used in stream ARNs. */
  region?: string;
  accountId?: string;
}

export interface StreamEventMap {
  /** Records were committed to a shard (durable and readable). */
  records: {
    streamName: string;
    shardId: string;
    firstSequenceNumber: string;
    lastSequenceNumber: string;
    count: number;
    /** Their arrival time (ApproximateArrivalTimestamp, epoch ms): the shard's newest. */
    arrivalMs: number;
  };
  /** The retention sweep deleted segment files of a shard. */
  trimmed: { streamName: string; shardId: string; segmentsDeleted: number };
  /** The periodic retention sweep failed; it runs again at the next interval. */
  sweepFailed: { error: Error };
  /** A split, merge or UpdateShardCount took effect: `closed` shards take no more records. */
  resharded: { streamName: string; closed: string[]; created: string[] };
}

export interface StreamService {
  createStream(
    name: string,
    shardCount: number,
    opts?: { retentionHours?: number },
  ): Promise<StreamDescription>;
  listStreams(): Promise<string[]>;
  describeStream(name: string): Promise<StreamDescription>;
  deleteStream(name: string): Promise<void>;
  updateRetention(name: string, hours: number): Promise<void>;
  /** Shards as ListShards gives them (every shard not expired when no filter is given). */
  listShards(name: string, filter?: ShardFilter): Promise<ShardDescription[]>;
  /** SplitShard: the shard closes; two children share its hash keys at `newStartingHashKey`. */
  splitShard(name: string, shardToSplit: string, newStartingHashKey: string): Promise<void>;
  /** MergeShards: two adjacent open shards close; one child takes both ranges. */
  mergeShards(name: string, shardToMerge: string, adjacentShardToMerge: string): Promise<void>;
  /** UpdateShardCount (UNIFORM_SCALING) through splits and merges, with Kinesis's limits. */
  updateShardCount(name: string, targetShardCount: number): Promise<UpdateShardCountOutput>;
  putRecord(name: string, record: PutRecordInput): Promise<PutRecordOutput>;
  putRecords(name: string, records: PutRecordInput[]): Promise<PutRecordsOutput>;
  getShardIterator(
    name: string,
    shardId: string,
    type: ShardIteratorType,
    opts?: ShardIteratorOptions,
  ): Promise<string>;
  getRecords(iterator: string, limit?: number): Promise<GetRecordsOutput>;
  /** GetRecords' page as a RecordPage: the same records, iterator and lag, parsed in place. */
  getRecordPage(iterator: string, limit?: number): Promise<RecordPageOutput>;
  /**
   * Resolves true as soon as the shard has a record after `afterSequenceNumber` (null: any record),
   * false after `timeoutMs` or when the service closes; lets a consumer wait without polling.
   */
  waitForRecords(
    name: string,
    shardId: string,
    afterSequenceNumber: string | null,
    timeoutMs: number,
  ): Promise<boolean>;
  getShardStats(name: string): Promise<ShardStats[]>;
  /** Deletes expired segment files now; returns how many. Also runs on open and every sweepIntervalMs. */
  sweepRetention(): Promise<number>;
  on<E extends keyof StreamEventMap>(event: E, listener: (payload: StreamEventMap[E]) => void): () => void;
  /** What recovery repaired when the service opened (torn tail frames cut off). */
  readonly recovery: readonly RecoveryNote[];
  close(): Promise<void>;
}

/**
 * The stream part's public surface: a durable, sharded record log with Kinesis Data Streams'
 * model (shards, partition keys hashed with MD5, sequence numbers, shard iterators, retention).
 */

export {
  flatJsonNonDoubleMeasures,
  flatJsonRecordNames,
  flatJsonTimeField,
  flatJsonTypeField,
} from "./connector/flat-json-format.js";
export type { HashKeyRange } from "./hash-key.js";
export { hashKeyForPartitionKey, hashKeyRanges, shardForHashKey, shardForPartitionKey } from "./hash-key.js";
export * as streamLimits from "./limits.js";
export { RecordPage } from "./record-page.js";
export type { SequencePosition } from "./sequence-number.js";
export { formatSequenceNumber, formatShardId, parseSequenceNumber, parseShardId } from "./sequence-number.js";
export type { RecoveryNote } from "./shard-log.js";
export { openStreamService } from "./stream-service.js";
export type {
  ChildShard,
  GetRecordsOutput,
  PutRecordFailure,
  PutRecordInput,
  PutRecordOutput,
  PutRecordsOutput,
  RecordPageOutput,
  ShardDescription,
  ShardFilter,
  ShardIteratorOptions,
  ShardIteratorType,
  ShardStats,
  StreamDescription,
  StreamEventMap,
  StreamRecord,
  StreamService,
  StreamServiceOptions,
  SyncPolicy,
  UpdateShardCountOutput,
} from "./types.js";

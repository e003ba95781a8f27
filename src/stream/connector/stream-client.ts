/**
 * The stream calls the command line and the load generator make, offered by the local stream
 * service (below) and by the HTTP client (`RemoteStream` in src/api/client.ts), so commands work
 * the same with or without a running server.
 */
import type {
  GetRecordsOutput,
  PutRecordInput,
  PutRecordsOutput,
  ShardStats,
  StreamDescription,
  StreamService,
  UpdateShardCountOutput,
} from "../types.js";
import { parseReadPosition, readShardPage } from "./read-position.js";

export interface StreamClient {
  createStream(
    name: string,
    shardCount: number,
    opts?: { retentionHours?: number },
  ): Promise<StreamDescription>;
  listStreams(): Promise<string[]>;
  describeStream(name: string): Promise<StreamDescription>;
  getShardStats(name: string): Promise<ShardStats[]>;
  deleteStream(name: string): Promise<void>;
  splitShard(name: string, shardToSplit: string, newStartingHashKey: string): Promise<void>;
  mergeShards(name: string, shardToMerge: string, adjacentShardToMerge: string): Promise<void>;
  updateShardCount(name: string, targetShardCount: number): Promise<UpdateShardCountOutput>;
  putRecords(name: string, records: PutRecordInput[]): Promise<PutRecordsOutput>;
  /**
   * One page of a shard from a read position (`trim-horizon`, `latest`, `at:SEQ`, `after:SEQ`,
   * `time:ISO`, `iterator:IT`); with `waitMs`, waits that long for records when there are none.
   */
  readRecords(
    name: string,
    shardId: string,
    from: string,
    options?: { limit?: number; waitMs?: number },
  ): Promise<GetRecordsOutput>;
}

export function localStreamClient(service: StreamService): StreamClient {
  return {
    createStream: (name, shardCount, opts) => service.createStream(name, shardCount, opts),
    listStreams: () => service.listStreams(),
    describeStream: (name) => service.describeStream(name),
    getShardStats: (name) => service.getShardStats(name),
    deleteStream: (name) => service.deleteStream(name),
    splitShard: (name, shard, key) => service.splitShard(name, shard, key),
    mergeShards: (name, shard, adjacent) => service.mergeShards(name, shard, adjacent),
    updateShardCount: (name, count) => service.updateShardCount(name, count),
    putRecords: (name, records) => service.putRecords(name, records),
    readRecords: (name, shardId, from, options) =>
      readShardPage(service, name, shardId, parseReadPosition(from), options),
  };
}

import { validationError } from "../errors.js";
import { frameBytesOf, writeUnstampedFrame } from "./frame.js";
import { parseExplicitHashKey } from "./hash-key.js";
import type { PartitionKeyRouter, RoutedKey } from "./key-router.js";
import {
  maxGetRecordsLimit,
  maxPutRecordsRequestBytes,
  maxRecordBytes,
  maxRecordsPerPutRecords,
  maxRetentionHours,
  maxShardCount,
  maxStreamNameChars,
  minRetentionHours,
} from "./limits.js";

const streamNamePattern = /^[a-zA-Z0-9_.-]+$/;

export function validateStreamName(name: unknown): string {
  if (typeof name !== "string" || name.length < 1 || name.length > maxStreamNameChars) {
    throw validationError(`stream name must be 1..${maxStreamNameChars} characters`, {
      awsCode: "ValidationException",
    });
  }
  if (!streamNamePattern.test(name)) {
    throw validationError(`stream name ${JSON.stringify(name)} may only contain a-z, A-Z, 0-9, _ . -`, {
      awsCode: "ValidationException",
    });
  }
  // Kinesis accepts these, but here a stream is a folder and they name the folder itself or its parent.
  if (name === "." || name === "..") {
    throw validationError(`stream name ${JSON.stringify(name)} is reserved`, {
      awsCode: "ValidationException",
    });
  }
  return name;
}

export function validateShardCount(count: unknown): number {
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > maxShardCount) {
    throw validationError(`shard count must be an integer in 1..${maxShardCount}, got ${String(count)}`, {
      awsCode: "ValidationException",
    });
  }
  return count;
}

export function validateRetentionHours(hours: unknown): number {
  if (
    typeof hours !== "number" ||
    !Number.isInteger(hours) ||
    hours < minRetentionHours ||
    hours > maxRetentionHours
  ) {
    throw validationError(
      `retention must be an integer number of hours in ${minRetentionHours}..${maxRetentionHours}, got ${String(hours)}`,
      { awsCode: "InvalidArgumentException" },
    );
  }
  return hours;
}

export function validateGetRecordsLimit(limit: unknown): number {
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > maxGetRecordsLimit) {
    throw validationError(`limit must be an integer in 1..${maxGetRecordsLimit}, got ${String(limit)}`, {
      awsCode: "InvalidArgumentException",
    });
  }
  return limit;
}

export function validateRecordList(records: unknown): unknown[] {
  if (!Array.isArray(records) || records.length < 1 || records.length > maxRecordsPerPutRecords) {
    const got = Array.isArray(records) ? `${records.length} records` : typeof records;
    throw validationError(`PutRecords takes 1..${maxRecordsPerPutRecords} records, got ${got}`, {
      awsCode: "ValidationException",
    });
  }
  return records;
}

/** The frames one call adds to one shard: copied into one buffer when the call is made. */
export interface ShardFrames {
  shardIndex: number;
  /** Unstamped frames back to back (offsets, arrival time and checksums are written at commit). */
  buffer: Buffer;
  /** The call's record index (its slot in the results) of each frame, in order. */
  slots: number[];
}

/** A PutRecord(s) call's records, checked and framed per shard. */
export interface PreparedCall {
  shards: ShardFrames[];
  /** Refused records: slot → the reason. */
  failures: Map<number, string>;
  /** Partition key bytes + data bytes of the records taken: what Kinesis counts against 5 MiB. */
  totalBytes: number;
}

/**
 * Checks each record against Kinesis's limits and copies the good ones into one buffer of frames
 * per shard: two allocations per shard a call instead of a frame and an object per record.
 */
export function prepareRecords(records: readonly unknown[], router: PartitionKeyRouter): PreparedCall {
  const count = records.length;
  const shardOf = new Int32Array(count).fill(-1);
  const keys: Buffer[] = new Array(count);
  const bytesPerShard = new Map<number, number>();
  const failures = new Map<number, string>();
  let totalBytes = 0;
  for (let slot = 0; slot < count; slot++) {
    const record = records[slot];
    const routed = routeRecord(record, router);
    if (typeof routed === "string") {
      failures.set(slot, routed);
      continue;
    }
    const data = (record as { Data: Uint8Array }).Data;
    shardOf[slot] = routed.shardIndex;
    keys[slot] = routed.bytes;
    totalBytes += routed.bytes.length + data.length;
    const frameBytes = frameBytesOf(routed.bytes.length, data.length);
    bytesPerShard.set(routed.shardIndex, (bytesPerShard.get(routed.shardIndex) ?? 0) + frameBytes);
  }
  const byShard = new Map<number, ShardFrames & { filled: number }>();
  for (const [shardIndex, bytes] of bytesPerShard) {
    byShard.set(shardIndex, { shardIndex, buffer: Buffer.allocUnsafe(bytes), slots: [], filled: 0 });
  }
  for (let slot = 0; slot < count; slot++) {
    const shardIndex = shardOf[slot]!;
    if (shardIndex < 0) continue;
    const frames = byShard.get(shardIndex)!;
    const data = (records[slot] as { Data: Uint8Array }).Data;
    frames.filled += writeUnstampedFrame(frames.buffer, frames.filled, keys[slot]!, data);
    frames.slots.push(slot);
  }
  const shards = [...byShard.values()].map(({ shardIndex, buffer, slots }) => ({
    shardIndex,
    buffer,
    slots,
  }));
  return { shards, failures, totalBytes };
}

/** The partition key's bytes and shard for one record, or the reason it is refused. */
function routeRecord(record: unknown, router: PartitionKeyRouter): RoutedKey | string {
  if (typeof record !== "object" || record === null) return "record must be an object";
  const {
    Data: data,
    PartitionKey: partitionKey,
    ExplicitHashKey: explicitHashKey,
  } = record as Record<string, unknown>;
  if (!(data instanceof Uint8Array)) return "Data must be bytes (a Uint8Array)";
  if (typeof partitionKey !== "string") return "PartitionKey must be a string";
  const routed = router.route(partitionKey);
  if (typeof routed === "string") return routed;
  const sizeBytes = routed.bytes.length + data.length;
  if (sizeBytes > maxRecordBytes) {
    return `record is ${sizeBytes} bytes (partition key + data), more than ${maxRecordBytes}`;
  }
  if (explicitHashKey === undefined) return routed;
  try {
    return {
      bytes: routed.bytes,
      shardIndex: router.shardForHashKey(parseExplicitHashKey(explicitHashKey)),
    };
  } catch (error) {
    return (error as Error).message;
  }
}

/** The whole-call size limit of PutRecords, counted over the records that are well-formed. */
export function validateRequestBytes(totalBytes: number): void {
  if (totalBytes > maxPutRecordsRequestBytes) {
    throw validationError(
      `PutRecords request is ${totalBytes} bytes, more than ${maxPutRecordsRequestBytes}`,
      {
        awsCode: "ValidationException",
      },
    );
  }
}

import { validationError } from "../errors.js";
import { buildFrame } from "./frame.js";
import { parseExplicitHashKey, shardForHashKey, shardForPartitionKey } from "./hash-key.js";
import {
  maxGetRecordsLimit,
  maxPartitionKeyChars,
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

/** A record checked and turned into a frame, with the shard it goes to. */
export interface PreparedRecord {
  shardIndex: number;
  frame: Buffer;
  /** Partition key bytes + data bytes: what Kinesis counts against the size limits. */
  sizeBytes: number;
}

/** Checks one record against Kinesis's limits; returns it prepared or the reason it is refused. */
export function prepareRecord(record: unknown, shardCount: number): PreparedRecord | { error: string } {
  if (typeof record !== "object" || record === null) return { error: "record must be an object" };
  const {
    Data: data,
    PartitionKey: partitionKey,
    ExplicitHashKey: explicitHashKey,
  } = record as Record<string, unknown>;
  if (!(data instanceof Uint8Array)) return { error: "Data must be bytes (a Uint8Array)" };
  if (typeof partitionKey !== "string") return { error: "PartitionKey must be a string" };
  // Characters are code points; UTF-16 length only over-counts, so count exactly only when it matters.
  const keyChars =
    partitionKey.length <= maxPartitionKeyChars ? partitionKey.length : [...partitionKey].length;
  if (keyChars < 1 || keyChars > maxPartitionKeyChars) {
    return { error: `PartitionKey must be 1..${maxPartitionKeyChars} characters, got ${keyChars}` };
  }
  const keyBytes = Buffer.from(partitionKey, "utf8");
  const sizeBytes = keyBytes.length + data.length;
  if (sizeBytes > maxRecordBytes) {
    return { error: `record is ${sizeBytes} bytes (partition key + data), more than ${maxRecordBytes}` };
  }
  let shardIndex: number;
  if (explicitHashKey === undefined) {
    shardIndex = shardForPartitionKey(partitionKey, shardCount);
  } else {
    try {
      shardIndex = shardForHashKey(parseExplicitHashKey(explicitHashKey), shardCount);
    } catch (error) {
      return { error: (error as Error).message };
    }
  }
  return { shardIndex, frame: buildFrame(keyBytes, data), sizeBytes };
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

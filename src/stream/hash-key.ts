import { createHash } from "node:crypto";
import { validationError } from "../errors.js";
import { maxHashKey } from "./limits.js";

/** The inclusive hash key range of one shard, as decimal strings (Kinesis's HashKeyRange). */
export interface HashKeyRange {
  StartingHashKey: string;
  EndingHashKey: string;
}

/** MD5 of the partition key's UTF-8 bytes read as a 128-bit big-endian unsigned integer, as Kinesis. */
export function hashKeyForPartitionKey(partitionKey: string): bigint {
  const digest = createHash("md5").update(partitionKey, "utf8").digest("hex");
  return BigInt(`0x${digest}`);
}

/** Width of every shard's range but the last, which also takes the remainder up to 2^128 - 1. */
const shardWidth = (shardCount: number): bigint => (maxHashKey + 1n) / BigInt(shardCount);

/** Splits [0, 2^128 - 1] evenly: shard i covers [i*w, (i+1)*w - 1], the last up to 2^128 - 1. */
export function hashKeyRanges(shardCount: number): HashKeyRange[] {
  const width = shardWidth(shardCount);
  const ranges: HashKeyRange[] = [];
  for (let i = 0; i < shardCount; i++) {
    const start = BigInt(i) * width;
    const end = i === shardCount - 1 ? maxHashKey : start + width - 1n;
    ranges.push({ StartingHashKey: start.toString(), EndingHashKey: end.toString() });
  }
  return ranges;
}

/** The index of the shard whose range holds the hash key. */
export function shardForHashKey(hashKey: bigint, shardCount: number): number {
  if (hashKey < 0n || hashKey > maxHashKey)
    throw validationError(`hash key ${hashKey} is outside [0, 2^128 - 1]`);
  const index = hashKey / shardWidth(shardCount);
  // Only the last shard is wider than the others, so the quotient can overshoot by its remainder.
  return Math.min(Number(index), shardCount - 1);
}

/** The index of the shard a partition key maps to in a stream of `shardCount` shards. */
export function shardForPartitionKey(partitionKey: string, shardCount: number): number {
  return shardForHashKey(hashKeyForPartitionKey(partitionKey), shardCount);
}

const decimalPattern = /^(0|[1-9][0-9]*)$/;

/** Parses an ExplicitHashKey: a decimal string in [0, 2^128 - 1]; throws ValidationError otherwise. */
export function parseExplicitHashKey(value: unknown): bigint {
  if (typeof value !== "string" || !decimalPattern.test(value)) {
    throw validationError("ExplicitHashKey must be a decimal string without sign or leading zeros");
  }
  const hashKey = BigInt(value);
  if (hashKey > maxHashKey) throw validationError("ExplicitHashKey must be at most 2^128 - 1");
  return hashKey;
}

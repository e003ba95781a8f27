/**
 * Kinesis Data Streams limits that the embedded stream enforces, so that a producer or consumer
 * that works here also works against Amazon Kinesis (and the reverse).
 */

/** PutRecords accepts 1..500 records a call. */
export const maxRecordsPerPutRecords = 500;

/** One record (partition key bytes + data bytes) may be at most 1 MiB. */
export const maxRecordBytes = 1_048_576;

/** One PutRecords call (all partition keys + all data) may be at most 5 MiB. */
export const maxPutRecordsRequestBytes = 5 * 1_048_576;

/** Partition keys are 1..256 Unicode characters. */
export const maxPartitionKeyChars = 256;

/** GetRecords returns at most 10,000 records (the default limit) ... */
export const maxGetRecordsLimit = 10_000;

/** ... and at most 10 MiB of data a call. */
export const maxGetRecordsBytes = 10 * 1_048_576;

/** A shard iterator expires 5 minutes after it is returned. */
export const shardIteratorTtlMs = 5 * 60 * 1000;

/** Retention is 24 hours by default; Kinesis allows 24..8760 hours (one year). */
export const defaultRetentionHours = 24;
export const minRetentionHours = 24;
export const maxRetentionHours = 8760;

/** Stream names: 1..128 characters of [a-zA-Z0-9_.-], as Kinesis. */
export const maxStreamNameChars = 128;

/**
 * Kinesis's default account quota is far higher, but every shard here is a folder with open files
 * on one machine: 64 shards is well past what one process can feed.
 */
export const maxShardCount = 64;

/** The largest hash key: 2^128 - 1. */
export const maxHashKey = (1n << 128n) - 1n;

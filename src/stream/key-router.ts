import { hashKeyForPartitionKey, hashKeyRanges } from "./hash-key.js";
import { maxHashKey, maxPartitionKeyChars } from "./limits.js";

/** A partition key checked, as UTF-8 bytes, with the shard its MD5 picks. */
export interface RoutedKey {
  bytes: Buffer;
  shardIndex: number;
}

/** An open shard: its index and the first hash key of its range (ranges cover [0, 2^128 - 1] in order). */
export interface RoutedShard {
  index: number;
  startingHashKey: string;
}

/** Keys remembered per stream; past this the cache starts over (producers with ever new keys). */
const defaultMaxCachedKeys = 65_536;

/**
 * Partition key → shard, for one stream. Producers repeat their keys (one per host: 1,000 keys
 * carry the seed's 26,000 records a loop), so the MD5, its 128-bit division and the UTF-8 encoding
 * are paid once per key instead of once per record. The shards are the stream's open ones, with
 * any hash key ranges (a reshard makes a new router); for `n` even shards the answer is
 * `shardForPartitionKey(key, n)`: only the work is cached.
 */
export class PartitionKeyRouter {
  private readonly keys = new Map<string, RoutedKey>();
  /** Open shards' first hash keys, ascending, and their indexes. */
  private readonly starts: bigint[];
  private readonly indexes: number[];

  constructor(
    shards: number | readonly RoutedShard[],
    private readonly maxCachedKeys = defaultMaxCachedKeys,
  ) {
    const list =
      typeof shards === "number"
        ? hashKeyRanges(shards).map((r, index) => ({ index, startingHashKey: r.StartingHashKey }))
        : [...shards];
    list.sort((a, b) => (BigInt(a.startingHashKey) < BigInt(b.startingHashKey) ? -1 : 1));
    this.starts = list.map((s) => BigInt(s.startingHashKey));
    this.indexes = list.map((s) => s.index);
  }

  /** The open shard whose range holds the hash key: the last one starting at or before it. */
  shardForHashKey(hashKey: bigint): number {
    if (hashKey < 0n || hashKey > maxHashKey)
      throw new RangeError(`hash key ${hashKey} is outside [0, 2^128 - 1]`);
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= hashKey) low = mid;
      else high = mid - 1;
    }
    return this.indexes[low]!;
  }

  /** The key's bytes and shard, or the reason Kinesis refuses it. */
  route(partitionKey: string): RoutedKey | string {
    const cached = this.keys.get(partitionKey);
    if (cached !== undefined) return cached;
    // Characters are code points; UTF-16 length only over-counts, so count exactly only when it matters.
    const chars =
      partitionKey.length <= maxPartitionKeyChars ? partitionKey.length : [...partitionKey].length;
    if (chars < 1 || chars > maxPartitionKeyChars) {
      return `PartitionKey must be 1..${maxPartitionKeyChars} characters, got ${chars}`;
    }
    const routed: RoutedKey = {
      bytes: Buffer.from(partitionKey, "utf8"),
      shardIndex: this.shardForHashKey(hashKeyForPartitionKey(partitionKey)),
    };
    if (this.keys.size >= this.maxCachedKeys) this.keys.clear();
    this.keys.set(partitionKey, routed);
    return routed;
  }
}

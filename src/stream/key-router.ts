import { shardForPartitionKey } from "./hash-key.js";
import { maxPartitionKeyChars } from "./limits.js";

/** A partition key checked, as UTF-8 bytes, with the shard its MD5 picks. */
export interface RoutedKey {
  bytes: Buffer;
  shardIndex: number;
}

/** Keys remembered per stream; past this the cache starts over (producers with ever new keys). */
const defaultMaxCachedKeys = 65_536;

/**
 * Partition key → shard, for one stream. Producers repeat their keys (one per host: 1,000 keys
 * carry the seed's 26,000 records a loop), so the MD5, its 128-bit division and the UTF-8 encoding
 * are paid once per key instead of once per record. The answer is the same as
 * `shardForPartitionKey`: only the work is cached.
 */
export class PartitionKeyRouter {
  private readonly keys = new Map<string, RoutedKey>();

  constructor(
    readonly shardCount: number,
    private readonly maxCachedKeys = defaultMaxCachedKeys,
  ) {}

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
      shardIndex: shardForPartitionKey(partitionKey, this.shardCount),
    };
    if (this.keys.size >= this.maxCachedKeys) this.keys.clear();
    this.keys.set(partitionKey, routed);
    return routed;
  }
}

/**
 * A stream's shards and their lineage, as Kinesis resharding leaves them: every shard ever made,
 * with its hash key range, its parent(s), and, once a split or merge closed it, the offset of its
 * last record. Shard indexes are dense (0, 1, 2, …) and never reused: children continue the
 * numbering, so `shardId-000000000004` follows four original shards.
 *
 * Planning a reshard is pure: it takes a layout and returns the next one (or throws with Kinesis's
 * error code), so the service can write it to stream.json in one atomic step before switching.
 */
import { validationError } from "../errors.js";
import { hashKeyRanges } from "./hash-key.js";
import { maxHashKey, maxShardCount } from "./limits.js";
import { formatShardId, parseShardId } from "./sequence-number.js";
import type { ShardMeta } from "./stream-meta.js";

export type { ShardMeta };

/** The shards of a stream created with `count` shards at `createdMs`: an even split of the hash keys. */
export function initialLayout(count: number, createdMs: number): ShardMeta[] {
  return hashKeyRanges(count).map((range, index) => ({
    index,
    startingHashKey: range.StartingHashKey,
    endingHashKey: range.EndingHashKey,
    createdMs,
  }));
}

export const isOpen = (shard: ShardMeta): boolean => shard.endingOffset === undefined;

/** Open shards in hash key order: together they cover [0, 2^128 - 1] without overlap. */
export function openShards(layout: readonly ShardMeta[]): ShardMeta[] {
  return layout.filter(isOpen).sort((a, b) => compareKeys(a.startingHashKey, b.startingHashKey));
}

const compareKeys = (a: string, b: string): number => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The offset of each open shard's last record (-1: none), to close it at. */
export type LastOffsetOf = (index: number) => number;

/** A reshard in progress: the layout being built, and when. */
class Plan {
  readonly layout: ShardMeta[];
  /** Shards from this index on were made by this plan. */
  private readonly firstNewIndex: number;

  constructor(
    layout: readonly ShardMeta[],
    private readonly nowMs: number,
    private readonly lastOffsetOf: LastOffsetOf,
  ) {
    this.layout = layout.map((shard) => ({ ...shard }));
    this.firstNewIndex = layout.length;
  }

  private close(shard: ShardMeta): void {
    // A shard closed in this same plan (a short-lived one) never took a record.
    shard.endingOffset = shard.index < this.firstNewIndex ? this.lastOffsetOf(shard.index) : -1;
    shard.closedMs = this.nowMs;
  }

  private add(start: bigint, end: bigint, parent: number, adjacentParent?: number): ShardMeta {
    const shard: ShardMeta = {
      index: this.layout.length,
      startingHashKey: start.toString(),
      endingHashKey: end.toString(),
      parent,
      ...(adjacentParent === undefined ? {} : { adjacentParent }),
      createdMs: this.nowMs,
    };
    this.layout.push(shard);
    return shard;
  }

  split(shard: ShardMeta, newStart: bigint): [ShardMeta, ShardMeta] {
    this.close(shard);
    const low = this.add(BigInt(shard.startingHashKey), newStart - 1n, shard.index);
    const high = this.add(newStart, BigInt(shard.endingHashKey), shard.index);
    return [low, high];
  }

  /** `low` and `high` are adjacent, `low` first; the child names `low` as parent, as Kinesis names the shard to merge. */
  merge(low: ShardMeta, high: ShardMeta, parentFirst: ShardMeta = low): ShardMeta {
    this.close(low);
    this.close(high);
    const adjacent = parentFirst === low ? high : low;
    return this.add(
      BigInt(low.startingHashKey),
      BigInt(high.endingHashKey),
      parentFirst.index,
      adjacent.index,
    );
  }
}

/** The open shard named `shardId`, or Kinesis's error for a missing or closed one. */
function openShard(layout: readonly ShardMeta[], shardId: string, stream: string, what: string): ShardMeta {
  let index: number;
  try {
    index = parseShardId(shardId);
  } catch {
    throw validationError(`${what} ${JSON.stringify(shardId)} is not a shard id (shardId-000000000000)`, {
      awsCode: "InvalidArgumentException",
    });
  }
  const shard = layout[index];
  if (!shard) {
    throw validationError(`${what} ${shardId} does not exist in stream ${stream}`, {
      awsCode: "ResourceNotFoundException",
    });
  }
  if (!isOpen(shard)) {
    throw validationError(
      `shard ${shardId} in stream ${stream} has already been merged or split, and thus is not eligible for merging or splitting; ListShards with ShardFilter AT_LATEST lists the open shards`,
      { awsCode: "InvalidArgumentException" },
    );
  }
  return shard;
}

function checkOpenCount(count: number, stream: string): void {
  if (count > maxShardCount) {
    throw validationError(
      `stream ${stream} would have ${count} open shards; at most ${maxShardCount} are allowed here`,
      { awsCode: "LimitExceededException" },
    );
  }
}

const decimal = /^(0|[1-9][0-9]*)$/;

/** SplitShard: the shard closes; its children take [start, newStart - 1] and [newStart, end]. */
export function planSplit(
  layout: readonly ShardMeta[],
  stream: string,
  shardToSplit: string,
  newStartingHashKey: string,
  nowMs: number,
  lastOffsetOf: LastOffsetOf,
): ShardMeta[] {
  const shard = openShard(layout, shardToSplit, stream, "ShardToSplit");
  if (typeof newStartingHashKey !== "string" || !decimal.test(newStartingHashKey)) {
    throw validationError(
      `NewStartingHashKey ${JSON.stringify(newStartingHashKey)} must be a decimal integer without sign or leading zeros`,
      { awsCode: "InvalidArgumentException" },
    );
  }
  const newStart = BigInt(newStartingHashKey);
  const start = BigInt(shard.startingHashKey);
  const end = BigInt(shard.endingHashKey);
  // Both children must get at least one hash key: the new start is after the shard's first key and
  // at most its last.
  if (newStart <= start || newStart > end || newStart > maxHashKey) {
    throw validationError(
      `NewStartingHashKey ${newStartingHashKey} must be in ${start + 1n}..${end}, inside the hash key range of ${shardToSplit} [${start}, ${end}] and after its first key, so that both children get keys`,
      { awsCode: "InvalidArgumentException" },
    );
  }
  checkOpenCount(openShards(layout).length + 1, stream);
  const plan = new Plan(layout, nowMs, lastOffsetOf);
  plan.split(plan.layout[shard.index]!, newStart);
  return plan.layout;
}

/** MergeShards: two adjacent open shards close; one child covers both ranges. */
export function planMerge(
  layout: readonly ShardMeta[],
  stream: string,
  shardToMerge: string,
  adjacentShardToMerge: string,
  nowMs: number,
  lastOffsetOf: LastOffsetOf,
): ShardMeta[] {
  const first = openShard(layout, shardToMerge, stream, "ShardToMerge");
  const second = openShard(layout, adjacentShardToMerge, stream, "AdjacentShardToMerge");
  if (first.index === second.index) {
    throw validationError(`ShardToMerge and AdjacentShardToMerge are both ${shardToMerge}`, {
      awsCode: "InvalidArgumentException",
    });
  }
  const [low, high] =
    compareKeys(first.startingHashKey, second.startingHashKey) < 0 ? [first, second] : [second, first];
  if (BigInt(low.endingHashKey) + 1n !== BigInt(high.startingHashKey)) {
    throw validationError(
      `shards ${shardToMerge} [${first.startingHashKey}, ${first.endingHashKey}] and ${adjacentShardToMerge} [${second.startingHashKey}, ${second.endingHashKey}] are not adjacent: only shards whose hash key ranges touch can be merged`,
      { awsCode: "InvalidArgumentException" },
    );
  }
  const plan = new Plan(layout, nowMs, lastOffsetOf);
  const lowCopy = plan.layout[low.index]!;
  const highCopy = plan.layout[high.index]!;
  plan.merge(lowCopy, highCopy, first === low ? lowCopy : highCopy);
  return plan.layout;
}

/**
 * UpdateShardCount with UNIFORM_SCALING, done as Kinesis does it: with splits and merges, so the
 * final open shards have even ranges (those of a stream created with `target` shards) and short-lived
 * shards may be made on the way. First every open shard is split at the target boundaries inside
 * it; then the pieces of each target range are merged, left to right.
 */
export function planUniformScaling(
  layout: readonly ShardMeta[],
  target: number,
  nowMs: number,
  lastOffsetOf: LastOffsetOf,
): ShardMeta[] {
  const plan = new Plan(layout, nowMs, lastOffsetOf);
  const targets = hashKeyRanges(target).map((r) => ({
    start: BigInt(r.StartingHashKey),
    end: BigInt(r.EndingHashKey),
  }));
  // Pieces in hash key order: each lies within one target range.
  const pieces: ShardMeta[] = [];
  for (const shard of openShards(plan.layout)) {
    let current = shard;
    for (const { start } of targets) {
      if (start > BigInt(current.startingHashKey) && start <= BigInt(current.endingHashKey)) {
        const [low, high] = plan.split(current, start);
        pieces.push(low);
        current = high;
      }
    }
    pieces.push(current);
  }
  let next = 0;
  for (const { end } of targets) {
    let merged = pieces[next++]!;
    while (BigInt(merged.endingHashKey) < end) merged = plan.merge(merged, pieces[next++]!);
  }
  return plan.layout;
}

/** A shard's description fields that come from the layout. */
export function lineageOf(shard: ShardMeta): { ParentShardId?: string; AdjacentParentShardId?: string } {
  return {
    ...(shard.parent === undefined ? {} : { ParentShardId: formatShardId(shard.parent) }),
    ...(shard.adjacentParent === undefined
      ? {}
      : { AdjacentParentShardId: formatShardId(shard.adjacentParent) }),
  };
}

/** The open children of a closed shard (for GetRecords' ChildShards), with both their parents. */
export function childrenOf(
  layout: readonly ShardMeta[],
  index: number,
): {
  ShardId: string;
  ParentShards: string[];
  HashKeyRange: { StartingHashKey: string; EndingHashKey: string };
}[] {
  return layout
    .filter((s) => s.parent === index || s.adjacentParent === index)
    .map((s) => ({
      ShardId: formatShardId(s.index),
      ParentShards: [s.parent, s.adjacentParent]
        .filter((p): p is number => p !== undefined)
        .map((p) => formatShardId(p)),
      HashKeyRange: { StartingHashKey: s.startingHashKey, EndingHashKey: s.endingHashKey },
    }));
}

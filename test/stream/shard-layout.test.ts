/** The reshard planner alone: every UpdateShardCount within Kinesis's limits gives a whole, even layout. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashKeyRanges } from "../../src/stream/index.js";
import {
  initialLayout,
  openShards,
  planUniformScaling,
  type ShardMeta,
} from "../../src/stream/shard-layout.js";

const lastOffsetOf = (index: number) => index * 10 - 1; // shard i had 10 i records

/** Open shards cover [0, 2^128 - 1] once, and every closed shard's children cover its range. */
function assertWhole(layout: ShardMeta[], what: string): void {
  let next = 0n;
  for (const shard of openShards(layout)) {
    assert.equal(BigInt(shard.startingHashKey), next, what);
    next = BigInt(shard.endingHashKey) + 1n;
  }
  assert.equal(next, 1n << 128n, what);
  layout.forEach((shard, index) => {
    assert.equal(shard.index, index, what);
    if (shard.endingOffset === undefined) return;
    const children = layout
      .filter((c) => c.parent === index || c.adjacentParent === index)
      .map((c) => [BigInt(c.startingHashKey), BigInt(c.endingHashKey)] as const);
    assert.ok(
      children.length >= 1 && children.length <= 2,
      `${what}: shard ${index} has ${children.length} children`,
    );
    const start = BigInt(shard.startingHashKey);
    const end = BigInt(shard.endingHashKey);
    // A split's children cover exactly the parent; a merge's child covers it and its neighbour.
    assert.ok(
      children.some(([s]) => s <= start) && children.some(([, e]) => e >= end),
      `${what}: children of ${index}`,
    );
  });
}

describe("planUniformScaling", () => {
  it("reaches even ranges from every count 1-16 to every target from half to double", () => {
    for (let from = 1; from <= 16; from++) {
      for (let target = Math.ceil(from / 2); target <= from * 2; target++) {
        if (target === from) continue;
        const what = `${from} → ${target}`;
        const layout = planUniformScaling(initialLayout(from, 0), target, 1_000, lastOffsetOf);
        assertWhole(layout, what);
        assert.deepEqual(
          openShards(layout).map((s) => ({
            StartingHashKey: s.startingHashKey,
            EndingHashKey: s.endingHashKey,
          })),
          hashKeyRanges(target),
          what,
        );
        // The original shards close at their last record; shards made and closed by the plan were never written.
        for (const shard of layout) {
          if (shard.endingOffset === undefined) continue;
          assert.equal(shard.endingOffset, shard.index < from ? lastOffsetOf(shard.index) : -1, what);
          assert.equal(shard.closedMs, 1_000, what);
        }
      }
    }
  });

  it("chains: 2 → 4 → 3 → 6 → 5 keeps the lineage whole", () => {
    let layout = initialLayout(2, 0);
    for (const target of [4, 3, 6, 5]) {
      layout = planUniformScaling(layout, target, 1_000 + target, lastOffsetOf);
      assertWhole(layout, `to ${target}`);
      assert.equal(openShards(layout).length, target);
    }
  });
});

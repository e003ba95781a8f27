import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deriveSeed, SeededRandom } from "../../src/loadgen/random.js";

describe("seeded random", () => {
  it("repeats its sequence for a seed and differs between seeds", () => {
    const draw = (seed: number): number[] => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 16 }, () => random.nextUint32());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.ok(
      draw(0).some((x) => x !== 0),
      "seed 0 must not give a stuck all-zero state",
    );
  });

  it("draws floats in [0, 1) with a mean near one half", () => {
    const random = new SeededRandom(1);
    let sum = 0;
    const draws = 100_000;
    for (let k = 0; k < draws; k++) {
      const x = random.nextFloat();
      assert.ok(x >= 0 && x < 1);
      sum += x;
    }
    // Standard error of the mean is 1/sqrt(12 n) ≈ 0.0009; allow five of them.
    assert.ok(Math.abs(sum / draws - 0.5) < 0.005, `mean ${sum / draws}`);
  });

  it("draws integers in [0, bound) covering every value, and rejects a bad bound", () => {
    const random = new SeededRandom(2);
    const seen = new Uint32Array(7);
    for (let k = 0; k < 70_000; k++) seen[random.nextInt(7)]!++;
    for (const count of seen) assert.ok(Math.abs(count - 10_000) < 500, `count ${count}`);
    for (const bound of [0, -1, 1.5, 2 ** 33]) assert.throws(() => random.nextInt(bound), RangeError);
  });

  it("shuffles into a permutation", () => {
    const items = Array.from({ length: 50 }, (_, k) => k);
    new SeededRandom(3).shuffle(items);
    assert.notDeepEqual(
      items,
      Array.from({ length: 50 }, (_, k) => k),
    );
    assert.deepEqual(
      [...items].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, k) => k),
    );
  });

  it("derives different seeds from different (seed, time) pairs, including times past 2^32", () => {
    const seeds = new Set<number>();
    for (const seed of [0, 1, 12345]) {
      for (const time of [0, 1, 1_700_000_000, 2 ** 32, 2 ** 32 + 1, 2 ** 40])
        seeds.add(deriveSeed(seed, time, 3));
    }
    assert.equal(seeds.size, 18);
    assert.equal(deriveSeed(5, 6, 7), deriveSeed(5, 6, 7));
    assert.notEqual(deriveSeed(5, 6), deriveSeed(6, 5));
  });
});

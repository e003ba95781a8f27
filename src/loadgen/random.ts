/**
 * A small seeded pseudo-random generator: xoshiro128** (Blackman and Vigna), seeded through
 * splitmix32. Written here rather than taken from a package because the generator must be
 * deterministic across Node versions and machines (Math.random is not seedable) and the hot loop
 * wants a monomorphic class V8 can inline.
 *
 * Python's `random.Random(12345)` (a Mersenne Twister) cannot be reproduced cheaply, so the
 * instance-name prefix differs from the seed's `zaZswmJk`; what matters is that it is fixed for a
 * given seed.
 */

/** 2^-32: turns a 32-bit unsigned integer into a float in [0, 1). */
const inverseTwoPow32 = 2.3283064365386963e-10;
const twoPow32 = 4294967296;

/** Letters then digits, the alphabet of Python's `string.ascii_letters + string.digits`. */
export const ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed32` is any 32-bit integer; expand wider inputs with deriveSeed first. */
  constructor(seed32: number) {
    // splitmix32 spreads one 32-bit word over the 128-bit state, so nearby seeds give unrelated
    // streams and the state is never all zero.
    let s = seed32 | 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotateLeft(this.d, 11);
    return result >>> 0;
  }

  /** A float in [0, 1) with 32 bits of resolution (plenty for generated metrics). */
  nextFloat(): number {
    return this.nextUint32() * inverseTwoPow32;
  }

  /** An integer in [0, bound), without modulo bias (rejection sampling). */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > twoPow32) {
      throw new RangeError(`bound must be an integer in 1..2^32, got ${bound}`);
    }
    const limit = twoPow32 - (twoPow32 % bound);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % bound;
    }
  }

  /** Shuffles in place (Fisher–Yates). */
  shuffle<T>(items: T[] | Int32Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const kept = items[i]!;
      items[i] = items[j]!;
      items[j] = kept;
    }
  }

  /** A string of `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string = ALPHANUMERIC): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.nextInt(alphabet.length)];
    return out;
  }
}

function rotateLeft(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}

/**
 * Folds several non-negative safe integers (a seed, a time in seconds, a stream number) into one
 * 32-bit seed, murmur3-style, so that every (seed, time, stream) gets its own independent stream.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const part of parts) {
    const low = (part % twoPow32) | 0;
    const high = Math.floor(part / twoPow32) | 0;
    h = mixWord(h, low);
    h = mixWord(h, high);
  }
  h ^= parts.length * 8;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = rotateLeft(k, 15);
  k = Math.imul(k, 0x1b873593);
  let mixed = h ^ k;
  mixed = rotateLeft(mixed, 13);
  return (Math.imul(mixed, 5) + 0xe6546b64) | 0;
}

/**
 * Late data, as the original's --percent-late / --late-time: a share of loops arrives
 * `lateSeconds` after its own time. The original stamped a loop with `now - late_time`; we hold
 * the loop back and send it later with its original time, which lands the same data in the store
 * and also works for historical fills.
 */
import { validationError } from "../errors.js";
import type { GeneratedLoop } from "./generate.js";
import { STREAM_LATE } from "./model.js";
import { deriveSeed, SeededRandom } from "./random.js";

export function validatePercentLate(percentLate: unknown): number {
  if (
    typeof percentLate !== "number" ||
    !Number.isFinite(percentLate) ||
    percentLate < 0 ||
    percentLate > 100
  ) {
    throw validationError(`percentLate must be a number in 0..100, got ${String(percentLate)}`, {
      percentLate,
    });
  }
  return percentLate;
}

export function validateLateSeconds(lateSeconds: unknown): number {
  if (typeof lateSeconds !== "number" || !Number.isSafeInteger(lateSeconds) || lateSeconds < 0) {
    throw validationError(`lateSeconds must be a non-negative integer, got ${String(lateSeconds)}`, {
      lateSeconds,
    });
  }
  return lateSeconds;
}

/**
 * Whether the loop at `time` is late. Decided by (seed, time) alone, so a re-run of the same fill
 * holds back the same loops.
 */
export function isLateLoop(seed: number, time: number, percentLate: number): boolean {
  if (percentLate <= 0) return false;
  if (percentLate >= 100) return true;
  return new SeededRandom(deriveSeed(seed, time, STREAM_LATE)).nextFloat() * 100 < percentLate;
}

/**
 * Loops held back, oldest first. Loops arrive in time order and share one delay, so their due
 * times are in order too and a FIFO is enough.
 */
export class LateQueue {
  private readonly held: { dueSeconds: number; loop: GeneratedLoop }[] = [];

  constructor(private readonly lateSeconds: number) {}

  get size(): number {
    return this.held.length;
  }

  hold(loop: GeneratedLoop): void {
    this.held.push({ dueSeconds: loop.time + this.lateSeconds, loop });
  }

  /** Due time (epoch seconds) of the oldest held loop, or undefined when none is held. */
  nextDueSeconds(): number | undefined {
    return this.held[0]?.dueSeconds;
  }

  /** Removes and returns the oldest loop if it is due at `nowSeconds`. */
  takeDue(nowSeconds: number): GeneratedLoop | undefined {
    const head = this.held[0];
    if (head === undefined || head.dueSeconds > nowSeconds) return undefined;
    this.held.shift();
    return head.loop;
  }

  /** Removes and returns every held loop, oldest first. */
  takeAll(): GeneratedLoop[] {
    return this.held.splice(0).map((entry) => entry.loop);
  }
}

import assert from "node:assert/strict";
import { isHourglassError } from "../../src/errors.js";
import type { GeneratedLoop, LoadSink } from "../../src/loadgen/index.js";

/** For assert.throws / assert.rejects: a ValidationError whose message matches `pattern`. */
export const validationErrorMatching =
  (pattern: RegExp) =>
  (error: unknown): true => {
    assert.ok(isHourglassError(error, "ValidationError"), `expected a ValidationError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };

/** A sink that keeps the loops it is given, in order. */
export function collectingSink(): LoadSink & { loops: GeneratedLoop[] } {
  const loops: GeneratedLoop[] = [];
  return {
    loops,
    async write(loop) {
      loops.push(loop);
    },
  };
}

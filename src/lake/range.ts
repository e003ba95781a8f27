/**
 * Resolving a requested byte range against an object's size, with HTTP's rules (RFC 9110
 * section 14.1.2), which S3 follows: an end past the last byte is clipped, a suffix longer than
 * the object is the whole object, and a range that starts at or past the end cannot be satisfied.
 */
import { validationError } from "../errors.js";
import type { ByteRange } from "./types.js";

/** The first and last byte (inclusive) of `range` in an object of `size` bytes; null if unsatisfiable. */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } | null {
  if (size === 0) return null;
  if ("suffix" in range) {
    if (range.suffix <= 0) return null;
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) return null;
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  return { start: range.start, end };
}

export function checkByteRange(range: ByteRange): ByteRange {
  const isCount = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if ("suffix" in range) {
    if (!isCount(range.suffix)) throw validationError("a suffix range needs a byte count", { range });
    return range;
  }
  if (!isCount(range.start) || (range.end !== undefined && !isCount(range.end)))
    throw validationError("a byte range needs whole, non-negative offsets", { range });
  if (range.end !== undefined && range.end < range.start)
    throw validationError(`byte range ${range.start}-${range.end} ends before it starts`, { range });
  return range;
}

export function unsatisfiableRange(range: ByteRange, size: number, where: Record<string, unknown>) {
  const shown = "suffix" in range ? `-${range.suffix}` : `${range.start}-${range.end ?? ""}`;
  return validationError(`byte range ${shown} is outside the object's ${size} bytes`, {
    ...where,
    size,
    unsatisfiableRange: shown,
  });
}

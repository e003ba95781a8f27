/**
 * A byte scanner for the original generator's single-measure JSON, in the bytes the stream read
 * (no text decoding, no object per record): `{"MeasureName":"…","MeasureValue":"…",…,"region":"…"}`.
 * It finds where the five keys' values and each dimension's name and value are, and hashes the
 * dimensions' values in order so a series can be looked up without building a string (the series
 * table then compares names and values).
 *
 * It takes only the plain case: an object whose keys and values are all strings of printable ASCII
 * without escapes, the five keys spelled exactly (MeasureName, MeasureValue, MeasureValueType, Time,
 * TimeUnit) and each at most once. Anything else (numbers, nulls, escapes, UTF-8, a key spelled
 * `time`, bad syntax, …) returns false, and the caller reads the record with the general mapping
 * (JSON.parse), which gives the exact reading or the reason. So this scanner never decides what a
 * record means differently from the general path: it only finds the same answer sooner.
 */

/** The five keys of the Flink mapping, as field numbers. */
export const Field = { MeasureName: 0, MeasureValue: 1, MeasureValueType: 2, Time: 3, TimeUnit: 4 } as const;
const fieldCount = 5;
/** More dimensions than this take the general path (Timestream allows 128 a table). */
export const maxScannedDimensions = 64;

const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const FIELD_NAMES = ["MeasureName", "MeasureValue", "MeasureValueType", "Time", "TimeUnit"].map(bytesOf);
/** Key length → the field of that length (each has its own). */
const FIELD_BY_LENGTH = new Map(FIELD_NAMES.map((bytes, field) => [bytes.length, field]));
/** `@type` marks a flat record in the `auto` mapping. */
const TYPE_KEY = bytesOf("@type");

/** Where the last scan found things (positions in the scanned buffer); read before the next scan. */
export const scannedSingle = {
  /** Start and end of each field's string value, -1 when the key is absent. */
  fieldStart: new Int32Array(fieldCount),
  fieldEnd: new Int32Array(fieldCount),
  /** The dimensions' names and values (not set when `sameDimensions`). */
  dimensions: 0,
  keyStart: new Int32Array(maxScannedDimensions),
  keyEnd: new Int32Array(maxScannedDimensions),
  valueStart: new Int32Array(maxScannedDimensions),
  valueEnd: new Int32Array(maxScannedDimensions),
  /** FNV-1a of the dimensions' values in order, with separators (not set when `sameDimensions`). */
  hash: 0,
  /**
   * The dimensions as one run of text, from the first name's opening quote to the last value's
   * closing quote (-1 when fields come between them): `[runStart, runEnd)`.
   */
  runStart: -1,
  runEnd: -1,
  /** The dimensions were exactly the `expectedRun` given to the scan: nothing else was read of them. */
  sameDimensions: false,
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Hashed after each value (a byte a scanned string cannot hold). */
const VALUE_END = 0x01;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
/** A byte a plain string may hold: printable ASCII but the quote and the backslash. */
const isPlain = (c: number): boolean => c >= 0x20 && c < 0x80 && c !== QUOTE && c !== BACKSLASH;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** Byte equality of `buf[start, end)` and `bytes`. */
export function equalsBytes(buf: Uint8Array, start: number, end: number, bytes: Uint8Array): boolean {
  if (end - start !== bytes.length) return false;
  for (let k = 0; k < bytes.length; k++) if (buf[start + k] !== bytes[k]) return false;
  return true;
}

/** Same letters in any case (the field names are letters only). */
function equalsIgnoringCase(buf: Uint8Array, start: number, end: number, bytes: Uint8Array): boolean {
  if (end - start !== bytes.length) return false;
  for (let k = 0; k < bytes.length; k++) if ((buf[start + k]! | 0x20) !== (bytes[k]! | 0x20)) return false;
  return true;
}

/** The end of the plain string whose first byte is at `i` (the byte after the quote), or -1. */
function plainStringEnd(buf: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) return i;
    if (!isPlain(c)) return -1;
  }
  return -1;
}

/** Whether `buf[at, at + run.length)` is `run` (a native compare). */
function runAt(buf: Buffer, at: number, end: number, run: Buffer): boolean {
  return at + run.length <= end && buf.compare(run, 0, run.length, at, at + run.length) === 0;
}

/**
 * Scans the JSON in `buf[start, end)` into `scannedSingle`. False when it is not a plain
 * single-measure object (see above): read it with the general mapping then. With `refuseTypeKey`
 * (the `auto` mapping), an `@type` key makes it false too: that is a flat record.
 *
 * `expectedRun` is the dimensions' text of the record before (consecutive records of a shard are
 * mostly of one series: the generator sends a series' measures together, under one partition key).
 * When the first dimension starts exactly that text, and only fields follow it, the dimensions are
 * compared in one native call instead of being scanned and hashed, and `sameDimensions` is set.
 */
export function scanSingleMeasure(
  buf: Buffer,
  start: number,
  end: number,
  refuseTypeKey: boolean,
  expectedRun?: Buffer,
): boolean {
  const out = scannedSingle;
  out.fieldStart.fill(-1);
  out.dimensions = 0;
  out.runStart = -1;
  out.runEnd = -1;
  out.sameDimensions = false;
  let hash = FNV_OFFSET;
  /** A field came after the first dimension: a later dimension breaks the run. */
  let fieldAfterDimensions = false;
  let i = start;
  while (i < end && isSpace(buf[i]!)) i++;
  if (i >= end || buf[i] !== OPEN) return false;
  i++;
  for (;;) {
    while (i < end && isSpace(buf[i]!)) i++;
    if (i >= end || buf[i] !== QUOTE) return false; // also an empty object: the general path says what is missing
    const keyStart = i + 1;
    const keyEnd = plainStringEnd(buf, keyStart, end);
    if (keyEnd <= keyStart) return false; // not plain, or an empty name
    const field = FIELD_BY_LENGTH.get(keyEnd - keyStart);
    const isField = field !== undefined && equalsIgnoringCase(buf, keyStart, keyEnd, FIELD_NAMES[field]!);
    if (!isField && expectedRun !== undefined) {
      // A dimension after the run of the record before: not its series after all; scan again.
      if (out.sameDimensions) return scanSingleMeasure(buf, start, end, refuseTypeKey);
      if (out.dimensions === 0 && runAt(buf, keyStart - 1, end, expectedRun)) {
        // The run of the record before, then the end of the object or more fields: its series.
        let j = keyStart - 1 + expectedRun.length;
        while (j < end && isSpace(buf[j]!)) j++;
        if (j < end && (buf[j] === CLOSE || buf[j] === COMMA)) {
          out.sameDimensions = true;
          i = j + 1;
          if (buf[j] === CLOSE) break;
          continue;
        }
      }
    }
    i = keyEnd + 1;
    while (i < end && isSpace(buf[i]!)) i++;
    if (i >= end || buf[i] !== COLON) return false;
    i++;
    while (i < end && isSpace(buf[i]!)) i++;
    if (i >= end || buf[i] !== QUOTE) return false; // a number, null, true, false, object or list
    const valueStart = i + 1;
    let valueEnd: number;
    if (isField) {
      if (!equalsBytes(buf, keyStart, keyEnd, FIELD_NAMES[field]!)) return false; // `time`, `TIMEUNIT`…
      if (out.fieldStart[field] !== -1) return false; // given twice: the general path says so
      valueEnd = plainStringEnd(buf, valueStart, end);
      if (valueEnd < 0) return false;
      out.fieldStart[field] = valueStart;
      out.fieldEnd[field] = valueEnd;
      if (out.dimensions > 0) fieldAfterDimensions = true;
    } else {
      // A dimension. Empty values, names that JSON.parse would list first (array indexes), and
      // `@type` in the auto mapping are the general path's.
      if (out.dimensions === maxScannedDimensions || isDigit(buf[keyStart]!)) return false;
      if (refuseTypeKey && equalsBytes(buf, keyStart, keyEnd, TYPE_KEY)) return false;
      // The value is checked, found and hashed in one pass.
      valueEnd = -1;
      for (let k = valueStart; k < end; k++) {
        const c = buf[k]!;
        if (c === QUOTE) {
          valueEnd = k;
          break;
        }
        if (!isPlain(c)) return false;
        hash = Math.imul(hash ^ c, FNV_PRIME);
      }
      if (valueEnd <= valueStart) return false;
      hash = Math.imul(hash ^ VALUE_END, FNV_PRIME);
      const d = out.dimensions++;
      out.keyStart[d] = keyStart;
      out.keyEnd[d] = keyEnd;
      out.valueStart[d] = valueStart;
      out.valueEnd[d] = valueEnd;
      if (d === 0) out.runStart = keyStart - 1;
      else if (fieldAfterDimensions) out.runStart = -2; // not one run
      out.runEnd = valueEnd + 1;
    }
    i = valueEnd + 1;

    while (i < end && isSpace(buf[i]!)) i++;
    if (i >= end) return false;
    const next = buf[i];
    i++;
    if (next === COMMA) continue;
    if (next !== CLOSE) return false;
    break;
  }
  while (i < end && isSpace(buf[i]!)) i++;
  if (out.runStart < 0) {
    out.runStart = -1;
    out.runEnd = -1;
  }
  out.hash = hash;
  return i === end;
}

/** FNV-1a of `buf[start, end)`: measure names and flat keys are looked up by it. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let k = start; k < end; k++) hash = Math.imul(hash ^ buf[k]!, FNV_PRIME);
  return hash;
}

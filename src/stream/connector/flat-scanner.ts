/**
 * A scanner for flat JSON objects (`{"key": "text" | number | true | false | null, …}`), the shape of
 * the later generator's records. It keeps each number's own text, so a measure value goes to the
 * store as the producer wrote it: JSON.parse and then String() would print every double again
 * (a third of a microsecond each, 20 a record) and make an object per record for the collector.
 *
 * Anything else (a nested object or list, bad syntax) returns false, and the caller falls back to
 * JSON.parse, which gives the exact error; a string with escapes is decoded by JSON.parse alone.
 */

export const FieldKind = { String: 0, Number: 1, True: 2, False: 3, Null: 4 } as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

/** The fields of the last object scanned; reused from call to call (read them before the next scan). */
export const scanned = {
  count: 0,
  keys: [] as string[],
  kinds: [] as FieldKind[],
  values: [] as string[],
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const numberPattern = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

// The scan's position, at module level: helper closures per call would cost more than the scan.
let text = "";
let length = 0;
let i = 0;

function skipSpace(): void {
  while (i < length && isSpace(text.charCodeAt(i))) i++;
}

/** A string starting at i (the quote); returns its value and moves i past it, or undefined. */
function readString(): string | undefined {
  const start = i + 1;
  let j = start;
  let escaped = false;
  for (;;) {
    if (j >= length) return undefined;
    const c = text.charCodeAt(j);
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      escaped = true;
      j++;
    } else if (c < 0x20) {
      return undefined;
    }
    j++;
  }
  i = j + 1;
  if (!escaped) return text.slice(start, j);
  try {
    return JSON.parse(text.slice(start - 1, j + 1)) as string;
  } catch {
    return undefined;
  }
}

/** Reads one value at i into `scanned` slot `count`; false when it is not a flat JSON value. */
function readValue(count: number): boolean {
  const c = text.charCodeAt(i);
  if (c === QUOTE) {
    const read = readString();
    if (read === undefined) return false;
    scanned.kinds[count] = FieldKind.String;
    scanned.values[count] = read;
  } else if (text.startsWith("true", i)) {
    scanned.kinds[count] = FieldKind.True;
    scanned.values[count] = "true";
    i += 4;
  } else if (text.startsWith("false", i)) {
    scanned.kinds[count] = FieldKind.False;
    scanned.values[count] = "false";
    i += 5;
  } else if (text.startsWith("null", i)) {
    scanned.kinds[count] = FieldKind.Null;
    scanned.values[count] = "";
    i += 4;
  } else {
    const start = i;
    while (i < length) {
      const d = text.charCodeAt(i);
      // digits, '-', '+', '.', 'e', 'E'
      if ((d >= 0x30 && d <= 0x39) || d === 0x2d || d === 0x2b || d === 0x2e || d === 0x65 || d === 0x45) i++;
      else break;
    }
    const value = text.slice(start, i);
    if (!numberPattern.test(value)) return false;
    scanned.kinds[count] = FieldKind.Number;
    scanned.values[count] = value;
  }
  return true;
}

/** Scans `json` into `scanned`; false when it is not a flat JSON object. */
export function scanFlatObject(json: string): boolean {
  text = json;
  length = json.length;
  i = 0;
  let count = 0;
  skipSpace();
  if (text.charCodeAt(i) !== OPEN) return false;
  i++;
  skipSpace();
  if (text.charCodeAt(i) === CLOSE) {
    i++;
  } else {
    for (;;) {
      skipSpace();
      if (text.charCodeAt(i) !== QUOTE) return false;
      const key = readString();
      if (key === undefined) return false;
      skipSpace();
      if (text.charCodeAt(i) !== COLON) return false;
      i++;
      skipSpace();
      if (!readValue(count)) return false;
      scanned.keys[count] = key;
      count++;
      skipSpace();
      const next = text.charCodeAt(i);
      i++;
      if (next === COMMA) continue;
      if (next === CLOSE) break;
      return false;
    }
  }
  skipSpace();
  const whole = i === length;
  text = ""; // do not keep the payload alive until the next scan
  if (!whole) return false;
  scanned.count = count;
  return true;
}

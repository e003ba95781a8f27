/**
 * The later generator's flat JSON → a multi-measure record, read from the record's bytes:
 * `{"region":"…",…,"cpu_user":12.5,…,"time":1632315600,"@type":"metrics"}`. Keys are recognised
 * by their bytes (records of a kind repeat them in one order, so each is compared with the key at
 * its place in the record before), dimensions through the shared series table, and numbers keep the
 * producer's text, as in the general flat mapping.
 *
 * Only the plain case is taken: strings of printable ASCII without escapes, JSON numbers, true,
 * false and null, each key once, `@type` metrics or events, `time` a whole number of seconds, and
 * values of the types the generator's model declares. Anything else returns undefined and the
 * general mapping (mapping.ts) reads the record: so this path never decides differently from it, it
 * only finds the same record sooner.
 */
import type { MeasureValue, ScalarMeasureValueType, WriteRecord } from "../../store/index.js";
import {
  flatJsonNonDoubleMeasures,
  flatJsonRecordNames,
  flatJsonTimeField,
  flatJsonTypeField,
} from "./flat-json-format.js";
import type { DimensionTokens, SeriesTable } from "./series-table.js";
import { equalsBytes, hashBytes, maxScannedDimensions } from "./single-scanner.js";

const Role = { Measure: 0, Type: 1, Time: 2 } as const;
type Role = (typeof Role)[keyof typeof Role];

/** Measures whose type is not DOUBLE, by name: task_completed, task_end_state. */
const DECLARED = new Map<string, ScalarMeasureValueType>(Object.entries(flatJsonNonDoubleMeasures));
const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const RECORD_KINDS = Object.entries(flatJsonRecordNames).map(([kind, name]) => ({
  bytes: bytesOf(kind),
  name,
}));
/** Keys remembered; past this the table starts over. */
const maxKeys = 65_536;
/** Integers of at most 15 characters are safe integers (BIGINT measures within Number's exact range). */
const maxSafeIntegerChars = 15;
/** Digits a plain number may have and still be finite without checking (doubles reach ~1.8e308). */
const maxFiniteDigits = 300;
/** The longest `time` the mapping takes as whole seconds (DIGITS). */
const maxTimeDigits = 19;

class FlatKey {
  /** The record being scanned that had this key last: a second time in one record is the general path's. */
  seen = -1;

  constructor(
    readonly name: string,
    readonly bytes: Uint8Array,
    readonly role: Role,
    readonly declared: ScalarMeasureValueType | undefined,
    public next: FlatKey | undefined,
  ) {}
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const VALUE_END = 0x01;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isPlain = (c: number): boolean => c >= 0x20 && c < 0x80 && c !== QUOTE && c !== BACKSLASH;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

function plainStringEnd(buf: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) return i;
    if (!isPlain(c)) return -1;
  }
  return -1;
}

/** What the last number read was: its end (-1 when not a JSON number) and its shape. */
const number = { end: -1, integer: false, exponent: false };

/** Reads a JSON number starting at `i` into `number`. */
function readNumber(buf: Uint8Array, i: number, end: number): void {
  number.end = -1;
  number.integer = true;
  number.exponent = false;
  if (i < end && buf[i] === MINUS) i++;
  if (i >= end || !isDigit(buf[i]!)) return;
  if (buf[i] === 0x30) i++;
  else while (i < end && isDigit(buf[i]!)) i++;
  if (i < end && buf[i] === DOT) {
    number.integer = false;
    i++;
    if (i >= end || !isDigit(buf[i]!)) return;
    while (i < end && isDigit(buf[i]!)) i++;
  }
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    number.integer = false;
    number.exponent = true;
    i++;
    if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) i++;
    if (i >= end || !isDigit(buf[i]!)) return;
    while (i < end && isDigit(buf[i]!)) i++;
  }
  number.end = i;
}

function literalAt(buf: Uint8Array, i: number, end: number, literal: Uint8Array): boolean {
  return i + literal.length <= end && equalsBytes(buf, i, i + literal.length, literal);
}
const TRUE = bytesOf("true");
const FALSE = bytesOf("false");
const NULL = bytesOf("null");

export class FlatRecords {
  private readonly keysByHash = new Map<number, FlatKey>();
  private keyCount = 0;
  /** The keys of the last record, by position: the next record most likely has the same. */
  private lastKeys: FlatKey[] = [];
  private records = 0;
  private readonly timeBytes = new Uint8Array(maxTimeDigits);
  private timeLength = -1;
  private timeText = "";
  private readonly tokens: DimensionTokens = {
    dimensions: 0,
    keyStart: new Int32Array(maxScannedDimensions),
    keyEnd: new Int32Array(maxScannedDimensions),
    valueStart: new Int32Array(maxScannedDimensions),
    valueEnd: new Int32Array(maxScannedDimensions),
    hash: 0,
    runStart: -1,
    runEnd: -1,
  };

  constructor(private readonly series: SeriesTable) {}

  /** The multi-measure record of the flat JSON in `buf[start, end)`, or undefined: use the general mapping. */
  map(buf: Buffer, start: number, end: number): WriteRecord | undefined {
    const record = this.records++;
    const tokens = this.tokens;
    tokens.dimensions = 0;
    tokens.runStart = -1;
    tokens.runEnd = -1;
    let hash = FNV_OFFSET;
    let measureAfterDimensions = false;
    let recordName: string | undefined;
    let time: string | undefined;
    const values: MeasureValue[] = [];
    let i = start;
    while (i < end && isSpace(buf[i]!)) i++;
    if (i >= end || buf[i] !== OPEN) return undefined;
    i++;
    for (let position = 0; ; position++) {
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end || buf[i] !== QUOTE) return undefined;
      const keyStart = i + 1;
      const keyEnd = plainStringEnd(buf, keyStart, end);
      if (keyEnd <= keyStart) return undefined;
      const key = this.keyAt(buf, keyStart, keyEnd, position);
      if (key.seen === record) return undefined;
      key.seen = record;
      i = keyEnd + 1;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end || buf[i] !== COLON) return undefined;
      i++;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return undefined;
      const c = buf[i]!;
      if (c === QUOTE) {
        const valueStart = i + 1;
        if (key.role === Role.Measure && key.declared === undefined) {
          // A dimension: checked, found and hashed in one pass.
          if (tokens.dimensions === maxScannedDimensions || isDigit(buf[keyStart]!)) return undefined;
          let valueEnd = -1;
          for (let k = valueStart; k < end; k++) {
            const b = buf[k]!;
            if (b === QUOTE) {
              valueEnd = k;
              break;
            }
            if (!isPlain(b)) return undefined;
            hash = Math.imul(hash ^ b, FNV_PRIME);
          }
          if (valueEnd <= valueStart) return undefined;
          hash = Math.imul(hash ^ VALUE_END, FNV_PRIME);
          const d = tokens.dimensions++;
          tokens.keyStart[d] = keyStart;
          tokens.keyEnd[d] = keyEnd;
          tokens.valueStart[d] = valueStart;
          tokens.valueEnd[d] = valueEnd;
          if (d === 0) tokens.runStart = keyStart - 1;
          else if (measureAfterDimensions) tokens.runStart = -2;
          tokens.runEnd = valueEnd + 1;
          i = valueEnd + 1;
        } else {
          const valueEnd = plainStringEnd(buf, valueStart, end);
          if (valueEnd < 0) return undefined;
          if (key.role === Role.Type) {
            recordName = undefined;
            for (const kind of RECORD_KINDS) {
              if (equalsBytes(buf, valueStart, valueEnd, kind.bytes)) recordName = kind.name;
            }
            if (recordName === undefined) return undefined;
          } else if (key.declared === "VARCHAR") {
            values.push({
              Name: key.name,
              Value: buf.toString("latin1", valueStart, valueEnd),
              Type: "VARCHAR",
            });
          } else {
            return undefined; // a time as text, or text for a number measure
          }
          if (tokens.dimensions > 0) measureAfterDimensions = true;
          i = valueEnd + 1;
        }
      } else if (c === MINUS || isDigit(c)) {
        readNumber(buf, i, end);
        const numberEnd = number.end;
        if (numberEnd < 0) return undefined;
        const chars = numberEnd - i;
        if (key.role === Role.Time) {
          if (!number.integer || c === MINUS || chars > maxTimeDigits) return undefined;
          time = this.timeOf(buf, i, numberEnd);
        } else if (key.role === Role.Type || key.declared === "VARCHAR") {
          return undefined;
        } else if (key.declared === "BIGINT") {
          if (!number.integer || chars > maxSafeIntegerChars) return undefined;
          values.push({ Name: key.name, Value: buf.toString("latin1", i, numberEnd), Type: "BIGINT" });
        } else {
          const text = buf.toString("latin1", i, numberEnd);
          if ((number.exponent || chars > maxFiniteDigits) && !Number.isFinite(Number(text)))
            return undefined;
          values.push({ Name: key.name, Value: text, Type: "DOUBLE" });
        }
        if (tokens.dimensions > 0) measureAfterDimensions = true;
        i = numberEnd;
      } else if (literalAt(buf, i, end, TRUE) || literalAt(buf, i, end, FALSE)) {
        if (key.role !== Role.Measure) return undefined;
        const value = c === 0x74 ? "true" : "false";
        values.push({ Name: key.name, Value: value, Type: "BOOLEAN" });
        if (tokens.dimensions > 0) measureAfterDimensions = true;
        i += value.length;
      } else if (literalAt(buf, i, end, NULL)) {
        if (key.role !== Role.Measure) return undefined; // no @type, no time: the general path says so
        i += NULL.length;
      } else {
        return undefined;
      }
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return undefined;
      const next = buf[i];
      i++;
      if (next === COMMA) continue;
      if (next !== CLOSE) return undefined;
      break;
    }
    while (i < end && isSpace(buf[i]!)) i++;
    if (i !== end || recordName === undefined || time === undefined || values.length === 0) return undefined;
    if (tokens.runStart < 0) {
      tokens.runStart = -1;
      tokens.runEnd = -1;
    }
    tokens.hash = hash;
    const series = this.series.find(buf, tokens);
    if (series === undefined) return undefined;
    return {
      Dimensions: series.dimensions,
      MeasureName: recordName,
      MeasureValueType: "MULTI",
      MeasureValues: values,
      Time: time,
      TimeUnit: "SECONDS",
    };
  }

  /** The key at `buf[start, end)`, the `position`th of its record. */
  private keyAt(buf: Buffer, start: number, end: number, position: number): FlatKey {
    const expected = this.lastKeys[position];
    if (expected !== undefined && equalsBytes(buf, start, end, expected.bytes)) return expected;
    const hash = hashBytes(buf, start, end);
    const first = this.keysByHash.get(hash);
    let key = first;
    while (key !== undefined && !equalsBytes(buf, start, end, key.bytes)) key = key.next;
    if (key === undefined) {
      if (this.keyCount >= maxKeys) {
        this.keysByHash.clear();
        this.lastKeys = [];
        this.keyCount = 0;
      }
      const name = buf.toString("latin1", start, end);
      const role =
        name === flatJsonTypeField ? Role.Type : name === flatJsonTimeField ? Role.Time : Role.Measure;
      key = new FlatKey(
        name,
        Uint8Array.from(buf.subarray(start, end)),
        role,
        DECLARED.get(name),
        this.keysByHash.get(hash),
      );
      this.keysByHash.set(hash, key);
      this.keyCount++;
    }
    this.lastKeys[position] = key;
    return key;
  }

  /** The text of a whole-seconds time; a loop's records share it, so the last one is kept. */
  private timeOf(buf: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length === this.timeLength) {
      let same = true;
      for (let k = 0; k < length; k++) {
        if (buf[start + k] !== this.timeBytes[k]) {
          same = false;
          break;
        }
      }
      if (same) return this.timeText;
    }
    this.timeBytes.set(buf.subarray(start, end));
    this.timeLength = length;
    this.timeText = buf.toString("latin1", start, end);
    return this.timeText;
  }
}

/**
 * Validation and normalisation of Timestream WriteRecords records, one at a time.
 *
 * A record that breaks a rule becomes a rejection with its index and a reason, in Timestream's
 * words where Timestream has them; the other records of the batch go on. Only a request-level
 * problem (a CommonAttributes clash) throws.
 */
import { validationError } from "../errors.js";
import type {
  Dimension,
  MeasureValueType,
  RejectedRecord,
  ScalarMeasureValueType,
  TimeUnit,
  WriteRecord,
} from "./types.js";

export const MAX_DIMENSION_NAME_BYTES = 60;
export const MAX_DIMENSION_VALUE_BYTES = 2048;
export const MAX_MEASURE_NAME_BYTES = 256;
export const MAX_MULTI_MEASURE_VALUES = 256;
export const MAX_VARCHAR_VALUE_BYTES = 2048;
export const MAX_DIMENSIONS_PER_TABLE = 128;
/** Timestream's Record.Dimensions holds at most 128 items (and keeps the pairwise check cheap). */
export const MAX_DIMENSIONS_PER_RECORD = 128;

const SCALAR_TYPES: readonly ScalarMeasureValueType[] = [
  "DOUBLE",
  "BIGINT",
  "VARCHAR",
  "BOOLEAN",
  "TIMESTAMP",
];
const TIME_UNITS: Record<TimeUnit, bigint> = {
  NANOSECONDS: 1n,
  MICROSECONDS: 1_000n,
  MILLISECONDS: 1_000_000n,
  SECONDS: 1_000_000_000n,
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^-?\d{1,20}$/;
/** BIGINT text: decimal digits with an optional minus, nothing else (no "1.0", "0x10", " 1", "+1"). */
const BIGINT_TEXT = INTEGER_TEXT;
/**
 * DOUBLE text: a plain decimal number with an optional exponent. JavaScript's Number() also takes
 * "0x10", "0b1", " 1 ", "Infinity" and "" (as 0); Timestream refuses those.
 */
export const DOUBLE_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The number a DOUBLE text stands for (perhaps ±Infinity, when out of range), or NaN when the text
 * does not match DOUBLE_TEXT. Faster than the pattern for the common case, with one Number() a
 * value: a text Number() reads, that starts with a digit, sign or point, ends with a digit or
 * point and has no 0x/0b/0o prefix, is decimal (Number() takes no other non-decimal form).
 */
export function decimalValue(text: string): number {
  const n = text.length;
  if (n === 0 || n > 400) return Number.NaN;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(n - 1);
  const firstOk = (first >= 48 && first <= 57) || first === 45 || first === 43 || first === 46;
  const lastOk = (last >= 48 && last <= 57) || last === 46;
  if (!firstOk || !lastOk) return Number.NaN;
  if (n > 2 && first === 48) {
    const second = text.charCodeAt(1) | 0x20; // lower case
    if (second === 120 || second === 98 || second === 111) return Number.NaN; // x, b, o
  }
  return Number(text);
}

/** Names a dimension or attribute may not take: they are the table's own columns. */
export function reservedColumnReason(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower === "time" || lower === "measure_name" || lower.startsWith("measure_value")) {
    return `'${name}' is a reserved column name`;
  }
  if (lower.startsWith("ts_")) return `names starting with 'ts_' are reserved ('${name}')`;
  return null;
}

/**
 * Control characters (U+0000 to U+001F and U+007F) are refused in every name: a name becomes a
 * column or a value that queries compare, NUL cannot travel through DuckDB's SQL text, and the
 * store's series keys use low control characters as separators.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** What a name is used for: each kind has its own byte limit and reserved names. */
export type NameKind = "dimension" | "measure" | "attribute";

const NAME_LIMIT: Record<NameKind, number> = {
  dimension: MAX_DIMENSION_NAME_BYTES,
  measure: MAX_MEASURE_NAME_BYTES,
  attribute: MAX_MEASURE_NAME_BYTES,
};
const NAME_LABEL: Record<NameKind, string> = {
  dimension: "Dimension name",
  measure: "MeasureName",
  attribute: "MeasureValues name",
};

/** Verdicts on names already seen (null: fine), per kind: a batch repeats a few names many times. */
const nameVerdicts: Record<NameKind, Map<string, string | null>> = {
  dimension: new Map(),
  measure: new Map(),
  attribute: new Map(),
};
const MAX_REMEMBERED_NAMES = 10_000;

/** A name or value for a message: quoted, cut at 80 characters, control characters as \uXXXX. */
export function printable(text: string): string {
  const cut = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  const shown = cut.replace(
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `'${shown}'`;
}

function judgeName(kind: NameKind, name: string): string | null {
  const label = NAME_LABEL[kind];
  if (name === "") return `${label} must not be empty`;
  const limit = NAME_LIMIT[kind];
  if (Buffer.byteLength(name, "utf8") > limit)
    return `${label} ${printable(name)} is longer than ${limit} bytes`;
  if (CONTROL_CHARACTER.test(name))
    return `${label} ${printable(name)} contains a control character (such as NUL): names must be printable text`;
  if (kind === "dimension" && name.includes(":"))
    return `${label} ${printable(name)} contains ':': dimension names may not contain a colon`;
  if (kind !== "measure") {
    const reserved = reservedColumnReason(name);
    if (reserved) return `${label} ${reserved}`;
  }
  return null;
}

/**
 * Why a dimension, measure or multi-measure attribute name is refused, or null when it is fine.
 * The verdict is remembered per distinct name, so checking costs one map lookup a record.
 */
export function nameProblem(kind: NameKind, name: unknown): string | null {
  if (typeof name !== "string") return `${NAME_LABEL[kind]} must be a string, got ${describeType(name)}`;
  // Too long for any name: refused without being remembered (a cache of huge keys would grow).
  if (name.length > NAME_LIMIT[kind]) return judgeName(kind, name);
  const verdicts = nameVerdicts[kind];
  const known = verdicts.get(name);
  if (known !== undefined) return known;
  const verdict = judgeName(kind, name);
  if (verdicts.size >= MAX_REMEMBERED_NAMES) verdicts.clear();
  verdicts.set(name, verdict);
  return verdict;
}

/** Lower-case names, remembered: the attribute check asks for the same few names every record. */
const lowerNames = new Map<string, string>();
function lowerName(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size >= MAX_REMEMBERED_NAMES) lowerNames.clear();
    lowerNames.set(name, lower);
  }
  return lower;
}

function describeType(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;
}

export type ScalarValue = number | bigint | string | boolean;

export interface Attribute {
  name: string;
  type: ScalarMeasureValueType;
  value: ScalarValue;
}

export interface NormalizedRecord {
  index: number;
  dimensions: Dimension[];
  /** Canonical identity of the series: dimension names and values sorted by name. */
  seriesKey: string;
  measureName: string;
  type: MeasureValueType;
  /** The value of a single-measure record (TIMESTAMP values as epoch nanoseconds). */
  value: ScalarValue | null;
  /** The values of a MULTI record. */
  attributes: Attribute[] | null;
  timeNs: bigint;
  version: bigint;
}

const utf8Length = (text: string): number => Buffer.byteLength(text, "utf8");

/** Merges CommonAttributes into a record: dimensions are united (a shared name is an error), other fields fall back to the common value. */
export function mergeCommon(
  common: WriteRecord | undefined,
  record: WriteRecord,
  index: number,
): WriteRecord {
  if (common === undefined || common === null) return record;
  if (typeof common !== "object" || Array.isArray(common))
    throw validationError("CommonAttributes must be an object");
  if (common.Dimensions !== undefined && !Array.isArray(common.Dimensions))
    throw validationError("CommonAttributes.Dimensions must be a list");
  // A malformed record is left for normalizeRecord to reject by its index.
  if (record === null || typeof record !== "object" || Array.isArray(record)) return record;
  let dimensions = record.Dimensions;
  if (common.Dimensions && common.Dimensions.length > 0) {
    if (dimensions !== undefined && !Array.isArray(dimensions)) return record;
    const own = new Set((record.Dimensions ?? []).map((d) => d?.Name));
    for (const d of common.Dimensions) {
      if (own.has(d?.Name)) {
        throw validationError(
          `Records[${index}] repeats dimension ${JSON.stringify(d.Name)} of CommonAttributes: dimensions may not overlap`,
          { recordIndex: index, dimension: d.Name },
        );
      }
    }
    dimensions = [...common.Dimensions, ...(record.Dimensions ?? [])];
  }
  return {
    Dimensions: dimensions,
    MeasureName: record.MeasureName ?? common.MeasureName,
    MeasureValue: record.MeasureValue ?? common.MeasureValue,
    MeasureValueType: record.MeasureValueType ?? common.MeasureValueType,
    MeasureValues: record.MeasureValues ?? common.MeasureValues,
    Time: record.Time ?? common.Time,
    TimeUnit: record.TimeUnit ?? common.TimeUnit,
    Version: record.Version ?? common.Version,
  };
}

function parseScalar(
  type: ScalarMeasureValueType,
  text: unknown,
  unitNs: bigint,
  what: string | null,
): ScalarValue | string {
  // The returned string (for non-VARCHAR) is an error reason; VARCHAR returns the value itself, so
  // callers tell them apart by the `ok` wrapper below.
  if (type !== "VARCHAR") return parseNonVarchar(type, text, unitNs, what);
  if (typeof text !== "string")
    throw new RecordRule(`${label(what)} must be a string, got ${describeType(text)}`);
  return text;
}

function parseNonVarchar(
  type: ScalarMeasureValueType,
  text: unknown,
  unitNs: bigint,
  what: string | null,
): ScalarValue {
  if (typeof text !== "string")
    throw new RecordRule(`${label(what)} must be a string, got ${describeType(text)}`);
  switch (type) {
    case "DOUBLE": {
      const value = decimalValue(text);
      if (Number.isNaN(value))
        throw new RecordRule(
          `${label(what)} ${printable(text)} is not a valid DOUBLE (a decimal number such as 1.5 or -2e3)`,
        );
      if (!Number.isFinite(value))
        throw new RecordRule(`${label(what)} ${printable(text)} is out of DOUBLE range`);
      return value;
    }
    case "BIGINT": {
      if (!BIGINT_TEXT.test(text))
        throw new RecordRule(
          `${label(what)} ${printable(text)} is not a valid BIGINT (an integer such as 42 or -7)`,
        );
      const value = BigInt(text);
      if (value < INT64_MIN || value > INT64_MAX)
        throw new RecordRule(`${label(what)} ${printable(text)} is out of BIGINT range`);
      return value;
    }
    case "BOOLEAN": {
      const lower = text.toLowerCase();
      if (lower !== "true" && lower !== "false")
        throw new RecordRule(`${label(what)} ${printable(text)} is not a valid BOOLEAN (true or false)`);
      return lower === "true";
    }
    case "TIMESTAMP": {
      if (!INTEGER_TEXT.test(text) || text.startsWith("-")) {
        throw new RecordRule(
          `${label(what)} ${printable(text)} is not a valid TIMESTAMP (an epoch integer in the record's TimeUnit)`,
        );
      }
      const ns = BigInt(text) * unitNs;
      if (ns > INT64_MAX) throw new RecordRule(`${label(what)} ${printable(text)} is out of TIMESTAMP range`);
      return ns;
    }
    default:
      throw new RecordRule(`${label(what)}: unknown type`);
  }
}

/**
 * What a value is called in a reason: null for the record's MeasureValue, else an attribute name.
 * Built only when a reason is: the attribute loop runs for every value of every record.
 */
const label = (what: string | null): string =>
  what === null ? "MeasureValue" : `MeasureValues ${printable(what)}`;

/** A broken record rule: becomes a per-record rejection. */
export class RecordRule extends Error {}

let lastTimeText = "";
let lastTimeUnit: TimeUnit = "MILLISECONDS";
let lastTimeNs = 0n;

function parseTime(text: unknown, unit: TimeUnit): bigint {
  if (text === lastTimeText && unit === lastTimeUnit) return lastTimeNs; // loops share one time: parse it once
  if (typeof text !== "string" || text === "") throw new RecordRule("Time is required");
  if (!/^\d{1,20}$/.test(text))
    throw new RecordRule(`Time ${printable(text)} is not a non-negative integer in ${unit}`);
  const ns = BigInt(text) * TIME_UNITS[unit];
  if (ns > INT64_MAX) throw new RecordRule(`Time ${printable(text)} ${unit} is out of range`);
  lastTimeText = text;
  lastTimeUnit = unit;
  lastTimeNs = ns;
  return ns;
}

/** ASCII text has one byte a character; only longer strings can break a byte limit, so measure those alone. */
const overBytes = (text: string, limit: number): boolean =>
  text.length * 3 > limit && utf8Length(text) > limit;

function checkDimensions(dimensions: Dimension[]): void {
  if (dimensions.length > MAX_DIMENSIONS_PER_RECORD) {
    throw new RecordRule(
      `a record has ${dimensions.length} dimensions; at most ${MAX_DIMENSIONS_PER_RECORD} are allowed`,
    );
  }
  for (let i = 0; i < dimensions.length; i++) {
    const d = dimensions[i]!;
    if (d === null || typeof d !== "object") throw new RecordRule("a dimension must be an object");
    const problem = nameProblem("dimension", d.Name);
    if (problem) throw new RecordRule(problem);
    if (typeof d.Value !== "string" || d.Value === "") {
      throw new RecordRule(`Dimension ${printable(d.Name)} must have a non-empty string value`);
    }
    if (overBytes(d.Value, MAX_DIMENSION_VALUE_BYTES)) {
      throw new RecordRule(
        `Dimension ${printable(d.Name)} value is longer than ${MAX_DIMENSION_VALUE_BYTES} bytes`,
      );
    }
    if (d.DimensionValueType !== undefined && d.DimensionValueType !== "VARCHAR") {
      throw new RecordRule(
        `Dimension ${printable(d.Name)} has DimensionValueType ${printable(String(d.DimensionValueType))}; only VARCHAR is supported`,
      );
    }
    // A handful of dimensions: comparing pairs is cheaper than building a Set for every record.
    // Names are column names, which queries match without regard to case (see docs/decisions.md).
    for (let j = 0; j < i; j++) {
      const other = dimensions[j]!.Name;
      if (other === d.Name) throw new RecordRule(`Dimension ${printable(d.Name)} appears twice`);
      if (other.length === d.Name.length && other.toLowerCase() === d.Name.toLowerCase()) {
        throw new RecordRule(
          `Dimensions ${printable(other)} and ${printable(d.Name)} differ only in case: column names are case-insensitive in queries`,
        );
      }
    }
  }
}

/**
 * Checked dimension lists by identity, for one batch: producers (the load generator, the
 * connector) share one Dimensions array among the measures of a series, so it is checked once.
 */
export type DimensionCache = Map<Dimension[], string | RecordRule>;

export function checkedSeriesKey(dimensions: Dimension[], cache: DimensionCache | undefined): string {
  const cached = cache?.get(dimensions);
  if (cached !== undefined) {
    if (cached instanceof RecordRule) throw cached;
    return cached;
  }
  try {
    checkDimensions(dimensions);
  } catch (error) {
    if (error instanceof RecordRule) cache?.set(dimensions, error);
    throw error;
  }
  const key = seriesKeyOf(dimensions);
  cache?.set(dimensions, key);
  return key;
}

/**
 * The series key joins names and values with \u0001 and \u0002. Names hold no control character;
 * a value that does is escaped (\u0003 then a letter), so that no two dimension sets share a key.
 */
const KEY_SEPARATOR = /[\u0001-\u0003]/g;
export function keyText(value: string): string {
  KEY_SEPARATOR.lastIndex = 0;
  return KEY_SEPARATOR.test(value)
    ? value.replace(KEY_SEPARATOR, (c) => `\u0003${String.fromCharCode(c.charCodeAt(0) + 0x40)}`)
    : value;
}

/** The canonical series key of a dimension set (catalog.ts rebuilds the same keys from stored series). */
export function seriesKeyOf(dimensions: readonly Dimension[]): string {
  if (dimensions.length === 1) return `${dimensions[0]!.Name}\u0001${keyText(dimensions[0]!.Value)}`;
  let sorted = true;
  for (let i = 1; i < dimensions.length; i++) {
    if (dimensions[i - 1]!.Name > dimensions[i]!.Name) {
      sorted = false;
      break;
    }
  }
  const ordered = sorted ? dimensions : [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : 1));
  let key = "";
  for (const d of ordered) key += `${d.Name}\u0001${keyText(d.Value)}\u0002`;
  return key;
}

/** Validates one (already merged) record. Returns the normalised record or a rejection. */
export function normalizeRecord(
  record: WriteRecord,
  index: number,
  cache?: DimensionCache,
): NormalizedRecord | RejectedRecord {
  try {
    if (record === null || typeof record !== "object") throw new RecordRule("a record must be an object");
    const dimensions = record.Dimensions ?? [];
    if (!Array.isArray(dimensions)) throw new RecordRule("Dimensions must be a list");
    const seriesKey = checkedSeriesKey(dimensions, cache);

    const measureName = record.MeasureName;
    if (measureName === undefined || measureName === null) throw new RecordRule("MeasureName is required");
    const measureProblem = nameProblem("measure", measureName);
    if (measureProblem) throw new RecordRule(measureProblem);

    const unit = record.TimeUnit ?? "MILLISECONDS";
    if (typeof unit !== "string" || !Object.hasOwn(TIME_UNITS, unit)) {
      throw new RecordRule(
        `TimeUnit ${printable(String(unit))} is not one of ${Object.keys(TIME_UNITS).join(", ")}`,
      );
    }
    const timeNs = parseTime(record.Time, unit);
    const unitNs = TIME_UNITS[unit];

    let version = 1n;
    if (record.Version !== undefined && record.Version !== null) {
      const v = record.Version;
      if (typeof v === "bigint" ? v < 1n : !Number.isSafeInteger(v) || v < 1) {
        throw new RecordRule(`Version ${printable(String(v))} must be a positive integer`);
      }
      version = BigInt(v);
    }

    const type = (record.MeasureValueType ?? (record.MeasureValues ? "MULTI" : "DOUBLE")) as MeasureValueType;
    if (type === "MULTI") {
      if (record.MeasureValue !== undefined)
        throw new RecordRule("a MULTI record takes MeasureValues, not MeasureValue");
      const values = record.MeasureValues;
      if (!Array.isArray(values) || values.length === 0)
        throw new RecordRule("MeasureValues must not be empty for MULTI");
      if (values.length > MAX_MULTI_MEASURE_VALUES) {
        throw new RecordRule(
          `MeasureValues has ${values.length} entries; at most ${MAX_MULTI_MEASURE_VALUES} are allowed`,
        );
      }
      // Attribute names become columns beside the dimensions: distinct from them and from each
      // other regardless of case, as queries match column names.
      const names = new Set<string>();
      for (const d of dimensions) names.add(lowerName(d.Name));
      const attributes: Attribute[] = [];
      for (const mv of values) {
        if (mv === null || typeof mv !== "object") throw new RecordRule("MeasureValues[] must be objects");
        const problem = nameProblem("attribute", mv.Name);
        if (problem) throw new RecordRule(problem);
        const lower = lowerName(mv.Name);
        if (names.has(lower)) {
          const clash = dimensions.find((d) => d.Name.toLowerCase() === lower);
          throw new RecordRule(
            clash
              ? `MeasureValues name ${printable(mv.Name)} is also a dimension${clash.Name === mv.Name ? "" : ` (${printable(clash.Name)}; column names are case-insensitive in queries)`}`
              : `MeasureValues repeats ${printable(mv.Name)} (names that differ only in case count as the same)`,
          );
        }
        names.add(lower);
        if (!SCALAR_TYPES.includes(mv.Type)) {
          throw new RecordRule(
            `MeasureValues ${printable(mv.Name)} has unknown Type ${printable(String(mv.Type))}; expected one of ${SCALAR_TYPES.join(", ")}`,
          );
        }
        if (
          mv.Type === "VARCHAR" &&
          typeof mv.Value === "string" &&
          overBytes(mv.Value, MAX_VARCHAR_VALUE_BYTES)
        ) {
          throw new RecordRule(
            `MeasureValues ${printable(mv.Name)} is longer than ${MAX_VARCHAR_VALUE_BYTES} bytes`,
          );
        }
        if (mv.Value === undefined || mv.Value === null)
          throw new RecordRule(`MeasureValues ${printable(mv.Name)} has no Value`);
        attributes.push({
          name: mv.Name,
          type: mv.Type,
          value: parseScalar(mv.Type, mv.Value, unitNs, mv.Name),
        });
      }
      return { index, dimensions, seriesKey, measureName, type, value: null, attributes, timeNs, version };
    }
    if (!SCALAR_TYPES.includes(type)) {
      throw new RecordRule(
        `MeasureValueType ${printable(String(type))} is not one of ${[...SCALAR_TYPES, "MULTI"].join(", ")}`,
      );
    }
    if (record.MeasureValues !== undefined)
      throw new RecordRule(`MeasureValues is only for MULTI records, not ${type}`);
    if (record.MeasureValue === undefined || record.MeasureValue === null)
      throw new RecordRule("MeasureValue is required");
    if (
      type === "VARCHAR" &&
      typeof record.MeasureValue === "string" &&
      overBytes(record.MeasureValue, MAX_VARCHAR_VALUE_BYTES)
    ) {
      throw new RecordRule(`MeasureValue is longer than ${MAX_VARCHAR_VALUE_BYTES} bytes`);
    }
    const value = parseScalar(type, record.MeasureValue, unitNs, null);
    return { index, dimensions, seriesKey, measureName, type, value, attributes: null, timeNs, version };
  } catch (error) {
    if (error instanceof RecordRule) return { RecordIndex: index, Reason: error.message };
    throw error;
  }
}

export const isRejection = (r: NormalizedRecord | RejectedRecord): r is RejectedRecord => "Reason" in r;

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

/** Names a dimension or attribute may not take: they are the table's own columns. */
export function reservedColumnReason(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower === "time" || lower === "measure_name" || lower.startsWith("measure_value")) {
    return `'${name}' is a reserved column name`;
  }
  if (lower.startsWith("ts_")) return `names starting with 'ts_' are reserved ('${name}')`;
  return null;
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
  if (!common) return record;
  let dimensions = record.Dimensions;
  if (common.Dimensions && common.Dimensions.length > 0) {
    const own = new Set((record.Dimensions ?? []).map((d) => d.Name));
    for (const d of common.Dimensions) {
      if (own.has(d.Name)) {
        throw validationError(
          `Records[${index}] repeats dimension '${d.Name}' of CommonAttributes: dimensions may not overlap`,
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
  what: string,
): ScalarValue | string {
  // The returned string (for non-VARCHAR) is an error reason; VARCHAR returns the value itself, so
  // callers tell them apart by the `ok` wrapper below.
  return type === "VARCHAR" ? String(text) : parseNonVarchar(type, text, unitNs, what);
}

function parseNonVarchar(
  type: ScalarMeasureValueType,
  text: unknown,
  unitNs: bigint,
  what: string,
): ScalarValue {
  if (typeof text !== "string") throw new RecordRule(`${what} must be a string, got ${typeof text}`);
  switch (type) {
    case "DOUBLE": {
      const value = text.trim() === "" ? Number.NaN : Number(text);
      if (!Number.isFinite(value)) throw new RecordRule(`${what} '${text}' is not a valid DOUBLE`);
      return value;
    }
    case "BIGINT": {
      if (!INTEGER_TEXT.test(text)) throw new RecordRule(`${what} '${text}' is not a valid BIGINT`);
      const value = BigInt(text);
      if (value < INT64_MIN || value > INT64_MAX)
        throw new RecordRule(`${what} '${text}' is out of BIGINT range`);
      return value;
    }
    case "BOOLEAN": {
      const lower = text.toLowerCase();
      if (lower !== "true" && lower !== "false")
        throw new RecordRule(`${what} '${text}' is not a valid BOOLEAN`);
      return lower === "true";
    }
    case "TIMESTAMP": {
      if (!INTEGER_TEXT.test(text) || text.startsWith("-")) {
        throw new RecordRule(
          `${what} '${text}' is not a valid TIMESTAMP (an epoch integer in the record's TimeUnit)`,
        );
      }
      const ns = BigInt(text) * unitNs;
      if (ns > INT64_MAX) throw new RecordRule(`${what} '${text}' is out of TIMESTAMP range`);
      return ns;
    }
    default:
      throw new RecordRule(`${what}: unknown type`);
  }
}

/** A broken record rule: becomes a per-record rejection. */
export class RecordRule extends Error {}

let lastTimeText = "";
let lastTimeUnit: TimeUnit = "MILLISECONDS";
let lastTimeNs = 0n;

function parseTime(text: unknown, unit: TimeUnit): bigint {
  if (text === lastTimeText && unit === lastTimeUnit) return lastTimeNs; // loops share one time: parse it once
  if (typeof text !== "string" || text === "") throw new RecordRule("Time is required");
  if (!/^\d{1,20}$/.test(text))
    throw new RecordRule(`Time '${text}' is not a non-negative integer in ${unit}`);
  const ns = BigInt(text) * TIME_UNITS[unit];
  if (ns > INT64_MAX) throw new RecordRule(`Time '${text}' ${unit} is out of range`);
  lastTimeText = text;
  lastTimeUnit = unit;
  lastTimeNs = ns;
  return ns;
}

/** ASCII text has one byte a character; only longer strings can break a byte limit, so measure those alone. */
const overBytes = (text: string, limit: number): boolean =>
  text.length * 3 > limit && utf8Length(text) > limit;

function checkDimensions(dimensions: Dimension[]): void {
  for (let i = 0; i < dimensions.length; i++) {
    const d = dimensions[i]!;
    if (typeof d?.Name !== "string" || d.Name === "")
      throw new RecordRule("Dimension name must not be empty");
    if (overBytes(d.Name, MAX_DIMENSION_NAME_BYTES)) {
      throw new RecordRule(`Dimension name '${d.Name}' is longer than ${MAX_DIMENSION_NAME_BYTES} bytes`);
    }
    const reserved = reservedColumnReason(d.Name);
    if (reserved) throw new RecordRule(`Dimension name ${reserved}`);
    if (typeof d.Value !== "string" || d.Value === "") {
      throw new RecordRule(`Dimension '${d.Name}' must have a non-empty string value`);
    }
    if (overBytes(d.Value, MAX_DIMENSION_VALUE_BYTES)) {
      throw new RecordRule(`Dimension '${d.Name}' value is longer than ${MAX_DIMENSION_VALUE_BYTES} bytes`);
    }
    if (d.DimensionValueType !== undefined && d.DimensionValueType !== "VARCHAR") {
      throw new RecordRule(
        `Dimension '${d.Name}' has DimensionValueType '${d.DimensionValueType}'; only VARCHAR is supported`,
      );
    }
    // A handful of dimensions: comparing pairs is cheaper than building a Set for every record.
    for (let j = 0; j < i; j++) {
      if (dimensions[j]!.Name === d.Name) throw new RecordRule(`Dimension '${d.Name}' appears twice`);
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

function seriesKeyOf(dimensions: Dimension[]): string {
  if (dimensions.length === 1) return `${dimensions[0]!.Name}\u0001${dimensions[0]!.Value}`;
  let sorted = true;
  for (let i = 1; i < dimensions.length; i++) {
    if (dimensions[i - 1]!.Name > dimensions[i]!.Name) {
      sorted = false;
      break;
    }
  }
  const ordered = sorted ? dimensions : [...dimensions].sort((a, b) => (a.Name < b.Name ? -1 : 1));
  let key = "";
  for (const d of ordered) key += `${d.Name}\u0001${d.Value}\u0002`;
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
    if (typeof measureName !== "string" || measureName === "")
      throw new RecordRule("MeasureName must not be empty");
    if (overBytes(measureName, MAX_MEASURE_NAME_BYTES)) {
      throw new RecordRule(`MeasureName is longer than ${MAX_MEASURE_NAME_BYTES} bytes`);
    }

    const unit = record.TimeUnit ?? "MILLISECONDS";
    if (!(unit in TIME_UNITS)) {
      throw new RecordRule(`TimeUnit '${String(unit)}' is not one of ${Object.keys(TIME_UNITS).join(", ")}`);
    }
    const timeNs = parseTime(record.Time, unit);
    const unitNs = TIME_UNITS[unit];

    let version = 1n;
    if (record.Version !== undefined && record.Version !== null) {
      const v = record.Version;
      if (typeof v === "bigint" ? v < 1n : !Number.isSafeInteger(v) || v < 1) {
        throw new RecordRule(`Version '${String(v)}' must be a positive integer`);
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
      const names = new Set<string>();
      const dimensionNames = new Set(dimensions.map((d) => d.Name));
      const attributes: Attribute[] = [];
      for (const mv of values) {
        if (typeof mv?.Name !== "string" || mv.Name === "")
          throw new RecordRule("MeasureValues[].Name must not be empty");
        if (names.has(mv.Name)) throw new RecordRule(`MeasureValues repeats '${mv.Name}'`);
        names.add(mv.Name);
        const reserved = reservedColumnReason(mv.Name);
        if (reserved) throw new RecordRule(`MeasureValues name ${reserved}`);
        if (dimensionNames.has(mv.Name))
          throw new RecordRule(`MeasureValues name '${mv.Name}' is also a dimension`);
        if (!SCALAR_TYPES.includes(mv.Type)) {
          throw new RecordRule(
            `MeasureValues '${mv.Name}' has unknown Type '${String(mv.Type)}'; expected one of ${SCALAR_TYPES.join(", ")}`,
          );
        }
        if (mv.Type === "VARCHAR" && utf8Length(String(mv.Value)) > MAX_VARCHAR_VALUE_BYTES) {
          throw new RecordRule(`MeasureValues '${mv.Name}' is longer than ${MAX_VARCHAR_VALUE_BYTES} bytes`);
        }
        if (mv.Value === undefined || mv.Value === null)
          throw new RecordRule(`MeasureValues '${mv.Name}' has no Value`);
        attributes.push({
          name: mv.Name,
          type: mv.Type,
          value: parseScalar(mv.Type, mv.Value, unitNs, `MeasureValues '${mv.Name}'`),
        });
      }
      return { index, dimensions, seriesKey, measureName, type, value: null, attributes, timeNs, version };
    }
    if (!SCALAR_TYPES.includes(type)) {
      throw new RecordRule(
        `MeasureValueType '${String(type)}' is not one of ${[...SCALAR_TYPES, "MULTI"].join(", ")}`,
      );
    }
    if (record.MeasureValues !== undefined)
      throw new RecordRule(`MeasureValues is only for MULTI records, not ${type}`);
    if (record.MeasureValue === undefined || record.MeasureValue === null)
      throw new RecordRule("MeasureValue is required");
    if (type === "VARCHAR" && overBytes(String(record.MeasureValue), MAX_VARCHAR_VALUE_BYTES)) {
      throw new RecordRule(`MeasureValue is longer than ${MAX_VARCHAR_VALUE_BYTES} bytes`);
    }
    const value = parseScalar(type, record.MeasureValue, unitNs, "MeasureValue");
    return { index, dimensions, seriesKey, measureName, type, value, attributes: null, timeNs, version };
  } catch (error) {
    if (error instanceof RecordRule) return { RecordIndex: index, Reason: error.message };
    throw error;
  }
}

export const isRejection = (r: NormalizedRecord | RejectedRecord): r is RejectedRecord => "Reason" in r;

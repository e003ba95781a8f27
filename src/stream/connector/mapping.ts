/**
 * Stream payloads → Timestream WriteRecords records, for the three mappings (see types.ts). A
 * payload that cannot be mapped gives a failure with a reason, which the connector dead-letters;
 * one stream record always gives at most one store record, so store rejections map back by index.
 *
 * The checks here are those whose reasons are clearer before the store sees the record (not JSON,
 * no measure name, no time, a value that is not of its type, an unknown type); the store applies
 * its own rules after (name lengths, reserved names, the ingestion window, versions).
 */
import type {
  MeasureValue,
  MeasureValueType,
  ScalarMeasureValueType,
  TimeUnit,
  WriteRecord,
} from "../../store/index.js";
import type { DimensionPool } from "./dimension-pool.js";
import {
  flatJsonNonDoubleMeasures,
  flatJsonRecordNames,
  flatJsonTimeField,
  flatJsonTypeField,
} from "./flat-json-format.js";
import { FieldKind, scanFlatObject, scanned } from "./flat-scanner.js";
import type { ConnectorMapping } from "./types.js";
import { DIGITS, quote, valueProblem } from "./values.js";

export interface MapFailure {
  failure: string;
}

export type MapResult = WriteRecord | MapFailure;

export const isMapFailure = (result: MapResult): result is MapFailure => "failure" in result;

const fail = (failure: string): MapFailure => ({ failure });

const SCALAR_TYPES = new Set<string>(["DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP"]);
const TIME_UNITS = new Set<string>(["MILLISECONDS", "SECONDS", "MICROSECONDS", "NANOSECONDS"]);
const INTEGER_TEXT = /^-?\d+$/;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Parses one payload with `mapping`; dimension arrays come from (and are shared through) `pool`. */
export function mapPayload(data: Uint8Array, mapping: ConnectorMapping, pool: DimensionPool): MapResult {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return fail("the payload is not UTF-8 text");
  }
  // Flat records take the scanner's fast path; anything it does not take goes through JSON.parse.
  if (mapping !== "single" && scanFlatObject(text) && (mapping === "flat" || scannedHasKey(TYPE_FIELD))) {
    return mapFlat(pool);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(`the payload is not JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return fail(`the payload is JSON but not an object: ${quote(text)}`);
  }
  const object = parsed as Record<string, unknown>;
  if (mapping === "single" || (mapping === "auto" && !(TYPE_FIELD in object))) {
    return mapSingleMeasure(object, pool, mapping === "auto" ? " (nor an @type)" : "");
  }
  const problem = scanObject(object);
  return problem === undefined ? mapFlat(pool) : fail(problem);
}

// ---- single-measure JSON (the original Flink mapping) -------------------------------------------

const Role = {
  Dimension: 0,
  MeasureName: 1,
  MeasureValue: 2,
  MeasureValueType: 3,
  Time: 4,
  TimeUnit: 5,
} as const;
type Role = (typeof Role)[keyof typeof Role];

const ROLE_BY_LOWER_KEY: Record<string, Role> = {
  measurename: Role.MeasureName,
  measurevalue: Role.MeasureValue,
  measurevaluetype: Role.MeasureValueType,
  time: Role.Time,
  timeunit: Role.TimeUnit,
};
const ROLE_NAMES = ["dimension", "MeasureName", "MeasureValue", "MeasureValueType", "Time", "TimeUnit"];

/** Keys repeat across millions of records: lower-case each distinct key once. */
const roleCache = new Map<string, Role>();
const roleCacheMaxKeys = 4096;

function roleOf(key: string): Role {
  let role = roleCache.get(key);
  if (role === undefined) {
    role = ROLE_BY_LOWER_KEY[key.toLowerCase()] ?? Role.Dimension;
    // Payloads with ever new keys must not grow the cache without end.
    if (roleCache.size >= roleCacheMaxKeys) roleCache.clear();
    roleCache.set(key, role);
  }
  return role;
}

function mapSingleMeasure(object: Record<string, unknown>, pool: DimensionPool, hint = ""): MapResult {
  let measureName: string | undefined;
  let value: string | undefined;
  let type: string | undefined;
  let time: string | undefined;
  let unit: string | undefined;
  pool.begin();
  for (const key in object) {
    const raw = object[key];
    const role = roleOf(key);
    if (role === Role.Dimension) {
      if (raw === null || raw === undefined) continue;
      const text = typeof raw === "string" ? raw : scalarText(raw);
      if (text === undefined) return fail(`dimension '${key}' is not a string, number or boolean`);
      if (text === "") return fail(`dimension '${key}' is empty`);
      pool.add(key, text);
      continue;
    }
    if (raw === null || raw === undefined) continue;
    const text = typeof raw === "string" ? raw : scalarText(raw);
    if (text === undefined) return fail(`${ROLE_NAMES[role]} is not a string, number or boolean`);
    let repeated = false;
    switch (role) {
      case Role.MeasureName:
        repeated = measureName !== undefined;
        measureName = text;
        break;
      case Role.MeasureValue:
        repeated = value !== undefined;
        value = text;
        break;
      case Role.MeasureValueType:
        repeated = type !== undefined;
        type = text;
        break;
      case Role.Time:
        repeated = time !== undefined;
        time = text;
        break;
      default:
        repeated = unit !== undefined;
        unit = text;
    }
    if (repeated) {
      return fail(`two keys give the ${ROLE_NAMES[role]} (keys match case-insensitively): one is '${key}'`);
    }
  }
  if (measureName === undefined || measureName === "") return fail(`no MeasureName${hint}`);
  if (time === undefined || time === "") return fail("no Time");
  if (time !== lastCheckedTime) {
    // A loop's records share their time: check each distinct text once.
    if (!DIGITS.test(time)) return fail(`Time '${quote(time)}' is not a non-negative integer`);
    lastCheckedTime = time;
  }
  // Upper case is what producers send: only other spellings pay for toUpperCase.
  if (unit === undefined) unit = "MILLISECONDS";
  else if (!TIME_UNITS.has(unit)) {
    unit = unit.toUpperCase();
    if (!TIME_UNITS.has(unit)) return fail(`unknown TimeUnit '${quote(unit)}'`);
  }
  // Timestream takes DOUBLE when the type is left out.
  if (type === undefined) type = "DOUBLE";
  else if (!SCALAR_TYPES.has(type)) {
    type = type.toUpperCase();
    if (!SCALAR_TYPES.has(type)) {
      return fail(
        `unknown MeasureValueType '${quote(type)}' (one of DOUBLE, BIGINT, VARCHAR, BOOLEAN, TIMESTAMP)`,
      );
    }
  }
  if (value === undefined) return fail("no MeasureValue");
  const problem = valueProblem(type as ScalarMeasureValueType, value);
  if (problem) return fail(`MeasureValue ${problem}`);
  return {
    Dimensions: pool.end(),
    MeasureName: measureName,
    MeasureValue: value,
    MeasureValueType: type as MeasureValueType,
    Time: time,
    TimeUnit: unit as TimeUnit,
  };
}

let lastCheckedTime = "";

function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) ? String(value) : undefined;
    case "boolean":
      return String(value);
    default:
      return undefined;
  }
}

// ---- flat JSON (the later generator) → MULTI records --------------------------------------------

const RECORD_NAMES: Record<string, string> = flatJsonRecordNames;
const TYPE_FIELD = flatJsonTypeField;
const TIME_FIELD = flatJsonTimeField;
/** Measures whose type is not DOUBLE, by name: task_completed, task_end_state. */
const MEASURE_TYPES = new Map<string, ScalarMeasureValueType>(Object.entries(flatJsonNonDoubleMeasures));

function scannedHasKey(key: string): boolean {
  for (let i = 0; i < scanned.count; i++) if (scanned.keys[i] === key) return true;
  return false;
}

/** Fills `scanned` from an object JSON.parse made; a nested value is a failure reason. */
function scanObject(object: Record<string, unknown>): string | undefined {
  let count = 0;
  for (const key in object) {
    const value = object[key];
    let kind: FieldKind;
    let text: string;
    switch (typeof value) {
      case "string":
        kind = FieldKind.String;
        text = value;
        break;
      case "number":
        kind = FieldKind.Number;
        text = String(value);
        break;
      case "boolean":
        kind = value ? FieldKind.True : FieldKind.False;
        text = String(value);
        break;
      default:
        if (value !== null) {
          return `'${key}' holds ${Array.isArray(value) ? "a list" : "an object"}: flat records hold strings and numbers`;
        }
        kind = FieldKind.Null;
        text = "";
    }
    scanned.keys[count] = key;
    scanned.kinds[count] = kind;
    scanned.values[count] = text;
    count++;
  }
  scanned.count = count;
  return undefined;
}

/** A flat record from the fields in `scanned`: numbers keep the text the producer wrote. */
function mapFlat(pool: DimensionPool): MapResult {
  let kind: string | undefined;
  let time: string | undefined;
  let timeKind: FieldKind = FieldKind.Null;
  const values: MeasureValue[] = [];
  pool.begin();
  for (let i = 0; i < scanned.count; i++) {
    const key = scanned.keys[i]!;
    const fieldKind = scanned.kinds[i]!;
    const value = scanned.values[i]!;
    if (key === TYPE_FIELD) {
      kind = fieldKind === FieldKind.Null ? undefined : value;
      continue;
    }
    if (key === TIME_FIELD) {
      time = fieldKind === FieldKind.Null ? undefined : value;
      timeKind = fieldKind;
      continue;
    }
    const declared = MEASURE_TYPES.get(key);
    switch (fieldKind) {
      case FieldKind.Null:
        break;
      case FieldKind.String:
        // Strings are dimensions, except the measures the model declares as VARCHAR.
        if (declared === "VARCHAR") values.push({ Name: key, Value: value, Type: "VARCHAR" });
        else if (declared !== undefined)
          return fail(`measure '${key}' must be a number, got '${quote(value)}'`);
        else if (value === "") return fail(`dimension '${key}' is empty`);
        else pool.add(key, value);
        break;
      case FieldKind.Number: {
        const number = Number(value);
        if (!Number.isFinite(number)) return fail(`measure '${key}' is not a finite number`);
        if (declared === "BIGINT") {
          if (!Number.isSafeInteger(number)) return fail(`measure '${key}' ${value} is not a BIGINT`);
          values.push({
            Name: key,
            Value: INTEGER_TEXT.test(value) ? value : String(number),
            Type: "BIGINT",
          });
        } else if (declared === undefined || declared === "DOUBLE") {
          values.push({ Name: key, Value: value, Type: "DOUBLE" });
        } else {
          return fail(`measure '${key}' must be a ${declared}, got the number ${value}`);
        }
        break;
      }
      default:
        values.push({ Name: key, Value: value, Type: "BOOLEAN" });
    }
  }
  if (kind === undefined) return fail(`no ${TYPE_FIELD} (metrics or events)`);
  const measureName = Object.hasOwn(RECORD_NAMES, kind) ? RECORD_NAMES[kind] : undefined;
  if (measureName === undefined) return fail(`unknown ${TYPE_FIELD} '${quote(kind)}' (metrics or events)`);
  if (time === undefined || time === "") return fail(`no ${TIME_FIELD}`);
  const timeFields =
    timeKind === FieldKind.Number || timeKind === FieldKind.String ? flatTime(time) : undefined;
  if (timeFields === undefined) {
    return fail(`${TIME_FIELD} '${quote(time)}' is not a non-negative number of epoch seconds`);
  }
  if (values.length === 0) return fail("no measures");
  return {
    Dimensions: pool.end(),
    MeasureName: measureName,
    MeasureValueType: "MULTI",
    MeasureValues: values,
    Time: timeFields.time,
    TimeUnit: timeFields.unit,
  };
}

/** Epoch seconds (a number's text or numeric text); fractions keep their milliseconds. */
function flatTime(text: string): { time: string; unit: TimeUnit } | undefined {
  if (DIGITS.test(text)) return { time: text, unit: "SECONDS" };
  const seconds = text.trim() === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  if (Number.isInteger(seconds)) return { time: String(seconds), unit: "SECONDS" };
  return { time: String(Math.round(seconds * 1000)), unit: "MILLISECONDS" };
}

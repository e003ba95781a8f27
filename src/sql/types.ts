/**
 * The translator's view of value types: enough to coerce timestamp strings, pick integer division,
 * expand `*`, and choose between the scalar and time-series forms of a function. `unknown` means
 * "DuckDB will know": nothing is refused because a type is unknown.
 */
import type { ScalarType } from "./contract.js";

export type ScalarKind =
  | "varchar"
  | "boolean"
  | "bigint"
  | "integer"
  | "double"
  | "timestamp"
  | "date"
  | "time"
  | "interval"
  | "unknown";

export type SqlType =
  | ScalarKind
  | { kind: "array"; element: SqlType }
  | { kind: "row"; fields: ColumnInfo[] }
  /** Timestream's timeseries: DuckDB LIST(STRUCT("time" TIMESTAMP_NS, "value" T)) sorted by time. */
  | { kind: "timeseries"; value: SqlType };

export interface ColumnInfo {
  name: string;
  type: SqlType;
}

export const arrayOf = (element: SqlType): SqlType => ({ kind: "array", element });
export const timeseriesOf = (value: SqlType): SqlType => ({ kind: "timeseries", value });

/** The row a timeseries is made of. */
export const timeseriesPoint = (value: SqlType): SqlType => ({
  kind: "row",
  fields: [
    { name: "time", type: "timestamp" },
    { name: "value", type: value },
  ],
});

export const isInteger = (type: SqlType): boolean => type === "bigint" || type === "integer";
export const isTimestamp = (type: SqlType): boolean => type === "timestamp";
export const isListLike = (type: SqlType): boolean =>
  typeof type === "object" && (type.kind === "array" || type.kind === "timeseries");

/** The element type of an array or timeseries (a row of time and value for a timeseries). */
export function elementOf(type: SqlType): SqlType {
  if (typeof type !== "object") return "unknown";
  if (type.kind === "array") return type.element;
  if (type.kind === "timeseries") return timeseriesPoint(type.value);
  return "unknown";
}

export function fieldOf(type: SqlType, name: string): SqlType {
  if (typeof type !== "object" || type.kind !== "row") return "unknown";
  const lower = name.toLowerCase();
  return type.fields.find((field) => field.name.toLowerCase() === lower)?.type ?? "unknown";
}

export function fromScalarType(type: ScalarType): SqlType {
  switch (type) {
    case "VARCHAR":
      return "varchar";
    case "BOOLEAN":
      return "boolean";
    case "BIGINT":
      return "bigint";
    case "INTEGER":
      return "integer";
    case "DOUBLE":
      return "double";
    case "TIMESTAMP":
      return "timestamp";
    case "DATE":
      return "date";
    case "TIME":
      return "time";
    case "INTERVAL_DAY_TO_SECOND":
    case "INTERVAL_YEAR_TO_MONTH":
      return "interval";
    default:
      return "unknown";
  }
}

/** Integer arithmetic stays integer (Presto: bigint / bigint is bigint); anything else widens. */
export function arithmeticResult(left: SqlType, right: SqlType): SqlType {
  if (isInteger(left) && isInteger(right))
    return left === "bigint" || right === "bigint" ? "bigint" : "integer";
  if (left === "double" || right === "double") return "double";
  if (left === "unknown" || right === "unknown") return "unknown";
  return left;
}

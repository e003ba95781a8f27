/**
 * Shapes DuckDB results as Timestream's Query API does: ColumnInfo with Timestream types, and rows
 * of Datum whose scalars are strings (timestamps as `YYYY-MM-DD HH:MM:SS.fffffffff`, UTC).
 */
import {
  type DuckDBDataChunk,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBIntervalValue,
  type DuckDBListType,
  type DuckDBListValue,
  type DuckDBStructType,
  type DuckDBStructValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampValue,
  type DuckDBTimeValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from "@duckdb/node-api";
import type { ScalarType } from "../sql/contract.js";
import type { ColumnInfo, ColumnType, Datum, Row } from "./types.js";

const pad = (n: number | bigint, width: number): string => String(n).padStart(width, "0");

/** Formats epoch nanoseconds the way Timestream prints timestamps. */
export function formatTimestampNs(ns: bigint): string {
  let seconds = ns / 1_000_000_000n;
  let fraction = ns % 1_000_000_000n;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += 1_000_000_000n;
  }
  const d = new Date(Number(seconds) * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(fraction, 9)}`;
}

function formatDouble(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  // Timestream prints doubles as Java does: whole numbers keep a ".0".
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
}

function formatInterval(v: DuckDBIntervalValue): string {
  if (v.months !== 0) return `${Math.trunc(v.months / 12)}-${Math.abs(v.months % 12)}`;
  let micros = v.micros + BigInt(v.days) * 86_400_000_000n;
  const negative = micros < 0n;
  if (negative) micros = -micros;
  const days = micros / 86_400_000_000n;
  let rest = micros % 86_400_000_000n;
  const hours = rest / 3_600_000_000n;
  rest %= 3_600_000_000n;
  const minutes = rest / 60_000_000n;
  rest %= 60_000_000n;
  const seconds = rest / 1_000_000n;
  const fraction = (rest % 1_000_000n) * 1000n;
  return `${negative ? "-" : ""}${days} ${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(fraction, 9)}`;
}

function isTimeSeries(type: DuckDBType): boolean {
  if (type.typeId !== DuckDBTypeId.LIST) return false;
  const element = (type as unknown as DuckDBListType).valueType;
  if (element.typeId !== DuckDBTypeId.STRUCT) return false;
  const names = (element as DuckDBStructType).entryNames;
  return names.length === 2 && names[0] === "time" && names[1] === "value";
}

function scalarTypeOf(type: DuckDBType): ScalarType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return "BOOLEAN";
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return "INTEGER";
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return "BIGINT";
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return "DOUBLE";
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return "TIMESTAMP";
    case DuckDBTypeId.DATE:
      return "DATE";
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return "TIME";
    case DuckDBTypeId.INTERVAL:
      return "INTERVAL_DAY_TO_SECOND";
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.UUID:
      return "VARCHAR";
    case DuckDBTypeId.SQLNULL:
      return "UNKNOWN";
    default:
      return "VARCHAR";
  }
}

export function columnTypeOf(type: DuckDBType): ColumnType {
  if (isTimeSeries(type)) {
    const valueType = ((type as unknown as DuckDBListType).valueType as DuckDBStructType).entryTypes[1]!;
    return { TimeSeriesMeasureValueColumnInfo: { Type: columnTypeOf(valueType) } };
  }
  if (type.typeId === DuckDBTypeId.LIST || type.typeId === DuckDBTypeId.ARRAY) {
    return { ArrayColumnInfo: { Type: columnTypeOf((type as unknown as DuckDBListType).valueType) } };
  }
  if (type.typeId === DuckDBTypeId.STRUCT) {
    const s = type as DuckDBStructType;
    return {
      RowColumnInfo: s.entryNames.map((name, i) => ({ Name: name, Type: columnTypeOf(s.entryTypes[i]!) })),
    };
  }
  return { ScalarType: scalarTypeOf(type) };
}

export function columnInfoOf(names: readonly string[], types: readonly DuckDBType[]): ColumnInfo[] {
  return names.map((name, i) => ({ Name: name, Type: columnTypeOf(types[i]!) }));
}

/** Builds a converter from a DuckDB value of `type` to a Timestream Datum. */
export function datumConverter(type: DuckDBType): (value: DuckDBValue) => Datum {
  if (isTimeSeries(type)) {
    const pointValue = datumConverter(
      ((type as unknown as DuckDBListType).valueType as DuckDBStructType).entryTypes[1]!,
    );
    const timeOf = datumConverter(
      ((type as unknown as DuckDBListType).valueType as DuckDBStructType).entryTypes[0]!,
    );
    return (value) => {
      if (value === null) return { NullValue: true };
      return {
        TimeSeriesValue: (value as DuckDBListValue).items.map((item) => {
          const entries = (item as DuckDBStructValue).entries;
          return {
            Time: timeOf(entries["time"] ?? null).ScalarValue ?? "",
            Value: pointValue(entries["value"] ?? null),
          };
        }),
      };
    };
  }
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = datumConverter((type as unknown as DuckDBListType).valueType);
      return (value) =>
        value === null ? { NullValue: true } : { ArrayValue: (value as DuckDBListValue).items.map(element) };
    }
    case DuckDBTypeId.STRUCT: {
      const s = type as DuckDBStructType;
      const fields = s.entryTypes.map(datumConverter);
      return (value) => {
        if (value === null) return { NullValue: true };
        const entries = (value as DuckDBStructValue).entries;
        return { RowValue: { Data: s.entryNames.map((name, i) => fields[i]!(entries[name] ?? null)) } };
      };
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return (value) =>
        value === null ? { NullValue: true } : { ScalarValue: formatDouble(value as number) };
    case DuckDBTypeId.DECIMAL:
      return (value) =>
        value === null
          ? { NullValue: true }
          : { ScalarValue: formatDouble((value as DuckDBDecimalValue).toDouble()) };
    case DuckDBTypeId.TIMESTAMP_NS:
      return (value) =>
        value === null
          ? { NullValue: true }
          : { ScalarValue: formatTimestampNs((value as DuckDBTimestampNanosecondsValue).nanos) };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (value) =>
        value === null
          ? { NullValue: true }
          : { ScalarValue: formatTimestampNs((value as DuckDBTimestampValue).micros * 1000n) };
    case DuckDBTypeId.TIMESTAMP_MS:
      return (value) =>
        value === null
          ? { NullValue: true }
          : {
              ScalarValue: formatTimestampNs((value as DuckDBTimestampMillisecondsValue).millis * 1_000_000n),
            };
    case DuckDBTypeId.TIMESTAMP_S:
      return (value) =>
        value === null
          ? { NullValue: true }
          : {
              ScalarValue: formatTimestampNs((value as DuckDBTimestampSecondsValue).seconds * 1_000_000_000n),
            };
    case DuckDBTypeId.DATE:
      return (value) =>
        value === null
          ? { NullValue: true }
          : {
              ScalarValue: formatTimestampNs(
                BigInt((value as DuckDBDateValue).days) * 86_400_000_000_000n,
              ).slice(0, 10),
            };
    case DuckDBTypeId.TIME:
      return (value) =>
        value === null
          ? { NullValue: true }
          : { ScalarValue: formatTimestampNs((value as DuckDBTimeValue).micros * 1000n).slice(11) };
    case DuckDBTypeId.INTERVAL:
      return (value) =>
        value === null ? { NullValue: true } : { ScalarValue: formatInterval(value as DuckDBIntervalValue) };
    default:
      return (value) => (value === null ? { NullValue: true } : { ScalarValue: String(value) });
  }
}

/** Converts rows [from, to) of a chunk. */
export function chunkRows(
  chunk: DuckDBDataChunk,
  converters: ((value: DuckDBValue) => Datum)[],
  from: number,
  to: number,
): Row[] {
  const columns = converters.map((_, c) => chunk.getColumnValues(c));
  const rows: Row[] = [];
  for (let r = from; r < to; r++) {
    const data: Datum[] = new Array(converters.length);
    for (let c = 0; c < converters.length; c++) data[c] = converters[c]!(columns[c]![r]!);
    rows.push({ Data: data });
  }
  return rows;
}

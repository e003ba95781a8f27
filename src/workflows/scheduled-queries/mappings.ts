/**
 * A scheduled query's TargetConfiguration: checked against the query's columns as Timestream
 * checks it when the scheduled query is created (every column mapped exactly where it can go,
 * with a type that fits), and applied to each result row to make the records written into the
 * target table.
 */
import { validationError } from "../../errors.js";
import type { ColumnInfo, Datum, MeasureValue, WriteRecord } from "../../store/index.js";
import type { MultiMeasureAttributeMapping, TimestreamConfiguration } from "./types.js";

function bad(message: string) {
  return validationError(`TargetConfiguration: ${message}`, { awsCode: "ValidationException" });
}

const scalarTypeOf = (column: ColumnInfo): string => column.Type.ScalarType ?? "complex";

/** Which measure types take a column of a given query type. */
function fits(measureType: string, columnType: string): boolean {
  if (measureType === columnType) return true;
  if (measureType === "DOUBLE") return columnType === "BIGINT" || columnType === "INTEGER";
  if (measureType === "BIGINT") return columnType === "INTEGER";
  return false;
}

/** Throws a ValidationException naming the first problem between the mappings and the query's columns. */
export function checkMappings(config: TimestreamConfiguration, columns: readonly ColumnInfo[]): void {
  const types = new Map(columns.map((c) => [c.Name ?? "", scalarTypeOf(c)]));
  const mapped = new Set<string>();
  const need = (column: string, what: string, expected: (type: string) => boolean, wanted: string) => {
    const type = types.get(column);
    if (type === undefined) {
      throw bad(
        `${what} '${column}' is not a column of the query (its columns: ${[...types.keys()].join(", ")})`,
      );
    }
    if (!expected(type)) throw bad(`${what} '${column}' is ${type}; it must be ${wanted}`);
    mapped.add(column);
  };
  need(config.TimeColumn, "TimeColumn", (t) => t === "TIMESTAMP", "TIMESTAMP");
  for (const d of config.DimensionMappings) {
    need(d.Name, "the dimension", (t) => t === "VARCHAR", "VARCHAR (cast it in the query)");
  }
  if (config.MeasureNameColumn !== undefined) {
    need(config.MeasureNameColumn, "MeasureNameColumn", (t) => t === "VARCHAR", "VARCHAR");
  }
  const attribute = (m: MultiMeasureAttributeMapping, where: string) =>
    need(
      m.SourceColumn,
      `${where} source column`,
      (t) => fits(m.MeasureValueType, t),
      `${m.MeasureValueType}`,
    );
  const multi = config.MultiMeasureMappings;
  const mixed = config.MixedMeasureMappings;
  if ((multi === undefined) === (mixed === undefined)) {
    throw bad("give exactly one of MultiMeasureMappings and MixedMeasureMappings");
  }
  if (multi !== undefined) {
    if (multi.MultiMeasureAttributeMappings.length === 0) throw bad("MultiMeasureAttributeMappings is empty");
    if (multi.TargetMultiMeasureName === undefined && config.MeasureNameColumn === undefined) {
      throw bad("MultiMeasureMappings needs TargetMultiMeasureName or a MeasureNameColumn");
    }
    for (const m of multi.MultiMeasureAttributeMappings) attribute(m, "MultiMeasureMappings");
  }
  for (const m of mixed ?? []) {
    if (m.MeasureValueType === "MULTI") {
      if (!m.MultiMeasureAttributeMappings?.length) {
        throw bad("a MixedMeasureMapping of type MULTI needs MultiMeasureAttributeMappings");
      }
      for (const a of m.MultiMeasureAttributeMappings) attribute(a, "MixedMeasureMappings");
    } else {
      if (m.SourceColumn === undefined)
        throw bad(`a MixedMeasureMapping of type ${m.MeasureValueType} needs SourceColumn`);
      attribute(
        { SourceColumn: m.SourceColumn, MeasureValueType: m.MeasureValueType },
        "MixedMeasureMappings",
      );
    }
    if (m.MeasureName !== undefined && config.MeasureNameColumn === undefined && (mixed?.length ?? 0) > 1) {
      throw bad("MixedMeasureMappings with MeasureName need a MeasureNameColumn to pick a row's mapping");
    }
  }
  const unmapped = [...types.keys()].filter((name) => !mapped.has(name));
  if (unmapped.length > 0) {
    throw bad(
      `the query's column${unmapped.length === 1 ? "" : "s"} ${unmapped.map((n) => `'${n}'`).join(", ")} ${unmapped.length === 1 ? "is" : "are"} not mapped: map each column as the time, a dimension, the measure name or a measure, or leave it out of the SELECT`,
    );
  }
}

/** A TIMESTAMP datum ("2021-09-22 13:00:00.000000000") as nanoseconds since the epoch. */
function timestampNs(text: string): bigint {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!match) throw new Error(`the time column holds '${text}', not a timestamp`);
  const seconds = BigInt(Date.parse(`${match[1]}T${match[2]}Z`) / 1000);
  return seconds * 1_000_000_000n + BigInt((match[3] ?? "").padEnd(9, "0"));
}

/** Makes the records for one result row; a row with no measure value (all NULL) makes none. */
export function recordsOfRow(
  config: TimestreamConfiguration,
  columns: readonly ColumnInfo[],
  row: { Data: Datum[] },
): WriteRecord[] {
  const at = new Map(columns.map((c, i) => [c.Name ?? "", i]));
  const value = (column: string): string | null => {
    const datum = row.Data[at.get(column) ?? -1];
    return datum === undefined || datum.NullValue || datum.ScalarValue === undefined
      ? null
      : datum.ScalarValue;
  };
  const time = value(config.TimeColumn);
  if (time === null) throw new Error(`the time column '${config.TimeColumn}' is NULL`);
  const base: WriteRecord = {
    Time: timestampNs(time).toString(),
    TimeUnit: "NANOSECONDS",
    Dimensions: config.DimensionMappings.flatMap((d) => {
      const v = value(d.Name);
      return v === null ? [] : [{ Name: d.Name, Value: v, DimensionValueType: "VARCHAR" as const }];
    }),
  };
  const measureNameOfRow = config.MeasureNameColumn === undefined ? null : value(config.MeasureNameColumn);
  const attributes = (mappings: readonly MultiMeasureAttributeMapping[]): MeasureValue[] =>
    mappings.flatMap((m) => {
      const v = value(m.SourceColumn);
      return v === null
        ? []
        : [{ Name: m.TargetMultiMeasureAttributeName ?? m.SourceColumn, Value: v, Type: m.MeasureValueType }];
    });
  const records: WriteRecord[] = [];
  const multi = config.MultiMeasureMappings;
  if (multi !== undefined) {
    const values = attributes(multi.MultiMeasureAttributeMappings);
    const name = multi.TargetMultiMeasureName ?? measureNameOfRow;
    if (name === null) throw new Error(`the measure name column '${config.MeasureNameColumn}' is NULL`);
    if (values.length > 0)
      records.push({ ...base, MeasureName: name, MeasureValueType: "MULTI", MeasureValues: values });
  }
  for (const m of config.MixedMeasureMappings ?? []) {
    // With a measure name column, a mapping that names a measure applies to that measure's rows only.
    if (m.MeasureName !== undefined && measureNameOfRow !== null && m.MeasureName !== measureNameOfRow)
      continue;
    if (m.MeasureValueType === "MULTI") {
      const values = attributes(m.MultiMeasureAttributeMappings ?? []);
      const name = m.TargetMeasureName ?? m.MeasureName ?? measureNameOfRow;
      if (name === null)
        throw new Error(
          "a MULTI mapping has no measure name (TargetMeasureName, MeasureName or MeasureNameColumn)",
        );
      if (values.length > 0)
        records.push({ ...base, MeasureName: name, MeasureValueType: "MULTI", MeasureValues: values });
    } else {
      const v = value(m.SourceColumn!);
      if (v === null) continue;
      const name = m.TargetMeasureName ?? m.MeasureName ?? measureNameOfRow ?? m.SourceColumn!;
      records.push({ ...base, MeasureName: name, MeasureValue: v, MeasureValueType: m.MeasureValueType });
    }
  }
  return records;
}

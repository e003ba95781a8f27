/**
 * The catalog: databases, tables and each table's learned schema (dimensions, multi-measure
 * attributes, measures, series), persisted in DuckDB's `_hg` schema beside the data so that one
 * commit covers both. An in-memory mirror answers lookups on the write path without SQL.
 *
 * Physical layout of a table with id N (see docs/decisions.md for why):
 *   _hg.tN_series(series_id INTEGER, d0 VARCHAR, d1 VARCHAR, …)     one row per distinct dimension set
 *   _hg.tN_measures(measure_id INTEGER, measure_name VARCHAR)        measure names, stored once
 *   _hg.tN_points(time TIMESTAMP_NS, _series_id, _measure_id, _version, v_double, v_bigint, v_varchar,
 *                 v_boolean, v_timestamp, a0, a1, …)                 one row per record, narrow
 */
import type { ScalarType, TableColumn } from "../sql/contract.js";
import { type Engine, quoteString } from "./engine.js";
import { seriesKeyOf } from "./records.js";
import type { Dimension, ScalarMeasureValueType } from "./types.js";

export interface DimensionColumn {
  name: string;
  /** Physical column in the series table, e.g. `d3`. */
  column: string;
}

export interface AttributeColumn {
  name: string;
  type: ScalarMeasureValueType;
  /** Physical column in the points table, e.g. `a7`. */
  column: string;
}

export interface MeasureState {
  id: number;
  name: string;
  /** Value types seen for this measure name (MULTI for multi-measure records). */
  types: Set<string>;
  dimensions: Set<string>;
}

export interface TableState {
  id: number;
  database: string;
  name: string;
  memoryHours: number;
  magneticDays: number;
  magneticWrites: boolean;
  createdMs: number;
  updatedMs: number;
  dimensions: DimensionColumn[];
  dimensionByName: Map<string, DimensionColumn>;
  attributes: AttributeColumn[];
  attributeByName: Map<string, AttributeColumn>;
  measures: Map<string, MeasureState>;
  series: Map<string, number>;
  nextSeriesId: number;
  /** (measure, series) pairs already recorded in measure_info this process (a cache, not persisted). */
  seenSeriesMeasures: Map<number, Uint8Array>;
  /** Scalar value columns that hold data (DESCRIBE lists only these, as Timestream does). */
  valueTypes: Set<ScalarMeasureValueType>;
}

export interface DatabaseState {
  name: string;
  createdMs: number;
  updatedMs: number;
}

/** The physical value column of each scalar measure type. */
export const VALUE_COLUMN: Record<ScalarMeasureValueType, string> = {
  DOUBLE: "v_double",
  BIGINT: "v_bigint",
  VARCHAR: "v_varchar",
  BOOLEAN: "v_boolean",
  TIMESTAMP: "v_timestamp",
};

export const DUCK_TYPE: Record<ScalarMeasureValueType, string> = {
  DOUBLE: "DOUBLE",
  BIGINT: "BIGINT",
  VARCHAR: "VARCHAR",
  BOOLEAN: "BOOLEAN",
  TIMESTAMP: "TIMESTAMP_NS",
};

/** The points table's name inside the `_hg` schema. */
export const pointsTableName = (t: { id: number }): string => `t${t.id}_points`;
export const pointsTable = (t: { id: number }): string => `_hg.${pointsTableName(t)}`;
/** The series table's name inside the `_hg` schema. */
export const seriesTableName = (t: { id: number }): string => `t${t.id}_series`;
export const seriesTable = (t: { id: number }): string => `_hg.${seriesTableName(t)}`;
/** The measures table's name inside the `_hg` schema. */
export const measuresTableName = (t: { id: number }): string => `t${t.id}_measures`;
export const measuresTable = (t: { id: number }): string => `_hg.${measuresTableName(t)}`;

const CATALOG_DDL = [
  "CREATE SCHEMA IF NOT EXISTS _hg",
  "CREATE TABLE IF NOT EXISTS _hg.databases(name VARCHAR, created_ms BIGINT, updated_ms BIGINT)",
  `CREATE TABLE IF NOT EXISTS _hg.tables(table_id INTEGER, database_name VARCHAR, table_name VARCHAR,
     memory_hours INTEGER, magnetic_days INTEGER, magnetic_writes BOOLEAN, created_ms BIGINT, updated_ms BIGINT)`,
  "CREATE TABLE IF NOT EXISTS _hg.columns(table_id INTEGER, kind VARCHAR, name VARCHAR, physical VARCHAR, type VARCHAR)",
  "CREATE TABLE IF NOT EXISTS _hg.measure_info(table_id INTEGER, measure_id INTEGER, kind VARCHAR, value VARCHAR)",
];

export class Catalog {
  readonly databases = new Map<string, DatabaseState>();
  /** Keyed by `${database}\u0000${table}`. */
  readonly tables = new Map<string, TableState>();
  nextTableId = 1;

  static key(database: string, table: string): string {
    return `${database}\u0000${table}`;
  }

  static async load(engine: Engine): Promise<Catalog> {
    for (const ddl of CATALOG_DDL) await engine.run(ddl);
    const catalog = new Catalog();
    for (const row of await engine.rows("SELECT * FROM _hg.databases")) {
      catalog.databases.set(String(row["name"]), {
        name: String(row["name"]),
        createdMs: Number(row["created_ms"]),
        updatedMs: Number(row["updated_ms"]),
      });
    }
    for (const row of await engine.rows("SELECT * FROM _hg.tables ORDER BY table_id")) {
      const table = emptyTableState({
        id: Number(row["table_id"]),
        database: String(row["database_name"]),
        name: String(row["table_name"]),
        memoryHours: Number(row["memory_hours"]),
        magneticDays: Number(row["magnetic_days"]),
        magneticWrites: Boolean(row["magnetic_writes"]),
        createdMs: Number(row["created_ms"]),
        updatedMs: Number(row["updated_ms"]),
      });
      catalog.tables.set(Catalog.key(table.database, table.name), table);
      catalog.nextTableId = Math.max(catalog.nextTableId, table.id + 1);
      await loadTableSchema(engine, table);
    }
    return catalog;
  }

  getTable(database: string, table: string): TableState | undefined {
    return this.tables.get(Catalog.key(database, table));
  }

  tablesOf(database: string): TableState[] {
    return [...this.tables.values()].filter((t) => t.database === database);
  }
}

export function emptyTableState(
  fields: Omit<
    TableState,
    | "dimensions"
    | "dimensionByName"
    | "attributes"
    | "attributeByName"
    | "measures"
    | "series"
    | "nextSeriesId"
    | "valueTypes"
    | "seenSeriesMeasures"
  >,
): TableState {
  return {
    ...fields,
    dimensions: [],
    dimensionByName: new Map(),
    attributes: [],
    attributeByName: new Map(),
    measures: new Map(),
    series: new Map(),
    nextSeriesId: 1,
    valueTypes: new Set(),
    seenSeriesMeasures: new Map(),
  };
}

async function loadTableSchema(engine: Engine, table: TableState): Promise<void> {
  const columns = await engine.rows(
    `SELECT kind, name, physical, type FROM _hg.columns WHERE table_id = ${table.id} ORDER BY rowid`,
  );
  for (const c of columns) {
    const name = String(c["name"]);
    const column = String(c["physical"]);
    if (c["kind"] === "dimension") {
      const d = { name, column };
      table.dimensions.push(d);
      table.dimensionByName.set(name, d);
    } else if (c["kind"] === "attribute") {
      const a = { name, column, type: String(c["type"]) as ScalarMeasureValueType };
      table.attributes.push(a);
      table.attributeByName.set(name, a);
    } else if (c["kind"] === "value") {
      table.valueTypes.add(String(c["type"]) as ScalarMeasureValueType);
    }
  }
  for (const m of await engine.rows(`SELECT measure_id, measure_name FROM ${measuresTable(table)}`)) {
    const name = String(m["measure_name"]);
    table.measures.set(name, { id: Number(m["measure_id"]), name, types: new Set(), dimensions: new Set() });
  }
  const byId = new Map([...table.measures.values()].map((m) => [m.id, m]));
  for (const info of await engine.rows(`SELECT * FROM _hg.measure_info WHERE table_id = ${table.id}`)) {
    const measure = byId.get(Number(info["measure_id"]));
    if (!measure) continue;
    if (info["kind"] === "type") measure.types.add(String(info["value"]));
    else measure.dimensions.add(String(info["value"]));
  }
  // Series keys are rebuilt from the stored dimension values, in the same canonical form as records.ts.
  const dimensionColumns = table.dimensions.map((d) => `${d.column}`).join(", ");
  const series = await engine.rows(
    `SELECT series_id${dimensionColumns ? `, ${dimensionColumns}` : ""} FROM ${seriesTable(table)}`,
  );
  for (const row of series) {
    const dimensions: Dimension[] = [];
    for (const d of table.dimensions) {
      const value = row[d.column];
      if (value !== null && value !== undefined) dimensions.push({ Name: d.name, Value: String(value) });
    }
    const key = seriesKeyOf(dimensions);
    const id = Number(row["series_id"]);
    table.series.set(key, id);
    table.nextSeriesId = Math.max(table.nextSeriesId, id + 1);
  }
}

/** DDL creating a new table's physical tables. */
export function createTableDdl(table: TableState): string[] {
  return [
    `CREATE TABLE ${seriesTable(table)}(series_id INTEGER)`,
    `CREATE TABLE ${measuresTable(table)}(measure_id INTEGER, measure_name VARCHAR)`,
    `CREATE TABLE ${pointsTable(table)}(time TIMESTAMP_NS, _series_id INTEGER, _measure_id INTEGER, _version BIGINT,
       v_double DOUBLE, v_bigint BIGINT, v_varchar VARCHAR, v_boolean BOOLEAN, v_timestamp TIMESTAMP_NS)`,
    `INSERT INTO _hg.tables VALUES (${table.id}, ${quoteString(table.database)}, ${quoteString(table.name)},
       ${table.memoryHours}, ${table.magneticDays}, ${table.magneticWrites}, ${table.createdMs}, ${table.updatedMs})`,
  ];
}

export function dropTableDdl(table: TableState): string[] {
  return [
    `DROP TABLE IF EXISTS ${pointsTable(table)}`,
    `DROP TABLE IF EXISTS ${seriesTable(table)}`,
    `DROP TABLE IF EXISTS ${measuresTable(table)}`,
    `DELETE FROM _hg.tables WHERE table_id = ${table.id}`,
    `DELETE FROM _hg.columns WHERE table_id = ${table.id}`,
    `DELETE FROM _hg.measure_info WHERE table_id = ${table.id}`,
  ];
}

/** The first instant still visible: data older than memory + magnetic retention is gone. */
export function visibleCutoffNs(table: TableState, nowNs: bigint): bigint {
  return (
    nowNs - BigInt(table.memoryHours) * 3_600_000_000_000n - BigInt(table.magneticDays) * 86_400_000_000_000n
  );
}

/** The Timestream columns of a table, in DESCRIBE's order. */
export function tableColumns(table: TableState): TableColumn[] {
  const columns: TableColumn[] = table.dimensions.map((d) => ({
    name: d.name,
    type: "VARCHAR",
    role: "DIMENSION",
  }));
  columns.push({ name: "measure_name", type: "VARCHAR", role: "MEASURE_NAME" });
  columns.push({ name: "time", type: "TIMESTAMP", role: "TIMESTAMP" });
  for (const type of ["BIGINT", "BOOLEAN", "DOUBLE", "TIMESTAMP", "VARCHAR"] as const) {
    if (table.valueTypes.has(type))
      columns.push({ name: `measure_value::${type.toLowerCase()}`, type, role: "MEASURE_VALUE" });
  }
  for (const a of table.attributes) columns.push({ name: a.name, type: a.type as ScalarType, role: "MULTI" });
  return columns;
}

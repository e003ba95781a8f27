/**
 * The contract between the Timestream dialect (src/sql) and the store (src/store).
 *
 * The dialect never touches DuckDB: it turns Timestream SQL text into DuckDB SQL text, asking the
 * store (through TableResolver) what a `"db"."table"` is. The store runs the result.
 */

/** Timestream's scalar types, as ColumnInfo reports them. */
export type ScalarType =
  | "VARCHAR"
  | "BOOLEAN"
  | "BIGINT"
  | "DOUBLE"
  | "TIMESTAMP"
  | "DATE"
  | "TIME"
  | "INTERVAL_DAY_TO_SECOND"
  | "INTERVAL_YEAR_TO_MONTH"
  | "INTEGER"
  | "UNKNOWN";

/** How a Timestream column is exposed (DESCRIBE's "Timestream attribute type"). */
export type ColumnRole = "DIMENSION" | "MEASURE_NAME" | "TIMESTAMP" | "MEASURE_VALUE" | "MULTI";

export interface TableColumn {
  /** The name users write, e.g. `region`, `time`, `measure_value::double`, `cpu_user`. */
  name: string;
  type: ScalarType;
  role: ColumnRole;
}

export interface ResolvedTable {
  database: string;
  table: string;
  /**
   * A DuckDB relation (a parenthesised subquery) that exposes exactly `columns`, under their
   * Timestream names (so `measure_value::double` is the DuckDB identifier "measure_value::double").
   * It already hides rows past the table's retention.
   */
  relationSql: string;
  columns: TableColumn[];
  /**
   * Optional: the same relation (same columns, same retention) holding only the rows whose
   * measure_name is one of `measureNames`, for a store that can select them more cheaply than a
   * filter on relationSql's measure_name (ours filters its points by measure id from its catalog
   * and skips the join to the measure-name table). A name the table has never seen matches no row:
   * an empty list gives an empty relation, never an error. Called while translating, so it sees
   * the measures that exist then; every query is translated afresh.
   */
  relationForMeasures?(measureNames: readonly string[]): string;
}

export interface MeasureInfo {
  measureName: string;
  /** DOUBLE, BIGINT, VARCHAR, BOOLEAN, TIMESTAMP or MULTI. */
  dataType: string;
  /** Dimension names seen with this measure. */
  dimensions: string[];
}

/** What the dialect may ask the store. Every method throws a NotFound HourglassError for an unknown name. */
export interface TableResolver {
  listDatabases(): string[];
  listTables(database: string): string[];
  resolveTable(database: string, table: string): ResolvedTable;
  listMeasures(database: string, table: string): MeasureInfo[];
}

export interface TranslateOptions {
  /** The query's `now()`: fixed once per query so that `ago()`/`now()` agree and tests are deterministic. */
  nowNs: bigint;
  /** The most entries one sequence() may produce (default DEFAULT_SEQUENCE_MAX_ENTRIES). */
  sequenceMaxEntries?: number;
}

/**
 * Presto's (and Trino's) limit on sequence(), "result of sequence function must not have more
 * than 10000 entries"; Timestream's documentation states no limit of its own. Without a cap,
 * UNNEST(sequence(1, 1000000000)) builds a billion-entry list in memory.
 */
export const DEFAULT_SEQUENCE_MAX_ENTRIES = 10_000;

export interface Translation {
  /**
   * DuckDB SQL: a single read-only statement (SELECT / WITH … SELECT / VALUES). For an UNLOAD,
   * the translation of its SELECT (the store writes that query's result where `unload` says).
   */
  duckdbSql: string;
  /** Output column names, in order, when the translator knows them (else the store reads them from DuckDB). */
  columnNames?: string[];
  statementKind: "select" | "show" | "describe" | "unload";
  /** For `UNLOAD (SELECT …) TO 's3://…' WITH (…)`: where and how to write the result. */
  unload?: UnloadSpec;
}

/**
 * An UNLOAD's destination and options, checked and with Timestream's defaults filled in
 * (https://docs.aws.amazon.com/timestream/latest/developerguide/export-unload-concepts.html).
 */
export interface UnloadSpec {
  /** The TO URL as written. */
  url: string;
  bucket: string;
  /** The folder inside the bucket: "" or ending in "/". */
  prefix: string;
  /** Default CSV. */
  format: "CSV" | "PARQUET";
  /** Default GZIP. */
  compression: "GZIP" | "NONE";
  /** Output columns that make the folders `name=value/`; they must be the select's last columns, in this order. */
  partitionedBy: string[];
  /** CSV only: one ASCII character, default ','. */
  fieldDelimiter: string;
  /** CSV only: one ASCII character, default '\\'. */
  escapedBy: string;
  /** CSV only: default false. */
  includeHeader: boolean;
  /** Default 78 GB; 16 MB to 78 GB (1 MB = 2^20 bytes). */
  maxFileSizeBytes: number;
}

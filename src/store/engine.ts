/**
 * The only place that talks to DuckDB (`@duckdb/node-api`). The rest of the store sees this narrow
 * interface: run SQL, read small results as JSON-ish rows, append typed columns, stream results.
 */
import {
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBResult,
  type DuckDBValue,
} from "@duckdb/node-api";
// The raw bindings under @duckdb/node-api: they copy a whole typed array into a vector at once.
import bindings from "@duckdb/node-bindings";

/**
 * A column of rows to append. `fixed`: the values as DuckDB stores them (INTEGER as Int32Array,
 * BIGINT and TIMESTAMP_NS as BigInt64Array of epoch nanoseconds, DOUBLE as Float64Array, BOOLEAN as
 * Uint8Array of 0/1), with `valid` (1: a value, 0: NULL) or null when no row is NULL.
 */
export type AppendColumn =
  | {
      kind: "fixed";
      values: Int32Array | BigInt64Array | Float64Array | Uint8Array;
      valid: Uint8Array | null;
    }
  | { kind: "strings"; values: readonly (string | null)[] }
  | { kind: "null" };

export interface AppendTarget {
  table: string;
  schema: string;
  /** "temp" for a temporary table. */
  catalog?: string;
  /** Default: the writer connection. */
  connection?: DuckDBConnection;
}

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

export type { DuckDBResult, DuckDBValue };

export interface EngineOptions {
  /** Path of the DuckDB file, or ":memory:". */
  path: string;
  threads?: number;
  /** DuckDB's memory_limit for the whole instance, e.g. "4GB". */
  memoryLimit?: string;
  /** Where DuckDB spills what does not fit in memory. */
  tempDirectory?: string;
  /** DuckDB's max_temp_directory_size, e.g. "10GB". */
  maxTempSize?: string;
}

export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    /** The connection every write and DDL statement goes through (one writer, serialised by the store). */
    readonly writer: DuckDBConnection,
  ) {}

  static async open(options: EngineOptions): Promise<Engine> {
    const config: Record<string, string> = {};
    if (options.threads) config["threads"] = String(options.threads);
    if (options.memoryLimit) config["memory_limit"] = options.memoryLimit;
    if (options.tempDirectory) config["temp_directory"] = options.tempDirectory;
    if (options.maxTempSize) config["max_temp_directory_size"] = options.maxTempSize;
    const instance = await DuckDBInstance.create(options.path, config);
    const writer = await instance.connect();
    const engine = new Engine(instance, writer);
    await engine.prepareConnection(writer);
    return engine;
  }

  /** Every connection works in UTC: Timestream's times are UTC and DuckDB would otherwise use the host zone. */
  private async prepareConnection(connection: DuckDBConnection): Promise<void> {
    await connection.run("SET TimeZone = 'UTC'");
  }

  async connect(setupSql: readonly string[] = []): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    await this.prepareConnection(connection);
    for (const sql of setupSql) await connection.run(sql);
    return connection;
  }

  async run(sql: string, connection: DuckDBConnection = this.writer): Promise<number> {
    const result = await connection.run(sql);
    return result.rowsChanged;
  }

  /** Runs one statement with bound parameters ($1, $2, …): user text never becomes SQL text. */
  async runWith(
    sql: string,
    params: DuckDBValue[],
    connection: DuckDBConnection = this.writer,
  ): Promise<number> {
    const result = await connection.run(sql, params);
    return result.rowsChanged;
  }

  /** Small results only: rows as objects with JSON-safe values (BIGINT as string, timestamps as text). */
  async rows(sql: string, connection: DuckDBConnection = this.writer): Promise<Record<string, unknown>[]> {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  /**
   * Appends rows, given as columns, to a table through DuckDB's appender, a data chunk (2,048 rows)
   * at a time. The columns must match the table's columns in order and count. Fixed-width values
   * are copied into DuckDB's vectors with one memory copy per chunk (no call per value); strings
   * take one call each. Inside a transaction of the same connection the rows are part of it.
   */
  async appendRows(target: AppendTarget, columns: readonly AppendColumn[], rowCount: number): Promise<void> {
    if (rowCount === 0) return;
    const connection = target.connection ?? this.writer;
    const appender = await connection.createAppender(target.table, target.schema, target.catalog ?? null);
    try {
      if (appender.columnCount !== columns.length) {
        throw new Error(
          `appending to ${target.table}: the table has ${appender.columnCount} columns, the rows ${columns.length}`,
        );
      }
      const types = columns.map((_, c) => appender.columnType(c));
      const validity = new Uint8Array(CHUNK_ROWS / 8);
      for (let offset = 0; offset < rowCount; offset += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, rowCount - offset);
        const chunk = DuckDBDataChunk.create(types, n);
        for (let c = 0; c < columns.length; c++) {
          const column = columns[c]!;
          const vector = bindings.data_chunk_get_vector(chunk.chunk, c);
          if (column.kind === "fixed") {
            const part = column.values.subarray(offset, offset + n);
            bindings.copy_data_to_vector(
              vector,
              0,
              part.buffer as ArrayBuffer,
              part.byteOffset,
              part.byteLength,
            );
            if (column.valid) setValidity(vector, validity, n, (i) => column.valid![offset + i] === 1);
          } else if (column.kind === "strings") {
            let nulls = false;
            for (let i = 0; i < n; i++) {
              const value = column.values[offset + i];
              if (value === null || value === undefined) nulls = true;
              else bindings.vector_assign_string_element(vector, i, value);
            }
            if (nulls) setValidity(vector, validity, n, (i) => column.values[offset + i] != null);
          } else {
            setValidity(vector, validity, n, () => false);
          }
        }
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  close(): void {
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

/** Writes a vector's validity mask (bit i of the mask: row i is not NULL) from a per-row test. */
function setValidity(
  vector: bindings.Vector,
  scratch: Uint8Array,
  rowCount: number,
  isValid: (row: number) => boolean,
): void {
  const bytes = Math.ceil(rowCount / 64) * 8;
  scratch.fill(0, 0, bytes);
  for (let i = 0; i < rowCount; i++) if (isValid(i)) scratch[i >> 3]! |= 1 << (i & 7);
  bindings.vector_ensure_validity_writable(vector);
  bindings.copy_data_to_vector_validity(vector, 0, scratch.buffer as ArrayBuffer, scratch.byteOffset, bytes);
}

/** Quotes an identifier for DuckDB. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Quotes a string literal for DuckDB. */
export const quoteString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * The only place that talks to DuckDB (`@duckdb/node-api`). The rest of the store sees this narrow
 * interface: run SQL, read small results as JSON-ish rows, append typed columns, stream results.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBResult,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  VARCHAR,
} from "@duckdb/node-api";

export type ColumnKind = "INTEGER" | "BIGINT" | "DOUBLE" | "VARCHAR" | "BOOLEAN";
const duckTypes: Record<ColumnKind, DuckDBType> = { INTEGER, BIGINT, DOUBLE, VARCHAR, BOOLEAN };

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

export type { DuckDBResult, DuckDBValue };

export interface EngineOptions {
  /** Path of the DuckDB file, or ":memory:". */
  path: string;
  threads?: number;
  memoryLimit?: string;
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

  /** Small results only: rows as objects with JSON-safe values (BIGINT as string, timestamps as text). */
  async rows(sql: string, connection: DuckDBConnection = this.writer): Promise<Record<string, unknown>[]> {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  /** Appends columns (all of one length) to a temp table of the writer connection, a data chunk at a time. */
  async appendColumns(
    tempTable: string,
    kinds: readonly ColumnKind[],
    columns: readonly (DuckDBValue[] | Int32Array | Float64Array)[],
  ): Promise<void> {
    const rowCount = columns[0]?.length ?? 0;
    if (rowCount === 0) return;
    const types = kinds.map((kind) => duckTypes[kind]);
    const appender = await this.writer.createAppender(tempTable, "main", "temp");
    try {
      for (let offset = 0; offset < rowCount; offset += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, rowCount - offset);
        const chunk = DuckDBDataChunk.create(types, n);
        for (let c = 0; c < columns.length; c++) {
          const column = columns[c]!;
          const part = offset === 0 && n === rowCount ? column : column.slice(offset, offset + n);
          if (part instanceof Int32Array || part instanceof Float64Array) setTypedColumn(chunk, c, part);
          else chunk.setColumnValues(c, part);
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

/**
 * Copies a typed array with no NULLs into a chunk's column in one `set`, instead of one setItem a
 * value (which also writes the validity mask value by value). DuckDB's numeric vectors keep their
 * values in a typed array `items`; when that is not what we find, the generic path is used.
 */
function setTypedColumn(chunk: DuckDBDataChunk, column: number, values: Int32Array | Float64Array): void {
  const vector = chunk.getColumnVector(column) as unknown as { items?: unknown; flush(): void };
  const items = vector.items;
  if (
    (values instanceof Int32Array && items instanceof Int32Array && items.length === values.length) ||
    (values instanceof Float64Array && items instanceof Float64Array && items.length === values.length)
  ) {
    items.set(values);
    vector.flush();
  } else {
    chunk.setColumnValues(column, Array.from(values));
  }
}

/** Quotes an identifier for DuckDB. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Quotes a string literal for DuckDB. */
export const quoteString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

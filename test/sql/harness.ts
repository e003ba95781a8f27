/**
 * A real in-memory DuckDB with a small generated Timestream-shaped table, and a resolver over it,
 * for running translated queries. The rows are generated here in TypeScript so that tests can
 * compute expected answers from the same data.
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { notFound } from "../../src/errors.js";
import {
  dialectSetupSql,
  formatTimestampNs,
  type MeasureInfo,
  type ResolvedTable,
  type TableColumn,
  type TableResolver,
  translate,
} from "../../src/sql/index.js";

export const DATABASE = "airflow-db";
export const TABLE = "airflow-table";
export const EMPTY_TABLE = "empty-table";
export const nsPerSecond = 1_000_000_000n;
/** 2021-09-22 13:00:00 UTC */
export const START_NS = BigInt(Date.UTC(2021, 8, 22, 13, 0, 0)) * 1_000_000n;

export interface Point {
  region: string;
  instance_name: string;
  availability_zone: string;
  measure_name: string;
  timeNs: bigint;
  double: number | null;
  bigint: bigint | null;
  varchar: string | null;
  boolean: boolean | null;
}

/** A small deterministic PRNG (mulberry32), so the data is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const HOSTS = [0, 1, 2, 3, 4, 5].map((i) => ({
  region: i % 2 === 0 ? "us-east-2" : "eu-west-1",
  instance_name: `i-zaZswmJk-apollo-000${i}.amazonaws.com`,
  availability_zone: i % 2 === 0 ? `us-east-2-${(i % 3) + 1}` : `eu-west-1-${(i % 3) + 1}`,
}));

/**
 * cpu_nice (double) every 10 s from 13:00:00 to 13:03:00 for six hosts, plus points just outside
 * and exactly on the seed's window edges; cpu_user (double) to check measure filters; task_completed
 * (bigint), task_end_state (varchar) and healthy (boolean) for typed measures.
 */
export function generatePoints(): Point[] {
  const next = random(42);
  const points: Point[] = [];
  const base = { double: null, bigint: null, varchar: null, boolean: null };
  const seconds = [...Array.from({ length: 19 }, (_, k) => k * 10), -10, 3 * 3600, 3 * 3600 + 10];
  for (const host of HOSTS) {
    for (const s of seconds) {
      const timeNs = START_NS + BigInt(s) * nsPerSecond;
      points.push({
        ...host,
        ...base,
        measure_name: "cpu_nice",
        timeNs,
        double: Math.round(next() * 1e6) / 1e6,
      });
      points.push({ ...host, ...base, measure_name: "cpu_user", timeNs, double: 50 + next() * 40 });
      if (s >= 0 && s < 60) {
        points.push({
          ...host,
          ...base,
          measure_name: "task_completed",
          timeNs,
          bigint: BigInt(Math.floor(next() * 500)),
        });
        points.push({
          ...host,
          ...base,
          measure_name: "task_end_state",
          timeNs,
          varchar: next() < 0.7 ? "SUCCESS" : "USER_ERROR",
        });
        points.push({ ...host, ...base, measure_name: "healthy", timeNs, boolean: next() < 0.8 });
      }
    }
  }
  return points;
}

const tableColumns: TableColumn[] = [
  { name: "region", type: "VARCHAR", role: "DIMENSION" },
  { name: "instance_name", type: "VARCHAR", role: "DIMENSION" },
  { name: "availability_zone", type: "VARCHAR", role: "DIMENSION" },
  { name: "measure_name", type: "VARCHAR", role: "MEASURE_NAME" },
  { name: "time", type: "TIMESTAMP", role: "TIMESTAMP" },
  { name: "measure_value::double", type: "DOUBLE", role: "MEASURE_VALUE" },
  { name: "measure_value::bigint", type: "BIGINT", role: "MEASURE_VALUE" },
  { name: "measure_value::varchar", type: "VARCHAR", role: "MEASURE_VALUE" },
  { name: "measure_value::boolean", type: "BOOLEAN", role: "MEASURE_VALUE" },
  { name: "measure_value::timestamp", type: "TIMESTAMP", role: "MEASURE_VALUE" },
];

const sqlString = (value: string | null) => (value === null ? "NULL" : `'${value.replaceAll("'", "''")}'`);

/** A resolver over two DuckDB tables; unknown names get the NotFound the store would throw. */
export function testResolver(): TableResolver {
  const tables: Record<string, string> = { [TABLE]: "points", [EMPTY_TABLE]: "empty_points" };
  return {
    listDatabases: () => [DATABASE, "other-db"],
    listTables(database) {
      if (database === "other-db") return [];
      if (database !== DATABASE) throw notFound(`database ${database} does not exist`, { database });
      return Object.keys(tables);
    },
    resolveTable(database, table): ResolvedTable {
      this.listTables(database);
      const duckdbTable = tables[table];
      if (duckdbTable === undefined)
        throw notFound(`table ${database}.${table} does not exist`, { database, table });
      return {
        database,
        table,
        relationSql: `(SELECT * FROM ${duckdbTable})`,
        columns: tableColumns,
        // As the contract asks: only those measures' rows, nothing for names never written.
        relationForMeasures: (names) =>
          names.length === 0
            ? `(SELECT * FROM ${duckdbTable} WHERE FALSE)`
            : `(SELECT * FROM ${duckdbTable} WHERE measure_name IN (${names.map(sqlString).join(", ")}))`,
      };
    },
    listMeasures(database, table): MeasureInfo[] {
      this.resolveTable(database, table);
      if (table === EMPTY_TABLE) return [];
      const dimensions = ["availability_zone", "instance_name", "region"];
      return [
        { measureName: "cpu_nice", dataType: "DOUBLE", dimensions },
        { measureName: "healthy", dataType: "BOOLEAN", dimensions },
        { measureName: "task_completed", dataType: "BIGINT", dimensions },
      ];
    },
  };
}

export interface QueryResult {
  /** The translated DuckDB SQL. */
  sql: string;
  /** The column names the translator announced. */
  names: string[] | undefined;
  /** The column names DuckDB returned. */
  columns: string[];
  rows: unknown[][];
}

export class Harness {
  readonly resolver = testResolver();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly points: Point[],
  ) {}

  static async create(): Promise<Harness> {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    for (const statement of dialectSetupSql) await connection.run(statement);
    const points = generatePoints();
    const columns = `region VARCHAR, instance_name VARCHAR, availability_zone VARCHAR, measure_name VARCHAR, "time" TIMESTAMP_NS,
      "measure_value::double" DOUBLE, "measure_value::bigint" BIGINT, "measure_value::varchar" VARCHAR,
      "measure_value::boolean" BOOLEAN, "measure_value::timestamp" TIMESTAMP_NS`;
    await connection.run(`CREATE TABLE points (${columns})`);
    await connection.run(`CREATE TABLE empty_points (${columns})`);
    const values = points.map(
      (p) =>
        `(${sqlString(p.region)}, ${sqlString(p.instance_name)}, ${sqlString(p.availability_zone)}, ${sqlString(p.measure_name)}, ` +
        `TIMESTAMP_NS '${formatTimestampNs(p.timeNs)}', ${p.double ?? "NULL"}, ${p.bigint ?? "NULL"}, ${sqlString(p.varchar)}, ` +
        `${p.boolean ?? "NULL"}, NULL)`,
    );
    await connection.run(`INSERT INTO points VALUES ${values.join(", ")}`);
    return new Harness(instance, connection, points);
  }

  /** Translates a Timestream query and runs it. */
  async query(timestreamSql: string, nowNs: bigint = START_NS + 120n * nsPerSecond): Promise<QueryResult> {
    const translation = translate(timestreamSql, this.resolver, { nowNs });
    const reader = await this.connection.runAndReadAll(translation.duckdbSql);
    return {
      sql: translation.duckdbSql,
      names: translation.columnNames,
      columns: reader.columnNames(),
      rows: reader.getRowsJson(),
    };
  }

  /** DuckDB's physical plan for a translated Timestream query. */
  async explain(timestreamSql: string): Promise<string> {
    const translation = translate(timestreamSql, this.resolver, { nowNs: START_NS });
    const reader = await this.connection.runAndReadAll(`EXPLAIN ${translation.duckdbSql}`);
    return reader
      .getRowsJson()
      .map((row) => row.join("\n"))
      .join("\n");
  }

  /** The single value of a one-row, one-column query. */
  async value(timestreamSql: string, nowNs?: bigint): Promise<unknown> {
    const result = await this.query(timestreamSql, nowNs);
    if (result.rows.length !== 1 || result.rows[0]!.length !== 1) {
      throw new Error(`expected one value from ${timestreamSql}, got ${JSON.stringify(result.rows)}`);
    }
    return result.rows[0]![0];
  }

  /** Runs DuckDB SQL directly (for setting up extra tables). */
  async run(duckdbSql: string): Promise<void> {
    await this.connection.run(duckdbSql);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Nearest-rank percentile: the smallest value with at least p of the values at or below it. */
export function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * SHOW DATABASES, SHOW TABLES, SHOW MEASURES and DESCRIBE, answered from what the store tells the
 * resolver, as DuckDB SQL over literal rows. An empty answer still has its columns (Timestream
 * returns ColumnInfo with no rows).
 */
import type { Statement } from "./ast.js";
import type { TableResolver, Translation } from "./contract.js";
import { quoteIdentifier, quoteString } from "./quote.js";

interface LiteralColumn {
  name: string;
  /** DuckDB type, used to type the columns of an empty answer. */
  duckdbType: string;
}

const dimensionsType = 'STRUCT("dimension_name" VARCHAR, "data_type" VARCHAR)[]';

/** `SELECT … FROM (VALUES …)`, or a typed `… WHERE false` when there are no rows. */
function literalRows(columns: LiteralColumn[], rows: string[][], like?: string, sorted = true): string {
  const names = columns.map((c) => quoteIdentifier(c.name));
  if (rows.length === 0) {
    return `SELECT ${columns.map((c, k) => `CAST(NULL AS ${c.duckdbType}) AS ${names[k]}`).join(", ")} WHERE false`;
  }
  const values = rows.map((row) => `(${row.join(", ")})`).join(", ");
  const where = like === undefined ? "" : ` WHERE ${names[0]} LIKE ${quoteString(like)}`;
  const order = sorted ? ` ORDER BY ${names[0]}` : "";
  return `SELECT ${names.join(", ")} FROM (VALUES ${values}) AS hg_rows(${names.join(", ")})${where}${order}`;
}

const varchar = (name: string): LiteralColumn => ({ name, duckdbType: "VARCHAR" });

export function translateShow(
  statement: Exclude<Statement, { kind: "query" | "unload" }>,
  resolver: TableResolver,
): Translation {
  switch (statement.kind) {
    case "showDatabases": {
      const rows = resolver.listDatabases().map((name) => [quoteString(name)]);
      return show(literalRows([varchar("Database")], rows, statement.like), ["Database"]);
    }
    case "showTables": {
      const databases = statement.database === undefined ? resolver.listDatabases() : [statement.database];
      const rows = databases.flatMap((database) =>
        resolver.listTables(database).map((name) => [quoteString(name)]),
      );
      return show(literalRows([varchar("Table")], rows, statement.like), ["Table"]);
    }
    case "showMeasures": {
      const columns = [
        varchar("measure_name"),
        varchar("data_type"),
        { name: "Dimensions", duckdbType: dimensionsType },
      ];
      const rows = resolver.listMeasures(statement.database, statement.table).map((measure) => {
        const dimensions = measure.dimensions.map(
          (d) => `{'dimension_name': ${quoteString(d)}, 'data_type': 'varchar'}`,
        );
        return [
          quoteString(measure.measureName),
          quoteString(measure.dataType.toLowerCase()),
          `CAST([${dimensions.join(", ")}] AS ${dimensionsType})`,
        ];
      });
      return show(
        literalRows(columns, rows, statement.like),
        columns.map((c) => c.name),
      );
    }
    case "describe": {
      const table = resolver.resolveTable(statement.database, statement.table);
      const rows = table.columns.map((column) => [
        quoteString(column.name),
        quoteString(column.type.toLowerCase()),
        quoteString(column.role),
      ]);
      const columns = [varchar("Column"), varchar("Type"), varchar("Timestream attribute type")];
      // DESCRIBE keeps the table's column order rather than sorting.
      const sql = literalRows(columns, rows, undefined, false);
      return { duckdbSql: sql, statementKind: "describe", columnNames: columns.map((c) => c.name) };
    }
  }
}

const show = (duckdbSql: string, columnNames: string[]): Translation => ({
  duckdbSql,
  statementKind: "show",
  columnNames,
});

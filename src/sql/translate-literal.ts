/**
 * Literals and types: numbers, durations, INTERVAL '2' DAY, TIMESTAMP '…', DOUBLE '0.0',
 * now()/current_* and the string-to-timestamp coercion next to timestamp expressions.
 */
import type { Expr, TypeName } from "./ast.js";
import { quoteIdentifier, quoteString } from "./quote.js";
import { syntaxError } from "./syntax-error.js";
import {
  dateLiteralSql,
  durationUnitNs,
  formatTimestampNs,
  intervalSql,
  parseDateNs,
  parseTimestampNs,
  timestampLiteralSql,
} from "./timestamps.js";
import type { Translated } from "./translate-expression.js";
import { arrayOf, type ColumnInfo, isTimestamp, type SqlType } from "./types.js";

const intervalUnitNs: Record<string, bigint | undefined> = {
  DAY: durationUnitNs.d,
  HOUR: durationUnitNs.h,
  MINUTE: durationUnitNs.m,
  SECOND: durationUnitNs.s,
};

export function numberType(text: string): SqlType {
  if ([...text].some((c) => c === "." || c === "e" || c === "E")) return "double";
  return BigInt(text) > 2147483647n ? "bigint" : "integer";
}

/**
 * A number literal. Timestream has no DECIMAL type (its query types are int, bigint, double, …), so
 * `0.0` is a DOUBLE there; DuckDB would read it as DECIMAL(2,1), which breaks e.g. a REDUCE whose
 * state starts at 0.0 and becomes a double. Exponent forms (1e-3) already are DOUBLE in DuckDB.
 */
export function translateNumber(text: string): Translated {
  const type = numberType(text);
  const isDecimal = type === "double" && ![...text].some((c) => c === "e" || c === "E");
  return { sql: isDecimal ? `CAST(${text} AS DOUBLE)` : text, type };
}

export function durationValue(ns: bigint, pos: Expr["pos"], text: string): Translated {
  const sql = intervalSql(ns < 0n ? -ns : ns);
  if (sql === undefined) {
    throw syntaxError(
      pos,
      `duration ${text} is finer than a microsecond: it can be used with bin(), ago() and timestamp arithmetic only`,
    );
  }
  return { sql: ns < 0n ? `(- ${sql})` : sql, type: "interval", durationNs: ns };
}

export function translateInterval(e: Extract<Expr, { kind: "interval" }>): Translated {
  const text = e.value.trim();
  const valid = text.length > 0 && [...text].every((c) => (c >= "0" && c <= "9") || c === ".");
  const fixedNs = intervalUnitNs[e.unit];
  if (!valid || text.split(".").length > 2 || (text.includes(".") && e.unit !== "SECOND")) {
    throw syntaxError(e.pos, `'${e.value}' is not a valid INTERVAL … ${e.unit} value`);
  }
  if (fixedNs === undefined) {
    const fn = e.unit === "YEAR" ? "to_years" : "to_months";
    return { sql: `${e.negative ? "-" : ""}${fn}(${text})`, type: "interval" };
  }
  const [whole, fraction = ""] = text.split(".") as [string, string?];
  if (fraction.length > 9) throw syntaxError(e.pos, `'${e.value}' has more than 9 fractional digits`);
  const ns =
    (BigInt(whole || "0") * fixedNs * 10n ** BigInt(fraction.length) + BigInt(fraction || "0") * fixedNs) /
    10n ** BigInt(fraction.length);
  return durationValue(e.negative ? -ns : ns, e.pos, `INTERVAL '${e.value}' ${e.unit}`);
}

export function translateTypedLiteral(type: TypeName, value: string, pos: Expr["pos"]): Translated {
  switch (type.name) {
    case "TIMESTAMP": {
      const ns = parseTimestampNs(value);
      if (ns === undefined) throw syntaxError(pos, `'${value}' is not a valid timestamp`);
      return { sql: timestampLiteralSql(ns), type: "timestamp", timestampNs: ns };
    }
    case "DATE": {
      const ns = parseDateNs(value);
      if (ns === undefined) throw syntaxError(pos, `'${value}' is not a valid date (YYYY-MM-DD)`);
      return { sql: dateLiteralSql(ns), type: "date" };
    }
    case "VARCHAR":
      return { sql: quoteString(value), type: "varchar" };
    default: {
      const duck = duckdbType(type);
      return { sql: `CAST(${quoteString(value)} AS ${duck.sql})`, type: duck.type };
    }
  }
}

/** Timestream (Presto) type names to DuckDB's. */
export function duckdbType(type: TypeName): { sql: string; type: SqlType } {
  switch (type.name) {
    case "VARCHAR":
    case "CHAR":
      return { sql: "VARCHAR", type: "varchar" };
    case "BIGINT":
      return { sql: "BIGINT", type: "bigint" };
    case "INTEGER":
    case "INT":
      return { sql: "INTEGER", type: "integer" };
    case "SMALLINT":
      return { sql: "SMALLINT", type: "integer" };
    case "TINYINT":
      return { sql: "TINYINT", type: "integer" };
    case "DOUBLE":
      return { sql: "DOUBLE", type: "double" };
    case "REAL":
      return { sql: "FLOAT", type: "double" };
    case "DECIMAL":
      if (type.params.length > 2 || type.params.some((p) => !Number.isInteger(p) || p > 38)) break;
      return {
        sql: type.params.length === 0 ? "DECIMAL(38, 9)" : `DECIMAL(${type.params.join(", ")})`,
        type: "double",
      };
    case "BOOLEAN":
      return { sql: "BOOLEAN", type: "boolean" };
    case "TIMESTAMP":
      return { sql: "TIMESTAMP_NS", type: "timestamp" };
    case "DATE":
      return { sql: "DATE", type: "date" };
    case "TIME":
      return { sql: "TIME", type: "time" };
    case "ARRAY": {
      const element = duckdbType(type.element!);
      return { sql: `${element.sql}[]`, type: arrayOf(element.type) };
    }
    case "ROW":
      return rowType(type);
  }
  throw syntaxError(type.pos, `unknown or unsupported type '${type.name}'`);
}

/** ROW(name T, …) as a DuckDB STRUCT; a cast to it names the fields of a ROW(a, b) value by position. */
function rowType(type: TypeName): { sql: string; type: SqlType } {
  const fields = type.fields ?? [];
  const names = new Set<string>();
  const parts: string[] = [];
  const infos: ColumnInfo[] = [];
  for (const field of fields) {
    if (field.name === undefined) {
      throw syntaxError(
        field.type.pos,
        "ROW types need a name for each field, such as ROW(sum DOUBLE, count INTEGER): DuckDB has no unnamed fields",
      );
    }
    if (names.has(field.name.toLowerCase()))
      throw syntaxError(field.type.pos, `ROW type has the field '${field.name}' twice`);
    names.add(field.name.toLowerCase());
    const inner = duckdbType(field.type);
    parts.push(`${quoteIdentifier(field.name)} ${inner.sql}`);
    infos.push({ name: field.name, type: inner.type });
  }
  return { sql: `STRUCT(${parts.join(", ")})`, type: { kind: "row", fields: infos } };
}

/** A string literal next to a timestamp (or date) becomes a literal of that type, computed in UTC. */
export function coerceTo(node: Expr, value: Translated, target: SqlType): Translated {
  if (node.kind !== "string") return value;
  if (isTimestamp(target)) {
    const ns = parseTimestampNs(node.value);
    if (ns === undefined) throw syntaxError(node.pos, `'${node.value}' is not a valid timestamp`);
    return { sql: timestampLiteralSql(ns), type: "timestamp", timestampNs: ns };
  }
  if (target === "date") {
    const ns = parseDateNs(node.value);
    if (ns === undefined) throw syntaxError(node.pos, `'${node.value}' is not a valid date (YYYY-MM-DD)`);
    return { sql: dateLiteralSql(ns), type: "date" };
  }
  return value;
}

export function translateCurrent(which: string, nowNs: bigint): Translated {
  switch (which) {
    case "CURRENT_DATE":
      return { sql: dateLiteralSql(nowNs), type: "date" };
    case "CURRENT_TIME":
      return { sql: `TIME '${formatTimestampNs(nowNs).slice(11, 26)}'`, type: "time" };
    default:
      return { sql: timestampLiteralSql(nowNs), type: "timestamp", timestampNs: nowNs };
  }
}

/**
 * Prints a Timestream expression as DuckDB SQL, tracking enough about its type to get Timestream's
 * meaning: timestamp strings become UTC TIMESTAMP_NS literals, integer division stays integer,
 * `now()`-based arithmetic folds into literals so that DuckDB can prune by time.
 */
import type { BinaryExpr, CallExpr, CastExpr, Expr, LambdaExpr, Query } from "./ast.js";
import type { TranslateOptions } from "./contract.js";
import type { PercentilePlan } from "./percentiles.js";
import { quoteIdentifier, quoteString } from "./quote.js";
import type { Scope } from "./scope.js";
import { syntaxError } from "./syntax-error.js";
import {
  durationUnitNs,
  intervalSql,
  parseDateNs,
  parseTimestampNs,
  timestampLiteralSql,
} from "./timestamps.js";
import {
  coerceTo,
  duckdbType,
  durationValue,
  translateCurrent,
  translateInterval,
  translateNumber,
  translateTypedLiteral,
} from "./translate-literal.js";
import {
  arithmeticResult,
  arrayOf,
  type ColumnInfo,
  elementOf,
  isInteger,
  isTimestamp,
  type SqlType,
} from "./types.js";

export interface Translated {
  sql: string;
  type: SqlType;
  /** Set when the value is a known instant (a literal, now(), ago()): lets arithmetic fold. */
  timestampNs?: bigint;
  /** Set when the value is a known fixed length of time (15m, INTERVAL '2' DAY). */
  durationNs?: bigint;
}

export interface TranslatedQuery {
  sql: string;
  /** Output columns, when known. */
  columns: ColumnInfo[] | undefined;
}

export interface ExpressionContext {
  scope: Scope;
  options: TranslateOptions;
  /** APPROX_PERCENTILE calls of the current SELECT that share one quantile computation. */
  percentiles: PercentilePlan;
  translateQuery(query: Query, outer: Scope): TranslatedQuery;
  /** Function calls (functions.ts), passed in so that the function modules can use this one. */
  translateCall(call: CallExpr, ctx: ExpressionContext): Translated;
}

export function translateExpr(e: Expr, ctx: ExpressionContext): Translated {
  switch (e.kind) {
    case "number":
      return translateNumber(e.text);
    case "string":
      return { sql: quoteString(e.value), type: "varchar" };
    case "boolean":
      return { sql: e.value ? "TRUE" : "FALSE", type: "boolean" };
    case "null":
      return { sql: "NULL", type: "unknown" };
    case "duration":
      return durationValue(e.amount * durationUnitNs[e.unit], e.pos, e.text);
    case "interval":
      return translateInterval(e);
    case "typed":
      return translateTypedLiteral(e.type, e.value, e.pos);
    case "column": {
      const resolved = ctx.scope.resolve(e.parts, e.pos);
      return { sql: resolved.sql, type: resolved.type };
    }
    case "measureValue": {
      const name = `measure_value::${e.type}`;
      const resolved = ctx.scope.resolve(e.qualifier === undefined ? [name] : [e.qualifier, name], e.pos);
      return { sql: resolved.sql, type: resolved.type };
    }
    case "star":
      throw syntaxError(e.pos, "'*' is only allowed in a select list or in count(*)");
    case "unary":
      return translateUnary(e.op, translateExpr(e.operand, ctx));
    case "binary":
      return checkDuration(e, translateBinary(e, ctx));
    case "between": {
      const value = translateExpr(e.value, ctx);
      const low = coerceTo(e.low, translateExpr(e.low, ctx), value.type);
      const high = coerceTo(e.high, translateExpr(e.high, ctx), value.type);
      const not = e.not ? "NOT " : "";
      return { sql: `(${value.sql} ${not}BETWEEN ${low.sql} AND ${high.sql})`, type: "boolean" };
    }
    case "in": {
      const value = translateExpr(e.value, ctx);
      const not = e.not ? "NOT " : "";
      if (e.query !== undefined) {
        const sub = ctx.translateQuery(e.query, ctx.scope);
        return { sql: `(${value.sql} ${not}IN (${sub.sql}))`, type: "boolean" };
      }
      const items = e.list!.map((item) => coerceTo(item, translateExpr(item, ctx), value.type).sql);
      return { sql: `(${value.sql} ${not}IN (${items.join(", ")}))`, type: "boolean" };
    }
    case "like": {
      const value = translateExpr(e.value, ctx).sql;
      const pattern = translateExpr(e.pattern, ctx).sql;
      const escapeClause = e.escape === undefined ? "" : ` ESCAPE ${translateExpr(e.escape, ctx).sql}`;
      return { sql: `(${value} ${e.not ? "NOT " : ""}LIKE ${pattern}${escapeClause})`, type: "boolean" };
    }
    case "isNull":
      return { sql: `(${translateExpr(e.value, ctx).sql} IS ${e.not ? "NOT " : ""}NULL)`, type: "boolean" };
    case "isDistinct": {
      const left = translateExpr(e.left, ctx);
      const right = coerceTo(e.right, translateExpr(e.right, ctx), left.type);
      return { sql: `(${left.sql} IS ${e.not ? "NOT " : ""}DISTINCT FROM ${right.sql})`, type: "boolean" };
    }
    case "case":
      return translateCase(e, ctx);
    case "cast":
      return translateCast(e, ctx);
    case "call":
      return ctx.translateCall(e, ctx);
    case "extract":
      return translateExtract(e.field, translateExpr(e.value, ctx), e.pos);
    case "subquery": {
      const sub = ctx.translateQuery(e.query, ctx.scope);
      return { sql: `(${sub.sql})`, type: sub.columns?.[0]?.type ?? "unknown" };
    }
    case "exists":
      return { sql: `(EXISTS (${ctx.translateQuery(e.query, ctx.scope).sql}))`, type: "boolean" };
    case "lambda":
      throw syntaxError(
        e.pos,
        "a lambda (x -> …) is only allowed as an argument of filter, transform, reduce and similar functions",
      );
    case "array": {
      const items = e.items.map((item) => translateExpr(item, ctx));
      const element = items.find((item) => item.type !== "unknown")?.type ?? "unknown";
      return { sql: `[${items.map((item) => item.sql).join(", ")}]`, type: arrayOf(element) };
    }
    case "row": {
      // Presto's ROW(…) is an anonymous row, shown with fields field0, field1, … (as Trino prints
      // it); DuckDB's own row() would name every field '', so its fields could not be told apart.
      const items = e.items.map((item) => translateExpr(item, ctx));
      const names = items.map((_, k) => `field${k}`);
      return {
        sql: `{${items.map((item, k) => `${quoteString(names[k]!)}: ${item.sql}`).join(", ")}}`,
        type: { kind: "row", fields: items.map((item, k) => ({ name: names[k]!, type: item.type })) },
      };
    }
    case "subscript": {
      const value = translateExpr(e.value, ctx);
      const index = translateExpr(e.index, ctx);
      return { sql: `(${value.sql})[${index.sql}]`, type: elementOf(value.type) };
    }
    case "field": {
      const value = translateExpr(e.value, ctx);
      const resolved = {
        sql: `struct_extract(${value.sql}, ${quoteString(e.field)})`,
        type: "unknown" as SqlType,
      };
      if (typeof value.type === "object" && value.type.kind === "row") {
        const field = value.type.fields.find((f) => f.name.toLowerCase() === e.field.toLowerCase());
        resolved.type = field?.type ?? "unknown";
      }
      return resolved;
    }
    case "current":
      return translateCurrent(e.which, ctx.options.nowNs);
  }
}

/** The SQL for a lambda argument whose parameters have the given types. */
export function translateLambda(
  e: Expr,
  paramTypes: SqlType[],
  ctx: ExpressionContext,
  what: string,
): Translated {
  const lambda = expectLambda(e, paramTypes.length, what);
  const params = lambda.params.map((name, k) => ({ type: paramTypes[k]!, sql: quoteIdentifier(name) }));
  const body = translateLambdaBody(lambda, params, ctx, what);
  return { sql: `(lambda ${lambda.params.map(quoteIdentifier).join(", ")}: ${body.sql})`, type: body.type };
}

/** A lambda's body with its parameters standing for the given SQL expressions (an inlined call). */
export function translateLambdaBody(
  e: Expr,
  params: { type: SqlType; sql: string }[],
  ctx: ExpressionContext,
  what: string,
): Translated {
  const lambda = expectLambda(e, params.length, what);
  const bound = new Map(lambda.params.map((name, k) => [name, params[k]!]));
  return translateExpr(lambda.body, { ...ctx, scope: ctx.scope.withLambda(bound) });
}

function expectLambda(e: Expr, count: number, what: string): LambdaExpr {
  if (e.kind !== "lambda" || e.params.length !== count) {
    const shape = count === 1 ? "x -> …" : `(${["a", "b", "c"].slice(0, count).join(", ")}) -> …`;
    throw syntaxError(e.pos, `${what} expects a lambda with ${count} parameter(s), such as ${shape}`);
  }
  return e;
}

function translateUnary(op: "-" | "+" | "NOT", operand: Translated): Translated {
  if (op === "NOT") return { sql: `(NOT ${operand.sql})`, type: "boolean" };
  if (op === "+") return operand;
  const negated: Translated = { sql: `(- ${operand.sql})`, type: operand.type };
  if (operand.durationNs !== undefined) negated.durationNs = -operand.durationNs;
  return negated;
}

const comparisonOps = new Set(["=", "<>", "<", "<=", ">", ">="]);

function translateBinary(e: BinaryExpr, ctx: ExpressionContext): Translated {
  // A sum of fixed durations (1h + 50ns) is folded here, exact to the nanosecond.
  const folded = exactDurationNs(e);
  if (folded !== undefined) return rawDuration(folded);
  // A fine-grained duration is only valid next to a timestamp, so translate it here, not alone.
  let left = operandValue(e.left, ctx);
  let right = operandValue(e.right, ctx);
  if (e.op === "+" || e.op === "-") {
    const shifted = timestampShift(e, left, right);
    if (shifted !== undefined) return shifted;
  }
  left = checkDuration(e.left, left);
  right = checkDuration(e.right, right);
  if (e.op === "AND" || e.op === "OR") return { sql: `(${left.sql} ${e.op} ${right.sql})`, type: "boolean" };
  if (comparisonOps.has(e.op)) {
    left = coerceTo(e.left, left, right.type);
    right = coerceTo(e.right, right, left.type);
    return { sql: `(${left.sql} ${e.op} ${right.sql})`, type: "boolean" };
  }
  if (e.op === "||") return { sql: `(${left.sql} || ${right.sql})`, type: left.type };
  if (e.op === "-" && isTimestamp(left.type) && isTimestamp(right.type)) {
    return { sql: `(${left.sql} - ${right.sql})`, type: "interval" };
  }
  if (e.op === "/" && isInteger(left.type) && isInteger(right.type)) {
    // Presto divides integers as integers (truncating); DuckDB's `/` would give a double.
    return { sql: `(${left.sql} // ${right.sql})`, type: arithmeticResult(left.type, right.type) };
  }
  const type =
    left.type === "interval" && right.type === "interval"
      ? "interval"
      : arithmeticResult(left.type, right.type);
  return { sql: `(${left.sql} ${e.op} ${right.sql})`, type };
}

/**
 * The exact length of a fixed duration written in the query: a literal (15s, 50ns), a fixed
 * INTERVAL, a sign, or a sum or difference of those (1h + 50ns). Undefined for anything else.
 * Timestream's durations are nanosecond-precise, DuckDB's INTERVAL only microsecond-precise, so
 * such lengths are kept as numbers until they meet a timestamp (or bin(), ago()).
 */
export function exactDurationNs(e: Expr): bigint | undefined {
  switch (e.kind) {
    case "duration":
      return e.amount * durationUnitNs[e.unit];
    case "interval":
      return e.unit === "YEAR" || e.unit === "MONTH" ? undefined : translateInterval(e).durationNs;
    case "unary": {
      if (e.op === "NOT") return undefined;
      const inner = exactDurationNs(e.operand);
      return inner === undefined || e.op === "+" ? inner : -inner;
    }
    case "binary": {
      if (e.op !== "+" && e.op !== "-") return undefined;
      const left = exactDurationNs(e.left);
      const right = left === undefined ? undefined : exactDurationNs(e.right);
      if (left === undefined || right === undefined) return undefined;
      return e.op === "+" ? left + right : left - right;
    }
    default:
      return undefined;
  }
}

/** An operand of a binary operator: a fixed duration is kept exact (its SQL may be empty). */
function operandValue(e: Expr, ctx: ExpressionContext): Translated {
  const ns = exactDurationNs(e);
  return ns === undefined ? translateExpr(e, ctx) : rawDuration(ns);
}

/** A duration kept exact (to the nanosecond) until we know what it is added to; empty SQL if finer than 1 µs. */
function rawDuration(ns: bigint): Translated {
  const magnitude = intervalSql(ns < 0n ? -ns : ns);
  const sql = magnitude === undefined ? "" : ns < 0n ? `(- ${magnitude})` : magnitude;
  return { sql, type: "interval", durationNs: ns };
}

function checkDuration(node: Expr, value: Translated): Translated {
  if (value.sql !== "") return value;
  return durationValue(value.durationNs!, node.pos, durationText(node));
}

/** A duration expression as written, for error messages. */
function durationText(e: Expr): string {
  switch (e.kind) {
    case "duration":
      return e.text;
    case "interval":
      return `INTERVAL '${e.value}' ${e.unit}`;
    case "unary":
      return `${e.op}${durationText(e.operand)}`;
    case "binary":
      return `(${durationText(e.left)} ${e.op} ${durationText(e.right)})`;
    default:
      return "duration";
  }
}

/** timestamp ± fixed duration: folded to a literal when both are known, exact to the nanosecond otherwise. */
function timestampShift(e: BinaryExpr, left: Translated, right: Translated): Translated | undefined {
  const sign = e.op === "-" ? -1n : 1n;
  let timestamp: Translated;
  let duration: Translated;
  if (isTimestamp(left.type) && right.durationNs !== undefined) {
    timestamp = left;
    duration = right;
  } else if (e.op === "+" && left.durationNs !== undefined && isTimestamp(right.type)) {
    timestamp = right;
    duration = left;
  } else {
    return undefined;
  }
  const deltaNs = sign * duration.durationNs!;
  if (timestamp.timestampNs !== undefined) {
    const ns = timestamp.timestampNs + deltaNs;
    return { sql: timestampLiteralSql(ns), type: "timestamp", timestampNs: ns };
  }
  const shift = deltaNs < 0n ? `- ${-deltaNs}` : `+ ${deltaNs}`;
  return { sql: `make_timestamp_ns(epoch_ns(${timestamp.sql}) ${shift})`, type: "timestamp" };
}

function translateCase(e: Extract<Expr, { kind: "case" }>, ctx: ExpressionContext): Translated {
  const operand = e.operand === undefined ? undefined : translateExpr(e.operand, ctx);
  let type: SqlType = "unknown";
  const parts = ["CASE"];
  if (operand !== undefined) parts.push(operand.sql);
  for (const { condition, result } of e.whens) {
    const whenSql =
      operand === undefined
        ? translateExpr(condition, ctx)
        : coerceTo(condition, translateExpr(condition, ctx), operand.type);
    const thenValue = translateExpr(result, ctx);
    if (type === "unknown") type = thenValue.type;
    parts.push(`WHEN ${whenSql.sql} THEN ${thenValue.sql}`);
  }
  if (e.otherwise !== undefined) {
    const otherwise = translateExpr(e.otherwise, ctx);
    if (type === "unknown") type = otherwise.type;
    parts.push(`ELSE ${otherwise.sql}`);
  }
  parts.push("END");
  return { sql: `(${parts.join(" ")})`, type };
}

function translateCast(e: CastExpr, ctx: ExpressionContext): Translated {
  const target = duckdbType(e.type);
  if (e.value.kind === "row" && typeof target.type === "object" && target.type.kind === "row") {
    // CAST(ROW(a, b) AS ROW(x T, y U)) names the values by position: DuckDB's unnamed row() does that.
    const fields = target.type.fields;
    if (fields.length !== e.value.items.length) {
      throw syntaxError(
        e.value.pos,
        `ROW(…) has ${e.value.items.length} value(s) but the type ROW(…) it is cast to has ${fields.length} field(s)`,
      );
    }
    return {
      sql: `${e.safe ? "TRY_CAST" : "CAST"}(${positionalRow(e.value, ctx)} AS ${target.sql})`,
      type: target.type,
    };
  }
  const value = translateExpr(e.value, ctx);
  if (e.value.kind === "string" && (target.type === "timestamp" || target.type === "date")) {
    if (!e.safe) return coerceTo(e.value, value, target.type);
    const ns = target.type === "timestamp" ? parseTimestampNs(e.value.value) : parseDateNs(e.value.value);
    if (ns === undefined) return { sql: `CAST(NULL AS ${target.sql})`, type: target.type };
    return coerceTo(e.value, value, target.type);
  }
  if (target.type === "varchar" && isTimestamp(value.type)) {
    // Timestream prints timestamps with nine fractional digits; DuckDB's cast would trim them.
    return { sql: `strftime(${value.sql}, '%Y-%m-%d %H:%M:%S.%n')`, type: "varchar" };
  }
  return { sql: `${e.safe ? "TRY_CAST" : "CAST"}(${value.sql} AS ${target.sql})`, type: target.type };
}

/** ROW(…) as DuckDB's unnamed row(…), nested ones too, so that a cast names the fields by position. */
function positionalRow(e: Extract<Expr, { kind: "row" }>, ctx: ExpressionContext): string {
  const items = e.items.map((item) =>
    item.kind === "row" ? positionalRow(item, ctx) : translateExpr(item, ctx).sql,
  );
  return `row(${items.join(", ")})`;
}

/** EXTRACT fields (Presto names) to DuckDB date parts. */
const extractFields: Record<string, string> = {
  YEAR: "year",
  QUARTER: "quarter",
  MONTH: "month",
  WEEK: "week",
  DAY: "day",
  DAY_OF_MONTH: "day",
  DAY_OF_WEEK: "isodow",
  DOW: "isodow",
  DAY_OF_YEAR: "doy",
  DOY: "doy",
  YEAR_OF_WEEK: "isoyear",
  YOW: "isoyear",
  HOUR: "hour",
  MINUTE: "minute",
  SECOND: "second",
};

export function translateExtract(field: string, value: Translated, pos: Expr["pos"]): Translated {
  if (field === "MILLISECOND")
    return { sql: `(date_part('millisecond', ${value.sql}) % 1000)`, type: "bigint" };
  const part = extractFields[field];
  if (part === undefined) throw syntaxError(pos, `EXTRACT does not support the field ${field}`);
  return { sql: `date_part('${part}', ${value.sql})`, type: "bigint" };
}

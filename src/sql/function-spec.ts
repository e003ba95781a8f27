/**
 * How a Timestream function is described and printed. Only functions in the registry can be
 * called: the whitelist is what keeps DuckDB's file, network and settings functions out of reach.
 */
import type { CallExpr, Expr } from "./ast.js";
import { syntaxError } from "./syntax-error.js";
import { type ExpressionContext, type Translated, translateExpr } from "./translate-expression.js";
import type { SqlType } from "./types.js";

export type FunctionKind = "scalar" | "aggregate" | "window";

export interface FunctionSpec {
  kind: FunctionKind;
  minArgs: number;
  maxArgs: number;
  /**
   * Prints the call. `suffix` is the FILTER/OVER clause, to be placed right after the aggregate's
   * closing parenthesis (before any wrapping cast).
   */
  translate(call: CallExpr, ctx: ExpressionContext, suffix: string): Translated;
}

export type TypeRule = SqlType | ((args: Translated[]) => SqlType);

const resolveType = (rule: TypeRule, args: Translated[]): SqlType =>
  typeof rule === "function" ? rule(args) : rule;

/** The type of the first argument (abs, round, min, max, …). */
export const firstArgType = (args: Translated[]): SqlType => args[0]?.type ?? "unknown";

export const translateArgs = (call: CallExpr, ctx: ExpressionContext): Translated[] =>
  call.args.map((arg) => translateExpr(arg, ctx));

/** A scalar function that DuckDB has under `duckdbName` with the same arguments and meaning. */
export function scalar(duckdbName: string, minArgs: number, maxArgs: number, type: TypeRule): FunctionSpec {
  return {
    kind: "scalar",
    minArgs,
    maxArgs,
    translate(call, ctx) {
      const args = translateArgs(call, ctx);
      return { sql: `${duckdbName}(${args.map((a) => a.sql).join(", ")})`, type: resolveType(type, args) };
    },
  };
}

/** A scalar function printed by `print` from its translated arguments. */
export function scalarWith(
  minArgs: number,
  maxArgs: number,
  print: (args: Translated[], call: CallExpr, ctx: ExpressionContext) => Translated,
): FunctionSpec {
  return {
    kind: "scalar",
    minArgs,
    maxArgs,
    translate: (call, ctx) => print(translateArgs(call, ctx), call, ctx),
  };
}

/** An aggregate DuckDB has under `duckdbName`; `wrap` post-processes the result (e.g. a cast). */
export function aggregate(
  duckdbName: string,
  minArgs: number,
  maxArgs: number,
  type: TypeRule,
  wrap?: (sql: string, args: Translated[]) => string,
): FunctionSpec {
  return {
    kind: "aggregate",
    minArgs,
    maxArgs,
    translate(call, ctx, suffix) {
      const args = call.star ? [] : translateArgs(call, ctx);
      const inner = call.star ? "*" : args.map((a) => a.sql).join(", ");
      const sql = `${duckdbName}(${call.distinct ? "DISTINCT " : ""}${inner}${orderByClause(call, ctx)})${suffix}`;
      return { sql: wrap === undefined ? sql : wrap(sql, args), type: resolveType(type, args) };
    },
  };
}

/** A function that only exists with OVER (row_number, lag, …). */
export function windowOnly(
  duckdbName: string,
  minArgs: number,
  maxArgs: number,
  type: TypeRule,
): FunctionSpec {
  return {
    kind: "window",
    minArgs,
    maxArgs,
    translate(call, ctx, suffix) {
      const args = translateArgs(call, ctx);
      return {
        sql: `${duckdbName}(${args.map((a) => a.sql).join(", ")})${suffix}`,
        type: resolveType(type, args),
      };
    },
  };
}

export function orderByClause(call: CallExpr, ctx: ExpressionContext): string {
  if (call.orderBy.length === 0) return "";
  return ` ORDER BY ${call.orderBy.map((item) => orderItemSql(translateExpr(item.expr, ctx).sql, item)).join(", ")}`;
}

/** Presto sorts NULLs last in both directions; say so explicitly rather than rely on DuckDB's default. */
export function orderItemSql(sql: string, item: { descending: boolean; nulls?: "FIRST" | "LAST" }): string {
  return `${sql} ${item.descending ? "DESC" : "ASC"} NULLS ${item.nulls ?? "LAST"}`;
}

/** The literal string value of an argument that must be one (date_trunc's unit, …). */
export function literalString(arg: Expr | undefined, what: string, pos: CallExpr["pos"]): string {
  if (arg?.kind !== "string") throw syntaxError(arg?.pos ?? pos, `${what} must be a string literal`);
  return arg.value;
}

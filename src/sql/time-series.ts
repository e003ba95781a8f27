/**
 * Timestream's timeseries type and its functions.
 *
 * A timeseries is a DuckDB `LIST(STRUCT("time" TIMESTAMP_NS, "value" T))` sorted by time.
 * Interpolation follows Timestream's documented meaning, resampling the series at the given
 * timestamps: linear interpolation between the two neighbouring points (no extrapolation: a
 * timestamp before the first or after the last point gives no point), last observation carried
 * forward (no point before the first observation), or a constant fill where no point exists at
 * exactly that time. The work is done by temporary macros (dialectSetupSql) over DuckDB's list
 * lambdas; their parameter names are prefixed so that they cannot capture a user's column.
 */
import type { CallExpr } from "./ast.js";
import type { FunctionSpec } from "./function-spec.js";
import { syntaxError } from "./syntax-error.js";
import { durationUnitNs } from "./timestamps.js";
import { coerceTo, type ExpressionContext, type Translated, translateExpr } from "./translate-expression.js";
import { isListLike, type SqlType, timeseriesOf } from "./types.js";

const pointsBefore = (ts: string, at: string, op: string) =>
  `list_filter(${ts}, lambda hg_point: hg_point."time" ${op} CAST(${at} AS TIMESTAMP_NS))`;

/** DuckDB statements the store runs once per connection, before any translated query. */
export const timeSeriesMacros: string[] = [
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_between(before_point, after_point, at_time) AS (
  CASE WHEN before_point."time" = after_point."time" THEN CAST(before_point."value" AS DOUBLE)
  ELSE CAST(before_point."value" AS DOUBLE)
    + (CAST(after_point."value" AS DOUBLE) - CAST(before_point."value" AS DOUBLE))
    * CAST(epoch_ns(CAST(at_time AS TIMESTAMP_NS)) - epoch_ns(before_point."time") AS DOUBLE)
    / CAST(epoch_ns(after_point."time") - epoch_ns(before_point."time") AS DOUBLE)
  END)`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_linear_at(ts, at_time) AS (
  CASE WHEN ts IS NULL OR len(ts) = 0 OR at_time IS NULL THEN NULL
    WHEN CAST(at_time AS TIMESTAMP_NS) < ts[1]."time" OR CAST(at_time AS TIMESTAMP_NS) > ts[-1]."time" THEN NULL
    ELSE hourglass_ts_between(${pointsBefore("ts", "at_time", "<=")}[-1], ${pointsBefore("ts", "at_time", ">=")}[1], at_time)
  END)`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_locf_at(ts, at_time) AS (
  struct_extract(${pointsBefore("ts", "at_time", "<=")}[-1], 'value'))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_fill_at(ts, at_time, fill) AS (
  coalesce(struct_extract(${pointsBefore("ts", "at_time", "=")}[1], 'value'), fill))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_linear(ts, times) AS (
  list_filter(
    list_transform(times, lambda hg_at: {'time': CAST(hg_at AS TIMESTAMP_NS), 'value': hourglass_ts_linear_at(ts, hg_at)}),
    lambda hg_out: hg_out."value" IS NOT NULL))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_locf(ts, times) AS (
  list_filter(
    list_transform(times, lambda hg_at: {'time': CAST(hg_at AS TIMESTAMP_NS), 'value': hourglass_ts_locf_at(ts, hg_at)}),
    lambda hg_out: hg_out."value" IS NOT NULL))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_fill(ts, times, fill) AS (
  list_transform(times, lambda hg_at: {'time': CAST(hg_at AS TIMESTAMP_NS), 'value': hourglass_ts_fill_at(ts, hg_at, fill)}))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_derivative(ts, unit_ns) AS (
  list_transform(generate_series(2, len(ts)), lambda hg_i: {
    'time': ts[hg_i]."time",
    'value': (CAST(ts[hg_i]."value" AS DOUBLE) - CAST(ts[hg_i - 1]."value" AS DOUBLE))
      / CAST(epoch_ns(ts[hg_i]."time") - epoch_ns(ts[hg_i - 1]."time") AS DOUBLE) * unit_ns}))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_integral(ts, unit_ns) AS (
  list_sum(list_transform(generate_series(2, len(ts)), lambda hg_i:
    (CAST(ts[hg_i]."value" AS DOUBLE) + CAST(ts[hg_i - 1]."value" AS DOUBLE)) / 2
      * CAST(epoch_ns(ts[hg_i]."time") - epoch_ns(ts[hg_i - 1]."time") AS DOUBLE) / unit_ns)))`,
];

const valueTypeOf = (type: SqlType): SqlType =>
  typeof type === "object" && type.kind === "timeseries" ? type.value : "unknown";

const createTimeSeries: FunctionSpec = {
  kind: "aggregate",
  minArgs: 2,
  maxArgs: 2,
  translate(call, ctx, suffix) {
    if (call.distinct || call.orderBy.length > 0 || suffix !== "") {
      throw syntaxError(call.pos, "create_time_series takes no DISTINCT, ORDER BY, FILTER or OVER");
    }
    const time = translateExpr(call.args[0]!, ctx);
    const value = translateExpr(call.args[1]!, ctx);
    // Timestream refuses NULL values in a series; leaving them out keeps interpolation meaningful.
    const point = `{'time': CAST(${time.sql} AS TIMESTAMP_NS), 'value': ${value.sql}}`;
    return {
      sql: `list(${point} ORDER BY ${time.sql} ASC) FILTER (WHERE ${value.sql} IS NOT NULL)`,
      type: timeseriesOf(value.type),
    };
  },
};

/** interpolate_*(timeseries, array[timestamp] | timestamp [, fill]) */
function interpolate(method: "linear" | "locf" | "fill"): FunctionSpec {
  const fill = method === "fill";
  return {
    kind: "scalar",
    minArgs: fill ? 3 : 2,
    maxArgs: fill ? 3 : 2,
    translate(call, ctx) {
      const series = translateExpr(call.args[0]!, ctx);
      const at = coerceTo(call.args[1]!, translateExpr(call.args[1]!, ctx), "timestamp");
      const extra = fill ? `, ${translateExpr(call.args[2]!, ctx).sql}` : "";
      const valueType = method === "linear" ? "double" : valueTypeOf(series.type);
      if (at.type === "timestamp" || at.type === "date") {
        return { sql: `hourglass_ts_${method}_at(${series.sql}, ${at.sql}${extra})`, type: valueType };
      }
      if (!isListLike(at.type) && at.type !== "unknown") {
        throw syntaxError(
          call.args[1]!.pos,
          `interpolate_${method} needs a timestamp or an array of timestamps`,
        );
      }
      return {
        sql: `hourglass_ts_${method}(${series.sql}, ${at.sql}${extra})`,
        type: timeseriesOf(valueType),
      };
    },
  };
}

/** The unit argument of derivative/integral functions, as nanoseconds. */
function unitNs(
  call: CallExpr,
  ctx: ExpressionContext,
  index: number,
  fallbackNs: bigint | undefined,
): bigint {
  const arg = call.args[index];
  if (arg === undefined && fallbackNs !== undefined) return fallbackNs;
  const value: Translated | undefined = arg === undefined ? undefined : translateExpr(arg, ctx);
  if (value?.durationNs === undefined || value.durationNs <= 0n) {
    throw syntaxError(arg?.pos ?? call.pos, `${call.name} needs a positive duration such as 1m`);
  }
  return value.durationNs;
}

function derivative(nonNegative: boolean): FunctionSpec {
  return {
    kind: "scalar",
    minArgs: 2,
    maxArgs: 2,
    translate(call, ctx) {
      const series = translateExpr(call.args[0]!, ctx);
      const sql = `hourglass_ts_derivative(${series.sql}, ${unitNs(call, ctx, 1, undefined)})`;
      return {
        sql: nonNegative ? `list_filter(${sql}, lambda hg_out: hg_out."value" >= 0)` : sql,
        type: timeseriesOf("double"),
      };
    },
  };
}

const integralTrapezoidal: FunctionSpec = {
  kind: "scalar",
  minArgs: 1,
  maxArgs: 2,
  translate(call, ctx) {
    const series = translateExpr(call.args[0]!, ctx);
    return {
      sql: `hourglass_ts_integral(${series.sql}, ${unitNs(call, ctx, 1, durationUnitNs.s)})`,
      type: "double",
    };
  },
};

export const timeSeriesFunctions: Record<string, FunctionSpec> = {
  create_time_series: createTimeSeries,
  interpolate_linear: interpolate("linear"),
  interpolate_locf: interpolate("locf"),
  interpolate_fill: interpolate("fill"),
  derivative_linear: derivative(false),
  non_negative_derivative_linear: derivative(true),
  integral_trapezoidal: integralTrapezoidal,
};

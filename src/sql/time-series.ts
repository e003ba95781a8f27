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
import { splineMacros } from "./spline.js";
import { syntaxError } from "./syntax-error.js";
import { durationUnitNs } from "./timestamps.js";
import { type ExpressionContext, type Translated, translateExpr } from "./translate-expression.js";
import { coerceTo } from "./translate-literal.js";
import { isListLike, type SqlType, timeseriesOf } from "./types.js";

/**
 * Resampling needs, for each requested timestamp, how many points of the series are at or before
 * it. Sorting the points and the sorted timestamps together answers that for all timestamps at
 * once: the j-th timestamp's position in the merged list, minus j, is the count of points before
 * it. The merged list holds plain BIGINT keys (epoch ns × 2, plus 1 for a timestamp, so points
 * sort first on equal times) because DuckDB sorts those far faster than structs. That is
 * O((n + m) log(n + m)) where searching the series for each timestamp would be O(n × m).
 * Returns (epoch ns, count) pairs in time order.
 */
const sortedTimesKeys = "list_sort(list_transform(times, lambda hg_t: epoch_ns(CAST(hg_t AS TIMESTAMP_NS))))";
const positionsMacro = `CREATE OR REPLACE TEMP MACRO hourglass_ts_positions(ts, times) AS (
  list_zip(${sortedTimesKeys},
    list_transform(
      list_filter(
        list_transform(
          list_sort(list_concat(
            list_transform(ts, lambda hg_s: epoch_ns(hg_s."time") * 2),
            list_transform(${sortedTimesKeys}, lambda hg_q: hg_q * 2 + 1))),
          lambda hg_key, hg_i: CASE WHEN hg_key % 2 <> 0 THEN hg_i END),
        lambda hg_i: hg_i IS NOT NULL),
      lambda hg_i, hg_j: hg_i - hg_j)))`;

/** SQL computing a resampled value from the point before, the point after, and the timestamp. */
type ValueSql = (before: string, after: string, at: string) => string;

/**
 * A resampling macro. For each timestamp, the point before it (NULL if none) and the point after
 * it are gathered with list_select from the positions, not looked up inside a lambda: a lambda
 * that reads the whole series for each timestamp copies it each time.
 */
function resampleMacro(name: string, extraParams: string, value: ValueSql, dropMissing: boolean): string {
  const positions = "hourglass_ts_positions(ts, times)";
  const gathered = `list_zip(
      list_transform(${positions}, lambda hg_x: make_timestamp_ns(struct_extract(hg_x, 1))),
      list_select(ts, list_transform(${positions}, lambda hg_x: struct_extract(hg_x, 2))),
      list_select(ts, list_transform(${positions}, lambda hg_x: struct_extract(hg_x, 2) + 1)))`;
  const [at, before, after] = [1, 2, 3].map((k) => `struct_extract(hg_z, ${k})`) as [string, string, string];
  const points = `list_transform(${gathered}, lambda hg_z: {'time': ${at}, 'value': ${value(before, after, at)}})`;
  const body = dropMissing ? `list_filter(${points}, lambda hg_out: hg_out."value" IS NOT NULL)` : points;
  // hg_pos appears three times: DuckDB's common subexpression elimination computes it once.
  return `CREATE OR REPLACE TEMP MACRO hourglass_ts_${name}(ts, times${extraParams}) AS (
  CASE WHEN ts IS NULL OR times IS NULL THEN NULL ELSE ${body} END)`;
}

/** The single-timestamp form: the series form at [t], as a value. */
const atMacro = (name: string, extraParams: string) =>
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_${name}_at(ts, at_time${extraParams}) AS (
  struct_extract(hourglass_ts_${name}(ts, [at_time]${extraParams})[1], 'value'))`;

/** DuckDB statements the store runs once per connection, before any translated query. */
export const timeSeriesMacros: string[] = [
  positionsMacro,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_between(before_point, after_point, at_time) AS (
  CAST(before_point."value" AS DOUBLE)
    + (CAST(after_point."value" AS DOUBLE) - CAST(before_point."value" AS DOUBLE))
    * CAST(epoch_ns(at_time) - epoch_ns(before_point."time") AS DOUBLE)
    / CAST(epoch_ns(after_point."time") - epoch_ns(before_point."time") AS DOUBLE))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_linear_value(before_point, after_point, at_time) AS (
  CASE WHEN before_point IS NULL THEN NULL
    WHEN before_point."time" = at_time THEN CAST(before_point."value" AS DOUBLE)
    WHEN after_point IS NULL THEN NULL
    ELSE hourglass_ts_between(before_point, after_point, at_time) END)`,
  resampleMacro(
    "linear",
    "",
    (before, after, at) => `hourglass_ts_linear_value(${before}, ${after}, ${at})`,
    true,
  ),
  // Test `IS NULL` before reading a field: DuckDB 1.5 reads a field of a NULL struct that came
  // out of list_select/list_zip as a neighbour's value instead of NULL.
  resampleMacro(
    "locf",
    "",
    (before) => `CASE WHEN ${before} IS NULL THEN NULL ELSE ${before}."value" END`,
    true,
  ),
  resampleMacro(
    "fill",
    ", fill",
    (before, _after, at) =>
      `CASE WHEN ${before} IS NOT NULL AND ${before}."time" = ${at} THEN ${before}."value" ELSE fill END`,
    false,
  ),
  atMacro("linear", ""),
  atMacro("locf", ""),
  atMacro("fill", ", fill"),
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_derivative(ts, unit_ns) AS (
  list_transform(generate_series(2, len(ts)), lambda hg_i: {
    'time': ts[hg_i]."time",
    'value': (CAST(ts[hg_i]."value" AS DOUBLE) - CAST(ts[hg_i - 1]."value" AS DOUBLE))
      / CAST(epoch_ns(ts[hg_i]."time") - epoch_ns(ts[hg_i - 1]."time") AS DOUBLE) * unit_ns}))`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_integral(ts, unit_ns) AS (
  list_sum(list_transform(generate_series(2, len(ts)), lambda hg_i:
    (CAST(ts[hg_i]."value" AS DOUBLE) + CAST(ts[hg_i - 1]."value" AS DOUBLE)) / 2
      * CAST(epoch_ns(ts[hg_i]."time") - epoch_ns(ts[hg_i - 1]."time") AS DOUBLE) / unit_ns)))`,
  ...splineMacros,
  atMacro("spline", ""),
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
function interpolate(method: "linear" | "locf" | "fill" | "spline"): FunctionSpec {
  const fill = method === "fill";
  return {
    kind: "scalar",
    minArgs: fill ? 3 : 2,
    maxArgs: fill ? 3 : 2,
    translate(call, ctx) {
      const series = translateExpr(call.args[0]!, ctx);
      const at = coerceTo(call.args[1]!, translateExpr(call.args[1]!, ctx), "timestamp");
      const extra = fill ? `, ${translateExpr(call.args[2]!, ctx).sql}` : "";
      const valueType = method === "linear" || method === "spline" ? "double" : valueTypeOf(series.type);
      if (at.type === "timestamp" || at.type === "date") {
        return { sql: `hourglass_ts_${method}_at(${series.sql}, ${at.sql}${extra})`, type: valueType };
      }
      if (!isListLike(at.type) && at.type !== "unknown") {
        throw syntaxError(call.args[1]!.pos, `${call.name} needs a timestamp or an array of timestamps`);
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
  interpolate_spline_cubic: interpolate("spline"),
  derivative_linear: derivative(false),
  non_negative_derivative_linear: derivative(true),
  integral_trapezoidal: integralTrapezoidal,
};

/**
 * INTERPOLATE_SPLINE_CUBIC as DuckDB macros: a natural cubic spline (second derivative zero at
 * both ends) through the series' points, evaluated at the requested timestamps, without
 * extrapolation. Series of fewer than three points fall back to linear interpolation.
 *
 * The spline's second derivatives come from the tridiagonal system solved with the Thomas
 * algorithm: a forward sweep and a back substitution, each a list_reduce carrying the lists built
 * so far. Intermediate results are bound once with `list_transform([value], lambda name: …)[1]`
 * (a "let"), so that DuckDB does not re-evaluate them inside the per-point lambdas. The point
 * before each timestamp comes from hourglass_ts_positions, as for the other interpolations.
 * Times are seconds since the series' first point, as doubles, which keeps nanosecond resolution
 * over spans of years.
 */

/** One step of the forward sweep at interior point i (1-based, 2 … n-1). */
const forwardStep = `lambda hg_acc, hg_e: {
      'cs': list_append(hg_acc.cs, (xs[hg_e.i + 1] - xs[hg_e.i])
        / (2 * (xs[hg_e.i + 1] - xs[hg_e.i - 1]) - (xs[hg_e.i] - xs[hg_e.i - 1]) * hg_acc.cs[-1])),
      'ds': list_append(hg_acc.ds,
        (6 * ((ys[hg_e.i + 1] - ys[hg_e.i]) / (xs[hg_e.i + 1] - xs[hg_e.i]) - (ys[hg_e.i] - ys[hg_e.i - 1]) / (xs[hg_e.i] - xs[hg_e.i - 1]))
          - (xs[hg_e.i] - xs[hg_e.i - 1]) * hg_acc.ds[-1])
        / (2 * (xs[hg_e.i + 1] - xs[hg_e.i - 1]) - (xs[hg_e.i] - xs[hg_e.i - 1]) * hg_acc.cs[-1])),
      'i': hg_e.i}`;

export const splineMacros: string[] = [
  // Second derivatives M[1 … n] of the natural spline through (xs, ys).
  `CREATE OR REPLACE TEMP MACRO hourglass_spline_second_derivatives(xs, ys) AS (
  list_transform([list_reduce(
      list_transform(generate_series(2, len(xs) - 1), lambda hg_i: {'cs': CAST(NULL AS DOUBLE[]), 'ds': CAST(NULL AS DOUBLE[]), 'i': hg_i}),
      ${forwardStep},
      {'cs': [CAST(0 AS DOUBLE)], 'ds': [CAST(0 AS DOUBLE)], 'i': CAST(1 AS BIGINT)})],
    lambda hg_fw: list_prepend(CAST(0 AS DOUBLE), list_reduce(
      list_transform(generate_series(len(xs) - 1, 2, -1), lambda hg_i: {'ms': CAST(NULL AS DOUBLE[]), 'i': hg_i}),
      lambda hg_acc, hg_e: {'ms': list_prepend(hg_fw.ds[hg_e.i] - hg_fw.cs[hg_e.i] * hg_acc.ms[1], hg_acc.ms), 'i': hg_e.i},
      {'ms': [CAST(0 AS DOUBLE)], 'i': len(xs)}).ms))[1])`,
  // The value of the spline's piece k (between points k and k + 1) at x, seconds since the first point.
  `CREATE OR REPLACE TEMP MACRO hourglass_spline_piece(model, k, x) AS (
    model.ms[k] * pow(model.xs[k + 1] - x, 3) / (6 * (model.xs[k + 1] - model.xs[k]))
    + model.ms[k + 1] * pow(x - model.xs[k], 3) / (6 * (model.xs[k + 1] - model.xs[k]))
    + (model.ys[k] / (model.xs[k + 1] - model.xs[k]) - model.ms[k] * (model.xs[k + 1] - model.xs[k]) / 6) * (model.xs[k + 1] - x)
    + (model.ys[k + 1] / (model.xs[k + 1] - model.xs[k]) - model.ms[k + 1] * (model.xs[k + 1] - model.xs[k]) / 6) * (x - model.xs[k]))`,
  // {origin, last, xs, ys, ms} for a timeseries of at least three points.
  `CREATE OR REPLACE TEMP MACRO hourglass_spline_model(ts) AS (
  list_transform([{
      'origin': ts[1]."time",
      'last': ts[-1]."time",
      'xs': list_transform(ts, lambda hg_p: CAST(epoch_ns(hg_p."time") - epoch_ns(ts[1]."time") AS DOUBLE) / 1e9),
      'ys': list_transform(ts, lambda hg_p: CAST(hg_p."value" AS DOUBLE))}],
    lambda hg_xy: {'origin': hg_xy.origin, 'last': hg_xy.last, 'xs': hg_xy.xs, 'ys': hg_xy.ys,
      'ms': hourglass_spline_second_derivatives(hg_xy.xs, hg_xy.ys)})[1])`,
  // The spline at at_time, given p points at or before it; NULL outside the series.
  `CREATE OR REPLACE TEMP MACRO hourglass_spline_value(model, p, at_time) AS (
  CASE WHEN p < 1 OR at_time > model.last THEN NULL
  ELSE hourglass_spline_piece(model, least(p, len(model.xs) - 1),
    CAST(epoch_ns(at_time) - epoch_ns(model.origin) AS DOUBLE) / 1e9) END)`,
  `CREATE OR REPLACE TEMP MACRO hourglass_ts_spline(ts, times) AS (
  CASE WHEN len(ts) < 3 THEN hourglass_ts_linear(ts, times) ELSE
  list_transform([hourglass_spline_model(ts)], lambda hg_model: list_filter(
    list_transform(hourglass_ts_positions(ts, times), lambda hg_x: {
      'time': make_timestamp_ns(struct_extract(hg_x, 1)),
      'value': hourglass_spline_value(hg_model, struct_extract(hg_x, 2), make_timestamp_ns(struct_extract(hg_x, 1)))}),
    lambda hg_out: hg_out."value" IS NOT NULL))[1] END)`,
];

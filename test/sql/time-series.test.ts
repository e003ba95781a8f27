import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { formatTimestampNs, parseTimestampNs } from "../../src/sql/index.js";
import { Harness, HOSTS, nsPerSecond, START_NS } from "./harness.js";

const HOST = HOSTS[0]!.instance_name;
const SERIES_FILTER = `FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND instance_name = '${HOST}' AND time BETWEEN '2021-09-22 13:00:00' AND '2021-09-22 13:03:00'`;
const SERIES = "CREATE_TIME_SERIES(time, measure_value::double)";
/** 12:59:45 to 13:03:15 every 15 s: starts before the series and ends after it. */
const GRID = "SEQUENCE(TIMESTAMP '2021-09-22 12:59:45', TIMESTAMP '2021-09-22 13:03:15', 15s)";

interface Point {
  time: bigint;
  value: number;
}

/** How DuckDB prints a timestamp in JSON (no fraction when it is zero). */
const jsonTime = (ns: bigint) => formatTimestampNs(ns).slice(0, 19);
const fromJson = (points: { time: string; value: number }[]): Point[] =>
  points.map((p) => ({ time: parseTimestampNs(p.time)!, value: p.value }));

function grid(): bigint[] {
  const out: bigint[] = [];
  for (let t = START_NS - 15n * nsPerSecond; t <= START_NS + 195n * nsPerSecond; t += 15n * nsPerSecond)
    out.push(t);
  return out;
}

function linearAt(series: Point[], t: bigint): number | undefined {
  if (t < series[0]!.time || t > series[series.length - 1]!.time) return undefined;
  const after = series.findIndex((p) => p.time >= t);
  const b = series[after]!;
  if (b.time === t) return b.value;
  const a = series[after - 1]!;
  return a.value + ((b.value - a.value) * Number(t - a.time)) / Number(b.time - a.time);
}

/** A natural cubic spline (zero second derivative at both ends), solved with the Thomas algorithm. */
function naturalSpline(xs: number[], ys: number[]): (x: number) => number {
  const n = xs.length;
  const h = xs.slice(1).map((x, i) => x - xs[i]!);
  const m = new Array<number>(n).fill(0);
  const cp = new Array<number>(n).fill(0);
  const dp = new Array<number>(n).fill(0);
  for (let i = 1; i < n - 1; i++) {
    const a = h[i - 1]!;
    const b = 2 * (h[i - 1]! + h[i]!);
    const c = h[i]!;
    const r = 6 * ((ys[i + 1]! - ys[i]!) / h[i]! - (ys[i]! - ys[i - 1]!) / h[i - 1]!);
    const denominator = b - a * cp[i - 1]!;
    cp[i] = c / denominator;
    dp[i] = (r - a * dp[i - 1]!) / denominator;
  }
  for (let i = n - 2; i >= 1; i--) m[i] = dp[i]! - cp[i]! * m[i + 1]!;
  return (x) => {
    let k = xs.findIndex((xk, i) => i < n - 1 && x <= xs[i + 1]! && x >= xk);
    if (k < 0) k = n - 2;
    const hk = h[k]!;
    const [x0, x1] = [xs[k]!, xs[k + 1]!];
    return (
      (m[k]! * (x1 - x) ** 3) / (6 * hk) +
      (m[k + 1]! * (x - x0) ** 3) / (6 * hk) +
      (ys[k]! / hk - (m[k]! * hk) / 6) * (x1 - x) +
      (ys[k + 1]! / hk - (m[k + 1]! * hk) / 6) * (x - x0)
    );
  };
}

const assertClose = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);

describe("time series", () => {
  let h: Harness;
  let series: Point[];
  before(async () => {
    h = await Harness.create();
    series = h.points
      .filter(
        (p) =>
          p.measure_name === "cpu_nice" &&
          p.instance_name === HOST &&
          p.timeNs >= START_NS &&
          p.timeNs <= START_NS + 180n * nsPerSecond,
      )
      .map((p) => ({ time: p.timeNs, value: p.double! }))
      .sort((a, b) => (a.time < b.time ? -1 : 1));
  });
  after(() => h.close());

  it("CREATE_TIME_SERIES aggregates (time, value) points sorted by time, per group", async () => {
    const result = await h.query(
      `SELECT instance_name, ${SERIES} AS cpu FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND time BETWEEN '2021-09-22 13:00:00' AND '2021-09-22 13:03:00' GROUP BY instance_name ORDER BY instance_name`,
    );
    assert.deepEqual(result.names, ["instance_name", "cpu"]);
    assert.equal(result.rows.length, HOSTS.length);
    const first = result.rows[0] as [string, { time: string; value: number }[]];
    assert.equal(first[0], HOST);
    assert.deepEqual(
      first[1],
      series.map((p) => ({ time: jsonTime(p.time), value: p.value })),
    );
  });

  it("INTERPOLATE_LINEAR resamples at the given timestamps, without extrapolating", async () => {
    const value = (await h.value(`SELECT INTERPOLATE_LINEAR(${SERIES}, ${GRID}) ${SERIES_FILTER}`)) as never;
    const actual = fromJson(value);
    const expected = grid()
      .map((t) => ({ time: t, value: linearAt(series, t) }))
      .filter((p) => p.value !== undefined);
    assert.deepEqual(
      actual.map((p) => p.time),
      expected.map((p) => p.time),
    );
    assert.equal(actual[0]!.time, START_NS, "12:59:45 is before the first point");
    for (const [k, p] of actual.entries()) assertClose(p.value, expected[k]!.value!, jsonTime(p.time));
    const single = (await h.value(
      `SELECT INTERPOLATE_LINEAR(${SERIES}, TIMESTAMP '2021-09-22 13:00:05') ${SERIES_FILTER}`,
    )) as number;
    assertClose(single, linearAt(series, START_NS + 5n * nsPerSecond)!, "13:00:05");
    assert.equal(
      await h.value(`SELECT INTERPOLATE_LINEAR(${SERIES}, '2021-09-22 14:00:00') ${SERIES_FILTER}`),
      null,
    );
  });

  it("INTERPOLATE_LOCF carries the last observation forward, and gives nothing before the first", async () => {
    const actual = fromJson(
      (await h.value(`SELECT INTERPOLATE_LOCF(${SERIES}, ${GRID}) ${SERIES_FILTER}`)) as never,
    );
    const expected = grid()
      .filter((t) => t >= series[0]!.time)
      .map((t) => ({ time: t, value: series.filter((p) => p.time <= t).at(-1)!.value }));
    assert.deepEqual(actual, expected);
    assert.equal(
      await h.value(`SELECT INTERPOLATE_LOCF(${SERIES}, TIMESTAMP '2021-09-22 13:03:15') ${SERIES_FILTER}`),
      series.at(-1)!.value,
    );
  });

  it("INTERPOLATE_FILL fills every timestamp without a point with the constant", async () => {
    const actual = fromJson(
      (await h.value(`SELECT INTERPOLATE_FILL(${SERIES}, ${GRID}, -1.0) ${SERIES_FILTER}`)) as never,
    );
    const expected = grid().map((t) => ({ time: t, value: series.find((p) => p.time === t)?.value ?? -1 }));
    assert.deepEqual(actual, expected);
  });

  it("INTERPOLATE_SPLINE_CUBIC is a natural cubic spline through the points, without extrapolating", async () => {
    const actual = fromJson(
      (await h.value(`SELECT INTERPOLATE_SPLINE_CUBIC(${SERIES}, ${GRID}) ${SERIES_FILTER}`)) as never,
    );
    const spline = naturalSpline(
      series.map((p) => Number(p.time - START_NS) / 1e9),
      series.map((p) => p.value),
    );
    const expected = grid().filter((t) => t >= series[0]!.time && t <= series.at(-1)!.time);
    assert.deepEqual(
      actual.map((p) => p.time),
      expected,
    );
    for (const p of actual) assertClose(p.value, spline(Number(p.time - START_NS) / 1e9), jsonTime(p.time));
    // At the points themselves the spline passes through the data.
    assertClose(actual[0]!.value, series[0]!.value, "first point");
    const single = (await h.value(
      `SELECT INTERPOLATE_SPLINE_CUBIC(${SERIES}, TIMESTAMP '2021-09-22 13:00:05') ${SERIES_FILTER}`,
    )) as number;
    assertClose(single, spline(5), "13:00:05");
    // Two points: a straight line.
    const twoPoints = (await h.value(
      `SELECT INTERPOLATE_SPLINE_CUBIC(${SERIES}, TIMESTAMP '2021-09-22 13:00:05') FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND instance_name = '${HOST}' AND time BETWEEN '2021-09-22 13:00:00' AND '2021-09-22 13:00:10'`,
    )) as number;
    assertClose(twoPoints, (series[0]!.value + series[1]!.value) / 2, "two points");
  });

  it("resamples at unsorted and repeated timestamps, and gives nothing for a missing series", async () => {
    const times =
      "ARRAY[TIMESTAMP '2021-09-22 13:00:20', TIMESTAMP '2021-09-22 13:00:05', TIMESTAMP '2021-09-22 13:00:20']";
    const actual = fromJson(
      (await h.value(`SELECT INTERPOLATE_LINEAR(${SERIES}, ${times}) ${SERIES_FILTER}`)) as never,
    );
    const at = [5n, 20n, 20n].map((s) => START_NS + s * nsPerSecond);
    assert.deepEqual(
      actual.map((p) => p.time),
      at,
    );
    for (const p of actual) assertClose(p.value, linearAt(series, p.time)!, jsonTime(p.time));
    const none = await h.query(
      `SELECT INTERPOLATE_LOCF(${SERIES}, ${GRID}) FROM "airflow-db"."airflow-table" WHERE measure_name = 'no_such_measure'`,
    );
    assert.deepEqual(none.rows, [[null]]);
  });

  it("the documented pattern: BIN, CREATE_TIME_SERIES, SEQUENCE(min, max, step), then UNNEST … AS t(time, value)", async () => {
    const result = await h.query(`WITH binned_timeseries AS (
        SELECT instance_name, BIN(time, 30s) AS binned_timestamp, ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization
        FROM "airflow-db"."airflow-table"
        WHERE measure_name = 'cpu_nice' AND instance_name = '${HOST}' AND time BETWEEN '2021-09-22 13:00:00' AND '2021-09-22 13:03:00'
        GROUP BY instance_name, BIN(time, 30s)
      ), interpolated_timeseries AS (
        SELECT instance_name,
          INTERPOLATE_LINEAR(CREATE_TIME_SERIES(binned_timestamp, avg_cpu_utilization),
            SEQUENCE(min(binned_timestamp), max(binned_timestamp), 15s)) AS interpolated_avg_cpu_utilization
        FROM binned_timeseries GROUP BY instance_name
      )
      SELECT time, ROUND(value, 2) AS interpolated_cpu
      FROM interpolated_timeseries
      CROSS JOIN UNNEST(interpolated_avg_cpu_utilization) AS t (time, value)
      ORDER BY time`);
    assert.deepEqual(result.names, ["time", "interpolated_cpu"]);
    const bins = new Map<bigint, number[]>();
    for (const p of series) {
      const bin = (p.time / (30n * nsPerSecond)) * 30n * nsPerSecond;
      bins.set(bin, [...(bins.get(bin) ?? []), p.value]);
    }
    const binned = [...bins].map(([time, values]) => ({
      time,
      value: Math.round((values.reduce((a, b) => a + b) / values.length) * 100) / 100,
    }));
    const times = result.rows.map((row) => parseTimestampNs(row[0] as string)!);
    assert.equal(times.length, Number((binned.at(-1)!.time - binned[0]!.time) / (15n * nsPerSecond)) + 1);
    for (const [k, row] of result.rows.entries()) {
      const expected = Math.round(linearAt(binned, times[k]!)! * 100) / 100;
      assertClose(row[1] as number, expected, String(row[0]));
    }
  });

  it("UNNEST in a comma join, with ordinality, over each group's series", async () => {
    const result = await h.query(
      `SELECT s.instance_name, p.time, p.value, p.n FROM (SELECT instance_name, ${SERIES} AS ts FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND time BETWEEN '2021-09-22 13:00:00' AND '2021-09-22 13:03:00' GROUP BY instance_name) AS s, UNNEST(s.ts) WITH ORDINALITY AS p(time, value, n) WHERE p.n <= 2 ORDER BY s.instance_name, p.n`,
    );
    assert.equal(result.rows.length, HOSTS.length * 2);
    assert.deepEqual(result.rows[0], [HOST, jsonTime(series[0]!.time), series[0]!.value, "1"]);
    assert.deepEqual(result.rows[1], [HOST, jsonTime(series[1]!.time), series[1]!.value, "2"]);
    // Where the translator cannot tell the series' type, the row's fields still become columns.
    const untyped = await h.query(
      `SELECT p.value FROM (SELECT ${SERIES} AS ts ${SERIES_FILTER}) AS s CROSS JOIN UNNEST(CASE WHEN false THEN NULL ELSE s.ts END) AS p(time, value) ORDER BY p.time LIMIT 1`,
    );
    assert.deepEqual(untyped.rows, [[series[0]!.value]]);
  });

  it("FILTER and REDUCE over a timeseries, as in Timestream's examples", async () => {
    const filtered = fromJson(
      (await h.value(`SELECT FILTER(${SERIES}, x -> x.value > 0.5) ${SERIES_FILTER}`)) as never,
    );
    assert.deepEqual(
      filtered,
      series.filter((p) => p.value > 0.5),
    );
    const sumOfSquares = (await h.value(
      `SELECT REDUCE(${SERIES}, DOUBLE '0.0', (s, x) -> x.value * x.value + s, s -> s) ${SERIES_FILTER}`,
    )) as number;
    assertClose(
      sumOfSquares,
      series.reduce((s, p) => s + p.value * p.value, 0),
      "sum of squares",
    );
    const transformed = (await h.value(
      `SELECT transform(${SERIES}, x -> x.value * 2) ${SERIES_FILTER}`,
    )) as number[];
    assert.deepEqual(
      transformed,
      series.map((p) => p.value * 2),
    );
    assert.equal(await h.value(`SELECT cardinality(${SERIES}) ${SERIES_FILTER}`), String(series.length));
  });

  it("REDUCE with a ROW state, verbatim from Timestream's documentation: the average of the series", async () => {
    const average = await h.value(
      `SELECT REDUCE(${SERIES}, CAST(ROW(0.0, 0) AS ROW(sum DOUBLE, count INTEGER)), (s, x) -> CAST(ROW(x.value + s.sum, s.count + 1) AS ROW(sum DOUBLE, count INTEGER)), s -> IF(s.count = 0, NULL, s.sum / s.count)) ${SERIES_FILTER}`,
    );
    // The same additions in the same (time) order: the same double, bit for bit.
    const sum = series.reduce((s, p) => p.value + s, 0);
    assert.equal(average, sum / series.length);
    // An empty series keeps the initial row: count 0 gives NULL.
    const empty = await h.value(
      `SELECT REDUCE(FILTER(${SERIES}, x -> x.value > 2), CAST(ROW(0.0, 0) AS ROW(sum DOUBLE, count INTEGER)), (s, x) -> CAST(ROW(x.value + s.sum, s.count + 1) AS ROW(sum DOUBLE, count INTEGER)), s -> IF(s.count = 0, NULL, s.sum / s.count)) ${SERIES_FILTER}`,
    );
    assert.equal(empty, null);
  });

  it("REDUCE from the literal 0.0: a DOUBLE state, as in Timestream (no DECIMAL)", async () => {
    const sum = await h.value(
      `SELECT REDUCE(${SERIES}, 0.0, (s, x) -> s + x.value, s -> s) ${SERIES_FILTER}`,
    );
    assert.equal(
      sum,
      series.reduce((s, p) => s + p.value, 0),
    );
  });

  it("DERIVATIVE_LINEAR, NON_NEGATIVE_DERIVATIVE_LINEAR and INTEGRAL_TRAPEZOIDAL", async () => {
    const derivative = series.slice(1).map((p, k) => ({
      time: p.time,
      value: ((p.value - series[k]!.value) / Number(p.time - series[k]!.time)) * 60e9,
    }));
    const actual = fromJson(
      (await h.value(`SELECT DERIVATIVE_LINEAR(${SERIES}, 1m) ${SERIES_FILTER}`)) as never,
    );
    assert.deepEqual(
      actual.map((p) => p.time),
      derivative.map((p) => p.time),
    );
    for (const [k, p] of actual.entries()) assertClose(p.value, derivative[k]!.value, jsonTime(p.time));
    const nonNegative = fromJson(
      (await h.value(`SELECT NON_NEGATIVE_DERIVATIVE_LINEAR(${SERIES}, 1m) ${SERIES_FILTER}`)) as never,
    );
    assert.deepEqual(
      nonNegative.map((p) => p.time),
      derivative.filter((p) => p.value >= 0).map((p) => p.time),
    );
    const integral = series
      .slice(1)
      .reduce(
        (sum, p, k) =>
          sum + ((p.value + series[k]!.value) / 2) * Number((p.time - series[k]!.time) / nsPerSecond),
        0,
      );
    assertClose(
      (await h.value(`SELECT INTEGRAL_TRAPEZOIDAL(${SERIES}) ${SERIES_FILTER}`)) as number,
      integral,
      "integral per second",
    );
    assertClose(
      (await h.value(`SELECT INTEGRAL_TRAPEZOIDAL(${SERIES}, 1m) ${SERIES_FILTER}`)) as number,
      integral / 60,
      "integral per minute",
    );
  });

  it("SEQUENCE over timestamps, and errors for misuse", async () => {
    assert.deepEqual(
      await h.value("SELECT SEQUENCE(TIMESTAMP '2021-09-22 13:00:00', '2021-09-22 13:01:00', 30s)"),
      ["2021-09-22 13:00:00", "2021-09-22 13:00:30", "2021-09-22 13:01:00"],
    );
    await assert.rejects(h.query("SELECT SEQUENCE(now(), now())"), /sequence over timestamps needs a step/);
    await assert.rejects(
      h.query("SELECT SEQUENCE(now(), now(), 5ns)"),
      /sequence step 5ns must be a positive whole number of microseconds/,
    );
    await assert.rejects(
      h.query(`SELECT INTERPOLATE_LINEAR(${SERIES}, 'x') ${SERIES_FILTER}`),
      /'x' is not a valid timestamp/,
    );
    await assert.rejects(
      h.query(`SELECT INTERPOLATE_FILL(${SERIES}, ${GRID}) ${SERIES_FILTER}`),
      /interpolate_fill expects 3 argument/i,
    );
    await assert.rejects(
      h.query(`SELECT DERIVATIVE_LINEAR(${SERIES}, 0s) ${SERIES_FILTER}`),
      /needs a positive duration/,
    );
  });
});

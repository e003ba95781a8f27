import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { formatTimestampNs, parseTimestampNs } from "../../src/sql/index.js";
import { Harness, nsPerSecond, START_NS } from "./harness.js";

const FROM = ` FROM "airflow-db"."airflow-table"`;
const NOW_NS = START_NS + 120n * nsPerSecond; // 2021-09-22 13:02:00, the harness's default now()

describe("timestamp text (formatTimestampNs / parseTimestampNs)", () => {
  it("formats nanoseconds since the epoch as Timestream does, in UTC", () => {
    assert.equal(formatTimestampNs(0n), "1970-01-01 00:00:00.000000000");
    assert.equal(formatTimestampNs(START_NS + 123_456_789n), "2021-09-22 13:00:00.123456789");
    assert.equal(
      formatTimestampNs(BigInt(Date.UTC(2024, 1, 29, 23, 59, 59)) * 1_000_000n),
      "2024-02-29 23:59:59.000000000",
    );
    assert.equal(formatTimestampNs(-1n), "1969-12-31 23:59:59.999999999");
  });

  it("parses dates, times, fractions up to 9 digits, T or space, and Z / UTC / ±HH[:MM] offsets", () => {
    const cases: [string, bigint][] = [
      ["2021-09-22", BigInt(Date.UTC(2021, 8, 22)) * 1_000_000n],
      ["2021-09-22 13:00:00", START_NS],
      ["2021-09-22 13:00", START_NS],
      ["2021-09-22T13:00:00Z", START_NS],
      ["2021-09-22 13:00:00+00:00", START_NS],
      ["2021-09-22 15:00:00+02:00", START_NS],
      ["2021-09-22 08:30:00-0430", START_NS],
      ["2021-09-22 14:00:00+01", START_NS],
      ["2021-09-22 13:00:00 UTC", START_NS],
      ["2021-09-22 13:00:00.123456789", START_NS + 123_456_789n],
      ["2021-09-22 13:00:00.5", START_NS + 500_000_000n],
    ];
    for (const [text, ns] of cases) assert.equal(parseTimestampNs(text), ns, text);
    for (const bad of [
      "2021-13-01",
      "2021-02-30",
      "21-09-22",
      "2021-09-22 25:00:00",
      "2021-09-22 13:00:00.1234567890",
      "2021-09-22 13:00:00+5",
      "yesterday",
      "",
    ]) {
      assert.equal(parseTimestampNs(bad), undefined, bad);
    }
  });
});

describe("time in queries", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());

  const countWhere = async (condition: string) =>
    Number(await h.value(`SELECT count(*)${FROM} WHERE measure_name = 'cpu_nice' AND ${condition}`));
  const expectedCount = (test: (ns: bigint) => boolean) =>
    h.points.filter((p) => p.measure_name === "cpu_nice" && test(p.timeNs)).length;

  it("compares time with string literals in UTC, honouring their offsets, without touching the column", async () => {
    const at = START_NS + 60n * nsPerSecond;
    for (const literal of [
      "2021-09-22 13:01:00",
      "2021-09-22T13:01:00Z",
      "2021-09-22 15:01:00+02:00",
      "2021-09-22 08:01:00-05:00",
    ]) {
      assert.equal(
        await countWhere(`time >= '${literal}'`),
        expectedCount((ns) => ns >= at),
        literal,
      );
      assert.equal(
        await countWhere(`'${literal}' <= time`),
        expectedCount((ns) => ns >= at),
        literal,
      );
    }
    assert.equal(await countWhere(`time IN ('2021-09-22 15:01:00+02:00', '2021-09-22 13:00:10')`), 12);
    assert.equal(await countWhere(`time BETWEEN '2021-09-22 13:01:00' AND '2021-09-22 13:02:00'`), 6 * 7);
    const { sql } = await h.query(`SELECT count(*)${FROM} WHERE time > '2021-09-22 15:01:00+02:00'`);
    assert.ok(sql.includes(`("time" > TIMESTAMP_NS '2021-09-22 13:01:00.000000000')`), sql);
  });

  it("refuses a string that is not a timestamp where a timestamp is compared, at the string's position", async () => {
    await assert.rejects(h.query(`SELECT 1${FROM} WHERE time > 'yesterday'`), (error: unknown) => {
      assert.ok(isHourglassError(error, "ValidationError"));
      assert.equal(error.message, "line 1, column 57: 'yesterday' is not a valid timestamp");
      return true;
    });
    await assert.rejects(
      h.query("SELECT TIMESTAMP '2021-02-30 00:00:00'"),
      /'2021-02-30 00:00:00' is not a valid timestamp/,
    );
  });

  it("now(), current_timestamp, current_date, current_time and ago() use the fixed nowNs", async () => {
    const result = await h.query(
      "SELECT CAST(now() AS varchar), CAST(current_timestamp AS varchar), CAST(ago(15m) AS varchar), current_date, current_time, CAST(ago(interval '1' hour) AS varchar)",
      NOW_NS + 5n,
    );
    assert.deepEqual(result.rows[0], [
      "2021-09-22 13:02:00.000000005",
      "2021-09-22 13:02:00.000000005",
      "2021-09-22 12:47:00.000000005",
      "2021-09-22",
      "13:02:00",
      "2021-09-22 12:02:00.000000005",
    ]);
    assert.equal(
      await countWhere("time > ago(1m)"),
      expectedCount((ns) => ns > NOW_NS - 60n * nsPerSecond),
    );
    assert.equal(
      await countWhere("time BETWEEN ago(1m) AND now()"),
      expectedCount((ns) => ns >= NOW_NS - 60n * nsPerSecond && ns <= NOW_NS),
    );
    // Folded into a literal, so DuckDB can prune by time.
    const { sql } = await h.query(`SELECT 1${FROM} WHERE time > now() - 1h`);
    assert.ok(sql.includes(`("time" > TIMESTAMP_NS '2021-09-22 12:02:00.000000000')`), sql);
  });

  it("duration literals of every unit shift timestamps exactly, to the nanosecond", async () => {
    const units: [string, bigint][] = [
      ["5ns", 5n],
      ["10us", 10_000n],
      ["1ms", 1_000_000n],
      ["15s", 15n * nsPerSecond],
      ["15m", 900n * nsPerSecond],
      ["2h", 7200n * nsPerSecond],
      ["3d", 3n * 86_400n * nsPerSecond],
    ];
    for (const [literal, ns] of units) {
      const shifted = await h.value(
        `SELECT to_nanoseconds(time + ${literal}) - to_nanoseconds(time)${FROM} LIMIT 1`,
      );
      assert.equal(shifted, String(ns), literal);
      const back = await h.value(
        `SELECT to_nanoseconds(time) - to_nanoseconds(time - ${literal})${FROM} LIMIT 1`,
      );
      assert.equal(back, String(ns), literal);
      assert.equal(await h.value(`SELECT to_nanoseconds(${literal})`), String(ns), literal);
      const ago = await h.value(`SELECT CAST(ago(${literal}) AS varchar)`);
      assert.equal(ago, formatTimestampNs(NOW_NS - ns), literal);
    }
    assert.deepEqual(await h.value("SELECT 15m"), { months: 0, days: 0, micros: "900000000" });
    assert.deepEqual(await h.value("SELECT 3d"), { months: 0, days: 0, micros: "259200000000" });
    assert.deepEqual(await h.value("SELECT -10us"), { months: 0, days: 0, micros: "-10" });
    await assert.rejects(h.query("SELECT 5ns"), /duration 5ns is finer than a microsecond/);
  });

  it("sums of durations finer than a microsecond (1h + 50ns) stay exact next to timestamps", async () => {
    const exact = 3_600n * nsPerSecond + 50n;
    assert.equal(
      await h.value("SELECT CAST(TIMESTAMP '2021-09-22 13:00:00' + (1h + 50ns) AS varchar)"),
      "2021-09-22 14:00:00.000000050",
    );
    const shifted = await h.value(
      `SELECT to_nanoseconds(time + (1h + 50ns)) - to_nanoseconds(time)${FROM} LIMIT 1`,
    );
    assert.equal(shifted, String(exact));
    const back = await h.value(
      `SELECT to_nanoseconds(time) - to_nanoseconds(time - (2h - 1ns + 1us))${FROM} LIMIT 1`,
    );
    assert.equal(back, String(7_200n * nsPerSecond + 999n));
    assert.equal(await h.value("SELECT CAST(ago(1h + 50ns) AS varchar)"), formatTimestampNs(NOW_NS - exact));
    assert.equal(await h.value("SELECT to_nanoseconds(1h + 50ns)"), String(exact));
    assert.equal(
      await h.value("SELECT CAST(bin(TIMESTAMP '2021-09-22 13:00:00.000000007', 1ns + 2ns) AS varchar)"),
      "2021-09-22 13:00:00.000000006",
    );
    // A whole number of microseconds is an ordinary interval.
    assert.deepEqual(await h.value("SELECT 1h + 500ns + 500ns"), {
      months: 0,
      days: 0,
      micros: "3600000001",
    });
    assert.deepEqual(await h.value("SELECT 2147483648us"), { months: 0, days: 0, micros: "2147483648" });
    // Alone, DuckDB's INTERVAL cannot hold it: refused, naming the sum.
    await assert.rejects(
      h.query("SELECT 1h + 50ns"),
      /line 1, column 11: duration \(1h \+ 50ns\) is finer than a microsecond: it can be used with bin\(\), ago\(\) and timestamp arithmetic only/,
    );
  });

  it("interval '2' day and friends", async () => {
    assert.deepEqual(await h.value("SELECT interval '2' day"), {
      months: 0,
      days: 0,
      micros: "172800000000",
    });
    assert.deepEqual(await h.value("SELECT interval '90' minute"), {
      months: 0,
      days: 0,
      micros: "5400000000",
    });
    assert.deepEqual(await h.value("SELECT interval '1.5' second"), {
      months: 0,
      days: 0,
      micros: "1500000",
    });
    assert.deepEqual(await h.value("SELECT interval '3' month"), { months: 3, days: 0, micros: "0" });
    assert.equal(
      await h.value("SELECT CAST(TIMESTAMP '2021-09-22 13:00:00' - interval '2' day AS varchar)"),
      "2021-09-20 13:00:00.000000000",
    );
    await assert.rejects(h.query("SELECT interval 'two' day"), /'two' is not a valid INTERVAL … DAY value/);
  });

  it("bin() gives epoch-aligned bins, like Timestream, for widths DuckDB would align elsewhere", async () => {
    for (const [width, widthNs] of [
      ["15s", 15n * nsPerSecond],
      ["7s", 7n * nsPerSecond],
      ["1h", 3600n * nsPerSecond],
      ["7d", 7n * 86_400n * nsPerSecond],
      ["250ms", 250_000_000n],
      ["7ns", 7n],
    ] as const) {
      const result = await h.query(
        `SELECT DISTINCT CAST(time AS varchar), CAST(bin(time, ${width}) AS varchar)${FROM} WHERE measure_name = 'cpu_nice'`,
      );
      assert.ok(result.rows.length > 10);
      for (const [time, bin] of result.rows as [string, string][]) {
        const ns = parseTimestampNs(time)!;
        assert.equal(bin, formatTimestampNs((ns / widthNs) * widthNs), `bin(${time}, ${width})`);
      }
    }
    // Constant arguments fold to a literal.
    assert.equal(
      await h.value("SELECT CAST(bin(TIMESTAMP '2021-09-22 13:00:07.5', 7s) AS varchar)"),
      "2021-09-22 13:00:01.000000000",
    );
    await assert.rejects(h.query(`SELECT bin(time, 0s)${FROM}`), /bin\(\) needs a positive duration literal/);
    await assert.rejects(
      h.query(`SELECT bin(time, measure_value::bigint)${FROM}`),
      /bin\(\) needs a positive duration literal/,
    );
  });

  it("date and time functions", async () => {
    const cases: [string, unknown][] = [
      [
        "CAST(date_trunc('hour', TIMESTAMP '2021-09-22 13:45:12.5') AS varchar)",
        "2021-09-22 13:00:00.000000000",
      ],
      [
        "CAST(date_trunc('month', TIMESTAMP '2021-09-22 13:45:12') AS varchar)",
        "2021-09-01 00:00:00.000000000",
      ],
      [
        "CAST(date_add('minute', 90, TIMESTAMP '2021-09-22 13:00:00') AS varchar)",
        "2021-09-22 14:30:00.000000000",
      ],
      [
        "CAST(date_add('second', -1, TIMESTAMP '2021-09-22 13:00:00') AS varchar)",
        "2021-09-22 12:59:59.000000000",
      ],
      [
        "CAST(date_add('month', 1, TIMESTAMP '2021-01-31 00:00:00') AS varchar)",
        "2021-02-28 00:00:00.000000000",
      ],
      ["date_diff('hour', TIMESTAMP '2021-09-22 10:59:00', TIMESTAMP '2021-09-22 12:58:00')", "1"],
      ["date_diff('day', '2021-09-20 00:00:00', '2021-09-22 00:00:00')", "2"],
      ["extract(hour FROM TIMESTAMP '2021-09-22 13:02:30')", "13"],
      ["extract(day_of_week FROM TIMESTAMP '2021-09-22 13:02:30')", "3"],
      ["year(TIMESTAMP '2021-09-22 13:02:30')", "2021"],
      ["month(TIMESTAMP '2021-09-22 13:02:30')", "9"],
      ["day(TIMESTAMP '2021-09-22 13:02:30')", "22"],
      ["hour(TIMESTAMP '2021-09-22 13:02:30')", "13"],
      ["minute(TIMESTAMP '2021-09-22 13:02:30')", "2"],
      ["second(TIMESTAMP '2021-09-22 13:02:30')", "30"],
      ["millisecond(TIMESTAMP '2021-09-22 00:00:07.123')", "123"],
      ["day_of_year(TIMESTAMP '2021-09-22 13:02:30')", "265"],
      ["quarter(TIMESTAMP '2021-09-22 13:02:30')", "3"],
      ["week(TIMESTAMP '2021-09-22 13:02:30')", "38"],
      ["year_of_week(TIMESTAMP '2021-01-01 00:00:00')", "2020"],
      ["CAST(from_milliseconds(1632315600123) AS varchar)", "2021-09-22 13:00:00.123000000"],
      ["CAST(from_nanoseconds(1632315600000000005) AS varchar)", "2021-09-22 13:00:00.000000005"],
      ["CAST(from_unixtime(1632315600) AS varchar)", "2021-09-22 13:00:00.000000000"],
      ["to_milliseconds(TIMESTAMP '2021-09-22 13:00:00.123')", "1632315600123"],
      ["to_milliseconds(15m)", "900000"],
      ["to_milliseconds(interval '2' day)", "172800000"],
      ["to_unixtime(TIMESTAMP '2021-09-22 13:00:00.5')", 1632315600.5],
      [
        "CAST(from_iso8601_timestamp('2021-09-22T15:00:00.5+02:00') AS varchar)",
        "2021-09-22 13:00:00.500000000",
      ],
      ["to_iso8601(TIMESTAMP '2021-09-22 13:00:00.123456789')", "2021-09-22T13:00:00.123456789Z"],
      ["to_iso8601(DATE '2021-09-22')", "2021-09-22"],
      ["from_iso8601_date('2021-09-22')", "2021-09-22"],
      ["date_format(TIMESTAMP '2021-09-22 13:04:05', '%Y-%m-%d %H:%i:%s')", "2021-09-22 13:04:05"],
      ["CAST(date_parse('2021-09-22 13:04', '%Y-%m-%d %H:%i') AS varchar)", "2021-09-22 13:04:00.000000000"],
      ["to_milliseconds(parse_duration('1.5 m'))", "90000"],
      ["last_day_of_month(TIMESTAMP '2021-02-10 00:00:00')", "2021-02-28"],
      ["date('2021-09-22')", "2021-09-22"],
      ["current_timezone()", "UTC"],
    ];
    for (const [expression, expected] of cases) {
      assert.deepEqual(await h.value(`SELECT ${expression}`), expected, expression);
    }
    // Non-literal arguments take the runtime path.
    const row = (
      await h.query(
        `SELECT to_milliseconds(time), CAST(from_milliseconds(to_milliseconds(time)) AS varchar), CAST(from_iso8601_timestamp(to_iso8601(time)) AS varchar), date_diff('second', time, time + 90s)${FROM} WHERE time = '2021-09-22 13:00:10'`,
      )
    ).rows[0];
    assert.deepEqual(row, [
      "1632315610000",
      "2021-09-22 13:00:10.000000000",
      "2021-09-22 13:00:10.000000000",
      "90",
    ]);
    await assert.rejects(
      h.query("SELECT date_trunc('fortnight', now())"),
      /date_trunc does not know the unit 'fortnight'/,
    );
    await assert.rejects(h.query("SELECT date_format(now(), '%Q')"), /specifier %Q is not supported/);
    await assert.rejects(
      h.query("SELECT from_iso8601_timestamp('soon')"),
      /'soon' is not an ISO 8601 timestamp/,
    );
    await assert.rejects(h.query("SELECT DATE '22/09/2021'"), /'22\/09\/2021' is not a valid date/);
    await assert.rejects(h.query("SELECT parse_duration('soon')"), /'soon' is not a duration/);
    await assert.rejects(h.query("SELECT ago(5)"), /ago\(\) needs a duration such as 15m/);
    await assert.rejects(
      h.query(`SELECT create_time_series(time, measure_value::double) FILTER (WHERE true)${FROM}`),
      /create_time_series takes no DISTINCT, ORDER BY, FILTER or OVER/,
    );
  });
});

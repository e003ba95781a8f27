import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import {
  daysAgo,
  dueIntervals,
  type Interval,
  inferManualInterval,
  intervalForLogicalDate,
  intervalsBetween,
  nextDataInterval,
  parseDateInZone,
  parseSchedule,
  planIntervalsBetween,
} from "../../src/workflows/index.js";

const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString().replace(".000Z", "Z");
const span = (interval: Interval) => `${iso(interval.start)} .. ${iso(interval.end)}`;
const hours = (interval: Interval) => (interval.end.getTime() - interval.start.getTime()) / 3_600_000;

function assertContiguous(intervals: readonly Interval[]): void {
  for (const [index, interval] of intervals.entries()) {
    assert.ok(interval.start < interval.end, `interval ${index} is empty: ${span(interval)}`);
    const next = intervals[index + 1];
    if (next !== undefined)
      assert.equal(iso(next.start), iso(interval.end), `gap or overlap after ${span(interval)}`);
  }
}

function assertValidation(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isHourglassError(error, "ValidationError"), `expected a ValidationError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("nextDataInterval and dueIntervals: the first intervals of common schedules", () => {
  const cases = [
    {
      name: "hourly, catchup",
      schedule: "0 */1 * * *",
      startDate: "2021-09-21T00:00:00Z",
      catchup: true,
      now: "2021-09-21T05:30:00Z",
      first: "2021-09-21T00:00:00Z .. 2021-09-21T01:00:00Z",
      due: 5,
    },
    {
      name: "hourly, no catchup: only the latest complete interval",
      schedule: "@hourly",
      startDate: "2021-09-21T00:00:00Z",
      catchup: false,
      now: "2021-09-21T05:30:00Z",
      first: "2021-09-21T04:00:00Z .. 2021-09-21T05:00:00Z",
      due: 1,
    },
    {
      name: "hourly, no catchup, now exactly on a boundary",
      schedule: "@hourly",
      startDate: "2021-09-21T00:00:00Z",
      catchup: false,
      now: "2021-09-21T05:00:00Z",
      first: "2021-09-21T04:00:00Z .. 2021-09-21T05:00:00Z",
      due: 1,
    },
    {
      name: "hourly, start date inside an interval: the first interval starts at the next hour",
      schedule: "@hourly",
      startDate: "2021-09-21T00:30:00Z",
      catchup: true,
      now: "2021-09-21T03:00:00Z",
      first: "2021-09-21T01:00:00Z .. 2021-09-21T02:00:00Z",
      due: 2,
    },
    {
      name: "every 10 minutes",
      schedule: "*/10 * * * *",
      startDate: "2021-09-21T00:05:00Z",
      catchup: true,
      now: "2021-09-21T01:00:00Z",
      first: "2021-09-21T00:10:00Z .. 2021-09-21T00:20:00Z",
      due: 5,
    },
    {
      name: "daily, start date inside a day",
      schedule: "@daily",
      startDate: "2021-09-21T12:00:00Z",
      catchup: true,
      now: "2021-09-25T00:00:00Z",
      first: "2021-09-22T00:00:00Z .. 2021-09-23T00:00:00Z",
      due: 3,
    },
    {
      name: "daily, no catchup, start date in the future",
      schedule: "@daily",
      startDate: "2021-10-01T00:00:00Z",
      catchup: false,
      now: "2021-09-25T07:00:00Z",
      first: "2021-10-01T00:00:00Z .. 2021-10-02T00:00:00Z",
      due: 0,
    },
    {
      name: "weekly (Sunday midnight), from a Tuesday",
      schedule: "@weekly",
      startDate: "2021-09-21T00:00:00Z",
      catchup: true,
      now: "2021-10-20T00:00:00Z",
      first: "2021-09-26T00:00:00Z .. 2021-10-03T00:00:00Z",
      due: 3,
    },
    {
      name: "monthly",
      schedule: "@monthly",
      startDate: "2021-09-21T00:00:00Z",
      catchup: true,
      now: "2022-01-15T00:00:00Z",
      first: "2021-10-01T00:00:00Z .. 2021-11-01T00:00:00Z",
      due: 3,
    },
    {
      name: "monthly, no catchup",
      schedule: "0 0 1 * *",
      startDate: "2021-01-01T00:00:00Z",
      catchup: false,
      now: "2022-01-15T00:00:00Z",
      first: "2021-12-01T00:00:00Z .. 2022-01-01T00:00:00Z",
      due: 1,
    },
    {
      name: "daily in Europe/London: local midnight",
      schedule: "@daily",
      timezone: "Europe/London",
      startDate: "2021-09-21",
      catchup: true,
      now: "2021-09-23T00:00:00Z",
      first: "2021-09-20T23:00:00Z .. 2021-09-21T23:00:00Z",
      due: 2,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const schedule = parseSchedule(c.schedule, c.timezone ?? "UTC");
      const startDate = parseDateInZone(c.startDate, c.timezone ?? "UTC");
      const options = { startDate, catchup: c.catchup, now: at(c.now) };
      const first = nextDataInterval(schedule, options);
      assert.ok(first !== null);
      assert.equal(span(first), c.first);
      assert.equal(iso(first.runAfter), iso(first.end), "a run is due when its interval ends");
      const due = dueIntervals(schedule, options);
      assert.equal(due.length, c.due);
      if (c.due > 0) assert.equal(span(due[0]!), c.first);
      assertContiguous(due);
      for (const interval of due) assert.ok(interval.runAfter <= at(c.now));
    });
  }
});

describe("nextDataInterval after a last interval", () => {
  const hourly = parseSchedule("@hourly");
  const startDate = at("2021-09-21T00:00:00Z");
  const last = { start: at("2021-09-21T02:00:00Z"), end: at("2021-09-21T03:00:00Z") };

  it("with catchup continues right after the last interval, even far behind now", () => {
    const next = nextDataInterval(hourly, {
      lastInterval: last,
      startDate,
      catchup: true,
      now: at("2021-09-22T00:00:00Z"),
    });
    assert.equal(span(next!), "2021-09-21T03:00:00Z .. 2021-09-21T04:00:00Z");
  });

  it("without catchup jumps to the latest complete interval", () => {
    const next = nextDataInterval(hourly, {
      lastInterval: last,
      startDate,
      catchup: false,
      now: at("2021-09-22T00:10:00Z"),
    });
    assert.equal(span(next!), "2021-09-21T23:00:00Z .. 2021-09-22T00:00:00Z");
  });

  it("without catchup and up to date, plans the interval in progress (due later)", () => {
    const next = nextDataInterval(hourly, {
      lastInterval: last,
      startDate,
      catchup: false,
      now: at("2021-09-21T03:10:00Z"),
    });
    assert.equal(span(next!), "2021-09-21T03:00:00Z .. 2021-09-21T04:00:00Z");
    assert.ok(next!.runAfter > at("2021-09-21T03:10:00Z"));
    assert.deepEqual(
      dueIntervals(hourly, {
        lastInterval: last,
        startDate,
        catchup: false,
        now: at("2021-09-21T03:10:00Z"),
      }),
      [],
    );
  });

  it("dueIntervals stops at its limit, and the next call carries on", () => {
    const options = { startDate, catchup: true, now: at("2021-09-23T00:00:00Z"), limit: 10 };
    const first = dueIntervals(hourly, options);
    assert.equal(first.length, 10);
    const rest = dueIntervals(hourly, { ...options, lastInterval: first.at(-1)!, limit: 1000 });
    assert.equal(rest.length, 48 - 10);
    assertContiguous([...first, ...rest]);
  });
});

describe("end date", () => {
  const hourly = parseSchedule("@hourly");
  const startDate = at("2021-09-21T00:00:00Z");
  const now = at("2021-09-22T00:00:00Z");
  it("schedules every interval starting at or before the end date, including one that straddles it", () => {
    for (const endDate of ["2021-09-21T02:00:00Z", "2021-09-21T02:30:00Z"]) {
      const due = dueIntervals(hourly, { startDate, endDate: at(endDate), catchup: true, now });
      assert.deepEqual(
        due.map((i) => iso(i.start)),
        ["2021-09-21T00:00:00Z", "2021-09-21T01:00:00Z", "2021-09-21T02:00:00Z"],
      );
      const after = nextDataInterval(hourly, {
        lastInterval: due.at(-1)!,
        startDate,
        endDate: at(endDate),
        catchup: true,
        now,
      });
      assert.equal(after, null, "nothing after the end date");
    }
  });
  it("without catchup never goes past the end date either", () => {
    const endDate = at("2021-09-21T02:00:00Z");
    assert.equal(nextDataInterval(hourly, { startDate, endDate, catchup: false, now }), null);
  });
});

describe("the seed's backfill: hourly from 2021-09-21 to 2021-09-22, both ends inclusive", () => {
  it("gives 25 intervals, the first starting at 2021-09-21T00:00Z and the last at 2021-09-22T00:00Z", () => {
    const schedule = parseSchedule("0 */1 * * *");
    const intervals = intervalsBetween(
      schedule,
      parseDateInZone("2021-09-21"),
      parseDateInZone("2021-09-22"),
    );
    assert.equal(intervals.length, 25);
    assert.equal(span(intervals[0]!), "2021-09-21T00:00:00Z .. 2021-09-21T01:00:00Z");
    assert.equal(span(intervals[24]!), "2021-09-22T00:00:00Z .. 2021-09-22T01:00:00Z");
    assertContiguous(intervals);
  });
  it("counts intervals whose start is in range: a range inside one hour has none, one on a boundary has one", () => {
    const schedule = parseSchedule("@hourly");
    assert.equal(
      intervalsBetween(schedule, at("2021-09-21T00:10:00Z"), at("2021-09-21T00:50:00Z")).length,
      0,
    );
    assert.equal(
      intervalsBetween(schedule, at("2021-09-21T01:00:00Z"), at("2021-09-21T01:00:00Z")).length,
      1,
    );
  });
  it("rejects a reversed range, a range too large, and non-periodic schedules", () => {
    const hourly = parseSchedule("@hourly");
    assertValidation(
      () => intervalsBetween(hourly, at("2021-09-22T00:00:00Z"), at("2021-09-21T00:00:00Z")),
      /reversed/,
    );
    assertValidation(
      () => intervalsBetween(hourly, at("2021-01-01T00:00:00Z"), at("2021-12-31T00:00:00Z"), { limit: 100 }),
      /holds 8,737 intervals of "@hourly", over the limit of 100 intervals per backfill: narrow it \(from 2021-01-01T00:00:00.000Z, end it at 2021-01-05T03:00:00.000Z at the latest\) or split it/,
    );
    assertValidation(
      () => intervalsBetween(parseSchedule("@once"), at("2021-09-21T00:00:00Z"), at("2021-09-22T00:00:00Z")),
      /@once/,
    );
    assertValidation(
      () => intervalsBetween(parseSchedule(null), at("2021-09-21T00:00:00Z"), at("2021-09-22T00:00:00Z")),
      /manual/,
    );
  });
});

describe("big backfill ranges: refused by count before listing, planned in slices", () => {
  /** Every interval by walking croner's fire times, the reference for the arithmetic path. */
  function walk(expression: string, timezone: string, from: Date, to: Date): string[] {
    const schedule = parseSchedule(expression, timezone);
    const found: string[] = [];
    let start = intervalForLogicalDate(schedule, from).start;
    if (start < from) start = intervalForLogicalDate(schedule, new Date(start.getTime())).end;
    while (start <= to) {
      const { end } = intervalForLogicalDate(schedule, start);
      found.push(`${iso(start)} .. ${iso(end)}`);
      start = end;
    }
    return found;
  }

  it("fixed-period UTC schedules are counted and listed by arithmetic, the same intervals as croner's", () => {
    const from = at("2021-03-27T05:07:00Z");
    const to = at("2021-04-02T00:00:00Z");
    for (const expression of [
      "@hourly",
      "0 */1 * * *",
      "*/10 * * * *",
      "15 * * * *",
      "0 */6 * * *",
      "30 2 * * *",
      "@daily",
      "* * * * *",
    ]) {
      const listed = intervalsBetween(parseSchedule(expression, "UTC"), from, to).map(span);
      assert.deepEqual(listed, walk(expression, "UTC", from, to), expression);
    }
  });

  it("a 30-year hourly range is refused at once, naming the limit and the latest end that fits", () => {
    const started = performance.now();
    assertValidation(
      () =>
        intervalsBetween(parseSchedule("@hourly"), at("1995-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z")),
      /holds 262,993 intervals of "@hourly", over the limit of 100,000 intervals per backfill: narrow it \(from 1995-01-01T00:00:00.000Z, end it at 2006-05-29T15:00:00.000Z at the latest\)/,
    );
    assert.ok(performance.now() - started < 1000, "refused by arithmetic, without listing");
  });

  it("other schedules are refused from an estimate when clearly over, counted exactly when close", () => {
    const started = performance.now();
    assertValidation(
      () =>
        intervalsBetween(
          parseSchedule("@hourly", "Europe/London"),
          at("1995-01-01T00:00:00Z"),
          at("2025-01-01T00:00:00Z"),
        ),
      /holds about 262,99\d intervals of "@hourly", over the limit of 100,000/,
    );
    assert.ok(performance.now() - started < 2000, "refused from a sample of fire times");
    const weekdays = parseSchedule("0 9 * * 1-5", "America/New_York");
    assertValidation(
      () =>
        intervalsBetween(weekdays, at("1995-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z"), { limit: 1000 }),
      /holds about 7,8\d\d intervals of "0 9 \* \* 1-5", over the limit of 1,000/,
    );
    // 2021 has 261 weekdays: within 2 % of the limit, so counted exactly while listing.
    assertValidation(
      () =>
        intervalsBetween(weekdays, at("2021-01-01T00:00:00Z"), at("2021-12-31T23:00:00Z"), { limit: 260 }),
      /holds more than 260 intervals .* end it at 2021-12-30T14:00:00.000Z at the latest/,
    );
    assert.equal(
      intervalsBetween(weekdays, at("2021-01-01T00:00:00Z"), at("2021-12-31T23:00:00Z"), { limit: 261 })
        .length,
      261,
    );
  });

  it("planIntervalsBetween lets the event loop run while it lists, and lists what intervalsBetween lists", async () => {
    const london = parseSchedule("*/10 * * * *", "Europe/London");
    const from = at("2024-03-01T00:00:00Z");
    const to = at("2024-04-15T00:00:00Z");
    let turns = 0;
    const ticker = setInterval(() => {
      turns += 1;
    }, 1);
    const planned = await planIntervalsBetween(london, from, to, { sliceMs: 2 });
    clearInterval(ticker);
    assert.equal(planned.length, 6481);
    assert.deepEqual(planned.map(span), intervalsBetween(london, from, to).map(span));
    assertContiguous(planned);
    assert.ok(turns > 0, "timers ran while the plan was made");
  });
});

describe("@once and manual-only schedules", () => {
  const startDate = at("2021-09-21T08:00:00Z");
  it("@once plans one exact interval at the start date, then nothing", () => {
    const once = parseSchedule("@once");
    const first = nextDataInterval(once, { startDate, catchup: true, now: at("2021-09-22T00:00:00Z") });
    assert.deepEqual(first, { start: startDate, end: startDate, runAfter: startDate });
    assert.equal(
      nextDataInterval(once, {
        lastInterval: first,
        startDate,
        catchup: true,
        now: at("2021-09-23T00:00:00Z"),
      }),
      null,
    );
    assert.equal(
      dueIntervals(once, { startDate, catchup: false, now: at("2021-09-21T07:00:00Z") }).length,
      0,
    );
    assert.equal(
      dueIntervals(once, { startDate, catchup: false, now: at("2021-09-21T09:00:00Z") }).length,
      1,
    );
    assert.equal(
      nextDataInterval(once, {
        startDate,
        endDate: at("2021-09-21T00:00:00Z"),
        catchup: true,
        now: startDate,
      }),
      null,
    );
  });
  it("null (manual only) never plans a run; explicit dates give exact intervals", () => {
    const manual = parseSchedule(null);
    assert.equal(manual.kind, "manual");
    assert.equal(
      nextDataInterval(manual, { startDate, catchup: true, now: at("2030-01-01T00:00:00Z") }),
      null,
    );
    assert.deepEqual(dueIntervals(manual, { startDate, catchup: true, now: at("2030-01-01T00:00:00Z") }), []);
    const date = at("2021-09-23T09:20:39Z");
    assert.deepEqual(intervalForLogicalDate(manual, date), { start: date, end: date });
    assert.deepEqual(inferManualInterval(manual, date), { start: date, end: date });
  });
});

describe("intervals for explicit dates", () => {
  const hourly = parseSchedule("@hourly");
  const cases = [
    {
      date: "2021-09-22T13:30:00Z",
      logical: "2021-09-22T13:00:00Z .. 2021-09-22T14:00:00Z",
      manual: "2021-09-22T12:00:00Z .. 2021-09-22T13:00:00Z",
    },
    {
      date: "2021-09-22T13:00:00Z",
      logical: "2021-09-22T13:00:00Z .. 2021-09-22T14:00:00Z",
      manual: "2021-09-22T12:00:00Z .. 2021-09-22T13:00:00Z",
    },
  ];
  for (const c of cases) {
    it(`at ${c.date}: the interval starting at or containing it, and the latest complete one`, () => {
      assert.equal(span(intervalForLogicalDate(hourly, at(c.date))), c.logical);
      assert.equal(span(inferManualInterval(hourly, at(c.date))), c.manual);
    });
  }
});

describe("daylight saving time: intervals stay contiguous", () => {
  const cases = [
    // Europe/London: 2024-03-31 01:00 GMT -> 02:00 BST; 2024-10-27 02:00 BST -> 01:00 GMT.
    {
      name: "hourly, London, spring forward: 23 one-hour intervals",
      expr: "@hourly",
      tz: "Europe/London",
      day: "2024-03-31",
      count: 23,
      lengths: [1],
    },
    {
      name: "hourly, London, fall back: 25 one-hour intervals",
      expr: "0 * * * *",
      tz: "Europe/London",
      day: "2024-10-27",
      count: 25,
      lengths: [1],
    },
    {
      name: "every 10 minutes, London, fall back",
      expr: "*/10 * * * *",
      tz: "Europe/London",
      day: "2024-10-27",
      count: 150,
      lengths: [1 / 6],
    },
    {
      name: "daily, London, spring forward: a 23-hour day",
      expr: "@daily",
      tz: "Europe/London",
      day: "2024-03-31",
      count: 1,
      lengths: [23],
    },
    {
      name: "daily, London, fall back: a 25-hour day",
      expr: "@daily",
      tz: "Europe/London",
      day: "2024-10-27",
      count: 1,
      lengths: [25],
    },
    // America/New_York: 2024-03-10 02:00 EST -> 03:00 EDT; 2024-11-03 02:00 EDT -> 01:00 EST.
    {
      name: "hourly, New York, spring forward",
      expr: "@hourly",
      tz: "America/New_York",
      day: "2024-03-10",
      count: 23,
      lengths: [1],
    },
    {
      name: "hourly, New York, fall back",
      expr: "@hourly",
      tz: "America/New_York",
      day: "2024-11-03",
      count: 25,
      lengths: [1],
    },
    {
      name: "daily, New York, spring forward",
      expr: "@daily",
      tz: "America/New_York",
      day: "2024-03-10",
      count: 1,
      lengths: [23],
    },
    {
      name: "daily, New York, fall back",
      expr: "@daily",
      tz: "America/New_York",
      day: "2024-11-03",
      count: 1,
      lengths: [25],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const schedule = parseSchedule(c.expr, c.tz);
      const dayStart = parseDateInZone(c.day, c.tz);
      const nextDay = new Date(
        Date.UTC(Number(c.day.slice(0, 4)), Number(c.day.slice(5, 7)) - 1, Number(c.day.slice(8)) + 1),
      );
      const dayEnd = parseDateInZone(nextDay.toISOString().slice(0, 10), c.tz);
      // Every interval starting within the local day.
      const intervals = intervalsBetween(schedule, dayStart, new Date(dayEnd.getTime() - 1));
      assert.equal(intervals.length, c.count);
      assertContiguous(intervals);
      assert.equal(iso(intervals[0]!.start), iso(dayStart));
      assert.equal(iso(intervals.at(-1)!.end), iso(dayEnd));
      for (const interval of intervals)
        assert.ok(
          c.lengths.some((h) => Math.abs(hours(interval) - h) < 1e-9),
          span(interval),
        );
    });
  }

  it("London's repeated 01:00 on the fall-back day is two hourly intervals, one per occurrence", () => {
    const intervals = intervalsBetween(
      parseSchedule("@hourly", "Europe/London"),
      at("2024-10-27T00:00:00Z"),
      at("2024-10-27T01:00:00Z"),
    );
    assert.deepEqual(intervals.map(span), [
      "2024-10-27T00:00:00Z .. 2024-10-27T01:00:00Z", // 01:00 BST
      "2024-10-27T01:00:00Z .. 2024-10-27T02:00:00Z", // 01:00 GMT
    ]);
  });

  const wallClock = [
    {
      name: "London 01:30 daily, spring forward: 01:30 does not exist, the run fires at 02:00 BST",
      expr: "30 1 * * *",
      tz: "Europe/London",
      from: "2024-03-30T00:00:00Z",
      to: "2024-04-01T00:00:00Z",
      spans: ["2024-03-30T01:30:00Z .. 2024-03-31T01:00:00Z", "2024-03-31T01:00:00Z .. 2024-04-01T00:30:00Z"],
    },
    {
      name: "London 01:30 daily, fall back: 01:30 happens twice, one run at the first (BST)",
      expr: "30 1 * * *",
      tz: "Europe/London",
      from: "2024-10-26T00:00:00Z",
      to: "2024-10-28T00:00:00Z",
      spans: ["2024-10-26T00:30:00Z .. 2024-10-27T00:30:00Z", "2024-10-27T00:30:00Z .. 2024-10-28T01:30:00Z"],
    },
    {
      name: "New York 02:30 daily, spring forward: 02:30 does not exist, the run fires at 03:00 EDT",
      expr: "30 2 * * *",
      tz: "America/New_York",
      from: "2024-03-09T00:00:00Z",
      to: "2024-03-11T00:00:00Z",
      spans: ["2024-03-09T07:30:00Z .. 2024-03-10T07:00:00Z", "2024-03-10T07:00:00Z .. 2024-03-11T06:30:00Z"],
    },
    {
      name: "New York 01:30 daily, fall back: one run, at 01:30 EDT",
      expr: "30 1 * * *",
      tz: "America/New_York",
      from: "2024-11-02T00:00:00Z",
      to: "2024-11-04T00:00:00Z",
      spans: ["2024-11-02T05:30:00Z .. 2024-11-03T05:30:00Z", "2024-11-03T05:30:00Z .. 2024-11-04T06:30:00Z"],
    },
    {
      name: "a list of hours is wall-clock too: 01:00 and 13:00 New York fire once each on the fall-back day",
      expr: "0 1,13 * * *",
      tz: "America/New_York",
      from: "2024-11-03T00:00:00Z",
      to: "2024-11-03T23:59:00Z",
      spans: ["2024-11-03T05:00:00Z .. 2024-11-03T18:00:00Z", "2024-11-03T18:00:00Z .. 2024-11-04T06:00:00Z"],
    },
  ];
  for (const c of wallClock) {
    it(c.name, () => {
      const intervals = intervalsBetween(parseSchedule(c.expr, c.tz), at(c.from), at(c.to));
      assert.deepEqual(intervals.map(span), c.spans);
      assertContiguous(intervals);
    });
  }

  it("every instant in a DST window lies in exactly the interval the forward sequence gives", () => {
    for (const [expr, tz, from] of [
      ["@hourly", "Europe/London", "2024-10-26T22:00:00Z"],
      ["30 1 * * *", "America/New_York", "2024-11-01T00:00:00Z"],
      ["30 2 * * *", "America/New_York", "2024-03-08T00:00:00Z"],
      ["*/10 * * * *", "Europe/London", "2024-03-30T23:00:00Z"],
    ] as const) {
      const schedule = parseSchedule(expr, tz);
      const chain = intervalsBetween(schedule, at(from), new Date(at(from).getTime() + 4 * 86_400_000));
      assertContiguous(chain);
      const startMs = chain[0]!.start.getTime();
      const endMs = chain.at(-1)!.end.getTime();
      let index = 0;
      for (let t = startMs; t < endMs; t += 7 * 60_000) {
        while (chain[index]!.end.getTime() <= t) index += 1;
        assert.equal(
          span(intervalForLogicalDate(schedule, new Date(t))),
          span(chain[index]!),
          `${expr} ${tz} at ${new Date(t).toISOString()}`,
        );
      }
    }
  });

  it("catchup across a DST change replays the same intervals as a backfill", () => {
    const schedule = parseSchedule("@hourly", "Europe/London");
    const startDate = at("2024-10-26T20:00:00Z");
    const due = dueIntervals(schedule, { startDate, catchup: true, now: at("2024-10-27T06:00:00Z") });
    const backfill = intervalsBetween(schedule, startDate, at("2024-10-27T05:00:00Z"));
    assert.deepEqual(due.map(span), backfill.map(span));
  });
});

describe("parseSchedule rejects bad schedules with the expression and the reason", () => {
  const cases: Array<[unknown, RegExp]> = [
    ["61 * * * *", /"61 \* \* \* \*": minute value 61 is out of range 0-59/],
    ["0 25 * * *", /hour value 25 is out of range 0-23/],
    ["0 0 1 13 *", /month value 13 is out of range 1-12/],
    ["0 0 0 * *", /day-of-month value 0 is out of range 1-31/],
    ["0 0 * * 8", /day-of-week value 8 is out of range 0-7/],
    ["* * * *", /expected 5 fields .* got 4/],
    ["0 0 * * * *", /expected 5 fields .* got 6/],
    ["every hour", /expected 5 fields/],
    ["*/0 * * * *", /minute step "0" must be a positive integer/],
    ["5-1 * * * *", /"5-1 \* \* \* \*": .*larger/],
    ["0 0 31 2 *", /never fires/],
    ["0 0 * * FOO", /"0 0 \* \* FOO"/],
    ["@fortnightly", /unknown preset/],
    [42, /schedule must be a cron expression/],
  ];
  for (const [expression, pattern] of cases) {
    it(String(expression), () => assertValidation(() => parseSchedule(expression as string), pattern));
  }
  it("an unknown time zone", () =>
    assertValidation(() => parseSchedule("@hourly", "Mars/Olympus"), /unknown time zone "Mars\/Olympus"/));
  it("accepts presets, names and steps", () => {
    for (const ok of [
      "@hourly",
      "@DAILY",
      "@weekly",
      "@monthly",
      "@quarterly",
      "@yearly",
      "0 9 * * MON-FRI",
      "15,45 */2 * * *",
    ]) {
      assert.equal(parseSchedule(ok).kind, "cron", ok);
    }
    assert.equal(parseSchedule("@once").kind, "once");
  });
});

describe("dates", () => {
  const cases: Array<[string, string, string]> = [
    ["2021-09-21", "UTC", "2021-09-21T00:00:00Z"],
    ["2021-09-21T00:00:00", "Europe/London", "2021-09-20T23:00:00Z"],
    ["2021-09-21T00:00:00+02:00", "Europe/London", "2021-09-20T22:00:00Z"],
    ["2021-09-21 13:00:00Z", "America/New_York", "2021-09-21T13:00:00Z"],
    ["2024-03-31T01:30", "Europe/London", "2024-03-31T01:30:00Z"], // does not exist: moved forward by the gap (02:30 BST)
    ["2024-10-27T01:30", "Europe/London", "2024-10-27T00:30:00Z"], // happens twice: the first (BST)
  ];
  for (const [text, tz, expected] of cases) {
    it(`${text} in ${tz}`, () => assert.equal(iso(parseDateInZone(text, tz)), expected));
  }
  it("rejects text that is not a date", () => {
    assertValidation(() => parseDateInZone("yesterday"), /invalid date "yesterday"/);
    assertValidation(() => parseDateInZone("2021-02-30"), /no such day/);
    assertValidation(() => parseDateInZone("2021-09-21T24:00:00Z"), /no such day or time/);
  });
  it("daysAgo is local midnight, n calendar days back", () => {
    assert.equal(iso(daysAgo(1, at("2021-09-23T09:20:39Z"))), "2021-09-22T00:00:00Z");
    assert.equal(iso(daysAgo(1, at("2021-09-23T09:20:39Z"), "Europe/London")), "2021-09-21T23:00:00Z");
    assert.equal(iso(daysAgo(0, at("2024-10-27T12:00:00Z"), "Europe/London")), "2024-10-26T23:00:00Z");
  });
  it("rejects an invalid now", () => {
    assertValidation(
      () =>
        nextDataInterval(parseSchedule("@hourly"), {
          startDate: at("2021-09-21T00:00:00Z"),
          catchup: true,
          now: new Date(Number.NaN),
        }),
      /now must be a valid Date/,
    );
    assertValidation(
      () =>
        dueIntervals(parseSchedule("@hourly"), {
          startDate: at("2021-09-21T00:00:00Z"),
          catchup: true,
          now: at("2021-09-22T00:00:00Z"),
          limit: 0,
        }),
      /limit must be a positive integer/,
    );
  });
});

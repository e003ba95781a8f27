/**
 * Schedules and data intervals: a pure planner with no clock, no database and no randomness.
 * "now" is always an argument, so the same inputs always give the same intervals (Airflow's
 * timetable ADR 0001 asks the same of its timetables).
 *
 * The model is Airflow's CronDataIntervalTimetable: a cron schedule cuts time into contiguous
 * intervals [fire time, next fire time); the run for an interval is due once the interval has
 * ended (runAfter = end), and its logical date is the interval start.
 *
 * Only this file imports croner. Cron runs in the schedule's IANA time zone; see
 * docs/workflows.md ("Daylight saving time") for what happens on the days clocks change.
 */
import { Cron } from "croner";
import { validationError } from "../errors.js";

/** Airflow's cron presets (plus @annually); `@once` and `null` are handled apart, as they are not cron. */
export const cronPresets: Readonly<Record<string, string>> = Object.freeze({
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@quarterly": "0 0 1 */3 *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
});

export type Schedule =
  /** `expression` is what the user wrote, `cron` the five-field form it stands for. */
  | { readonly kind: "cron"; readonly expression: string; readonly cron: string; readonly timezone: string }
  /** One run, at the start date. */
  | { readonly kind: "once"; readonly expression: "@once"; readonly timezone: string }
  /** No automatic runs: only manual triggers (and explicit intervals). */
  | { readonly kind: "manual"; readonly expression: null; readonly timezone: string };

/** A data interval, [start, end). For `@once` and manual schedules start == end (an exact instant). */
export interface Interval {
  readonly start: Date;
  readonly end: Date;
}

/** An interval the scheduler may create a run for, once `runAfter` has passed. */
export interface PlannedInterval extends Interval {
  readonly runAfter: Date;
}

export interface NextIntervalOptions {
  /** The last interval the scheduler created automatically (scheduled runs), or null for the first. */
  lastInterval?: Interval | null;
  startDate: Date;
  /** Intervals whose start is after endDate are not scheduled (an interval straddling it is). */
  endDate?: Date | null;
  catchup: boolean;
  now: Date;
}

export interface DueIntervalsOptions extends NextIntervalOptions {
  /** At most this many intervals (a long-paused DAG with catchup would otherwise flood the scheduler). */
  limit?: number;
}

export const defaultDueIntervalsLimit = 1000;
export const defaultBackfillIntervalsLimit = 100_000;

const fieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"] as const;
const fieldRanges: ReadonlyArray<readonly [number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** Throws a ValidationError unless `timezone` is an IANA zone name this runtime knows. */
export function assertTimeZone(timezone: unknown): string {
  if (typeof timezone !== "string" || timezone.trim() === "") {
    throw validationError(`time zone must be an IANA name such as "Europe/London", got ${show(timezone)}`);
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    throw validationError(
      `unknown time zone "${timezone}" (use an IANA name such as "Europe/London" or "UTC")`,
      {
        timezone,
      },
    );
  }
  return timezone;
}

/**
 * Parses a schedule: a five-field cron expression, a preset (`@hourly` … `@yearly`), `@once`, or
 * null (manual only). Throws a ValidationError naming the expression and what is wrong.
 */
export function parseSchedule(expression: string | null | undefined, timezone = "UTC"): Schedule {
  assertTimeZone(timezone);
  if (expression === null || expression === undefined) return { kind: "manual", expression: null, timezone };
  if (typeof expression !== "string") {
    throw validationError(`schedule must be a cron expression, a preset or null, got ${show(expression)}`);
  }
  const text = expression.trim();
  if (text.toLowerCase() === "@once") return { kind: "once", expression: "@once", timezone };
  let cron = text;
  if (text.startsWith("@")) {
    const preset = cronPresets[text.toLowerCase()];
    if (preset === undefined) {
      throw validationError(
        `invalid schedule "${expression}": unknown preset (use one of ${Object.keys(cronPresets).join(", ")}, @once, or null)`,
        { schedule: expression },
      );
    }
    cron = preset;
  }
  checkCronFields(expression, cron);
  const schedule: Schedule = { kind: "cron", expression: text, cron, timezone };
  let instance: Cron;
  try {
    instance = cronFor(schedule);
  } catch (error) {
    throw validationError(`invalid cron expression "${expression}": ${cronerReason(error)}`, {
      schedule: expression,
    });
  }
  // A pattern such as "0 0 31 2 *" parses but never fires: it would silently schedule nothing.
  if (instance.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) {
    throw validationError(`invalid cron expression "${expression}": it never fires`, {
      schedule: expression,
    });
  }
  return schedule;
}

export const isPeriodic = (schedule: Schedule): boolean => schedule.kind === "cron";

/** The first fire time strictly after `time`, or null if there is none (or the schedule is not cron). */
export function fireAfter(schedule: Schedule, time: Date): Date | null {
  if (schedule.kind !== "cron") return null;
  return cronFor(schedule).nextRun(time);
}

/** The first fire time at or after `time`. */
export function fireAtOrAfter(schedule: Schedule, time: Date): Date | null {
  if (schedule.kind !== "cron") return null;
  // croner drops milliseconds and searches strictly after: one millisecond earlier makes `time` itself count.
  return cronFor(schedule).nextRun(new Date(time.getTime() - 1));
}

/** The last fire time strictly before `time`. */
export function fireBefore(schedule: Schedule, time: Date): Date | null {
  if (schedule.kind !== "cron") return null;
  return cronFor(schedule).previousRuns(1, time)[0] ?? null;
}

/** The last fire time at or before `time`. */
export function fireAtOrBefore(schedule: Schedule, time: Date): Date | null {
  if (schedule.kind !== "cron") return null;
  return cronFor(schedule).previousRuns(1, new Date(time.getTime() + 1))[0] ?? null;
}

/**
 * The next interval to schedule after `lastInterval`, following Airflow's next_dagrun_info:
 * - first run with catchup: the interval starting at the first fire time at or after startDate;
 * - without catchup: the latest complete interval (its end at or before now), but never one
 *   starting before startDate; after a last interval, the later of "right after it" and that;
 * - null once the start would be after endDate (an interval starting at or before endDate but
 *   ending after it is still scheduled, as in Airflow);
 * - `@once`: one exact interval at startDate; manual (null): never.
 * The result may lie in the future: the caller creates the run only when runAfter <= now.
 */
export function nextDataInterval(schedule: Schedule, options: NextIntervalOptions): PlannedInterval | null {
  const startDate = checkDate("startDate", options.startDate);
  const now = checkDate("now", options.now);
  const endDate = options.endDate == null ? null : checkDate("endDate", options.endDate);
  const last = options.lastInterval ?? null;
  if (schedule.kind === "manual") return null;
  if (schedule.kind === "once") {
    if (last !== null) return null;
    if (endDate !== null && startDate > endDate) return null;
    return { start: startDate, end: startDate, runAfter: startDate };
  }
  const earliest = options.catchup
    ? fireAtOrAfter(schedule, startDate)
    : skipToLatest(schedule, startDate, now);
  if (earliest === null) return null;
  let start = earliest;
  if (last !== null) {
    // Aligning the last end again copes with a schedule that changed since that interval was made.
    const afterLast = fireAtOrBefore(schedule, checkDate("lastInterval.end", last.end));
    if (afterLast !== null && afterLast > start) start = afterLast;
  }
  if (endDate !== null && start > endDate) return null;
  const end = fireAfter(schedule, start);
  if (end === null) return null;
  return { start, end, runAfter: end };
}

/** Every interval due at `now` after `lastInterval`, oldest first, at most `limit` of them. */
export function dueIntervals(schedule: Schedule, options: DueIntervalsOptions): PlannedInterval[] {
  const limit = options.limit ?? defaultDueIntervalsLimit;
  if (!Number.isInteger(limit) || limit < 1)
    throw validationError(`limit must be a positive integer, got ${show(limit)}`);
  const now = checkDate("now", options.now);
  const due: PlannedInterval[] = [];
  let last = options.lastInterval ?? null;
  while (due.length < limit) {
    const next = nextDataInterval(schedule, { ...options, lastInterval: last });
    if (next === null || next.runAfter > now) break;
    due.push(next);
    last = next;
  }
  return due;
}

/**
 * For backfill: every interval whose START lies in [fromInclusive, toInclusive]. Hourly from
 * 2021-09-21T00:00Z to 2021-09-22T00:00Z gives 25 intervals, the last one [22T00:00, 22T01:00).
 * Throws a ValidationError for a schedule without periodic intervals, a reversed range, or a
 * range holding more than `limit` intervals (refused from an estimate before any is listed, see
 * refuseOversizedRange). Lists them in one go: planIntervalsBetween is the same in slices.
 */
export function intervalsBetween(
  schedule: Schedule,
  fromInclusive: Date,
  toInclusive: Date,
  options: { limit?: number } = {},
): Interval[] {
  const walk = walkIntervalsBetween(schedule, fromInclusive, toInclusive, options);
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
  }
}

/**
 * intervalsBetween in slices of at most `sliceMs` of work (default 10 ms), letting the event loop
 * run between them, so that planning a big backfill never stalls a server (croner takes from a
 * few µs to half a millisecond per fire time, depending on the zone and the machine's load).
 */
export async function planIntervalsBetween(
  schedule: Schedule,
  fromInclusive: Date,
  toInclusive: Date,
  options: { limit?: number; sliceMs?: number } = {},
): Promise<Interval[]> {
  const sliceMs = options.sliceMs ?? 10;
  const walk = walkIntervalsBetween(schedule, fromInclusive, toInclusive, options);
  let sliceStart = performance.now();
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** Yields once per interval listed; returns them all (or throws what intervalsBetween throws). */
function* walkIntervalsBetween(
  schedule: Schedule,
  fromInclusive: Date,
  toInclusive: Date,
  options: { limit?: number },
): Generator<void, Interval[]> {
  const from = checkDate("from", fromInclusive);
  const to = checkDate("to", toInclusive);
  if (schedule.kind !== "cron") {
    const name = schedule.kind === "once" ? "@once" : "null (manual only)";
    throw validationError(
      `schedule ${name} has no periodic intervals to backfill: trigger a manual run instead`,
    );
  }
  if (from > to) {
    throw validationError(
      `backfill range is reversed: from ${from.toISOString()} is after to ${to.toISOString()}`,
    );
  }
  const limit = options.limit ?? defaultBackfillIntervalsLimit;
  const periodMs = fixedPeriodMs(schedule);
  if (periodMs !== null) return fixedIntervalsBetween(schedule, from, to, limit, periodMs);
  yield* refuseOversizedRange(schedule, from, to, limit);
  const intervals: Interval[] = [];
  let start = fireAtOrAfter(schedule, from);
  while (start !== null && start <= to) {
    const end = fireAfter(schedule, start);
    if (end === null) break;
    if (intervals.length === limit)
      throw tooManyIntervals(schedule, from, to, limit, null, intervals[limit - 1]!.start);
    intervals.push({ start, end });
    start = end;
    yield;
  }
  return intervals;
}

/**
 * The period of a schedule that fires every p milliseconds exactly, or null: in UTC (no clock
 * changes), every day of every month, at a minute step that divides the hour ("*", "*\/10", "15"
 * with every hour) or at one minute of an hour step that divides the day ("0 *\/6 * * *", "30 2 * * *").
 */
export function fixedPeriodMs(schedule: Schedule): number | null {
  if (schedule.kind !== "cron" || !["UTC", "Etc/UTC", "Etc/GMT", "GMT"].includes(schedule.timezone))
    return null;
  const [minute = "", hour = "", dayOfMonth, month, dayOfWeek] = schedule.cron.split(/\s+/);
  if (![dayOfMonth, month, dayOfWeek].every((field) => field === "*" || field === "?")) return null;
  const minuteMs = 60_000;
  const step = (field: string, size: number): number | null => {
    if (field === "*") return 1;
    const match = /^\*\/(\d+)$/.exec(field);
    const every = match === null ? null : Number(match[1]);
    return every !== null && every >= 1 && size % every === 0 ? every : null;
  };
  const single = (field: string, max: number) => /^\d+$/.test(field) && Number(field) <= max;
  if (hour === "*") {
    const minutes = step(minute, 60);
    if (minutes !== null) return minutes * minuteMs;
    return single(minute, 59) ? 60 * minuteMs : null;
  }
  if (!single(minute, 59)) return null;
  const hours = step(hour, 24);
  if (hours !== null) return hours * 60 * minuteMs;
  return single(hour, 23) ? 24 * 60 * minuteMs : null;
}

/** intervalsBetween for a fixed-period schedule: counted and listed by arithmetic. */
function fixedIntervalsBetween(
  schedule: Schedule & { kind: "cron" },
  from: Date,
  to: Date,
  limit: number,
  periodMs: number,
): Interval[] {
  const first = fireAtOrAfter(schedule, from);
  if (first === null || first > to) return [];
  const count = Math.floor((to.getTime() - first.getTime()) / periodMs) + 1;
  if (count > limit)
    throw tooManyIntervals(
      schedule,
      from,
      to,
      limit,
      { value: count, exact: true },
      new Date(first.getTime() + periodMs * (limit - 1)),
    );
  const intervals: Interval[] = [];
  for (let index = 0, start = first.getTime(); index < count; index += 1, start += periodMs) {
    intervals.push({ start: new Date(start), end: new Date(start + periodMs) });
  }
  return intervals;
}

/** Fire times sampled to estimate a schedule's mean period. */
const periodSample = 256;
/** An estimate this far over the limit is refused without listing (irregular schedules vary a little). */
const estimateMargin = 1.02;

/**
 * Refuses a range that clearly holds more than `limit` intervals, before listing any: the mean
 * period over the first fire times (exact for fixed-interval schedules such as hourly, close for
 * "weekdays at 9") gives the count arithmetically. A 30-year hourly range is refused at once
 * instead of after listing 100,000 intervals.
 */
function* refuseOversizedRange(
  schedule: Schedule & { kind: "cron" },
  from: Date,
  to: Date,
  limit: number,
): Generator<void, void> {
  const first = fireAtOrAfter(schedule, from);
  if (first === null || first > to) return;
  let last = first;
  let fires = 1;
  while (fires < periodSample) {
    const next = fireAfter(schedule, last);
    if (next === null || next > to) return; // the whole range fits in the sample: it is small
    last = next;
    fires += 1;
    yield;
  }
  const meanPeriodMs = (last.getTime() - first.getTime()) / (fires - 1);
  const estimate = Math.floor((to.getTime() - first.getTime()) / meanPeriodMs) + 1;
  if (estimate > limit * estimateMargin) {
    throw tooManyIntervals(
      schedule,
      from,
      to,
      limit,
      { value: estimate, exact: false },
      // An estimate: the start of the limit-th interval, rounded down to a fire time.
      fireAtOrBefore(schedule, new Date(first.getTime() + meanPeriodMs * (limit - 1))) ?? first,
    );
  }
}

function tooManyIntervals(
  schedule: Schedule & { kind: "cron" },
  from: Date,
  to: Date,
  limit: number,
  /** The count, "about" when estimated; null when only known to be over the limit. */
  count: { value: number; exact: boolean } | null,
  /** The start of the limit-th interval: the latest `to` a backfill from `from` may have. */
  lastAllowedStart: Date,
): Error {
  const n = (value: number) => value.toLocaleString("en-US");
  const holds = count === null ? `more than ${n(limit)}` : `${count.exact ? "" : "about "}${n(count.value)}`;
  return validationError(
    `backfill range ${from.toISOString()} .. ${to.toISOString()} holds ${holds} intervals of "${schedule.expression}", over the limit of ${n(limit)} intervals per backfill: narrow it (from ${from.toISOString()}, end it at ${lastAllowedStart.toISOString()} at the latest) or split it into several backfills`,
    {
      limit,
      lastAllowedStart: lastAllowedStart.toISOString(),
      ...(count === null ? {} : { intervals: count.value }),
    },
  );
}

/**
 * The interval that starts at or contains `date` (a run triggered for an explicit logical date).
 * For `@once` and manual schedules: the exact instant [date, date].
 */
export function intervalForLogicalDate(schedule: Schedule, date: Date): Interval {
  const at = checkDate("logical date", date);
  if (schedule.kind !== "cron") return { start: at, end: at };
  const start = fireAtOrBefore(schedule, at);
  const end = start === null ? null : fireAfter(schedule, start);
  if (start === null || end === null) {
    throw validationError(`no interval of "${schedule.expression}" contains ${at.toISOString()}`);
  }
  return { start, end };
}

/**
 * The interval a manual run triggered at `runAfter` covers when no logical date is given:
 * the latest complete interval (Airflow's infer_manual_data_interval). Exact for non-cron schedules.
 */
export function inferManualInterval(schedule: Schedule, runAfter: Date): Interval {
  const at = checkDate("runAfter", runAfter);
  if (schedule.kind !== "cron") return { start: at, end: at };
  const end = fireAtOrBefore(schedule, at);
  const start = end === null ? null : fireBefore(schedule, end);
  if (start === null || end === null) {
    throw validationError(`no complete interval of "${schedule.expression}" ends by ${at.toISOString()}`);
  }
  return { start, end };
}

/**
 * Reads a date. Text with an offset or `Z` is an instant; text without one ("2021-09-21",
 * "2021-09-21T02:30") is wall-clock time in `timezone`. A wall-clock time that does not exist
 * (spring forward) moves forward by the gap; one that happens twice (fall back) is the first.
 */
export function parseDateInZone(value: string | Date, timezone = "UTC"): Date {
  if (value instanceof Date) return checkDate("date", value);
  if (typeof value !== "string")
    throw validationError(`a date must be an ISO 8601 string or a Date, got ${show(value)}`);
  const text = value.trim();
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      text,
    );
  if (match === null) {
    throw validationError(
      `invalid date "${value}": use ISO 8601, such as 2021-09-21 or 2021-09-21T00:00:00Z`,
    );
  }
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction = "", offset] = match;
  const calendarCheck = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (
    calendarCheck.getUTCMonth() !== Number(month) - 1 ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw validationError(`invalid date "${value}": no such day or time`);
  }
  const wallClock = `${year}-${month}-${day}T${hour}:${minute}:${second}`;
  const millis = fraction === "" ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
  if (offset !== undefined) {
    const instant = new Date(`${wallClock}${fraction}${normalizeOffset(offset)}`);
    return checkDate(`date "${value}"`, instant);
  }
  assertTimeZone(timezone);
  const local = new Cron(wallClock, { timezone, paused: true }).getOnce();
  if (local === null) throw validationError(`invalid date "${value}"`);
  return new Date(local.getTime() + millis);
}

/** The calendar date of `date` in `timezone`, as YYYY-MM-DD. */
export function localDate(date: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(date);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** Local midnight `days` calendar days before the day of `now`, in `timezone` (Airflow's days_ago, zone-aware). */
export function daysAgo(days: number, now: Date, timezone = "UTC"): Date {
  const [year, month, day] = localDate(checkDate("now", now), timezone).split("-").map(Number) as [
    number,
    number,
    number,
  ];
  const target = new Date(Date.UTC(year, month - 1, day - days));
  return parseDateInZone(target.toISOString().slice(0, 10), timezone);
}

// ---------------------------------------------------------------------------------------------

/** Earliest start without catchup: the latest complete interval at `now`, never before startDate. */
function skipToLatest(schedule: Schedule, startDate: Date, now: Date): Date | null {
  const alignedStart = fireAtOrAfter(schedule, startDate);
  const latestEnd = fireAtOrBefore(schedule, now);
  const latestStart = latestEnd === null ? null : fireBefore(schedule, latestEnd);
  if (latestStart === null) return alignedStart;
  if (alignedStart === null) return null;
  return new Date(Math.max(latestStart.getTime(), alignedStart.getTime()));
}

const cronCache = new Map<string, Cron>();
const cronCacheLimit = 512;

function cronFor(schedule: Schedule & { kind: "cron" }): Cron {
  const key = `${schedule.cron}\u0000${schedule.timezone}`;
  let cron = cronCache.get(key);
  if (cron === undefined) {
    cron = new Cron(schedule.cron, {
      timezone: schedule.timezone,
      paused: true,
      mode: "5-part",
      // Hours or minutes without a wildcard or step ("30 1 * * *", "0 1,13 * * *") are wall-clock
      // times: they fire once when the time happens twice, and just after a gap. Wildcard and step
      // schedules ("0 * * * *", "*/10 * * * *") follow real time. Close to Airflow, which only
      // treats hour "*" schedules as real-time; see docs/workflows.md.
      fixedTimeRule: "no-wildcard",
    });
    if (cronCache.size >= cronCacheLimit) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

/** Field-by-field checks croner reports confusingly (it counts months from 0), with the user's numbers. */
function checkCronFields(original: string, cron: string): void {
  const fields = cron.split(/\s+/);
  if (fields.length !== 5) {
    throw validationError(
      `invalid cron expression "${original}": expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
      { schedule: original },
    );
  }
  fields.forEach((field, index) => {
    const [min, max] = fieldRanges[index]!;
    for (const item of field.split(",")) {
      const [base = "", step] = item.split("/");
      if (step !== undefined && !/^[1-9]\d*$/.test(step)) {
        throw validationError(
          `invalid cron expression "${original}": ${fieldNames[index]} step "${step}" must be a positive integer`,
          {
            schedule: original,
          },
        );
      }
      for (const bound of base.split("-")) {
        if (!/^\d+$/.test(bound)) continue; // names (JAN, MON), *, ?, L, W, # are left to croner
        const value = Number(bound);
        if (value < min || value > max) {
          throw validationError(
            `invalid cron expression "${original}": ${fieldNames[index]} value ${value} is out of range ${min}-${max}`,
            { schedule: original },
          );
        }
      }
    }
  });
}

function cronerReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cron(Pattern|Options)?:\s*/, "");
}

function normalizeOffset(offset: string): string {
  if (offset.toUpperCase() === "Z") return "Z";
  return offset.includes(":") ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`;
}

function checkDate(name: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw validationError(`${name} must be a valid Date, got ${show(value)}`);
  }
  return value;
}

function show(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : value.toISOString();
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}

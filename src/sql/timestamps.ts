/**
 * Timestamps as nanoseconds since the Unix epoch (bigint), in UTC, and the literals that carry them
 * into DuckDB.
 *
 * Why parse literals here: DuckDB's `'2021-09-22 13:00:00+02:00'::TIMESTAMP` ignores the offset,
 * and casting the `time` column instead would stop DuckDB from pruning row groups by time. So a
 * string compared with a timestamp is parsed here, shifted to UTC, and printed as TIMESTAMP_NS.
 */
import type { DurationUnit } from "./lexer.js";

const nsPerMicro = 1_000n;
const nsPerSecond = 1_000_000_000n;
const nsPerDay = 86_400n * nsPerSecond;

export const durationUnitNs: Readonly<Record<DurationUnit, bigint>> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: nsPerSecond,
  m: 60n * nsPerSecond,
  h: 3_600n * nsPerSecond,
  d: nsPerDay,
};

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const pad = (value: number | bigint, width: number): string => String(value).padStart(width, "0");

/** "YYYY-MM-DD HH:MM:SS.fffffffff" in UTC, the way Timestream prints timestamps. */
export function formatTimestampNs(ns: bigint): string {
  let days = ns / nsPerDay;
  let rest = ns % nsPerDay;
  if (rest < 0n) {
    rest += nsPerDay;
    days -= 1n;
  }
  const { year, month, day } = civilFromDays(Number(days));
  const seconds = rest / nsPerSecond;
  const fraction = rest % nsPerSecond;
  const time = `${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}`;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)} ${time}.${pad(fraction, 9)}`;
}

export const timestampLiteralSql = (ns: bigint): string => `TIMESTAMP_NS '${formatTimestampNs(ns)}'`;

export function dateLiteralSql(ns: bigint): string {
  return `DATE '${formatTimestampNs(ns).slice(0, 10)}'`;
}

/** A small reader over a literal's characters. */
class Reader {
  index = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.index >= this.text.length;
  }
  peek(): string {
    return this.text[this.index] ?? "";
  }
  accept(c: string): boolean {
    if (this.peek() !== c) return false;
    this.index++;
    return true;
  }
  /** Reads exactly `count` digits, or returns undefined. */
  digits(count: number): number | undefined {
    const part = this.text.slice(this.index, this.index + count);
    if (part.length !== count || ![...part].every(isDigit)) return undefined;
    this.index += count;
    return Number(part);
  }
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9";

/**
 * Parses the timestamp formats Timestream accepts in literals: `YYYY-MM-DD`, then optionally
 * ` HH:MM[:SS[.f…]]` (or `T` instead of the space), then optionally `Z`, `UTC`, `±HH`, `±HH:MM` or
 * `±HHMM`. Returns nanoseconds since the epoch in UTC, or undefined if the text is not one.
 */
export function parseTimestampNs(text: string): bigint | undefined {
  const r = new Reader(text.trim());
  const year = r.digits(4);
  if (year === undefined || !r.accept("-")) return undefined;
  const month = r.digits(2);
  if (month === undefined || !r.accept("-")) return undefined;
  const day = r.digits(2);
  if (day === undefined || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    return undefined;
  let ns = BigInt(daysFromCivil(year, month, day)) * nsPerDay;
  if (r.done) return ns;
  if (r.accept(" ") || r.accept("T")) {
    const hour = r.digits(2);
    if (hour === undefined || !r.accept(":")) return undefined;
    const minute = r.digits(2);
    if (minute === undefined) return undefined;
    let second = 0;
    let fraction = 0n;
    if (r.accept(":")) {
      const s = r.digits(2);
      if (s === undefined) return undefined;
      second = s;
      if (r.accept(".")) {
        let digits = "";
        while (isDigit(r.peek())) digits += r.text[r.index++];
        if (digits.length === 0 || digits.length > 9) return undefined;
        fraction = BigInt(digits.padEnd(9, "0"));
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return undefined;
    ns += BigInt(hour * 3600 + minute * 60 + second) * nsPerSecond + fraction;
  }
  r.accept(" ");
  if (r.done) return ns;
  const offset = parseOffsetSeconds(r);
  if (offset === undefined || !r.done) return undefined;
  return ns - BigInt(offset) * nsPerSecond;
}

function parseOffsetSeconds(r: Reader): number | undefined {
  if (r.accept("Z")) return 0;
  if (r.text.slice(r.index) === "UTC") {
    r.index = r.text.length;
    return 0;
  }
  const sign = r.accept("+") ? 1 : r.accept("-") ? -1 : 0;
  if (sign === 0) return undefined;
  const hours = r.digits(2);
  if (hours === undefined || hours > 18) return undefined;
  let minutes = 0;
  if (!r.done) {
    r.accept(":");
    const m = r.digits(2);
    if (m === undefined || m > 59) return undefined;
    minutes = m;
  }
  return sign * (hours * 3600 + minutes * 60);
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** `YYYY-MM-DD` only. */
export function parseDateNs(text: string): bigint | undefined {
  const trimmed = text.trim();
  if (trimmed.length !== 10) return undefined;
  return parseTimestampNs(trimmed);
}

/**
 * A fixed length of time as a DuckDB INTERVAL, in the largest unit that divides it exactly.
 * DuckDB intervals stop at microseconds, so anything finer returns undefined.
 */
export function intervalSql(ns: bigint): string | undefined {
  if (ns % nsPerMicro !== 0n) return undefined;
  const units: [string, bigint][] = [
    ["HOUR", durationUnitNs.h],
    ["MINUTE", durationUnitNs.m],
    ["SECOND", durationUnitNs.s],
    ["MILLISECOND", durationUnitNs.ms],
    ["MICROSECOND", durationUnitNs.us],
  ];
  for (const [unit, size] of units) {
    if (ns % size !== 0n) continue;
    // DuckDB's parser takes only a 32-bit count after INTERVAL; a parenthesised one can be larger.
    const count = ns / size;
    return count > 2_147_483_647n ? `INTERVAL (${count}) ${unit}` : `INTERVAL ${count} ${unit}`;
  }
  return undefined;
}

/** `3.5 h`, `1h`, `250ms`: Presto's parse_duration format. */
export function parseDurationNs(text: string): bigint | undefined {
  const trimmed = text.trim();
  let k = 0;
  while (k < trimmed.length && (isDigit(trimmed[k]!) || trimmed[k] === ".")) k++;
  const amount = trimmed.slice(0, k);
  const unit = trimmed.slice(k).trim() as DurationUnit;
  if (amount === "" || !(unit in durationUnitNs) || amount.split(".").length > 2) return undefined;
  const [whole, fraction = ""] = amount.split(".");
  if (fraction.length > 9 || (whole === "" && fraction === "")) return undefined;
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt((whole || "0") + fraction) * durationUnitNs[unit];
  if (scaled % scale !== 0n) return undefined;
  return scaled / scale;
}

/**
 * Timestream's ScheduleExpression (the EventBridge forms: `cron(...)` with six fields, `rate(...)`)
 * turned into the five-field cron the scheduler runs. See
 * https://docs.aws.amazon.com/timestream/latest/developerguide/scheduledqueries-schedule.html
 *
 * - `cron(Minutes Hours Day-of-month Month Day-of-week Year)`: `?` means "any" (it becomes `*`),
 *   day-of-week numbers count 1 = SUN … 7 = SAT (cron counts 0 … 6: they are shifted), the year
 *   must be `*` (a schedule bounded by years is refused, with the reason).
 * - `rate(N minute|minutes|hour|hours|day|days)`: a rate that divides the hour (minutes) or the
 *   day (hours) becomes a cron step; `rate(1 day)` is midnight UTC; other rates are refused,
 *   since the scheduler cuts time along a cron (write the cron form instead).
 */
import { validationError } from "../../errors.js";
import { parseSchedule } from "../schedule.js";

const dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function bad(expression: string, why: string) {
  return validationError(
    `ScheduleConfiguration.ScheduleExpression '${expression}' is not valid: ${why} (write cron(0 * * * ? *) or rate(1 hour))`,
    { awsCode: "ValidationException", expression },
  );
}

/** Shifts AWS day-of-week numbers (1-7, SUN = 1) to cron's (0-6); names and `L`/`#` suffixes stay. */
function dayOfWeek(field: string, expression: string): string {
  if (field === "?" || field === "*") return "*";
  return field.replace(/\d+/g, (digits, offset: number, whole: string) => {
    // The number after `#` is "the Nth weekday of the month": not a day.
    if (offset > 0 && whole[offset - 1] === "#") return digits;
    const n = Number(digits);
    if (n < 1 || n > 7) throw bad(expression, `day-of-week ${n} is outside 1-7 (1 is ${dayNames[0]})`);
    return String(n - 1);
  });
}

/** The five-field cron for a Timestream schedule expression; throws a ValidationException when it has none. */
export function cronOfScheduleExpression(expression: string): string {
  const text = expression.trim();
  const cron = /^cron\((.*)\)$/i.exec(text);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) {
      throw bad(
        expression,
        `cron() takes 6 fields (minutes hours day-of-month month day-of-week year), not ${fields.length}`,
      );
    }
    const [minutes, hours, dayOfMonth, month, weekday, year] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (year !== "*") throw bad(expression, "only * is supported in the year field");
    if (dayOfMonth !== "?" && weekday !== "?") {
      throw bad(expression, "one of day-of-month and day-of-week must be ? (AWS cron rule)");
    }
    if (/W/i.test(dayOfMonth)) throw bad(expression, "the W (nearest weekday) form is not supported");
    const five = [
      minutes,
      hours,
      dayOfMonth === "?" ? "*" : dayOfMonth,
      month,
      dayOfWeek(weekday, expression),
    ].join(" ");
    try {
      parseSchedule(five, "UTC");
    } catch (error) {
      throw bad(expression, error instanceof Error ? error.message : String(error));
    }
    return five;
  }
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/i.exec(text);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!.toLowerCase().replace(/s$/, "");
    if (n < 1) throw bad(expression, "the rate must be at least 1");
    if ((n === 1) !== !rate[2]!.toLowerCase().endsWith("s")) {
      throw bad(
        expression,
        `write rate(1 ${unit}) or rate(${n === 1 ? 2 : n} ${unit}s): AWS refuses ${text}`,
      );
    }
    if (unit === "minute") {
      if (n === 1) return "* * * * *";
      if (60 % n === 0) return `*/${n} * * * *`;
      throw bad(expression, `${n} minutes does not divide the hour; use a cron() expression`);
    }
    if (unit === "hour") {
      if (n === 1) return "0 * * * *";
      if (24 % n === 0) return `0 */${n} * * *`;
      throw bad(expression, `${n} hours does not divide the day; use a cron() expression`);
    }
    if (n === 1) return "0 0 * * *";
    throw bad(expression, "rates of more than one day are not supported; use a cron() expression");
  }
  throw bad(expression, "it must be cron(...) with 6 fields or rate(N minutes|hours|days)");
}

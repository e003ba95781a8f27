/**
 * Timestream's date and time functions. Everything is UTC. Where the answer is known while
 * translating (now(), ago(15m), from_iso8601_timestamp('…')), it is printed as a literal, so that a
 * filter like `time > ago(15m)` stays a plain comparison DuckDB can push into the scan.
 */
import type { CallExpr } from "./ast.js";
import { type FunctionSpec, literalString, scalar, scalarWith } from "./function-spec.js";
import { quoteString } from "./quote.js";
import { syntaxError } from "./syntax-error.js";
import {
  dateLiteralSql,
  durationUnitNs,
  intervalSql,
  parseDateNs,
  parseDurationNs,
  parseTimestampNs,
  timestampLiteralSql,
} from "./timestamps.js";
import { exactDurationNs, translateExpr, translateExtract } from "./translate-expression.js";
import { coerceTo } from "./translate-literal.js";
import { isInteger } from "./types.js";

/** DuckDB's time_bucket aligns to 2000-01-03 unless told otherwise; Timestream aligns to the epoch. */
const duckdbDefaultOriginNs = 10_959n * durationUnitNs.d;

const bin: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 2,
  translate(call, ctx) {
    const widthNs = exactDurationNs(call.args[1]!);
    if (widthNs === undefined || widthNs <= 0n) {
      throw syntaxError(
        call.args[1]!.pos,
        "bin() needs a positive duration literal such as 15s as its second argument",
      );
    }
    const value = translateExpr(call.args[0]!, ctx);
    if (value.timestampNs !== undefined) {
      const ns = floorTo(value.timestampNs, widthNs);
      return { sql: timestampLiteralSql(ns), type: "timestamp", timestampNs: ns };
    }
    const interval = widthNs % durationUnitNs.us === 0n ? intervalSql(widthNs) : undefined;
    if (interval === undefined) {
      return {
        sql: `make_timestamp_ns((epoch_ns(${value.sql}) // ${widthNs}) * ${widthNs})`,
        type: "timestamp",
      };
    }
    // Pass the epoch as origin only when DuckDB's default origin would give different bins:
    // the plain form is what a hand-written query uses, and is as fast as it gets.
    const origin = duckdbDefaultOriginNs % widthNs === 0n ? "" : ", TIMESTAMP '1970-01-01 00:00:00'";
    return { sql: `time_bucket(${interval}, ${value.sql}${origin})`, type: "timestamp" };
  },
};

function floorTo(ns: bigint, widthNs: bigint): bigint {
  const remainder = ((ns % widthNs) + widthNs) % widthNs;
  return ns - remainder;
}

const ago: FunctionSpec = {
  kind: "scalar",
  minArgs: 1,
  maxArgs: 1,
  translate(call, ctx) {
    const nowNs = ctx.options.nowNs;
    const durationNs = exactDurationNs(call.args[0]!);
    if (durationNs !== undefined) {
      return {
        sql: timestampLiteralSql(nowNs - durationNs),
        type: "timestamp",
        timestampNs: nowNs - durationNs,
      };
    }
    const interval = translateExpr(call.args[0]!, ctx);
    if (interval.type !== "interval" && interval.type !== "unknown") {
      throw syntaxError(call.args[0]!.pos, "ago() needs a duration such as 15m");
    }
    return { sql: `(${timestampLiteralSql(nowNs)} - ${interval.sql})`, type: "timestamp" };
  },
};

const now: FunctionSpec = {
  kind: "scalar",
  minArgs: 0,
  maxArgs: 0,
  translate: (_call, ctx) => ({
    sql: timestampLiteralSql(ctx.options.nowNs),
    type: "timestamp",
    timestampNs: ctx.options.nowNs,
  }),
};

const truncUnits = new Set([
  "millisecond",
  "second",
  "minute",
  "hour",
  "day",
  "week",
  "month",
  "quarter",
  "year",
]);

function unitArg(call: CallExpr, what: string): string {
  const unit = literalString(call.args[0], `${what}'s unit`, call.pos).toLowerCase();
  if (!truncUnits.has(unit)) {
    throw syntaxError(
      call.args[0]!.pos,
      `${what} does not know the unit '${unit}' (use ${[...truncUnits].join(", ")})`,
    );
  }
  return unit;
}

const dateTrunc = scalarWith(2, 2, (args, call) => {
  const unit = unitArg(call, "date_trunc");
  return {
    sql: `date_trunc('${unit}', ${args[1]!.sql})`,
    type: args[1]!.type === "date" ? "date" : "timestamp",
  };
});

const fixedUnitNs: Record<string, bigint> = {
  millisecond: durationUnitNs.ms,
  second: durationUnitNs.s,
  minute: durationUnitNs.m,
  hour: durationUnitNs.h,
  day: durationUnitNs.d,
  week: 7n * durationUnitNs.d,
};

const dateAdd: FunctionSpec = {
  kind: "scalar",
  minArgs: 3,
  maxArgs: 3,
  translate(call, ctx) {
    const unit = unitArg(call, "date_add");
    const amount = translateExpr(call.args[1]!, ctx);
    const value = coerceTo(call.args[2]!, translateExpr(call.args[2]!, ctx), "timestamp");
    const unitNs = fixedUnitNs[unit];
    if (unitNs !== undefined && value.type === "timestamp") {
      const literal = call.args[1]!.kind === "number" ? BigInt(call.args[1]!.text) : undefined;
      if (literal !== undefined && value.timestampNs !== undefined) {
        const ns = value.timestampNs + literal * unitNs;
        return { sql: timestampLiteralSql(ns), type: "timestamp", timestampNs: ns };
      }
      return {
        sql: `make_timestamp_ns(epoch_ns(${value.sql}) + CAST(${amount.sql} AS BIGINT) * ${unitNs})`,
        type: "timestamp",
      };
    }
    const interval = unit === "quarter" ? `to_months(3 * ${amount.sql})` : `to_${unit}s(${amount.sql})`;
    return { sql: `(${value.sql} + ${interval})`, type: value.type };
  },
};

const dateDiff: FunctionSpec = {
  kind: "scalar",
  minArgs: 3,
  maxArgs: 3,
  translate(call, ctx) {
    const unit = unitArg(call, "date_diff");
    const [from, to] = [call.args[1]!, call.args[2]!].map((arg) =>
      coerceTo(arg, translateExpr(arg, ctx), "timestamp"),
    );
    // DuckDB's date_sub counts whole units elapsed, as Presto's date_diff does (date_diff counts boundaries).
    return { sql: `date_sub('${unit}', ${from!.sql}, ${to!.sql})`, type: "bigint" };
  },
};

/** from_milliseconds / from_nanoseconds / from_unixtime: a number of units since the epoch. */
function fromEpoch(unitNs: bigint): FunctionSpec {
  return scalarWith(1, 1, (args, call) => {
    const arg = call.args[0]!;
    if (arg.kind === "number" && [...arg.text].every((c) => c >= "0" && c <= "9")) {
      const ns = BigInt(arg.text) * unitNs;
      return { sql: timestampLiteralSql(ns), type: "timestamp", timestampNs: ns };
    }
    const value = args[0]!;
    const sql = isInteger(value.type)
      ? `make_timestamp_ns(CAST(${value.sql} AS BIGINT) * ${unitNs})`
      : `make_timestamp_ns(CAST(round(${value.sql} * ${unitNs}) AS BIGINT))`;
    return { sql, type: "timestamp" };
  });
}

const bigintLiteral = (value: bigint) => ({ sql: `CAST(${value} AS BIGINT)`, type: "bigint" as const });

/** to_milliseconds / to_nanoseconds: the length of an interval, or a timestamp's time since the epoch. */
function toEpochUnits(unitNs: bigint, timestampFn: string): FunctionSpec {
  return {
    kind: "scalar",
    minArgs: 1,
    maxArgs: 1,
    translate(call, ctx) {
      const arg = call.args[0]!;
      // A duration literal may be finer than DuckDB's intervals (5ns): use its exact length.
      const exactNs = exactDurationNs(arg);
      if (exactNs !== undefined) return bigintLiteral(exactNs / unitNs);
      const value = translateExpr(arg, ctx);
      const knownNs = value.durationNs ?? value.timestampNs;
      if (knownNs !== undefined) return bigintLiteral(knownNs / unitNs);
      if (value.type === "interval") {
        const micros = `epoch_us(${value.sql})`;
        const sql =
          unitNs >= 1_000n ? `(${micros} // ${unitNs / 1_000n})` : `(${micros} * ${1_000n / unitNs})`;
        return { sql, type: "bigint" };
      }
      return { sql: `${timestampFn}(${value.sql})`, type: "bigint" };
    },
  };
}

const fromIso8601Timestamp = scalarWith(1, 1, (args, call) => {
  const arg = call.args[0]!;
  if (arg.kind === "string") {
    const ns = parseTimestampNs(arg.value);
    if (ns === undefined) throw syntaxError(arg.pos, `'${arg.value}' is not an ISO 8601 timestamp`);
    return { sql: timestampLiteralSql(ns), type: "timestamp", timestampNs: ns };
  }
  // TIMESTAMPTZ honours the offset in the text; timezone('UTC', …) turns it back into UTC wall time.
  return {
    sql: `CAST(timezone('UTC', CAST(${args[0]!.sql} AS TIMESTAMPTZ)) AS TIMESTAMP_NS)`,
    type: "timestamp",
  };
});

const fromIso8601Date = scalarWith(1, 1, (args, call) => {
  const arg = call.args[0]!;
  if (arg.kind === "string") {
    const ns = parseDateNs(arg.value);
    if (ns === undefined) throw syntaxError(arg.pos, `'${arg.value}' is not an ISO 8601 date`);
    return { sql: dateLiteralSql(ns), type: "date" };
  }
  return { sql: `CAST(${args[0]!.sql} AS DATE)`, type: "date" };
});

const toIso8601 = scalarWith(1, 1, (args) => {
  const value = args[0]!;
  if (value.type === "date") return { sql: `strftime(${value.sql}, '%Y-%m-%d')`, type: "varchar" };
  // '%n' must end the format: DuckDB 1.5 garbles text printed after it ('%nZ' gives '…000Z00').
  return { sql: `(strftime(${value.sql}, '%Y-%m-%dT%H:%M:%S.%n') || 'Z')`, type: "varchar" };
});

/** MySQL-style format specifiers (Presto's date_format/date_parse) to strftime's. */
const mysqlToStrftime: Record<string, string> = {
  a: "%a",
  b: "%b",
  c: "%-m",
  d: "%d",
  e: "%-d",
  f: "%f",
  H: "%H",
  h: "%I",
  I: "%I",
  i: "%M",
  j: "%j",
  k: "%-H",
  l: "%-I",
  M: "%B",
  m: "%m",
  p: "%p",
  r: "%I:%M:%S %p",
  S: "%S",
  s: "%S",
  T: "%H:%M:%S",
  W: "%A",
  Y: "%Y",
  y: "%y",
  "%": "%%",
};

function convertFormat(format: string, pos: CallExpr["pos"]): string {
  let out = "";
  for (let k = 0; k < format.length; k++) {
    const c = format[k]!;
    if (c !== "%") {
      out += c;
      continue;
    }
    const spec = format[++k];
    const mapped = spec === undefined ? undefined : mysqlToStrftime[spec];
    if (mapped === undefined)
      throw syntaxError(pos, `the date format specifier %${spec ?? ""} is not supported`);
    out += mapped;
  }
  return out;
}

const dateFormat = scalarWith(2, 2, (args, call) => {
  const format = convertFormat(
    literalString(call.args[1], "date_format's format", call.pos),
    call.args[1]!.pos,
  );
  return { sql: `strftime(${args[0]!.sql}, ${quoteString(format)})`, type: "varchar" };
});

const dateParse = scalarWith(2, 2, (args, call) => {
  const format = convertFormat(
    literalString(call.args[1], "date_parse's format", call.pos),
    call.args[1]!.pos,
  );
  return {
    sql: `CAST(strptime(${args[0]!.sql}, ${quoteString(format)}) AS TIMESTAMP_NS)`,
    type: "timestamp",
  };
});

const parseDuration = scalarWith(1, 1, (_args, call) => {
  const text = literalString(call.args[0], "parse_duration's argument", call.pos);
  const ns = parseDurationNs(text);
  const sql = ns === undefined ? undefined : intervalSql(ns);
  if (ns === undefined || sql === undefined) {
    throw syntaxError(call.args[0]!.pos, `'${text}' is not a duration such as '1h' or '3.5 m'`);
  }
  return { sql, type: "interval", durationNs: ns };
});

function extractAs(field: string): FunctionSpec {
  return scalarWith(1, 1, (args, call) => translateExtract(field, args[0]!, call.pos));
}

export const timeFunctions: Record<string, FunctionSpec> = {
  bin,
  ago,
  now,
  date_trunc: dateTrunc,
  date_add: dateAdd,
  date_diff: dateDiff,
  from_milliseconds: fromEpoch(durationUnitNs.ms),
  from_nanoseconds: fromEpoch(1n),
  from_unixtime: fromEpoch(durationUnitNs.s),
  to_milliseconds: toEpochUnits(durationUnitNs.ms, "epoch_ms"),
  to_nanoseconds: toEpochUnits(1n, "epoch_ns"),
  to_unixtime: scalar("epoch", 1, 1, "double"),
  from_iso8601_timestamp: fromIso8601Timestamp,
  from_iso8601_date: fromIso8601Date,
  to_iso8601: toIso8601,
  date_format: dateFormat,
  date_parse: dateParse,
  parse_duration: parseDuration,
  date: scalarWith(1, 1, (args, call) => {
    const value = coerceTo(call.args[0]!, args[0]!, "date");
    return value.type === "date" ? value : { sql: `CAST(${value.sql} AS DATE)`, type: "date" };
  }),
  last_day_of_month: scalar("last_day", 1, 1, "date"),
  current_timezone: scalarWith(0, 0, () => ({ sql: "'UTC'", type: "varchar" })),
  year: extractAs("YEAR"),
  quarter: extractAs("QUARTER"),
  month: extractAs("MONTH"),
  week: extractAs("WEEK"),
  week_of_year: extractAs("WEEK"),
  day: extractAs("DAY"),
  day_of_month: extractAs("DAY"),
  day_of_week: extractAs("DAY_OF_WEEK"),
  dow: extractAs("DAY_OF_WEEK"),
  day_of_year: extractAs("DAY_OF_YEAR"),
  doy: extractAs("DAY_OF_YEAR"),
  year_of_week: extractAs("YEAR_OF_WEEK"),
  yow: extractAs("YEAR_OF_WEEK"),
  hour: extractAs("HOUR"),
  minute: extractAs("MINUTE"),
  second: extractAs("SECOND"),
  millisecond: extractAs("MILLISECOND"),
};

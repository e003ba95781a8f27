/**
 * Single-measure values and times as the store's columnar write takes them (numbers, bigints,
 * strings, booleans; epoch nanoseconds), with the reasons a text is refused. Both the fast scanner
 * and the general mapping go through here, so a record gives the same row, or the same reason,
 * whichever path read it.
 *
 * The checks are WriteRecords' own (src/store/records.ts): what the store would refuse for a text
 * value is refused here with the same words, since the columnar write gets numbers, not texts.
 */

import type { ScalarMeasureValueType, TimeUnit } from "../../store/index.js";
import { decimalValue } from "../../store/records.js";

export type ColumnValue = number | bigint | string | boolean;

/** A reason a text cannot be stored; a row value or time is never a string of this shape. */
export class ValueProblem {
  constructor(readonly reason: string) {}
}

export const DIGITS = /^\d{1,19}$/;
export const SIGNED_DIGITS = /^-?\d{1,19}$/;
/** Longest payload text quoted in a reason. */
const quoteMaxChars = 60;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Integers of at most 15 digits are exact as doubles: no BigInt needed. */
const maxExactDigits = 15;

export const TIME_UNIT_NS: Readonly<Record<TimeUnit, bigint>> = {
  NANOSECONDS: 1n,
  MICROSECONDS: 1_000n,
  MILLISECONDS: 1_000_000n,
  SECONDS: 1_000_000_000n,
};

export function quote(text: string): string {
  return text.length > quoteMaxChars ? `${text.slice(0, quoteMaxChars)}…` : text;
}

/** Why `text` is not a MeasureValue of `type` (the general mapping's check), or null when it is. */
export function valueProblem(type: ScalarMeasureValueType, text: string): string | null {
  switch (type) {
    case "DOUBLE":
      return Number.isFinite(decimalValue(text)) ? null : `'${quote(text)}' is not a DOUBLE`;
    case "BIGINT":
      return SIGNED_DIGITS.test(text) ? null : `'${quote(text)}' is not a BIGINT`;
    case "BOOLEAN": {
      const lower = text.toLowerCase();
      return lower === "true" || lower === "false" ? null : `'${quote(text)}' is not a BOOLEAN`;
    }
    case "TIMESTAMP":
      return DIGITS.test(text) ? null : `'${quote(text)}' is not a TIMESTAMP (epoch integer)`;
    default:
      return null;
  }
}

/** The store value of MeasureValue `text` of `type` (times of TIMESTAMP values in `unit`). */
export function columnValue(
  type: ScalarMeasureValueType,
  text: string,
  unit: TimeUnit,
): ColumnValue | ValueProblem {
  switch (type) {
    case "DOUBLE": {
      // Number() alone would also take "0x10", " 1" and "Infinity"; the store's pattern decides.
      const value = decimalValue(text);
      if (Number.isFinite(value)) return value;
      return new ValueProblem(`MeasureValue '${quote(text)}' is not a DOUBLE`);
    }
    case "VARCHAR":
      return text;
    case "BIGINT": {
      const problem = valueProblem(type, text);
      if (problem) return new ValueProblem(`MeasureValue ${problem}`);
      if (text.length <= maxExactDigits) return Number(text);
      const value = BigInt(text);
      if (value < INT64_MIN || value > INT64_MAX) {
        return new ValueProblem(`MeasureValue '${text}' is out of BIGINT range`);
      }
      return value;
    }
    case "BOOLEAN": {
      const problem = valueProblem(type, text);
      return problem ? new ValueProblem(`MeasureValue ${problem}`) : text.toLowerCase() === "true";
    }
    default: {
      const problem = valueProblem(type, text);
      if (problem) return new ValueProblem(`MeasureValue ${problem}`);
      const ns = BigInt(text) * TIME_UNIT_NS[unit];
      if (ns > INT64_MAX) return new ValueProblem(`MeasureValue '${text}' is out of TIMESTAMP range`);
      return ns;
    }
  }
}

/**
 * Epoch nanoseconds of a record's Time text (already checked to be 1-19 digits) in `unit`. The
 * records of a loop share their time: the last answer is kept, so its BigInt is made once.
 */
export class TimeParser {
  private lastText = "";
  private lastUnit: TimeUnit = "MILLISECONDS";
  private lastNs: bigint | ValueProblem = 0n;

  timeNs(text: string, unit: TimeUnit): bigint | ValueProblem {
    if (text === this.lastText && unit === this.lastUnit) return this.lastNs;
    const ns = BigInt(text) * TIME_UNIT_NS[unit];
    this.lastText = text;
    this.lastUnit = unit;
    this.lastNs = ns > INT64_MAX ? new ValueProblem(`Time '${text}' ${unit} is out of range`) : ns;
    return this.lastNs;
  }
}

/**
 * Input checks at the store's boundary: a bad argument is a ValidationError naming the argument,
 * not a constraint failure deep in SQL.
 */
import { validationError } from "../../errors.js";

export function checkEpochMs(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw validationError(`${name} must be a time in epoch milliseconds (an integer), got ${String(value)}`, {
      [name]: value,
    });
  }
  return value;
}

export function checkOptionalEpochMs(name: string, value: unknown): number | null {
  return value === null || value === undefined ? null : checkEpochMs(name, value);
}

export function checkInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw validationError(`${name} must be an integer >= ${min}, got ${String(value)}`, { [name]: value });
  }
  return value;
}

export function checkText(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw validationError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`, {
      [name]: value,
    });
  }
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw validationError(`${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`, {
      [name]: value,
    });
  }
  return value as T;
}

export function checkInterval(name: string, interval: { start: unknown; end: unknown }, allowEmpty: boolean) {
  const start = checkEpochMs(`${name}.start`, interval.start);
  const end = checkEpochMs(`${name}.end`, interval.end);
  if (allowEmpty ? start > end : start >= end) {
    throw validationError(`${name} must have start ${allowEmpty ? "<=" : "<"} end, got [${start}, ${end})`, {
      start,
      end,
    });
  }
  return { start, end };
}

export function checkConf(value: unknown): string {
  if (value === undefined) return "{}";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw validationError("conf must be a JSON object", { conf: value });
  }
  return JSON.stringify(value);
}

/** Checks every item of an optional list against `allowed`, naming the bad item by index. */
export function checkEachOneOf<T extends string>(
  name: string,
  values: readonly unknown[] | undefined,
  allowed: readonly T[],
) {
  for (const [index, value] of (values ?? []).entries()) checkOneOf(`${name}[${index}]`, value, allowed);
}

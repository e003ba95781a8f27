/** Property comparison for plans: key-order-free equality and the fields that differ. */
import type { Properties } from "./resources.js";

export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The fields of `wanted` whose value in `have` differs. */
export function differingFields(wanted: Properties, have: Properties): string[] {
  return Object.keys(wanted).filter((k) => !same(wanted[k], have[k]));
}

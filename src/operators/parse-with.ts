/**
 * Checks operator arguments and export requests against a zod schema, turning every problem into
 * one ValidationError that names the field: `invalid export operator: format: Invalid option: …`.
 */
import type { z } from "zod";
import { validationError } from "../errors.js";

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.map(String).join(".");
    return where === "" ? issue.message : `${where}: ${issue.message}`;
  });
  throw validationError(`invalid ${what}: ${problems.join("; ")}`, { problems });
}

/**
 * The SQL check operator. Without expectations it follows Airflow's SQLCheckOperator: the check
 * fails if the query returns no row, or if any value in the first row is false, 0, empty or null
 * (Python's truthiness). With `expect`, it checks the row count (exact, at least, at most) and the
 * first column of the first row. The failure says what was expected and what came back.
 */
import { z } from "zod";
import { validationError } from "../errors.js";
import type { ColumnInfo, Datum } from "../store/index.js";
import { renderTemplate, type TaskContext } from "../workflows/index.js";
import { throwIfAborted } from "./abort.js";
import type { TaskServices } from "./contract.js";
import { parseWith } from "./parse-with.js";

export interface SqlCheckExpectations {
  rows?: number;
  minRows?: number;
  maxRows?: number;
  /** The first column of the first row. */
  firstValue?: string | number | boolean;
}

export interface SqlCheckOptions {
  /** Timestream SQL; a template. */
  query: string;
  expect?: SqlCheckExpectations;
}

export interface SqlCheckDescriptor {
  kind: "sqlCheck";
  query: string;
  expect: SqlCheckExpectations | null;
  [field: string]: unknown;
}

export interface SqlCheckResult {
  rows: number;
  /** The first row by column name; values as Timestream returns them (text), null for NULL. */
  firstRow: Record<string, string | null> | null;
}

const count = z.number().int().min(0);
const expectSchema = z
  .strictObject({
    rows: count.optional(),
    minRows: count.optional(),
    maxRows: count.optional(),
    firstValue: z.union([z.string(), z.number(), z.boolean()]).optional(),
  })
  .refine((e) => e.minRows === undefined || e.maxRows === undefined || e.minRows <= e.maxRows, {
    message: "minRows is greater than maxRows",
  })
  .refine((e) => Object.values(e).some((v) => v !== undefined), {
    message: "expect needs at least one of rows, minRows, maxRows, firstValue (or leave it out)",
  });

const query = z.string().refine((text) => text.trim() !== "", "the query is empty");
const optionsSchema = z.strictObject({ query, expect: expectSchema.optional() });
const descriptorSchema = z.strictObject({
  kind: z.literal("sqlCheck"),
  query,
  expect: expectSchema.nullable(),
});

/** Describes a SQL check task; throws a ValidationError (at DAG load time) for a bad option. */
export function sqlCheck(options: SqlCheckOptions): SqlCheckDescriptor {
  const o = parseWith(optionsSchema, options, "sqlCheck operator");
  return Object.freeze({
    kind: "sqlCheck",
    query: o.query,
    expect: o.expect === undefined ? null : Object.freeze({ ...o.expect }),
  });
}

export async function runSqlCheck(
  descriptor: unknown,
  ctx: TaskContext,
  services: TaskServices,
): Promise<SqlCheckResult> {
  const d = parseWith(descriptorSchema, descriptor, "sqlCheck operator");
  const sql = renderTemplate(d.query, ctx);
  ctx.log(`Running SQL check: ${sql}`);
  let page = await services.store.query({ QueryString: sql });
  const columns = page.ColumnInfo;
  const first = page.Rows[0]?.Data ?? null;
  let rows = page.Rows.length;
  while (page.NextToken !== undefined) {
    throwIfAborted(ctx.signal, "the SQL check");
    page = await services.store.query({ QueryString: sql, NextToken: page.NextToken });
    rows += page.Rows.length;
  }
  const problem =
    d.expect === null ? airflowProblem(columns, first) : expectationProblem(d.expect, columns, first, rows);
  if (problem !== null) {
    throw validationError(`SQL check failed: ${problem}. Query: ${sql}`, { rows });
  }
  const firstRow =
    first === null ? null : Object.fromEntries(columns.map((c, i) => [nameOf(c, i), textOf(first[i])]));
  ctx.log(`SQL check passed: ${rows} row${rows === 1 ? "" : "s"}`);
  return { rows, firstRow };
}

function airflowProblem(columns: ColumnInfo[], first: Datum[] | null): string | null {
  if (first === null) return "expected at least one row, got none";
  const falsy = columns.findIndex((column, i) => !isTruthy(column, first[i]));
  if (falsy === -1) return null;
  return `expected every value in the first row to be true, non-zero and non-empty, got ${shown(first[falsy])} in column ${nameOf(columns[falsy]!, falsy)}`;
}

function expectationProblem(
  expect: SqlCheckExpectations,
  columns: ColumnInfo[],
  first: Datum[] | null,
  rows: number,
): string | null {
  const got = `got ${rows} row${rows === 1 ? "" : "s"}`;
  if (expect.rows !== undefined && rows !== expect.rows)
    return `expected exactly ${expect.rows} rows, ${got}`;
  if (expect.minRows !== undefined && rows < expect.minRows)
    return `expected at least ${expect.minRows} rows, ${got}`;
  if (expect.maxRows !== undefined && rows > expect.maxRows)
    return `expected at most ${expect.maxRows} rows, ${got}`;
  if (expect.firstValue !== undefined) {
    const wanted = JSON.stringify(expect.firstValue);
    if (first === null || first.length === 0) return `expected the first value to be ${wanted}, got no rows`;
    if (!sameValue(expect.firstValue, first[0])) {
      return `expected the first value (column ${nameOf(columns[0]!, 0)}) to be ${wanted}, got ${shown(first[0])}`;
    }
  }
  return null;
}

/** Python's bool() of the value Timestream sent as text, by its column type. */
function isTruthy(column: ColumnInfo, datum: Datum | undefined): boolean {
  if (datum === undefined || datum.NullValue === true) return false;
  if (datum.ArrayValue !== undefined) return datum.ArrayValue.length > 0;
  if (datum.TimeSeriesValue !== undefined) return datum.TimeSeriesValue.length > 0;
  if (datum.ScalarValue === undefined) return true;
  const value = datum.ScalarValue;
  switch (column.Type.ScalarType) {
    case "BOOLEAN":
      return value !== "false";
    case "BIGINT":
    case "INTEGER":
    case "DOUBLE":
      return Number(value) !== 0;
    case "VARCHAR":
      return value !== "";
    default:
      return true;
  }
}

function sameValue(expected: string | number | boolean, datum: Datum | undefined): boolean {
  const text = datum?.ScalarValue;
  if (text === undefined) return false;
  if (typeof expected === "number") return text.trim() !== "" && Number(text) === expected;
  return text === String(expected);
}

function textOf(datum: Datum | undefined): string | null {
  if (datum === undefined || datum.NullValue === true) return null;
  return datum.ScalarValue ?? JSON.stringify(datum);
}

function shown(datum: Datum | undefined): string {
  const text = textOf(datum);
  return text === null ? "null" : JSON.stringify(text);
}

const nameOf = (column: ColumnInfo, index: number): string => column.Name ?? `#${index + 1}`;

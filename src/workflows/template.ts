/**
 * `{{ placeholder }}` templates in task arguments (SQL text, paths), with Airflow's names for the
 * values: `{{ ds }}`, `{{ data_interval_start }}`, `{{ params.x }}`, `{{ conf.x }}`, … Only names
 * and dotted paths: no expressions or filters, so a template can never run code. An unknown
 * placeholder is an error naming it, never an empty string in a query.
 */
import { validationError } from "../errors.js";
import type { TaskContext } from "./context.js";
import { isoUtc } from "./time-format.js";

const placeholderPattern = /\{\{([\s\S]*?)\}\}/g;
const pathPattern = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

/** The values a template can name, built from a task context. */
export function templateValues(ctx: TaskContext): Record<string, unknown> {
  return {
    ds: ctx.ds,
    ds_nodash: ctx.dsNodash,
    ts: ctx.ts,
    ts_nodash: ctx.tsNodash,
    logical_date: isoUtc(ctx.logicalDate),
    data_interval_start: isoUtc(ctx.dataIntervalStart),
    data_interval_end: isoUtc(ctx.dataIntervalEnd),
    dag_id: ctx.dagId,
    task_id: ctx.taskId,
    run_id: ctx.runId,
    run_type: ctx.runType,
    try_number: ctx.tryNumber,
    folder: ctx.folder,
    time_filter: ctx.sql.timeFilter(),
    sql: { start: ctx.sql.start, end: ctx.sql.end },
    params: ctx.params,
    conf: ctx.conf,
  };
}

/** Replaces every `{{ name }}` in `text`; throws a ValidationError for an unknown or malformed one. */
export function renderTemplate(text: string, ctx: TaskContext): string {
  if (typeof text !== "string") throw validationError("a template must be a string");
  const unclosed = findUnclosed(text);
  if (unclosed !== -1) {
    throw validationError(
      `unclosed placeholder at offset ${unclosed}: "${text.slice(unclosed, unclosed + 30)}"`,
    );
  }
  const values = templateValues(ctx);
  return text.replace(placeholderPattern, (whole, inner: string) =>
    render(lookup(values, inner.trim(), whole)),
  );
}

function lookup(values: Record<string, unknown>, path: string, whole: string): unknown {
  if (!pathPattern.test(path)) {
    throw validationError(
      `invalid placeholder ${whole}: only names and dotted paths such as {{ params.table }} are allowed`,
    );
  }
  const [head, ...rest] = path.split(".") as [string, ...string[]];
  if (!Object.hasOwn(values, head)) {
    throw validationError(`unknown placeholder ${whole} (known: ${Object.keys(values).join(", ")})`, {
      placeholder: path,
    });
  }
  let current: unknown = values[head];
  let walked = head;
  for (const key of rest) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) {
      throw validationError(`unknown placeholder ${whole}: ${walked} has no field "${key}"`, {
        placeholder: path,
      });
    }
    if (!Object.hasOwn(current, key)) {
      const where =
        walked === "params"
          ? "the DAG has no param"
          : walked === "conf"
            ? "the trigger conf has no key"
            : `${walked} has no field`;
      throw validationError(`unknown placeholder ${whole}: ${where} "${key}"`, { placeholder: path });
    }
    current = (current as Record<string, unknown>)[key];
    walked = `${walked}.${key}`;
  }
  return current;
}

function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (value instanceof Date) return isoUtc(value);
  return JSON.stringify(value) ?? "";
}

/** Offset of a `{{` with no `}}` after it, or -1. */
function findUnclosed(text: string): number {
  let from = 0;
  for (;;) {
    const open = text.indexOf("{{", from);
    if (open === -1) return -1;
    const close = text.indexOf("}}", open + 2);
    if (close === -1) return open;
    from = close + 2;
  }
}

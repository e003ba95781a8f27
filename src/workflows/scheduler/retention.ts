/**
 * Retention warnings for backfills. The seed's backfill of intervals older than the table's
 * retention silently found no data; Hourglass says so before it runs.
 *
 * Which tables a DAG reads is taken from its operator descriptors: every `query` or `sql` string
 * field, rendered for the oldest interval (so `{{ params.table }}` resolves), and the
 * `FROM` / `JOIN "db"."table"` names in it. A task that only has a `run` function is opaque: the
 * plan says its tables could not be checked.
 */
import { createTaskContext } from "../context.js";
import type { Dag } from "../dag.js";
import type { Interval } from "../schedule.js";
import { renderTemplate } from "../template.js";

export interface TableRef {
  database: string;
  table: string;
}

/** The part of the store a retention check needs. */
export interface RetentionSource {
  describeTable(
    database: string,
    table: string,
  ): Promise<{
    RetentionProperties: {
      MemoryStoreRetentionPeriodInHours: number;
      MagneticStoreRetentionPeriodInDays: number;
    };
  }>;
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
const tablePattern =
  /\b(?:FROM|JOIN)\s+("(?:[^"]|"")+"|[A-Za-z_][\w-]*)\s*\.\s*("(?:[^"]|"")+"|[A-Za-z_][\w-]*)/gi;

const unquote = (name: string) => (name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name);

/** `"db"."table"` and `db.table` references after FROM or JOIN. */
export function tablesInSql(sql: string): TableRef[] {
  const found = new Map<string, TableRef>();
  for (const match of sql.matchAll(tablePattern)) {
    const ref = { database: unquote(match[1]!), table: unquote(match[2]!) };
    found.set(`${ref.database}\u0000${ref.table}`, ref);
  }
  return [...found.values()];
}

function sqlFields(value: unknown, out: string[]): void {
  if (typeof value !== "object" || value === null) return;
  for (const [key, field] of Object.entries(value)) {
    if ((key === "query" || key === "sql") && typeof field === "string") out.push(field);
    else if (typeof field === "object") sqlFields(field, out);
  }
}

/** The tables a DAG's operator tasks read, and the tasks whose tables cannot be known. */
export function tablesOfDag(
  dag: Dag,
  interval: Interval,
  params: Record<string, unknown>,
  conf: Record<string, unknown>,
): { tables: TableRef[]; opaqueTasks: string[] } {
  const tables = new Map<string, TableRef>();
  const opaqueTasks: string[] = [];
  for (const task of dag.tasks) {
    if (task.operator === undefined) {
      opaqueTasks.push(task.id);
      continue;
    }
    const texts: string[] = [];
    sqlFields(task.operator, texts);
    const ctx = createTaskContext({
      dagId: dag.id,
      taskId: task.id,
      runType: "backfill",
      dataInterval: interval,
      params,
      conf,
      log: () => {},
    });
    for (const text of texts) {
      let rendered = text;
      try {
        rendered = renderTemplate(text, ctx);
      } catch {
        // An unrenderable template still names its literal tables.
      }
      for (const ref of tablesInSql(rendered)) tables.set(`${ref.database}\u0000${ref.table}`, ref);
    }
  }
  return { tables: [...tables.values()], opaqueTasks };
}

/** Warnings for intervals older than the retention of a table the DAG reads (and unknown tables). */
export async function retentionWarnings(
  source: RetentionSource | undefined,
  dag: Dag,
  intervals: readonly Interval[],
  params: Record<string, unknown>,
  conf: Record<string, unknown>,
  nowMs: number,
): Promise<string[]> {
  if (intervals.length === 0) return [];
  const warnings: string[] = [];
  const { tables, opaqueTasks } = tablesOfDag(dag, intervals[0]!, params, conf);
  if (opaqueTasks.length > 0) {
    warnings.push(
      `task${opaqueTasks.length > 1 ? "s" : ""} ${opaqueTasks.join(", ")} run${opaqueTasks.length > 1 ? "" : "s"} a function: the tables ${opaqueTasks.length > 1 ? "they read" : "it reads"} are not known, so ${opaqueTasks.length > 1 ? "their" : "its"} intervals were not checked against retention`,
    );
  }
  if (source === undefined) return warnings;
  for (const ref of tables) {
    const name = `"${ref.database}"."${ref.table}"`;
    let retention: { MemoryStoreRetentionPeriodInHours: number; MagneticStoreRetentionPeriodInDays: number };
    try {
      retention = (await source.describeTable(ref.database, ref.table)).RetentionProperties;
    } catch (error) {
      warnings.push(
        `table ${name} could not be checked: ${error instanceof Error ? error.message : String(error)}`,
      );
      continue;
    }
    const keptMs =
      retention.MemoryStoreRetentionPeriodInHours * hourMs +
      retention.MagneticStoreRetentionPeriodInDays * dayMs;
    const cutoff = nowMs - keptMs;
    const old = intervals.filter((interval) => interval.start.getTime() < cutoff);
    if (old.length === 0) continue;
    warnings.push(
      `${old.length} of ${intervals.length} intervals start before ${new Date(cutoff).toISOString()}, older than the retention of ${name} (memory ${retention.MemoryStoreRetentionPeriodInHours} h + magnetic ${retention.MagneticStoreRetentionPeriodInDays} d): their data is gone, so they will export nothing (from ${old[0]!.start.toISOString()} to ${old[old.length - 1]!.start.toISOString()})`,
    );
  }
  return warnings;
}

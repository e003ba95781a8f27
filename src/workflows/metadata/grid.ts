/**
 * The grid's read (the web UI's runs x tasks view): only the columns it draws, for every run of a
 * DAG (or those in an interval range) and their task instances, in two queries. Listing full runs
 * and task instances instead parses every run's conf and maps twenty columns a row, which for a
 * year of hourly runs was most of the time.
 */
import type { MetadataDatabase } from "./database.js";
import type { GridRows, Interval, RunState, RunType, TaskState } from "./types.js";

export async function listGrid(
  database: MetadataDatabase,
  filter: { dagId: string; interval?: Interval },
): Promise<GridRows> {
  let runsQuery = database.db
    .selectFrom("dag_runs")
    .select(["id", "run_id", "run_type", "state", "data_interval_start", "data_interval_end"])
    .where("dag_id", "=", filter.dagId);
  let tiQuery = database.db
    .selectFrom("task_instances as ti")
    .innerJoin("dag_runs as r", "r.id", "ti.dag_run_id")
    .select(["ti.dag_run_id", "ti.task_id", "ti.state"])
    .where("r.dag_id", "=", filter.dagId);
  if (filter.interval !== undefined) {
    const { start, end } = filter.interval;
    runsQuery = runsQuery.where("data_interval_start", ">=", start).where("data_interval_end", "<=", end);
    tiQuery = tiQuery.where("r.data_interval_start", ">=", start).where("r.data_interval_end", "<=", end);
  }
  const [runs, taskInstances] = await Promise.all([
    runsQuery.orderBy("logical_date").orderBy("id").execute(),
    tiQuery.execute(),
  ]);
  return {
    runs: runs.map((r) => ({
      id: r.id,
      runId: r.run_id,
      runType: r.run_type as RunType,
      state: r.state as RunState,
      start: r.data_interval_start,
      end: r.data_interval_end,
    })),
    taskInstances: taskInstances.map((t) => ({
      dagRunId: t.dag_run_id,
      taskId: t.task_id,
      state: t.state as TaskState,
    })),
  };
}

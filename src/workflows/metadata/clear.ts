/**
 * Clearing: make finished (or running) task instances run again, keeping their history.
 *
 * Every transaction that touches several tables locks rows in one order, dag_runs, then
 * task_instances, then task_tries, so that two of them on PostgreSQL cannot deadlock.
 */
import { sql } from "kysely";
import { validationError } from "../../errors.js";
import { checkEpochMs, checkInterval, checkText } from "./checks.js";
import type { MetadataDatabase, Queries } from "./database.js";
import { closeRunningTries } from "./task-instances.js";
import type { ClearResult, ClearSelection, TaskInstanceKey } from "./types.js";

const clearedWhileRunning = "cleared while running";
/** Keeps IN lists well below both databases' limits on bound parameters. */
const maxIdsPerStatement = 1000;

/**
 * Resets task instances of one run to `none` as if never queued, keeping try_number (the next
 * claim starts try_number + 1) and granting a fresh allowance of retries. The current try is
 * already in task_tries (claims record every try); a running one is closed there as failed, and
 * the worker's later finishTry no longer matches, so it changes nothing.
 */
export async function resetTaskInstances(
  trx: Queries,
  dagRunId: number,
  taskIds: string[] | null,
  now: number,
): Promise<void> {
  if (taskIds !== null && taskIds.length === 0) return;
  let update = trx
    .updateTable("task_instances")
    .set((eb) => ({
      state: "none",
      max_tries: eb(eb("try_number", "+", eb.ref("retries")), "+", 1),
      next_retry_at: null,
      queued_at: null,
      started_at: null,
      ended_at: null,
      worker_id: null,
      heartbeat_at: null,
      pid: null,
      exit_code: null,
      error: null,
      duration_ms: null,
      log_path: null,
      updated_at: now,
    }))
    .where("dag_run_id", "=", dagRunId);
  if (taskIds !== null) update = update.where("task_id", "in", taskIds);
  await update.execute();
  await closeRunningTries(trx, dagRunId, taskIds, clearedWhileRunning, now);
}

/** A run with cleared task instances is unfinished again: finished runs go back to queued. */
export async function reopenRuns(trx: Queries, dagRunIds: number[], now: number): Promise<void> {
  for (let offset = 0; offset < dagRunIds.length; offset += maxIdsPerStatement) {
    await reopenRunChunk(trx, dagRunIds.slice(offset, offset + maxIdsPerStatement), now);
  }
}

async function reopenRunChunk(trx: Queries, dagRunIds: number[], now: number): Promise<void> {
  await trx
    .updateTable("dag_runs")
    .set((eb) => ({
      state: sql<string>`CASE WHEN state IN ('success', 'failed') THEN 'queued' ELSE state END`,
      started_at: sql<number | null>`CASE WHEN state IN ('success', 'failed') THEN NULL ELSE started_at END`,
      ended_at: null,
      clear_number: eb("clear_number", "+", 1),
      updated_at: now,
    }))
    .where("id", "in", dagRunIds)
    .execute();
}

function checkSelection(selection: ClearSelection) {
  checkText("dagId", selection.dagId);
  if (selection.dagRunIds === undefined && selection.interval === undefined) {
    throw validationError("say which runs to clear: dagRunIds or interval", { dagId: selection.dagId });
  }
  if (selection.interval !== undefined) checkInterval("interval", selection.interval, true);
  for (const list of [selection.taskIds, selection.downstreamTaskIds]) {
    for (const [index, taskId] of (list ?? []).entries()) checkText(`taskIds[${index}]`, taskId);
  }
}

export async function clearTaskInstances(
  database: MetadataDatabase,
  selection: ClearSelection,
  now: number,
): Promise<ClearResult> {
  checkSelection(selection);
  checkEpochMs("now", now);
  if (selection.dagRunIds?.length === 0 || selection.taskIds?.length === 0)
    return { dagRunIds: [], taskInstances: [] };
  return database.write(async (trx) => {
    let primary = trx
      .selectFrom("task_instances")
      .innerJoin("dag_runs", "dag_runs.id", "task_instances.dag_run_id")
      .select(["task_instances.dag_run_id", "task_instances.task_id"])
      .where("dag_runs.dag_id", "=", selection.dagId);
    if (selection.dagRunIds !== undefined) primary = primary.where("dag_runs.id", "in", selection.dagRunIds);
    if (selection.interval !== undefined) {
      primary = primary
        .where("dag_runs.data_interval_start", ">=", selection.interval.start)
        .where("dag_runs.data_interval_end", "<=", selection.interval.end);
    }
    if (selection.taskIds !== undefined)
      primary = primary.where("task_instances.task_id", "in", selection.taskIds);
    if (selection.onlyFailed)
      primary = primary.where("task_instances.state", "in", ["failed", "upstream_failed"]);
    const selected = await primary.execute();

    const byRun = new Map<number, Set<string>>();
    for (const row of selected) {
      const tasks = byRun.get(row.dag_run_id) ?? new Set<string>();
      tasks.add(row.task_id);
      byRun.set(row.dag_run_id, tasks);
    }
    const downstream = selection.downstreamTaskIds ?? [];
    if (downstream.length > 0 && byRun.size > 0) {
      // Downstream tasks are cleared only in runs where something upstream was selected.
      const rows = await trx
        .selectFrom("task_instances")
        .select(["dag_run_id", "task_id"])
        .where("dag_run_id", "in", [...byRun.keys()])
        .where("task_id", "in", downstream)
        .execute();
      for (const row of rows) byRun.get(row.dag_run_id)!.add(row.task_id);
    }

    const dagRunIds = [...byRun.keys()].sort((a, b) => a - b);
    await reopenRuns(trx, dagRunIds, now);
    const taskInstances: TaskInstanceKey[] = [];
    for (const dagRunId of dagRunIds) {
      const taskIds = [...byRun.get(dagRunId)!].sort();
      await resetTaskInstances(trx, dagRunId, taskIds, now);
      for (const taskId of taskIds) taskInstances.push({ dagRunId, taskId });
    }
    return { dagRunIds, taskInstances };
  });
}

/**
 * Task instances (one per task per run) and their tries.
 */
import { notFound, validationError } from "../../errors.js";
import { checkEachOneOf, checkEpochMs, checkInteger, checkOneOf, checkText } from "./checks.js";
import type { MetadataDatabase, Queries } from "./database.js";
import { toTaskInstance, toTaskTry } from "./rows.js";
import {
  type SchedulerTaskState,
  type TaskInstance,
  type TaskInstanceFilter,
  type TaskInstanceKey,
  type TaskSpec,
  type TaskState,
  type TaskTry,
  type TryOutcome,
  type TryRef,
  taskStates,
} from "./types.js";

const schedulerTaskStates: readonly SchedulerTaskState[] = [
  "none",
  "scheduled",
  "queued",
  "upstream_failed",
  "skipped",
];
const lowestPriority = -1_000_000;

function taskRow(dagRunId: number, dagId: string, task: TaskSpec, index: number, now: number) {
  const retries = task.retries === undefined ? 0 : checkInteger(`tasks[${index}].retries`, task.retries, 0);
  return {
    dag_run_id: dagRunId,
    task_id: checkText(`tasks[${index}].taskId`, task.taskId),
    dag_id: dagId,
    state: "none",
    try_number: 0,
    max_tries: retries + 1,
    retries,
    retry_delay_ms:
      task.retryDelayMs === undefined
        ? 0
        : checkInteger(`tasks[${index}].retryDelayMs`, task.retryDelayMs, 0),
    priority:
      task.priority === undefined
        ? 0
        : checkInteger(`tasks[${index}].priority`, task.priority, lowestPriority),
    updated_at: now,
  };
}

/** Validates task specs before a transaction starts, so a bad one fails without touching the database. */
export function checkTaskSpecs(tasks: TaskSpec[]): void {
  if (!Array.isArray(tasks)) throw validationError("tasks must be an array");
  const seen = new Set<string>();
  tasks.forEach((task, index) => {
    taskRow(0, "-", task, index, 0);
    if (seen.has(task.taskId))
      throw validationError(`task ${task.taskId} is listed twice`, { taskId: task.taskId });
    seen.add(task.taskId);
  });
}

export function runNotFound(dagRunId: number) {
  return notFound(`run ${dagRunId} does not exist`, { dagRunId });
}

/** Inserts missing task instances of a run (existing ones are left as they are). */
export async function insertTaskInstances(
  trx: Queries,
  dagRunId: number,
  dagId: string,
  tasks: TaskSpec[],
  now: number,
): Promise<number> {
  if (tasks.length === 0) return 0;
  const rows = tasks.map((task, index) => taskRow(dagRunId, dagId, task, index, now));
  const inserted = await trx
    .insertInto("task_instances")
    .values(rows)
    .onConflict((oc) => oc.columns(["dag_run_id", "task_id"]).doNothing())
    .returning("task_id")
    .execute();
  return inserted.length;
}

export async function createTaskInstances(
  database: MetadataDatabase,
  dagRunId: number,
  tasks: TaskSpec[],
  now: number,
): Promise<number> {
  checkEpochMs("now", now);
  checkTaskSpecs(tasks);
  return database.write(async (trx) => {
    const run = await trx
      .selectFrom("dag_runs")
      .select("dag_id")
      .where("id", "=", dagRunId)
      .executeTakeFirst();
    if (run === undefined) throw runNotFound(dagRunId);
    return insertTaskInstances(trx, dagRunId, run.dag_id, tasks, now);
  });
}

export async function getTaskInstance(
  database: MetadataDatabase,
  key: TaskInstanceKey,
): Promise<TaskInstance | null> {
  const row = await database.db
    .selectFrom("task_instances")
    .selectAll()
    .where("dag_run_id", "=", key.dagRunId)
    .where("task_id", "=", key.taskId)
    .executeTakeFirst();
  return row === undefined ? null : toTaskInstance(row);
}

export async function listTaskInstances(
  database: MetadataDatabase,
  filter: TaskInstanceFilter = {},
): Promise<TaskInstance[]> {
  let query = database.db.selectFrom("task_instances").selectAll();
  if (filter.dagRunId !== undefined) query = query.where("dag_run_id", "=", filter.dagRunId);
  if (filter.dagId !== undefined) query = query.where("dag_id", "=", filter.dagId);
  if (filter.workerId !== undefined) query = query.where("worker_id", "=", filter.workerId);
  if (filter.states !== undefined) {
    checkEachOneOf("states", filter.states, taskStates);
    if (filter.states.length === 0) return [];
    query = query.where("state", "in", filter.states);
  }
  if (filter.taskIds !== undefined) {
    if (filter.taskIds.length === 0) return [];
    query = query.where("task_id", "in", filter.taskIds);
  }
  const rows = await query.orderBy("dag_run_id").orderBy("task_id").execute();
  return rows.map(toTaskInstance);
}

export async function transitionTaskInstances(
  database: MetadataDatabase,
  dagRunId: number,
  taskIds: string[],
  change: { from: TaskState[]; to: SchedulerTaskState },
  now: number,
): Promise<number> {
  checkEpochMs("now", now);
  const to = checkOneOf("to", change.to, schedulerTaskStates);
  if (!Array.isArray(change.from) || change.from.length === 0) {
    throw validationError("from must list at least one state");
  }
  checkEachOneOf("from", change.from, taskStates);
  if (change.from.includes("running")) {
    // A running try is ended by finishTry, clearTaskInstances or markRun, which keep its history.
    throw validationError("a running task instance cannot be moved by transitionTaskInstances", { to });
  }
  if (taskIds.length === 0) return 0;
  const finished = to === "skipped" || to === "upstream_failed";
  return database.write(async (trx) => {
    const result = await trx
      .updateTable("task_instances")
      .set((eb) => ({
        state: to,
        updated_at: now,
        next_retry_at: null,
        queued_at: to === "queued" ? now : eb.ref("queued_at"),
        ended_at: finished ? now : eb.ref("ended_at"),
      }))
      .where("dag_run_id", "=", dagRunId)
      .where("task_id", "in", taskIds)
      .where("state", "in", change.from)
      // The retry delay holds: a task up for retry becomes eligible only once its time has come.
      .where((eb) => eb.or([eb("state", "<>", "up_for_retry"), eb("next_retry_at", "<=", now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  });
}

function checkTryRef(attempt: TryRef): void {
  checkText("workerId", attempt.workerId);
  checkText("taskId", attempt.taskId);
  checkInteger("tryNumber", attempt.tryNumber, 1);
  checkInteger("dagRunId", attempt.dagRunId, 1);
}

/** Narrows a query to the task instance row of `attempt`, if that try is still the current running one. */
function currentTry(attempt: TryRef) {
  return {
    dag_run_id: attempt.dagRunId,
    task_id: attempt.taskId,
    try_number: attempt.tryNumber,
    worker_id: attempt.workerId,
  };
}

export async function recordTaskProcess(
  database: MetadataDatabase,
  attempt: TryRef,
  info: { pid?: number | null; logPath?: string | null },
  now: number,
): Promise<boolean> {
  checkTryRef(attempt);
  checkEpochMs("now", now);
  const pid = info.pid === undefined || info.pid === null ? null : checkInteger("pid", info.pid, 1);
  const logPath = info.logPath ?? null;
  const where = currentTry(attempt);
  return database.write(async (trx) => {
    const result = await trx
      .updateTable("task_instances")
      .set((eb) => ({
        pid: pid ?? eb.ref("pid"),
        log_path: logPath ?? eb.ref("log_path"),
        updated_at: now,
      }))
      .where("dag_run_id", "=", where.dag_run_id)
      .where("task_id", "=", where.task_id)
      .where("try_number", "=", where.try_number)
      .where("worker_id", "=", where.worker_id)
      .where("state", "=", "running")
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await trx
      .updateTable("task_tries")
      .set((eb) => ({ pid: pid ?? eb.ref("pid"), log_path: logPath ?? eb.ref("log_path") }))
      .where("dag_run_id", "=", where.dag_run_id)
      .where("task_id", "=", where.task_id)
      .where("try_number", "=", where.try_number)
      .execute();
    return true;
  });
}

function checkOutcome(outcome: TryOutcome): void {
  checkOneOf("outcome.state", outcome.state, ["success", "skipped", "failed"] as const);
  if (outcome.state === "failed") checkText("outcome.error", outcome.error);
  if (
    outcome.exitCode !== undefined &&
    outcome.exitCode !== null &&
    !Number.isSafeInteger(outcome.exitCode)
  ) {
    throw validationError(`outcome.exitCode must be an integer, got ${outcome.exitCode}`);
  }
}

export async function finishTry(
  database: MetadataDatabase,
  attempt: TryRef,
  outcome: TryOutcome,
  now: number,
): Promise<TaskInstance | null> {
  checkTryRef(attempt);
  checkOutcome(outcome);
  checkEpochMs("now", now);
  const where = currentTry(attempt);
  return database.write(async (trx) => {
    let select = trx
      .selectFrom("task_instances")
      .selectAll()
      .where("dag_run_id", "=", where.dag_run_id)
      .where("task_id", "=", where.task_id)
      .where("try_number", "=", where.try_number)
      .where("worker_id", "=", where.worker_id)
      .where("state", "=", "running");
    // SQLite's transaction already holds the only write lock; PostgreSQL locks just this row.
    if (database.dialect === "postgres") select = select.forUpdate();
    const current = await select.executeTakeFirst();
    if (current === undefined) return null;
    const failed = outcome.state === "failed";
    const retry = failed && outcome.retry !== false && current.try_number < current.max_tries;
    const state = failed ? (retry ? "up_for_retry" : "failed") : outcome.state;
    const error = failed ? outcome.error : null;
    const exitCode = outcome.exitCode ?? null;
    const logPath = outcome.logPath ?? current.log_path;
    const row = await trx
      .updateTable("task_instances")
      .set({
        state,
        ended_at: now,
        duration_ms: current.started_at === null ? null : now - current.started_at,
        exit_code: exitCode,
        error,
        log_path: logPath,
        next_retry_at: retry ? now + current.retry_delay_ms : null,
        updated_at: now,
      })
      .where("dag_run_id", "=", where.dag_run_id)
      .where("task_id", "=", where.task_id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .updateTable("task_tries")
      .set({ state: outcome.state, ended_at: now, exit_code: exitCode, error, log_path: logPath })
      .where("dag_run_id", "=", where.dag_run_id)
      .where("task_id", "=", where.task_id)
      .where("try_number", "=", where.try_number)
      .execute();
    return toTaskInstance(row);
  });
}

export async function findOrphans(
  database: MetadataDatabase,
  heartbeatBefore: number,
): Promise<TaskInstance[]> {
  checkEpochMs("heartbeatBefore", heartbeatBefore);
  const rows = await database.db
    .selectFrom("task_instances")
    .selectAll()
    .where("state", "=", "running")
    .where("heartbeat_at", "<", heartbeatBefore)
    .orderBy("heartbeat_at")
    .execute();
  return rows.map(toTaskInstance);
}

/**
 * Closes, as failed with `error`, the running tries of a run's task instances (all of them, or
 * those in `taskIds`), before the caller moves those task instances out of running.
 */
export async function closeRunningTries(
  trx: Queries,
  dagRunId: number,
  taskIds: string[] | null,
  error: string,
  now: number,
): Promise<void> {
  if (taskIds !== null && taskIds.length === 0) return;
  let update = trx
    .updateTable("task_tries")
    .set({ state: "failed", ended_at: now, error })
    .where("dag_run_id", "=", dagRunId)
    .where("state", "=", "running");
  if (taskIds !== null) update = update.where("task_id", "in", taskIds);
  await update.execute();
}

export async function listTaskTries(database: MetadataDatabase, key: TaskInstanceKey): Promise<TaskTry[]> {
  const rows = await database.db
    .selectFrom("task_tries")
    .selectAll()
    .where("dag_run_id", "=", key.dagRunId)
    .where("task_id", "=", key.taskId)
    .orderBy("try_number")
    .execute();
  return rows.map(toTaskTry);
}

/**
 * Task instances (one per task per run) and their tries.
 */
import type { SelectQueryBuilder } from "kysely";
import { notFound, validationError } from "../../errors.js";
import { checkEachOneOf, checkEpochMs, checkInteger, checkOneOf, checkText } from "./checks.js";
import type { MetadataDatabase, Queries } from "./database.js";
import { toTaskInstance, toTaskTry } from "./rows.js";
import type { MetadataTables } from "./tables.js";
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

/** Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const rowsPerInsert = 1000;

/** Inserts the task instances of runs created in this transaction (they have none yet). */
export async function insertTaskInstancesOfNewRuns(
  trx: Queries,
  runs: ReadonlyArray<{ id: number; dag_id: string }>,
  tasks: TaskSpec[],
  now: number,
): Promise<void> {
  const rows = runs.flatMap((run) =>
    tasks.map((task, index) => taskRow(run.id, run.dag_id, task, index, now)),
  );
  for (let at = 0; at < rows.length; at += rowsPerInsert) {
    await trx
      .insertInto("task_instances")
      .values(rows.slice(at, at + rowsPerInsert))
      .execute();
  }
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

/** Bounds dagRunIds, and with it the statement (within both databases' parameter limits). */
export const maxListedRuns = 1000;

/** The filter's conditions on a task_instances query, or null when it matches nothing. */
function filtered<O>(
  query: SelectQueryBuilder<MetadataTables, "task_instances", O>,
  filter: TaskInstanceFilter,
): SelectQueryBuilder<MetadataTables, "task_instances", O> | null {
  let q = query;
  if (filter.dagRunId !== undefined) q = q.where("dag_run_id", "=", filter.dagRunId);
  if (filter.dagRunIds !== undefined) {
    if (filter.dagRunIds.length === 0) return null;
    if (filter.dagRunIds.length > maxListedRuns) {
      throw validationError(`dagRunIds lists at most ${maxListedRuns} runs, got ${filter.dagRunIds.length}`);
    }
    q = q.where("dag_run_id", "in", filter.dagRunIds);
  }
  if (filter.dagId !== undefined) q = q.where("dag_id", "=", filter.dagId);
  if (filter.workerId !== undefined) q = q.where("worker_id", "=", filter.workerId);
  if (filter.states !== undefined) {
    checkEachOneOf("states", filter.states, taskStates);
    if (filter.states.length === 0) return null;
    q = q.where("state", "in", filter.states);
  }
  if (filter.taskIds !== undefined) {
    if (filter.taskIds.length === 0) return null;
    q = q.where("task_id", "in", filter.taskIds);
  }
  return q;
}

export async function listTaskInstances(
  database: MetadataDatabase,
  filter: TaskInstanceFilter = {},
): Promise<TaskInstance[]> {
  const query = filtered(database.db.selectFrom("task_instances").selectAll(), filter);
  if (query === null) return [];
  const rows = await query.orderBy("dag_run_id").orderBy("task_id").execute();
  return rows.map(toTaskInstance);
}

export async function countTaskInstances(
  database: MetadataDatabase,
  filter: TaskInstanceFilter = {},
): Promise<number> {
  const query = filtered(
    database.db.selectFrom("task_instances").select((eb) => eb.fn.countAll<number>().as("count")),
    filter,
  );
  if (query === null) return 0;
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}

function checkTransition(change: { from: TaskState[]; to: SchedulerTaskState }): SchedulerTaskState {
  const to = checkOneOf("to", change.to, schedulerTaskStates);
  if (!Array.isArray(change.from) || change.from.length === 0) {
    throw validationError("from must list at least one state");
  }
  checkEachOneOf("from", change.from, taskStates);
  if (change.from.includes("running")) {
    // A running try is ended by finishTry, clearTaskInstances or markRun, which keep its history.
    throw validationError("a running task instance cannot be moved by transitionTaskInstances", { to });
  }
  return to;
}

/** The UPDATE of a transition, for the rows the caller narrows it to. */
function transitionUpdate(trx: Queries, change: { from: TaskState[] }, to: SchedulerTaskState, now: number) {
  const finished = to === "skipped" || to === "upstream_failed";
  return (
    trx
      .updateTable("task_instances")
      .set((eb) => ({
        state: to,
        updated_at: now,
        next_retry_at: null,
        queued_at: to === "queued" ? now : eb.ref("queued_at"),
        ended_at: finished ? now : eb.ref("ended_at"),
      }))
      .where("state", "in", change.from)
      // The retry delay holds: a task up for retry becomes eligible only once its time has come.
      .where((eb) => eb.or([eb("state", "<>", "up_for_retry"), eb("next_retry_at", "<=", now)]))
  );
}

export async function transitionTaskInstances(
  database: MetadataDatabase,
  dagRunId: number,
  taskIds: string[],
  change: { from: TaskState[]; to: SchedulerTaskState },
  now: number,
): Promise<number> {
  checkEpochMs("now", now);
  const to = checkTransition(change);
  if (taskIds.length === 0) return 0;
  return database.write(async (trx) => {
    const result = await transitionUpdate(trx, change, to, now)
      .where("dag_run_id", "=", dagRunId)
      .where("task_id", "in", taskIds)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  });
}

/** Task ids per statement of transitionTaskInstancesOfRuns (bounds its parameters). */
const transitionsPerUpdate = 1000;

export async function transitionTaskInstancesOfRuns(
  database: MetadataDatabase,
  selections: ReadonlyArray<{ dagRunId: number; taskIds: string[] }>,
  change: { from: TaskState[]; to: SchedulerTaskState },
  now: number,
): Promise<TaskInstanceKey[]> {
  checkEpochMs("now", now);
  const to = checkTransition(change);
  if (!Array.isArray(selections)) throw validationError("selections must be an array");
  selections.forEach((selection, index) => {
    checkInteger(`selections[${index}].dagRunId`, selection.dagRunId, 1);
    const taskIds: unknown = selection.taskIds;
    if (!Array.isArray(taskIds)) throw validationError(`selections[${index}].taskIds must be an array`);
    for (const [at, taskId] of selection.taskIds.entries())
      checkText(`selections[${index}].taskIds[${at}]`, taskId);
  });
  const wanted = selections.filter((selection) => selection.taskIds.length > 0);
  if (wanted.length === 0) return [];
  // Runs that move the same tasks share one condition: (dag_run_id IN (…) AND task_id IN (…)).
  type Group = { taskIds: string[]; dagRunIds: number[] };
  const groups = new Map<string, Group>();
  for (const { dagRunId, taskIds } of wanted) {
    const key = JSON.stringify([...taskIds].sort());
    const group: Group = groups.get(key) ?? { taskIds, dagRunIds: [] };
    group.dagRunIds.push(dagRunId);
    groups.set(key, group);
  }
  const batches: Group[][] = [[]];
  let size = 0;
  for (const group of groups.values()) {
    for (let at = 0; at < group.dagRunIds.length; at += transitionsPerUpdate) {
      const part = {
        taskIds: group.taskIds,
        dagRunIds: group.dagRunIds.slice(at, at + transitionsPerUpdate),
      };
      const cost = part.taskIds.length + part.dagRunIds.length;
      if (size > 0 && size + cost > transitionsPerUpdate) {
        batches.push([]);
        size = 0;
      }
      batches[batches.length - 1]!.push(part);
      size += cost;
    }
  }
  return database.write(async (trx) => {
    const moved: TaskInstanceKey[] = [];
    for (const batch of batches) {
      const rows = await transitionUpdate(trx, change, to, now)
        .where((eb) =>
          eb.or(
            batch.map((part) =>
              eb.and([eb("dag_run_id", "in", part.dagRunIds), eb("task_id", "in", part.taskIds)]),
            ),
          ),
        )
        .returning(["dag_run_id", "task_id"])
        .execute();
      for (const row of rows) moved.push({ dagRunId: row.dag_run_id, taskId: row.task_id });
    }
    return moved;
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
  const failed = outcome.state === "failed";
  // A failure is retried while tries remain, unless the outcome says retrying cannot help.
  const retry = failed && outcome.retry !== false;
  const error = failed ? outcome.error : null;
  const exitCode = outcome.exitCode ?? null;
  const logPath = outcome.logPath ?? null;
  const codeVersion = outcome.codeVersion ?? null;
  return database.write(async (trx) => {
    // One statement reads and ends the try: the WHERE is the compare-and-set (this worker's
    // current running try), and PostgreSQL's row lock makes a concurrent clear or mark wait or win.
    const row = await trx
      .updateTable("task_instances")
      .set((eb) => {
        const triesLeft = eb("try_number", "<", eb.ref("max_tries"));
        return {
          state: retry
            ? eb.case().when(triesLeft).then("up_for_retry").else("failed").end()
            : failed
              ? "failed"
              : outcome.state,
          ended_at: now,
          duration_ms: eb
            .case()
            .when("started_at", "is", null)
            .then(null)
            .else(eb(eb.val(now), "-", eb.ref("started_at")))
            .end(),
          exit_code: exitCode,
          error,
          log_path: logPath ?? eb.ref("log_path"),
          code_version: codeVersion ?? eb.ref("code_version"),
          next_retry_at: retry
            ? eb
                .case()
                .when(triesLeft)
                .then(eb(eb.val(now), "+", eb.ref("retry_delay_ms")))
                .else(null)
                .end()
            : null,
          updated_at: now,
        };
      })
      .where("dag_run_id", "=", where.dag_run_id)
      .where("task_id", "=", where.task_id)
      .where("try_number", "=", where.try_number)
      .where("worker_id", "=", where.worker_id)
      .where("state", "=", "running")
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) return null;
    await trx
      .updateTable("task_tries")
      .set({
        state: outcome.state,
        ended_at: now,
        exit_code: exitCode,
        error,
        log_path: row.log_path,
        code_version: codeVersion,
      })
      .where("dag_run_id", "=", where.dag_run_id)
      .where("task_id", "=", where.task_id)
      .where("try_number", "=", where.try_number)
      .execute();
    // The run shows the version its latest try ran: after a DAG file changed and the run was
    // cleared, the one that wrote its current output (the export manifest names the same).
    if (codeVersion !== null) {
      await trx
        .updateTable("dag_runs")
        .set({ code_version: codeVersion })
        .where("id", "=", where.dag_run_id)
        .execute();
    }
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

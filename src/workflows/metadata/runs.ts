/**
 * DAG runs: creation under the one-run-per-interval rule, listing, state changes and counts.
 */
import { HourglassError, notFound, validationError } from "../../errors.js";
import { isoUtc } from "../time-format.js";
import {
  checkConf,
  checkEachOneOf,
  checkEpochMs,
  checkInteger,
  checkInterval,
  checkOneOf,
  checkText,
} from "./checks.js";
import type { MetadataDatabase, Queries } from "./database.js";
import { toRun } from "./rows.js";
import { checkTaskSpecs, closeRunningTries, insertTaskInstances } from "./task-instances.js";
import {
  type ActiveCounts,
  type CreateRunInput,
  type CreateRunResult,
  type DagRun,
  type RunFilter,
  type RunState,
  runStates,
  runTypes,
  type TaskSpec,
} from "./types.js";

const terminalRunStates: readonly RunState[] = ["success", "failed"];

export interface RunValues {
  dag_id: string;
  run_id: string;
  run_type: string;
  logical_date: number;
  data_interval_start: number;
  data_interval_end: number;
  interval_explicit: number;
  state: string;
  conf: string;
  backfill_id: number | null;
  clear_number: number;
  code_version: string | null;
  created_at: number;
  started_at: null;
  ended_at: null;
  updated_at: number;
}

/** Validates a run to create and resolves its defaults (interval, logical date, run id). */
export function runValues(input: CreateRunInput, now: number): RunValues {
  checkEpochMs("now", now);
  const dagId = checkText("dagId", input.dagId);
  const runType = checkOneOf("runType", input.runType, runTypes);
  let interval: { start: number; end: number };
  let intervalExplicit: boolean;
  if (input.interval !== undefined) {
    interval = checkInterval("interval", input.interval, true);
    intervalExplicit = true;
  } else if (runType === "manual") {
    // A manual trigger without an interval covers nothing but its own instant, so it never
    // collides with scheduled intervals; a caller that wants "the interval ending now" computes
    // it with the DAG's schedule and passes it explicitly.
    const at = input.logicalDate === undefined ? now : checkEpochMs("logicalDate", input.logicalDate);
    interval = { start: at, end: at };
    intervalExplicit = false;
  } else {
    throw validationError(`a ${runType} run needs an interval`, { dagId, runType });
  }
  const logicalDate =
    input.logicalDate === undefined ? interval.start : checkEpochMs("logicalDate", input.logicalDate);
  // Airflow's form (scheduled__2021-09-22T13:00:00+00:00), as runIdFor writes it. Runs made
  // before with the `….000Z` form keep their ids: a run id is only ever compared whole.
  const runId =
    input.runId === undefined
      ? `${runType}__${isoUtc(new Date(logicalDate))}`
      : checkText("runId", input.runId);
  return {
    dag_id: dagId,
    run_id: runId,
    run_type: runType,
    logical_date: logicalDate,
    data_interval_start: interval.start,
    data_interval_end: interval.end,
    interval_explicit: intervalExplicit ? 1 : 0,
    state: "queued",
    conf: checkConf(input.conf),
    backfill_id: input.backfillId ?? null,
    clear_number: 0,
    code_version: input.codeVersion ?? null,
    created_at: now,
    started_at: null,
    ended_at: null,
    updated_at: now,
  };
}

/**
 * Inserts the run unless its run id or (explicit) interval is taken. ON CONFLICT DO NOTHING makes
 * a concurrent creator wait for the first one's commit and then insert nothing, so the existing
 * run is visible to the SELECT that follows (PostgreSQL, READ COMMITTED).
 */
export async function insertRun(
  trx: Queries,
  values: RunValues,
  tasks: TaskSpec[],
  now: number,
): Promise<CreateRunResult> {
  const dag = await trx
    .selectFrom("dags")
    .select("dag_id")
    .where("dag_id", "=", values.dag_id)
    .executeTakeFirst();
  if (dag === undefined) throw notFound(`DAG ${values.dag_id} does not exist`, { dagId: values.dag_id });
  const row = await trx
    .insertInto("dag_runs")
    .values(values)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (row !== undefined) {
    await insertTaskInstances(trx, row.id, row.dag_id, tasks, now);
    return { created: true, run: toRun(row) };
  }
  return { created: false, existing: await findConflictingRun(trx, values) };
}

/** The run that kept `values` from being inserted: the one with its run id or its (explicit) interval. */
export async function findConflictingRun(trx: Queries, values: RunValues): Promise<DagRun> {
  const existing = await trx
    .selectFrom("dag_runs")
    .selectAll()
    .where("dag_id", "=", values.dag_id)
    .where((eb) => {
      const sameRunId = eb("run_id", "=", values.run_id);
      // A reexport run is not the interval's run (the one-run-per-interval index leaves it out).
      if (values.interval_explicit === 0 || values.run_type === "reexport") return sameRunId;
      return eb.or([
        sameRunId,
        eb.and([
          eb("interval_explicit", "=", 1),
          eb("data_interval_start", "=", values.data_interval_start),
          eb("data_interval_end", "=", values.data_interval_end),
        ]),
      ]);
    })
    .orderBy("id")
    .executeTakeFirst();
  if (existing === undefined) {
    throw new HourglassError(
      "Internal",
      `run ${values.run_id} of ${values.dag_id} conflicted but was not found`,
    );
  }
  return toRun(existing);
}

export async function createRun(database: MetadataDatabase, input: CreateRunInput, now: number) {
  const values = runValues(input, now);
  checkTaskSpecs(input.tasks ?? []);
  return database.write((trx) => insertRun(trx, values, input.tasks ?? [], now));
}

export async function getRun(database: MetadataDatabase, dagRunId: number): Promise<DagRun | null> {
  const row = await database.db
    .selectFrom("dag_runs")
    .selectAll()
    .where("id", "=", dagRunId)
    .executeTakeFirst();
  return row === undefined ? null : toRun(row);
}

export async function getRunByRunId(
  database: MetadataDatabase,
  dagId: string,
  runId: string,
): Promise<DagRun | null> {
  const row = await database.db
    .selectFrom("dag_runs")
    .selectAll()
    .where("dag_id", "=", dagId)
    .where("run_id", "=", runId)
    .executeTakeFirst();
  return row === undefined ? null : toRun(row);
}

export async function listRuns(database: MetadataDatabase, filter: RunFilter = {}): Promise<DagRun[]> {
  const direction = filter.order ?? "asc";
  checkOneOf("order", direction, ["asc", "desc"] as const);
  let query = database.db.selectFrom("dag_runs").selectAll();
  if (filter.dagId !== undefined) query = query.where("dag_id", "=", filter.dagId);
  if (filter.states !== undefined) {
    checkEachOneOf("states", filter.states, runStates);
    if (filter.states.length === 0) return [];
    query = query.where("state", "in", filter.states);
  }
  if (filter.runTypes !== undefined) {
    checkEachOneOf("runTypes", filter.runTypes, runTypes);
    if (filter.runTypes.length === 0) return [];
    query = query.where("run_type", "in", filter.runTypes);
  }
  if (filter.interval !== undefined) {
    const range = checkInterval("interval", filter.interval, true);
    query = query.where("data_interval_start", ">=", range.start).where("data_interval_end", "<=", range.end);
  }
  if (filter.backfillId !== undefined) query = query.where("backfill_id", "=", filter.backfillId);
  if (filter.limit !== undefined) {
    if (!Number.isSafeInteger(filter.limit) || filter.limit < 1) {
      throw validationError(`limit must be a positive integer, got ${filter.limit}`);
    }
    query = query.limit(filter.limit);
  }
  const rows = await query.orderBy("logical_date", direction).orderBy("id", direction).execute();
  return rows.map(toRun);
}

export async function setRunState(
  database: MetadataDatabase,
  dagRunId: number,
  change: { to: RunState; from?: RunState[] },
  now: number,
): Promise<DagRun | null> {
  checkEpochMs("now", now);
  const to = checkOneOf("to", change.to, runStates);
  checkEachOneOf("from", change.from, runStates);
  if (change.from?.length === 0) throw validationError("from must list at least one state");
  return database.write(async (trx) => {
    let update = trx
      .updateTable("dag_runs")
      .set((eb) => ({
        state: to,
        updated_at: now,
        started_at: to === "running" ? eb.fn.coalesce("started_at", eb.val(now)) : eb.ref("started_at"),
        ended_at: terminalRunStates.includes(to) ? now : null,
      }))
      .where("id", "=", dagRunId);
    if (change.from !== undefined) update = update.where("state", "in", change.from);
    const row = await update.returningAll().executeTakeFirst();
    if (row !== undefined) return toRun(row);
    const exists = await trx
      .selectFrom("dag_runs")
      .select("id")
      .where("id", "=", dagRunId)
      .executeTakeFirst();
    if (exists === undefined) throw notFound(`run ${dagRunId} does not exist`, { dagRunId });
    return null;
  });
}

/** Runs per UPDATE of setRunStates. */
const runsPerUpdate = 500;

/**
 * Groups the runs by the clear number the caller read (one group, key null, without a guard):
 * almost every run has clear number 0, so this is one UPDATE per 500 runs as before.
 */
function groupByClearNumber(
  dagRunIds: number[],
  clearNumbers: ReadonlyMap<number, number> | undefined,
): Map<number | null, number[]> {
  const groups = new Map<number | null, number[]>();
  for (const [index, id] of dagRunIds.entries()) {
    let key: number | null = null;
    if (clearNumbers !== undefined) {
      const read = clearNumbers.get(id);
      if (read === undefined) {
        throw validationError(`clearNumbers has no entry for dagRunIds[${index}] (${id})`, { dagRunId: id });
      }
      key = checkInteger(`clearNumbers of run ${id}`, read, 0);
    }
    const group = groups.get(key) ?? [];
    group.push(id);
    groups.set(key, group);
  }
  return groups;
}

/**
 * setRunState for several runs, one statement per 500: the runs that moved, in the order of `dagRunIds`.
 * With `clearNumbers` a run moves only if its clear_number is still the one the caller read: a
 * clear committed since then (it resets task instances, keeps a running run running and bumps
 * clear_number) leaves the run as it is, so a run is never ended on task instances read before
 * the clear. The check is in the UPDATE's WHERE, so on PostgreSQL it is made on the row as
 * committed (a clear holding the row makes the UPDATE wait, then check the new row).
 */
export async function setRunStates(
  database: MetadataDatabase,
  dagRunIds: number[],
  change: { to: RunState; from?: RunState[]; clearNumbers?: ReadonlyMap<number, number> },
  now: number,
): Promise<DagRun[]> {
  checkEpochMs("now", now);
  const to = checkOneOf("to", change.to, runStates);
  checkEachOneOf("from", change.from, runStates);
  if (change.from?.length === 0) throw validationError("from must list at least one state");
  if (!Array.isArray(dagRunIds)) throw validationError("dagRunIds must be an array");
  for (const [index, id] of dagRunIds.entries()) checkInteger(`dagRunIds[${index}]`, id, 1);
  if (change.clearNumbers !== undefined && !(change.clearNumbers instanceof Map)) {
    throw validationError("clearNumbers must be a Map from run id to clear number");
  }
  const groups = groupByClearNumber(dagRunIds, change.clearNumbers);
  if (dagRunIds.length === 0) return [];
  return database.write(async (trx) => {
    const moved = new Map<number, DagRun>();
    for (const [clearNumber, ids] of groups) {
      for (let at = 0; at < ids.length; at += runsPerUpdate) {
        let update = trx
          .updateTable("dag_runs")
          .set((eb) => ({
            state: to,
            updated_at: now,
            started_at: to === "running" ? eb.fn.coalesce("started_at", eb.val(now)) : eb.ref("started_at"),
            ended_at: terminalRunStates.includes(to) ? now : null,
          }))
          .where("id", "in", ids.slice(at, at + runsPerUpdate));
        if (change.from !== undefined) update = update.where("state", "in", change.from);
        if (clearNumber !== null) update = update.where("clear_number", "=", clearNumber);
        for (const row of await update.returningAll().execute()) moved.set(row.id, toRun(row));
      }
    }
    return dagRunIds.flatMap((id) => {
      const run = moved.get(id);
      return run === undefined ? [] : [run];
    });
  });
}

export async function markRun(
  database: MetadataDatabase,
  dagRunId: number,
  state: "success" | "failed",
  now: number,
): Promise<DagRun> {
  checkEpochMs("now", now);
  checkOneOf("state", state, terminalRunStates);
  return database.write(async (trx) => {
    const row = await trx
      .updateTable("dag_runs")
      .set({ state, ended_at: now, updated_at: now })
      .where("id", "=", dagRunId)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw notFound(`run ${dagRunId} does not exist`, { dagRunId });
    const interrupted = `run marked ${state} while this try was running`;
    const settle = (from: string[], to: string, error: string | null) =>
      trx
        .updateTable("task_instances")
        .set((eb) => ({
          state: to,
          ended_at: now,
          next_retry_at: null,
          updated_at: now,
          // A try that was running is cut short: record how long it ran and why it ended.
          duration_ms: eb
            .case()
            .when("state", "=", "running")
            .then(eb(eb.val(now), "-", eb.ref("started_at")))
            .else(eb.ref("duration_ms"))
            .end(),
          error: eb.case().when("state", "=", "running").then(error).else(eb.ref("error")).end(),
        }))
        .where("dag_run_id", "=", dagRunId)
        .where("state", "in", from)
        .execute();
    if (state === "success") {
      await settle(
        ["none", "scheduled", "queued", "running", "failed", "up_for_retry", "upstream_failed"],
        "success",
        interrupted,
      );
    } else {
      await settle(["queued", "running"], "failed", interrupted);
      await settle(["none", "scheduled", "up_for_retry"], "skipped", null);
    }
    // After the task instances: the lock order of clear.ts.
    await closeRunningTries(trx, dagRunId, null, interrupted, now);
    return toRun(row);
  });
}

export async function countActive(
  database: MetadataDatabase,
  filter: { dagId?: string; backfillId?: number } = {},
): Promise<ActiveCounts> {
  let runs = database.db
    .selectFrom("dag_runs")
    .select((eb) => ["state", eb.fn.countAll<number>().as("count")])
    .where("state", "in", ["queued", "running"])
    .groupBy("state");
  if (filter.dagId !== undefined) runs = runs.where("dag_id", "=", filter.dagId);
  if (filter.backfillId !== undefined) runs = runs.where("backfill_id", "=", filter.backfillId);
  let tasks = database.db
    .selectFrom("task_instances")
    .innerJoin("dag_runs", "dag_runs.id", "task_instances.dag_run_id")
    .select((eb) => ["task_instances.state", eb.fn.countAll<number>().as("count")])
    .where("task_instances.state", "in", ["queued", "running"])
    .groupBy("task_instances.state");
  if (filter.dagId !== undefined) tasks = tasks.where("task_instances.dag_id", "=", filter.dagId);
  if (filter.backfillId !== undefined) tasks = tasks.where("dag_runs.backfill_id", "=", filter.backfillId);
  const [runRows, taskRows] = await Promise.all([runs.execute(), tasks.execute()]);
  const count = (rows: { state: string; count: number }[], state: string) =>
    Number(rows.find((row) => row.state === state)?.count ?? 0);
  return {
    queuedRuns: count(runRows, "queued"),
    runningRuns: count(runRows, "running"),
    queuedTasks: count(taskRows, "queued"),
    runningTasks: count(taskRows, "running"),
  };
}

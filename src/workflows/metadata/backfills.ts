/**
 * Backfills: a range of intervals run on demand, each interval's outcome recorded in backfill_runs.
 */
import { conflict, notFound, validationError } from "../../errors.js";
import {
  checkConf,
  checkEachOneOf,
  checkEpochMs,
  checkInteger,
  checkInterval,
  checkOneOf,
  checkText,
} from "./checks.js";
import { reopenRuns, resetTaskInstances } from "./clear.js";
import type { MetadataDatabase, Queries } from "./database.js";
import { isUniqueViolation } from "./database-errors.js";
import { toBackfill } from "./rows.js";
import { findConflictingRun, runValues } from "./runs.js";
import { checkTaskSpecs, insertTaskInstances, insertTaskInstancesOfNewRuns } from "./task-instances.js";
import {
  type Backfill,
  type BackfillIntervalResult,
  type BackfillProgress,
  type BackfillState,
  backfillStates,
  type CreateBackfillInput,
  type CreateBackfillResult,
  type DagRun,
  type ReprocessBehavior,
  reprocessBehaviors,
  type TaskSpec,
} from "./types.js";

const unfinishedBackfillStates: readonly BackfillState[] = ["queued", "running", "paused"];
/** Runs per multi-row INSERT (16 columns each: 8,000 parameters, within both databases' limits). */
const runsPerInsert = 500;
const finishedBackfillStates: readonly BackfillState[] = ["completed", "cancelled", "failed"];

function checkBackfill(input: CreateBackfillInput, now: number) {
  checkEpochMs("now", now);
  checkText("dagId", input.dagId);
  const range = checkInterval("range", { start: input.from, end: input.to }, false);
  checkOneOf("reprocess", input.reprocess, reprocessBehaviors);
  checkInteger("maxActiveRuns", input.maxActiveRuns, 1);
  checkTaskSpecs(input.tasks);
  if (!Array.isArray(input.intervals) || input.intervals.length === 0) {
    throw validationError(
      `the backfill range [${range.start}, ${range.end}) holds no interval of the schedule`,
      {
        dagId: input.dagId,
      },
    );
  }
  const seen = new Set<string>();
  input.intervals.forEach((interval, index) => {
    const { start, end } = checkInterval(`intervals[${index}]`, interval, false);
    if (start < range.start || end > range.end) {
      throw validationError(`intervals[${index}] [${start}, ${end}) is outside the backfill range`, {
        index,
      });
    }
    const key = `${start}-${end}`;
    if (seen.has(key))
      throw validationError(`intervals[${index}] [${start}, ${end}) is listed twice`, { index });
    seen.add(key);
  });
  return checkConf(input.conf);
}

/** What a backfill does with an interval whose run already exists. */
function decide(existing: DagRun, reprocess: ReprocessBehavior): { reprocess: boolean; reason?: string } {
  if (existing.state === "queued" || existing.state === "running") {
    return { reprocess: false, reason: `run ${existing.runId} is already ${existing.state}` };
  }
  if (reprocess === "all" || (reprocess === "failed" && existing.state === "failed"))
    return { reprocess: true };
  return { reprocess: false, reason: `run ${existing.runId} already ended ${existing.state}` };
}

async function reprocessRun(trx: Queries, run: DagRun, backfillId: number, tasks: TaskSpec[], now: number) {
  // Run first, then task instances, then tries: the lock order of clear.ts.
  await reopenRuns(trx, [run.id], now);
  await trx.updateTable("dag_runs").set({ backfill_id: backfillId }).where("id", "=", run.id).execute();
  await resetTaskInstances(trx, run.id, null, now);
  await insertTaskInstances(trx, run.id, run.dagId, tasks, now);
}

export async function createBackfill(
  database: MetadataDatabase,
  input: CreateBackfillInput,
  now: number,
): Promise<CreateBackfillResult> {
  const conf = checkBackfill(input, now);
  const intervals = [...input.intervals].sort((a, b) => a.start - b.start || a.end - b.end);
  return database.write(async (trx) => {
    const dag = await trx
      .selectFrom("dags")
      .select("dag_id")
      .where("dag_id", "=", input.dagId)
      .executeTakeFirst();
    if (dag === undefined) throw notFound(`DAG ${input.dagId} does not exist`, { dagId: input.dagId });
    const unfinished = await trx
      .selectFrom("backfills")
      .select(["id", "state"])
      .where("dag_id", "=", input.dagId)
      .where("state", "in", unfinishedBackfillStates)
      .executeTakeFirst();
    if (unfinished !== undefined) {
      throw conflict(`DAG ${input.dagId} already has backfill ${unfinished.id} (${unfinished.state})`, {
        dagId: input.dagId,
        backfillId: unfinished.id,
      });
    }
    const row = await trx
      .insertInto("backfills")
      .values({
        dag_id: input.dagId,
        range_start: input.from,
        range_end: input.to,
        reprocess: input.reprocess,
        max_active_runs: input.maxActiveRuns,
        state: "queued",
        total: intervals.length,
        conf,
        created_at: now,
        updated_at: now,
        completed_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        // A concurrent creator committed first (the check above could not see it yet).
        if (isUniqueViolation(error)) {
          throw conflict(`DAG ${input.dagId} already has an unfinished backfill`, { dagId: input.dagId });
        }
        throw error;
      });
    // The runs go in by multi-row INSERTs (a year of hourly runs is 8,760): one statement per
    // chunk rather than several per run. ON CONFLICT DO NOTHING leaves out intervals (or run ids)
    // that already have a run; those are looked up one by one, as createRun does.
    const results: BackfillIntervalResult[] = [];
    for (let at = 0; at < intervals.length; at += runsPerInsert) {
      const chunk = intervals.slice(at, at + runsPerInsert);
      const values = chunk.map((interval) =>
        runValues(
          {
            dagId: input.dagId,
            runType: "backfill",
            interval,
            logicalDate: interval.logicalDate,
            runId: interval.runId,
            conf: input.conf,
            codeVersion: input.codeVersion,
            backfillId: row.id,
          },
          now,
        ),
      );
      const inserted = await trx
        .insertInto("dag_runs")
        .values(values)
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .execute();
      await insertTaskInstancesOfNewRuns(trx, inserted, input.tasks, now);
      const createdByRunId = new Map(inserted.map((run) => [run.run_id, run]));
      for (const [index, interval] of chunk.entries()) {
        const created = createdByRunId.get(values[index]!.run_id);
        if (
          created !== undefined &&
          created.data_interval_start === interval.start &&
          created.data_interval_end === interval.end
        ) {
          results.push({
            start: interval.start,
            end: interval.end,
            disposition: "created",
            dagRunId: created.id,
          });
          continue;
        }
        const existing = await findConflictingRun(trx, values[index]!);
        const decision = decide(existing, input.reprocess);
        if (decision.reprocess) await reprocessRun(trx, existing, row.id, input.tasks, now);
        results.push({
          start: interval.start,
          end: interval.end,
          disposition: decision.reprocess ? "reprocessed" : "skipped",
          dagRunId: existing.id,
          ...(decision.reason === undefined ? {} : { reason: decision.reason }),
        });
      }
    }
    for (let at = 0; at < results.length; at += runsPerInsert) {
      await trx
        .insertInto("backfill_runs")
        .values(
          results.slice(at, at + runsPerInsert).map((result) => ({
            backfill_id: row.id,
            data_interval_start: result.start,
            data_interval_end: result.end,
            dag_run_id: result.dagRunId,
            disposition: result.disposition,
            reason: result.reason ?? null,
          })),
        )
        .execute();
    }
    return { backfill: toBackfill(row), results };
  });
}

export async function getBackfill(database: MetadataDatabase, backfillId: number): Promise<Backfill | null> {
  const row = await database.db
    .selectFrom("backfills")
    .selectAll()
    .where("id", "=", backfillId)
    .executeTakeFirst();
  return row === undefined ? null : toBackfill(row);
}

export async function listBackfills(
  database: MetadataDatabase,
  filter: { dagId?: string; states?: BackfillState[] } = {},
): Promise<Backfill[]> {
  let query = database.db.selectFrom("backfills").selectAll();
  if (filter.dagId !== undefined) query = query.where("dag_id", "=", filter.dagId);
  if (filter.states !== undefined) {
    checkEachOneOf("states", filter.states, backfillStates);
    if (filter.states.length === 0) return [];
    query = query.where("state", "in", filter.states);
  }
  return (await query.orderBy("id").execute()).map(toBackfill);
}

function backfillNotFound(backfillId: number) {
  return notFound(`backfill ${backfillId} does not exist`, { backfillId });
}

export async function setBackfillState(
  database: MetadataDatabase,
  backfillId: number,
  change: { to: BackfillState; from?: BackfillState[] },
  now: number,
): Promise<Backfill | null> {
  checkEpochMs("now", now);
  const to = checkOneOf("to", change.to, backfillStates);
  checkEachOneOf("from", change.from, backfillStates);
  if (change.from?.length === 0) throw validationError("from must list at least one state");
  return database.write(async (trx) => {
    let update = trx
      .updateTable("backfills")
      .set({ state: to, updated_at: now, completed_at: finishedBackfillStates.includes(to) ? now : null })
      .where("id", "=", backfillId);
    if (change.from !== undefined) update = update.where("state", "in", change.from);
    const row = await update.returningAll().executeTakeFirst();
    if (row !== undefined) return toBackfill(row);
    const exists = await trx
      .selectFrom("backfills")
      .select("id")
      .where("id", "=", backfillId)
      .executeTakeFirst();
    if (exists === undefined) throw backfillNotFound(backfillId);
    return null;
  });
}

export async function cancelBackfill(
  database: MetadataDatabase,
  backfillId: number,
  now: number,
): Promise<Backfill> {
  checkEpochMs("now", now);
  return database.write(async (trx) => {
    const current = await trx
      .selectFrom("backfills")
      .selectAll()
      .where("id", "=", backfillId)
      .executeTakeFirst();
    if (current === undefined) throw backfillNotFound(backfillId);
    if (!unfinishedBackfillStates.includes(current.state as BackfillState)) {
      throw conflict(`backfill ${backfillId} is already ${current.state}`, {
        backfillId,
        state: current.state,
      });
    }
    const row = await trx
      .updateTable("backfills")
      .set({ state: "cancelled", updated_at: now, completed_at: now })
      .where("id", "=", backfillId)
      .returningAll()
      .executeTakeFirstOrThrow();
    // Runs already running finish on their own; runs that never started will not.
    const waiting = await trx
      .selectFrom("backfill_runs")
      .innerJoin("dag_runs", "dag_runs.id", "backfill_runs.dag_run_id")
      .select("dag_runs.id")
      .where("backfill_runs.backfill_id", "=", backfillId)
      .where("backfill_runs.disposition", "<>", "skipped")
      .where("dag_runs.state", "=", "queued")
      .execute();
    for (const { id } of waiting) {
      await trx
        .updateTable("dag_runs")
        .set({ state: "failed", ended_at: now, updated_at: now })
        .where("id", "=", id)
        .execute();
      await trx
        .updateTable("task_instances")
        .set({ state: "skipped", ended_at: now, next_retry_at: null, updated_at: now })
        .where("dag_run_id", "=", id)
        .where("state", "in", ["none", "scheduled", "queued", "up_for_retry"])
        .execute();
    }
    return toBackfill(row);
  });
}

export async function getBackfillProgress(
  database: MetadataDatabase,
  backfillId: number,
): Promise<BackfillProgress> {
  const backfill = await getBackfill(database, backfillId);
  if (backfill === null) throw backfillNotFound(backfillId);
  const [dispositions, states] = await Promise.all([
    database.db
      .selectFrom("backfill_runs")
      .select((eb) => ["disposition", eb.fn.countAll<number>().as("count")])
      .where("backfill_id", "=", backfillId)
      .groupBy("disposition")
      .execute(),
    database.db
      .selectFrom("backfill_runs")
      .innerJoin("dag_runs", "dag_runs.id", "backfill_runs.dag_run_id")
      .select((eb) => ["dag_runs.state", eb.fn.countAll<number>().as("count")])
      .where("backfill_runs.backfill_id", "=", backfillId)
      .where("backfill_runs.disposition", "<>", "skipped")
      .groupBy("dag_runs.state")
      .execute(),
  ]);
  const byDisposition = (name: string) =>
    Number(dispositions.find((row) => row.disposition === name)?.count ?? 0);
  const byState = (name: string) => Number(states.find((row) => row.state === name)?.count ?? 0);
  const skipped = byDisposition("skipped");
  const succeeded = byState("success");
  const failed = byState("failed");
  return {
    backfillId,
    state: backfill.state,
    total: backfill.total,
    created: byDisposition("created"),
    reprocessed: byDisposition("reprocessed"),
    skipped,
    queued: byState("queued"),
    running: byState("running"),
    succeeded,
    failed,
    done: skipped + succeeded + failed,
  };
}

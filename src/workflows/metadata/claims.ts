/**
 * Claims: how workers take queued task instances, exclusively.
 *
 * PostgreSQL: the candidates are selected FOR UPDATE SKIP LOCKED, so concurrent claimers each
 * lock different rows without waiting for each other. SQLite: the transaction starts with
 * BEGIN IMMEDIATE, so claimers (in any process) run one at a time. Either way the UPDATE also
 * requires state = 'queued', so a row is never handed out twice.
 */
import { validationError } from "../../errors.js";
import { checkEpochMs, checkText } from "./checks.js";
import type { MetadataDatabase } from "./database.js";
import { toTaskInstance } from "./rows.js";
import type { TaskInstance } from "./types.js";

/** Bounds one claim, and with it the size of the statements it builds. */
export const maxClaimLimit = 500;

export async function claimTaskInstances(
  database: MetadataDatabase,
  workerId: string,
  limit: number,
  now: number,
): Promise<TaskInstance[]> {
  checkText("workerId", workerId);
  checkEpochMs("now", now);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > maxClaimLimit) {
    throw validationError(`limit must be an integer from 1 to ${maxClaimLimit}, got ${limit}`, { limit });
  }
  return database.write(async (trx) => {
    let candidates = trx
      .selectFrom("task_instances")
      .select(["dag_run_id", "task_id"])
      .where("state", "=", "queued")
      .orderBy("priority", "desc")
      .orderBy("queued_at")
      .orderBy("dag_run_id")
      .orderBy("task_id")
      .limit(limit);
    if (database.dialect === "postgres") candidates = candidates.forUpdate().skipLocked();
    const keys = await candidates.execute();
    if (keys.length === 0) return [];
    const byRun = new Map<number, string[]>();
    for (const key of keys) byRun.set(key.dag_run_id, [...(byRun.get(key.dag_run_id) ?? []), key.task_id]);
    const rows = await trx
      .updateTable("task_instances")
      .set((eb) => ({
        state: "running",
        try_number: eb("try_number", "+", 1),
        worker_id: workerId,
        started_at: now,
        heartbeat_at: now,
        ended_at: null,
        duration_ms: null,
        exit_code: null,
        error: null,
        pid: null,
        log_path: null,
        next_retry_at: null,
        updated_at: now,
      }))
      .where("state", "=", "queued")
      .where((eb) =>
        eb.or(
          [...byRun].map(([dagRunId, taskIds]) =>
            eb.and([eb("dag_run_id", "=", dagRunId), eb("task_id", "in", taskIds)]),
          ),
        ),
      )
      .returningAll()
      .execute();
    if (rows.length > 0) {
      await trx
        .insertInto("task_tries")
        .values(
          rows.map((row) => ({
            dag_run_id: row.dag_run_id,
            task_id: row.task_id,
            try_number: row.try_number,
            dag_id: row.dag_id,
            state: "running",
            worker_id: workerId,
            started_at: now,
          })),
        )
        .execute();
    }
    return rows
      .map(toTaskInstance)
      .sort(
        (a, b) =>
          b.priority - a.priority ||
          (a.queuedAt ?? 0) - (b.queuedAt ?? 0) ||
          a.dagRunId - b.dagRunId ||
          (a.taskId < b.taskId ? -1 : 1),
      );
  });
}

/**
 * Workers: registration, heartbeats (for the worker and the tries it runs), and death.
 */
import { notFound } from "../../errors.js";
import { checkEpochMs, checkInteger, checkText } from "./checks.js";
import type { MetadataDatabase } from "./database.js";
import { toWorker } from "./rows.js";
import type { HeartbeatResult, Worker, WorkerRegistration } from "./types.js";

export async function registerWorker(
  database: MetadataDatabase,
  worker: WorkerRegistration,
  now: number,
): Promise<Worker> {
  checkEpochMs("now", now);
  const values = {
    id: checkText("workerId", worker.workerId),
    pid: checkInteger("pid", worker.pid, 1),
    host: checkText("host", worker.host),
    state: "running",
    started_at: now,
    heartbeat_at: now,
    stopped_at: null,
  };
  const row = await database.write((trx) =>
    trx
      .insertInto("workers")
      .values(values)
      .onConflict((oc) => oc.column("id").doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toWorker(row);
}

export async function heartbeat(
  database: MetadataDatabase,
  workerId: string,
  now: number,
): Promise<HeartbeatResult> {
  checkText("workerId", workerId);
  checkEpochMs("now", now);
  return database.write(async (trx) => {
    // A worker declared dead that heartbeats again was only slow: it is running again, but the
    // tries taken from it meanwhile are not given back (they are no longer its running tries).
    const worker = await trx
      .updateTable("workers")
      .set({ heartbeat_at: now, state: "running", stopped_at: null })
      .where("id", "=", workerId)
      .executeTakeFirst();
    if (Number(worker.numUpdatedRows) === 0)
      throw notFound(`worker ${workerId} is not registered`, { workerId });
    const held = await trx
      .updateTable("task_instances")
      .set({ heartbeat_at: now })
      .where("worker_id", "=", workerId)
      .where("state", "=", "running")
      .returning(["dag_run_id", "task_id", "try_number"])
      .execute();
    return {
      running: held.map((row) => ({
        dagRunId: row.dag_run_id,
        taskId: row.task_id,
        tryNumber: row.try_number,
        workerId,
      })),
    };
  });
}

export async function stopWorker(database: MetadataDatabase, workerId: string, now: number): Promise<void> {
  checkEpochMs("now", now);
  const result = await database.write((trx) =>
    trx
      .updateTable("workers")
      .set({ state: "stopped", stopped_at: now })
      .where("id", "=", workerId)
      .executeTakeFirst(),
  );
  if (Number(result.numUpdatedRows) === 0)
    throw notFound(`worker ${workerId} is not registered`, { workerId });
}

export async function markDeadWorkers(
  database: MetadataDatabase,
  heartbeatBefore: number,
  now: number,
): Promise<string[]> {
  checkEpochMs("heartbeatBefore", heartbeatBefore);
  checkEpochMs("now", now);
  const rows = await database.write((trx) =>
    trx
      .updateTable("workers")
      .set({ state: "dead", stopped_at: now })
      .where("state", "=", "running")
      .where("heartbeat_at", "<", heartbeatBefore)
      .returning("id")
      .execute(),
  );
  return rows.map((row) => row.id).sort();
}

export async function listWorkers(database: MetadataDatabase): Promise<Worker[]> {
  const rows = await database.db.selectFrom("workers").selectAll().orderBy("id").execute();
  return rows.map(toWorker);
}

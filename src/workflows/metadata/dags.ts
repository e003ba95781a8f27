/**
 * DAG definitions, pause state, schedule bookkeeping and import errors.
 */
import { notFound, validationError } from "../../errors.js";
import { checkEpochMs, checkInteger, checkOptionalEpochMs, checkText } from "./checks.js";
import type { MetadataDatabase } from "./database.js";
import { toDag, toImportError } from "./rows.js";
import type { Dag, DagUpsert, ImportError, ImportErrorInput } from "./types.js";

export async function upsertDag(database: MetadataDatabase, dag: DagUpsert, now: number): Promise<Dag> {
  checkEpochMs("now", now);
  const definition = {
    dag_id: checkText("dagId", dag.dagId),
    file_path: checkText("filePath", dag.filePath),
    code_version: checkText("codeVersion", dag.codeVersion),
    schedule: dag.schedule === null ? null : checkText("schedule", dag.schedule),
    timezone: checkText("timezone", dag.timezone),
    start_date: checkOptionalEpochMs("startDate", dag.startDate),
    end_date: checkOptionalEpochMs("endDate", dag.endDate),
    catchup: dag.catchup ? 1 : 0,
    max_active_runs: checkInteger("maxActiveRuns", dag.maxActiveRuns, 1),
    max_active_tasks: checkInteger("maxActiveTasks", dag.maxActiveTasks, 1),
    is_active: 1,
    import_error: null,
    updated_at: now,
  };
  if (
    definition.start_date !== null &&
    definition.end_date !== null &&
    definition.start_date > definition.end_date
  ) {
    throw validationError(`DAG ${dag.dagId}: startDate is after endDate`, { dagId: dag.dagId });
  }
  const row = await database.write((trx) =>
    trx
      .insertInto("dags")
      .values({
        ...definition,
        is_paused: (dag.pausedOnCreate ?? true) ? 1 : 0,
        last_scheduled_interval_end: null,
        created_at: now,
      })
      // A known DAG keeps what users and the scheduler decided: pause state and bookkeeping.
      .onConflict((oc) => oc.column("dag_id").doUpdateSet(definition))
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toDag(row);
}

export async function getDag(database: MetadataDatabase, dagId: string): Promise<Dag | null> {
  const row = await database.db.selectFrom("dags").selectAll().where("dag_id", "=", dagId).executeTakeFirst();
  return row === undefined ? null : toDag(row);
}

export async function listDags(
  database: MetadataDatabase,
  filter: { activeOnly?: boolean; paused?: boolean } = {},
): Promise<Dag[]> {
  let query = database.db.selectFrom("dags").selectAll().orderBy("dag_id");
  if (filter.activeOnly) query = query.where("is_active", "=", 1);
  if (filter.paused !== undefined) query = query.where("is_paused", "=", filter.paused ? 1 : 0);
  return (await query.execute()).map(toDag);
}

export async function setPaused(
  database: MetadataDatabase,
  dagId: string,
  paused: boolean,
  now: number,
): Promise<Dag> {
  checkEpochMs("now", now);
  const row = await database.write((trx) =>
    trx
      .updateTable("dags")
      .set({ is_paused: paused ? 1 : 0, updated_at: now })
      .where("dag_id", "=", dagId)
      .returningAll()
      .executeTakeFirst(),
  );
  if (row === undefined) throw notFound(`DAG ${dagId} does not exist`, { dagId });
  return toDag(row);
}

export async function advanceSchedule(
  database: MetadataDatabase,
  dagId: string,
  expectedEnd: number | null,
  newEnd: number,
  now: number,
): Promise<boolean> {
  checkEpochMs("newEnd", newEnd);
  checkOptionalEpochMs("expectedEnd", expectedEnd);
  checkEpochMs("now", now);
  if (expectedEnd !== null && newEnd < expectedEnd) {
    throw validationError(
      `the schedule of DAG ${dagId} cannot move backwards (${expectedEnd} -> ${newEnd})`,
      {
        dagId,
      },
    );
  }
  return database.write(async (trx) => {
    const result = await trx
      .updateTable("dags")
      .set({ last_scheduled_interval_end: newEnd, updated_at: now })
      .where("dag_id", "=", dagId)
      .where((eb) =>
        expectedEnd === null
          ? eb("last_scheduled_interval_end", "is", null)
          : eb("last_scheduled_interval_end", "=", expectedEnd),
      )
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return true;
    const exists = await trx
      .selectFrom("dags")
      .select("dag_id")
      .where("dag_id", "=", dagId)
      .executeTakeFirst();
    if (exists === undefined) throw notFound(`DAG ${dagId} does not exist`, { dagId });
    return false;
  });
}

export async function deactivateMissingDags(
  database: MetadataDatabase,
  presentDagIds: string[],
  now: number,
): Promise<string[]> {
  checkEpochMs("now", now);
  const present = new Set(presentDagIds);
  return database.write(async (trx) => {
    const active = await trx.selectFrom("dags").select("dag_id").where("is_active", "=", 1).execute();
    const missing = active.map((row) => row.dag_id).filter((dagId) => !present.has(dagId));
    if (missing.length > 0) {
      await trx
        .updateTable("dags")
        .set({ is_active: 0, updated_at: now })
        .where("dag_id", "in", missing)
        .execute();
    }
    return missing;
  });
}

export async function recordImportErrors(
  database: MetadataDatabase,
  filePath: string,
  errors: ImportErrorInput[],
  now: number,
): Promise<void> {
  checkText("filePath", filePath);
  checkEpochMs("now", now);
  for (const [index, error] of errors.entries()) checkText(`errors[${index}].message`, error.message);
  await database.write(async (trx) => {
    await trx.deleteFrom("import_errors").where("file_path", "=", filePath).execute();
    if (errors.length > 0) {
      await trx
        .insertInto("import_errors")
        .values(
          errors.map((error) => ({
            file_path: filePath,
            message: error.message,
            line_number: error.line ?? null,
            column_number: error.column ?? null,
            recorded_at: now,
          })),
        )
        .execute();
    }
    // The DAGs of a broken file keep their last good definition, flagged with the error.
    await trx
      .updateTable("dags")
      .set({ import_error: errors.length > 0 ? errors[0]!.message : null, updated_at: now })
      .where("file_path", "=", filePath)
      .execute();
  });
}

export async function listImportErrors(database: MetadataDatabase): Promise<ImportError[]> {
  const rows = await database.db
    .selectFrom("import_errors")
    .selectAll()
    .orderBy("file_path")
    .orderBy("id")
    .execute();
  return rows.map(toImportError);
}

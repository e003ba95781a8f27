/**
 * The initial schema. Times are epoch milliseconds (BIGINT), booleans 0/1, JSON text: see tables.ts.
 * SQLite gives BIGINT columns integer affinity, so the same DDL serves both databases except for
 * identity columns.
 */
import type { MetadataDialect } from "../types.js";
import { identityColumn, type Migration } from "./migration.js";

const taskStates =
  "'none','scheduled','queued','running','success','failed','up_for_retry','upstream_failed','skipped'";

function statements(dialect: MetadataDialect): string[] {
  const id = identityColumn(dialect);
  return [
    `CREATE TABLE dags (
      dag_id TEXT PRIMARY KEY,
      file_path TEXT NOT NULL,
      code_version TEXT NOT NULL,
      schedule TEXT,
      timezone TEXT NOT NULL,
      start_date BIGINT,
      end_date BIGINT,
      catchup INTEGER NOT NULL CHECK (catchup IN (0, 1)),
      max_active_runs INTEGER NOT NULL CHECK (max_active_runs > 0),
      max_active_tasks INTEGER NOT NULL CHECK (max_active_tasks > 0),
      is_paused INTEGER NOT NULL CHECK (is_paused IN (0, 1)),
      is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
      last_scheduled_interval_end BIGINT,
      import_error TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE TABLE import_errors (
      id ${id},
      file_path TEXT NOT NULL,
      message TEXT NOT NULL,
      line_number INTEGER,
      column_number INTEGER,
      recorded_at BIGINT NOT NULL
    )`,
    "CREATE INDEX import_errors_by_file ON import_errors (file_path)",
    `CREATE TABLE backfills (
      id ${id},
      dag_id TEXT NOT NULL REFERENCES dags (dag_id),
      range_start BIGINT NOT NULL,
      range_end BIGINT NOT NULL,
      reprocess TEXT NOT NULL CHECK (reprocess IN ('none', 'failed', 'all')),
      max_active_runs INTEGER NOT NULL CHECK (max_active_runs > 0),
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'completed', 'cancelled', 'failed')),
      total INTEGER NOT NULL CHECK (total >= 0),
      conf TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      completed_at BIGINT,
      CHECK (range_start < range_end)
    )`,
    // At most one unfinished backfill per DAG: two would race for the same intervals.
    "CREATE UNIQUE INDEX backfills_one_unfinished_per_dag ON backfills (dag_id) WHERE state IN ('queued', 'running', 'paused')",
    `CREATE TABLE dag_runs (
      id ${id},
      dag_id TEXT NOT NULL REFERENCES dags (dag_id),
      run_id TEXT NOT NULL,
      run_type TEXT NOT NULL CHECK (run_type IN ('scheduled', 'backfill', 'manual')),
      logical_date BIGINT NOT NULL,
      data_interval_start BIGINT NOT NULL,
      data_interval_end BIGINT NOT NULL,
      interval_explicit INTEGER NOT NULL CHECK (interval_explicit IN (0, 1)),
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed')),
      conf TEXT NOT NULL,
      backfill_id BIGINT REFERENCES backfills (id),
      clear_number INTEGER NOT NULL DEFAULT 0,
      code_version TEXT,
      created_at BIGINT NOT NULL,
      started_at BIGINT,
      ended_at BIGINT,
      updated_at BIGINT NOT NULL,
      CHECK (data_interval_start <= data_interval_end),
      CHECK (run_type = 'manual' OR interval_explicit = 1),
      UNIQUE (dag_id, run_id)
    )`,
    // The rule the scheduler relies on: never two runs of one DAG for one interval, whoever creates them.
    "CREATE UNIQUE INDEX dag_runs_one_per_interval ON dag_runs (dag_id, data_interval_start, data_interval_end) WHERE interval_explicit = 1",
    "CREATE INDEX dag_runs_by_dag_state ON dag_runs (dag_id, state)",
    "CREATE INDEX dag_runs_by_state ON dag_runs (state)",
    "CREATE INDEX dag_runs_by_backfill ON dag_runs (backfill_id)",
    `CREATE TABLE backfill_runs (
      backfill_id BIGINT NOT NULL REFERENCES backfills (id),
      data_interval_start BIGINT NOT NULL,
      data_interval_end BIGINT NOT NULL,
      dag_run_id BIGINT NOT NULL REFERENCES dag_runs (id),
      disposition TEXT NOT NULL CHECK (disposition IN ('created', 'reprocessed', 'skipped')),
      reason TEXT,
      PRIMARY KEY (backfill_id, data_interval_start, data_interval_end)
    )`,
    "CREATE INDEX backfill_runs_by_run ON backfill_runs (dag_run_id)",
    `CREATE TABLE task_instances (
      dag_run_id BIGINT NOT NULL REFERENCES dag_runs (id),
      task_id TEXT NOT NULL,
      dag_id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN (${taskStates})),
      try_number INTEGER NOT NULL CHECK (try_number >= 0),
      max_tries INTEGER NOT NULL CHECK (max_tries >= 1),
      retries INTEGER NOT NULL CHECK (retries >= 0),
      retry_delay_ms BIGINT NOT NULL CHECK (retry_delay_ms >= 0),
      priority INTEGER NOT NULL,
      next_retry_at BIGINT,
      queued_at BIGINT,
      started_at BIGINT,
      ended_at BIGINT,
      worker_id TEXT,
      heartbeat_at BIGINT,
      pid INTEGER,
      exit_code INTEGER,
      error TEXT,
      duration_ms BIGINT,
      log_path TEXT,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (dag_run_id, task_id),
      CHECK (state <> 'running' OR (worker_id IS NOT NULL AND try_number >= 1))
    )`,
    "CREATE INDEX task_instances_for_claims ON task_instances (state, priority, queued_at)",
    "CREATE INDEX task_instances_by_worker ON task_instances (worker_id, state)",
    "CREATE INDEX task_instances_by_dag_state ON task_instances (dag_id, state)",
    `CREATE TABLE task_tries (
      dag_run_id BIGINT NOT NULL,
      task_id TEXT NOT NULL,
      try_number INTEGER NOT NULL CHECK (try_number >= 1),
      dag_id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('running', 'success', 'failed', 'skipped')),
      worker_id TEXT,
      pid INTEGER,
      started_at BIGINT NOT NULL,
      ended_at BIGINT,
      exit_code INTEGER,
      error TEXT,
      log_path TEXT,
      PRIMARY KEY (dag_run_id, task_id, try_number),
      FOREIGN KEY (dag_run_id, task_id) REFERENCES task_instances (dag_run_id, task_id)
    )`,
    `CREATE TABLE workers (
      id TEXT PRIMARY KEY,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('running', 'stopped', 'dead')),
      started_at BIGINT NOT NULL,
      heartbeat_at BIGINT NOT NULL,
      stopped_at BIGINT
    )`,
  ];
}

export const initialMigration: Migration = { version: 1, name: "initial", statements };

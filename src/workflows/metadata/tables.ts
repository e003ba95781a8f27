/**
 * The tables as Kysely sees them (the same on SQLite and PostgreSQL).
 *
 * Times are epoch milliseconds in BIGINT columns on both databases, not ISO text or timestamptz:
 * comparisons, ordering and arithmetic (now - heartbeat) are then plain integer operations that
 * mean the same on both, with no time zone or text-format pitfalls, so one query layer serves both.
 * Booleans are INTEGER 0/1 (SQLite has no boolean; PostgreSQL would return true/false). JSON is TEXT.
 */
import type { Generated } from "kysely";

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface DagsTable {
  dag_id: string;
  file_path: string;
  code_version: string;
  schedule: string | null;
  timezone: string;
  start_date: number | null;
  end_date: number | null;
  catchup: number;
  max_active_runs: number;
  max_active_tasks: number;
  is_paused: number;
  is_active: number;
  last_scheduled_interval_end: number | null;
  import_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface ImportErrorsTable {
  id: Generated<number>;
  file_path: string;
  message: string;
  line_number: number | null;
  column_number: number | null;
  recorded_at: number;
}

export interface BackfillsTable {
  id: Generated<number>;
  dag_id: string;
  range_start: number;
  range_end: number;
  reprocess: string;
  max_active_runs: number;
  state: string;
  total: number;
  conf: string;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface BackfillRunsTable {
  backfill_id: number;
  data_interval_start: number;
  data_interval_end: number;
  dag_run_id: number;
  disposition: string;
  reason: string | null;
}

export interface DagRunsTable {
  id: Generated<number>;
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
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
}

export interface TaskInstancesTable {
  dag_run_id: number;
  task_id: string;
  dag_id: string;
  state: string;
  try_number: number;
  max_tries: number;
  retries: number;
  retry_delay_ms: number;
  priority: number;
  next_retry_at: number | null;
  queued_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  worker_id: string | null;
  heartbeat_at: number | null;
  pid: number | null;
  exit_code: number | null;
  error: string | null;
  duration_ms: number | null;
  log_path: string | null;
  updated_at: number;
  /** The latest try's (migration 2). */
  code_version: string | null;
}

export interface TaskTriesTable {
  dag_run_id: number;
  task_id: string;
  try_number: number;
  dag_id: string;
  state: string;
  worker_id: string | null;
  pid: number | null;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  error: string | null;
  log_path: string | null;
  /** The code version of the DAG file the try ran (migration 2); null when not known. */
  code_version: string | null;
}

export interface WorkersTable {
  id: string;
  pid: number;
  host: string;
  state: string;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
}

export interface MetadataTables {
  schema_migrations: SchemaMigrationsTable;
  dags: DagsTable;
  import_errors: ImportErrorsTable;
  backfills: BackfillsTable;
  backfill_runs: BackfillRunsTable;
  dag_runs: DagRunsTable;
  task_instances: TaskInstancesTable;
  task_tries: TaskTriesTable;
  workers: WorkersTable;
}

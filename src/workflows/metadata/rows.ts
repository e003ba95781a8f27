/**
 * Row (snake_case, 0/1, JSON text) to domain object (camelCase, booleans, parsed JSON).
 */
import type { Selectable } from "kysely";
import type {
  BackfillsTable,
  DagRunsTable,
  DagsTable,
  ImportErrorsTable,
  TaskInstancesTable,
  TaskTriesTable,
  WorkersTable,
} from "./tables.js";
import type {
  Backfill,
  BackfillState,
  Dag,
  DagRun,
  ImportError,
  ReprocessBehavior,
  RunState,
  RunType,
  TaskInstance,
  TaskState,
  TaskTry,
  TryState,
  Worker,
  WorkerState,
} from "./types.js";

export function toDag(row: Selectable<DagsTable>): Dag {
  return {
    dagId: row.dag_id,
    filePath: row.file_path,
    codeVersion: row.code_version,
    schedule: row.schedule,
    timezone: row.timezone,
    startDate: row.start_date,
    endDate: row.end_date,
    catchup: row.catchup === 1,
    maxActiveRuns: row.max_active_runs,
    maxActiveTasks: row.max_active_tasks,
    isPaused: row.is_paused === 1,
    isActive: row.is_active === 1,
    lastScheduledIntervalEnd: row.last_scheduled_interval_end,
    importError: row.import_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toImportError(row: Selectable<ImportErrorsTable>): ImportError {
  return {
    filePath: row.file_path,
    message: row.message,
    line: row.line_number,
    column: row.column_number,
    at: row.recorded_at,
  };
}

export function toRun(row: Selectable<DagRunsTable>): DagRun {
  return {
    id: row.id,
    dagId: row.dag_id,
    runId: row.run_id,
    runType: row.run_type as RunType,
    logicalDate: row.logical_date,
    dataIntervalStart: row.data_interval_start,
    dataIntervalEnd: row.data_interval_end,
    intervalExplicit: row.interval_explicit === 1,
    state: row.state as RunState,
    conf: JSON.parse(row.conf) as Record<string, unknown>,
    backfillId: row.backfill_id,
    clearNumber: row.clear_number,
    codeVersion: row.code_version,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    updatedAt: row.updated_at,
  };
}

export function toTaskInstance(row: Selectable<TaskInstancesTable>): TaskInstance {
  return {
    dagRunId: row.dag_run_id,
    taskId: row.task_id,
    dagId: row.dag_id,
    state: row.state as TaskState,
    tryNumber: row.try_number,
    maxTries: row.max_tries,
    retries: row.retries,
    retryDelayMs: row.retry_delay_ms,
    priority: row.priority,
    nextRetryAt: row.next_retry_at,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    workerId: row.worker_id,
    heartbeatAt: row.heartbeat_at,
    pid: row.pid,
    exitCode: row.exit_code,
    error: row.error,
    durationMs: row.duration_ms,
    logPath: row.log_path,
    codeVersion: row.code_version,
    updatedAt: row.updated_at,
  };
}

export function toTaskTry(row: Selectable<TaskTriesTable>): TaskTry {
  return {
    dagRunId: row.dag_run_id,
    taskId: row.task_id,
    dagId: row.dag_id,
    tryNumber: row.try_number,
    state: row.state as TryState,
    workerId: row.worker_id,
    pid: row.pid,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    error: row.error,
    logPath: row.log_path,
    codeVersion: row.code_version,
  };
}

export function toBackfill(row: Selectable<BackfillsTable>): Backfill {
  return {
    id: row.id,
    dagId: row.dag_id,
    from: row.range_start,
    to: row.range_end,
    reprocess: row.reprocess as ReprocessBehavior,
    maxActiveRuns: row.max_active_runs,
    state: row.state as BackfillState,
    total: row.total,
    conf: JSON.parse(row.conf) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

export function toWorker(row: Selectable<WorkersTable>): Worker {
  return {
    id: row.id,
    pid: row.pid,
    host: row.host,
    state: row.state as WorkerState,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    stoppedAt: row.stopped_at,
  };
}

/**
 * What the REST API and the CLI show of DAGs, runs, task instances, tries and backfills: the
 * metadata rows with times as ISO 8601 text (UTC) instead of epoch milliseconds.
 */
import type {
  Backfill,
  BackfillProgress,
  Dag as DagRow,
  DagRun,
  ImportError,
  TaskInstance,
  TaskTry,
} from "../metadata/index.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface DagView {
  dagId: string;
  filePath: string;
  codeVersion: string;
  schedule: string | null;
  timezone: string;
  startDate: string | null;
  endDate: string | null;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  isPaused: boolean;
  isActive: boolean;
  lastScheduledIntervalEnd: string | null;
  importError: string | null;
}

export function dagView(row: DagRow): DagView {
  return {
    dagId: row.dagId,
    filePath: row.filePath,
    codeVersion: row.codeVersion,
    schedule: row.schedule,
    timezone: row.timezone,
    startDate: iso(row.startDate),
    endDate: iso(row.endDate),
    catchup: row.catchup,
    maxActiveRuns: row.maxActiveRuns,
    maxActiveTasks: row.maxActiveTasks,
    isPaused: row.isPaused,
    isActive: row.isActive,
    lastScheduledIntervalEnd: iso(row.lastScheduledIntervalEnd),
    importError: row.importError,
  };
}

export interface RunView {
  id: number;
  dagId: string;
  runId: string;
  runType: string;
  state: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  conf: Record<string, unknown>;
  backfillId: number | null;
  clearNumber: number;
  codeVersion: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export function runView(run: DagRun): RunView {
  return {
    id: run.id,
    dagId: run.dagId,
    runId: run.runId,
    runType: run.runType,
    state: run.state,
    logicalDate: iso(run.logicalDate)!,
    dataIntervalStart: iso(run.dataIntervalStart)!,
    dataIntervalEnd: iso(run.dataIntervalEnd)!,
    conf: run.conf,
    backfillId: run.backfillId,
    clearNumber: run.clearNumber,
    codeVersion: run.codeVersion,
    createdAt: iso(run.createdAt)!,
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
  };
}

export interface TaskInstanceView {
  dagId: string;
  runId: string;
  taskId: string;
  state: string;
  tryNumber: number;
  maxTries: number;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  nextRetryAt: string | null;
  durationMs: number | null;
  workerId: string | null;
  pid: number | null;
  error: string | null;
  logPath: string | null;
  /** The code version the latest finished try ran. */
  codeVersion: string | null;
}

export function taskInstanceView(ti: TaskInstance, runId: string): TaskInstanceView {
  return {
    dagId: ti.dagId,
    runId,
    taskId: ti.taskId,
    state: ti.state,
    tryNumber: ti.tryNumber,
    maxTries: ti.maxTries,
    queuedAt: iso(ti.queuedAt),
    startedAt: iso(ti.startedAt),
    endedAt: iso(ti.endedAt),
    nextRetryAt: iso(ti.nextRetryAt),
    durationMs: ti.durationMs,
    workerId: ti.workerId,
    pid: ti.pid,
    error: ti.error,
    logPath: ti.logPath,
    codeVersion: ti.codeVersion,
  };
}

export interface TryView {
  tryNumber: number;
  state: string;
  workerId: string | null;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  logPath: string | null;
  /** The code version of the DAG file this try ran. */
  codeVersion: string | null;
}

export function tryView(attempt: TaskTry): TryView {
  return {
    tryNumber: attempt.tryNumber,
    state: attempt.state,
    workerId: attempt.workerId,
    startedAt: iso(attempt.startedAt)!,
    endedAt: iso(attempt.endedAt),
    error: attempt.error,
    logPath: attempt.logPath,
    codeVersion: attempt.codeVersion,
  };
}

export interface BackfillView {
  id: number;
  dagId: string;
  from: string;
  /** The end of the last interval (the requested `to` is the start of the last interval). */
  to: string;
  reprocess: string;
  maxActiveRuns: number;
  state: string;
  total: number;
  createdAt: string;
  completedAt: string | null;
  progress?: BackfillProgress;
}

export function backfillView(backfill: Backfill, progress?: BackfillProgress): BackfillView {
  return {
    id: backfill.id,
    dagId: backfill.dagId,
    from: iso(backfill.from)!,
    to: iso(backfill.to)!,
    reprocess: backfill.reprocess,
    maxActiveRuns: backfill.maxActiveRuns,
    state: backfill.state,
    total: backfill.total,
    createdAt: iso(backfill.createdAt)!,
    completedAt: iso(backfill.completedAt),
    ...(progress === undefined ? {} : { progress }),
  };
}

export interface ImportErrorView {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
  at: string;
}

export function importErrorView(error: ImportError): ImportErrorView {
  return {
    file: error.filePath,
    line: error.line,
    column: error.column,
    message: error.message,
    at: iso(error.at)!,
  };
}

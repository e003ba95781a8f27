/**
 * The messages between the worker pool (in the server process) and a worker process, over the
 * fork IPC channel. The pool does the metadata DB work for its workers (claims, heartbeats,
 * finishing tries), so a worker process needs no database connection: it runs tasks.
 */
import type { TryRef } from "../metadata/index.js";

/** How the pool tells its worker processes their log level (they read no configuration). */
export const WORKER_LOG_LEVEL_ENV = "HOURGLASS_WORKER_LOG_LEVEL";

/** Everything a worker needs to run one try of one task instance. */
export interface TaskJob {
  attempt: TryRef;
  dagId: string;
  taskId: string;
  runId: string;
  runType: "scheduled" | "backfill" | "manual" | "reexport";
  dataIntervalStart: number;
  dataIntervalEnd: number;
  logicalDate: number;
  conf: Record<string, unknown>;
  /** The DAG file to load (the worker caches it by code version). */
  dagFile: string;
  logPath: string;
  /** The try number after which a failure is final (for the try's first log line). */
  maxTries: number;
}

export interface ExportWritten {
  bucket: string;
  key: string;
  rows: number;
  bytes: number;
}

export type JobOutcome =
  | { state: "success"; exports: ExportWritten[]; codeVersion: string | null }
  | { state: "failed"; error: string; exports: ExportWritten[]; codeVersion: string | null };

export type PoolMessage =
  | { type: "run"; job: TaskJob }
  | { type: "abort"; reason: string }
  /** Load these DAG files now, while idle, so the first task of each does not wait for it. */
  | { type: "preload"; dags: Array<{ file: string; dagId: string }> };

export type WorkerMessage =
  | { type: "ready"; pid: number }
  /** The files of a `preload` are loaded (or failed to load: their tasks will say why). */
  | { type: "preloaded" }
  /** The DAG file is loaded and the task begins: its execution timeout starts now. */
  | { type: "started"; attempt: TryRef }
  | { type: "finished"; attempt: TryRef; outcome: JobOutcome }
  /** One JSON line of the worker's process log (src/log), for the server's log. */
  | { type: "log"; line: string };

/**
 * The task contract: what a task's code (a `run` function or an operator) may ask of the process
 * running it. Workers are processes of their own and the store (DuckDB) lives in the server
 * process, so a task reaches the store and the export path through `TaskServices`, which the
 * runtime builds (over HTTP in a worker, directly in the server or in `dags test`).
 *
 * Owned by workflows (the task context carries it); operators implement against it. A leaf file:
 * it imports types only, so neither side gets a cycle through it.
 */
import type { StoreService } from "../store/index.js";

/** What happens when an export's query returns no rows. */
export type EmptyResultPolicy = "skip" | "header-only" | "fail";

export interface ExportToLakeRequest {
  /** Timestream SQL, already rendered for the interval. */
  query: string;
  bucket: string;
  /** Object key, already rendered (e.g. `2021-09-22-13/my_file.csv`). */
  key: string;
  format: "csv" | "parquet";
  gzip?: boolean;
  /** CSV: a header line (default true). */
  header?: boolean;
  /** CSV: pandas' leading unnamed index column (default false). */
  indexColumn?: boolean;
  emptyResult: EmptyResultPolicy;
  /** Written into the manifest beside the file. */
  provenance: {
    dagId: string;
    taskId: string;
    runId: string;
    tryNumber: number;
    dataIntervalStart: string;
    dataIntervalEnd: string;
    codeVersion: string | null;
  };
}

export interface ExportToLakeResult {
  /** False when the result was empty and the policy was `skip`. */
  written: boolean;
  bucket: string;
  key: string;
  rows: number;
  bytes: number;
  sha256: string | null;
  manifestKey: string | null;
  /** Why nothing was written, when nothing was. */
  note?: string;
}

export interface TaskServices {
  store: StoreService;
  /** Runs the query where the store lives and commits the file and its manifest to the lake atomically. */
  exportToLake(request: ExportToLakeRequest): Promise<ExportToLakeResult>;
}

/**
 * What the worker knows about a task instance beyond its context. Added by the operators part:
 * the DAG file's code version (LoadedDag.codeVersion) goes into every export's manifest.
 */
export interface OperatorRunOptions {
  codeVersion?: string | null;
}

/**
 * The workflows part's second door, for worker processes (src/runtime/worker-entry.ts): what runs
 * one task instance and nothing else. A worker starts often and must start fast, so it does not go
 * through src/workflows/index.ts's neighbours in the scheduler (the metadata DB, the pool, the
 * scheduler loop): this file names only the task runner, the task logs, the exit guard, the DAG
 * import warm-up and the pool's message types.
 */
export { guardProcessExit } from "./exit-guard.js";
export { warmUpDagImports } from "./loader.js";
export type { JobOutcome, PoolMessage, TaskJob, WorkerMessage } from "./scheduler/messages.js";
export { WORKER_LOG_LEVEL_ENV } from "./scheduler/messages.js";
export { appendLog } from "./scheduler/task-logs.js";
export { DagFileCache, runTask } from "./scheduler/task-runner.js";

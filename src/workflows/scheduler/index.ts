/**
 * The scheduler part's public surface: the scheduler loop, backfills, the worker pool, the
 * workflow service the REST API and the CLI share, the task runner (`dags test`), task logs and
 * the typed lifecycle events.
 */
export {
  type BackfillCreated,
  BackfillManager,
  type BackfillPlan,
  type BackfillReprocess,
  type BackfillRequest,
  type PlannedBackfillInterval,
  type StaleIntervalSource,
} from "./backfills.js";
export { SchedulerDagBag } from "./dag-bag.js";
export { type TaskEvent, type WorkflowEventMap, type WorkflowEventName, WorkflowEvents } from "./events.js";
export { defaultMaxLostWorkers, lostWorkerError } from "./orphans.js";
export { type LateDataSource, reexportRunId } from "./reexports.js";
export { type RetentionSource, tablesInSql } from "./retention.js";
export {
  defaultHeartbeatTimeoutMs,
  defaultTickMs,
  Scheduler,
  type SchedulerOptions,
} from "./scheduler.js";
export {
  type ClearedView,
  type ClearRequest,
  type DagDetails,
  type RunDetails,
  type RunFilterRequest,
  type TaskLogView,
  type TaskStateView,
  type TaskSummary,
  type TriggerRequest,
  type WorkflowApi,
  WorkflowService,
} from "./service.js";
export { formatLogLine, readTaskLog, taskLogPath } from "./task-logs.js";
export {
  DagFileCache,
  type LoadedTaskDag,
  runTask,
  type TaskRunInput,
  type TaskRunResult,
} from "./task-runner.js";
export type {
  BackfillView,
  DagView,
  ImportErrorView,
  RunView,
  TaskInstanceView,
  TryView,
} from "./views.js";
export { WorkerPool, type WorkerPoolOptions } from "./worker-pool.js";

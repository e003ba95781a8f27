/**
 * The workflows part's public surface: the DAG definition API DAG files use (`dag`, `task`), the
 * schedule and interval planner the scheduler uses, the task context and templates workers use,
 * params validation for triggers, and the DAG file loader.
 */

export {
  createTaskContext,
  type OperatorRunner,
  parseRunId,
  type RunType,
  runIdFor,
  runTypes,
  type SqlHelpers,
  type TaskContext,
  type TaskContextInput,
  timeFilter,
} from "./context.js";
export {
  type Dag,
  type DagDefinition,
  type DateInput,
  dag,
  dagBrand,
  defaultMaxActiveRuns,
  defaultMaxActiveTasks,
  getTask,
  isDag,
  type RelativeDate,
  resolveStartDate,
  type StartDate,
} from "./dag.js";
export { listDagFiles } from "./dag-files.js";
export { defaultParseMemoryMb, type ParseOptions, parseDags } from "./dag-processor.js";
export { type DagWatcher, type WatchOptions, watchDags } from "./dag-watcher.js";
export {
  codeVersionOf,
  type DagBag,
  dagCodeVersion,
  defaultImportTimeoutMs,
  type FileLoad,
  type ImportError,
  type LoadedDag,
  type LoadOptions,
  type LoadWarning,
  loadDagFile,
  loadDags,
} from "./loader.js";
export {
  type DagParams,
  describeParams,
  type ParamSpec,
  type ParamsInput,
  type ParamsSchema,
  type ParamType,
  paramTypes,
  resolveParams,
} from "./params.js";
export {
  assertTimeZone,
  cronPresets,
  type DueIntervalsOptions,
  daysAgo,
  defaultBackfillIntervalsLimit,
  defaultDueIntervalsLimit,
  dueIntervals,
  fireAfter,
  fireAtOrAfter,
  fireAtOrBefore,
  fireBefore,
  type Interval,
  inferManualInterval,
  intervalForLogicalDate,
  intervalsBetween,
  isPeriodic,
  localDate,
  type NextIntervalOptions,
  nextDataInterval,
  type PlannedInterval,
  parseDateInZone,
  parseSchedule,
  planIntervalsBetween,
  type Schedule,
} from "./schedule.js";
export {
  deserializeDag,
  type SerializedDag,
  type SerializedParams,
  type SerializedTask,
  serializeDag,
} from "./serialized-dag.js";
export {
  defaultRetryDelayMs,
  isOperatorDescriptor,
  maxExponentialRetryDelayMs,
  type OperatorDescriptor,
  type RetryArgs,
  retryDelayMsAfter,
  type Task,
  type TaskDefinition,
  type TaskRun,
  task,
} from "./task.js";
export type {
  EmptyResultPolicy,
  ExportToLakeRequest,
  ExportToLakeResult,
  OperatorRunOptions,
  TaskServices,
} from "./task-contract.js";
export { renderTemplate, templateValues } from "./template.js";
export { dateStamp, intervalFolder, isoUtc, sqlTimestamp, timeStampNoDash } from "./time-format.js";

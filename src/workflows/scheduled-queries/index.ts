/** Timestream scheduled queries, run as generated DAGs on the workflows scheduler (docs/workflows.md). */
export { generatedDagFile, scheduledQueryTaskId } from "./dag-file.js";
export { checkMappings, recordsOfRow } from "./mappings.js";
export { cronOfScheduleExpression } from "./schedule-expression.js";
export {
  bindScheduledRuntime,
  type CreateScheduledQueryInput,
  dagIdOf,
  type ScheduledQueryHost,
  ScheduledQueryService,
  type ScheduledQueryServiceOptions,
  scheduledQueryDagsDir,
} from "./service.js";
export type * from "./types.js";

/**
 * The zod schemas of the workflow routes (workflow-routes.ts): requests with the messages the
 * routes always gave ("isPaused must be true or false"), answers as the views in
 * src/workflows/scheduler/views.ts shape them. Rules that need a DAG (params, ranges, states)
 * stay in the WorkflowService, which the CLI shares.
 */
import { z } from "zod";
import {
  backfillStates,
  reprocessBehaviors,
  runStates,
  runTypes,
  taskStates,
} from "../../workflows/metadata/index.js";
import { isoTime } from "../openapi/index.js";

/** What a backfill may re-run: the metadata DB's behaviours, and "stale" (docs/freshness.md). */
const backfillReprocessChoices = [...reprocessBehaviors, "stale"] as const;

/** `null` reads as absent, as the routes always did. */
const optionalString = (name: string) =>
  z
    .string({ error: `${name} must be a string` })
    .nullish()
    .transform((v) => v ?? undefined);
const optionalBoolean = (name: string) =>
  z
    .boolean({ error: `${name} must be true or false` })
    .nullish()
    .transform((v) => v ?? undefined);
const optionalObject = (name: string) =>
  z
    .record(z.string(), z.unknown(), { error: `${name} must be a JSON object` })
    .nullish()
    .transform((v) => v ?? undefined);

/** Path and query text that must be a positive integer: `name must be a positive integer, got "x"`. */
export const positiveIntegerText = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, {
      error: (issue) => `${name} must be a positive integer, got ${JSON.stringify(issue.input)}`,
    })
    .transform(Number)
    .refine((n) => n >= 1, {
      error: (issue) => `${name} must be a positive integer, got ${JSON.stringify(String(issue.input))}`,
    });

/** Comma-separated lists in queries (`state=failed,success`). */
const listText = (description: string) =>
  z
    .string()
    .optional()
    .transform((text) =>
      text === undefined || text === "" ? undefined : text.split(",").map((item) => item.trim()),
    )
    .describe(description);

export const dagParams = z.object({ dagId: z.string() });
export const runParams = dagParams.extend({
  runId: z.string().describe("URL-encoded: run ids contain : and +"),
});
export const taskParams = runParams.extend({ taskId: z.string() });
export const backfillParams = z.object({ id: positiveIntegerText("backfill id") });

export const setPausedBody = z.object({
  isPaused: z.boolean({
    error: (issue) =>
      issue.input === undefined
        ? 'send { "isPaused": true } or { "isPaused": false }'
        : "isPaused must be true or false",
  }),
});

export const triggerBody = z.object({
  conf: optionalObject("conf").describe("checked against the DAG's params"),
  logicalDate: optionalString("logicalDate").describe(
    "ISO time; the run's interval is the one starting at or containing it",
  ),
});

export const runFilterQuery = z.object({
  state: listText(`comma-separated run states: ${runStates.join(", ")}`),
  runType: listText(`comma-separated run types: ${runTypes.join(", ")}`),
  limit: positiveIntegerText("limit").optional().describe("newest first; default 100"),
});
export const allRunsQuery = runFilterQuery.extend({ dagId: z.string().optional() });

export const markRunBody = z.object({
  state: z.enum(["success", "failed"], {
    error: (issue) => `state must be "success" or "failed", got ${JSON.stringify(issue.input)}`,
  }),
});

export const logQuery = z.object({
  try: positiveIntegerText("try").optional().describe("default: the latest try"),
});
export const logParams = taskParams.extend({ try: positiveIntegerText("try") });

export const clearBody = z.object({
  runId: optionalString("runId").describe("one run; or from and to"),
  from: optionalString("from").describe("every run whose logical date is in [from, to]"),
  to: optionalString("to"),
  taskIds: z
    .array(z.string(), { error: "taskIds must be an array of strings" })
    .nullish()
    .transform((v) => v ?? undefined),
  onlyFailed: optionalBoolean("onlyFailed"),
  downstream: optionalBoolean("downstream").describe("also the tasks downstream of taskIds"),
});

const fromAndTo = "from and to are required (e.g. 2021-09-21)";
export const backfillBody = z.object({
  dagId: z.string({ error: "dagId is required" }).min(1, "dagId is required"),
  from: z
    .string({ error: fromAndTo })
    .min(1, fromAndTo)
    .describe("the first interval start (a date is midnight in the DAG's zone)"),
  to: z.string({ error: fromAndTo }).min(1, fromAndTo).describe("the last interval start, included"),
  reprocess: z
    .enum(backfillReprocessChoices, {
      error: (issue) =>
        `reprocess must be one of ${backfillReprocessChoices.join(", ")}, got ${JSON.stringify(issue.input)}`,
    })
    .nullish()
    .transform((v) => v ?? undefined)
    .describe(
      "intervals that already have a run: none (default), failed, all; stale: only the intervals whose exports are stale (docs/freshness.md)",
    ),
  maxActiveRuns: z
    .number({ error: "maxActiveRuns must be a number" })
    .optional()
    .describe("default: the DAG's"),
  conf: optionalObject("conf"),
  dryRun: optionalBoolean("dryRun").describe("only plan: list the intervals and warnings"),
});

export const backfillListQuery = z.object({ dagId: z.string().optional() });

const dagViewShape = {
  dagId: z.string(),
  filePath: z.string(),
  codeVersion: z.string(),
  schedule: z.string().nullable(),
  timezone: z.string(),
  startDate: isoTime.nullable(),
  endDate: isoTime.nullable(),
  catchup: z.boolean(),
  maxActiveRuns: z.number().int(),
  maxActiveTasks: z.number().int(),
  isPaused: z.boolean(),
  isActive: z.boolean(),
  lastScheduledIntervalEnd: isoTime.nullable(),
  importError: z.string().nullable(),
};
export const dagSchema = z.object(dagViewShape).meta({ id: "Dag" });

export const dagDetailsSchema = z
  .object({
    ...dagViewShape,
    loaded: z.boolean().describe("false when the DAG's file is gone or has not loaded"),
    description: z.string().nullable(),
    tags: z.array(z.string()),
    dagrunTimeoutMs: z.number().nullable(),
    tasks: z.array(
      z.object({
        taskId: z.string(),
        upstream: z.array(z.string()),
        downstream: z.array(z.string()),
        kind: z.string(),
        retries: z.number().int(),
        retryDelayMs: z.number(),
        executionTimeoutMs: z.number().nullable(),
        dependsOnPast: z.boolean(),
      }),
    ),
    params: z
      .array(z.looseObject({ name: z.string(), type: z.string() }))
      .nullable()
      .describe(
        "the DAG's params (name, type, default, enum, minimum, maximum); null when a zod schema checks them",
      ),
  })
  .meta({ id: "DagDetails" });

const runShape = {
  id: z.number().int(),
  dagId: z.string(),
  runId: z.string(),
  runType: z.enum(runTypes as [string, ...string[]]),
  state: z.enum(runStates as [string, ...string[]]),
  logicalDate: isoTime,
  dataIntervalStart: isoTime,
  dataIntervalEnd: isoTime,
  conf: z.record(z.string(), z.unknown()),
  backfillId: z.number().int().nullable(),
  clearNumber: z.number().int(),
  codeVersion: z.string().nullable(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  endedAt: isoTime.nullable(),
};
export const runSchema = z.object(runShape).meta({ id: "Run" });

const taskInstanceShape = {
  dagId: z.string(),
  runId: z.string(),
  taskId: z.string(),
  state: z.enum(taskStates as [string, ...string[]]),
  tryNumber: z.number().int(),
  maxTries: z.number().int(),
  queuedAt: isoTime.nullable(),
  startedAt: isoTime.nullable(),
  endedAt: isoTime.nullable(),
  nextRetryAt: isoTime.nullable(),
  durationMs: z.number().nullable(),
  workerId: z.string().nullable(),
  pid: z.number().int().nullable(),
  error: z.string().nullable(),
  logPath: z.string().nullable(),
  codeVersion: z.string().nullable().describe("the code version the latest finished try ran"),
};
export const taskInstanceSchema = z.object(taskInstanceShape).meta({ id: "TaskInstance" });

export const runDetailsSchema = z
  .object({ ...runShape, taskInstances: z.array(taskInstanceSchema) })
  .meta({ id: "RunDetails" });

export const taskStateSchema = z
  .object({
    ...taskInstanceShape,
    tries: z.array(
      z.object({
        tryNumber: z.number().int(),
        state: z.string(),
        workerId: z.string().nullable(),
        startedAt: isoTime,
        endedAt: isoTime.nullable(),
        error: z.string().nullable(),
        logPath: z.string().nullable(),
        codeVersion: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "TaskState" });

export const taskLogSchema = z
  .object({ tryNumber: z.number().int(), text: z.string() })
  .meta({ id: "TaskLog" });

export const clearedSchema = z.object({
  runs: z.array(z.string()),
  taskInstances: z.array(z.object({ runId: z.string(), taskId: z.string() })),
});

export const importErrorSchema = z
  .object({
    file: z.string(),
    line: z.number().int().nullable(),
    column: z.number().int().nullable(),
    message: z.string(),
    at: isoTime,
  })
  .meta({ id: "ImportError" });

export const backfillSchema = z
  .object({
    id: z.number().int(),
    dagId: z.string(),
    from: isoTime,
    to: isoTime.describe("the end of the last interval"),
    reprocess: z.enum(reprocessBehaviors as [string, ...string[]]),
    maxActiveRuns: z.number().int(),
    state: z.enum(backfillStates as [string, ...string[]]),
    total: z.number().int(),
    createdAt: isoTime,
    completedAt: isoTime.nullable(),
    progress: z
      .object({
        backfillId: z.number().int(),
        state: z.string(),
        total: z.number().int(),
        created: z.number().int(),
        reprocessed: z.number().int(),
        skipped: z.number().int(),
        queued: z.number().int(),
        running: z.number().int(),
        succeeded: z.number().int(),
        failed: z.number().int(),
        done: z.number().int().describe("the backfill is finished when done == total"),
      })
      .optional(),
  })
  .meta({ id: "Backfill" });

export const backfillCreatedSchema = z
  .object({
    plan: z.object({
      dagId: z.string(),
      from: isoTime,
      to: isoTime,
      reprocess: z.string(),
      maxActiveRuns: z.number().int(),
      intervals: z.array(z.object({ start: isoTime, end: isoTime, runId: z.string() })),
      warnings: z.array(z.string()).describe("e.g. intervals older than the table's retention"),
    }),
    backfill: backfillSchema.optional().describe("absent for a dry run"),
    results: z
      .array(
        z.object({
          start: isoTime,
          end: isoTime,
          disposition: z.string(),
          dagRunId: z.number().int(),
          reason: z.string().optional(),
        }),
      )
      .optional()
      .describe("one per interval: created, reprocessed, or skipped with the reason"),
  })
  .meta({ id: "BackfillCreated" });

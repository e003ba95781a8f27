/**
 * REST routes of Timestream scheduled queries (managed through the Timestream Query endpoint):
 * a list for people and scripts, and the route the generated DAG's task calls to run one for its
 * run's time (src/workflows/scheduled-queries/dag-file.ts).
 */
import { Hono } from "hono";
import { z } from "zod";
import { validationError } from "../../errors.js";
import type { RunSummary, ScheduledQueryService } from "../../workflows/scheduled-queries/index.js";
import { defineRoute, isoTime } from "../openapi/index.js";

const tag = "Scheduled queries";
const nameParams = z.object({ name: z.string().describe("the scheduled query's Name") });

const runSummarySchema = z.object({
  InvocationTime: isoTime,
  TriggerTime: isoTime,
  RunStatus: z.enum([
    "AUTO_TRIGGER_SUCCESS",
    "AUTO_TRIGGER_FAILURE",
    "MANUAL_TRIGGER_SUCCESS",
    "MANUAL_TRIGGER_FAILURE",
  ]),
  ExecutionStats: z.object({
    ExecutionTimeInMillis: z.number(),
    DataWrites: z.number(),
    BytesMetered: z.number(),
    CumulativeBytesScanned: z.number(),
    RecordsIngested: z.number(),
    QueryResultRows: z.number(),
  }),
  ErrorReportLocation: z
    .object({ S3ReportLocation: z.object({ BucketName: z.string(), ObjectKey: z.string() }) })
    .optional(),
  FailureReason: z.string().optional(),
});

const summaryView = (s: RunSummary) => ({
  ...s,
  InvocationTime: new Date(s.InvocationTime).toISOString(),
  TriggerTime: new Date(s.TriggerTime).toISOString(),
});

export function scheduledQueryRoutes(service: ScheduledQueryService): Hono {
  const app = new Hono();
  defineRoute(
    app,
    {
      method: "get",
      path: "/scheduled-queries",
      tag,
      summary: "List the Timestream scheduled queries, by name, with their DAG and last run",
      description:
        "Create, change and delete them through the Timestream Query endpoint (CreateScheduledQuery, UpdateScheduledQuery, DeleteScheduledQuery).",
      responses: {
        200: {
          description: "the scheduled queries",
          schema: z.object({
            scheduledQueries: z.array(
              z.object({
                name: z.string(),
                arn: z.string(),
                state: z.enum(["ENABLED", "DISABLED"]),
                scheduleExpression: z.string(),
                cron: z.string().describe("the five-field cron its DAG runs on"),
                dagId: z.string(),
                lastRun: runSummarySchema.nullable(),
              }),
            ),
          }),
        },
      },
    },
    async (c) =>
      c.json({
        scheduledQueries: service.list().map((d) => ({
          name: d.Name,
          arn: d.Arn,
          state: d.State,
          scheduleExpression: d.ScheduleConfiguration.ScheduleExpression,
          cron: d.cron,
          dagId: d.dagId,
          lastRun: d.LastRunSummary ? summaryView(d.LastRunSummary) : null,
        })),
      }),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/scheduled-queries/:name/executions",
      tag,
      summary: "Run a scheduled query for an invocation time (what its DAG's task calls)",
      description:
        "@scheduled_runtime is the invocation time. The answer is the run's summary: a failed run is a 200 with RunStatus …_FAILURE, a FailureReason and the error report's location.",
      params: nameParams,
      body: z.object({
        invocationTime: isoTime,
        trigger: z.enum(["scheduled", "manual"]).optional().describe("default scheduled"),
      }),
      bodyLabel: "execution",
      responses: { 200: { description: "the run's summary", schema: runSummarySchema } },
      errors: { 404: "no scheduled query has that name" },
    },
    async (c, { params, body }) => {
      const ms = Date.parse(body.invocationTime);
      if (Number.isNaN(ms)) {
        throw validationError(`invocationTime '${body.invocationTime}' is not an ISO 8601 time`);
      }
      const summary = await service.execute(
        service.byName(params.name).Name,
        ms,
        body.trigger ?? "scheduled",
      );
      return c.json(summaryView(summary));
    },
  );
  return app;
}

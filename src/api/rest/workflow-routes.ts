/**
 * REST routes of the workflows (docs/api.md, "Workflows"), mounted under /api/v1: DAGs, runs,
 * task instances and their logs, import errors, backfills. A thin layer over WorkflowApi, so the
 * CLI gets the same answers in-process and over HTTP. Each route's schemas (workflow-schemas.ts)
 * check its request and make its part of the OpenAPI document.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { BackfillRequest, WorkflowApi } from "../../workflows/scheduler/index.js";
import { defineRoute } from "../openapi/index.js";
import {
  allRunsQuery,
  backfillBody,
  backfillCreatedSchema,
  backfillListQuery,
  backfillParams,
  backfillSchema,
  clearBody,
  clearedSchema,
  dagDetailsSchema,
  dagParams,
  dagSchema,
  importErrorSchema,
  logParams,
  logQuery,
  markRunBody,
  runDetailsSchema,
  runFilterQuery,
  runParams,
  runSchema,
  setPausedBody,
  taskInstanceSchema,
  taskLogSchema,
  taskParams,
  taskStateSchema,
  triggerBody,
} from "./workflow-schemas.js";

const dagsTag = "DAGs and runs";
const backfillsTag = "Backfills";
const noDag = { 404: "the DAG is not known" };
const noRun = { 404: "the DAG or the run does not exist" };
const noTask = { 404: "the DAG, the run or the task does not exist" };
const noBackfill = { 404: "no backfill has that id" };

/** Drops the filter fields a query left out. */
function runFilter(query: { state?: string[]; runType?: string[]; limit?: number }) {
  return {
    ...(query.state === undefined ? {} : { states: query.state }),
    ...(query.runType === undefined ? {} : { runTypes: query.runType }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
  };
}

/** Only the fields that were sent: the service tells "absent" from any value. */
function present<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export function workflowRoutes(workflows: WorkflowApi): Hono {
  const app = new Hono();

  defineRoute(
    app,
    {
      method: "get",
      path: "/dags",
      tag: dagsTag,
      summary: "List the DAGs: schedule, paused, active, file, code version, import error",
      responses: { 200: { description: "the DAGs", schema: z.object({ dags: z.array(dagSchema) }) } },
    },
    async (c) => c.json({ dags: await workflows.listDags() }),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId",
      tag: dagsTag,
      summary: "Show a DAG with its tasks and params",
      params: dagParams,
      responses: { 200: { description: "the DAG", schema: dagDetailsSchema } },
      errors: noDag,
    },
    async (c, { params }) => c.json(await workflows.getDag(params.dagId)),
  );
  defineRoute(
    app,
    {
      method: "patch",
      path: "/dags/:dagId",
      tag: dagsTag,
      summary: "Pause or unpause a DAG",
      params: dagParams,
      body: setPausedBody,
      responses: { 200: { description: "the DAG", schema: dagSchema } },
      errors: noDag,
    },
    async (c, { params, body }) => c.json(await workflows.setPaused(params.dagId, body.isPaused)),
  );
  for (const [action, paused] of [
    ["pause", true],
    ["unpause", false],
  ] as const) {
    defineRoute(
      app,
      {
        method: "post",
        path: `/dags/:dagId/${action}`,
        tag: dagsTag,
        summary: `${paused ? "Pause" : "Unpause"} a DAG`,
        params: dagParams,
        responses: { 200: { description: "the DAG", schema: dagSchema } },
        errors: noDag,
      },
      async (c, { params }) => c.json(await workflows.setPaused(params.dagId, paused)),
    );
  }
  defineRoute(
    app,
    {
      method: "post",
      path: "/dags/:dagId/runs",
      tag: dagsTag,
      summary: "Trigger a run, with a conf checked against the DAG's params",
      params: dagParams,
      body: triggerBody,
      responses: { 201: { description: "the run", schema: runSchema } },
      errors: { ...noDag, 409: "a run already covers the interval" },
    },
    async (c, { params, body }) => c.json(await workflows.trigger(params.dagId, present(body)), 201),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/runs",
      tag: dagsTag,
      summary: "List a DAG's runs, newest first",
      params: dagParams,
      query: runFilterQuery,
      responses: { 200: { description: "the runs", schema: z.object({ runs: z.array(runSchema) }) } },
      errors: noDag,
    },
    async (c, { params, query }) =>
      c.json({ runs: await workflows.listRuns({ dagId: params.dagId, ...runFilter(query) }) }),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/runs",
      tag: dagsTag,
      summary: "List runs of every DAG (or one), newest first",
      query: allRunsQuery,
      responses: { 200: { description: "the runs", schema: z.object({ runs: z.array(runSchema) }) } },
    },
    async (c, { query }) =>
      c.json({
        runs: await workflows.listRuns({
          ...(query.dagId ? { dagId: query.dagId } : {}),
          ...runFilter(query),
        }),
      }),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/runs/:runId",
      tag: dagsTag,
      summary: "Show a run with its task instances",
      params: runParams,
      responses: { 200: { description: "the run", schema: runDetailsSchema } },
      errors: noRun,
    },
    async (c, { params }) => c.json(await workflows.getRun(params.dagId, params.runId)),
  );
  defineRoute(
    app,
    {
      method: "patch",
      path: "/dags/:dagId/runs/:runId",
      tag: dagsTag,
      summary: "Mark a run success or failed (its unfinished tasks settled)",
      params: runParams,
      body: markRunBody,
      responses: { 200: { description: "the run", schema: runSchema } },
      errors: noRun,
    },
    async (c, { params, body }) => c.json(await workflows.markRun(params.dagId, params.runId, body.state)),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/runs/:runId/tasks",
      tag: dagsTag,
      summary: "A run's task instances",
      params: runParams,
      responses: {
        200: {
          description: "the task instances",
          schema: z.object({ taskInstances: z.array(taskInstanceSchema) }),
        },
      },
      errors: noRun,
    },
    async (c, { params }) =>
      c.json({ taskInstances: (await workflows.getRun(params.dagId, params.runId)).taskInstances }),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/runs/:runId/tasks/:taskId",
      tag: dagsTag,
      summary: "A task instance and its tries, each with the code version it ran",
      params: taskParams,
      responses: { 200: { description: "the task instance", schema: taskStateSchema } },
      errors: noTask,
    },
    async (c, { params }) => c.json(await workflows.taskState(params.dagId, params.runId, params.taskId)),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/runs/:runId/tasks/:taskId/logs",
      tag: dagsTag,
      summary: "A try's log (the latest try unless ?try=n)",
      params: taskParams,
      query: logQuery,
      responses: { 200: { description: "the log", schema: taskLogSchema } },
      errors: { 404: "the task does not exist, or the try never ran" },
    },
    async (c, { params, query }) =>
      c.json(await workflows.taskLog(params.dagId, params.runId, params.taskId, query.try)),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/dags/:dagId/runs/:runId/tasks/:taskId/logs/:try",
      tag: dagsTag,
      summary: "One try's log",
      params: logParams,
      responses: { 200: { description: "the log", schema: taskLogSchema } },
      errors: { 404: "the task does not exist, or the try never ran" },
    },
    async (c, { params }) =>
      c.json(await workflows.taskLog(params.dagId, params.runId, params.taskId, params.try)),
  );
  defineRoute(
    app,
    {
      method: "post",
      path: "/dags/:dagId/clear",
      tag: dagsTag,
      summary: "Clear task instances so that they run again",
      description:
        "Name one run (runId) or a range of logical dates (from, to); taskIds, onlyFailed and downstream narrow it.",
      params: dagParams,
      body: clearBody,
      responses: { 200: { description: "what was cleared", schema: clearedSchema } },
      errors: noDag,
    },
    async (c, { params, body }) => c.json(await workflows.clear({ dagId: params.dagId, ...present(body) })),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/import-errors",
      tag: dagsTag,
      summary: "DAG files that failed to load, with file, line, column and message",
      responses: {
        200: { description: "the errors", schema: z.object({ importErrors: z.array(importErrorSchema) }) },
      },
    },
    async (c) => c.json({ importErrors: await workflows.importErrors() }),
  );

  defineRoute(
    app,
    {
      method: "post",
      path: "/backfills",
      tag: backfillsTag,
      summary: "Start a backfill over a range of intervals, or plan one (dryRun)",
      body: backfillBody,
      responses: {
        200: { description: "a dry run: the plan only", schema: backfillCreatedSchema },
        201: {
          description: "the backfill, its plan and one result per interval",
          schema: backfillCreatedSchema,
        },
      },
      errors: { ...noDag, 409: "another backfill holds part of the range" },
    },
    async (c, { body }) => {
      const request: BackfillRequest = { ...present(body), dagId: body.dagId, from: body.from, to: body.to };
      const created = await workflows.createBackfill({ ...request, dryRun: body.dryRun ?? false });
      return c.json(created, body.dryRun ? 200 : 201);
    },
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/backfills",
      tag: backfillsTag,
      summary: "List the backfills (of one DAG with ?dagId=)",
      query: backfillListQuery,
      responses: {
        200: { description: "the backfills", schema: z.object({ backfills: z.array(backfillSchema) }) },
      },
    },
    async (c, { query }) =>
      c.json({ backfills: await workflows.listBackfills(query.dagId ? { dagId: query.dagId } : {}) }),
  );
  defineRoute(
    app,
    {
      method: "get",
      path: "/backfills/:id",
      tag: backfillsTag,
      summary: "A backfill with its progress",
      params: backfillParams,
      responses: { 200: { description: "the backfill", schema: backfillSchema } },
      errors: noBackfill,
    },
    async (c, { params }) => c.json(await workflows.getBackfill(params.id)),
  );
  const actions = {
    pause: (id: number) => workflows.pauseBackfill(id),
    resume: (id: number) => workflows.resumeBackfill(id),
    cancel: (id: number) => workflows.cancelBackfill(id),
  };
  for (const [action, act] of Object.entries(actions)) {
    defineRoute(
      app,
      {
        method: "post",
        path: `/backfills/:id/${action}`,
        tag: backfillsTag,
        summary: `${action.charAt(0).toUpperCase()}${action.slice(1)} a backfill`,
        params: backfillParams,
        responses: { 200: { description: "the backfill", schema: backfillSchema } },
        errors: { ...noBackfill, 409: "the backfill's state does not allow it" },
      },
      async (c, { params }) => c.json(await act(params.id)),
    );
  }
  return app;
}

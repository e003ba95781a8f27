/**
 * REST routes of the workflows (docs/api.md, "Workflows"), mounted under /api/v1: DAGs, runs,
 * task instances and their logs, import errors, backfills. A thin layer over WorkflowApi, so the
 * CLI gets the same answers in-process and over HTTP.
 */
import { Hono } from "hono";
import { validationError } from "../../errors.js";
import type { BackfillRequest, WorkflowApi } from "../../workflows/scheduler/index.js";

async function jsonBody(c: { req: { text: () => Promise<string> } }): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw validationError("the request body must be JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw validationError("the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw validationError(`${key} must be a string`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw validationError(`${key} must be true or false`);
  return value;
}

function optionalObject(body: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value))
    throw validationError(`${key} must be a JSON object`);
  return value as Record<string, unknown>;
}

function optionalStrings(body: Record<string, unknown>, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw validationError(`${key} must be an array of strings`);
  }
  return value as string[];
}

function positiveInteger(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw validationError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function list(text: string | undefined): string[] | undefined {
  return text === undefined || text === "" ? undefined : text.split(",").map((item) => item.trim());
}

export function workflowRoutes(workflows: WorkflowApi): Hono {
  const app = new Hono();

  app.get("/dags", async (c) => c.json({ dags: await workflows.listDags() }));
  app.get("/dags/:dagId", async (c) => c.json(await workflows.getDag(c.req.param("dagId"))));
  app.patch("/dags/:dagId", async (c) => {
    const body = await jsonBody(c);
    const paused = optionalBoolean(body, "isPaused");
    if (paused === undefined) throw validationError('send { "isPaused": true } or { "isPaused": false }');
    return c.json(await workflows.setPaused(c.req.param("dagId"), paused));
  });
  app.post("/dags/:dagId/pause", async (c) => c.json(await workflows.setPaused(c.req.param("dagId"), true)));
  app.post("/dags/:dagId/unpause", async (c) =>
    c.json(await workflows.setPaused(c.req.param("dagId"), false)),
  );
  app.post("/dags/:dagId/runs", async (c) => {
    const body = await jsonBody(c);
    const logicalDate = optionalString(body, "logicalDate");
    const conf = optionalObject(body, "conf");
    const run = await workflows.trigger(c.req.param("dagId"), {
      ...(conf === undefined ? {} : { conf }),
      ...(logicalDate === undefined ? {} : { logicalDate }),
    });
    return c.json(run, 201);
  });
  app.get("/dags/:dagId/runs", async (c) =>
    c.json({
      runs: await workflows.listRuns({
        dagId: c.req.param("dagId"),
        ...runFilter(c.req.query("state"), c.req.query("runType"), c.req.query("limit")),
      }),
    }),
  );
  app.get("/runs", async (c) =>
    c.json({
      runs: await workflows.listRuns({
        ...(c.req.query("dagId") ? { dagId: c.req.query("dagId") } : {}),
        ...runFilter(c.req.query("state"), c.req.query("runType"), c.req.query("limit")),
      }),
    }),
  );
  app.get("/dags/:dagId/runs/:runId", async (c) =>
    c.json(await workflows.getRun(c.req.param("dagId"), c.req.param("runId"))),
  );
  app.patch("/dags/:dagId/runs/:runId", async (c) => {
    const body = await jsonBody(c);
    const state = optionalString(body, "state");
    if (state !== "success" && state !== "failed") {
      throw validationError(`state must be "success" or "failed", got ${JSON.stringify(state)}`);
    }
    return c.json(await workflows.markRun(c.req.param("dagId"), c.req.param("runId"), state));
  });
  app.get("/dags/:dagId/runs/:runId/tasks", async (c) =>
    c.json({
      taskInstances: (await workflows.getRun(c.req.param("dagId"), c.req.param("runId"))).taskInstances,
    }),
  );
  app.get("/dags/:dagId/runs/:runId/tasks/:taskId", async (c) =>
    c.json(await workflows.taskState(c.req.param("dagId"), c.req.param("runId"), c.req.param("taskId"))),
  );
  app.get("/dags/:dagId/runs/:runId/tasks/:taskId/logs", async (c) =>
    c.json(
      await workflows.taskLog(
        c.req.param("dagId"),
        c.req.param("runId"),
        c.req.param("taskId"),
        positiveInteger(c.req.query("try"), "try"),
      ),
    ),
  );
  app.get("/dags/:dagId/runs/:runId/tasks/:taskId/logs/:try", async (c) =>
    c.json(
      await workflows.taskLog(
        c.req.param("dagId"),
        c.req.param("runId"),
        c.req.param("taskId"),
        positiveInteger(c.req.param("try"), "try"),
      ),
    ),
  );
  app.post("/dags/:dagId/clear", async (c) => {
    const body = await jsonBody(c);
    const taskIds = optionalStrings(body, "taskIds");
    const runId = optionalString(body, "runId");
    const from = optionalString(body, "from");
    const to = optionalString(body, "to");
    const onlyFailed = optionalBoolean(body, "onlyFailed");
    const downstream = optionalBoolean(body, "downstream");
    return c.json(
      await workflows.clear({
        dagId: c.req.param("dagId"),
        ...(runId === undefined ? {} : { runId }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(taskIds === undefined ? {} : { taskIds }),
        ...(onlyFailed === undefined ? {} : { onlyFailed }),
        ...(downstream === undefined ? {} : { downstream }),
      }),
    );
  });
  app.get("/import-errors", async (c) => c.json({ importErrors: await workflows.importErrors() }));

  app.post("/backfills", async (c) => {
    const body = await jsonBody(c);
    const maxActiveRuns = body["maxActiveRuns"];
    if (maxActiveRuns !== undefined && typeof maxActiveRuns !== "number") {
      throw validationError("maxActiveRuns must be a number");
    }
    const request: BackfillRequest = {
      dagId: optionalString(body, "dagId") ?? "",
      from: optionalString(body, "from") ?? "",
      to: optionalString(body, "to") ?? "",
      ...(optionalString(body, "reprocess") === undefined
        ? {}
        : { reprocess: optionalString(body, "reprocess") as BackfillRequest["reprocess"] }),
      ...(maxActiveRuns === undefined ? {} : { maxActiveRuns }),
      ...(optionalObject(body, "conf") === undefined ? {} : { conf: optionalObject(body, "conf") }),
      dryRun: optionalBoolean(body, "dryRun") ?? false,
    };
    if (request.dagId === "") throw validationError("dagId is required");
    if (request.from === "" || request.to === "")
      throw validationError("from and to are required (e.g. 2021-09-21)");
    const created = await workflows.createBackfill(request);
    return c.json(created, request.dryRun ? 200 : 201);
  });
  app.get("/backfills", async (c) =>
    c.json({
      backfills: await workflows.listBackfills(c.req.query("dagId") ? { dagId: c.req.query("dagId") } : {}),
    }),
  );
  app.get("/backfills/:id", async (c) => c.json(await workflows.getBackfill(backfillId(c.req.param("id")))));
  app.post("/backfills/:id/pause", async (c) =>
    c.json(await workflows.pauseBackfill(backfillId(c.req.param("id")))),
  );
  app.post("/backfills/:id/resume", async (c) =>
    c.json(await workflows.resumeBackfill(backfillId(c.req.param("id")))),
  );
  app.post("/backfills/:id/cancel", async (c) =>
    c.json(await workflows.cancelBackfill(backfillId(c.req.param("id")))),
  );
  return app;
}

function backfillId(text: string): number {
  return positiveInteger(text, "backfill id") ?? 0;
}

function runFilter(state: string | undefined, runType: string | undefined, limit: string | undefined) {
  const states = list(state);
  const runTypes = list(runType);
  const max = positiveInteger(limit, "limit");
  return {
    ...(states === undefined ? {} : { states }),
    ...(runTypes === undefined ? {} : { runTypes }),
    ...(max === undefined ? {} : { limit: max }),
  };
}

/** The workflow REST routes, through Hono's app.request (no socket), with the app's error shape. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { Hono } from "hono";
import { HTTP_STATUS, restErrorBody } from "../../src/api/errors.js";
import { workflowRoutes } from "../../src/api/rest/workflow-routes.js";
import { toHourglassError } from "../../src/errors.js";
import { sqliteTargets } from "../metadata/helpers.js";
import { dagSource, onEachDatabase } from "./helpers.js";

const dags = {
  "api.ts": dagSource({
    id: "api",
    schedule: "@hourly",
    startDate: "2024-03-01T00:00:00Z",
    params: { limit: { type: "integer", default: 1, minimum: 1 } },
  }),
};

onEachDatabase(
  "workflow REST routes",
  { start: "2024-03-01T05:30:00Z", dags },
  (harness) => {
    const app = () => {
      const a = new Hono();
      a.route("/api/v1", workflowRoutes(harness().service));
      a.onError((thrown, c) => {
        const error = toHourglassError(thrown);
        return c.json(restErrorBody(error), HTTP_STATUS[error.code] as 400);
      });
      return a;
    };
    const call = async (method: string, route: string, body?: unknown) => {
      const response = await app().request(`/api/v1${route}`, {
        method,
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        headers: { "content-type": "application/json" },
      });
      // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field by the tests
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };

    it("lists, shows, unpauses, triggers, lists runs and shows a run", async () => {
      assert.deepEqual(
        (await call("GET", "/dags")).body.dags.map((d: { dagId: string }) => d.dagId),
        ["api"],
      );
      const shown = await call("GET", "/dags/api");
      assert.deepEqual(
        shown.body.tasks.map((t: { taskId: string }) => t.taskId),
        ["only"],
      );
      assert.equal((await call("POST", "/dags/api/unpause")).body.isPaused, false);
      const triggered = await call("POST", "/dags/api/runs", {
        logicalDate: "2024-03-01T01:00:00Z",
        conf: { limit: 2 },
      });
      assert.equal(triggered.status, 201);
      assert.equal(triggered.body.runId, "manual__2024-03-01T01:00:00+00:00");
      await harness().work();
      const runs = await call("GET", "/dags/api/runs?state=success");
      assert.ok(
        runs.body.runs.some((r: { runId: string }) => r.runId === "manual__2024-03-01T01:00:00+00:00"),
      );
      const run = await call(
        "GET",
        `/dags/api/runs/${encodeURIComponent("manual__2024-03-01T01:00:00+00:00")}`,
      );
      assert.equal(run.body.taskInstances[0].state, "success");
      const state = await call("GET", `/dags/api/runs/${encodeURIComponent(run.body.runId)}/tasks/only`);
      assert.equal(state.body.tries.length, 1);
    });

    it("backfills: dry run (200), create (201), show with progress, cancel, then 409", async () => {
      const dry = await call("POST", "/backfills", {
        dagId: "api",
        from: "2024-02-01T00:00Z",
        to: "2024-02-01T02:00Z",
        dryRun: true,
      });
      assert.equal(dry.status, 200);
      assert.equal(dry.body.plan.intervals.length, 3);
      const made = await call("POST", "/backfills", {
        dagId: "api",
        from: "2024-02-01T00:00Z",
        to: "2024-02-01T02:00Z",
      });
      assert.equal(made.status, 201);
      const id = made.body.backfill.id;
      assert.equal((await call("GET", `/backfills/${id}`)).body.progress.total, 3);
      assert.equal((await call("POST", `/backfills/${id}/cancel`)).body.state, "cancelled");
      const again = await call("POST", `/backfills/${id}/cancel`);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, "Conflict");
    });

    it("answers bad input with 400/404 and the error's message", async () => {
      const cases: Array<[string, string, unknown, number, RegExp]> = [
        ["POST", "/dags/api/runs", "{not json", 400, /the request body must be JSON/],
        ["POST", "/dags/api/runs", { conf: { limit: 0 } }, 400, /limit: must be >= 1/],
        ["POST", "/dags/api/runs", { conf: [1] }, 400, /conf must be a JSON object/],
        ["POST", "/dags/nope/runs", {}, 404, /DAG "nope" is not known/],
        ["PATCH", "/dags/api", { isPaused: "yes" }, 400, /isPaused must be true or false/],
        ["PATCH", "/dags/api/runs/x", { state: "done" }, 400, /state must be "success" or "failed"/],
        ["GET", "/dags/api/runs/nope", undefined, 404, /has no run nope/],
        ["GET", "/runs?limit=0", undefined, 400, /limit must be a positive integer/],
        ["GET", "/runs?state=weird", undefined, 400, /state must be one of queued, running, success, failed/],
        [
          "POST",
          "/backfills",
          { dagId: "api", from: "2024-02-02", to: "2024-02-01" },
          400,
          /backfill range is reversed/,
        ],
        ["POST", "/backfills", { dagId: "api" }, 400, /from and to are required/],
        ["GET", "/backfills/abc", undefined, 400, /backfill id must be a positive integer/],
        ["POST", "/dags/api/clear", {}, 400, /say what to clear/],
        [
          "GET",
          `/dags/api/runs/${encodeURIComponent("manual__2024-03-01T01:00:00+00:00")}/tasks/only/logs/7`,
          undefined,
          404,
          /has no try 7/,
        ],
      ];
      for (const [method, route, body, status, message] of cases) {
        const answer = await call(method, route, body);
        assert.equal(answer.status, status, `${method} ${route}: ${JSON.stringify(answer.body)}`);
        assert.match(answer.body.error.message, message, `${method} ${route}`);
      }
    });
  },
  [sqliteTargets],
);

/**
 * The export service over HTTP: the REST route through `app.request` (no socket), and the task
 * services a worker builds (`createRemoteTaskServices`) against a real server on loopback.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Hono } from "hono";
import { HTTP_STATUS, restErrorBody } from "../../src/api/errors.js";
import { type RunningHttpServer, startHttpServer } from "../../src/api/http-server.js";
import { exportRoutes } from "../../src/api/rest/export-routes.js";
import { storeRoutes } from "../../src/api/rest/store-routes.js";
import { isHourglassError, toHourglassError } from "../../src/errors.js";
import {
  createExportService,
  type ExportToLakeResult,
  exportQuery,
  runOperator,
  type SqlCheckResult,
  sqlCheck,
} from "../../src/operators/index.js";
import { createRemoteTaskServices } from "../../src/runtime/task-services.js";
import {
  at,
  BUCKET,
  contextFor,
  exportRequest,
  type OperatorEnv,
  openOperatorEnv,
  writeSeries,
} from "./helpers.js";

/** A small app like the server's: the routes under /api/v1 and one error handler. */
function buildApp(env: OperatorEnv): Hono {
  const app = new Hono();
  app.route("/api/v1", storeRoutes(env.store));
  app.route("/api/v1", exportRoutes(createExportService({ store: env.store, lake: env.lake })));
  app.onError((thrown, c) => {
    const error = toHourglassError(thrown);
    return c.json(restErrorBody(error), HTTP_STATUS[error.code] as 400);
  });
  return app;
}

describe("POST /api/v1/exports", () => {
  let env: OperatorEnv;
  let app: Hono;
  before(async () => {
    env = await openOperatorEnv();
    await writeSeries(env.store, 10, 2);
    app = buildApp(env);
  });
  after(async () => {
    await env.close();
  });

  const post = (body: unknown) =>
    app.request("/api/v1/exports", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("runs the export and answers with its result", async () => {
    const response = await post(exportRequest({ key: "rest/out.csv" }));
    assert.equal(response.status, 200);
    const result = (await response.json()) as ExportToLakeResult;
    assert.equal(result.written, true);
    assert.equal(result.rows, 20);
    assert.equal(result.manifestKey, "rest/out.csv.manifest.json");
    assert.equal((await env.lake.headObject(BUCKET, "rest/out.csv"))?.size, result.bytes);
  });

  it("refuses a body that is not JSON, or not a valid request, with a ValidationError", async () => {
    const notJson = await post("{not json");
    assert.equal(notJson.status, 400);
    assert.deepEqual(
      ((await notJson.json()) as { error: { code: string; message: string } }).error.code,
      "ValidationError",
    );

    const badFormat = await post(exportRequest({ format: "xml" }));
    assert.equal(badFormat.status, 400);
    const { error } = (await badFormat.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, "ValidationError");
    assert.match(error.message, /^invalid export request: format: Invalid option/);

    const escaping = await post(exportRequest({ key: "../../etc/x" }));
    assert.equal(escaping.status, 400);
    assert.match(((await escaping.json()) as { error: { message: string } }).error.message, /\.\. segment/);
  });

  it("answers 404 naming a missing bucket, and 400 with line and column for a syntax error", async () => {
    const missing = await post(exportRequest({ bucket: "no-such-bucket" }));
    assert.equal(missing.status, 404);
    assert.match(
      ((await missing.json()) as { error: { message: string } }).error.message,
      /bucket no-such-bucket does not exist/,
    );
    const syntax = await post(exportRequest({ query: "SELECT ,, FROM" }));
    assert.equal(syntax.status, 400);
    assert.match(
      ((await syntax.json()) as { error: { message: string } }).error.message,
      /^line 1, column \d+/,
    );
  });
});

describe("createRemoteTaskServices against a running server", () => {
  let env: OperatorEnv;
  let server: RunningHttpServer;
  before(async () => {
    env = await openOperatorEnv();
    await writeSeries(env.store, 10, 2);
    server = await startHttpServer(buildApp(env));
  });
  after(async () => {
    await server.close();
    await env.close();
  });

  it("runs the export operator and the SQL check through the server", async () => {
    const services = createRemoteTaskServices(server.url);
    const { ctx, lines } = contextFor(at("13:00:00"), at("14:00:00"));
    const exported = (await runOperator(
      exportQuery({
        query:
          'SELECT instance_name, time FROM "airflow-db"."airflow-table" WHERE {{ time_filter }} ORDER BY time, instance_name',
        bucket: BUCKET,
        key: "{{ folder }}/remote.csv",
        indexColumn: true,
      }),
      ctx,
      services,
      { codeVersion: "0123456789ab" },
    )) as ExportToLakeResult;
    assert.equal(exported.key, "2021-09-22-13/remote.csv");
    assert.equal(exported.rows, 20);
    const manifest = JSON.parse(
      Buffer.from(await env.lake.getObject(BUCKET, exported.manifestKey!)).toString("utf8"),
    );
    assert.equal(manifest.codeVersion, "0123456789ab");
    assert.equal(manifest.runId, "scheduled__2021-09-22T13:00:00+00:00");
    assert.match(
      lines.at(-1)!,
      /^Query processed successfully and copied to demo-airflow-ts-output\/2021-09-22-13\/remote.csv: 20 rows/,
    );

    const checked = (await runOperator(
      sqlCheck({ query: 'SELECT count(*) FROM "airflow-db"."airflow-table"', expect: { firstValue: 20 } }),
      ctx,
      services,
    )) as SqlCheckResult;
    assert.equal(checked.rows, 1);
  });

  it("errors keep their code across HTTP", async () => {
    const services = createRemoteTaskServices(server.url);
    await assert.rejects(
      services.exportToLake(exportRequest({ bucket: "no-such-bucket" })),
      (error: unknown) => {
        assert.ok(isHourglassError(error, "NotFound"));
        assert.match(error.message, /bucket no-such-bucket does not exist/);
        return true;
      },
    );
    await assert.rejects(
      services.exportToLake(exportRequest({ query: EMPTY, emptyResult: "fail" })),
      (error: unknown) =>
        isHourglassError(error, "ValidationError") && /returned no rows/.test(error.message),
    );
  });
});

describe("createRemoteTaskServices warms its connection up", () => {
  it("asks the server's /health as soon as it is created, before any task", async () => {
    let healthCalls = 0;
    let sawHealth!: () => void;
    const seen = new Promise<void>((resolve) => {
      sawHealth = resolve;
    });
    const app = new Hono();
    app.get("/health", (c) => {
      healthCalls++;
      sawHealth();
      return c.json({ status: "ok" });
    });
    const server = await startHttpServer(app);
    let deadline: NodeJS.Timeout | undefined;
    try {
      createRemoteTaskServices(server.url);
      await Promise.race([
        seen,
        new Promise((_, reject) => {
          deadline = setTimeout(() => reject(new Error("no GET /health within 10 s")), 10_000);
        }),
      ]);
      assert.equal(healthCalls, 1);
    } finally {
      clearTimeout(deadline);
      await server.close();
    }
  });

  it("a server that is not up: nothing thrown or left unhandled; the first real call says so", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // A port nothing listens on any more.
      const closed = await startHttpServer(new Hono());
      const url = closed.url;
      await closed.close();
      const services = createRemoteTaskServices(url);
      await assert.rejects(
        services.exportToLake(exportRequest()),
        (error: unknown) =>
          isHourglassError(error, "Internal") && /cannot reach the Hourglass server/.test(error.message),
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

const EMPTY = `SELECT instance_name FROM "airflow-db"."airflow-table" WHERE time > '2021-09-22 15:00:00'`;

/**
 * The HTTP app of `hourglass up`: the REST API under `/api/v1`, the AWS-compatible endpoints at
 * `POST /` (dispatched by `X-Amz-Target`), `GET /health`, and, given a lake, the S3 REST API on
 * every other path (and on any path for S3 clients: see docs/api.md, "S3"). One error handler
 * answers every failure: in AWS's shape on the AWS endpoints, as `{ error: { code, message,
 * context } }` elsewhere; S3 answers its own, in XML. Every route is mounted here (the runtime hands in
 * the services and the UI's routes), so the app and its reference page are whole in one place.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { KeyLookup } from "../access/index.js";
import { HourglassError, notFound, toHourglassError } from "../errors.js";
import type { Lake } from "../lake/index.js";
import type { ExportService } from "../operators/index.js";
import type { ConnectorAdmin } from "../stream/connector/index.js";
import type { StreamService } from "../stream/index.js";
import type { WorkflowApi } from "../workflows/scheduler/index.js";
import { rawTargetOf } from "./aws/auth.js";
import {
  type AwsBackends,
  type AwsEnv,
  awsResponse,
  awsRoutes,
  newRequestInfo,
  TagStore,
  type TimestreamBackend,
} from "./aws/index.js";
import { createS3Endpoint, isS3ClientRequest } from "./aws/s3/index.js";
import { awsError, HTTP_STATUS, restErrorBody } from "./errors.js";
import { bodySizeLimit, type GuardOptions, hostAndOriginGuard, restContentTypeGuard } from "./guards.js";
import { referenceRoutes } from "./openapi/index.js";
import { connectorRoutes } from "./rest/connector-routes.js";
import { exportRoutes } from "./rest/export-routes.js";
import { lakeRoutes } from "./rest/lake-routes.js";
import { storeRoutes } from "./rest/store-routes.js";
import { streamRoutes } from "./rest/stream-routes.js";
import { workflowRoutes } from "./rest/workflow-routes.js";

/** What the app logs; pino's logger fits. */
export interface AppLogger {
  error(details: object, message?: string): void;
  /** Requests refused for the client's own fault (4xx): only at debug level. */
  debug?(details: object, message?: string): void;
}

export interface AppOptions {
  store: TimestreamBackend;
  stream?: StreamService;
  /** Serves the S3 REST API over this lake; without one, S3 requests get the REST 404. */
  lake?: Lake;
  /** Serves the Timestream scheduled-query operations (the runtime gives it; tests of the app alone need none). */
  scheduledQueries?: AwsBackends["scheduledQueries"];
  /** Overrides the host DescribeEndpoints hands out (see AwsBackends). */
  describeEndpointsAddress?: string;
  /** Receives failures that are bugs or broken dependencies (code Internal). */
  logger?: AppLogger;
  /** Host names and origins accepted beyond this machine's own (src/api/guards.ts). */
  guards?: GuardOptions;
  /** The largest REST request body (default 16 MiB). */
  maxRestBodyBytes?: number;
  /**
   * The access keys AWS clients sign with (SigV4, checked on the AWS endpoints and S3). Absent or
   * null: any credentials are accepted, as `hourglass up --no-auth` does. The REST API is not signed.
   */
  keys?: KeyLookup | null;
  /** The workflow routes (DAGs, runs, backfills, tasks) over this service. */
  workflows?: WorkflowApi;
  /** The connector routes over these. */
  connectors?: ConnectorAdmin;
  /** The export route workers call (POST /api/v1/exports). */
  exports?: ExportService;
  /** Also serve `lake` through the REST lake routes (/api/v1/buckets…), beside S3. */
  lakeRest?: boolean;
  /** Routes of parts above this one (the web UI), mounted last, in order. */
  mounts?: { path: string; routes: Hono }[];
}

/** Default size limit of REST request bodies: a 100-record write is a few kB, a DAG conf less. */
export const defaultMaxRestBodyBytes = 16 * 1024 * 1024;

export function createApp(options: AppOptions): Hono<AwsEnv> {
  const app = new Hono<AwsEnv>();

  app.use("*", hostAndOriginGuard(options.guards));
  const s3 = options.lake
    ? createS3Endpoint({ lake: options.lake, logger: options.logger, keys: options.keys ?? null })
    : null;
  if (s3) {
    // S3 clients first, whatever the path: a bucket named `health` or `api` is theirs to use.
    app.use("*", async (c, next) => {
      if (!isS3ClientRequest(c.req.raw)) return next();
      return s3.handle(c.req.raw, rawTargetOf(c.env));
    });
  }
  // After S3: an object upload to a bucket named `api` is no REST change. An object upload to the
  // lake's REST route streams to disk with a type of its own: browsers preflight every cross-site
  // PUT, so leaving it out of the JSON and size guards opens nothing to web pages.
  for (const guard of [
    restContentTypeGuard(),
    bodySizeLimit({ maxBytes: options.maxRestBodyBytes ?? defaultMaxRestBodyBytes }),
  ]) {
    app.use("/api/v1/*", (c, next) =>
      isLakeObjectUpload(c.req.method, c.req.path) ? next() : guard(c, next),
    );
  }

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.route("/api/v1", storeRoutes(options.store));
  if (options.stream) app.route("/api/v1", streamRoutes(options.stream));
  // Read when asked: the routes mounted below are documented too.
  app.route(
    "/api/v1",
    referenceRoutes(() => app.routes),
  );

  app.route(
    "/",
    awsRoutes({
      store: options.store,
      stream: options.stream,
      tags: new TagStore(),
      scheduledQueries: options.scheduledQueries,
      describeEndpointsAddress: options.describeEndpointsAddress,
      keys: options.keys ?? null,
    }),
  );
  if (options.workflows) app.route("/api/v1", workflowRoutes(options.workflows));
  if (options.connectors) app.route("/api/v1", connectorRoutes(options.connectors));
  if (options.exports) app.route("/api/v1", exportRoutes(options.exports));
  if (options.lake && options.lakeRest) app.route("/api/v1", lakeRoutes(options.lake));
  for (const mount of options.mounts ?? []) app.route(mount.path, mount.routes);

  app.notFound((c) => {
    // Unsigned requests (curl, a browser) reach S3 on every path the routes above leave free;
    // /api/… and /health stay the REST API's, so a mistyped REST path is a JSON 404.
    if (s3 && !isReservedPath(c.req.path) && !isOtherAwsProtocol(c.req.raw.headers))
      return s3.handle(c.req.raw, rawTargetOf(c.env));
    const error = notFound(`no route for ${c.req.method} ${c.req.path}`, {
      method: c.req.method,
      path: c.req.path,
    });
    return c.json(restErrorBody(error), 404);
  });

  app.onError((thrown, c) => {
    let error = fromThrown(thrown);
    // A guard may refuse an AWS call before its route has named it: the target header tells.
    const target = c.req.header("x-amz-target");
    const aws =
      c.get("aws") ??
      (target ? newRequestInfo(target.startsWith("Kinesis") ? "kinesis" : "timestream", target) : undefined);
    if (error.code === "Internal") {
      // The detail (SQL, stack, file paths) goes to the log only; the client gets an id to quote.
      const requestId = aws?.requestId ?? randomUUID();
      options.logger?.error(
        { err: thrown, requestId, method: c.req.method, path: c.req.path },
        "request failed",
      );
      error = internalErrorForClient(error, requestId);
    } else {
      options.logger?.debug?.(
        {
          requestId: aws?.requestId,
          method: c.req.method,
          path: c.req.path,
          code: error.code,
          reason: error.message,
        },
        "request refused",
      );
    }
    // Guards answer with statuses of their own (413, 415, 421); the rest follow the error code.
    const ownStatus = typeof error.context["httpStatus"] === "number" ? error.context["httpStatus"] : null;
    if (aws) {
      const { status, type, body } = awsError(error, aws.service);
      return awsResponse(aws, ownStatus ?? status, body, { "x-amzn-ErrorType": type });
    }
    return c.json(restErrorBody(error), (ownStatus ?? HTTP_STATUS[error.code]) as 400);
  });

  return app;
}

function isReservedPath(path: string): boolean {
  return path === "/health" || path === "/api" || path.startsWith("/api/");
}

/** AWS JSON (X-Amz-Target) and Smithy RPC v2 CBOR (`smithy-protocol`) calls are never S3's. */
function isOtherAwsProtocol(headers: Headers): boolean {
  return headers.has("x-amz-target") || headers.has("smithy-protocol");
}

/** Hono's own HTTP errors (a malformed request) are the client's fault unless their status says otherwise. */
function fromThrown(thrown: unknown): HourglassError {
  if (thrown instanceof HTTPException) {
    return new HourglassError(thrown.status >= 500 ? "Internal" : "ValidationError", thrown.message, {
      cause: thrown,
      context: { status: thrown.status },
    });
  }
  return toHourglassError(thrown);
}

/** What a client sees of an internal failure: a generic message with the request id, no detail. */
function internalErrorForClient(error: HourglassError, requestId: string): HourglassError {
  return new HourglassError(
    "Internal",
    `internal error (request id ${requestId}); the server log has the details`,
    { context: { requestId }, retryable: error.retryable },
  );
}

/** `PUT /api/v1/buckets/:bucket/objects/:key…`: the lake's object upload (src/api/rest/lake-routes.ts). */
function isLakeObjectUpload(method: string, path: string): boolean {
  return method === "PUT" && /^\/api\/v1\/buckets\/[^/]+\/objects\/./.test(path);
}

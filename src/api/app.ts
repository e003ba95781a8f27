/**
 * The HTTP app of `hourglass up`: the REST API under `/api/v1`, the AWS-compatible endpoints at
 * `POST /` (dispatched by `X-Amz-Target`), and `GET /health`. One error handler answers every
 * failure: in AWS's shape on the AWS endpoints, as `{ error: { code, message, context } }` elsewhere.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { HourglassError, notFound, toHourglassError } from "../errors.js";
import type { StreamService } from "../stream/index.js";
import { type AwsEnv, awsResponse, awsRoutes, TagStore, type TimestreamBackend } from "./aws/index.js";
import { awsError, HTTP_STATUS, restErrorBody } from "./errors.js";
import { storeRoutes } from "./rest/store-routes.js";
import { streamRoutes } from "./rest/stream-routes.js";

/** What the app logs; pino's logger fits. */
export interface AppLogger {
  error(details: object, message?: string): void;
}

export interface AppOptions {
  store: TimestreamBackend;
  stream?: StreamService;
  /** Overrides the host DescribeEndpoints hands out (see AwsBackends). */
  describeEndpointsAddress?: string;
  /** Receives failures that are bugs or broken dependencies (code Internal). */
  logger?: AppLogger;
}

export function createApp(options: AppOptions): Hono<AwsEnv> {
  const app = new Hono<AwsEnv>();

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.route("/api/v1", storeRoutes(options.store));
  if (options.stream) app.route("/api/v1", streamRoutes(options.stream));

  app.route(
    "/",
    awsRoutes({
      store: options.store,
      stream: options.stream,
      tags: new TagStore(),
      describeEndpointsAddress: options.describeEndpointsAddress,
    }),
  );

  app.notFound((c) => {
    const error = notFound(`no route for ${c.req.method} ${c.req.path}`, {
      method: c.req.method,
      path: c.req.path,
    });
    return c.json(restErrorBody(error), 404);
  });

  app.onError((thrown, c) => {
    let error = fromThrown(thrown);
    const aws = c.get("aws");
    if (error.code === "Internal") {
      // The detail (SQL, stack, file paths) goes to the log only; the client gets an id to quote.
      const requestId = aws?.requestId ?? randomUUID();
      options.logger?.error(
        { err: thrown, requestId, method: c.req.method, path: c.req.path },
        "request failed",
      );
      error = internalErrorForClient(error, requestId);
    }
    if (aws) {
      const { status, type, body } = awsError(error, aws.service);
      return awsResponse(aws, status, body, { "x-amzn-ErrorType": type });
    }
    return c.json(restErrorBody(error), HTTP_STATUS[error.code] as 400);
  });

  return app;
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

/**
 * The HTTP app of `hourglass up`: the REST API under `/api/v1`, the AWS-compatible endpoints at
 * `POST /` (dispatched by `X-Amz-Target`), and `GET /health`. One error handler answers every
 * failure: in AWS's shape on the AWS endpoints, as `{ error: { code, message, context } }` elsewhere.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { HourglassError, notFound, toHourglassError } from "../errors.js";
import type { StreamService } from "../stream/index.js";
import {
  type AwsEnv,
  awsResponse,
  awsRoutes,
  newRequestInfo,
  TagStore,
  type TimestreamBackend,
} from "./aws/index.js";
import { awsError, HTTP_STATUS, restErrorBody } from "./errors.js";
import { bodySizeLimit, type GuardOptions, hostAndOriginGuard, restContentTypeGuard } from "./guards.js";
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
  /** Host names and origins accepted beyond this machine's own (src/api/guards.ts). */
  guards?: GuardOptions;
  /** The largest REST request body (default 16 MiB). */
  maxRestBodyBytes?: number;
}

/** Default size limit of REST request bodies: a 100-record write is a few kB, a DAG conf less. */
export const defaultMaxRestBodyBytes = 16 * 1024 * 1024;

export function createApp(options: AppOptions): Hono<AwsEnv> {
  const app = new Hono<AwsEnv>();

  app.use("*", hostAndOriginGuard(options.guards));
  app.use("/api/v1/*", restContentTypeGuard());
  app.use("/api/v1/*", bodySizeLimit({ maxBytes: options.maxRestBodyBytes ?? defaultMaxRestBodyBytes }));

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
    const error = fromThrown(thrown);
    if (error.code === "Internal") {
      options.logger?.error({ err: thrown, method: c.req.method, path: c.req.path }, "request failed");
    }
    // A guard may refuse an AWS call before its route has named it: the target header tells.
    const target = c.req.header("x-amz-target");
    const aws =
      c.get("aws") ??
      (target ? newRequestInfo(target.startsWith("Kinesis") ? "kinesis" : "timestream", target) : undefined);
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

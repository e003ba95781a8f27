/**
 * `POST /` for the AWS SDKs: the `X-Amz-Target` header names the service and the operation
 * (`Timestream_20181101.WriteRecords`, `Kinesis_20131202.PutRecords`). Signatures (SigV4) are
 * checked against the keys Hourglass issued (auth.ts) after the body is read, before the operation.
 */
import { Hono } from "hono";
import type { AwsService } from "../errors.js";
import { bodySizeLimit } from "../guards.js";
import { jsonSignatureGuard } from "./auth.js";
import type { AwsBackends } from "./backends.js";
import { kinesisOperations } from "./kinesis.js";
import {
  type AwsEnv,
  awsResponse,
  newRequestInfo,
  type Operation,
  parseJsonBody,
  protocolError,
} from "./protocol.js";
import { scheduledQueryOperations } from "./scheduled-queries.js";
import { timestreamQueryOperations } from "./timestream-query.js";
import { timestreamWriteOperations } from "./timestream-write.js";

export const TIMESTREAM_TARGET_PREFIX = "Timestream_20181101";
export const KINESIS_TARGET_PREFIX = "Kinesis_20131202";

/** A PutRecords call may carry 5 MiB of data, a third more as base64, plus the JSON around it. */
const maxAwsRequestBytes = 8 * 1024 * 1024;

function timestreamOperations(backends: AwsBackends): Record<string, Operation> {
  const write = timestreamWriteOperations(backends);
  const operations = { ...write, ...timestreamQueryOperations(backends) };
  // Scheduled queries take over the tag operations for their ARNs and pass the others on.
  if (backends.scheduledQueries)
    Object.assign(operations, scheduledQueryOperations(backends.scheduledQueries, write));
  return operations;
}

export function awsRoutes(backends: AwsBackends): Hono<AwsEnv> {
  const services: Record<string, { service: AwsService; operations: Record<string, Operation> | null }> = {
    [TIMESTREAM_TARGET_PREFIX]: {
      service: "timestream",
      // Write and Query share the target prefix (and DescribeEndpoints): one table serves both.
      operations: timestreamOperations(backends),
    },
    [KINESIS_TARGET_PREFIX]: {
      service: "kinesis",
      operations: backends.stream ? kinesisOperations(backends.stream) : null,
    },
  };

  const app = new Hono<AwsEnv>();
  app.post(
    "/",
    async (c, next) => {
      // Recorded first, so that every error from here on is answered in AWS's shape.
      const target = c.req.header("x-amz-target") ?? "";
      const dot = target.indexOf(".");
      const prefix = dot < 0 ? target : target.slice(0, dot);
      c.set("aws", newRequestInfo(services[prefix]?.service ?? "timestream", target.slice(dot + 1)));
      await next();
    },
    // Answered 413 in AWS's shape, after the body was read (see guards.ts for why).
    bodySizeLimit({
      maxBytes: maxAwsRequestBytes,
      describe: (max) =>
        `the request body is larger than ${max.toLocaleString("en-US")} bytes: a PutRecords call carries at most 5 MiB of data, a WriteRecords call 100 records`,
    }),
    jsonSignatureGuard(backends.keys ?? null),
    async (c) => {
      const info = c.get("aws")!;
      const target = c.req.header("x-amz-target");
      if (!target) {
        throw protocolError(
          "UnknownOperationException",
          "the X-Amz-Target header is missing: AWS SDK requests name the operation there",
        );
      }
      const dot = target.indexOf(".");
      const entry = dot < 0 ? undefined : services[target.slice(0, dot)];
      if (entry && entry.operations === null) {
        throw protocolError(
          "UnknownOperationException",
          "this server has no stream service: Kinesis calls are off",
        );
      }
      const operation =
        entry?.operations && Object.hasOwn(entry.operations, info.operation)
          ? entry.operations[info.operation]
          : undefined;
      if (!operation) {
        throw protocolError(
          "UnknownOperationException",
          `operation ${target} is not supported by Hourglass (docs/api.md lists the AWS operations it serves)`,
        );
      }
      const input = parseJsonBody(await c.req.text());
      // HTTP/1.1 names the host in Host; over HTTP/2 it is the :authority the URL was built from.
      const url = new URL(c.req.url);
      const host = c.req.header("host") ?? url.host;
      const output = await operation(input, {
        host,
        scheme: url.protocol.replace(/:$/, ""),
        userAgent: c.req.header("user-agent") ?? "",
        signal: c.req.raw.signal,
      });
      return awsResponse(info, 200, output);
    },
  );
  return app;
}

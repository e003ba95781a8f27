/**
 * S3's errors: an XML body `<Error><Code/><Message/><Resource/><RequestId/></Error>` with the
 * status S3 gives each code. Failures are HourglassErrors as everywhere; one that knows its S3
 * code carries it in `context.s3Code` (as other AWS endpoints carry `context.awsCode`), and the
 * rest are named here from their code and context (a NotFound naming a key is NoSuchKey).
 */
import { isAuthFailure } from "../../../access/index.js";
import { HourglassError, toHourglassError } from "../../../errors.js";
import { s3AuthError } from "./auth.js";
import { xmlDocument } from "./xml.js";

export const S3_STATUS = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  InvalidAccessKeyId: 403,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
  BadDigest: 400,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidURI: 400,
  KeyConflict: 409,
  KeyTooLongError: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  PreconditionFailed: 412,
  SlowDown: 503,
} as const;

export type S3ErrorCode = keyof typeof S3_STATUS;

export function s3Error(
  code: S3ErrorCode,
  message: string,
  context: Record<string, unknown> = {},
): HourglassError {
  const hourglassCode =
    code === "NoSuchBucket" || code === "NoSuchKey" || code === "NoSuchUpload"
      ? "NotFound"
      : code === "InternalError"
        ? "Internal"
        : code === "SlowDown"
          ? "Throttled"
          : S3_STATUS[code] === 403
            ? "AccessDenied"
            : S3_STATUS[code] === 409
              ? "Conflict"
              : "ValidationError";
  return new HourglassError(hourglassCode, message, { context: { ...context, s3Code: code } });
}

/** The S3 code of any failure. */
export function s3CodeOf(error: HourglassError): S3ErrorCode {
  const named = error.context["s3Code"];
  if (typeof named === "string" && named in S3_STATUS) return named as S3ErrorCode;
  const reason = error.context["reason"];
  if (reason === "InvalidPart" || reason === "InvalidPartOrder" || reason === "EntityTooSmall") return reason;
  switch (error.code) {
    case "NotFound":
      if (error.context["uploadId"] !== undefined) return "NoSuchUpload";
      return error.context["key"] !== undefined ? "NoSuchKey" : "NoSuchBucket";
    case "Conflict":
      return "KeyConflict";
    case "ValidationError":
      return error.context["unsatisfiableRange"] !== undefined ? "InvalidRange" : "InvalidArgument";
    case "AccessDenied":
      return "AccessDenied";
    case "Throttled":
      return "SlowDown";
    default:
      return "InternalError";
  }
}

export interface S3ErrorAnswer {
  status: number;
  code: S3ErrorCode;
  body: string;
}

export function s3ErrorAnswer(thrown: unknown, resource: string, requestId: string): S3ErrorAnswer {
  // A refused signature, from the router or from a body's chunk signatures or payload hash.
  const error = isAuthFailure(thrown) ? s3AuthError(thrown) : toHourglassError(thrown);
  const code = s3CodeOf(error);
  const extra: [string, string][] = [];
  for (const name of ["bucket", "key", "uploadId", "partNumber"] as const) {
    const value = error.context[name];
    if (typeof value === "string" || typeof value === "number") extra.push([capitalize(name), String(value)]);
  }
  const details = error.context["s3Details"];
  if (details !== null && typeof details === "object")
    for (const [name, value] of Object.entries(details)) extra.push([name, String(value)]);
  const message = code === "InternalError" ? `internal error: ${error.message}` : error.message;
  const body = xmlDocument(
    "Error",
    [["Code", code], ["Message", message], ...extra, ["Resource", resource], ["RequestId", requestId]],
    null,
  );
  return { status: S3_STATUS[code], code, body };
}

/** The element names S3 uses for these details (NoSuchBucket has BucketName, NoSuchKey Key). */
function capitalize(name: "bucket" | "key" | "uploadId" | "partNumber"): string {
  return { bucket: "BucketName", key: "Key", uploadId: "UploadId", partNumber: "PartNumber" }[name];
}

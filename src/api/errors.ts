/** One place maps HourglassError codes to HTTP statuses (REST) and to AWS error shapes (AWS-compatible endpoints). */
import type { ErrorCode, HourglassError } from "../errors.js";

export const HTTP_STATUS: Record<ErrorCode, number> = {
  ValidationError: 400,
  NotFound: 404,
  Conflict: 409,
  RejectedRecords: 419,
  AccessDenied: 403,
  Throttled: 429,
  Timeout: 504,
  Internal: 500,
};

/** The `__type` AWS SDKs read to pick an exception class. */
export const AWS_ERROR_TYPE: Record<ErrorCode, string> = {
  ValidationError: "ValidationException",
  NotFound: "ResourceNotFoundException",
  Conflict: "ConflictException",
  RejectedRecords: "RejectedRecordsException",
  AccessDenied: "AccessDeniedException",
  Throttled: "ThrottlingException",
  Timeout: "InternalServerException",
  Internal: "InternalServerException",
};

export function restErrorBody(error: HourglassError): {
  error: { code: ErrorCode; message: string; context: unknown };
} {
  return { error: { code: error.code, message: error.message, context: jsonSafe(error.context) } };
}

function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

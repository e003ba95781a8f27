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

/** The `__type` AWS SDKs read to pick an exception class (Timestream's names). */
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

/** Kinesis names some of the same failures differently (a stream that exists is "in use"). */
export const KINESIS_ERROR_TYPE: Record<ErrorCode, string> = {
  ValidationError: "InvalidArgumentException",
  NotFound: "ResourceNotFoundException",
  Conflict: "ResourceInUseException",
  RejectedRecords: "InvalidArgumentException",
  AccessDenied: "AccessDeniedException",
  Throttled: "ProvisionedThroughputExceededException",
  Timeout: "InternalFailureException",
  Internal: "InternalFailureException",
};

/**
 * HTTP statuses of Timestream's exceptions, from its service model (`@httpError`). Kinesis's model
 * has none: every client error is 400 and every server error 500, which SDKs treat as retryable.
 */
const TIMESTREAM_STATUS: Record<string, number> = {
  ValidationException: 400,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  RejectedRecordsException: 419,
  AccessDeniedException: 403,
  ThrottlingException: 429,
  ServiceQuotaExceededException: 402,
  InvalidEndpointException: 421,
  InternalServerException: 500,
};

export type AwsService = "timestream" | "kinesis";

export interface AwsError {
  status: number;
  /** `__type` in the body and `x-amzn-ErrorType` in the headers. */
  type: string;
  body: Record<string, unknown>;
}

/**
 * The AWS error for a HourglassError. A part that knows the exact AWS exception puts its name in
 * `context.awsCode` (the stream does, and so do the protocol's own SerializationException and
 * UnknownOperationException); otherwise the code picks it.
 */
export function awsError(error: HourglassError, service: AwsService): AwsError {
  const named = typeof error.context["awsCode"] === "string" ? (error.context["awsCode"] as string) : null;
  const serverSide = error.code === "Internal" || error.code === "Timeout";
  if (service === "kinesis") {
    const type = named ?? KINESIS_ERROR_TYPE[error.code];
    return { status: serverSide ? 500 : 400, type, body: { __type: type, message: error.message } };
  }
  const type = named ?? AWS_ERROR_TYPE[error.code];
  const status = TIMESTREAM_STATUS[type] ?? (serverSide ? 500 : 400);
  // Timestream's model calls the member `Message`; SDKs also read `message`, so both are sent.
  const body: Record<string, unknown> = { __type: type, message: error.message, Message: error.message };
  if (type === "RejectedRecordsException")
    body["RejectedRecords"] = jsonSafe(error.context["rejected"] ?? []);
  return { status, type, body };
}

export function restErrorBody(error: HourglassError): {
  error: { code: ErrorCode; message: string; context: unknown };
} {
  return { error: { code: error.code, message: error.message, context: jsonSafe(error.context) } };
}

function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

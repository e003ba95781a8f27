/**
 * One error model for every part of Hourglass.
 *
 * Every failure that crosses a part's boundary is a HourglassError with a `code` from the union
 * below. The HTTP layer maps codes to statuses (and the AWS-compatible endpoints to AWS error
 * shapes) in one place; the CLI prints `message` and exits non-zero. `retryable` tells callers
 * (the connector, the scheduler) whether trying again can help.
 */
export type ErrorCode =
  | "ValidationError" // the input is wrong: fix it and try again
  | "NotFound" // a named resource does not exist
  | "Conflict" // the resource exists, or its state forbids the change
  | "RejectedRecords" // a write batch had records the store refused (details in `context.rejected`)
  | "AccessDenied" // a policy refused the call
  | "Throttled" // too much at once: retry later
  | "Timeout" // a deadline passed
  | "Internal"; // a bug or an unexpected failure of a dependency

export interface ErrorOptions {
  context?: Record<string, unknown>;
  cause?: unknown;
  retryable?: boolean;
}

export class HourglassError extends Error {
  readonly code: ErrorCode;
  readonly context: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HourglassError";
    this.code = code;
    this.context = options.context ?? {};
    this.retryable = options.retryable ?? (code === "Throttled" || code === "Timeout");
  }
}

export const validationError = (message: string, context?: Record<string, unknown>): HourglassError =>
  new HourglassError("ValidationError", message, { context });

export const notFound = (message: string, context?: Record<string, unknown>): HourglassError =>
  new HourglassError("NotFound", message, { context });

export const conflict = (message: string, context?: Record<string, unknown>): HourglassError =>
  new HourglassError("Conflict", message, { context });

/** Turns anything thrown into a HourglassError, keeping the original as `cause`. */
export function toHourglassError(thrown: unknown): HourglassError {
  if (thrown instanceof HourglassError) return thrown;
  if (thrown instanceof Error) return new HourglassError("Internal", thrown.message, { cause: thrown });
  return new HourglassError("Internal", String(thrown));
}

export const isHourglassError = (value: unknown, code?: ErrorCode): value is HourglassError =>
  value instanceof HourglassError && (code === undefined || value.code === code);

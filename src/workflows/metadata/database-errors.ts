/**
 * Turns SQLite and PostgreSQL failures into HourglassErrors, so callers see one error model
 * whichever database is behind the store.
 */
import { HourglassError, isHourglassError } from "../../errors.js";

const postgresCodes: Record<string, { code: HourglassError["code"]; retryable: boolean }> = {
  "23505": { code: "Conflict", retryable: false }, // unique_violation
  "23503": { code: "NotFound", retryable: false }, // foreign_key_violation
  "23514": { code: "ValidationError", retryable: false }, // check_violation
  "23502": { code: "ValidationError", retryable: false }, // not_null_violation
  "40001": { code: "Throttled", retryable: true }, // serialization_failure
  "40P01": { code: "Throttled", retryable: true }, // deadlock_detected
  "57P01": { code: "Internal", retryable: true }, // admin_shutdown
};

const connectionErrors = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH"]);

function codeOf(thrown: unknown): string | undefined {
  if (typeof thrown !== "object" || thrown === null) return undefined;
  const code = (thrown as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** True for a unique-constraint violation on either database. */
export function isUniqueViolation(thrown: unknown): boolean {
  const code = codeOf(thrown);
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

export function toMetadataError(thrown: unknown): HourglassError {
  if (isHourglassError(thrown)) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  const code = codeOf(thrown);
  if (code !== undefined) {
    if (code.startsWith("SQLITE_")) {
      if (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED") {
        return new HourglassError("Timeout", `metadata database busy: ${message}`, {
          cause: thrown,
          retryable: true,
        });
      }
      if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        return new HourglassError("Conflict", message, { cause: thrown });
      }
      if (code === "SQLITE_CONSTRAINT_FOREIGNKEY")
        return new HourglassError("NotFound", message, { cause: thrown });
      if (code === "SQLITE_CONSTRAINT_CHECK" || code === "SQLITE_CONSTRAINT_NOTNULL") {
        return new HourglassError("ValidationError", message, { cause: thrown });
      }
    }
    const mapped = postgresCodes[code];
    if (mapped !== undefined)
      return new HourglassError(mapped.code, message, { cause: thrown, retryable: mapped.retryable });
    if (connectionErrors.has(code)) {
      return new HourglassError("Internal", `cannot reach the metadata database: ${message}`, {
        cause: thrown,
        retryable: true,
      });
    }
  }
  return new HourglassError("Internal", message, { cause: thrown });
}

/** Runs `work`, rethrowing any failure as a HourglassError. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (thrown) {
    throw toMetadataError(thrown);
  }
}

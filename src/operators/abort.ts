/**
 * What an operator throws when its task's signal is aborted. The worker may abort with a
 * HourglassError of its own (a timeout, a cancel): that is passed on as it is. An
 * `AbortSignal.timeout()` becomes a Timeout; any other reason means the run was cancelled.
 */
import { HourglassError } from "../errors.js";

export function abortError(signal: AbortSignal, what: string): HourglassError {
  const reason: unknown = signal.reason;
  if (reason instanceof HourglassError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new HourglassError("Timeout", `${what} was stopped: the task timed out`, { cause: reason });
  }
  const why = reason instanceof Error ? reason.message : reason === undefined ? "" : String(reason);
  return new HourglassError(
    "Conflict",
    `${what} was stopped: the task was cancelled${why ? ` (${why})` : ""}`,
    {
      cause: reason,
      context: { aborted: true },
    },
  );
}

export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw abortError(signal, what);
}

/**
 * The connector's retry loop for writes (store, dead-letter stream, checkpoint file): transient
 * failures are retried with capped exponential backoff until the call succeeds, so a batch is never
 * skipped; other failures end the connector.
 */
import { HourglassError, isHourglassError, toHourglassError } from "../../errors.js";
import { backoffDelayMs } from "./backoff.js";

/** A stop was asked while a call kept failing: the batch is left, unchecked-pointed, for the next run. */
export class GaveUp extends Error {}

export interface RetryContext {
  initialDelayMs: number;
  maxDelayMs: number;
  stopRequested(): boolean;
  /** Waits `ms`, or less when a stop is asked. */
  wait(ms: number): Promise<void>;
  /** A failure: retried after `delayMs`, or given up (`delayMs` undefined). */
  onFailure(error: HourglassError, delayMs: number | undefined): void;
}

/**
 * Runs `work` until it succeeds. Transient failures (retryable errors, and a table or stream that
 * does not exist yet) are retried; others are thrown, named after `what`. Once a stop was asked, a
 * failing call is not tried again: GaveUp (nothing is checkpointed, so nothing is lost).
 */
export async function retryTransient<T>(
  what: string,
  work: () => Promise<T>,
  context: RetryContext,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const failure = toHourglassError(error);
      const transient = failure.retryable || isHourglassError(failure, "NotFound");
      const wrapped = new HourglassError(failure.code, `${what} failed: ${failure.message}`, {
        cause: error,
        context: failure.context,
        retryable: transient,
      });
      if (!transient) throw wrapped;
      if (context.stopRequested()) {
        context.onFailure(wrapped, undefined);
        throw new GaveUp();
      }
      const delayMs = backoffDelayMs(attempt, context.initialDelayMs, context.maxDelayMs);
      context.onFailure(wrapped, delayMs);
      await context.wait(delayMs);
    }
  }
}

/** Exponential backoff with a cap, and a little jitter so that retries of many callers spread out. */
export const defaultRetryInitialDelayMs = 100;
export const defaultRetryMaxDelayMs = 30_000;

/** The wait before retry number `attempt` (0-based): initial · 2^attempt, at most `maxDelayMs`. */
export function backoffDelayMs(
  attempt: number,
  initialDelayMs = defaultRetryInitialDelayMs,
  maxDelayMs = defaultRetryMaxDelayMs,
): number {
  const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  // ±10 %: enough to spread retries, small enough that tests can reason about the waits.
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

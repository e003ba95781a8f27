/**
 * What the parts log through: a small interface pino's logger fits, so no part but this one
 * imports pino, and a test can hand a part any logger that records.
 */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "silent";

export const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "silent"];

/** One method per level: structured details first (an `err` key carries an Error), then the message. */
export interface Log {
  trace(details: object, message?: string): void;
  debug(details: object, message?: string): void;
  info(details: object, message?: string): void;
  warn(details: object, message?: string): void;
  error(details: object, message?: string): void;
  /** A logger that adds `bindings` to every line (the part, a worker id, a connector name). */
  child(bindings: Record<string, unknown>): Log;
}

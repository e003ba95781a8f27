/**
 * A connector's default settings and its start-position parser, in a module that imports no schema
 * library: the CLI shows the defaults in `--help` and checks `--from` as it parses, and must stay
 * quick to load for that (src/cli/main.ts).
 */
import { validationError } from "../../errors.js";
import type { ConnectorStartPosition } from "./types.js";

export const defaultBatchSize = 50_000;
export const defaultMaxDelayMs = 1_000;

const fromPattern = /^\d{4}-\d{2}-\d{2}T/;

/** `trim-horizon`, `latest`, or an ISO 8601 time such as 2026-12-07T10:00:00Z. */
export function parseStartPosition(text: string): ConnectorStartPosition {
  if (text === "trim-horizon" || text === "latest") return text;
  const time = new Date(text);
  if (!fromPattern.test(text) || Number.isNaN(time.getTime())) {
    throw validationError(
      `from must be trim-horizon, latest or an ISO time like 2026-12-07T10:00:00Z, got ${JSON.stringify(text)}`,
    );
  }
  return time;
}

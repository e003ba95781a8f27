/** The connector's options, checked and completed with defaults once, at start. */
import { validationError } from "../../errors.js";
import { maxStreamNameChars } from "../limits.js";
import { validateStreamName } from "../validate.js";
import { defaultRetryInitialDelayMs, defaultRetryMaxDelayMs } from "./backoff.js";
import { validateConnectorName } from "./checkpoint.js";
import { defaultBatchSize, defaultMaxDelayMs } from "./settings.js";
import type { ConnectorMapping, ConnectorOptions, ConnectorStartPosition } from "./types.js";

export { defaultBatchSize, defaultMaxDelayMs };
/** A store write holds its batch in memory twice (records, then DuckDB's staging): keep it sane. */
export const maxBatchSize = 1_000_000;
const deadLetterSuffix = "-deadletter";

export interface ResolvedOptions {
  name: string;
  stream: string;
  database: string;
  table: string;
  stateDir: string;
  mapping: ConnectorMapping;
  batchSize: number;
  maxDelayMs: number;
  from: ConnectorStartPosition;
  deadLetterStream: string;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  clock: () => number;
}

export function resolveOptions(options: ConnectorOptions): ResolvedOptions {
  if (options === null || typeof options !== "object")
    throw validationError("connector options must be an object");
  if (!options.streams || !options.store) throw validationError("the connector needs `streams` and `store`");
  const stream = validateStreamName(options.stream);
  for (const key of ["database", "table", "stateDir"] as const) {
    if (typeof options[key] !== "string" || options[key] === "") {
      throw validationError(`the connector needs ${key} (a non-empty string)`);
    }
  }
  const mapping = options.mapping ?? "single";
  if (mapping !== "single" && mapping !== "flat" && mapping !== "auto") {
    throw validationError(`mapping must be single, flat or auto, got ${JSON.stringify(mapping)}`);
  }
  const from = options.from ?? "trim-horizon";
  const validTime = from instanceof Date && !Number.isNaN(from.getTime());
  if (from !== "trim-horizon" && from !== "latest" && !validTime) {
    throw validationError(
      `from must be trim-horizon or latest, or a valid Date, got ${from instanceof Date ? "an invalid Date" : JSON.stringify(from)}`,
    );
  }
  const batchSize = integerIn(options.batchSize ?? defaultBatchSize, 1, maxBatchSize, "batchSize");
  const maxDelayMs = integerIn(options.maxDelayMs ?? defaultMaxDelayMs, 0, 3_600_000, "maxDelayMs");
  const retryInitialDelayMs = integerIn(
    options.retry?.initialDelayMs ?? defaultRetryInitialDelayMs,
    1,
    600_000,
    "retry.initialDelayMs",
  );
  const retryMaxDelayMs = integerIn(
    options.retry?.maxDelayMs ?? defaultRetryMaxDelayMs,
    retryInitialDelayMs,
    3_600_000,
    "retry.maxDelayMs",
  );
  let deadLetterStream = options.deadLetterStream;
  if (deadLetterStream === undefined) {
    if (stream.length + deadLetterSuffix.length > maxStreamNameChars) {
      throw validationError(
        `the stream name is too long to add "${deadLetterSuffix}" for the dead-letter stream: name one with deadLetterStream`,
      );
    }
    deadLetterStream = stream + deadLetterSuffix;
  }
  validateStreamName(deadLetterStream);
  if (deadLetterStream === stream)
    throw validationError("the dead-letter stream must not be the source stream");
  return {
    name: validateConnectorName(options.name ?? stream),
    stream,
    database: options.database,
    table: options.table,
    stateDir: options.stateDir,
    mapping,
    batchSize,
    maxDelayMs,
    from,
    deadLetterStream,
    retryInitialDelayMs,
    retryMaxDelayMs,
    clock: options.clock ?? Date.now,
  };
}

function integerIn(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw validationError(`${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

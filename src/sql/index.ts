/**
 * The Timestream SQL dialect: translation of Timestream queries into DuckDB SQL.
 * The store runs `dialectSetupSql` once per connection, then each `translate(…).duckdbSql`.
 */
import { timeSeriesMacros } from "./time-series.js";

export * from "./contract.js";
export { tokenize } from "./lexer.js";
export { parse } from "./parser.js";
export { missingColumnOf } from "./syntax-error.js";
export { formatTimestampNs, parseTimestampNs } from "./timestamps.js";
export { translate } from "./translate.js";
export { UNLOAD_MAX_FILE_BYTES, UNLOAD_MIN_FILE_BYTES } from "./unload.js";

/**
 * DuckDB statements to run once per connection before translated queries: UTC for every
 * timestamp conversion (Timestream has no other time zone), and the time-series macros.
 */
export const dialectSetupSql: string[] = ["SET TimeZone = 'UTC'", ...timeSeriesMacros];

export type { ColumnarWriteRequest } from "./columns.js";
export {
  type BucketVersion,
  type DataVersionOptions,
  DEFAULT_BUCKET_MS,
} from "./data-versions.js";
export type { ExportRecord, TableRead } from "./export-ledger.js";
export { DEFAULT_QUERY_LIMITS, type QueryLimits } from "./query-limits.js";
export { formatTimestampNs } from "./results.js";
export type { StoreService } from "./service.js";
export {
  API_MAX_RECORDS_PER_WRITE,
  type QueryStats,
  STORE_TEMP_FOLDER,
  type StoreOptions,
  TimestreamStore,
} from "./store.js";
export type * from "./types.js";

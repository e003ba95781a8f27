export type { ColumnarWriteRequest } from "./columns.js";
export { formatTimestampNs } from "./results.js";
export type { StoreService } from "./service.js";
export { API_MAX_RECORDS_PER_WRITE, type StoreOptions, TimestreamStore } from "./store.js";
export type * from "./types.js";

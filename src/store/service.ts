import type { TimestreamStore } from "./store.js";

/** What callers outside the store use: the local store and the HTTP client both provide it. */
export type StoreService = Pick<
  TimestreamStore,
  | "createDatabase"
  | "describeDatabase"
  | "listDatabaseDescriptions"
  | "updateDatabase"
  | "deleteDatabase"
  | "createTable"
  | "describeTable"
  | "listTableDescriptions"
  | "updateTable"
  | "deleteTable"
  | "writeRecords"
  | "query"
>;

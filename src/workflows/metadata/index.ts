/**
 * The workflow metadata database: DAGs, runs, task instances and their tries, backfills and
 * workers, on SQLite (default) or PostgreSQL. The only part that imports kysely, better-sqlite3 and pg.
 */
export { maxClaimLimit } from "./claims.js";
export { openMetadata } from "./open.js";
export { maxListedRuns } from "./task-instances.js";
export * from "./types.js";

/**
 * What the query code needs from a database: a Kysely instance for reads and a way to run a write
 * transaction. The SQLite and PostgreSQL files each provide one; nothing above them knows which.
 */
import type { Kysely } from "kysely";
import type { MetadataTables } from "./tables.js";
import type { MetadataDialect } from "./types.js";

export type Queries = Kysely<MetadataTables>;

export interface MetadataDatabase {
  readonly dialect: MetadataDialect;
  /** For reads outside a transaction. Writes go through `write`. */
  readonly db: Queries;
  /**
   * Runs `work` in one transaction that holds the write lock from its first statement (SQLite:
   * BEGIN IMMEDIATE; PostgreSQL: row locks as taken). `work` must use only the `trx` it is given.
   * On PostgreSQL a transaction chosen as a deadlock's victim (or failing to serialize) is run
   * again (after a short, growing pause), up to five times in all: `work` must do nothing but queries and bookkeeping it starts afresh.
   */
  write<T>(work: (trx: Queries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

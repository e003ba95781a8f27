/**
 * The metadata database on SQLite (better-sqlite3 under Kysely's SqliteDialect).
 */
import fs from "node:fs";
import SqliteDatabase from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { MetadataDatabase, Queries } from "./database.js";
import { withFileLock } from "./file-lock.js";
import type { MetadataTables } from "./tables.js";

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
const busyTimeoutMs = 5000;

export function openSqliteDatabase(filePath: string): MetadataDatabase {
  const connection = new SqliteDatabase(filePath, { timeout: busyTimeoutMs });
  // WAL lets readers work while one writer writes; synchronous=FULL fsyncs the WAL on every
  // commit, so a committed state change survives kill -9 and power loss.
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = FULL");
  connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
  connection.pragma("foreign_keys = ON");
  const lockKey = fs.realpathSync(filePath);
  const db = new Kysely<MetadataTables>({ dialect: new SqliteDialect({ database: connection }) });

  return {
    dialect: "sqlite",
    db,
    write<T>(work: (trx: Queries) => Promise<T>): Promise<T> {
      return withFileLock(lockKey, () =>
        db.connection().execute(async (conn) => {
          // IMMEDIATE takes the write lock now, not at the first write, so two transactions that
          // read-then-write (claims) cannot both read the same queued rows.
          await sql`BEGIN IMMEDIATE`.execute(conn);
          try {
            const result = await work(conn);
            await sql`COMMIT`.execute(conn);
            return result;
          } catch (error) {
            if (connection.inTransaction) await sql`ROLLBACK`.execute(conn);
            throw error;
          }
        }),
      );
    },
    async close() {
      await db.destroy();
    },
  };
}

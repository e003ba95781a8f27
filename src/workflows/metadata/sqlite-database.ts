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
/** Prepared statements kept per connection: the store's queries are a few dozen shapes. */
const statementCacheSize = 256;

/**
 * The connection as Kysely's SqliteDialect sees it, with prepared statements reused by SQL text.
 * Kysely prepares every query it runs; preparing (parsing and planning the SQL) cost more than
 * running the store's small queries. A statement is used synchronously from start to end (the
 * store never streams), so one statement object serves every caller of its text.
 */
function withStatementCache(connection: SqliteDatabase.Database) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(text: string): SqliteDatabase.Statement {
      let statement = statements.get(text);
      if (statement !== undefined) {
        // Most recently used last, so the first entry is the one to drop.
        statements.delete(text);
      } else {
        statement = connection.prepare(text);
        if (statements.size >= statementCacheSize) statements.delete(statements.keys().next().value!);
      }
      statements.set(text, statement);
      return statement;
    },
    close(): void {
      statements.clear();
      connection.close();
    },
  };
}

export function openSqliteDatabase(filePath: string): MetadataDatabase {
  const connection = new SqliteDatabase(filePath, { timeout: busyTimeoutMs });
  // WAL lets readers work while one writer writes; synchronous=FULL fsyncs the WAL on every
  // commit, so a committed state change survives kill -9 and power loss.
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = FULL");
  connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
  connection.pragma("foreign_keys = ON");
  const lockKey = fs.realpathSync(filePath);
  const db = new Kysely<MetadataTables>({
    dialect: new SqliteDialect({ database: withStatementCache(connection) }),
  });

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

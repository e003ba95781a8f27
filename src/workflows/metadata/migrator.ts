/**
 * A tiny forward-only migrator: schema_migrations records every applied version; on open, the
 * versions not yet applied run in order, all in one transaction that holds the write lock (SQLite)
 * or an advisory lock (PostgreSQL), so two processes opening one database at once apply each
 * migration exactly once. A database that has a version this code does not know was migrated by
 * newer code: it is refused rather than used with the wrong assumptions.
 */
import { sql } from "kysely";
import { conflict, HourglassError } from "../../errors.js";
import type { MetadataDatabase } from "./database.js";
import type { Migration } from "./migrations/index.js";

export type MigrationStatus = "Applied" | "AlreadyApplied";

export interface MigrationResult {
  version: number;
  name: string;
  status: MigrationStatus;
}

function checkNumbering(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new HourglassError(
        "Internal",
        `migration ${migration.name} has version ${migration.version}, expected ${index + 1}`,
      );
    }
  });
}

export async function migrate(
  database: MetadataDatabase,
  migrations: readonly Migration[],
  now: number,
  schema?: string,
): Promise<MigrationResult[]> {
  checkNumbering(migrations);
  // SQLite ignores PRAGMA foreign_keys inside a transaction: a table rebuild turns them off around
  // it (only when one is pending; the connection is the store's one connection).
  const rebuild = database.dialect === "sqlite" && migrations.some((m) => m.rebuildsTables);
  if (!rebuild) return migrateInTransaction(database, migrations, now, schema);
  const pending = await pendingRebuild(database, migrations);
  if (!pending) return migrateInTransaction(database, migrations, now, schema);
  await sql`PRAGMA foreign_keys = OFF`.execute(database.db);
  try {
    return await migrateInTransaction(database, migrations, now, schema);
  } finally {
    await sql`PRAGMA foreign_keys = ON`.execute(database.db);
  }
}

/** Whether a table-rebuilding migration has yet to be applied (SQLite). */
async function pendingRebuild(
  database: MetadataDatabase,
  migrations: readonly Migration[],
): Promise<boolean> {
  const exists = await sql<{
    n: number;
  }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`.execute(
    database.db,
  );
  if (Number(exists.rows[0]?.n ?? 0) === 0) return true;
  const applied = new Set(
    (await database.db.selectFrom("schema_migrations").select("version").execute()).map((row) => row.version),
  );
  return migrations.some((m) => m.rebuildsTables && !applied.has(m.version));
}

async function migrateInTransaction(
  database: MetadataDatabase,
  migrations: readonly Migration[],
  now: number,
  schema?: string,
): Promise<MigrationResult[]> {
  return database.write(async (trx) => {
    if (database.dialect === "postgres" && schema !== undefined) {
      // Serializes migrators of this schema across processes; released at commit.
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`hourglass.metadata:${schema}`}))`.execute(trx);
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(trx);
      await sql`SET LOCAL search_path TO ${sql.id(schema)}`.execute(trx);
    }
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`.execute(trx);
    const applied = await trx.selectFrom("schema_migrations").selectAll().orderBy("version").execute();
    const known = new Map(migrations.map((migration) => [migration.version, migration]));
    for (const row of applied) {
      const migration = known.get(row.version);
      if (migration === undefined) {
        throw conflict(
          `the metadata database has migration ${row.version} (${row.name}), newer than this code, which knows up to ${migrations.length}: upgrade Hourglass`,
          { appliedVersion: row.version, knownVersion: migrations.length },
        );
      }
      if (migration.name !== row.name) {
        throw conflict(
          `the metadata database's migration ${row.version} is "${row.name}" but this code's is "${migration.name}"`,
          { version: row.version },
        );
      }
    }
    const appliedVersions = new Set(applied.map((row) => row.version));
    const results: MigrationResult[] = [];
    for (const migration of migrations) {
      if (appliedVersions.has(migration.version)) {
        results.push({ version: migration.version, name: migration.name, status: "AlreadyApplied" });
        continue;
      }
      for (const statement of migration.statements(database.dialect)) {
        await sql.raw(statement).execute(trx);
      }
      if (migration.rebuildsTables && database.dialect === "sqlite") {
        const broken = await sql.raw("PRAGMA foreign_key_check").execute(trx);
        if (broken.rows.length > 0) {
          throw new HourglassError(
            "Internal",
            `migration ${migration.version} (${migration.name}) would leave ${broken.rows.length} row(s) with a broken reference; nothing was changed`,
          );
        }
      }
      await trx
        .insertInto("schema_migrations")
        .values({ version: migration.version, name: migration.name, applied_at: now })
        .execute();
      results.push({ version: migration.version, name: migration.name, status: "Applied" });
    }
    return results;
  });
}

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
      await trx
        .insertInto("schema_migrations")
        .values({ version: migration.version, name: migration.name, applied_at: now })
        .execute();
      results.push({ version: migration.version, name: migration.name, status: "Applied" });
    }
    return results;
  });
}

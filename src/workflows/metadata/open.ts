import fs from "node:fs";
import path from "node:path";
import type { MetadataDatabase } from "./database.js";
import { guarded } from "./database-errors.js";
import { migrations } from "./migrations/index.js";
import { migrate } from "./migrator.js";
import { openPostgresDatabase } from "./postgres-database.js";
import { openSqliteDatabase } from "./sqlite-database.js";
import { SqlMetadataStore } from "./store.js";
import type { MetadataStore, OpenMetadataOptions } from "./types.js";
import { parseMetadataUrl } from "./url.js";

/**
 * Opens the metadata database named by `options.url` and brings its schema up to date (creating
 * the SQLite file, or the PostgreSQL schema, if needed). Refuses a database migrated by newer code.
 */
export async function openMetadata(options: OpenMetadataOptions): Promise<MetadataStore> {
  const target = parseMetadataUrl(options.url, options.schema);
  let database: MetadataDatabase;
  if (target.kind === "sqlite") {
    await fs.promises.mkdir(path.dirname(target.filePath), { recursive: true });
    database = await guarded(async () => openSqliteDatabase(target.filePath));
  } else {
    database = openPostgresDatabase(target.url, target.schema);
  }
  try {
    // applied_at is a record for people, not a scheduling decision, so the wall clock is fine here.
    await guarded(() =>
      migrate(database, migrations, Date.now(), target.kind === "postgres" ? target.schema : undefined),
    );
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  return new SqlMetadataStore(database);
}

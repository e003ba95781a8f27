import { initialMigration } from "./0001_initial.js";
import { tryCodeVersionsMigration } from "./0002_try_code_versions.js";
import { reexportRunsMigration } from "./0003_reexport_runs.js";
import type { Migration } from "./migration.js";

export type { Migration } from "./migration.js";

/** Every migration, in version order. Append only: an applied migration is never edited. */
export const migrations: readonly Migration[] = [
  initialMigration,
  tryCodeVersionsMigration,
  reexportRunsMigration,
];

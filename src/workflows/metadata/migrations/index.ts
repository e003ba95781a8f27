import { initialMigration } from "./0001_initial.js";
import type { Migration } from "./migration.js";

export type { Migration } from "./migration.js";

/** Every migration, in version order. Append only: an applied migration is never edited. */
export const migrations: readonly Migration[] = [initialMigration];

/**
 * The code version each try ran. A run keeps its task instances when it is cleared, and a DAG file
 * may change between two tries: the version is a property of the try (Airflow 3 records a DAG
 * version per task instance try for the same reason), and the task instance shows its latest
 * try's. Existing rows keep NULL: what they ran was not recorded.
 */
import type { Migration } from "./migration.js";

export const tryCodeVersionsMigration: Migration = {
  version: 2,
  name: "try code versions",
  statements: () => [
    "ALTER TABLE task_tries ADD COLUMN code_version TEXT",
    "ALTER TABLE task_instances ADD COLUMN code_version TEXT",
  ],
};

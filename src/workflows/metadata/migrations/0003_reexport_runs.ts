/**
 * Re-export runs (docs/freshness.md): a run of type `reexport` re-runs an interval whose export
 * went stale because late data arrived. It has an interval of its own (the one it re-exports) but
 * is not "the" run of that interval: the one-run-per-interval index leaves it out, so the interval's
 * scheduled (or backfill) run stays where it is and keeps its history. That reexport runs of one
 * interval never run two at once is the scheduler's rule (it creates one only while no run of the
 * interval is queued or running, in the same transaction).
 *
 * SQLite cannot change a CHECK constraint: dag_runs is rebuilt the way SQLite's documentation
 * says (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
 * Changes"), with foreign keys off around the transaction (`rebuildsTables`) and checked before
 * the commit. PostgreSQL changes the constraint and the index in place.
 */
import type { MetadataDialect } from "../types.js";
import { identityColumn, type Migration } from "./migration.js";

const runTypes = "'scheduled', 'backfill', 'manual', 'reexport'";
const oneRunPerInterval =
  "CREATE UNIQUE INDEX dag_runs_one_per_interval ON dag_runs (dag_id, data_interval_start, data_interval_end) WHERE interval_explicit = 1 AND run_type <> 'reexport'";

function statements(dialect: MetadataDialect): string[] {
  if (dialect === "postgres") {
    return [
      "ALTER TABLE dag_runs DROP CONSTRAINT dag_runs_run_type_check",
      `ALTER TABLE dag_runs ADD CONSTRAINT dag_runs_run_type_check CHECK (run_type IN (${runTypes}))`,
      "DROP INDEX dag_runs_one_per_interval",
      oneRunPerInterval,
    ];
  }
  return [
    `CREATE TABLE dag_runs_new (
      id ${identityColumn(dialect)},
      dag_id TEXT NOT NULL REFERENCES dags (dag_id),
      run_id TEXT NOT NULL,
      run_type TEXT NOT NULL CHECK (run_type IN (${runTypes})),
      logical_date BIGINT NOT NULL,
      data_interval_start BIGINT NOT NULL,
      data_interval_end BIGINT NOT NULL,
      interval_explicit INTEGER NOT NULL CHECK (interval_explicit IN (0, 1)),
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed')),
      conf TEXT NOT NULL,
      backfill_id BIGINT REFERENCES backfills (id),
      clear_number INTEGER NOT NULL DEFAULT 0,
      code_version TEXT,
      created_at BIGINT NOT NULL,
      started_at BIGINT,
      ended_at BIGINT,
      updated_at BIGINT NOT NULL,
      CHECK (data_interval_start <= data_interval_end),
      CHECK (run_type = 'manual' OR interval_explicit = 1),
      UNIQUE (dag_id, run_id)
    )`,
    `INSERT INTO dag_runs_new (id, dag_id, run_id, run_type, logical_date, data_interval_start, data_interval_end,
       interval_explicit, state, conf, backfill_id, clear_number, code_version, created_at, started_at, ended_at, updated_at)
     SELECT id, dag_id, run_id, run_type, logical_date, data_interval_start, data_interval_end,
       interval_explicit, state, conf, backfill_id, clear_number, code_version, created_at, started_at, ended_at, updated_at
     FROM dag_runs`,
    "DROP TABLE dag_runs",
    "ALTER TABLE dag_runs_new RENAME TO dag_runs",
    oneRunPerInterval,
    "CREATE INDEX dag_runs_by_dag_state ON dag_runs (dag_id, state)",
    "CREATE INDEX dag_runs_by_state ON dag_runs (state)",
    "CREATE INDEX dag_runs_by_backfill ON dag_runs (backfill_id)",
  ];
}

export const reexportRunsMigration: Migration = {
  version: 3,
  name: "reexport runs",
  rebuildsTables: true,
  statements,
};

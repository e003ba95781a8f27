import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openMetadata } from "../../src/workflows/metadata/index.js";
import type { Migration } from "../../src/workflows/metadata/migrations/index.js";
import { migrations } from "../../src/workflows/metadata/migrations/index.js";
import { migrate } from "../../src/workflows/metadata/migrator.js";
import { postgresTargets, rejectsWith, sqliteTargets } from "./helpers.js";

const applied = migrations.map((m) => [m.version, m.name]);
const testVersion = migrations.length + 1;
const testMigration: Migration = {
  version: testVersion,
  name: "test_extra_column",
  statements: () => ["ALTER TABLE workers ADD COLUMN test_note TEXT"],
};

for (const factory of [sqliteTargets, postgresTargets]) {
  describe(`migrations [${factory.kind}]`, { skip: factory.skip }, () => {
    it("apply once on open and are idempotent on reopen", async () => {
      const target = await factory.create();
      try {
        const first = await openMetadata(target.options);
        await first.close();
        const second = await openMetadata(target.options);
        await second.close();
        const raw = target.openRaw();
        try {
          const rows = await raw.db.selectFrom("schema_migrations").selectAll().execute();
          assert.deepEqual(
            rows.map((row) => [row.version, row.name]),
            applied,
          );
          const results = await migrate(raw, migrations, 0, target.options.schema);
          assert.deepEqual(
            results,
            migrations.map((m) => ({ version: m.version, name: m.name, status: "AlreadyApplied" })),
          );
        } finally {
          await raw.close();
        }
      } finally {
        await target.destroy();
      }
    });

    it("migration 3 keeps every run and its task instances, and lets reexport runs share an interval", async () => {
      const target = await factory.create();
      const raw = target.openRaw();
      try {
        await migrate(raw, migrations.slice(0, 2), 0, target.options.schema);
        await raw.write(async (trx) => {
          const { sql } = await import("kysely");
          await sql`INSERT INTO dags (dag_id, file_path, code_version, schedule, timezone, start_date, catchup,
            max_active_runs, max_active_tasks, is_paused, is_active, created_at, updated_at)
            VALUES ('d', '/dags/d.ts', 'v1', '@hourly', 'UTC', 0, 1, 16, 16, 0, 1, 0, 0)`.execute(trx);
          await sql`INSERT INTO dag_runs (dag_id, run_id, run_type, logical_date, data_interval_start, data_interval_end,
            interval_explicit, state, conf, created_at, updated_at)
            VALUES ('d', 'scheduled__x', 'scheduled', 0, 0, 3600000, 1, 'success', '{}', 0, 0)`.execute(trx);
          await sql`INSERT INTO task_instances (dag_run_id, task_id, dag_id, state, try_number, max_tries, retries,
            retry_delay_ms, priority, updated_at)
            SELECT id, 't', 'd', 'success', 1, 1, 0, 0, 1, 0 FROM dag_runs`.execute(trx);
        });
      } finally {
        await raw.close();
      }
      const store = await openMetadata(target.options);
      try {
        const run = await store.getRunByRunId("d", "scheduled__x");
        assert.ok(run !== null);
        assert.equal((await store.listTaskInstances({ dagRunId: run.id })).length, 1);
        const interval = { start: 0, end: 3_600_000 };
        const tasks = [{ taskId: "t", retries: 0, retryDelayMs: 0, priority: 0 }];
        const again = await store.createRun(
          { dagId: "d", runType: "scheduled", interval, runId: "scheduled__y", tasks },
          1,
        );
        assert.equal(again.created, false, "still one scheduled run per interval");
        const reexport = await store.createRun(
          { dagId: "d", runType: "reexport", interval, runId: "reexport__x__v1", tasks },
          1,
        );
        assert.equal(reexport.created, true);
        const twice = await store.createRun(
          { dagId: "d", runType: "reexport", interval, runId: "reexport__x__v1", tasks },
          1,
        );
        assert.equal(twice.created, false, "one reexport per run id");
        if (!twice.created) assert.equal(twice.existing.runId, "reexport__x__v1");
      } finally {
        await store.close();
        await target.destroy();
      }
    });

    it("apply only the new migrations, in order, and report each", async () => {
      const target = await factory.create();
      const raw = target.openRaw();
      try {
        assert.deepEqual(
          await migrate(raw, migrations, 0, target.options.schema),
          migrations.map((m) => ({ version: m.version, name: m.name, status: "Applied" })),
        );
        assert.deepEqual(await migrate(raw, [...migrations, testMigration], 0, target.options.schema), [
          ...migrations.map((m) => ({ version: m.version, name: m.name, status: "AlreadyApplied" })),
          { version: testVersion, name: "test_extra_column", status: "Applied" },
        ]);
        await raw.write((trx) =>
          trx
            .insertInto("workers")
            .values({
              id: "w",
              pid: 1,
              host: "h",
              state: "running",
              started_at: 0,
              heartbeat_at: 0,
              stopped_at: null,
            })
            .execute(),
        );
      } finally {
        await raw.close();
        await target.destroy();
      }
    });

    it("refuse a database migrated by newer code", async () => {
      const target = await factory.create();
      const raw = target.openRaw();
      try {
        await migrate(raw, [...migrations, testMigration], 0, target.options.schema);
        await rejectsWith(
          openMetadata(target.options),
          "Conflict",
          new RegExp(`migration ${testVersion} \\(test_extra_column\\), newer than this code`),
        );
      } finally {
        await raw.close();
        await target.destroy();
      }
    });

    it("refuse a database whose applied migration differs from the code's", async () => {
      const target = await factory.create();
      const raw = target.openRaw();
      try {
        await migrate(raw, [{ ...migrations[0]!, name: "renamed" }], 0, target.options.schema);
        await rejectsWith(
          migrate(raw, migrations, 0, target.options.schema),
          "Conflict",
          /is "renamed" but this code's is "initial"/,
        );
      } finally {
        await raw.close();
        await target.destroy();
      }
    });

    it("refuse a migration list that is not numbered 1, 2, 3…", async () => {
      const target = await factory.create();
      const raw = target.openRaw();
      try {
        await rejectsWith(
          migrate(raw, [{ ...testMigration, version: 7 }], 0, target.options.schema),
          "Internal",
          /has version 7, expected 1/,
        );
      } finally {
        await raw.close();
        await target.destroy();
      }
    });

    it("two stores opening a new database at once apply the migrations once", async () => {
      const target = await factory.create();
      try {
        const stores = await Promise.all([openMetadata(target.options), openMetadata(target.options)]);
        for (const store of stores) await store.close();
        const raw = target.openRaw();
        try {
          const rows = await raw.db.selectFrom("schema_migrations").selectAll().execute();
          assert.equal(rows.length, migrations.length);
        } finally {
          await raw.close();
        }
      } finally {
        await target.destroy();
      }
    });
  });
}

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

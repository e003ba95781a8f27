import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { TimestreamStore } from "../../src/store/index.js";
import { openTestStore, type TestStore } from "../support/store.js";

const rejectsWith = (promise: Promise<unknown>, code: string, pattern: RegExp) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(isHourglassError(error), `expected a HourglassError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });

describe("store catalog", () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore();
  });
  after(async () => {
    await t.close();
  });

  it("creates, describes, lists and updates databases", async () => {
    const created = await t.store.createDatabase("metrics-db");
    assert.equal(created.DatabaseName, "metrics-db");
    assert.equal(created.TableCount, 0);
    assert.match(created.Arn, /^arn:aws:timestream:[^:]+:\d{12}:database\/metrics-db$/);
    assert.deepEqual(
      (await t.store.listDatabaseDescriptions()).map((d) => d.DatabaseName),
      ["metrics-db"],
    );
    assert.equal((await t.store.describeDatabase("metrics-db")).DatabaseName, "metrics-db");
    await t.store.updateDatabase("metrics-db");
    await rejectsWith(t.store.createDatabase("metrics-db"), "Conflict", /already exists/);
    await rejectsWith(t.store.describeDatabase("nope-db"), "NotFound", /Database 'nope-db' does not exist/);
  });

  it("refuses invalid names", async () => {
    await rejectsWith(t.store.createDatabase("ab"), "ValidationError", /3 to 256 characters/);
    await rejectsWith(t.store.createDatabase("bad name!"), "ValidationError", /invalid/);
    await rejectsWith(
      t.store.createTable({ DatabaseName: "metrics-db", TableName: "x/y" }),
      "ValidationError",
      /Table name 'x\/y' is invalid/,
    );
  });

  it("creates tables with retention and the magnetic-writes flag, within Timestream's bounds", async () => {
    const table = await t.store.createTable({
      DatabaseName: "metrics-db",
      TableName: "cpu",
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: 1 },
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    assert.deepEqual(table.RetentionProperties, {
      MemoryStoreRetentionPeriodInHours: 24,
      MagneticStoreRetentionPeriodInDays: 1,
    });
    assert.equal(table.MagneticStoreWriteProperties.EnableMagneticStoreWrites, true);
    assert.equal(table.TableStatus, "ACTIVE");
    assert.match(table.Arn, /database\/metrics-db\/table\/cpu$/);
    for (const [hours, days, pattern] of [
      [0, 1, /MemoryStoreRetentionPeriodInHours must be an integer from 1 to 8766/],
      [8767, 1, /from 1 to 8766/],
      [1.5, 1, /from 1 to 8766/],
      [1, 0, /MagneticStoreRetentionPeriodInDays must be an integer from 1 to 73000/],
      [1, 73001, /from 1 to 73000/],
    ] as const) {
      await rejectsWith(
        t.store.createTable({
          DatabaseName: "metrics-db",
          TableName: "bad-retention",
          RetentionProperties: {
            MemoryStoreRetentionPeriodInHours: hours,
            MagneticStoreRetentionPeriodInDays: days,
          },
        }),
        "ValidationError",
        pattern,
      );
    }
    await rejectsWith(
      t.store.createTable({ DatabaseName: "metrics-db", TableName: "cpu" }),
      "Conflict",
      /already exists/,
    );
    await rejectsWith(t.store.createTable({ DatabaseName: "no-db", TableName: "cpu" }), "NotFound", /no-db/);
    const updated = await t.store.updateTable({
      DatabaseName: "metrics-db",
      TableName: "cpu",
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 48 },
    });
    assert.equal(updated.RetentionProperties.MemoryStoreRetentionPeriodInHours, 48);
    assert.equal(
      updated.RetentionProperties.MagneticStoreRetentionPeriodInDays,
      1,
      "unchanged fields are kept",
    );
    assert.deepEqual(
      (await t.store.listTableDescriptions("metrics-db")).map((d) => d.TableName),
      ["cpu"],
    );
    assert.equal((await t.store.describeDatabase("metrics-db")).TableCount, 1);
  });

  it("refuses to delete a database that still has tables, as Timestream does", async () => {
    await rejectsWith(t.store.deleteDatabase("metrics-db"), "Conflict", /still has 1 table\(s\) \(cpu\)/);
    await t.store.deleteTable("metrics-db", "cpu");
    await rejectsWith(t.store.describeTable("metrics-db", "cpu"), "NotFound", /metrics-db\.cpu/);
    await t.store.deleteDatabase("metrics-db");
    assert.deepEqual(await t.store.listDatabaseDescriptions(), []);
  });

  it("persists the catalog in the state folder across a reopen", async () => {
    await t.store.createDatabase("kept-db");
    await t.store.createTable({
      DatabaseName: "kept-db",
      TableName: "kept-table",
      RetentionProperties: { MemoryStoreRetentionPeriodInHours: 12, MagneticStoreRetentionPeriodInDays: 30 },
    });
    await t.store.close();
    const reopened = await TimestreamStore.open({ dir: t.dir, sweepIntervalMs: 0 });
    try {
      const table = await reopened.describeTable("kept-db", "kept-table");
      assert.equal(table.RetentionProperties.MemoryStoreRetentionPeriodInHours, 12);
      assert.equal(table.RetentionProperties.MagneticStoreRetentionPeriodInDays, 30);
    } finally {
      await reopened.close();
    }
    t = { ...t, store: await TimestreamStore.open({ dir: t.dir, sweepIntervalMs: 0 }) };
  });
});

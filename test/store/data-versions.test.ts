import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { TimestreamStore } from "../../src/store/index.js";
import type { WriteRecord } from "../../src/store/types.js";
import { SEED_NOW_MS, tempDir } from "../support/store.js";

const HOUR_MS = 3_600_000;
const table = { DatabaseName: "v-db", TableName: "v-table" };
const readAll = `SELECT * FROM "v-db"."v-table"`;

function record(timeMs: number, value: number, extra: Partial<WriteRecord> = {}): WriteRecord {
  return {
    Dimensions: [{ Name: "host", Value: "h-1" }],
    MeasureName: "cpu",
    MeasureValue: String(value),
    Time: String(timeMs),
    ...extra,
  };
}

async function open(dir: string, options: Parameters<typeof TimestreamStore.open>[0] = {}) {
  return TimestreamStore.open({ dir, clockMs: () => SEED_NOW_MS, sweepIntervalMs: 0, ...options });
}

describe("data versions", () => {
  const dir = tempDir("hg-versions-");
  let store: TimestreamStore;
  const h13 = SEED_NOW_MS - 3 * HOUR_MS; // 13:00
  const bucketOf13 = async () => {
    const { buckets } = await store.dataVersionsRead(readAll, h13, h13 + HOUR_MS);
    assert.equal(buckets.length, 1);
    return buckets[0]!;
  };

  before(async () => {
    store = await open(dir);
    await store.createDatabase("v-db");
    await store.createTable({ ...table, RetentionProperties: { MemoryStoreRetentionPeriodInHours: 24 } });
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a write moves the version of the hour it lands in, and counts its records", async () => {
    await store.writeRecords({ ...table, Records: [record(h13 + 60_000, 1), record(h13 + 120_000, 2)] });
    const first = await bucketOf13();
    assert.equal(first.startMs, h13);
    assert.equal(first.widthMs, HOUR_MS);
    assert.equal(first.records, 2);
    assert.equal(first.writtenMs, SEED_NOW_MS);
    // Another hour's write leaves 13:00 alone.
    await store.writeRecords({ ...table, Records: [record(h13 + HOUR_MS + 1000, 3)] });
    assert.deepEqual(await bucketOf13(), first);
    // The same record again is a no-op: nothing moves. A rejected one moves nothing either.
    await store.writeRecords({ ...table, Records: [record(h13 + 60_000, 1)] });
    const rejected = await store.writeRecords({ ...table, Records: [record(h13 + 60_000, 9)] });
    assert.equal(rejected.rejected.length, 1);
    assert.deepEqual(await bucketOf13(), first);
    // A higher Version replaces the point: the bucket moves.
    await store.writeRecords({ ...table, Records: [record(h13 + 60_000, 9, { Version: 2 })] });
    const upserted = await bucketOf13();
    assert.ok(upserted.version > first.version);
    assert.equal(upserted.records, 3);
    // A late record (an hour already past) moves it again.
    await store.writeRecords({ ...table, Records: [record(h13 + 50 * 60_000, 4)] });
    const late = await bucketOf13();
    assert.ok(late.version > upserted.version);
    assert.equal(late.records, 4);
  });

  it("reports what a query reads: the highest version and the records of its interval's buckets", async () => {
    const { reads } = await store.dataVersionsRead(readAll, h13, h13 + 2 * HOUR_MS);
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.table, "v-db.v-table");
    assert.equal(reads[0]!.records, 5);
    const { reads: none } = await store.dataVersionsRead(readAll, h13 - 5 * HOUR_MS, h13 - 4 * HOUR_MS);
    assert.deepEqual(
      none.map((r) => [r.version, r.records]),
      [[0, 0]],
    );
  });

  it("keeps versions across a restart, and later writes get higher ones", async () => {
    const before13 = await bucketOf13();
    await store.close();
    store = await open(dir);
    assert.deepEqual(await bucketOf13(), before13);
    await store.writeRecords({ ...table, Records: [record(h13 + 30 * 60_000, 5)] });
    assert.ok((await bucketOf13()).version > before13.version);
  });

  it("takes bucket widths globally and per table; off keeps none", async () => {
    const other = tempDir("hg-versions-width-");
    try {
      const narrow = await open(other, { dataVersions: { bucketMs: 15 * 60_000 } });
      await narrow.createDatabase("v-db");
      await narrow.createTable(table);
      await narrow.writeRecords({
        ...table,
        Records: [record(h13 + 60_000, 1), record(h13 + 20 * 60_000, 2)],
      });
      const { buckets } = await narrow.dataVersionsRead(readAll, h13, h13 + HOUR_MS);
      assert.deepEqual(
        buckets.map((b) => [b.startMs - h13, b.widthMs, b.records]),
        [
          [0, 900_000, 1],
          [900_000, 900_000, 1],
        ],
      );
      await narrow.close();
      const perTable = await open(other, {
        dataVersions: { bucketMs: 15 * 60_000, tableBucketMs: { "v-db.v-table": 5 * 60_000 } },
      });
      await perTable.writeRecords({ ...table, Records: [record(h13 + 40 * 60_000, 3)] });
      const widths = (await perTable.dataVersionsRead(readAll, h13, h13 + HOUR_MS)).buckets.map(
        (b) => b.widthMs,
      );
      assert.deepEqual(widths, [900_000, 900_000, 300_000]);
      await perTable.close();
      const off = await open(other, { dataVersions: { enabled: false } });
      await off.writeRecords({ ...table, Records: [record(h13 + 50 * 60_000, 4)] });
      assert.equal((await off.dataVersionsRead(readAll, h13, h13 + HOUR_MS)).buckets.length, 3);
      await off.close();
      await assert.rejects(
        open(other, { dataVersions: { bucketMs: 10 } }),
        /bucketMs must be a whole number/,
      );
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it("drops a table's versions with the table", async () => {
    await store.deleteTable("v-db", "v-table");
    await store.createTable(table);
    const { buckets } = await store.dataVersionsRead(readAll, h13, h13 + HOUR_MS);
    assert.equal(buckets.length, 0);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  createSeedTable,
  openTestStore,
  queryAll,
  record,
  SEED_NOW_MS,
  type TestStore,
} from "../support/store.js";

describe("store retention", () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore();
    await createSeedTable(t.store, { memoryHours: 1, magneticDays: 1 });
  });
  after(async () => {
    await t.close();
  });

  it("hides data past memory + magnetic retention and the sweep removes it from disk", async () => {
    const nowS = SEED_NOW_MS / 1000;
    const result = await t.store.writeRecords({
      DatabaseName: "airflow-db",
      TableName: "airflow-table",
      Records: [record({ host: "a" }, "m", "1", nowS - 1800), record({ host: "a" }, "m", "2", nowS - 60)],
    });
    assert.deepEqual(result.rejected, []);
    const count = async () =>
      Number((await queryAll(t.store, `SELECT count(*) FROM "airflow-db"."airflow-table"`)).rows[0]![0]);
    assert.equal(await count(), 2);
    // 1 h memory + 1 day magnetic: the first point expires 25 h after it was written.
    t.clock.nowMs = SEED_NOW_MS + 24 * 3600_000 + 1800_000 + 1000;
    assert.equal(await count(), 1, "an expired point is invisible before any sweep");
    const swept = await t.store.sweepRetention();
    assert.deepEqual(swept, [{ table: "airflow-db.airflow-table", removed: 1 }]);
    t.clock.nowMs = SEED_NOW_MS;
    assert.equal(await count(), 1, "and the sweep really removed it");
  });
});

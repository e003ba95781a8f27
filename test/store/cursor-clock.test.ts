/**
 * A paged query's cursor and tokens expire after 10 minutes idle on the store's own clock (the
 * one `hourglass up` injects), not the wall clock: a test or a simulated day moves it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { openTestStore, type TestStore } from "../support/store.js";

const SQL = "SELECT * FROM unnest(sequence(1, 50)) AS t(n)";

describe("paged queries on the store's clock", () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore();
  });
  after(() => t.close());

  it("keeps a cursor while its clock stands still, and expires it once the clock moves past 10 idle minutes", async () => {
    const first = await t.store.query({ QueryString: SQL, MaxRows: 10 });
    assert.ok(first.NextToken);
    t.clock.nowMs += 9 * 60_000;
    const second = await t.store.query({ QueryString: SQL, MaxRows: 10, NextToken: first.NextToken });
    assert.equal(second.Rows.length, 10);
    assert.ok(second.NextToken);
    // Real time hardly moved; the store's clock says 11 idle minutes.
    t.clock.nowMs += 11 * 60_000;
    await assert.rejects(
      t.store.query({ QueryString: SQL, MaxRows: 10, NextToken: second.NextToken }),
      (error: unknown) =>
        isHourglassError(error, "ValidationError") &&
        /NextToken is invalid or has expired/.test(error.message),
    );
    // Its connection went back to the pool: a new query runs.
    const again = await t.store.query({ QueryString: SQL, MaxRows: 50 });
    assert.equal(again.Rows.length, 50);
  });
});

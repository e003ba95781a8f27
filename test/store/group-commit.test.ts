/**
 * Group commit: WriteRecords calls for one table that wait in the store's queue are written in one
 * transaction. Each scenario runs on two real stores, once call by call (each awaited) and once
 * with every call sent at once, and both must store the same data and give each call the same
 * result (and the expected one, spelled out).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HourglassError } from "../../src/errors.js";
import { pointsTable } from "../../src/store/catalog.js";
import type { TimestreamStore } from "../../src/store/index.js";
import type { WriteRecord, WriteRecordsRequest, WriteResult } from "../../src/store/types.js";
import {
  createSeedTable,
  openTestStore,
  queryAll,
  record,
  SEED_NOW_MS,
  type TestStore,
} from "../support/store.js";

const DB = "airflow-db";
const TABLE = "airflow-table";
const OTHER = "other-table";
const NOW_S = SEED_NOW_MS / 1000;
const OLD_S = NOW_S - 30 * 3600; // past the 24 h memory store: magnetic
const host = (n: number) => ({ region: "eu-west-1", instance_name: `i-${n}` });

type Outcome = WriteResult | { error: string; code: string; retryable: boolean };

/** Counts the writer's transactions (calls of its write), observing the real writer. */
function countWriterCalls(store: TimestreamStore): { calls: number } {
  const counter = { calls: 0 };
  const writer = (store as unknown as { writer: { write: (...args: unknown[]) => Promise<WriteResult> } })
    .writer;
  const original = writer.write.bind(writer);
  writer.write = (...args: unknown[]) => {
    counter.calls++;
    return original(...args);
  };
  return counter;
}

async function openStore(): Promise<TestStore> {
  const t = await openTestStore();
  await createSeedTable(t.store, { memoryHours: 24, magneticDays: 7, magneticWrites: true });
  await t.store.createTable({ DatabaseName: DB, TableName: OTHER });
  return t;
}

const outcome = (promise: Promise<WriteResult>): Promise<Outcome> =>
  promise.then(
    (result) => result,
    (error: unknown) =>
      error instanceof HourglassError
        ? { error: error.message, code: error.code, retryable: error.retryable }
        : { error: String(error), code: "?", retryable: false },
  );

async function stored(store: TimestreamStore, table = TABLE): Promise<string[]> {
  const { rows } = await queryAll(store, `SELECT * FROM "${DB}"."${table}"`);
  return rows.map((row) => JSON.stringify(row)).sort();
}

const request = (records: WriteRecord[], extra: Partial<WriteRecordsRequest> = {}): WriteRecordsRequest => ({
  DatabaseName: DB,
  TableName: TABLE,
  Records: records,
  ...extra,
});

describe("store group commit (concurrent WriteRecords in one transaction)", () => {
  let sequential: TestStore;
  let grouped: TestStore;
  let groupedCalls: { calls: number };

  before(async () => {
    sequential = await openStore();
    grouped = await openStore();
    groupedCalls = countWriterCalls(grouped.store);
  });
  after(async () => {
    await sequential.close();
    await grouped.close();
  });

  /** Runs the calls one by one on one store and all at once on the other; returns both outcomes. */
  async function both(requests: WriteRecordsRequest[], options: { maxRecords?: number } = {}) {
    const one: Outcome[] = [];
    for (const r of requests) one.push(await outcome(sequential.store.writeRecords(r, options)));
    const callsBefore = groupedCalls.calls;
    const all = await Promise.all(requests.map((r) => outcome(grouped.store.writeRecords(r, options))));
    assert.deepEqual(all, one, "grouped calls give each call what sequential calls give");
    assert.deepEqual(await stored(grouped.store), await stored(sequential.store), "and store the same");
    assert.deepEqual(await stored(grouped.store, OTHER), await stored(sequential.store, OTHER));
    return { results: one, writerCalls: groupedCalls.calls - callsBefore };
  }

  it("splits rejections, indexes and counts per call, and keeps Version rules in arrival order", async () => {
    const stale = record(host(1), "cpu_user", "10", NOW_S - 120);
    const kept = record(host(2), "cpu_user", "20", NOW_S - 120);
    const bumped = record(host(3), "cpu_user", "30", NOW_S - 120);
    const first = await both([request([stale, kept, bumped])]);
    assert.equal(first.writerCalls, 1);

    const fresh = (n: number, value: string) => record(host(n), "cpu_user", value, NOW_S - 60);
    const { results, writerCalls } = await both([
      // 0: new records with a bad one at index 1
      request([fresh(10, "1"), fresh(11, "not-a-number"), fresh(12, "3")]),
      // 1: against stored points: the same (a no-op), a different value (ExistingVersion), a higher version
      request([kept, { ...stale, MeasureValue: "11" }, { ...bumped, MeasureValue: "31", Version: 2 }]),
      // 2: a request-level error (CommonAttributes clash) fails this call alone
      request([{ Dimensions: [{ Name: "region", Value: "x" }], MeasureValue: "1" }], {
        CommonAttributes: {
          Dimensions: [{ Name: "region", Value: "y" }],
          MeasureName: "m",
          Time: String(NOW_S),
        },
      }),
      // 3: magnetic records and one outside the ingestion window
      request([
        record(host(20), "cpu_user", "1", OLD_S),
        record(host(21), "cpu_user", "2", NOW_S - 10 * 86400),
        record(host(22), "cpu_user", "3", OLD_S),
      ]),
      // 4: another table in between
      request([fresh(30, "5")], { TableName: OTHER }),
      // 5: an unknown table fails this call alone
      request([fresh(31, "5")], { TableName: "missing-table" }),
      // 6: call 0's records again: the same one (no-op) and a different value (ExistingVersion 1)
      request([fresh(10, "1"), fresh(12, "4")]),
      // 7: call 0's record with a higher version, and a duplicate inside the call
      request([{ ...fresh(10, "9"), Version: 3 }, fresh(40, "1"), fresh(40, "2")]),
      // 8, 9: a different value (rejected against the stored version 1), then a higher version: the
      // rejection stands, though inside one batch the higher version would make it a no-op
      request([{ ...stale, MeasureValue: "12" }]),
      request([{ ...stale, MeasureValue: "13", Version: 4 }]),
      // 10, 11: the same new value twice against the stored version 2: both rejected
      request([{ ...bumped, MeasureValue: "50" }]),
      request([{ ...bumped, MeasureValue: "50" }]),
    ]);
    assert.ok(writerCalls < 10, `calls were grouped (${writerCalls} writer calls for 10 writes)`);
    const [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11] = results as WriteResult[];
    for (const [result, existing] of [
      [r8, 1],
      [r10, 2],
      [r11, 2],
    ] as const) {
      assert.deepEqual(
        result!.rejected.map((r) => [r.RecordIndex, r.ExistingVersion]),
        [[0, existing]],
      );
      assert.equal(result!.RecordsIngested.Total, 0);
    }
    assert.deepEqual(r9!.RecordsIngested, { Total: 1, MemoryStore: 1, MagneticStore: 0 });
    assert.deepEqual(
      r0!.rejected.map((r) => r.RecordIndex),
      [1],
    );
    assert.deepEqual(r0!.RecordsIngested, { Total: 2, MemoryStore: 2, MagneticStore: 0 });
    assert.deepEqual(
      r1!.rejected.map((r) => [r.RecordIndex, r.ExistingVersion]),
      [[1, 1]],
    );
    assert.deepEqual(r1!.RecordsIngested, { Total: 2, MemoryStore: 2, MagneticStore: 0 });
    assert.ok(
      "error" in (r2 as unknown as Outcome) &&
        /dimensions may not overlap/.test((r2 as never as { error: string }).error),
    );
    assert.deepEqual(
      r3!.rejected.map((r) => [r.RecordIndex, /ingestion window/.test(r.Reason)]),
      [[1, true]],
    );
    assert.deepEqual(r3!.RecordsIngested, { Total: 2, MemoryStore: 0, MagneticStore: 2 });
    assert.deepEqual(r4!.RecordsIngested, { Total: 1, MemoryStore: 1, MagneticStore: 0 });
    assert.equal((r5 as unknown as { code: string }).code, "NotFound");
    assert.deepEqual(
      r6!.rejected.map((r) => [r.RecordIndex, r.ExistingVersion]),
      [[1, 1]],
    );
    assert.deepEqual(r6!.RecordsIngested, { Total: 1, MemoryStore: 1, MagneticStore: 0 });
    assert.deepEqual(
      r7!.rejected.map((r) => [r.RecordIndex, r.ExistingVersion]),
      [[2, 1]],
    );
    assert.deepEqual(r7!.RecordsIngested, { Total: 2, MemoryStore: 2, MagneticStore: 0 });
    const values = await queryAll(
      grouped.store,
      `SELECT instance_name, measure_value::double FROM "${DB}"."${TABLE}" WHERE time = from_milliseconds(${(NOW_S - 60) * 1000}) ORDER BY instance_name`,
    );
    assert.deepEqual(values.rows, [
      ["i-10", "9.0"],
      ["i-12", "3.0"],
      ["i-40", "1.0"],
    ]);
  });

  it("settles a new multi-measure attribute across calls as one after the other", async () => {
    const multi = (n: number, type: "DOUBLE" | "VARCHAR", value: string, time = NOW_S - 30): WriteRecord => ({
      Dimensions: [{ Name: "instance_name", Value: `m-${n}` }],
      MeasureName: "metrics",
      MeasureValueType: "MULTI",
      MeasureValues: [{ Name: "new_attribute", Value: value, Type: type }],
      Time: String(time),
      TimeUnit: "SECONDS",
    });
    const { results } = await both([
      request([multi(1, "DOUBLE", "1.5")]),
      request([multi(2, "VARCHAR", "text"), multi(3, "DOUBLE", "2.5")]),
    ]);
    const [first, second] = results as WriteResult[];
    assert.deepEqual(first!.rejected, []);
    assert.deepEqual(
      second!.rejected.map((r) => [r.RecordIndex, /has type DOUBLE/.test(r.Reason)]),
      [[0, true]],
    );
  });

  it("does not let a record rejected against stored data refuse another call's new attribute", async () => {
    const multi = (
      name: string,
      values: { Name: string; Value: string; Type: "DOUBLE" | "VARCHAR" }[],
    ): WriteRecord => ({
      Dimensions: [{ Name: "instance_name", Value: name }],
      MeasureName: "metrics",
      MeasureValueType: "MULTI",
      MeasureValues: values,
      Time: String(NOW_S - 40),
      TimeUnit: "SECONDS",
    });
    await both([request([multi("s-1", [{ Name: "a1", Value: "1", Type: "DOUBLE" }])])]);
    const { results } = await both([
      // Rejected against the stored point (a different value, no higher version); it alone would add 'late_attribute'.
      request([
        multi("s-1", [
          { Name: "a1", Value: "1", Type: "DOUBLE" },
          { Name: "late_attribute", Value: "2", Type: "DOUBLE" },
        ]),
      ]),
      // So 'late_attribute' is free for this call's VARCHAR, as when the calls run one by one.
      request([multi("s-2", [{ Name: "late_attribute", Value: "text", Type: "VARCHAR" }])]),
    ]);
    const [first, second] = results as WriteResult[];
    assert.deepEqual(
      first!.rejected.map((r) => [r.RecordIndex, r.ExistingVersion]),
      [[0, 1]],
    );
    assert.deepEqual(second!, {
      RecordsIngested: { Total: 1, MemoryStore: 1, MagneticStore: 0 },
      rejected: [],
    });
  });

  it("fails the first call of a burst alone on its own request-level error", async () => {
    const { results } = await both([
      request([record(host(60), "cpu_user", "1", NOW_S - 5)], {
        CommonAttributes: { Dimensions: [{ Name: "region", Value: "y" }] },
      }),
      request([record(host(61), "cpu_user", "1", NOW_S - 5)]),
      request([record(host(62), "cpu_user", "1", NOW_S - 5), record(host(62), "cpu_user", "x", NOW_S - 5)]),
    ]);
    assert.equal((results[0] as { code: string }).code, "ValidationError");
    assert.deepEqual((results[1] as WriteResult).RecordsIngested, {
      Total: 1,
      MemoryStore: 1,
      MagneticStore: 0,
    });
    assert.deepEqual(
      (results[2] as WriteResult).rejected.map((r) => r.RecordIndex),
      [1],
    );
  });

  it("repeats the same call concurrently as a no-op", async () => {
    const same = request([
      record(host(50), "cpu_user", "7", NOW_S - 5),
      record(host(51), "cpu_user", "8", NOW_S - 5),
    ]);
    const { results } = await both([same, same, same]);
    for (const result of results as WriteResult[]) {
      assert.deepEqual(result, {
        RecordsIngested: { Total: 2, MemoryStore: 2, MagneticStore: 0 },
        rejected: [],
      });
    }
  });

  it("groups many waiting calls into few transactions, capped per group", async () => {
    const callsBefore = groupedCalls.calls;
    const calls = Array.from({ length: 20 }, (_, c) =>
      grouped.store.writeRecords(
        request(
          Array.from({ length: 100 }, (_, i) => record(host(1000 + i), "load", String(c), NOW_S - 200 + c)),
        ),
      ),
    );
    const results = await Promise.all(calls);
    for (const result of results)
      assert.deepEqual(result.RecordsIngested, { Total: 100, MemoryStore: 100, MagneticStore: 0 });
    assert.ok(
      groupedCalls.calls - callsBefore <= 3,
      `20 calls took ${groupedCalls.calls - callsBefore} transactions`,
    );

    // Two 30,000-record native calls exceed the 50,000-record cap together: two transactions.
    const big = (c: number) =>
      request(Array.from({ length: 30_000 }, (_, i) => record(host(i), "big", String(c), NOW_S - 300 + c)));
    const before = groupedCalls.calls;
    const bigResults = await Promise.all([
      grouped.store.writeRecords(big(0), { maxRecords: 30_000 }),
      grouped.store.writeRecords(big(1), { maxRecords: 30_000 }),
    ]);
    assert.equal(groupedCalls.calls - before, 2);
    for (const result of bigResults) assert.equal(result.RecordsIngested.Total, 30_000);
  });

  it("fails every call of a group, retryable, when the transaction fails", async () => {
    const t = await openStore();
    try {
      await t.store.writeRecords(request([record(host(1), "cpu_user", "1", NOW_S - 60)]));
      const table = (
        t.store as unknown as { catalog: { getTable: (d: string, n: string) => never } }
      ).catalog.getTable(DB, TABLE);
      const engine = (t.store as unknown as { engine: { run: (sql: string) => Promise<number> } }).engine;
      // The points table goes away behind the store's back: every write to it fails in DuckDB.
      await engine.run(`ALTER TABLE ${pointsTable(table)} RENAME TO gone`);
      const outcomes = await Promise.all(
        [1, 2, 3].map((n) =>
          outcome(t.store.writeRecords(request([record(host(n), "cpu_user", "2", NOW_S - 30)]))),
        ),
      );
      for (const o of outcomes) {
        assert.ok("error" in o, "each call fails");
        assert.equal(o.code, "Internal");
        assert.equal(o.retryable, true);
      }
    } finally {
      await t.close();
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import type { WriteRecord } from "../../src/store/types.js";
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
const NOW_S = SEED_NOW_MS / 1000;
const host = (n: number) => ({ region: "eu-west-1", instance_name: `i-${n}` });

describe("store writes (Timestream WriteRecords rules)", () => {
  let t: TestStore;
  const write = (records: WriteRecord[], common?: WriteRecord, maxRecords?: number) =>
    t.store.writeRecords(
      { DatabaseName: DB, TableName: TABLE, Records: records, CommonAttributes: common },
      { maxRecords },
    );
  const count = async (where = "true") =>
    Number(
      (await queryAll(t.store, `SELECT count(*) AS n FROM "${DB}"."${TABLE}" WHERE ${where}`)).rows[0]![0],
    );

  before(async () => {
    t = await openTestStore();
    await createSeedTable(t.store, { memoryHours: 24, magneticDays: 1 });
  });
  after(async () => {
    await t.close();
  });

  it("writes the six measure value types and reads them back", async () => {
    const time = NOW_S - 60;
    const result = await write([
      record(host(1), "cpu_user", "42.5", time),
      record(host(1), "tasks", "17", time, { MeasureValueType: "BIGINT" }),
      record(host(1), "state", "SUCCESS", time, { MeasureValueType: "VARCHAR" }),
      record(host(1), "healthy", "true", time, { MeasureValueType: "BOOLEAN" }),
      record(host(1), "booted", String(NOW_S - 3600), time, { MeasureValueType: "TIMESTAMP" }),
      {
        Dimensions: [
          { Name: "region", Value: "eu-west-1" },
          { Name: "instance_name", Value: "i-1" },
        ],
        MeasureName: "metrics_record",
        MeasureValueType: "MULTI",
        MeasureValues: [
          { Name: "cpu_system", Value: "1.25", Type: "DOUBLE" },
          { Name: "gc_count", Value: "3", Type: "BIGINT" },
        ],
        Time: String(time),
        TimeUnit: "SECONDS",
      },
    ]);
    assert.deepEqual(result.rejected, []);
    assert.deepEqual(result.RecordsIngested, { Total: 6, MemoryStore: 6, MagneticStore: 0 });
    const { rows } = await queryAll(
      t.store,
      `SELECT measure_name, measure_value::double, measure_value::bigint, measure_value::varchar, measure_value::boolean, cpu_system, gc_count
       FROM "${DB}"."${TABLE}" WHERE instance_name = 'i-1' ORDER BY measure_name`,
    );
    assert.deepEqual(rows, [
      ["booted", null, null, null, null, null, null],
      ["cpu_user", "42.5", null, null, null, null, null],
      ["healthy", null, null, null, "true", null, null],
      ["metrics_record", null, null, null, null, "1.25", "3"],
      ["state", null, null, "SUCCESS", null, null, null],
      ["tasks", null, "17", null, null, null, null],
    ]);
    const booted = await queryAll(
      t.store,
      `SELECT measure_value::timestamp, time FROM "${DB}"."${TABLE}" WHERE measure_name = 'booted'`,
    );
    assert.deepEqual(booted.rows, [["2021-09-22 15:00:00.000000000", "2021-09-22 15:59:00.000000000"]]);
  });

  it("is schemaless: a new dimension or measure appears on first write, and DESCRIBE shows the columns", async () => {
    await write([record({ ...host(2), cell: "eu-west-1-cell-1" }, "cpu_user", "1", NOW_S - 50)]);
    const table = await t.store.describeTable(DB, TABLE);
    const names = table.Schema.map((c) => `${c.Name}:${c.Type}:${c.Role}`);
    assert.deepEqual(names, [
      "region:VARCHAR:DIMENSION",
      "instance_name:VARCHAR:DIMENSION",
      "cell:VARCHAR:DIMENSION",
      "measure_name:VARCHAR:MEASURE_NAME",
      "time:TIMESTAMP:TIMESTAMP",
      "measure_value::bigint:BIGINT:MEASURE_VALUE",
      "measure_value::boolean:BOOLEAN:MEASURE_VALUE",
      "measure_value::double:DOUBLE:MEASURE_VALUE",
      "measure_value::timestamp:TIMESTAMP:MEASURE_VALUE",
      "measure_value::varchar:VARCHAR:MEASURE_VALUE",
      "cpu_system:DOUBLE:MULTI",
      "gc_count:BIGINT:MULTI",
    ]);
    const cells = await queryAll(
      t.store,
      `SELECT instance_name, cell FROM "${DB}"."${TABLE}" WHERE measure_name = 'cpu_user' ORDER BY instance_name`,
    );
    assert.deepEqual(cells.rows, [
      ["i-1", null],
      ["i-2", "eu-west-1-cell-1"],
    ]);
  });

  it("reads the four time units to the same instant", async () => {
    const s = NOW_S - 40;
    const result = await write([
      record(host(10), "u_seconds", "1", s, { TimeUnit: "SECONDS" }),
      { ...record(host(10), "u_millis", "1", 0), Time: String(s * 1000), TimeUnit: "MILLISECONDS" },
      { ...record(host(10), "u_micros", "1", 0), Time: String(s * 1_000_000), TimeUnit: "MICROSECONDS" },
      { ...record(host(10), "u_nanos", "1", 0), Time: `${s}000000123`, TimeUnit: "NANOSECONDS" },
      { ...record(host(10), "u_default", "1", 0), Time: String(s * 1000), TimeUnit: undefined },
    ]);
    assert.deepEqual(result.rejected, []);
    const { rows } = await queryAll(
      t.store,
      `SELECT measure_name, time FROM "${DB}"."${TABLE}" WHERE instance_name = 'i-10' ORDER BY measure_name`,
    );
    assert.deepEqual(rows, [
      ["u_default", "2021-09-22 15:59:20.000000000"],
      ["u_micros", "2021-09-22 15:59:20.000000000"],
      ["u_millis", "2021-09-22 15:59:20.000000000"],
      ["u_nanos", "2021-09-22 15:59:20.000000123"],
      ["u_seconds", "2021-09-22 15:59:20.000000000"],
    ]);
  });

  it("merges CommonAttributes into each record; a shared dimension name is a validation error", async () => {
    const common: WriteRecord = {
      Dimensions: [{ Name: "region", Value: "us-east-2" }],
      MeasureValueType: "DOUBLE",
      Time: String(NOW_S - 30),
      TimeUnit: "SECONDS",
      MeasureName: "common_measure",
    };
    const result = await write(
      [
        { Dimensions: [{ Name: "instance_name", Value: "i-20" }], MeasureValue: "5" },
        {
          Dimensions: [{ Name: "instance_name", Value: "i-21" }],
          MeasureValue: "6",
          MeasureName: "own_measure",
        },
      ],
      common,
    );
    assert.deepEqual(result.rejected, []);
    const { rows } = await queryAll(
      t.store,
      `SELECT instance_name, region, measure_name, measure_value::double FROM "${DB}"."${TABLE}" WHERE region = 'us-east-2' ORDER BY instance_name`,
    );
    assert.deepEqual(rows, [
      ["i-20", "us-east-2", "common_measure", "5.0"],
      ["i-21", "us-east-2", "own_measure", "6.0"],
    ]);
    await assert.rejects(
      write([{ Dimensions: [{ Name: "region", Value: "x" }], MeasureValue: "1" }], common),
      (error: unknown) =>
        isHourglassError(error, "ValidationError") && /dimensions may not overlap/.test(error.message),
    );
  });

  it("follows Version semantics: same record is a no-op, a different value needs a higher version", async () => {
    const base = record(host(30), "cpu_user", "10", NOW_S - 20);
    assert.equal((await write([base])).RecordsIngested.Total, 1);
    const again = await write([base]);
    assert.deepEqual(again.rejected, [], "the same record again is accepted");
    assert.equal(await count("instance_name = 'i-30'"), 1, "and stored once");

    const changed = await write([{ ...base, MeasureValue: "11" }]);
    assert.equal(changed.rejected.length, 1);
    assert.equal(changed.rejected[0]!.RecordIndex, 0);
    assert.equal(changed.rejected[0]!.ExistingVersion, 1);
    assert.match(changed.rejected[0]!.Reason, /higher Version/);

    const upgraded = await write([{ ...base, MeasureValue: "12", Version: 2 }]);
    assert.deepEqual(upgraded.rejected, []);
    const lower = await write([{ ...base, MeasureValue: "13", Version: 1 }]);
    assert.equal(lower.rejected[0]!.ExistingVersion, 2);
    const { rows } = await queryAll(
      t.store,
      `SELECT measure_value::double FROM "${DB}"."${TABLE}" WHERE instance_name = 'i-30'`,
    );
    assert.deepEqual(rows, [["12.0"]]);
  });

  it("applies the same rules to duplicates inside one batch", async () => {
    const base = record(host(31), "cpu_user", "1", NOW_S - 20);
    const result = await write([
      base,
      base,
      { ...base, MeasureValue: "2" },
      { ...base, MeasureValue: "3", Version: 5 },
    ]);
    assert.deepEqual(
      result.rejected.map((r) => [r.RecordIndex, r.ExistingVersion]),
      [[2, 1]],
    );
    assert.equal(result.RecordsIngested.Total, 3);
    const { rows } = await queryAll(
      t.store,
      `SELECT measure_value::double FROM "${DB}"."${TABLE}" WHERE instance_name = 'i-31'`,
    );
    assert.deepEqual(rows, [["3.0"]]);
  });

  it("enforces the ingestion window: 15 minutes into the future, memory retention into the past", async () => {
    const result = await write([
      record(host(40), "w", "1", NOW_S + 14 * 60),
      record(host(40), "w", "1", NOW_S + 16 * 60),
      record(host(40), "w", "1", NOW_S - 23 * 3600),
      record(host(40), "w", "1", NOW_S - 25 * 3600),
    ]);
    assert.deepEqual(
      result.rejected.map((r) => r.RecordIndex),
      [1, 3],
    );
    for (const r of result.rejected)
      assert.match(r.Reason, /outside the time range .* of the data ingestion window/);
    assert.deepEqual(result.RecordsIngested, { Total: 2, MemoryStore: 2, MagneticStore: 0 });
  });

  it("accepts older records into the magnetic store when magnetic writes are on, within magnetic retention", async () => {
    await t.store.updateTable({
      DatabaseName: DB,
      TableName: TABLE,
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
    });
    const result = await write([
      record(host(41), "w", "1", NOW_S - 30 * 3600),
      record(host(41), "w", "1", NOW_S - 49 * 3600),
    ]);
    assert.deepEqual(
      result.rejected.map((r) => r.RecordIndex),
      [1],
    );
    assert.deepEqual(result.RecordsIngested, { Total: 1, MemoryStore: 0, MagneticStore: 1 });
    await t.store.updateTable({
      DatabaseName: DB,
      TableName: TABLE,
      MagneticStoreWriteProperties: { EnableMagneticStoreWrites: false },
    });
  });

  it("takes 1 to 100 records a request on the API surface; the native path may take more", async () => {
    await assert.rejects(write([]), /non-empty/);
    const many = Array.from({ length: 101 }, (_, i) => record(host(50), `m${i}`, "1", NOW_S - 10));
    await assert.rejects(
      write(many),
      (e: unknown) => isHourglassError(e, "ValidationError") && /at most 100/.test(e.message),
    );
    const native = await write(many, undefined, 10_000);
    assert.equal(native.RecordsIngested.Total, 101);
  });

  it("rejects each bad record with its index and reason, keeping the rest of the batch", async () => {
    const time = NOW_S - 5;
    const good = (i: number) => record(host(60), `good${i}`, "1", time);
    const bad: [WriteRecord, RegExp][] = [
      [{ ...good(0), MeasureValueType: "FLOAT" as never }, /MeasureValueType 'FLOAT' is not one of/],
      [{ ...good(0), MeasureValue: "forty-two" }, /'forty-two' is not a valid DOUBLE/],
      [{ ...good(0), MeasureValue: "NaN" }, /not a valid DOUBLE/],
      [{ ...good(0), Time: "12:00" }, /Time '12:00' is not a non-negative integer in SECONDS/],
      [{ ...good(0), TimeUnit: "HOURS" as never }, /TimeUnit 'HOURS' is not one of/],
      [{ ...good(0), Dimensions: [{ Name: "d".repeat(61), Value: "v" }] }, /longer than 60 bytes/],
      [{ ...good(0), Dimensions: [{ Name: "é".repeat(31), Value: "v" }] }, /longer than 60 bytes/],
      [{ ...good(0), Dimensions: [{ Name: "x", Value: "" }] }, /non-empty string value/],
      [{ ...good(0), Dimensions: [{ Name: "time", Value: "v" }] }, /reserved/],
      [{ ...good(0), MeasureName: "" }, /MeasureName must not be empty/],
      [{ ...good(0), MeasureValue: "1.5", MeasureValueType: "BIGINT" }, /not a valid BIGINT/],
      [{ ...good(0), MeasureValue: "yes", MeasureValueType: "BOOLEAN" }, /not a valid BOOLEAN/],
      [{ ...good(0), MeasureValueType: "MULTI" }, /MeasureValues/],
      [{ ...good(0), Version: 0 }, /Version '0' must be a positive integer/],
    ];
    const records = [good(1), ...bad.map(([r]) => r), good(2)];
    const result = await write(records);
    assert.equal(result.rejected.length, bad.length);
    bad.forEach(([, pattern], i) => {
      const rejection = result.rejected.find((r) => r.RecordIndex === i + 1);
      assert.ok(rejection, `record ${i + 1} should be rejected`);
      assert.match(rejection.Reason, pattern);
    });
    assert.equal(result.RecordsIngested.Total, 2);
    assert.equal(
      await count("instance_name = 'i-60'"),
      2,
      "a rejected record writes nothing; the valid ones are kept",
    );
  });

  it("refuses a record that would take the table past 128 dimensions", async () => {
    await t.store.createTable({ DatabaseName: DB, TableName: "wide" });
    const dims = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ Name: `dim_${from + i}`, Value: "v" }));
    const first = await t.store.writeRecords({
      DatabaseName: DB,
      TableName: "wide",
      Records: [{ ...record({}, "m", "1", NOW_S - 5), Dimensions: dims(0, 120) }],
    });
    assert.deepEqual(first.rejected, []);
    const second = await t.store.writeRecords({
      DatabaseName: DB,
      TableName: "wide",
      Records: [
        { ...record({}, "m", "1", NOW_S - 5), Dimensions: dims(120, 9) },
        { ...record({}, "m", "1", NOW_S - 5), Dimensions: dims(120, 8) },
      ],
    });
    assert.deepEqual(
      second.rejected.map((r) => r.RecordIndex),
      [0],
    );
    assert.match(second.rejected[0]!.Reason, /more than 128 dimensions/);
    assert.equal(
      (await t.store.describeTable(DB, "wide")).Schema.filter((c) => c.Role === "DIMENSION").length,
      128,
    );
  });

  it("writes every value type the same way when the batch is older than stored data (the checked path)", async () => {
    // Newer data first, so the next batch cannot take the append-only path and is checked.
    await write([record(host(96), "cpu_user", "1", NOW_S - 30)]);
    const time = NOW_S - 300;
    const multi = (values: { Name: string; Value: string; Type: "DOUBLE" | "BIGINT" | "BOOLEAN" }[]) => ({
      Dimensions: [
        { Name: "region", Value: "eu-west-1" },
        { Name: "instance_name", Value: "i-97" },
      ],
      MeasureName: "metrics_record",
      MeasureValueType: "MULTI" as const,
      MeasureValues: values,
      Time: String(time),
      TimeUnit: "SECONDS" as const,
    });
    const result = await write([
      record(host(97), "cpu_user", "42.5", time),
      record(host(97), "tasks", "-17", time, { MeasureValueType: "BIGINT" }),
      record(host(97), "state", "it's", time, { MeasureValueType: "VARCHAR" }),
      record(host(97), "healthy", "false", time, { MeasureValueType: "BOOLEAN" }),
      record(host(97), "booted", String(NOW_S - 3600), time, { MeasureValueType: "TIMESTAMP" }),
      multi([{ Name: "cpu_system", Value: "2.5", Type: "DOUBLE" }]),
    ]);
    assert.deepEqual(result.rejected, []);
    const { rows } = await queryAll(
      t.store,
      `SELECT measure_name, measure_value::double, measure_value::bigint, measure_value::varchar, measure_value::boolean, measure_value::timestamp, cpu_system
       FROM "${DB}"."${TABLE}" WHERE instance_name = 'i-97' ORDER BY measure_name`,
    );
    assert.deepEqual(rows, [
      ["booted", null, null, null, null, "2021-09-22 15:00:00.000000000", null],
      ["cpu_user", "42.5", null, null, null, null, null],
      ["healthy", null, null, null, "false", null, null],
      ["metrics_record", null, null, null, null, null, "2.5"],
      ["state", null, null, "it's", null, null, null],
      ["tasks", null, "-17", null, null, null, null],
    ]);
    // The same MULTI record with one more measure (a new column) is a different value: it needs
    // a higher version, as in Timestream; with one it replaces the stored record.
    const more = [
      { Name: "cpu_system", Value: "2.5", Type: "DOUBLE" as const },
      { Name: "restarts_97", Value: "4", Type: "BIGINT" as const },
    ];
    const columns = async () =>
      (await queryAll(t.store, `DESCRIBE "${DB}"."${TABLE}"`)).rows.map((row) => row[0]);
    const refused = await write([multi(more), record(host(97), "cpu_idle", "50", time)]);
    assert.equal(refused.rejected.length, 1);
    assert.equal(refused.rejected[0]!.RecordIndex, 0);
    assert.equal(refused.rejected[0]!.ExistingVersion, 1);
    assert.deepEqual(refused.RecordsIngested, { Total: 1, MemoryStore: 1, MagneticStore: 0 });
    assert.ok(!(await columns()).includes("restarts_97"), "a rejected record adds no column");
    assert.equal(await count("instance_name = 'i-97' AND measure_name = 'cpu_idle'"), 1, "the rest is kept");
    const replaced = await write([{ ...multi(more), Version: 2 }]);
    assert.deepEqual(replaced.rejected, []);
    const after = await queryAll(
      t.store,
      `SELECT cpu_system, restarts_97 FROM "${DB}"."${TABLE}" WHERE instance_name = 'i-97' AND measure_name = 'metrics_record'`,
    );
    assert.deepEqual(after.rows, [["2.5", "4"]]);
  });

  it("names an unknown database or table", async () => {
    await assert.rejects(
      t.store.writeRecords({
        DatabaseName: DB,
        TableName: "missing",
        Records: [record({}, "m", "1", NOW_S)],
      }),
      (e: unknown) => isHourglassError(e, "NotFound") && /airflow-db\.missing/.test(e.message),
    );
  });
});

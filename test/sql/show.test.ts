import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { Harness } from "./harness.js";

describe("SHOW and DESCRIBE", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());

  it("SHOW DATABASES [LIKE]", async () => {
    const all = await h.query("SHOW DATABASES");
    assert.deepEqual(all.names, ["Database"]);
    assert.deepEqual(all.columns, ["Database"]);
    assert.deepEqual(all.rows, [["airflow-db"], ["other-db"]]);
    assert.deepEqual((await h.query("SHOW DATABASES LIKE 'air%'")).rows, [["airflow-db"]]);
    const none = await h.query("SHOW DATABASES LIKE 'zzz%'");
    assert.deepEqual(none.columns, ["Database"]);
    assert.deepEqual(none.rows, []);
  });

  it("SHOW TABLES [FROM db] [LIKE]; an empty database still has the column", async () => {
    const tables = await h.query(`SHOW TABLES FROM "airflow-db"`);
    assert.deepEqual(tables.columns, ["Table"]);
    assert.deepEqual(tables.rows, [["airflow-table"], ["empty-table"]]);
    assert.deepEqual((await h.query(`SHOW TABLES IN "airflow-db" LIKE 'air%'`)).rows, [["airflow-table"]]);
    assert.deepEqual((await h.query("SHOW TABLES")).rows, [["airflow-table"], ["empty-table"]]);
    const empty = await h.query(`SHOW TABLES FROM "other-db"`);
    assert.deepEqual(empty.columns, ["Table"]);
    assert.deepEqual(empty.rows, []);
  });

  it("SHOW MEASURES FROM db.table [LIKE] with the dimensions of each measure", async () => {
    const measures = await h.query(`SHOW MEASURES FROM "airflow-db"."airflow-table"`);
    assert.deepEqual(measures.columns, ["measure_name", "data_type", "Dimensions"]);
    const dimensions = ["availability_zone", "instance_name", "region"].map((d) => ({
      dimension_name: d,
      data_type: "varchar",
    }));
    assert.deepEqual(measures.rows, [
      ["cpu_nice", "double", dimensions],
      ["healthy", "boolean", dimensions],
      ["task_completed", "bigint", dimensions],
    ]);
    assert.deepEqual((await h.query(`SHOW MEASURES FROM "airflow-db"."airflow-table" LIKE 'cpu%'`)).rows, [
      ["cpu_nice", "double", dimensions],
    ]);
    const empty = await h.query(`SHOW MEASURES FROM "airflow-db"."empty-table"`);
    assert.deepEqual(empty.columns, ["measure_name", "data_type", "Dimensions"]);
    assert.deepEqual(empty.rows, []);
  });

  it("DESCRIBE db.table lists columns in the table's order with their Timestream attribute types", async () => {
    const described = await h.query(`DESCRIBE "airflow-db"."airflow-table"`);
    assert.deepEqual(described.columns, ["Column", "Type", "Timestream attribute type"]);
    assert.deepEqual(described.rows.slice(0, 6), [
      ["region", "varchar", "DIMENSION"],
      ["instance_name", "varchar", "DIMENSION"],
      ["availability_zone", "varchar", "DIMENSION"],
      ["measure_name", "varchar", "MEASURE_NAME"],
      ["time", "timestamp", "TIMESTAMP"],
      ["measure_value::double", "double", "MEASURE_VALUE"],
    ]);
    assert.equal(described.rows.length, 10);
  });

  it("unknown databases and tables are NotFound, naming them (from the resolver)", async () => {
    const notFound = (name: string) => (error: unknown) =>
      isHourglassError(error, "NotFound") && error.message.includes(name);
    await assert.rejects(h.query(`SHOW TABLES FROM nope`), notFound("nope"));
    await assert.rejects(h.query(`SHOW MEASURES FROM "airflow-db".nope`), notFound("airflow-db.nope"));
    await assert.rejects(h.query(`DESCRIBE nope.t`), notFound("nope"));
    await assert.rejects(h.query(`SELECT * FROM "airflow-db"."no-table"`), notFound("airflow-db.no-table"));
    await assert.rejects(h.query(`SELECT 1 FROM (SELECT * FROM "nodb".t)`), notFound("nodb"));
  });
});

/**
 * The write path refuses what it cannot store faithfully, per record and with a reason, and what
 * it acknowledges is queryable: names with control characters, names that would break SQL quoting,
 * names that differ only in case, number texts JavaScript accepts and Timestream does not, and a
 * measure changing its type.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { TimestreamStore } from "../../src/store/index.js";
import { DOUBLE_TEXT, decimalValue } from "../../src/store/records.js";
import type { WriteRecord, WriteResult } from "../../src/store/types.js";
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

describe("write path hardening", () => {
  let t: TestStore;
  const write = (records: WriteRecord[], table = TABLE): Promise<WriteResult> =>
    t.store.writeRecords({ DatabaseName: DB, TableName: table, Records: records });
  const rows = async (sql: string) => (await queryAll(t.store, sql)).rows;
  let nextTable = 0;
  const freshTable = async (): Promise<string> => {
    const name = `hardening-${nextTable++}`;
    await t.store.createTable({ DatabaseName: DB, TableName: name });
    return name;
  };

  before(async () => {
    t = await openTestStore();
    await createSeedTable(t.store);
  });
  after(async () => {
    await t.close();
  });

  it("rejects a NUL or another control character in each kind of name, per record, and keeps the rest", async () => {
    const table = await freshTable();
    const time = NOW_S - 10;
    const bad: WriteRecord[] = [
      record({ "host\u0000x": "h1" }, "cpu", "1", time),
      record({ host: "h1" }, "cpu\u0000", "1", time),
      record({ host: "h1" }, "mem", "", time, {
        MeasureValue: undefined,
        MeasureValueType: "MULTI",
        MeasureValues: [{ Name: "a\u0000", Value: "1", Type: "DOUBLE" }],
      }),
      record({ "host\n": "h1" }, "cpu", "1", time),
      record({ host: "h1" }, "cpu\u007f", "1", time),
    ];
    const good = record({ host: "h1" }, "cpu", "1.5", time);
    const result = await write([...bad, good], table);
    assert.deepEqual(
      result.rejected.map((r) => r.RecordIndex),
      [0, 1, 2, 3, 4],
    );
    assert.match(result.rejected[0]!.Reason, /^Dimension name 'host\\u0000x' contains a control character/);
    assert.match(result.rejected[1]!.Reason, /^MeasureName 'cpu\\u0000' contains a control character/);
    assert.match(result.rejected[2]!.Reason, /^MeasureValues name 'a\\u0000' contains a control character/);
    assert.equal(result.RecordsIngested.Total, 1);
    assert.deepEqual(await rows(`SELECT host, measure_value::double FROM "${DB}"."${table}"`), [
      ["h1", "1.5"],
    ]);
    // The table learnt nothing from the rejected records.
    assert.deepEqual(
      (await t.store.describeTable(DB, table)).Schema.map((c) => c.Name),
      ["host", "measure_name", "time", "measure_value::double"],
    );
  });

  it("stores and queries names and values with quotes, backslashes and SQL comment text", async () => {
    const table = await freshTable();
    const time = NOW_S - 20;
    const names = [`dq"x`, "sq'x", "bs\\x", ";--drop", "a b"];
    const records = names.map((name, i) =>
      record({ [name]: `v'"\\${i}` }, `m'"\\;--${i}`, String(i), time, {
        MeasureValueType: "BIGINT",
      }),
    );
    records.push(
      record({ host: "h" }, "multi'\"", "", time, {
        MeasureValue: undefined,
        MeasureValueType: "MULTI",
        MeasureValues: [{ Name: `at"t'r\\`, Value: "x'\"\\", Type: "VARCHAR" }],
      }),
    );
    const result = await write(records, table);
    assert.deepEqual(result.rejected, []);
    for (let i = 0; i < names.length; i++) {
      const column = `"${names[i]!.replaceAll('"', '""')}"`;
      const value = `'${`v'"\\${i}`.replaceAll("'", "''")}'`;
      const measure = `'${`m'"\\;--${i}`.replaceAll("'", "''")}'`;
      assert.deepEqual(
        await rows(
          `SELECT ${column}, measure_name, measure_value::bigint FROM "${DB}"."${table}" WHERE ${column} = ${value} AND measure_name = ${measure}`,
        ),
        [[`v'"\\${i}`, `m'"\\;--${i}`, String(i)]],
      );
    }
    assert.deepEqual(await rows(`SELECT "at""t'r\\" FROM "${DB}"."${table}" WHERE host = 'h'`), [[`x'"\\`]]);
    // The same names survive a restart: the catalog stored them as given.
    await t.store.close();
    const reopened = await TimestreamStore.open({
      dir: t.dir,
      clockMs: () => t.clock.nowMs,
      sweepIntervalMs: 0,
    });
    try {
      assert.deepEqual(
        (await queryAll(reopened, `SELECT count(*) FROM "${DB}"."${table}" WHERE "dq""x" IS NOT NULL`)).rows,
        [["1"]],
      );
      const again = await reopened.writeRecords({
        DatabaseName: DB,
        TableName: table,
        Records: [records[0]!],
      });
      assert.deepEqual(again.rejected, []);
      assert.deepEqual((await queryAll(reopened, `SELECT count(*) FROM "${DB}"."${table}"`)).rows, [
        [String(records.length)],
      ]);
    } finally {
      await reopened.close();
    }
    t = await reopenAt(t);
  });

  it("keeps series apart whose values contain the key's separator characters", async () => {
    const table = await freshTable();
    const time = NOW_S - 30;
    const result = await write(
      [
        record({ a: "1\u0002b\u00012", c: "3" }, "m", "1", time),
        record({ a: "1", b: "2", c: "3" }, "m", "2", time),
      ],
      table,
    );
    assert.deepEqual(result.rejected, []);
    assert.deepEqual(await rows(`SELECT a, b, c, measure_value::double FROM "${DB}"."${table}" ORDER BY 4`), [
      ["1\u0002b\u00012", null, "3", "1.0"],
      ["1", "2", "3", "2.0"],
    ]);
  });

  it("refuses dimension and attribute names that differ only in case from a column, so every acknowledged record is queryable", async () => {
    const table = await freshTable();
    const time = NOW_S - 40;
    assert.deepEqual((await write([record({ host: "h1" }, "cpu", "1", time)], table)).rejected, []);
    const result = await write(
      [
        record({ Host: "H1" }, "cpu", "2", time),
        record({ host: "h2", HOST: "x" }, "cpu", "3", time),
        record({ region: "r" }, "multi", "", time, {
          MeasureValue: undefined,
          MeasureValueType: "MULTI",
          MeasureValues: [{ Name: "HOST", Value: "1", Type: "DOUBLE" }],
        }),
        record({ region: "r" }, "multi", "", time + 1, {
          MeasureValue: undefined,
          MeasureValueType: "MULTI",
          MeasureValues: [
            { Name: "load", Value: "1", Type: "DOUBLE" },
            { Name: "Load", Value: "2", Type: "DOUBLE" },
          ],
        }),
        record({ Region: "r" }, "cpu", "4", time),
      ],
      table,
    );
    assert.deepEqual(
      result.rejected.map((r) => r.RecordIndex),
      [0, 1, 2, 3],
    );
    assert.match(result.rejected[0]!.Reason, /'Host' differs only in case from the table's dimension 'host'/);
    assert.match(result.rejected[1]!.Reason, /'host' and 'HOST' differ only in case/);
    assert.match(result.rejected[2]!.Reason, /'HOST' differs only in case from the table's dimension 'host'/);
    assert.match(result.rejected[3]!.Reason, /MeasureValues repeats 'Load'/);
    // The one accepted record added "Region"; "region" is now the one refused.
    assert.deepEqual(
      (await write([record({ region: "r" }, "cpu", "5", time)], table)).rejected[0]?.Reason.match(
        /differs only in case/,
      )?.[0],
      "differs only in case",
    );
    assert.deepEqual(await rows(`SELECT count(*) FROM "${DB}"."${table}" WHERE "Host" = 'h1'`), [["1"]]);
    assert.deepEqual(await rows(`SELECT count(*) FROM "${DB}"."${table}" WHERE "region" = 'r'`), [["1"]]);
    assert.deepEqual(await rows(`SELECT count(*) FROM "${DB}"."${table}"`), [["2"]]);
  });

  it("accepts only Timestream's number texts for DOUBLE, BIGINT and BOOLEAN", async () => {
    const table = await freshTable();
    let second = 0;
    const attempt = async (type: "DOUBLE" | "BIGINT" | "BOOLEAN", value: string) => {
      const result = await write(
        [record({ host: "h" }, `m_${type}`, value, NOW_S - 100 + second++, { MeasureValueType: type })],
        table,
      );
      return result.rejected[0]?.Reason ?? "accepted";
    };
    for (const text of [
      "0x10",
      "0b1",
      "0o7",
      "Infinity",
      "-Infinity",
      "NaN",
      " 1",
      "1 ",
      "",
      "1e400",
      "1,5",
      "1_0",
      "--1",
      "1e",
      ".",
    ]) {
      assert.match(
        await attempt("DOUBLE", text),
        /is (not a valid DOUBLE|out of DOUBLE range)/,
        `DOUBLE ${JSON.stringify(text)}`,
      );
    }
    for (const text of ["1", "-1.5", "+2", "1e3", ".5", "5.", "1E-3"]) {
      assert.equal(await attempt("DOUBLE", text), "accepted", `DOUBLE ${JSON.stringify(text)}`);
    }
    for (const text of ["1.0", "0x10", " 1", "1e3", "", "9223372036854775808", "--1", "+1"]) {
      assert.match(
        await attempt("BIGINT", text),
        /is (not a valid BIGINT|out of BIGINT range)/,
        `BIGINT ${JSON.stringify(text)}`,
      );
    }
    for (const text of ["42", "-7", "9223372036854775807"]) {
      assert.equal(await attempt("BIGINT", text), "accepted", `BIGINT ${JSON.stringify(text)}`);
    }
    for (const text of ["1", "0", "yes", "", " true"]) {
      assert.match(
        await attempt("BOOLEAN", text),
        /is not a valid BOOLEAN/,
        `BOOLEAN ${JSON.stringify(text)}`,
      );
    }
    for (const text of ["true", "FALSE", "True"]) {
      assert.equal(await attempt("BOOLEAN", text), "accepted", `BOOLEAN ${JSON.stringify(text)}`);
    }
    assert.deepEqual(
      await rows(
        `SELECT measure_value::bigint FROM "${DB}"."${table}" WHERE measure_name = 'm_BIGINT' ORDER BY time`,
      ),
      [["42"], ["-7"], ["9223372036854775807"]],
    );
  });

  it("re-runs the other calls of a group alone when the grouped transaction fails, so only the failing call fails", async () => {
    const table = await freshTable();
    const time = NOW_S - 300;
    await write([record({ host: "h0" }, "cpu", "1", time)], table);
    // A real failure inside the transaction for one call only: the physical column the next new
    // dimension would get already exists, so the call that brings a new dimension fails in DuckDB.
    const internals = t.store as unknown as {
      engine: { run(sql: string): Promise<number> };
      catalog: { getTable(db: string, name: string): { id: number } };
    };
    const id = internals.catalog.getTable(DB, table).id;
    await internals.engine.run(`ALTER TABLE _hg.t${id}_series ADD COLUMN d1 VARCHAR`);
    // The valid calls add points to the existing series (the extra column would break appending a
    // new series); the failing one brings a new dimension. Calls started in one tick wait in the
    // queue together: they form one group.
    const calls = Array.from({ length: 11 }, (_, i) =>
      write(
        [record(i === 5 ? { host: "h0", rack: "r1" } : { host: "h0" }, "cpu", String(i), time + 1 + i)],
        table,
      ),
    );
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(
      settled.map((s) =>
        s.status === "fulfilled" ? s.value.RecordsIngested.Total : (s.reason as { code: string }).code,
      ),
      [1, 1, 1, 1, 1, "Internal", 1, 1, 1, 1, 1],
    );
    assert.deepEqual(await rows(`SELECT count(*) FROM "${DB}"."${table}"`), [["11"]]);
  });

  it("reads DOUBLE texts by the fast check exactly as by the pattern", () => {
    const alphabet = ["0", "1", "9", ".", "e", "E", "+", "-", "x", "b", "o", " ", "I", "n", "_", ","];
    const texts = [
      "0x10",
      "0X1F",
      "0b1",
      "0o7",
      "00x1",
      "+0x10",
      "Infinity",
      "-Infinity",
      "NaN",
      "",
      " ",
      "1e400",
    ];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      let text = "";
      const length = 1 + (i % 7);
      for (let c = 0; c < length; c++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        text += alphabet[seed % alphabet.length];
      }
      texts.push(text);
    }
    for (const text of texts) {
      const fast = decimalValue(text);
      assert.equal(!Number.isNaN(fast), DOUBLE_TEXT.test(text), JSON.stringify(text));
      if (!Number.isNaN(fast)) assert.equal(fast, Number(text));
    }
  });

  it("keeps a measure's first type: a later record of another type is rejected, within a batch and across batches", async () => {
    const table = await freshTable();
    const time = NOW_S - 200;
    const first = await write(
      [
        record({ host: "h" }, "load", "1.5", time),
        record({ host: "h" }, "load", "2", time + 1, { MeasureValueType: "BIGINT" }),
        record({ host: "h" }, "load", "x", time + 2, { MeasureValueType: "VARCHAR" }),
      ],
      table,
    );
    assert.deepEqual(
      first.rejected.map((r) => [r.RecordIndex, r.Reason]),
      [
        [1, `Measure 'load' has type DOUBLE in this table; got BIGINT: a measure's data type cannot change`],
        [2, `Measure 'load' has type DOUBLE in this table; got VARCHAR: a measure's data type cannot change`],
      ],
    );
    const later = await write(
      [
        record({ host: "h" }, "load", "3", time + 3, { MeasureValueType: "BIGINT" }),
        record({ host: "h2" }, "load", "", time + 3, {
          MeasureValue: undefined,
          MeasureValueType: "MULTI",
          MeasureValues: [{ Name: "x", Value: "1", Type: "DOUBLE" }],
        }),
        record({ host: "h" }, "load", "4.5", time + 4),
      ],
      table,
    );
    assert.deepEqual(
      later.rejected.map((r) => [r.RecordIndex, r.Reason]),
      [
        [0, `Measure 'load' has type DOUBLE in this table; got BIGINT: a measure's data type cannot change`],
        [1, `Measure 'load' has type DOUBLE in this table; got MULTI: a measure's data type cannot change`],
      ],
    );
    // A rejected first row does not give the name its type: the batch's first accepted row does.
    const mixed = await write(
      [
        record({ "bad:name": "h" }, "fresh", "1", time),
        record({ host: "h" }, "fresh", "7", time, { MeasureValueType: "BIGINT" }),
        record({ host: "h" }, "fresh", "1.5", time + 1),
      ],
      table,
    );
    assert.deepEqual(
      mixed.rejected.map((r) => r.RecordIndex),
      [0, 2],
    );
    assert.match(mixed.rejected[0]!.Reason, /contains ':'/);
    assert.deepEqual(
      t.store.listMeasures(DB, table).map((m) => [m.measureName, m.dataType]),
      [
        ["fresh", "bigint"],
        ["load", "double"],
      ],
    );
  });
});

async function reopenAt(t: TestStore): Promise<TestStore> {
  const store = await TimestreamStore.open({ dir: t.dir, clockMs: () => t.clock.nowMs, sweepIntervalMs: 0 });
  return {
    ...t,
    store,
    async close() {
      await store.close();
      fs.rmSync(t.dir, { recursive: true, force: true });
    },
  };
}

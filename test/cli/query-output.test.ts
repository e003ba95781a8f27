/** jsonValue and typeText on the shapes a real query rarely gives: ROW values, booleans, NaN. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jsonValue, typeText } from "../../src/cli/query-output.js";
import type { ColumnType } from "../../src/store/types.js";

describe("query output: JSON values", () => {
  const rowType: ColumnType = {
    RowColumnInfo: [
      { Name: "ok", Type: { ScalarType: "BOOLEAN" } },
      { Name: "n", Type: { ScalarType: "INTEGER" } },
      { Name: "tags", Type: { ArrayColumnInfo: { Type: { ScalarType: "VARCHAR" } } } },
      { Type: { ScalarType: "DOUBLE" } },
    ],
  };

  it("a ROW is an object by field name, with typed fields", () => {
    const value = jsonValue(
      {
        RowValue: {
          Data: [
            { ScalarValue: "true" },
            { ScalarValue: "-7" },
            { ArrayValue: [{ ScalarValue: "a" }, { NullValue: true }] },
            { ScalarValue: "NaN" },
          ],
        },
      },
      rowType,
    );
    assert.deepEqual(value, { ok: true, n: -7, tags: ["a", null], field3: "NaN" });
    assert.equal(typeText(rowType), "row(ok BOOLEAN, n INTEGER, tags array(VARCHAR), field3 DOUBLE)");
  });

  it("a BIGINT within ±(2^53 - 1) is a number, beyond it the exact text", () => {
    const bigint: ColumnType = { ScalarType: "BIGINT" };
    assert.equal(jsonValue({ ScalarValue: "-9007199254740991" }, bigint), -9007199254740991);
    assert.equal(jsonValue({ ScalarValue: "-9007199254740993" }, bigint), "-9007199254740993");
    assert.equal(jsonValue({ NullValue: true }, bigint), null);
  });
});

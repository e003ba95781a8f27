/** UNLOAD's parsing and option checks in the dialect (no store, no lake): defaults, values, positions. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { translate } from "../../src/sql/index.js";
import { testResolver } from "./harness.js";

const resolver = testResolver();
const options = { nowNs: 0n };

describe("UNLOAD in the dialect", () => {
  it("translates the SELECT as the same SELECT on its own and fills in Timestream's defaults", () => {
    const select = "SELECT 1 AS a, 'x' AS b";
    const unload = translate(`UNLOAD (${select}) TO 's3://my-bucket/folder'`, resolver, options);
    assert.equal(unload.statementKind, "unload");
    assert.equal(unload.duckdbSql, translate(select, resolver, options).duckdbSql);
    assert.deepEqual(unload.unload, {
      url: "s3://my-bucket/folder",
      bucket: "my-bucket",
      prefix: "folder/",
      format: "CSV",
      compression: "GZIP",
      partitionedBy: [],
      fieldDelimiter: ",",
      escapedBy: "\\",
      includeHeader: false,
      maxFileSizeBytes: 78 * 1024 ** 3,
    });
  });

  it("reads every option, case-insensitively, as the documentation writes them", () => {
    const { unload } = translate(
      `unload (SELECT 1 AS a, 2 AS channel, 3 AS event) to 's3://b-1/' with (
         partitioned_by = ARRAY ['channel','event'], FORMAT='csv', compression='none', encryption='SSE_S3',
         field_delimiter='|', escaped_by='^', include_header='True', max_file_size='24.7MB')`,
      resolver,
      options,
    );
    assert.deepEqual(unload, {
      url: "s3://b-1/",
      bucket: "b-1",
      prefix: "",
      format: "CSV",
      compression: "NONE",
      partitionedBy: ["channel", "event"],
      fieldDelimiter: "|",
      escapedBy: "^",
      includeHeader: true,
      maxFileSizeBytes: Math.floor(24.7 * 1024 * 1024),
    });
    assert.equal(
      translate(
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (format = 'PARQUET', max_file_size = '0.5GB')",
        resolver,
        options,
      ).unload?.maxFileSizeBytes,
      512 * 1024 * 1024,
    );
  });

  it("takes a tab delimiter written as a tab or as \\t", () => {
    for (const written of ["\t", "\\t"]) {
      const sql = `UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (field_delimiter = '${written}')`;
      assert.equal(translate(sql, resolver, options).unload?.fieldDelimiter, "\t");
    }
  });

  it("points at the option that is wrong", () => {
    // Each error points at the token named last (its first occurrence in the text).
    const refused: [string, RegExp, string][] = [
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (format = 'ORC')",
        /format must be 'CSV' or 'PARQUET', got 'ORC'/,
        "format",
      ],
      ["UNLOAD (SELECT 1) TO 'https://b-1/x/'", /TO must be an S3 URL/, "'https"],
      ["UNLOAD (SELECT 1) TO 's3:///x/'", /TO must be an S3 URL/, "'s3"],
      [
        "UNLOAD (SELECT 1) TO somewhere",
        /expected the destination as a quoted 's3:\/\/bucket\/folder\/'/,
        "somewhere",
      ],
      ["UNLOAD SELECT 1 TO 's3://b-1/x/'", /expected '\(' and the SELECT to unload/, "SELECT"],
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (max_file_size = '15MB')",
        /max_file_size must be a size from 16MB to 78GB/,
        "max_file_size",
      ],
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (max_file_size = 'lots')",
        /max_file_size must be a size/,
        "max_file_size",
      ],
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (escaped_by = ',')",
        /field_delimiter and escaped_by must be different/,
        "escaped_by",
      ],
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (field_delimiter = '\"')",
        /cannot be a line break or the quote character/,
        "field_delimiter",
      ],
      ["UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (kms_key = 'k')", /kms_key is not supported/, "kms_key"],
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (partitioned_by = ARRAY['a', 'a'])",
        /names column 'a' twice/,
        "partitioned_by",
      ],
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (partitioned_by = 'a')",
        /expected ARRAY\['column', …\]/,
        "'a'",
      ],
      [
        "UNLOAD (SELECT 1) TO 's3://b-1/x/' WITH (format = 'PARQUET', field_delimiter = '|')",
        /field_delimiter applies to format 'CSV' only/,
        "field_delimiter",
      ],
    ];
    for (const [sql, message, at] of refused) {
      const column = sql.indexOf(at) + 1;
      assert.throws(
        () => translate(sql, resolver, options),
        (error: unknown) => {
          assert.ok(isHourglassError(error, "ValidationError"), `${sql}: ${String(error)}`);
          assert.match(error.message, message, sql);
          assert.equal(error.context.column, column, sql);
          return true;
        },
      );
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { translate } from "../../src/sql/index.js";
import { Harness, testResolver } from "./harness.js";

const resolver = testResolver();
const options = { nowNs: 0n };

function assertRefused(sql: string, message: RegExp, line = 1, column?: number) {
  assert.throws(
    () => translate(sql, resolver, options),
    (error: unknown) => {
      assert.ok(isHourglassError(error, "ValidationError"), `${sql}: ${String(error)}`);
      assert.match(error.message, message, sql);
      assert.equal(error.context.line, line, sql);
      if (column !== undefined) assert.equal(error.context.column, column, sql);
      return true;
    },
  );
}

describe("read-only: statements that write or change anything are refused by name", () => {
  const statements = [
    "INSERT INTO t VALUES (1)",
    "UPDATE t SET a = 1",
    "DELETE FROM t",
    "MERGE INTO t USING u ON true WHEN MATCHED THEN DELETE",
    "CREATE TABLE t (a INT)",
    "DROP TABLE t",
    "ALTER TABLE t ADD COLUMN b INT",
    "COPY t TO '/tmp/x.csv'",
    "ATTACH '/tmp/x.db' AS x",
    "DETACH x",
    "PRAGMA version",
    "SET memory_limit = '1GB'",
    "RESET memory_limit",
    "INSTALL httpfs",
    "LOAD httpfs",
    "EXPORT DATABASE '/tmp/x'",
    "IMPORT DATABASE '/tmp/x'",
    "CALL pragma_version()",
    "CHECKPOINT",
    "VACUUM",
    "USE memory",
    "BEGIN TRANSACTION",
    "COMMIT",
    "ROLLBACK",
    "TRUNCATE t",
    "GRANT SELECT ON t TO u",
  ];
  for (const sql of statements) {
    const keyword = sql.split(" ")[0]!;
    it(keyword, () =>
      assertRefused(
        sql,
        new RegExp(`^line 1, column 1: ${keyword} is not allowed: the query API is read-only$`),
        1,
        1,
      ),
    );
  }

  it("points at the statement even after comments, and in lower case", () => {
    assertRefused("-- cleanup\n  drop table t", /DROP is not allowed: the query API is read-only/, 2, 3);
  });

  it("refuses a second statement after ';', but allows a trailing ';'", () => {
    assertRefused(
      "SELECT 1; DROP TABLE t",
      /only one statement is allowed per query, but found 'DROP' after ';'/,
      1,
      11,
    );
    assertRefused("SELECT 1;\nSELECT 2", /only one statement is allowed/, 2, 1);
    assertRefused("SELECT 1;;", /only one statement is allowed per query, but found ';' after ';'/);
    assert.equal(translate("SELECT 1 ;  -- done", resolver, options).statementKind, "select");
  });

  it("refuses EXPLAIN, UNLOAD inside a query, and anything that is not a query", () => {
    assertRefused("EXPLAIN SELECT 1", /EXPLAIN is not supported/);
    // UNLOAD is served as a statement of its own (test/sql/unload.test.ts), not inside another.
    assertRefused(
      "SELECT * FROM (UNLOAD (SELECT 1) TO 's3://b/p')",
      /UNLOAD must be the whole statement/,
      1,
      16,
    );
    assertRefused("WITH a AS (SELECT 1) DELETE FROM a", /expected SELECT after '\)' but found 'DELETE'/);
  });
});

describe("read-only: functions that reach files, URLs, settings or the catalog are refused", () => {
  const functions = [
    "read_csv('/etc/passwd')",
    "read_csv_auto('/etc/passwd')",
    "read_parquet('/tmp/x.parquet')",
    "read_json('/tmp/x.json')",
    "read_json_auto('/tmp/x.json')",
    "read_text('/etc/passwd')",
    "read_blob('/etc/passwd')",
    "parquet_scan('/tmp/x.parquet')",
    "parquet_metadata('/tmp/x.parquet')",
    "glob('/etc/*')",
    "sniff_csv('/etc/passwd')",
    "duckdb_tables()",
    "duckdb_settings()",
    "pragma_version()",
    "current_setting('threads')",
    "getenv('HOME')",
  ];
  for (const call of functions) {
    const name = call.slice(0, call.indexOf("("));
    it(`${name} as a scalar and as a table`, () => {
      assertRefused(
        `SELECT ${call}`,
        new RegExp(`^line 1, column 8: function ${name} is not allowed: the query API is read-only`),
      );
      assertRefused(
        `SELECT * FROM ${call}`,
        new RegExp(`^line 1, column 15: table function ${name} is not allowed`),
      );
    });
  }

  it("refuses every table function but UNNEST, and names an unknown function", () => {
    assertRefused("SELECT * FROM range(10)", /table function range is not allowed/);
    assertRefused("SELECT * FROM generate_series(1, 3)", /table function generate_series is not allowed/);
    assertRefused("SELECT * FROM x.read_csv('/etc/passwd')", /table function x.read_csv is not allowed/);
    assertRefused("SELECT list_value(1)", /^line 1, column 8: unknown function list_value$/);
    assertRefused(
      "SELECT a FROM (SELECT 1 AS a) WHERE 1 = hourglass_ts_linear(1, 2)",
      /unknown function hourglass_ts_linear/,
    );
  });

  it("reaches only Timestream tables: DuckDB's own tables and schemas are unknown names", () => {
    assertRefused("SELECT * FROM points", /table 'points' must be named with its database/);
    assert.throws(
      () => translate(`SELECT * FROM "main"."points"`, resolver, options),
      (error: unknown) => isHourglassError(error, "NotFound"),
    );
    assert.throws(
      () => translate("SELECT * FROM information_schema.tables", resolver, options),
      (error: unknown) => isHourglassError(error, "NotFound"),
    );
  });
});

describe("row values: what cannot be served says so", () => {
  it("refuses unnamed ROW type fields, a wrong number of values, duplicate names and (a, b)", () => {
    assertRefused(
      "SELECT CAST(ROW(1) AS ROW(BIGINT))",
      /^line 1, column 27: ROW types need a name for each field, such as ROW\(sum DOUBLE, count INTEGER\)/,
    );
    assertRefused(
      "SELECT CAST(ROW(1, 2) AS ROW(a BIGINT))",
      /^line 1, column 13: ROW\(…\) has 2 value\(s\) but the type ROW\(…\) it is cast to has 1 field\(s\)$/,
    );
    assertRefused("SELECT CAST(ROW(1, 2) AS ROW(a BIGINT, A INTEGER))", /ROW type has the field 'A' twice/);
    assertRefused("SELECT (1, 2)", /row constructors such as \(a, b\) are not supported: write ROW\(a, b\)/);
    assertRefused("SELECT CAST(ROW(1) AS ROW(a BIGINT)", /expected '\)'/);
  });
});

describe("documented Timestream functions this store does not serve are named with the reason", () => {
  it("refuses them with the function's name and why", () => {
    assertRefused(
      "SELECT from_base('ff', 16)",
      /^line 1, column 8: function from_base is not supported by this store: DuckDB has no parser for numbers in an arbitrary radix$/,
    );
    assertRefused(
      "SELECT format_datetime(now(), 'yyyy')",
      /function format_datetime is not supported by this store: Joda-Time/,
    );
    assertRefused(
      "SELECT parse_datetime('2021', 'yyyy')",
      /function parse_datetime is not supported by this store/,
    );
    assertRefused(
      "SELECT correlate_pearson(a, b) FROM (SELECT 1 AS a, 2 AS b)",
      /function correlate_pearson is not supported/,
    );
    assertRefused(
      "SELECT correlate_spearman(a, b) FROM (SELECT 1 AS a, 2 AS b)",
      /function correlate_spearman is not supported/,
    );
    assertRefused(
      "SELECT map_agg(a, b) FROM (SELECT 1 AS a, 2 AS b)",
      /function map_agg is not supported by this store: the store has no MAP type/,
    );
    assertRefused("SELECT histogram(a) FROM (SELECT 1 AS a)", /function histogram is not supported/);
    assertRefused("SELECT strpos('abab', 'b', 2)", /strpos expects 2 argument\(s\) but got 3/);
    assertRefused("SELECT split('a,b,c', ',', 2)", /split expects 2 argument\(s\) but got 3/);
    assertRefused(
      "SELECT approx_distinct(a, 0.01) FROM (SELECT 1 AS a)",
      /approx_distinct expects 1 argument\(s\) but got 2/,
    );
  });
});

describe("names and strings reach DuckDB only quoted", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());

  it("round-trips quotes inside identifiers and strings", async () => {
    const result = await h.query(`SELECT 'it''s; DROP TABLE points; --' AS "a""b", '"' AS "c"`);
    assert.deepEqual(result.columns, ['a"b', "c"]);
    assert.deepEqual(result.rows, [["it's; DROP TABLE points; --", '"']]);
    assert.equal(Number(await h.value(`SELECT count(*) FROM "airflow-db"."airflow-table"`)), h.points.length);
  });
});

describe("size limits of the query text", () => {
  it("refuses nesting deeper than 100 levels at the token where it goes too deep", () => {
    assertRefused(`SELECT ${"(".repeat(101)}1${")".repeat(101)}`, /more than 100 levels deep/, 1);
    assertRefused(`SELECT ${"abs(".repeat(200)}1${")".repeat(200)}`, /more than 100 levels deep/);
    assertRefused(`SELECT ${"- ".repeat(200)}1`, /more than 100 levels deep/);
    assertRefused(`SELECT 1 FROM ${"(SELECT 1 FROM ".repeat(120)}"db"."t"${")".repeat(120)}`, /levels deep/);
    assert.doesNotThrow(() => translate(`SELECT ${"(".repeat(90)}1${")".repeat(90)}`, resolver, options));
  });

  it("refuses a tree deeper than 1,000 levels (long operator chains), and accepts 900", () => {
    assertRefused(`SELECT 1${" + 1".repeat(1000)}`, /expression tree is more than 1000 levels deep/);
    assert.doesNotThrow(() => translate(`SELECT 1${" + 1".repeat(900)}`, resolver, options));
  });

  it("refuses a sequence() of constants longer than the cap while translating, with its position", () => {
    assertRefused(
      "SELECT count(*) FROM UNNEST(sequence(1, 1000000000)) AS t(x)",
      /sequence\(1, 1000000000\) would produce 1,000,000,000 entries, more than the limit of 10,000/,
      1,
      38,
    );
    assert.throws(
      () => translate("SELECT sequence(0, 100, 1)", resolver, { ...options, sequenceMaxEntries: 50 }),
      /101 entries, more than the limit of 50/,
    );
    assert.doesNotThrow(() => translate("SELECT sequence(1, 10000)", resolver, options));
    assert.doesNotThrow(() =>
      translate("SELECT sequence(0, 100, 2)", resolver, { ...options, sequenceMaxEntries: 51 }),
    );
  });
});

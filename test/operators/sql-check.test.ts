import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { runOperator, type SqlCheckResult, sqlCheck } from "../../src/operators/index.js";
import { at, contextFor, type OperatorEnv, openOperatorEnv, writeSeries } from "./helpers.js";

const TABLE = '"airflow-db"."airflow-table"';

describe("the SQL check operator", () => {
  let env: OperatorEnv;
  before(async () => {
    env = await openOperatorEnv();
    await writeSeries(env.store, 5, 4); // 20 points in 13:00–13:02
  });
  after(async () => {
    await env.close();
  });

  const check = (descriptor: ReturnType<typeof sqlCheck>) => {
    const { ctx, lines } = contextFor(at("13:00:00"), at("14:00:00"));
    return { run: runOperator(descriptor, ctx, env.services) as Promise<SqlCheckResult>, lines };
  };
  const fails = async (descriptor: ReturnType<typeof sqlCheck>, message: RegExp) => {
    await assert.rejects(check(descriptor).run, (error: unknown) => {
      assert.ok(isHourglassError(error, "ValidationError"), String(error));
      assert.match(error.message, message);
      return true;
    });
  };

  it("passes, Airflow's way, when the first row's values are all truthy; renders templates", async () => {
    const { run, lines } = check(
      sqlCheck({
        query: `SELECT count(*) AS n, max(instance_name) AS last FROM ${TABLE} WHERE {{ time_filter }}`,
      }),
    );
    const result = await run;
    assert.deepEqual(result, { rows: 1, firstRow: { n: "20", last: "i-00004" } });
    assert.match(
      lines[0]!,
      /^Running SQL check: SELECT .* WHERE time >= '2021-09-22 13:00:00\+00:00' AND time < '2021-09-22 14:00:00\+00:00'$/,
    );
    assert.equal(lines.at(-1), "SQL check passed: 1 row");
  });

  it("fails, Airflow's way, on no rows or a false, zero, empty or null value, saying which", async () => {
    await fails(
      sqlCheck({ query: `SELECT instance_name FROM ${TABLE} WHERE time > '2021-09-22 15:00:00'` }),
      /^SQL check failed: expected at least one row, got none\. Query: SELECT/,
    );
    await fails(
      sqlCheck({ query: `SELECT count(*) AS n FROM ${TABLE} WHERE time > '2021-09-22 15:00:00'` }),
      /expected every value in the first row to be true, non-zero and non-empty, got "0" in column n/,
    );
    await fails(
      sqlCheck({ query: `SELECT 1 AS a, count(*) = 0 AS none FROM ${TABLE}` }),
      /got "false" in column none/,
    );
    await fails(sqlCheck({ query: `SELECT 'x' AS a, '' AS b FROM ${TABLE}` }), /got "" in column b/);
    await fails(sqlCheck({ query: `SELECT 1 AS a, NULL AS b FROM ${TABLE}` }), /got null in column b/);
    await fails(sqlCheck({ query: `SELECT 0.0 AS d FROM ${TABLE}` }), /got "0\.0" in column d/);
  });

  it("checks explicit expectations: row counts and the first value", async () => {
    const points = `SELECT instance_name FROM ${TABLE} WHERE {{ time_filter }}`;
    assert.equal((await check(sqlCheck({ query: points, expect: { rows: 20 } })).run).rows, 20);
    await check(sqlCheck({ query: points, expect: { minRows: 1, maxRows: 20 } })).run;
    await fails(sqlCheck({ query: points, expect: { rows: 21 } }), /expected exactly 21 rows, got 20 rows/);
    await fails(
      sqlCheck({ query: points, expect: { minRows: 25 } }),
      /expected at least 25 rows, got 20 rows/,
    );
    await fails(sqlCheck({ query: points, expect: { maxRows: 5 } }), /expected at most 5 rows, got 20 rows/);

    const count = `SELECT count(*) AS n FROM ${TABLE}`;
    await check(sqlCheck({ query: count, expect: { firstValue: 20 } })).run;
    await check(
      sqlCheck({ query: `SELECT max(instance_name) FROM ${TABLE}`, expect: { firstValue: "i-00004" } }),
    ).run;
    await check(sqlCheck({ query: `SELECT count(*) > 0 FROM ${TABLE}`, expect: { firstValue: true } })).run;
    await fails(
      sqlCheck({ query: count, expect: { firstValue: 19 } }),
      /expected the first value \(column n\) to be 19, got "20"/,
    );
    await fails(
      sqlCheck({
        query: `${count} WHERE time > '2021-09-23 00:00:00' GROUP BY instance_name`,
        expect: { firstValue: 0 },
      }),
      /expected the first value to be 0, got no rows/,
    );
    // An expectation replaces Airflow's truthiness rule: a zero can be what is wanted.
    await check(sqlCheck({ query: `${count} WHERE time > '2021-09-23 00:00:00'`, expect: { firstValue: 0 } }))
      .run;
  });

  it("refuses bad options, and reports query errors as they are", async () => {
    assert.throws(() => sqlCheck({ query: "" }), /invalid sqlCheck operator: query: the query is empty/);
    assert.throws(
      () => sqlCheck({ query: "SELECT 1", expect: { minRows: 5, maxRows: 2 } }),
      /minRows is greater than maxRows/,
    );
    assert.throws(() => sqlCheck({ query: "SELECT 1", expect: {} }), /expect needs at least one of/);
    assert.throws(() => sqlCheck({ query: "SELECT 1", expect: { rows: -1 } }), /expect\.rows: Too small/);
    assert.throws(
      () => sqlCheck({ query: "SELECT 1", expect: { count: 1 } } as never),
      /Unrecognized key: "count"/,
    );
    await assert.rejects(
      check(sqlCheck({ query: 'SELECT * FROM "airflow-db"."nope"' })).run,
      /Table 'airflow-db.nope' does not exist/,
    );
    await assert.rejects(check(sqlCheck({ query: "SELECT FROM WHERE" })).run, /line 1, column \d+/);
  });
});

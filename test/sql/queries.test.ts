import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { Harness, HOSTS } from "./harness.js";

const T = `"airflow-db"."airflow-table"`;

describe("queries", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());

  const count = (test: (p: Harness["points"][number]) => boolean) => h.points.filter(test).length;

  it("names output columns as Timestream does: aliases, column names, measure_value::type, _colN", async () => {
    const result = await h.query(
      `SELECT region, t.instance_name, measure_value::double, count(*), max(time) AS latest, 1 + 1 FROM ${T} t GROUP BY region, t.instance_name, measure_value::double LIMIT 1`,
    );
    const names = ["region", "instance_name", "measure_value::double", "_col3", "latest", "_col5"];
    assert.deepEqual(result.names, names);
    assert.deepEqual(result.columns, names);
  });

  it("expands * and t.* to the table's columns, in order", async () => {
    const star = await h.query(`SELECT * FROM ${T} LIMIT 1`);
    const columns = [
      "region",
      "instance_name",
      "availability_zone",
      "measure_name",
      "time",
      "measure_value::double",
      "measure_value::bigint",
      "measure_value::varchar",
      "measure_value::boolean",
      "measure_value::timestamp",
    ];
    assert.deepEqual(star.names, columns);
    assert.deepEqual(star.columns, columns);
    const qualified = await h.query(`SELECT t.*, 1 FROM ${T} AS t LIMIT 1`);
    assert.deepEqual(qualified.columns, [...columns, "_col10"]);
    await assert.rejects(h.query("SELECT *"), /SELECT \* needs a FROM clause/);
    await assert.rejects(h.query(`SELECT x.* FROM ${T}`), /'x' is not a table in the FROM clause/);
  });

  it("filters, groups (by expression and ordinal), HAVING, DISTINCT, ORDER BY alias, OFFSET and LIMIT", async () => {
    const result = await h.query(
      `SELECT DISTINCT region, count(*) AS n FROM ${T} WHERE measure_name = 'cpu_nice' GROUP BY 1 HAVING count(*) > 1 ORDER BY n DESC, region LIMIT 5 OFFSET 0`,
    );
    const perRegion = (region: string) => count((p) => p.measure_name === "cpu_nice" && p.region === region);
    assert.deepEqual(result.rows, [
      ["eu-west-1", String(perRegion("eu-west-1"))],
      ["us-east-2", String(perRegion("us-east-2"))],
    ]);
    const paged = await h.query(
      `SELECT DISTINCT instance_name FROM ${T} ORDER BY instance_name OFFSET 2 LIMIT 2`,
    );
    assert.deepEqual(
      paged.rows.map((r) => r[0]),
      HOSTS.map((host) => host.instance_name).slice(2, 4),
    );
  });

  it("ORDER BY prefers an output alias over an input column of the same name", async () => {
    const result = await h.query(
      `SELECT instance_name AS region, region AS instance_name FROM ${T} WHERE measure_name = 'cpu_nice' AND time = '2021-09-22 13:00:00' ORDER BY region DESC LIMIT 1`,
    );
    assert.deepEqual(result.rows, [[HOSTS[5]!.instance_name, HOSTS[5]!.region]]);
  });

  it("sorts NULLs last in both directions, and NULLS FIRST when asked", async () => {
    const values = "(VALUES (1), (NULL), (2)) AS t(x)";
    assert.deepEqual((await h.query(`SELECT x FROM ${values} ORDER BY x`)).rows, [[1], [2], [null]]);
    assert.deepEqual((await h.query(`SELECT x FROM ${values} ORDER BY x DESC`)).rows, [[2], [1], [null]]);
    assert.deepEqual((await h.query(`SELECT x FROM ${values} ORDER BY x NULLS FIRST`)).rows, [
      [null],
      [1],
      [2],
    ]);
  });

  it("reads each typed measure column, and sums bigints as BIGINT", async () => {
    const result = await h.query(
      `SELECT sum(measure_value::bigint), count_if(measure_value::boolean), count(measure_value::varchar) FROM ${T}`,
    );
    const sum = h.points.reduce((s, p) => s + (p.bigint ?? 0n), 0n);
    assert.deepEqual(result.rows, [
      [String(sum), String(count((p) => p.boolean === true)), String(count((p) => p.varchar !== null))],
    ]);
    assert.match(result.sql, /CAST\(sum\("measure_value::bigint"\) AS BIGINT\)/);
  });

  it("joins of every kind, ON and USING, comma joins and qualified names", async () => {
    const nice = `(SELECT instance_name, time, measure_value::double AS v FROM ${T} WHERE measure_name = 'cpu_nice')`;
    const user = `(SELECT instance_name, time, measure_value::double AS u FROM ${T} WHERE measure_name = 'cpu_user' AND time < '2021-09-22 13:01:00')`;
    const pairs = count((p) => p.measure_name === "cpu_user" && p.timeNs < 1632315660000000000n);
    const nicePoints = count((p) => p.measure_name === "cpu_nice");
    const run = async (sql: string) => Number(await h.value(sql));
    assert.equal(
      await run(
        `SELECT count(*) FROM ${nice} a JOIN ${user} b ON a.instance_name = b.instance_name AND a.time = b.time`,
      ),
      pairs,
    );
    assert.equal(
      await run(`SELECT count(*) FROM ${nice} a INNER JOIN ${user} b USING (instance_name, time)`),
      pairs,
    );
    assert.equal(
      await run(`SELECT count(*) FROM ${nice} a LEFT JOIN ${user} b USING (instance_name, time)`),
      nicePoints,
    );
    assert.equal(
      await run(`SELECT count(*) FROM ${user} b RIGHT OUTER JOIN ${nice} a USING (instance_name, time)`),
      nicePoints,
    );
    assert.equal(
      await run(`SELECT count(*) FROM ${nice} a FULL JOIN ${user} b USING (instance_name, time)`),
      nicePoints,
    );
    assert.equal(
      await run(`SELECT count(*) FROM ${user} a CROSS JOIN (SELECT 1 AS one UNION ALL SELECT 2) b`),
      pairs * 2,
    );
    assert.equal(
      await run(
        `SELECT count(*) FROM ${nice} a, ${user} b WHERE a.instance_name = b.instance_name AND a.time = b.time`,
      ),
      pairs,
    );
    const qualified = await h.query(
      `SELECT "airflow-db"."airflow-table".region, "airflow-table".instance_name FROM ${T} LIMIT 1`,
    );
    assert.deepEqual(qualified.columns, ["region", "instance_name"]);
  });

  it("WITH queries (chained, with column names), subqueries in FROM, IN, EXISTS and scalar position", async () => {
    const result = await h.query(
      `WITH hosts (name) AS (SELECT DISTINCT instance_name FROM ${T}), first_two AS (SELECT name FROM hosts ORDER BY name LIMIT 2)
       SELECT name, (SELECT count(*) FROM ${T} p WHERE p.instance_name = f.name AND p.measure_name = 'cpu_nice') AS n
       FROM first_two f
       WHERE name IN (SELECT instance_name FROM ${T}) AND EXISTS (SELECT 1 FROM hosts WHERE hosts.name = f.name)
       ORDER BY name`,
    );
    const perHost = count(
      (p) => p.measure_name === "cpu_nice" && p.instance_name === HOSTS[0]!.instance_name,
    );
    assert.deepEqual(result.names, ["name", "n"]);
    assert.deepEqual(result.rows, [
      [HOSTS[0]!.instance_name, String(perHost)],
      [HOSTS[1]!.instance_name, String(perHost)],
    ]);
  });

  it("UNION, UNION ALL, INTERSECT and EXCEPT, named after the first query, with ORDER BY and LIMIT", async () => {
    const values = (sql: string) =>
      h.query(sql).then((r) => ({ names: r.names, rows: r.rows.map((row) => row[0]) }));
    assert.deepEqual(await values("SELECT 1 AS x UNION SELECT 1 UNION SELECT 2 ORDER BY x"), {
      names: ["x"],
      rows: [1, 2],
    });
    assert.deepEqual((await values("SELECT 1 AS x UNION ALL SELECT 1 ORDER BY 1")).rows, [1, 1]);
    assert.deepEqual((await values("SELECT * FROM (VALUES 1, 2, 3) AS t(x) INTERSECT SELECT 2")).rows, [2]);
    assert.deepEqual(
      (await values("(SELECT * FROM (VALUES 1, 2) AS t(x) EXCEPT SELECT 2) ORDER BY x LIMIT 5")).rows,
      [1],
    );
    await assert.rejects(
      h.query("SELECT 1, 2 UNION SELECT 1"),
      /UNION needs the same number of columns on both sides \(2 and 1\)/,
    );
  });

  it("VALUES on its own is named _col0, _col1, …", async () => {
    const result = await h.query("VALUES (1, 'a'), (2, 'b')");
    assert.deepEqual(result.columns, ["_col0", "_col1"]);
    assert.deepEqual(result.rows, [
      [1, "a"],
      [2, "b"],
    ]);
    await assert.rejects(h.query("VALUES (1, 'a'), (2)"), /VALUES row 2 has 1 values, not 2/);
  });

  it("refuses unknown and ambiguous columns at their position", async () => {
    await assert.rejects(h.query(`SELECT regoin FROM ${T}`), (error: unknown) => {
      assert.ok(isHourglassError(error, "ValidationError"));
      assert.equal(error.message, "line 1, column 8: column 'regoin' does not exist");
      return true;
    });
    await assert.rejects(h.query(`SELECT t.nope FROM ${T} t`), /column 'nope' does not exist in 't'/);
    await assert.rejects(h.query(`SELECT region FROM ${T} a, ${T} b`), /column 'region' is ambiguous/);
    await assert.rejects(
      h.query(`SELECT measure_value::double FROM (SELECT 1 AS x)`),
      /column 'measure_value::double' does not exist/,
    );
    await assert.rejects(
      h.query(`SELECT x FROM (SELECT 1 AS x) AS s(a, b)`),
      /'s' has 1 column\(s\) but 2 column name\(s\) were given/,
    );
    await assert.rejects(
      h.query("SELECT 1 FROM UNNEST(ARRAY[1]) AS u(a, b)"),
      /UNNEST produces 1 column\(s\) but the alias names 2/,
    );
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import type { Expr, Query, Select } from "../../src/sql/ast.js";
import { parse } from "../../src/sql/index.js";

/** The tree without positions, for comparing shapes. */
function strip(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, v) => (key === "pos" ? undefined : typeof v === "bigint" ? v.toString() : v)),
  );
}

function query(sql: string): Query {
  const statement = parse(sql);
  assert.equal(statement.kind, "query");
  return (statement as { query: Query }).query;
}

const select = (sql: string): Select => query(sql).body as Select;
const expr = (text: string): unknown => {
  const item = select(`SELECT ${text}`).items[0]!;
  assert.equal(item.kind, "expr");
  return strip((item as { expr: Expr }).expr);
};

function assertParseError(sql: string, line: number, column: number, message: string | RegExp) {
  assert.throws(
    () => parse(sql),
    (error: unknown) => {
      assert.ok(isHourglassError(error, "ValidationError"), String(error));
      assert.deepEqual(error.context, { line, column });
      if (typeof message === "string")
        assert.equal(error.message, `line ${line}, column ${column}: ${message}`);
      else assert.match(error.message, message);
      return true;
    },
  );
}

const col = (...parts: string[]) => ({ kind: "column", parts });
const num = (text: string) => ({ kind: "number", text });

describe("parser: expressions", () => {
  it("follows precedence: OR < AND < NOT < comparison < || < + - < * / %", () => {
    assert.deepEqual(expr("a OR b AND NOT c = 1 + 2 * 3"), {
      kind: "binary",
      op: "OR",
      left: col("a"),
      right: {
        kind: "binary",
        op: "AND",
        left: col("b"),
        right: {
          kind: "unary",
          op: "NOT",
          operand: {
            kind: "binary",
            op: "=",
            left: col("c"),
            right: {
              kind: "binary",
              op: "+",
              left: num("1"),
              right: { kind: "binary", op: "*", left: num("2"), right: num("3") },
            },
          },
        },
      },
    });
    assert.deepEqual(expr("-x % 2 || 'a'"), {
      kind: "binary",
      op: "||",
      left: {
        kind: "binary",
        op: "%",
        left: { kind: "unary", op: "-", operand: col("x") },
        right: num("2"),
      },
      right: { kind: "string", value: "a" },
    });
    assert.equal((expr("a != b") as { op: string }).op, "<>");
  });

  it("parses BETWEEN, IN (list and subquery), LIKE … ESCAPE, IS [NOT] NULL, IS DISTINCT FROM", () => {
    assert.deepEqual(expr("t NOT BETWEEN 1 AND 2"), {
      kind: "between",
      not: true,
      value: col("t"),
      low: num("1"),
      high: num("2"),
    });
    assert.deepEqual(expr("x IN (1, 2)"), {
      kind: "in",
      not: false,
      value: col("x"),
      list: [num("1"), num("2")],
    });
    assert.equal((expr("x NOT IN (SELECT 1)") as { query: Query }).query.body.kind, "select");
    assert.deepEqual(expr("s LIKE 'a%' ESCAPE '!'"), {
      kind: "like",
      not: false,
      value: col("s"),
      pattern: { kind: "string", value: "a%" },
      escape: { kind: "string", value: "!" },
    });
    assert.deepEqual(expr("x IS NOT NULL"), { kind: "isNull", not: true, value: col("x") });
    assert.deepEqual(expr("x IS DISTINCT FROM y"), {
      kind: "isDistinct",
      not: false,
      left: col("x"),
      right: col("y"),
    });
  });

  it("parses CASE (both forms), CAST, TRY_CAST, EXTRACT and typed literals", () => {
    assert.deepEqual(expr("CASE WHEN a THEN 1 ELSE 2 END"), {
      kind: "case",
      whens: [{ condition: col("a"), result: num("1") }],
      otherwise: num("2"),
    });
    assert.deepEqual(expr("CASE a WHEN 1 THEN 'x' END"), {
      kind: "case",
      operand: col("a"),
      whens: [{ condition: num("1"), result: { kind: "string", value: "x" } }],
    });
    assert.deepEqual(expr("CAST(x AS varchar(10))"), {
      kind: "cast",
      safe: false,
      value: col("x"),
      type: { name: "VARCHAR", params: [10] },
    });
    assert.deepEqual(expr("TRY_CAST(x AS ARRAY(DOUBLE))"), {
      kind: "cast",
      safe: true,
      value: col("x"),
      type: { name: "ARRAY", params: [], element: { name: "DOUBLE", params: [] } },
    });
    assert.deepEqual(expr("EXTRACT(hour FROM time)"), { kind: "extract", field: "HOUR", value: col("time") });
    assert.deepEqual(expr("TIMESTAMP '2021-09-22 13:00:00'"), {
      kind: "typed",
      type: { name: "TIMESTAMP", params: [] },
      value: "2021-09-22 13:00:00",
    });
    assert.deepEqual(expr("DOUBLE '0.0'"), {
      kind: "typed",
      type: { name: "DOUBLE", params: [] },
      value: "0.0",
    });
  });

  it("parses measure_value::<type>, plain and qualified, and refuses any other '::'", () => {
    assert.deepEqual(expr("measure_value::double"), { kind: "measureValue", type: "double" });
    assert.deepEqual(expr("t.MEASURE_VALUE::BIGINT"), {
      kind: "measureValue",
      qualifier: "t",
      type: "bigint",
    });
    assertParseError("SELECT x::int FROM t", 1, 9, /the '::' cast is only allowed as measure_value::<type>/);
    assertParseError("SELECT (x)::double", 1, 11, /the '::' cast is only allowed/);
    assertParseError(
      "SELECT measure_value::json",
      1,
      23,
      "expected a measure value type (double, bigint, varchar, boolean or timestamp) after '::' but found 'json'",
    );
  });

  it("parses calls with DISTINCT, *, ORDER BY, FILTER and windows with frames", () => {
    assert.deepEqual(expr("count(*)"), {
      kind: "call",
      name: "count",
      args: [],
      distinct: false,
      star: true,
      orderBy: [],
    });
    assert.deepEqual(expr("count(DISTINCT x)"), {
      kind: "call",
      name: "count",
      args: [col("x")],
      distinct: true,
      star: false,
      orderBy: [],
    });
    const windowed = expr(
      "avg(x) FILTER (WHERE x > 0) OVER (PARTITION BY a, b ORDER BY t DESC NULLS FIRST ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)",
    ) as Record<string, unknown>;
    assert.deepEqual(windowed.filter, { kind: "binary", op: ">", left: col("x"), right: num("0") });
    assert.deepEqual(windowed.over, {
      partitionBy: [col("a"), col("b")],
      orderBy: [{ expr: col("t"), descending: true, nulls: "FIRST" }],
      frame: { units: "ROWS", start: { kind: "PRECEDING", offset: num("2") }, end: { kind: "CURRENT ROW" } },
    });
    assert.deepEqual((expr("array_agg(x ORDER BY t)") as { orderBy: unknown }).orderBy, [
      { expr: col("t"), descending: false },
    ]);
    assert.deepEqual((expr("sum(x) OVER (RANGE UNBOUNDED PRECEDING)") as { over: unknown }).over, {
      partitionBy: [],
      orderBy: [],
      frame: { units: "RANGE", start: { kind: "UNBOUNDED PRECEDING" } },
    });
  });

  it("parses lambdas, ARRAY[…], subscripts, field access, intervals, durations and current_timestamp", () => {
    assert.deepEqual(expr("filter(a, x -> x.value > 1)"), {
      kind: "call",
      name: "filter",
      args: [
        col("a"),
        {
          kind: "lambda",
          params: ["x"],
          body: { kind: "binary", op: ">", left: col("x", "value"), right: num("1") },
        },
      ],
      distinct: false,
      star: false,
      orderBy: [],
    });
    assert.deepEqual((expr("reduce(a, 0, (s, x) -> s + x, s -> s)") as { args: Expr[] }).args[2], {
      kind: "lambda",
      params: ["s", "x"],
      body: { kind: "binary", op: "+", left: col("s"), right: col("x") },
    });
    assert.deepEqual(expr("ARRAY[1, 2][1]"), {
      kind: "subscript",
      value: { kind: "array", items: [num("1"), num("2")] },
      index: num("1"),
    });
    assert.deepEqual(expr("(a[1]).value"), {
      kind: "field",
      value: { kind: "subscript", value: col("a"), index: num("1") },
      field: "value",
    });
    assert.deepEqual(expr("interval '2' day"), {
      kind: "interval",
      value: "2",
      unit: "DAY",
      negative: false,
    });
    assert.deepEqual(expr("15s"), { kind: "duration", amount: "15", unit: "s", text: "15s" });
    assert.deepEqual(expr("current_timestamp"), { kind: "current", which: "CURRENT_TIMESTAMP" });
    assert.equal((expr("EXISTS (SELECT 1)") as { kind: string }).kind, "exists");
    assert.equal((expr("(SELECT 1)") as { kind: string }).kind, "subquery");
  });
});

describe("parser: queries", () => {
  it("parses WITH, DISTINCT, aliases, *, t.*, WHERE, GROUP BY (expressions and ordinals), HAVING, ORDER BY, OFFSET, LIMIT", () => {
    const q = query(
      "WITH a AS (SELECT 1), b (x) AS (SELECT 2) SELECT DISTINCT *, t.*, x AS y, z w FROM a t WHERE x > 1 GROUP BY x, 2 HAVING count(*) > 1 ORDER BY y DESC, 1 OFFSET 5 LIMIT 10",
    );
    assert.deepEqual(
      q.with.map((c) => [c.name, c.columns]),
      [
        ["a", undefined],
        ["b", ["x"]],
      ],
    );
    const s = q.body as Select;
    assert.equal(s.distinct, true);
    assert.deepEqual(strip(s.items), [
      { kind: "star" },
      { kind: "star", qualifier: "t" },
      { kind: "expr", expr: col("x"), alias: "y" },
      { kind: "expr", expr: col("z"), alias: "w" },
    ]);
    assert.deepEqual(strip(s.from), [{ kind: "table", table: "a", alias: { name: "t" } }]);
    assert.deepEqual(strip(s.groupBy), [col("x"), num("2")]);
    assert.ok(s.having !== undefined && s.where !== undefined);
    assert.deepEqual(strip(q.orderBy), [
      { expr: col("y"), descending: true },
      { expr: num("1"), descending: false },
    ]);
    assert.deepEqual(strip([q.offset, q.limit]), [num("5"), num("10")]);
    assert.deepEqual(strip(query("SELECT 1 LIMIT 3 OFFSET 2").offset), num("2"));
  });

  it('parses quoted "db"."table" names, joins of every kind, comma joins, subqueries and UNNEST', () => {
    const s = select(
      `SELECT 1 FROM "airflow-db"."airflow-table" a JOIN db.t2 b ON a.x = b.x LEFT OUTER JOIN db.t3 USING (x) RIGHT JOIN db.t4 ON true FULL JOIN db.t5 ON true CROSS JOIN UNNEST(a.ts) AS u(time, value), (SELECT 1) AS s(one), UNNEST(ARRAY[1]) WITH ORDINALITY AS n(v, i)`,
    );
    assert.equal(s.from.length, 3);
    const types: string[] = [];
    let item = s.from[0]!;
    while (item.kind === "join") {
      types.unshift(item.type);
      item = item.left;
    }
    assert.deepEqual(types, ["INNER", "LEFT", "RIGHT", "FULL", "CROSS"]);
    assert.deepEqual(strip(item), {
      kind: "table",
      database: "airflow-db",
      table: "airflow-table",
      alias: { name: "a" },
    });
    assert.deepEqual(strip(s.from[1]), {
      kind: "subquery",
      query: strip(query("SELECT 1")),
      alias: { name: "s", columns: ["one"] },
    });
    assert.deepEqual(strip(s.from[2]), {
      kind: "unnest",
      args: [{ kind: "array", items: [num("1")] }],
      withOrdinality: true,
      alias: { name: "n", columns: ["v", "i"] },
    });
  });

  it("parses UNION / INTERSECT / EXCEPT [ALL], with INTERSECT binding tighter, and VALUES", () => {
    const q = query("SELECT 1 UNION ALL SELECT 2 INTERSECT SELECT 3 EXCEPT SELECT 4 ORDER BY 1");
    assert.deepEqual(
      strip(q.body),
      strip({
        kind: "setop",
        op: "EXCEPT",
        all: false,
        left: {
          kind: "setop",
          op: "UNION",
          all: true,
          left: select("SELECT 1"),
          right: {
            kind: "setop",
            op: "INTERSECT",
            all: false,
            left: select("SELECT 2"),
            right: select("SELECT 3"),
          },
        },
        right: select("SELECT 4"),
      }),
    );
    assert.equal(q.orderBy.length, 1);
    assert.deepEqual(strip(query("VALUES (1, 'a'), (2, 'b')").body), {
      kind: "values",
      rows: [
        [num("1"), { kind: "string", value: "a" }],
        [num("2"), { kind: "string", value: "b" }],
      ],
    });
  });

  it("parses SHOW DATABASES, SHOW TABLES, SHOW MEASURES and DESCRIBE", () => {
    assert.deepEqual(strip(parse("SHOW DATABASES LIKE 'air%'")), { kind: "showDatabases", like: "air%" });
    assert.deepEqual(strip(parse("show tables")), { kind: "showTables" });
    assert.deepEqual(strip(parse(`SHOW TABLES FROM "airflow-db" LIKE '%t%'`)), {
      kind: "showTables",
      database: "airflow-db",
      like: "%t%",
    });
    assert.deepEqual(strip(parse(`SHOW MEASURES FROM "airflow-db"."airflow-table" LIKE 'cpu%'`)), {
      kind: "showMeasures",
      database: "airflow-db",
      table: "airflow-table",
      like: "cpu%",
    });
    assert.deepEqual(strip(parse(`DESCRIBE "airflow-db"."airflow-table";`)), {
      kind: "describe",
      database: "airflow-db",
      table: "airflow-table",
    });
  });
});

describe("parser: errors point at the offending token", () => {
  it("reports what was expected, after what, and what was found", () => {
    assertParseError(
      "SELECT instance_name, BIN(time, 15s) AS b, FROM x",
      1,
      44,
      "expected an expression after ',' but found 'FROM'",
    );
    assertParseError(
      "SELECT a FROM t WHERE",
      1,
      22,
      "expected an expression after 'WHERE' but found the end of the query",
    );
    assertParseError(
      "SELECT a\nFROM t\nWHERE a = ",
      3,
      11,
      "expected an expression after '=' but found the end of the query",
    );
    assertParseError("SELECT (1", 1, 10, "expected ')' after '1' but found the end of the query");
    assertParseError("SELECT a FROM t GROUP region", 1, 23, "expected BY after 'GROUP' but found 'region'");
    assertParseError("SELECT CASE END", 1, 13, "expected WHEN after 'CASE' but found 'END'");
    assertParseError(
      "SELECT a FROM",
      1,
      14,
      "expected a table name after 'FROM' but found the end of the query",
    );
    assertParseError(
      "SELECT a FROM t JOIN u",
      1,
      23,
      "expected ON or USING after 'u' but found the end of the query",
    );
    assertParseError("SELECT a FROM t LIMIT x", 1, 23, "expected a whole number after 'LIMIT' but found 'x'");
    assertParseError("SELECT 1 2", 1, 10, "expected the end of the query after '1' but found '2'");
    assertParseError(
      "SHOW USERS",
      1,
      6,
      "expected DATABASES, TABLES or MEASURES after 'SHOW' but found 'USERS'",
    );
    assertParseError(
      "DESCRIBE t",
      1,
      11,
      "expected '.' and a table name after 't' but found the end of the query",
    );
    assertParseError("", 1, 1, "the query is empty");
    assertParseError("  -- only a comment", 1, 20, "the query is empty");
    assertParseError("FOO", 1, 1, "expected SELECT, WITH, SHOW or DESCRIBE but found 'FOO'");
    assertParseError("SELECT a FROM t WHERE x = 'abc", 1, 27, /unterminated string literal/);
  });

  it("refuses unsupported syntax by name", () => {
    assertParseError("SELECT a FROM t NATURAL JOIN u", 1, 17, /NATURAL JOIN is not supported/);
    assertParseError("WITH RECURSIVE r AS (SELECT 1) SELECT 1", 1, 6, /WITH RECURSIVE is not supported/);
    assertParseError("SELECT a FROM t GROUP BY ROLLUP (a)", 1, 26, /GROUP BY ROLLUP is not supported/);
    assertParseError("SELECT a FROM a.b.c", 1, 15, /too many parts/);
    assertParseError("SELECT (1, 2)", 1, 10, /row constructors/);
    assertParseError("SELECT interval '1' day to second", 1, 25, /interval ranges/);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness } from "./harness.js";

/**
 * [Timestream expression, the JSON value DuckDB returns for it] (BIGINT comes back as a string).
 * A literal such as 2.5 is a DOUBLE, as in Timestream, which has no DECIMAL type.
 */
type Case = [string, unknown];

async function check(h: Harness, cases: Case[], from = "") {
  for (const [expression, expected] of cases) {
    const actual = await h.value(`SELECT ${expression}${from}`);
    assert.deepEqual(actual, expected, `${expression}: got ${JSON.stringify(actual)}`);
  }
}

describe("scalar functions", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());

  it("math", async () => {
    await check(h, [
      ["abs(-2)", 2],
      ["abs(-2.5)", 2.5],
      ["round(2.345, 2)", 2.35],
      ["round(2.5)", 3],
      ["round(CAST(-2.5 AS double))", -3],
      ["floor(2.7)", 2],
      ["ceil(2.1)", 3],
      ["ceiling(-2.1)", -2],
      ["greatest(1, 5, 3)", 5],
      ["least(1.5, 0.5)", 0.5],
      ["sqrt(16)", 4],
      ["cbrt(27) BETWEEN 2.999999 AND 3.000001", true],
      ["power(2, 10)", 1024],
      ["pow(2, 3)", 8],
      ["mod(-7, 3)", -1],
      ["sign(-3)", -1],
      ["truncate(2.7)", 2],
      ["ln(1)", 0],
      ["exp(0)", 1],
      ["log10(100)", 2],
      ["log2(8)", 3],
      ["log(2, 8)", 3],
      ["pi() > 3.14 AND pi() < 3.15", true],
      ["e() > 2.71 AND e() < 2.72", true],
      ["is_nan(nan())", true],
      ["is_infinite(infinity())", true],
      ["is_finite(1.0)", true],
      ["degrees(pi())", 180],
      ["radians(180) = pi()", true],
      ["cos(0)", 1],
      ["atan2(0, 1)", 0],
      ["random() < 1", true],
    ]);
  });

  it("integer division truncates as in Presto; other division does not", async () => {
    await check(h, [
      ["7 / 2", 3],
      ["-7 / 2", -3],
      ["7 % 3", 1],
      ["7.0 / 2", 3.5],
      ["CAST(7 AS double) / 2", 3.5],
      ["CAST(7 AS bigint) / CAST(2 AS bigint)", "3"],
    ]);
  });

  it("strings", async () => {
    await check(h, [
      ["concat('a', 'b', 'c')", "abc"],
      ["concat('a', NULL)", null],
      ["'a' || 'b'", "ab"],
      ["lower('AbC')", "abc"],
      ["upper('aBc')", "ABC"],
      ["length('héllo')", "5"],
      ["substr('hello', 2, 3)", "ell"],
      ["substring('hello', 3)", "llo"],
      ["replace('banana', 'a', 'o')", "bonono"],
      ["replace('banana', 'a')", "bnn"],
      ["reverse('abc')", "cba"],
      ["strpos('hello', 'l')", "3"],
      ["split('a,b,c', ',')", ["a", "b", "c"]],
      ["split_part('a,b,c', ',', 2)", "b"],
      ["lpad('7', 3, '0')", "007"],
      ["rpad('7', 3, '0')", "700"],
      ["starts_with('hello', 'he')", true],
      ["trim('  x ')", "x"],
      ["ltrim('  x')", "x"],
      ["rtrim('x  ')", "x"],
      ["chr(65)", "A"],
      ["codepoint('A')", 65],
      ["levenshtein_distance('kitten', 'sitting')", "3"],
      ["hamming_distance('abc', 'abd')", "1"],
    ]);
  });

  it("regular expressions, with Presto's meaning (NULL when nothing matches, every match replaced, $1 groups)", async () => {
    await check(h, [
      ["regexp_like('abc123', '[0-9]+')", true],
      ["regexp_like('abc', '^[0-9]+$')", false],
      ["regexp_extract('ab12cd34', '[0-9]+')", "12"],
      ["regexp_extract('abc', '[0-9]+')", null],
      ["regexp_extract('a1b2', '([a-z])([0-9])', 2)", "1"],
      ["regexp_extract_all('a1b22', '[0-9]+')", ["1", "22"]],
      ["regexp_replace('a1b2', '([a-z])([0-9])', '$2$1')", "1a2b"],
      ["regexp_replace('a1b2', '[0-9]')", "ab"],
    ]);
  });

  it("ROW values: anonymous fields field0, field1, …; CAST(… AS ROW(name T, …)) names them; .field reads them", async () => {
    await check(h, [
      ["ROW(1, 'a')", { field0: 1, field1: "a" }],
      ["CAST(ROW(1, 'a') AS ROW(x BIGINT, y VARCHAR))", { x: "1", y: "a" }],
      ["CAST(ROW(1, 'a') AS ROW(x BIGINT, y VARCHAR)).y", "a"],
      ["CAST(ROW(0.0, 0) AS ROW(sum DOUBLE, count INTEGER)).sum + 1", 1],
      ['CAST(ROW(2.5, ARRAY[1, 2]) AS ROW("v" DOUBLE, xs ARRAY(INTEGER))).xs[2]', 2],
      ["CAST(ROW(ROW(7)) AS ROW(nested ROW(n BIGINT))).nested.n", "7"],
      ["try_cast(ROW('x') AS ROW(n BIGINT))", { n: null }],
      ["transform(ARRAY[1, 2], x -> CAST(ROW(x, x * 10) AS ROW(a INTEGER, b INTEGER)).b)", [10, 20]],
    ]);
    const named = await h.query(
      "SELECT CAST(ROW(1, 'a') AS ROW(x BIGINT, y VARCHAR)) AS r, r2.y FROM (SELECT CAST(ROW(2, 'b') AS ROW(x BIGINT, y VARCHAR)) AS r2)",
    );
    assert.deepEqual(named.rows, [[{ x: "1", y: "a" }, "b"]]);
  });

  it("conditionals and casts", async () => {
    await check(h, [
      ["coalesce(NULL, 2)", 2],
      ["if(1 < 2, 'y', 'n')", "y"],
      ["if(false, 1)", null],
      ["nullif(3, 3)", null],
      ["nullif(3, 4)", 3],
      ["try_cast('x' AS bigint)", null],
      ["try_cast('12' AS bigint)", "12"],
      ["cast('1.5' AS double)", 1.5],
      ["cast(1 AS varchar)", "1"],
      ["cast('2021-09-22 15:00:00+02:00' AS timestamp) = TIMESTAMP '2021-09-22 13:00:00'", true],
      ["try_cast('not a time' AS timestamp)", null],
      ["CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' END", "b"],
      ["CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END", "two"],
      ["try(1 / 1)", 1],
      ["1 IS DISTINCT FROM NULL", true],
      ["'abc' LIKE 'a%'", true],
      ["'a_c' LIKE 'a!_c' ESCAPE '!'", true],
      ["2 NOT BETWEEN 3 AND 4", true],
      ["2 IN (1, 2)", true],
      ["EXISTS (SELECT 1)", true],
      ["(SELECT 41 + 1)", 42],
    ]);
  });

  it("arrays: cardinality, element_at, subscripts and the rest", async () => {
    await check(h, [
      ["cardinality(ARRAY[1, 2, 3])", "3"],
      ["element_at(ARRAY[10, 20], 2)", 20],
      ["element_at(ARRAY[10, 20], -1)", 20],
      ["element_at(ARRAY[10, 20], 5)", null],
      ["ARRAY[10, 20][1]", 10],
      ["contains(ARRAY[1, 2], 2)", true],
      ["array_join(ARRAY['a', 'b'], '-')", "a-b"],
      ["array_max(ARRAY[1, 5, 2])", 5],
      ["array_min(ARRAY[1, 5, 2])", 1],
      ["array_sort(ARRAY[3, 1, 2])", [1, 2, 3]],
      ["array_position(ARRAY[5, 6], 6)", 2],
      ["array_remove(ARRAY[1, 2, 1], 1)", [2]],
      ["array_sort(array_distinct(ARRAY[1, 1, 2]))", [1, 2]],
      ["array_sort(array_union(ARRAY[1, 2], ARRAY[2, 3]))", [1, 2, 3]],
      ["array_intersect(ARRAY[1, 2], ARRAY[2, 3])", [2]],
      ["arrays_overlap(ARRAY[1, 2], ARRAY[2, 3])", true],
      ["flatten(ARRAY[ARRAY[1], ARRAY[2, 3]])", [1, 2, 3]],
      ["slice(ARRAY[1, 2, 3, 4], 2, 2)", [2, 3]],
      ["slice(ARRAY[1, 2, 3, 4], -2, 2)", [3, 4]],
      ["sequence(1, 4)", ["1", "2", "3", "4"]],
      ["sequence(3, 1)", ["3", "2", "1"]],
      ["sequence(0, 10, 5)", ["0", "5", "10"]],
      ["ARRAY[1] || ARRAY[2]", [1, 2]],
    ]);
  });

  it("lambdas: filter, transform, reduce (with its output function), any/all/none_match", async () => {
    await check(h, [
      ["filter(ARRAY[1, 5, 9], x -> x > 3)", [5, 9]],
      ["transform(ARRAY[1, 2], x -> x * 10)", [10, 20]],
      ["reduce(ARRAY[1, 2, 3], 0, (s, x) -> s * 10 + x, s -> s)", 123],
      ["reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s * 2)", 12],
      ["reduce(ARRAY[], 5, (s, x) -> s + x, s -> s)", 5],
      ["any_match(ARRAY[1, 5], x -> x > 3)", true],
      ["all_match(ARRAY[1, 5], x -> x > 3)", false],
      ["none_match(ARRAY[1, 5], x -> x > 9)", true],
      ["transform(ARRAY[1, 2], x -> reduce(ARRAY[x, x], 0, (s, y) -> s + y, s -> s))", [2, 4]],
    ]);
  });
});

describe("functions added from Timestream's function list (docs/sql.md, Coverage)", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());

  it("math and bitwise, with the documentation's examples", async () => {
    await check(h, [
      ["to_base(255, 16)", "ff"],
      ["to_base(-10, 2)", "-1010"],
      [
        "(SELECT bool_and(r BETWEEN 0 AND 9 AND r = floor(r)) FROM (SELECT random(10) AS r FROM UNNEST(sequence(1, 50)) AS t(k)))",
        true,
      ],
      ["bit_count(19, 8)", "3"],
      ["bit_count(-1, 8)", "8"],
      ["bit_count(-1, 64)", "64"],
      ["bitwise_and(12, 7)", "4"],
      ["bitwise_or(12, 7)", "15"],
      ["bitwise_xor(12, 7)", "11"],
      ["bitwise_not(12)", "-13"],
    ]);
    await assert.rejects(h.query("SELECT bit_count(19, 2)"), /the number must be representable with 2 bits/);
    await assert.rejects(h.query("SELECT bit_count(19, 65)"), /number of bits from 2 to 64/);
  });

  it("strings and regular expressions", async () => {
    await check(h, [
      ["strrpos('hello', 'l')", "4"],
      ["strrpos('ababab', 'ab')", "5"],
      ["strrpos('hello', 'x')", "0"],
      ["position('l' IN 'hello')", "3"],
      ["position('x' IN 'hello')", "0"],
      ["reverse('abc')", "cba"],
      ["regexp_split('1a 2b 14m', '\\s*[a-z]+\\s*')", ["1", "2", "14", ""]],
      ["localtime = current_time", true],
    ]);
  });

  it("arrays", async () => {
    await check(h, [
      // The documentation's examples, in its order (first seen first).
      ["array_distinct(ARRAY[1, 2, 2, 3])", [1, 2, 3]],
      ["array_distinct(ARRAY[3, NULL, 1, 3, NULL])", [3, null, 1]],
      ["array_intersect(ARRAY[1, 2, 3], ARRAY[3, 4, 5])", [3]],
      ["array_intersect(ARRAY[5, 4, 4, 3], ARRAY[3, 4, 5])", [5, 4, 3]],
      ["array_union(ARRAY[1, 2, 3], ARRAY[3, 4, 5])", [1, 2, 3, 4, 5]],
      ["array_except(ARRAY[1, 2, 3], ARRAY[3, 4, 5])", [1, 2]],
      ["array_except(ARRAY[3, 1, 3, 2], ARRAY[])", [3, 1, 2]],
      ["array_join(ARRAY[1, 2, 3], ';', '')", "1;2;3"],
      ["array_join(ARRAY[1, NULL, 3], ';', 'x')", "1;x;3"],
      ["array_join(ARRAY[1, NULL, 3], ';')", "1;3"],
      ["repeat('a', 3)", ["a", "a", "a"]],
      ["repeat(1, 0)", []],
      ["reverse(ARRAY[1, 2, 3])", [3, 2, 1]],
      ["array_sort(shuffle(ARRAY[3, 1, 2]))", [1, 2, 3]],
      [
        "zip(ARRAY[1, 2], ARRAY['a', 'b', 'c'])",
        [
          { field0: 1, field1: "a" },
          { field0: 2, field1: "b" },
          { field0: null, field1: "c" },
        ],
      ],
      ["zip(ARRAY[1, 2], ARRAY[3, 4])[2].field1", 4],
      ["zip_with(ARRAY[1, 2], ARRAY[10, 20], (x, y) -> x + y)", [11, 22]],
      ["zip_with(ARRAY[1], ARRAY['a', 'b'], (x, y) -> coalesce(CAST(x AS varchar), '-') || y)", ["1a", "-b"]],
    ]);
  });
});

describe("aggregate and window functions", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());
  const data =
    " FROM (VALUES ('a', 1, true), ('a', 3, false), ('b', 5, true), ('b', NULL, true)) AS t(g, x, b)";

  it("aggregates", async () => {
    await check(
      h,
      [
        ["count(*)", "4"],
        ["count(x)", "3"],
        ["count(DISTINCT g)", "2"],
        ["sum(x)", "9"],
        ["avg(x)", 3],
        ["min(x)", 1],
        ["max(x)", 5],
        ["stddev(x)", 2],
        ["stddev_samp(x)", 2],
        ["variance(x)", 4],
        ["var_pop(x) = 8.0 / 3", true],
        ["arbitrary(g) IN ('a', 'b')", true],
        ["min_by(g, x)", "a"],
        ["max_by(g, x)", "b"],
        ["array_agg(x ORDER BY x DESC)", [5, 3, 1, null]],
        ["bool_and(b)", false],
        ["bool_or(b)", true],
        ["every(b)", false],
        ["approx_distinct(g)", "2"],
        ["approx_percentile(x, 0.5)", 3],
        ["approx_percentile(x, ARRAY[0.5, 1.0])", [3, 5]],
        ["count_if(x > 2)", "2"],
        ["sum(x) FILTER (WHERE g = 'a')", "4"],
        ["geometric_mean(x) > 2.4", true],
        ["corr(x, x)", 1],
        ["max(x, 2)", [5, 3]],
        ["min(x, 2)", [1, 3]],
        ["max_by(g, x, 2)", ["b", "a"]],
        ["min_by(x, x, 2)", [1, 3]],
        ["bitwise_and_agg(x)", "1"],
        ["bitwise_or_agg(x)", "7"],
      ],
      data,
    );
  });

  it("window functions with partitions, orders and frames", async () => {
    const result = await h.query(
      `SELECT g, x, row_number() OVER (PARTITION BY g ORDER BY x DESC), rank() OVER (ORDER BY g), dense_rank() OVER (ORDER BY g), lag(x) OVER (ORDER BY x), lead(x, 1, 0) OVER (ORDER BY x), sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), first_value(x) OVER (PARTITION BY g ORDER BY x), ntile(2) OVER (ORDER BY x), avg(x) OVER (PARTITION BY g), approx_percentile(x, 0.5) OVER (PARTITION BY g)${data} WHERE x IS NOT NULL ORDER BY x`,
    );
    assert.deepEqual(result.rows, [
      ["a", 1, "2", "1", "1", null, 3, "1", 1, "1", 2, 1],
      ["a", 3, "1", "1", "1", 1, 5, "4", 1, "1", 2, 1],
      ["b", 5, "1", "3", "2", 3, 0, "8", 5, "2", 5, 5],
    ]);
  });

  it("refuses misuse of aggregate and window syntax", async () => {
    await assert.rejects(
      h.query("SELECT row_number() FROM (VALUES 1) AS t(x)"),
      /row_number is a window function/,
    );
    await assert.rejects(
      h.query("SELECT abs(x) OVER () FROM (VALUES 1) AS t(x)"),
      /abs is not an aggregate function/,
    );
    await assert.rejects(h.query("SELECT sum(*)"), /sum\(\*\) is not valid/);
    await assert.rejects(h.query("SELECT round(1, 2, 3)"), /round expects 1 to 2 argument\(s\) but got 3/);
    await assert.rejects(h.query("SELECT approx_percentile(1, 1.5)"), /percentage must be between 0 and 1/);
    await assert.rejects(h.query("SELECT approx_percentile(1, 2, 0.5)"), /weighted form .* is not supported/);
    await assert.rejects(h.query("SELECT filter(ARRAY[1], 1)"), /filter expects a lambda with 1 parameter/);
    await assert.rejects(h.query("SELECT x -> x"), /a lambda \(x -> …\) is only allowed as an argument/);
    await assert.rejects(
      h.query("SELECT no_such_function(1)"),
      /line 1, column 8: unknown function no_such_function/,
    );
    await assert.rejects(h.query("SELECT CAST(1 AS money)"), /unknown or unsupported type 'MONEY'/);
  });
});

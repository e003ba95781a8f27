/**
 * The function library: every function a query may call, and how it is printed for DuckDB.
 * A name that is not here is refused, so DuckDB's functions that read files, URLs or settings
 * (read_csv, read_parquet, glob, getenv, current_setting, duckdb_*, …) can never be reached.
 */
import type { CallExpr, FrameBound, WindowSpec } from "./ast.js";
import {
  aggregate,
  type FunctionSpec,
  firstArgType,
  orderItemSql,
  scalar,
  scalarWith,
  translateArgs,
  windowOnly,
} from "./function-spec.js";
import { arrayFunctions } from "./functions-array.js";
import { timeFunctions } from "./functions-time.js";
import { quoteString } from "./quote.js";
import { syntaxError } from "./syntax-error.js";
import { timeSeriesFunctions } from "./time-series.js";
import { type ExpressionContext, type Translated, translateExpr } from "./translate-expression.js";
import { isInteger, isListLike, type SqlType } from "./types.js";

const castToBigintIfInteger = (sql: string, args: Translated[]): string =>
  isInteger(args[0]?.type ?? "unknown") ? `CAST(${sql} AS BIGINT)` : sql;

const sumType = (args: Translated[]): SqlType =>
  isInteger(args[0]?.type ?? "unknown") ? "bigint" : firstArgType(args);

/** The first argument's type, or an array of it when the call has the `n` argument (its `count`-th). */
const topN =
  (count: number) =>
  (args: Translated[]): SqlType =>
    args.length === count ? { kind: "array", element: firstArgType(args) } : firstArgType(args);

const approxPercentile: FunctionSpec = {
  kind: "aggregate",
  minArgs: 2,
  maxArgs: 4,
  translate(call, ctx, suffix) {
    if (call.args.length > 2) {
      // DuckDB has no weighted quantile; an exact emulation would sort every group twice.
      throw syntaxError(
        call.pos,
        "the weighted form approx_percentile(x, weight, percentage) is not supported",
      );
    }
    const planned = ctx.percentiles.get(call);
    const [value, percentage] = translateArgs(call, ctx);
    if (call.args[1]!.kind === "number") {
      const p = Number(call.args[1]!.text);
      if (!(p >= 0 && p <= 1))
        throw syntaxError(call.args[1]!.pos, "approx_percentile's percentage must be between 0 and 1");
    }
    if (planned !== undefined) return { sql: `(${planned.listSql})[${planned.index}]`, type: value!.type };
    const distinct = call.distinct ? "DISTINCT " : "";
    const type =
      typeof percentage!.type === "object" ? { kind: "array" as const, element: value!.type } : value!.type;
    return { sql: `quantile_disc(${distinct}${value!.sql}, ${percentage!.sql})${suffix}`, type };
  },
};

const concat = scalarWith(1, 254, (args) => ({
  // `||` (not DuckDB's concat, which skips NULLs): Presto's concat is NULL if any argument is.
  sql: `(${args.map((a) => a.sql).join(" || ")})`,
  type: args[0]!.type,
}));

const ifFunction = scalarWith(2, 3, ([condition, then, otherwise]) => ({
  sql: `(CASE WHEN ${condition!.sql} THEN ${then!.sql}${otherwise === undefined ? "" : ` ELSE ${otherwise.sql}`} END)`,
  type: then!.type,
}));

/**
 * The longest string lpad() and rpad() may build. DuckDB builds a whole vector of them (2,048 rows)
 * in one call that a query's time limit cannot interrupt: lpad(x, 1000000000, 'y') left a call
 * unanswered for over 30 s under a 2 s time limit (found by test/api/query-fuzz.test.ts). Presto
 * allows up to 2^31 - 1; a query result page is about 1 MB anyway.
 */
export const MAX_PAD_LENGTH = 100_000;

function pad(name: "lpad" | "rpad"): FunctionSpec {
  const message = `${name}()'s length must be from 0 to ${MAX_PAD_LENGTH.toLocaleString("en-US")} characters (the longest string it may build)`;
  return scalarWith(3, 3, ([text, length, filler], call) => {
    const literal = call.args[1];
    if (literal?.kind === "number" && Number(literal.text) > MAX_PAD_LENGTH) {
      throw syntaxError(literal.pos, `${message}, not ${literal.text}`);
    }
    // The CAST: DuckDB's lpad takes an INTEGER, and a bigint argument (a measure) would not bind.
    return {
      sql: `(CASE WHEN NOT (${length!.sql} BETWEEN 0 AND ${MAX_PAD_LENGTH}) THEN error(${quoteString(message)}) ELSE ${name}(${text!.sql}, CAST(${length!.sql} AS INTEGER), ${filler!.sql}) END)`,
      type: "varchar",
    };
  });
}

const regexpExtract = scalarWith(2, 3, ([text, pattern, group]) => {
  // DuckDB returns '' when nothing matches; Presto returns NULL.
  const extract = `regexp_extract(${text!.sql}, ${pattern!.sql}${group === undefined ? "" : `, ${group.sql}`})`;
  return {
    sql: `(CASE WHEN regexp_matches(${text!.sql}, ${pattern!.sql}) THEN ${extract} END)`,
    type: "varchar",
  };
});

const regexpReplace: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 3,
  translate(call, ctx) {
    const [text, pattern] = translateArgs(call, ctx).slice(0, 2);
    const replacementArg = call.args[2];
    let replacement = "''";
    if (replacementArg?.kind === "string") {
      // Presto writes group references as $1; DuckDB (RE2) as \1.
      replacement = quoteString(groupReferencesForDuckdb(replacementArg.value));
    } else if (replacementArg !== undefined) {
      replacement = translateExpr(replacementArg, ctx).sql;
    }
    // Presto replaces every match; DuckDB only the first unless told 'g'.
    return { sql: `regexp_replace(${text!.sql}, ${pattern!.sql}, ${replacement}, 'g')`, type: "varchar" };
  },
};

/** `$1` (Presto/Java) to `\1` (RE2) in a replacement string. */
function groupReferencesForDuckdb(replacement: string): string {
  let out = "";
  for (let k = 0; k < replacement.length; k++) {
    const next = replacement[k + 1] ?? "";
    if (replacement[k] === "$" && next >= "0" && next <= "9") out += "\\";
    else out += replacement[k];
  }
  return out;
}

const replace = scalarWith(2, 3, ([text, search, replacement]) => ({
  sql: `replace(${text!.sql}, ${search!.sql}, ${replacement?.sql ?? "''"})`,
  type: "varchar",
}));

const constant = (sql: string, type: SqlType) => scalarWith(0, 0, () => ({ sql, type }));

/** rand()/random() in [0, 1); random(n) a whole number in [0, n) of n's type. */
const random = scalarWith(0, 1, ([n]) =>
  n === undefined
    ? { sql: "random()", type: "double" }
    : { sql: `CAST(floor(random() * ${n.sql}) AS BIGINT)`, type: isInteger(n.type) ? n.type : "bigint" },
);

/** to_base(x, radix): lower-case digits and a leading '-' as Presto writes them (DuckDB: upper case, x ≥ 0). */
const toBase = scalarWith(2, 2, ([x, radix]) => ({
  sql: `(CASE WHEN ${x!.sql} < 0 THEN '-' ELSE '' END || lower(to_base(abs(${x!.sql}), ${radix!.sql})))`,
  type: "varchar",
}));

/** reverse(x) of a string, or of an array (DuckDB's reverse is for strings only). */
const reverse = scalarWith(1, 1, ([x]) => ({
  sql: `${isListLike(x!.type) ? "list_reverse" : "reverse"}(${x!.sql})`,
  type: x!.type,
}));

/** strrpos(x, sub): the position of the last occurrence (0 if none), counted from 1. */
const strrpos = scalarWith(2, 2, ([text, sub]) => ({
  sql: `(CASE WHEN strpos(${text!.sql}, ${sub!.sql}) = 0 THEN 0 ELSE length(${text!.sql}) - strpos(reverse(${text!.sql}), reverse(${sub!.sql})) - length(${sub!.sql}) + 2 END)`,
  type: "bigint",
}));

const bigint = (sql: string) => `CAST(${sql} AS BIGINT)`;

/**
 * bit_count(x, bits): the set bits of x as a two's complement number of `bits` bits (a literal from 2
 * to 64); like Presto, a number that does not fit is an error.
 */
const bitCount: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 2,
  translate(call, ctx) {
    const [x] = translateArgs(call, ctx);
    const bitsArg = call.args[1]!;
    const bits = bitsArg.kind === "number" && /^\d+$/.test(bitsArg.text) ? Number(bitsArg.text) : Number.NaN;
    if (!(bits >= 2 && bits <= 64))
      throw syntaxError(
        bitsArg.pos,
        "bit_count's second argument must be a number of bits from 2 to 64, such as 8 or 64",
      );
    const value = bigint(x!.sql);
    if (bits === 64) return { sql: `CAST(bit_count(${value}) AS BIGINT)`, type: "bigint" };
    const [low, high] = [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n];
    const message = `bit_count: the number must be representable with ${bits} bits`;
    return {
      sql: `(CASE WHEN ${value} NOT BETWEEN ${low} AND ${high} THEN error('${message}') ELSE CAST(bit_count(${value} & ${2n ** BigInt(bits) - 1n}) AS BIGINT) END)`,
      type: "bigint",
    };
  },
};

const scalarFunctions: Record<string, FunctionSpec> = {
  abs: scalar("abs", 1, 1, firstArgType),
  ceil: scalar("ceil", 1, 1, firstArgType),
  ceiling: scalar("ceil", 1, 1, firstArgType),
  floor: scalar("floor", 1, 1, firstArgType),
  round: scalar("round", 1, 2, firstArgType),
  truncate: scalar("trunc", 1, 1, firstArgType),
  sign: scalar("sign", 1, 1, firstArgType),
  sqrt: scalar("sqrt", 1, 1, "double"),
  cbrt: scalar("cbrt", 1, 1, "double"),
  exp: scalar("exp", 1, 1, "double"),
  ln: scalar("ln", 1, 1, "double"),
  log2: scalar("log2", 1, 1, "double"),
  log10: scalar("log10", 1, 1, "double"),
  log: scalar("log", 2, 2, "double"),
  power: scalar("pow", 2, 2, "double"),
  pow: scalar("pow", 2, 2, "double"),
  mod: scalarWith(2, 2, ([a, b]) => ({ sql: `(${a!.sql} % ${b!.sql})`, type: a!.type })),
  degrees: scalar("degrees", 1, 1, "double"),
  radians: scalar("radians", 1, 1, "double"),
  sin: scalar("sin", 1, 1, "double"),
  cos: scalar("cos", 1, 1, "double"),
  tan: scalar("tan", 1, 1, "double"),
  asin: scalar("asin", 1, 1, "double"),
  acos: scalar("acos", 1, 1, "double"),
  atan: scalar("atan", 1, 1, "double"),
  atan2: scalar("atan2", 2, 2, "double"),
  sinh: scalar("sinh", 1, 1, "double"),
  cosh: scalar("cosh", 1, 1, "double"),
  tanh: scalar("tanh", 1, 1, "double"),
  pi: constant("pi()", "double"),
  e: constant("exp(1)", "double"),
  nan: constant("CAST('NaN' AS DOUBLE)", "double"),
  infinity: constant("CAST('Infinity' AS DOUBLE)", "double"),
  random,
  rand: scalar("random", 0, 0, "double"),
  to_base: toBase,
  bit_count: bitCount,
  bitwise_and: scalarWith(2, 2, ([a, b]) => ({
    sql: `(${bigint(a!.sql)} & ${bigint(b!.sql)})`,
    type: "bigint",
  })),
  bitwise_or: scalarWith(2, 2, ([a, b]) => ({
    sql: `(${bigint(a!.sql)} | ${bigint(b!.sql)})`,
    type: "bigint",
  })),
  bitwise_xor: scalarWith(2, 2, ([a, b]) => ({
    sql: `xor(${bigint(a!.sql)}, ${bigint(b!.sql)})`,
    type: "bigint",
  })),
  bitwise_not: scalarWith(1, 1, ([a]) => ({ sql: `(~ ${bigint(a!.sql)})`, type: "bigint" })),
  is_nan: scalar("isnan", 1, 1, "boolean"),
  is_finite: scalar("isfinite", 1, 1, "boolean"),
  is_infinite: scalar("isinf", 1, 1, "boolean"),
  greatest: scalar("greatest", 1, 254, firstArgType),
  least: scalar("least", 1, 254, firstArgType),
  coalesce: scalar("coalesce", 1, 254, (args) => args.find((a) => a.type !== "unknown")?.type ?? "unknown"),
  nullif: scalar("nullif", 2, 2, firstArgType),
  if: ifFunction,
  try: scalar("try", 1, 1, firstArgType),
  concat,
  lower: scalar("lower", 1, 1, "varchar"),
  upper: scalar("upper", 1, 1, "varchar"),
  length: scalar("length", 1, 1, "bigint"),
  substr: scalar("substring", 2, 3, "varchar"),
  substring: scalar("substring", 2, 3, "varchar"),
  trim: scalar("trim", 1, 1, "varchar"),
  ltrim: scalar("ltrim", 1, 1, "varchar"),
  rtrim: scalar("rtrim", 1, 1, "varchar"),
  replace,
  reverse,
  strrpos,
  strpos: scalar("strpos", 2, 2, "bigint"),
  split: scalar("string_split", 2, 2, { kind: "array", element: "varchar" }),
  split_part: scalar("split_part", 3, 3, "varchar"),
  lpad: pad("lpad"),
  rpad: pad("rpad"),
  starts_with: scalar("starts_with", 2, 2, "boolean"),
  chr: scalar("chr", 1, 1, "varchar"),
  codepoint: scalar("unicode", 1, 1, "integer"),
  levenshtein_distance: scalar("levenshtein", 2, 2, "bigint"),
  hamming_distance: scalar("hamming", 2, 2, "bigint"),
  regexp_like: scalar("regexp_matches", 2, 2, "boolean"),
  regexp_extract: regexpExtract,
  regexp_extract_all: scalar("regexp_extract_all", 2, 3, { kind: "array", element: "varchar" }),
  regexp_replace: regexpReplace,
  regexp_split: scalar("regexp_split_to_array", 2, 2, { kind: "array", element: "varchar" }),
};

const aggregateFunctions: Record<string, FunctionSpec> = {
  count: aggregate("count", 0, 1, "bigint"),
  count_if: aggregate("count_if", 1, 1, "bigint"),
  sum: aggregate("sum", 1, 1, sumType, castToBigintIfInteger),
  avg: aggregate("avg", 1, 1, "double"),
  // max(x, n) / max_by(x, y, n): the n largest as an array, largest first (DuckDB has the same forms).
  min: aggregate("min", 1, 2, topN(2)),
  max: aggregate("max", 1, 2, topN(2)),
  arbitrary: aggregate("any_value", 1, 1, firstArgType),
  any_value: aggregate("any_value", 1, 1, firstArgType),
  min_by: aggregate("arg_min", 2, 3, topN(3)),
  max_by: aggregate("arg_max", 2, 3, topN(3)),
  array_agg: aggregate("array_agg", 1, 1, (args) => ({ kind: "array", element: firstArgType(args) })),
  bool_and: aggregate("bool_and", 1, 1, "boolean"),
  bool_or: aggregate("bool_or", 1, 1, "boolean"),
  every: aggregate("bool_and", 1, 1, "boolean"),
  stddev: aggregate("stddev_samp", 1, 1, "double"),
  stddev_samp: aggregate("stddev_samp", 1, 1, "double"),
  stddev_pop: aggregate("stddev_pop", 1, 1, "double"),
  variance: aggregate("var_samp", 1, 1, "double"),
  var_samp: aggregate("var_samp", 1, 1, "double"),
  var_pop: aggregate("var_pop", 1, 1, "double"),
  geometric_mean: aggregate("geomean", 1, 1, "double"),
  corr: aggregate("corr", 2, 2, "double"),
  covar_pop: aggregate("covar_pop", 2, 2, "double"),
  covar_samp: aggregate("covar_samp", 2, 2, "double"),
  regr_slope: aggregate("regr_slope", 2, 2, "double"),
  regr_intercept: aggregate("regr_intercept", 2, 2, "double"),
  kurtosis: aggregate("kurtosis", 1, 1, "double"),
  skewness: aggregate("skewness", 1, 1, "double"),
  approx_distinct: aggregate("approx_count_distinct", 1, 1, "bigint"),
  bitwise_and_agg: aggregate("bit_and", 1, 1, "bigint", (sql) => `CAST(${sql} AS BIGINT)`),
  bitwise_or_agg: aggregate("bit_or", 1, 1, "bigint", (sql) => `CAST(${sql} AS BIGINT)`),
  approx_percentile: approxPercentile,
};

const windowFunctions: Record<string, FunctionSpec> = {
  row_number: windowOnly("row_number", 0, 0, "bigint"),
  rank: windowOnly("rank", 0, 0, "bigint"),
  dense_rank: windowOnly("dense_rank", 0, 0, "bigint"),
  percent_rank: windowOnly("percent_rank", 0, 0, "double"),
  cume_dist: windowOnly("cume_dist", 0, 0, "double"),
  ntile: windowOnly("ntile", 1, 1, "bigint"),
  lag: windowOnly("lag", 1, 3, firstArgType),
  lead: windowOnly("lead", 1, 3, firstArgType),
  first_value: windowOnly("first_value", 1, 1, firstArgType),
  last_value: windowOnly("last_value", 1, 1, firstArgType),
  nth_value: windowOnly("nth_value", 2, 2, firstArgType),
};

const registry: ReadonlyMap<string, FunctionSpec> = new Map(
  Object.entries({
    ...scalarFunctions,
    ...timeFunctions,
    ...arrayFunctions,
    ...timeSeriesFunctions,
    ...aggregateFunctions,
    ...windowFunctions,
  }),
);

/**
 * Functions of Timestream's documentation that this store does not serve, and why (docs/sql.md,
 * "Coverage of Timestream's functions"): the refusal names the function and the reason.
 */
const notServed: ReadonlyMap<string, string> = new Map([
  ["from_base", "DuckDB has no parser for numbers in an arbitrary radix"],
  [
    "format_datetime",
    "Joda-Time format patterns are not translated; use date_format with MySQL-style patterns",
  ],
  [
    "parse_datetime",
    "Joda-Time format patterns are not translated; use date_parse with MySQL-style patterns",
  ],
  ["correlate_pearson", "not implemented over timeseries yet; UNNEST both series and use corr(x, y)"],
  ["correlate_spearman", "not implemented over timeseries yet (needs ranks of both series)"],
  ["map_agg", "the store has no MAP type (Timestream's query types have none either)"],
  ["map_union", "the store has no MAP type (Timestream's query types have none either)"],
  ["multimap_agg", "the store has no MAP type (Timestream's query types have none either)"],
  ["histogram", "it returns a MAP, and the store has no MAP type"],
]);

/** DuckDB functions that reach files, the network, the catalog or settings: named in the refusal. */
const refusedPrefixes = [
  "read_",
  "duckdb_",
  "pragma_",
  "parquet_",
  "sqlite_",
  "postgres_",
  "mysql_",
  "iceberg_",
  "delta_",
];
const refusedNames = new Set([
  "glob",
  "sniff_csv",
  "current_setting",
  "getenv",
  "query",
  "query_table",
  "load",
  "install",
  "checkpoint",
  "set_variable",
  "getvariable",
  "write_csv",
  "copy",
  "system",
  "http_get",
]);

export function translateCall(call: CallExpr, ctx: ExpressionContext): Translated {
  const name = call.name.toLowerCase();
  const spec = registry.get(name);
  if (spec === undefined) {
    if (refusedNames.has(name) || refusedPrefixes.some((prefix) => name.startsWith(prefix))) {
      throw syntaxError(
        call.pos,
        `function ${call.name} is not allowed: the query API is read-only and reads only Timestream tables`,
      );
    }
    const reason = notServed.get(name);
    if (reason !== undefined)
      throw syntaxError(call.pos, `function ${call.name} is not supported by this store: ${reason}`);
    throw syntaxError(call.pos, `unknown function ${call.name}`);
  }
  const argCount = call.star ? 1 : call.args.length;
  if (call.star && name !== "count")
    throw syntaxError(call.pos, `${call.name}(*) is not valid: only count(*) takes '*'`);
  if (argCount < spec.minArgs || argCount > spec.maxArgs) {
    const expected = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : `${spec.minArgs} to ${spec.maxArgs}`;
    throw syntaxError(call.pos, `${call.name} expects ${expected} argument(s) but got ${argCount}`);
  }
  if (spec.kind === "window" && call.over === undefined) {
    throw syntaxError(call.pos, `${call.name} is a window function: it needs an OVER (…) clause`);
  }
  if (spec.kind === "scalar") {
    const clause =
      call.over !== undefined
        ? "OVER"
        : call.filter !== undefined
          ? "FILTER"
          : call.distinct
            ? "DISTINCT"
            : call.orderBy.length > 0
              ? "ORDER BY"
              : undefined;
    if (clause !== undefined)
      throw syntaxError(call.pos, `${call.name} is not an aggregate function: it cannot take ${clause}`);
  }
  if (spec.kind === "window" && (call.filter !== undefined || call.distinct)) {
    throw syntaxError(call.pos, `${call.name} cannot take FILTER or DISTINCT`);
  }
  const filter = call.filter === undefined ? "" : ` FILTER (WHERE ${translateExpr(call.filter, ctx).sql})`;
  const over = call.over === undefined ? "" : ` OVER (${windowSql(call.over, ctx)})`;
  return spec.translate(call, ctx, filter + over);
}

function windowSql(spec: WindowSpec, ctx: ExpressionContext): string {
  const parts: string[] = [];
  if (spec.partitionBy.length > 0) {
    parts.push(`PARTITION BY ${spec.partitionBy.map((e) => translateExpr(e, ctx).sql).join(", ")}`);
  }
  if (spec.orderBy.length > 0) {
    parts.push(
      `ORDER BY ${spec.orderBy.map((item) => orderItemSql(translateExpr(item.expr, ctx).sql, item)).join(", ")}`,
    );
  }
  if (spec.frame !== undefined) {
    const bound = (b: FrameBound) =>
      b.offset === undefined ? b.kind : `${translateExpr(b.offset, ctx).sql} ${b.kind}`;
    const { units, start, end } = spec.frame;
    parts.push(
      end === undefined ? `${units} ${bound(start)}` : `${units} BETWEEN ${bound(start)} AND ${bound(end)}`,
    );
  }
  return parts.join(" ");
}

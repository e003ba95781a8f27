/**
 * Array (and timeseries) functions, including the lambda ones: filter, transform, reduce,
 * any_match / all_match / none_match. A timeseries is a list of (time, value) rows, so the same
 * DuckDB list functions serve both, as Timestream's FILTER(ts, x -> x.value > 70) expects.
 */
import type { DurationLiteral, Expr } from "./ast.js";
import { DEFAULT_SEQUENCE_MAX_ENTRIES } from "./contract.js";
import { type FunctionSpec, scalar, scalarWith, translateArgs } from "./function-spec.js";
import { quoteString } from "./quote.js";
import { syntaxError } from "./syntax-error.js";
import { durationUnitNs, intervalSql } from "./timestamps.js";
import {
  type Translated,
  translateExpr,
  translateLambda,
  translateLambdaBody,
} from "./translate-expression.js";
import { coerceTo } from "./translate-literal.js";
import { arrayOf, elementOf, type SqlType } from "./types.js";

const sameList = (args: Translated[]): SqlType => args[0]?.type ?? "unknown";
const elementType = (args: Translated[]): SqlType => elementOf(args[0]?.type ?? "unknown");

const filter: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 2,
  translate(call, ctx) {
    const list = translateExpr(call.args[0]!, ctx);
    const predicate = translateLambda(call.args[1]!, [elementOf(list.type)], ctx, "filter");
    return { sql: `list_filter(${list.sql}, ${predicate.sql})`, type: list.type };
  },
};

const transform: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 2,
  translate(call, ctx) {
    const list = translateExpr(call.args[0]!, ctx);
    const fn = translateLambda(call.args[1]!, [elementOf(list.type)], ctx, "transform");
    return { sql: `list_transform(${list.sql}, ${fn.sql})`, type: arrayOf(fn.type) };
  },
};

/**
 * reduce(list, initial, (state, x) -> state', state -> result).
 * DuckDB's list_reduce needs the state to have the element's type, while Presto's state can be
 * anything (a double summed over a timeseries of rows). So each element is carried in a struct
 * {hg_s: state, hg_x: element}, the step is inlined with `state` and `x` bound to its fields, and
 * the output function is inlined over the final state.
 */
const reduce: FunctionSpec = {
  kind: "scalar",
  minArgs: 4,
  maxArgs: 4,
  translate(call, ctx) {
    const list = translateExpr(call.args[0]!, ctx);
    const initial = translateExpr(call.args[1]!, ctx);
    // Names unique to this call site, so that a reduce inside a reduce cannot capture them.
    const [acc, element] = [
      `hg_acc_${call.pos.line}_${call.pos.column}`,
      `hg_e_${call.pos.line}_${call.pos.column}`,
    ];
    // A NULL of the state's (or element's) type, without having to name the type.
    const nullState = `CASE WHEN false THEN ${initial.sql} END`;
    const nullElement = `CASE WHEN false THEN (${list.sql})[1] END`;
    const step = translateLambdaBody(
      call.args[2]!,
      [
        { type: initial.type, sql: `struct_extract(${acc}, 'hg_s')` },
        { type: elementOf(list.type), sql: `struct_extract(${element}, 'hg_x')` },
      ],
      ctx,
      "reduce",
    );
    const wrapped = `list_transform(${list.sql}, lambda ${element}: {'hg_s': ${nullState}, 'hg_x': ${element}})`;
    const guarded = guardStateSize(`struct_extract(${acc}, 'hg_s')`, initial.type, step.sql);
    const stepSql = `lambda ${acc}, ${element}: {'hg_s': ${guarded}, 'hg_x': struct_extract(${element}, 'hg_x')}`;
    const state = `struct_extract(list_reduce(${wrapped}, ${stepSql}, {'hg_s': ${initial.sql}, 'hg_x': ${nullElement}}), 'hg_s')`;
    const finish = translateLambdaBody(call.args[3]!, [{ type: initial.type, sql: state }], ctx, "reduce");
    return { sql: finish.sql, type: finish.type };
  },
};

/**
 * The largest state (characters of a string, entries of an array) a reduce() may carry from one
 * step to the next. Each step copies the state, and DuckDB runs the whole list_reduce in one call
 * that a query's time limit cannot interrupt: a state growing by 100,000 characters per step over
 * sequence(1, 10000) kept a call unanswered for over a minute under a 2 s limit (found by
 * test/api/query-fuzz.test.ts).
 */
export const MAX_REDUCE_STATE = 100_000;

/** `step`, or DuckDB's error() when the state it starts from is over MAX_REDUCE_STATE. */
function guardStateSize(state: string, type: SqlType, step: string): string {
  // Strings and lists can grow without end; a row state (sum and count, say) has a fixed size, and
  // DuckDB's len() takes no STRUCT.
  const size =
    type === "varchar"
      ? `length(${state})`
      : typeof type === "object" && (type.kind === "array" || type.kind === "timeseries")
        ? `len(${state})`
        : null;
  if (size === null) return step;
  const message = `reduce()'s state grew past ${MAX_REDUCE_STATE.toLocaleString("en-US")} ${type === "varchar" ? "characters" : "entries"} (a fixed limit): reduce to something smaller, such as a sum or a count`;
  return `(CASE WHEN ${size} > ${MAX_REDUCE_STATE} THEN error('${message.replaceAll("'", "''")}') ELSE ${step} END)`;
}

function match(kind: "any" | "all" | "none"): FunctionSpec {
  return {
    kind: "scalar",
    minArgs: 2,
    maxArgs: 2,
    translate(call, ctx) {
      const list = translateExpr(call.args[0]!, ctx);
      const predicate = translateLambda(call.args[1]!, [elementOf(list.type)], ctx, `${kind}_match`);
      const results = `list_transform(${list.sql}, ${predicate.sql})`;
      const sql =
        kind === "any"
          ? `list_bool_or(${results})`
          : kind === "all"
            ? `list_bool_and(${results})`
            : `(NOT list_bool_or(${results}))`;
      return { sql, type: "boolean" };
    },
  };
}

/**
 * sequence(start, stop[, step]) over integers or timestamps (step: a duration such as 15s), capped
 * at `sequenceMaxEntries` entries: refused while translating when the arguments are constants,
 * and otherwise by DuckDB's error() before the list is built.
 */
const sequence: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 3,
  translate(call, ctx) {
    const max = ctx.options.sequenceMaxEntries ?? DEFAULT_SEQUENCE_MAX_ENTRIES;
    const stepArg = call.args[2];
    let start = translateExpr(call.args[0]!, ctx);
    let stop = translateExpr(call.args[1]!, ctx);
    const temporal = ["timestamp", "date"].includes(start.type as string) || stepArg?.kind === "duration";
    if (temporal) {
      start = coerceTo(call.args[0]!, start, "timestamp");
      stop = coerceTo(call.args[1]!, stop, "timestamp");
      if (stepArg === undefined)
        throw syntaxError(call.pos, "sequence over timestamps needs a step such as 15s");
      const step = stepArg.kind === "duration" ? durationStep(stepArg) : translateExpr(stepArg, ctx).sql;
      const count = `((epoch_us(${stop.sql}) - epoch_us(${start.sql})) // CAST(epoch(${step}) * 1000000 AS BIGINT) + 1)`;
      return { sql: cappedSeries(start.sql, stop.sql, step, count, max), type: arrayOf("timestamp") };
    }
    checkConstantCount(call.args, max);
    const step =
      stepArg === undefined
        ? `CASE WHEN ${start.sql} <= ${stop.sql} THEN 1 ELSE -1 END`
        : translateExpr(stepArg, ctx).sql;
    const count = `((CAST(${stop.sql} AS HUGEINT) - ${start.sql}) // ${step} + 1)`;
    return { sql: cappedSeries(start.sql, stop.sql, step, count, max), type: arrayOf("bigint") };
  },
};

/** What to tell a user whose sequence() is too long; the store's configuration names the setting. */
export const sequenceLimitHint =
  "narrow the range or take a larger step, or raise querySequenceMaxEntries (hourglass.yaml, or HOURGLASS_QUERY_SEQUENCE_MAX_ENTRIES)";

/** generate_series, or DuckDB's error() when `count` (a SQL expression) is above `max`. */
function cappedSeries(start: string, stop: string, step: string, count: string, max: number): string {
  const message = `sequence() would produce more than ${max.toLocaleString("en-US")} entries (the query limit querySequenceMaxEntries): ${sequenceLimitHint}`;
  return `CASE WHEN ${count} > ${max} THEN error('${message.replaceAll("'", "''")}') ELSE generate_series(${start}, ${stop}, ${step}) END`;
}

/** An integer literal, possibly signed, as a bigint (else undefined). */
function constantInteger(e: Expr | undefined): bigint | undefined {
  if (e === undefined) return undefined;
  if (e.kind === "number") return /^\d+$/.test(e.text) ? BigInt(e.text) : undefined;
  if (e.kind === "unary" && (e.op === "-" || e.op === "+")) {
    const inner = constantInteger(e.operand);
    return inner === undefined ? undefined : e.op === "-" ? -inner : inner;
  }
  return undefined;
}

/** Refuses sequence(1, 1000000000) at translation, with the call's position. */
function checkConstantCount(args: readonly Expr[], max: number): void {
  const start = constantInteger(args[0]);
  const stop = constantInteger(args[1]);
  if (start === undefined || stop === undefined) return;
  const step = args[2] === undefined ? (start <= stop ? 1n : -1n) : constantInteger(args[2]);
  if (step === undefined || step === 0n) return;
  const count = (stop - start) / step + 1n;
  if (count > BigInt(max)) {
    throw syntaxError(
      args[0]!.pos,
      `sequence(${start}, ${stop}${args[2] === undefined ? "" : `, ${step}`}) would produce ${count.toLocaleString("en-US")} entries, more than the limit of ${max.toLocaleString("en-US")} (querySequenceMaxEntries): ${sequenceLimitHint}`,
    );
  }
}

function durationStep(arg: DurationLiteral): string {
  const ns = arg.amount * durationUnitNs[arg.unit];
  const sql = intervalSql(ns);
  if (sql === undefined || ns <= 0n)
    throw syntaxError(arg.pos, `sequence step ${arg.text} must be a positive whole number of microseconds`);
  return sql;
}

/** slice(array, start, length): Presto counts a negative start from the end. */
const slice = scalarWith(3, 3, ([list, start, length]) => {
  const from = `CASE WHEN ${start!.sql} < 0 THEN len(${list!.sql}) + ${start!.sql} + 1 ELSE ${start!.sql} END`;
  return { sql: `list_slice(${list!.sql}, ${from}, ${from} + ${length!.sql} - 1)`, type: list!.type };
});

const arrayRemove: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 2,
  translate(call, ctx) {
    const [list, value] = translateArgs(call, ctx);
    return {
      sql: `list_filter(${list!.sql}, lambda hg_x: hg_x IS DISTINCT FROM ${value!.sql})`,
      type: list!.type,
    };
  },
};

/**
 * The distinct elements of a list in first-seen order, one NULL kept, as Presto returns them:
 * DuckDB's list_distinct loses the order (array_distinct(ARRAY[1, 2, 2, 3]) would be [3, 2, 1]).
 */
const distinctInOrder = (list: string): string =>
  `list_filter(${list}, lambda hg_x, hg_i: list_position(${list}, hg_x) = hg_i)`;

/** array_except(x, y): the distinct elements of x not in y, in x's order (Presto keeps it). */
const arrayExcept = scalarWith(2, 2, ([x, y]) => ({
  sql: `list_filter(${x!.sql}, lambda hg_x, hg_i: list_position(${x!.sql}, hg_x) = hg_i AND NOT list_contains(${y!.sql}, hg_x))`,
  type: x!.type,
}));

/** array_join(x, delimiter[, null_replacement]): Presto skips NULLs unless told what to write for them. */
const arrayJoin = scalarWith(2, 3, ([list, delimiter, nullReplacement]) => {
  if (nullReplacement === undefined)
    return { sql: `array_to_string(${list!.sql}, ${delimiter!.sql})`, type: "varchar" };
  const replaced = `list_transform(${list!.sql}, lambda hg_x: coalesce(CAST(hg_x AS VARCHAR), ${nullReplacement.sql}))`;
  return { sql: `array_to_string(${replaced}, ${delimiter!.sql})`, type: "varchar" };
});

/**
 * Presto's and Trino's limit on repeat()'s count: an array of a billion copies would hold a query
 * slot for minutes (DuckDB cannot be interrupted while it builds it), as test/api/query-fuzz found.
 */
export const MAX_REPEAT_COUNT = 10_000;

/** repeat(element, count): an array of count copies (DuckDB's repeat is for strings and lists). */
const repeat = scalarWith(2, 2, ([element, count], call) => {
  const message = `repeat()'s count must be from 0 to ${MAX_REPEAT_COUNT.toLocaleString("en-US")} (Presto's limit)`;
  const literal = call.args[1];
  if (literal?.kind === "number" && Number(literal.text) > MAX_REPEAT_COUNT) {
    throw syntaxError(literal.pos, `${message}, not ${literal.text}`);
  }
  return {
    sql: `(CASE WHEN NOT (${count!.sql} BETWEEN 0 AND ${MAX_REPEAT_COUNT}) THEN error(${quoteString(message)}) ELSE list_transform(generate_series(1, ${count!.sql}), lambda hg_i: ${element!.sql}) END)`,
    type: arrayOf(element!.type),
  };
});

/** shuffle(x): the elements in a random order (sorted by a random key). */
const shuffle = scalarWith(1, 1, ([list]) => ({
  sql: `list_transform(list_sort(list_transform(${list!.sql}, lambda hg_x: {'k': random(), 'v': hg_x})), lambda hg_p: hg_p.v)`,
  type: list!.type,
}));

/** zip(a, b, …): rows of the n-th elements, anonymous fields field0, field1, … as ROW(…) has. */
const zip: FunctionSpec = {
  kind: "scalar",
  minArgs: 2,
  maxArgs: 5,
  translate(call, ctx) {
    const lists = translateArgs(call, ctx);
    const fields = lists.map((list, k) => ({ name: `field${k}`, type: elementOf(list.type) }));
    const row = fields.map((f, k) => `'${f.name}': struct_extract(hg_z, ${k + 1})`).join(", ");
    return {
      sql: `list_transform(list_zip(${lists.map((l) => l.sql).join(", ")}), lambda hg_z: {${row}})`,
      type: arrayOf({ kind: "row", fields }),
    };
  },
};

/** zip_with(a, b, (x, y) -> …): the shorter array is padded with NULLs, as in Presto. */
const zipWith: FunctionSpec = {
  kind: "scalar",
  minArgs: 3,
  maxArgs: 3,
  translate(call, ctx) {
    const [a, b] = [translateExpr(call.args[0]!, ctx), translateExpr(call.args[1]!, ctx)];
    const pair = `hg_zw_${call.pos.line}_${call.pos.column}`;
    const body = translateLambdaBody(
      call.args[2]!,
      [
        { type: elementOf(a.type), sql: `struct_extract(${pair}, 1)` },
        { type: elementOf(b.type), sql: `struct_extract(${pair}, 2)` },
      ],
      ctx,
      "zip_with",
    );
    return {
      sql: `list_transform(list_zip(${a.sql}, ${b.sql}), lambda ${pair}: ${body.sql})`,
      type: arrayOf(body.type),
    };
  },
};

export const arrayFunctions: Record<string, FunctionSpec> = {
  cardinality: scalar("len", 1, 1, "bigint"),
  element_at: scalar("list_extract", 2, 2, elementType),
  contains: scalar("list_contains", 2, 2, "boolean"),
  array_join: arrayJoin,
  array_except: arrayExcept,
  repeat,
  shuffle,
  zip,
  zip_with: zipWith,
  array_distinct: scalarWith(1, 1, ([x]) => ({ sql: distinctInOrder(x!.sql), type: x!.type })),
  array_max: scalar("list_max", 1, 1, elementType),
  array_min: scalar("list_min", 1, 1, elementType),
  array_sort: scalar("list_sort", 1, 1, sameList),
  array_position: scalar("list_position", 2, 2, "integer"),
  array_intersect: scalarWith(2, 2, ([a, b]) => ({
    sql: `list_filter(${distinctInOrder(a!.sql)}, lambda hg_y: list_contains(${b!.sql}, hg_y))`,
    type: a!.type,
  })),
  array_union: scalarWith(2, 2, ([a, b]) => ({
    sql: distinctInOrder(`list_concat(${a!.sql}, ${b!.sql})`),
    type: a!.type,
  })),
  arrays_overlap: scalar("list_has_any", 2, 2, "boolean"),
  array_remove: arrayRemove,
  flatten: scalar("flatten", 1, 1, elementType),
  slice,
  sequence,
  filter,
  transform,
  reduce,
  any_match: match("any"),
  all_match: match("all"),
  none_match: match("none"),
};

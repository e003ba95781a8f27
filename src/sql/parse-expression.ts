/**
 * Expressions, by precedence from loosest to tightest:
 * OR, AND, NOT, predicates (comparison, BETWEEN, IN, LIKE, IS), ||, + -, * / %, unary - +,
 * postfix ([i], .field), primaries.
 */
import type {
  BinaryOp,
  CallExpr,
  Expr,
  FrameBound,
  IntervalUnit,
  OrderItem,
  TypeName,
  WindowFrame,
  WindowSpec,
} from "./ast.js";
import { parseQuery } from "./parse-query.js";
import { positionOf as at, syntaxError } from "./syntax-error.js";
import type { TokenStream } from "./token-stream.js";

const comparisonOps: ReadonlyMap<string, BinaryOp> = new Map([
  ["=", "="],
  ["<>", "<>"],
  ["!=", "<>"],
  ["<", "<"],
  ["<=", "<="],
  [">", ">"],
  [">=", ">="],
]);

/** measure_value::<type> is the only `::` Timestream has; these are its types. */
const measureValueTypes: ReadonlySet<string> = new Set([
  "double",
  "bigint",
  "varchar",
  "boolean",
  "timestamp",
]);

/** Words that start a typed literal when a string follows: TIMESTAMP '…', DOUBLE '0.0'. */
const typedLiteralTypes: ReadonlySet<string> = new Set([
  "TIMESTAMP",
  "DATE",
  "TIME",
  "DOUBLE",
  "REAL",
  "BIGINT",
  "INTEGER",
  "INT",
  "SMALLINT",
  "TINYINT",
  "VARCHAR",
  "BOOLEAN",
  "DECIMAL",
]);

const intervalUnits: ReadonlyMap<string, IntervalUnit> = new Map([
  ["YEAR", "YEAR"],
  ["YEARS", "YEAR"],
  ["MONTH", "MONTH"],
  ["MONTHS", "MONTH"],
  ["DAY", "DAY"],
  ["DAYS", "DAY"],
  ["HOUR", "HOUR"],
  ["HOURS", "HOUR"],
  ["MINUTE", "MINUTE"],
  ["MINUTES", "MINUTE"],
  ["SECOND", "SECOND"],
  ["SECONDS", "SECOND"],
]);

export function parseExpression(ts: TokenStream): Expr {
  return ts.nested(() => parseOr(ts));
}

function parseOr(ts: TokenStream): Expr {
  let left = parseAnd(ts);
  while (ts.isWord("OR")) {
    const pos = ts.next();
    left = { kind: "binary", op: "OR", left, right: operand(ts, parseAnd), pos: at(pos) };
  }
  return left;
}

function parseAnd(ts: TokenStream): Expr {
  let left = parseNot(ts);
  while (ts.isWord("AND")) {
    const pos = ts.next();
    left = { kind: "binary", op: "AND", left, right: operand(ts, parseNot), pos: at(pos) };
  }
  return left;
}

function parseNot(ts: TokenStream): Expr {
  if (ts.isWord("NOT")) {
    const pos = ts.next();
    return {
      kind: "unary",
      op: "NOT",
      operand: operand(ts, (t) => t.nested(() => parseNot(t))),
      pos: at(pos),
    };
  }
  return parsePredicate(ts);
}

/** Parses what follows an operator, with a clear message when nothing does. */
function operand(ts: TokenStream, parse: (ts: TokenStream) => Expr): Expr {
  if (!startsExpression(ts)) throw ts.unexpected("an expression");
  return parse(ts);
}

/** Whether the current token can begin an expression (to report "expected an expression"). */
export function startsExpression(ts: TokenStream): boolean {
  const token = ts.peek();
  switch (token.kind) {
    case "eof":
      return false;
    case "operator":
      return ["(", "-", "+"].includes(token.value);
    case "word":
      return (
        ts.isIdentifier() || ["CASE", "CAST", "EXISTS", "NOT", "NULL", "TRUE", "FALSE"].includes(token.upper)
      );
    default:
      return true;
  }
}

function parsePredicate(ts: TokenStream): Expr {
  let left = parseValue(ts);
  for (;;) {
    const token = ts.peek();
    const comparison = token.kind === "operator" ? comparisonOps.get(token.value) : undefined;
    if (comparison !== undefined) {
      ts.next();
      left = { kind: "binary", op: comparison, left, right: operand(ts, parseValue), pos: at(token) };
      continue;
    }
    if (ts.isWord("IS")) {
      ts.next();
      const not = ts.acceptWord("NOT");
      if (ts.acceptWord("NULL")) {
        left = { kind: "isNull", not, value: left, pos: at(token) };
        continue;
      }
      if (ts.acceptWord("DISTINCT")) {
        ts.expectWord("FROM");
        left = { kind: "isDistinct", not, left, right: operand(ts, parseValue), pos: at(token) };
        continue;
      }
      throw ts.unexpected("NULL or DISTINCT FROM");
    }
    const negated = ts.isWord("NOT") && ["BETWEEN", "IN", "LIKE"].includes(ts.peek(1).upper);
    if (negated) ts.next();
    if (ts.acceptWord("BETWEEN")) {
      const low = operand(ts, parseValue);
      ts.expectWord("AND");
      const high = operand(ts, parseValue);
      left = { kind: "between", not: negated, value: left, low, high, pos: at(token) };
      continue;
    }
    if (ts.acceptWord("IN")) {
      ts.expectOperator("(");
      if (ts.isWord("SELECT") || ts.isWord("WITH")) {
        const query = parseQuery(ts);
        ts.expectOperator(")");
        left = { kind: "in", not: negated, value: left, query, pos: at(token) };
        continue;
      }
      const list = parseExpressionList(ts);
      ts.expectOperator(")");
      left = { kind: "in", not: negated, value: left, list, pos: at(token) };
      continue;
    }
    if (ts.acceptWord("LIKE")) {
      const pattern = operand(ts, parseValue);
      const escapeChar = ts.acceptWord("ESCAPE") ? operand(ts, parseValue) : undefined;
      left = { kind: "like", not: negated, value: left, pattern, escape: escapeChar, pos: at(token) };
      continue;
    }
    return left;
  }
}

/** A comma-separated list of one or more expressions. */
export function parseExpressionList(ts: TokenStream): Expr[] {
  const items = [operand(ts, parseExpression)];
  while (ts.acceptOperator(",")) items.push(operand(ts, parseExpression));
  return items;
}

function parseValue(ts: TokenStream): Expr {
  return parseBinaryLevel(ts, 0);
}

/** Arithmetic levels, loosest first. */
const arithmeticLevels: readonly (readonly string[])[] = [["||"], ["+", "-"], ["*", "/", "%"]];

function parseBinaryLevel(ts: TokenStream, level: number): Expr {
  if (level === arithmeticLevels.length) return parseUnary(ts);
  let left = parseBinaryLevel(ts, level + 1);
  for (;;) {
    const token = ts.peek();
    if (token.kind !== "operator" || !arithmeticLevels[level]!.includes(token.value)) return left;
    ts.next();
    if (!startsExpression(ts)) throw ts.unexpected("an expression");
    const right = parseBinaryLevel(ts, level + 1);
    left = { kind: "binary", op: token.value as BinaryOp, left, right, pos: at(token) };
  }
}

function parseUnary(ts: TokenStream): Expr {
  const token = ts.peek();
  if (token.kind === "operator" && (token.value === "-" || token.value === "+")) {
    ts.next();
    if (!startsExpression(ts)) throw ts.unexpected("an expression");
    return { kind: "unary", op: token.value, operand: ts.nested(() => parseUnary(ts)), pos: at(token) };
  }
  return parsePostfix(ts);
}

function parsePostfix(ts: TokenStream): Expr {
  let value = parsePrimary(ts);
  for (;;) {
    if (ts.isOperator("[")) {
      const token = ts.next();
      const index = operand(ts, parseExpression);
      ts.expectOperator("]");
      value = { kind: "subscript", value, index, pos: at(token) };
      continue;
    }
    if (ts.isOperator(".")) {
      const token = ts.next();
      const field = ts.identifier("a field name");
      value = { kind: "field", value, field, pos: at(token) };
      continue;
    }
    if (ts.isOperator("::")) throw castOperatorError(ts);
    return value;
  }
}

function castOperatorError(ts: TokenStream): Error {
  return syntaxError(
    ts.peek(),
    "the '::' cast is only allowed as measure_value::<type> (double, bigint, varchar, boolean, timestamp); use CAST(x AS type) for other casts",
  );
}

function parsePrimary(ts: TokenStream): Expr {
  const token = ts.peek();
  switch (token.kind) {
    case "number":
      ts.next();
      return { kind: "number", text: token.value, pos: at(token) };
    case "string":
      ts.next();
      return { kind: "string", value: token.value, pos: at(token) };
    case "duration":
      ts.next();
      return {
        kind: "duration",
        amount: BigInt(token.value),
        unit: token.unit!,
        text: token.text,
        pos: at(token),
      };
    case "quoted":
      return parseNameOrCall(ts);
    case "operator":
      if (token.value === "(") return parseParenthesised(ts);
      throw ts.unexpected("an expression");
    case "word":
      return parseWord(ts);
    default:
      throw ts.unexpected("an expression");
  }
}

function parseWord(ts: TokenStream): Expr {
  const token = ts.peek();
  const pos = at(token);
  switch (token.upper) {
    case "NULL":
      ts.next();
      return { kind: "null", pos };
    case "TRUE":
    case "FALSE":
      ts.next();
      return { kind: "boolean", value: token.upper === "TRUE", pos };
    case "CASE":
      return parseCase(ts);
    case "CAST":
    case "TRY_CAST": {
      ts.next();
      ts.expectOperator("(");
      const value = operand(ts, parseExpression);
      ts.expectWord("AS");
      const type = parseTypeName(ts);
      ts.expectOperator(")");
      return { kind: "cast", safe: token.upper === "TRY_CAST", value, type, pos };
    }
    case "EXISTS": {
      ts.next();
      ts.expectOperator("(");
      const query = parseQuery(ts);
      ts.expectOperator(")");
      return { kind: "exists", query, pos };
    }
    case "CURRENT_TIMESTAMP":
    case "CURRENT_DATE":
    case "CURRENT_TIME":
    case "LOCALTIMESTAMP":
      if (!ts.isOperator("(", 1)) {
        ts.next();
        return { kind: "current", which: token.upper, pos };
      }
      break;
    case "LOCALTIME":
      // In UTC (Timestream's only time zone) local time is current time.
      if (!ts.isOperator("(", 1)) {
        ts.next();
        return { kind: "current", which: "CURRENT_TIME", pos };
      }
      break;
    case "POSITION":
      // position(sub IN text) is strpos(text, sub); a plain value is parsed so that IN is not a predicate.
      if (ts.isOperator("(", 1)) {
        ts.next();
        ts.next();
        const sub = operand(ts, parseValue);
        ts.expectWord("IN");
        const text = operand(ts, parseValue);
        ts.expectOperator(")");
        return {
          kind: "call",
          name: "strpos",
          args: [text, sub],
          distinct: false,
          star: false,
          orderBy: [],
          pos,
        };
      }
      break;
    case "ARRAY":
      if (ts.isOperator("[", 1)) {
        ts.next();
        ts.next();
        const items = ts.isOperator("]") ? [] : parseExpressionList(ts);
        ts.expectOperator("]");
        return { kind: "array", items, pos };
      }
      break;
    case "ROW":
      if (ts.isOperator("(", 1)) {
        ts.next();
        ts.next();
        const items = parseExpressionList(ts);
        ts.expectOperator(")");
        return { kind: "row", items, pos };
      }
      break;
    case "INTERVAL":
      if (ts.peek(1).kind === "string" || ts.isOperator("-", 1) || ts.isOperator("+", 1))
        return parseInterval(ts);
      break;
    case "EXTRACT":
      if (ts.isOperator("(", 1)) {
        ts.next();
        ts.next();
        const field = ts.identifier("a date/time field such as YEAR or HOUR");
        ts.expectWord("FROM");
        const value = operand(ts, parseExpression);
        ts.expectOperator(")");
        return { kind: "extract", field: field.toUpperCase(), value, pos };
      }
      break;
  }
  if (typedLiteralTypes.has(token.upper) && ts.peek(1).kind === "string") {
    ts.next();
    const literal = ts.next();
    return { kind: "typed", type: { name: token.upper, params: [], pos }, value: literal.value, pos };
  }
  if (ts.isOperator("->", 1) && ts.isIdentifier()) {
    const param = ts.next().value;
    ts.next();
    return { kind: "lambda", params: [param], body: operand(ts, parseExpression), pos };
  }
  return parseNameOrCall(ts);
}

function parseInterval(ts: TokenStream): Expr {
  const pos = at(ts.next());
  let negative = false;
  if (ts.acceptOperator("-")) negative = true;
  else ts.acceptOperator("+");
  const value = ts.peek();
  if (value.kind !== "string") throw ts.unexpected("a quoted interval value such as '2'");
  ts.next();
  const unitToken = ts.peek();
  const unit = unitToken.kind === "word" ? intervalUnits.get(unitToken.upper) : undefined;
  if (unit === undefined) throw ts.unexpected("an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE or SECOND)");
  ts.next();
  if (ts.isWord("TO")) throw syntaxError(ts.peek(), "interval ranges (… TO …) are not supported");
  return { kind: "interval", value: value.value, unit, negative, pos };
}

function parseCase(ts: TokenStream): Expr {
  const pos = at(ts.next());
  if (!ts.isWord("WHEN") && !startsExpression(ts)) throw ts.unexpected("WHEN");
  const operandExpr = ts.isWord("WHEN") ? undefined : parseExpression(ts);
  const whens: { condition: Expr; result: Expr }[] = [];
  while (ts.acceptWord("WHEN")) {
    const condition = operand(ts, parseExpression);
    ts.expectWord("THEN");
    const result = operand(ts, parseExpression);
    whens.push({ condition, result });
  }
  if (whens.length === 0) throw ts.unexpected("WHEN");
  const otherwise = ts.acceptWord("ELSE") ? operand(ts, parseExpression) : undefined;
  ts.expectWord("END");
  return { kind: "case", operand: operandExpr, whens, otherwise, pos };
}

/** `(expr)`, `(subquery)` or a lambda with several parameters `(a, b) -> …`. */
function parseParenthesised(ts: TokenStream): Expr {
  const open = ts.peek();
  const params = lambdaParameters(ts);
  if (params !== undefined) {
    for (let k = 0; k < params.length * 2 + 1; k++) ts.next();
    ts.expectOperator("->");
    return { kind: "lambda", params, body: operand(ts, parseExpression), pos: at(open) };
  }
  ts.next();
  if (ts.isWord("SELECT") || ts.isWord("WITH")) {
    const query = parseQuery(ts);
    ts.expectOperator(")");
    return { kind: "subquery", query, pos: at(open) };
  }
  const inner = operand(ts, parseExpression);
  if (ts.isOperator(","))
    throw syntaxError(ts.peek(), "row constructors such as (a, b) are not supported: write ROW(a, b)");
  ts.expectOperator(")");
  return inner;
}

/** If the tokens at the cursor are `( a, b ) ->`, returns the parameter names. */
function lambdaParameters(ts: TokenStream): string[] | undefined {
  const params: string[] = [];
  let k = 1;
  for (;;) {
    if (!ts.isIdentifier(k)) return undefined;
    params.push(ts.peek(k).value);
    if (ts.isOperator(",", k + 1)) {
      k += 2;
      continue;
    }
    if (ts.isOperator(")", k + 1) && ts.isOperator("->", k + 2)) return params;
    return undefined;
  }
}

/** A name chain `a.b.c`, `measure_value::double`, or a function call `f(…)`. */
function parseNameOrCall(ts: TokenStream): Expr {
  const first = ts.peek();
  const pos = at(first);
  const name = ts.identifier("an expression");
  if (ts.isOperator("(") && first.kind === "word") return parseCall(ts, name, pos);
  const parts = [name];
  while (ts.isOperator(".") && ts.isIdentifier(1)) {
    ts.next();
    parts.push(ts.next().value);
  }
  if (ts.isOperator("::")) {
    const last = parts[parts.length - 1]!;
    if (last.toLowerCase() !== "measure_value" || parts.length > 2) throw castOperatorError(ts);
    ts.next();
    const typeToken = ts.peek();
    const type = typeToken.kind === "word" ? typeToken.value.toLowerCase() : "";
    if (!measureValueTypes.has(type)) {
      throw ts.unexpected("a measure value type (double, bigint, varchar, boolean or timestamp)");
    }
    ts.next();
    return { kind: "measureValue", qualifier: parts.length === 2 ? parts[0] : undefined, type, pos };
  }
  return { kind: "column", parts, pos };
}

function parseCall(ts: TokenStream, name: string, pos: CallExpr["pos"]): Expr {
  ts.expectOperator("(");
  const call: CallExpr = { kind: "call", name, args: [], distinct: false, star: false, orderBy: [], pos };
  if (ts.isOperator("*") && ts.isOperator(")", 1)) {
    ts.next();
    call.star = true;
  } else if (!ts.isOperator(")")) {
    if (ts.acceptWord("DISTINCT")) call.distinct = true;
    else ts.acceptWord("ALL");
    call.args = parseExpressionList(ts);
    if (ts.isWord("ORDER")) {
      ts.next();
      ts.expectWord("BY");
      call.orderBy = parseOrderItems(ts);
    }
  }
  ts.expectOperator(")");
  if (ts.isWord("FILTER") && ts.isOperator("(", 1)) {
    ts.next();
    ts.next();
    ts.expectWord("WHERE");
    call.filter = operand(ts, parseExpression);
    ts.expectOperator(")");
  }
  if (ts.isWord("OVER")) {
    ts.next();
    call.over = parseWindow(ts);
  }
  return call;
}

function parseWindow(ts: TokenStream): WindowSpec {
  ts.expectOperator("(");
  const spec: WindowSpec = { partitionBy: [], orderBy: [] };
  if (ts.isWord("PARTITION")) {
    ts.next();
    ts.expectWord("BY");
    spec.partitionBy = parseExpressionList(ts);
  }
  if (ts.isWord("ORDER")) {
    ts.next();
    ts.expectWord("BY");
    spec.orderBy = parseOrderItems(ts);
  }
  const units = ts.peek().upper;
  if (units === "ROWS" || units === "RANGE" || units === "GROUPS") {
    ts.next();
    spec.frame = parseFrame(ts, units);
  }
  ts.expectOperator(")");
  return spec;
}

function parseFrame(ts: TokenStream, units: WindowFrame["units"]): WindowFrame {
  if (ts.acceptWord("BETWEEN")) {
    const start = parseFrameBound(ts);
    ts.expectWord("AND");
    return { units, start, end: parseFrameBound(ts) };
  }
  return { units, start: parseFrameBound(ts) };
}

function parseFrameBound(ts: TokenStream): FrameBound {
  if (ts.acceptWord("UNBOUNDED")) {
    if (ts.acceptWord("PRECEDING")) return { kind: "UNBOUNDED PRECEDING" };
    ts.expectWord("FOLLOWING");
    return { kind: "UNBOUNDED FOLLOWING" };
  }
  if (ts.isWord("CURRENT") && ts.isWord("ROW", 1)) {
    ts.next();
    ts.next();
    return { kind: "CURRENT ROW" };
  }
  if (!startsExpression(ts)) throw ts.unexpected("UNBOUNDED, CURRENT ROW or an offset");
  const offset = parseValue(ts);
  if (ts.acceptWord("PRECEDING")) return { kind: "PRECEDING", offset };
  ts.expectWord("FOLLOWING");
  return { kind: "FOLLOWING", offset };
}

export function parseOrderItems(ts: TokenStream): OrderItem[] {
  const items: OrderItem[] = [];
  do {
    const expr = operand(ts, parseExpression);
    let descending = false;
    if (ts.acceptWord("DESC")) descending = true;
    else ts.acceptWord("ASC");
    let nulls: OrderItem["nulls"];
    if (ts.acceptWord("NULLS")) {
      if (ts.acceptWord("FIRST")) nulls = "FIRST";
      else {
        ts.expectWord("LAST");
        nulls = "LAST";
      }
    }
    items.push({ expr, descending, nulls });
  } while (ts.acceptOperator(","));
  return items;
}

export function parseTypeName(ts: TokenStream): TypeName {
  const token = ts.peek();
  if (token.kind !== "word") throw ts.unexpected("a type name");
  ts.next();
  const type: TypeName = { name: token.upper, params: [], pos: at(token) };
  if (type.name === "ARRAY") {
    let close = ">";
    if (!ts.acceptOperator("<")) {
      ts.expectOperator("(");
      close = ")";
    }
    type.element = parseTypeName(ts);
    ts.expectOperator(close);
    return type;
  }
  if (type.name === "ROW") {
    ts.expectOperator("(");
    type.fields = [];
    do type.fields.push(parseRowField(ts));
    while (ts.acceptOperator(","));
    ts.expectOperator(")");
    return type;
  }
  if (type.name === "DOUBLE") ts.acceptWord("PRECISION");
  if (ts.acceptOperator("(")) {
    do {
      const size = ts.peek();
      if (size.kind !== "number") throw ts.unexpected("a number");
      ts.next();
      type.params.push(Number(size.value));
    } while (ts.acceptOperator(","));
    ts.expectOperator(")");
  }
  return type;
}

/** One field of ROW(…): `name TYPE`, or just `TYPE` (a name is followed by its type, a type by ',' or ')'). */
function parseRowField(ts: TokenStream): { name?: string; type: TypeName } {
  const next = ts.peek(1);
  const isTypeAlone =
    next.kind === "eof" ||
    (next.kind === "operator" && [",", ")", "(", "<"].includes(next.value)) ||
    (ts.peek().upper === "DOUBLE" && next.upper === "PRECISION");
  if (isTypeAlone || !ts.isIdentifier()) return { type: parseTypeName(ts) };
  const name = ts.identifier("a field name");
  return { name, type: parseTypeName(ts) };
}

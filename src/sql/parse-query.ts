/**
 * Queries: WITH, SELECT, FROM with joins and UNNEST, WHERE, GROUP BY, HAVING, set operations,
 * ORDER BY, OFFSET, LIMIT.
 */
import type {
  Alias,
  CommonTableExpr,
  FromItem,
  JoinRef,
  Query,
  QueryBody,
  Select,
  SelectItem,
  TableRef,
} from "./ast.js";
import {
  parseExpression,
  parseExpressionList,
  parseOrderItems,
  startsExpression,
} from "./parse-expression.js";
import { positionOf as at, syntaxError } from "./syntax-error.js";
import type { TokenStream } from "./token-stream.js";

export function parseQuery(ts: TokenStream): Query {
  return ts.nested(() => parseQueryAt(ts));
}

function parseQueryAt(ts: TokenStream): Query {
  const start = ts.peek();
  const ctes: CommonTableExpr[] = [];
  if (ts.acceptWord("WITH")) {
    if (ts.isWord("RECURSIVE")) throw syntaxError(ts.peek(), "WITH RECURSIVE is not supported");
    do ctes.push(parseCommonTableExpr(ts));
    while (ts.acceptOperator(","));
  }
  const body = parseUnionLevel(ts);
  const query: Query = { with: ctes, body, orderBy: [], pos: at(start) };
  if (ts.isWord("ORDER")) {
    ts.next();
    ts.expectWord("BY");
    query.orderBy = parseOrderItems(ts);
  }
  // Presto writes OFFSET before LIMIT; accept either order, each at most once.
  for (let k = 0; k < 2; k++) {
    if (query.offset === undefined && ts.acceptWord("OFFSET")) {
      query.offset = parseCount(ts);
      if (!ts.acceptWord("ROWS")) ts.acceptWord("ROW");
    } else if (query.limit === undefined && ts.acceptWord("LIMIT")) {
      query.limit = parseCount(ts);
    }
  }
  return query;
}

function parseCount(ts: TokenStream): Query["limit"] {
  const token = ts.peek();
  if (token.kind !== "number" || ![...token.value].every((c) => c >= "0" && c <= "9")) {
    throw ts.unexpected("a whole number");
  }
  ts.next();
  return { kind: "number", text: token.value, pos: at(token) };
}

function parseCommonTableExpr(ts: TokenStream): CommonTableExpr {
  const start = ts.peek();
  const name = ts.identifier("a name for the WITH query");
  const columns = ts.isOperator("(") ? parseColumnAliases(ts) : undefined;
  ts.expectWord("AS");
  ts.expectOperator("(");
  const query = parseQuery(ts);
  ts.expectOperator(")");
  return { name, columns, query, pos: at(start) };
}

/** UNION and EXCEPT bind looser than INTERSECT, as in standard SQL. */
function parseUnionLevel(ts: TokenStream): QueryBody {
  let left = parseIntersectLevel(ts);
  while (ts.isWord("UNION") || ts.isWord("EXCEPT")) {
    const token = ts.next();
    const all = parseSetQuantifier(ts);
    const right = parseIntersectLevel(ts);
    left = { kind: "setop", op: token.upper as "UNION" | "EXCEPT", all, left, right, pos: at(token) };
  }
  return left;
}

function parseIntersectLevel(ts: TokenStream): QueryBody {
  let left = parseQueryPrimary(ts);
  while (ts.isWord("INTERSECT")) {
    const token = ts.next();
    const all = parseSetQuantifier(ts);
    const right = parseQueryPrimary(ts);
    left = { kind: "setop", op: "INTERSECT", all, left, right, pos: at(token) };
  }
  return left;
}

function parseSetQuantifier(ts: TokenStream): boolean {
  if (ts.acceptWord("ALL")) return true;
  ts.acceptWord("DISTINCT");
  return false;
}

function parseQueryPrimary(ts: TokenStream): QueryBody {
  const token = ts.peek();
  if (ts.isWord("SELECT")) return parseSelect(ts);
  if (ts.isWord("VALUES")) {
    ts.next();
    const rows = [];
    do {
      // `VALUES (1, 'a')` is a row of two values; `VALUES 1, 2` two rows of one.
      if (ts.acceptOperator("(")) {
        rows.push(parseExpressionList(ts));
        ts.expectOperator(")");
      } else {
        rows.push([expression(ts)]);
      }
    } while (ts.acceptOperator(","));
    return { kind: "values", rows, pos: at(token) };
  }
  if (ts.isOperator("(")) {
    ts.next();
    const query = parseQuery(ts);
    ts.expectOperator(")");
    return { kind: "nested", query, pos: at(token) };
  }
  throw ts.unexpected("SELECT");
}

function parseSelect(ts: TokenStream): Select {
  const start = ts.expectWord("SELECT");
  let distinct = false;
  if (ts.acceptWord("DISTINCT")) distinct = true;
  else ts.acceptWord("ALL");
  const items: SelectItem[] = [];
  do items.push(parseSelectItem(ts));
  while (ts.acceptOperator(","));
  const select: Select = { kind: "select", distinct, items, from: [], groupBy: [], pos: at(start) };
  if (ts.acceptWord("FROM")) {
    do select.from.push(parseJoinTree(ts));
    while (ts.acceptOperator(","));
  }
  if (ts.acceptWord("WHERE")) select.where = expression(ts);
  if (ts.isWord("GROUP")) {
    ts.next();
    ts.expectWord("BY");
    if (["ROLLUP", "CUBE", "GROUPING"].includes(ts.peek().upper) && ts.isOperator("(", 1)) {
      throw syntaxError(ts.peek(), `GROUP BY ${ts.peek().upper} is not supported`);
    }
    select.groupBy = parseExpressionList(ts);
  }
  if (ts.acceptWord("HAVING")) select.having = expression(ts);
  return select;
}

function expression(ts: TokenStream) {
  if (!startsExpression(ts)) throw ts.unexpected("an expression");
  return parseExpression(ts);
}

function parseSelectItem(ts: TokenStream): SelectItem {
  const token = ts.peek();
  if (ts.acceptOperator("*")) return { kind: "star", pos: at(token) };
  if (ts.isIdentifier() && ts.isOperator(".", 1) && ts.isOperator("*", 2)) {
    const qualifier = ts.next().value;
    ts.next();
    ts.next();
    return { kind: "star", qualifier, pos: at(token) };
  }
  const expr = expression(ts);
  let alias: string | undefined;
  if (ts.acceptWord("AS")) alias = ts.identifier("a column alias");
  else if (ts.isIdentifier()) alias = ts.next().value;
  return { kind: "expr", expr, alias, pos: at(token) };
}

function parseJoinTree(ts: TokenStream): FromItem {
  let left = parseFromPrimary(ts);
  for (;;) {
    const token = ts.peek();
    const type = joinType(ts);
    if (type === undefined) return left;
    const right = parseFromPrimary(ts);
    const join: JoinRef = { kind: "join", type, left, right, pos: at(token) };
    if (type !== "CROSS") {
      if (ts.acceptWord("ON")) join.on = expression(ts);
      else if (ts.acceptWord("USING")) join.using = parseColumnAliases(ts);
      else throw ts.unexpected("ON or USING");
    }
    left = join;
  }
}

/** Consumes a join keyword sequence and returns its type, or undefined if none is here. */
function joinType(ts: TokenStream): JoinRef["type"] | undefined {
  const word = ts.peek().upper;
  if (ts.peek().kind !== "word") return undefined;
  if (word === "NATURAL") throw syntaxError(ts.peek(), "NATURAL JOIN is not supported: use ON or USING");
  if (word === "JOIN") {
    ts.next();
    return "INNER";
  }
  if (word === "CROSS" || word === "INNER") {
    ts.next();
    ts.expectWord("JOIN");
    return word;
  }
  if (word === "LEFT" || word === "RIGHT" || word === "FULL") {
    ts.next();
    ts.acceptWord("OUTER");
    ts.expectWord("JOIN");
    return word;
  }
  return undefined;
}

function parseFromPrimary(ts: TokenStream): FromItem {
  const token = ts.peek();
  const pos = at(token);
  if (ts.isWord("UNNEST")) {
    ts.next();
    ts.expectOperator("(");
    const args = parseExpressionList(ts);
    ts.expectOperator(")");
    let withOrdinality = false;
    if (ts.isWord("WITH") && ts.isWord("ORDINALITY", 1)) {
      ts.next();
      ts.next();
      withOrdinality = true;
    }
    return { kind: "unnest", args, withOrdinality, alias: parseAlias(ts), pos };
  }
  if (ts.isWord("LATERAL") && ts.isOperator("(", 1)) {
    ts.next();
    return parseFromPrimary(ts);
  }
  if (ts.isOperator("(")) {
    ts.next();
    if (ts.isWord("SELECT") || ts.isWord("WITH") || ts.isWord("VALUES") || ts.isOperator("(")) {
      const query = parseQuery(ts);
      ts.expectOperator(")");
      return { kind: "subquery", query, alias: parseAlias(ts), pos };
    }
    const inner = parseJoinTree(ts);
    ts.expectOperator(")");
    return inner;
  }
  if (!ts.isIdentifier()) throw ts.unexpected("a table name");
  if (ts.peek().kind === "word" && ts.isOperator("(", 1)) {
    throw syntaxError(
      token,
      `table function ${token.value} is not allowed: the query API is read-only and reads only Timestream tables (UNNEST is the one table function)`,
    );
  }
  const parts = [ts.next().value];
  while (ts.acceptOperator(".")) parts.push(ts.identifier("a table name"));
  if (parts.length > 2) {
    throw syntaxError(token, `table name ${parts.join(".")} has too many parts: write "database"."table"`);
  }
  if (ts.isOperator("(")) {
    throw syntaxError(token, `table function ${parts.join(".")} is not allowed: the query API is read-only`);
  }
  const table: TableRef =
    parts.length === 2
      ? { kind: "table", database: parts[0], table: parts[1]!, pos }
      : { kind: "table", table: parts[0]!, pos };
  table.alias = parseAlias(ts);
  return table;
}

function parseAlias(ts: TokenStream): Alias | undefined {
  let name: string;
  if (ts.acceptWord("AS")) name = ts.identifier("an alias");
  else if (ts.isIdentifier() && !isClauseWord(ts)) name = ts.next().value;
  else return undefined;
  return { name, columns: ts.isOperator("(") ? parseColumnAliases(ts) : undefined };
}

/** Non-reserved words that still end a FROM item instead of naming it. */
function isClauseWord(ts: TokenStream): boolean {
  return ["LATERAL", "WINDOW", "FETCH"].includes(ts.peek().upper);
}

function parseColumnAliases(ts: TokenStream): string[] {
  ts.expectOperator("(");
  const names = [ts.identifier("a column name")];
  while (ts.acceptOperator(",")) names.push(ts.identifier("a column name"));
  ts.expectOperator(")");
  return names;
}

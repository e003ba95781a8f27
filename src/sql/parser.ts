/**
 * Parses one Timestream statement: a query (SELECT / WITH / VALUES), SHOW DATABASES, SHOW TABLES,
 * SHOW MEASURES, DESCRIBE or UNLOAD. Statements that would write or change anything are refused by name,
 * and so is a second statement after ';'.
 */
import type { Statement } from "./ast.js";
import { tokenize } from "./lexer.js";
import { parseQuery } from "./parse-query.js";
import { positionOf, syntaxError } from "./syntax-error.js";
import { describeToken, MAX_NESTING_DEPTH, TokenStream } from "./token-stream.js";
import { parseUnload, refuseNestedUnload } from "./unload.js";

/**
 * How deep the tree of one statement may be. Chains such as `a + b + c …` or `x = 1 OR x = 2 …`
 * are parsed in a loop but make a tree one level deeper per operator, and the translator walks
 * trees recursively: about 2,100 levels exhausted its stack. Real queries stay far below this.
 */
export const MAX_TREE_DEPTH = 1000;

/** Statement keywords that write, change state or reach outside the query (DuckDB's and SQL's). */
const refusedStatements: ReadonlySet<string> = new Set([
  "INSERT",
  "UPDATE",
  "DELETE",
  "MERGE",
  "UPSERT",
  "REPLACE",
  "CREATE",
  "DROP",
  "ALTER",
  "TRUNCATE",
  "COPY",
  "ATTACH",
  "DETACH",
  "PRAGMA",
  "SET",
  "RESET",
  "INSTALL",
  "LOAD",
  "EXPORT",
  "IMPORT",
  "CALL",
  "CHECKPOINT",
  "FORCE",
  "VACUUM",
  "ANALYZE",
  "USE",
  "BEGIN",
  "START",
  "COMMIT",
  "END",
  "ROLLBACK",
  "ABORT",
  "GRANT",
  "REVOKE",
  "PREPARE",
  "EXECUTE",
  "DEALLOCATE",
  "SUMMARIZE",
  "COMMENT",
]);

export function parse(sql: string): Statement {
  const tokens = tokenize(sql);
  refuseNestedUnload(tokens);
  const ts = new TokenStream(tokens);
  const first = ts.peek();
  if (first.kind === "eof") throw syntaxError(first, "the query is empty");
  const statement = parseStatement(ts);
  if (ts.acceptOperator(";") && ts.peek().kind !== "eof") {
    throw syntaxError(
      ts.peek(),
      `only one statement is allowed per query, but found ${describeToken(ts.peek())} after ';'`,
    );
  }
  if (ts.peek().kind !== "eof") throw ts.unexpected("the end of the query");
  checkTreeDepth(statement);
  return statement;
}

/** Refuses a statement whose tree is deeper than MAX_TREE_DEPTH (walked without recursion). */
function checkTreeDepth(statement: Statement): void {
  const pending: [unknown, number][] = [[statement, 0]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (Array.isArray(value)) {
      for (const item of value) pending.push([item, depth]);
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    const node = value as Record<string, unknown>;
    const level = typeof node["kind"] === "string" ? depth + 1 : depth;
    if (level > MAX_TREE_DEPTH) {
      const at = node["pos"] as { line: number; column: number } | undefined;
      throw syntaxError(
        at ?? { line: 1, column: 1 },
        `the query's expression tree is more than ${MAX_TREE_DEPTH} levels deep (a fixed limit; long chains such as a OR b OR c … count one level per operator, and parentheses, calls and subqueries may nest at most ${MAX_NESTING_DEPTH} deep): use IN (…) for long lists of alternatives, or split the query`,
      );
    }
    for (const [key, child] of Object.entries(node)) {
      if (key !== "pos" && child !== null && typeof child === "object") pending.push([child, level]);
    }
  }
}

function parseStatement(ts: TokenStream): Statement {
  const first = ts.peek();
  const pos = positionOf(first);
  if (first.kind === "word") {
    if (refusedStatements.has(first.upper)) {
      throw syntaxError(first, `${first.upper} is not allowed: the query API is read-only`);
    }
    if (first.upper === "SHOW") return parseShow(ts);
    if (first.upper === "DESCRIBE" || first.upper === "DESC") {
      ts.next();
      const { database, table } = parseQualifiedTable(ts);
      return { kind: "describe", database, table, pos };
    }
    if (first.upper === "UNLOAD") return parseUnload(ts);
    if (first.upper === "EXPLAIN") {
      throw syntaxError(first, `${first.upper} is not supported by this query API`);
    }
  }
  if (ts.isWord("SELECT") || ts.isWord("WITH") || ts.isWord("VALUES") || ts.isOperator("(")) {
    return { kind: "query", query: parseQuery(ts), pos };
  }
  throw ts.unexpected("SELECT, WITH, SHOW or DESCRIBE");
}

function parseShow(ts: TokenStream): Statement {
  const pos = positionOf(ts.next());
  if (ts.acceptWord("DATABASES")) return { kind: "showDatabases", like: parseLike(ts), pos };
  if (ts.acceptWord("TABLES")) {
    const database =
      ts.acceptWord("FROM") || ts.acceptWord("IN") ? ts.identifier("a database name") : undefined;
    return { kind: "showTables", database, like: parseLike(ts), pos };
  }
  if (ts.acceptWord("MEASURES")) {
    if (!ts.acceptWord("FROM") && !ts.acceptWord("IN")) throw ts.unexpected("FROM");
    const { database, table } = parseQualifiedTable(ts);
    return { kind: "showMeasures", database, table, like: parseLike(ts), pos };
  }
  throw ts.unexpected("DATABASES, TABLES or MEASURES");
}

function parseQualifiedTable(ts: TokenStream): { database: string; table: string } {
  const database = ts.identifier('a table name such as "database"."table"');
  if (!ts.isOperator(".")) throw ts.unexpected("'.' and a table name");
  ts.next();
  const table = ts.identifier("a table name");
  return { database, table };
}

function parseLike(ts: TokenStream): string | undefined {
  if (!ts.acceptWord("LIKE")) return undefined;
  const pattern = ts.peek();
  if (pattern.kind !== "string") throw ts.unexpected("a quoted pattern");
  ts.next();
  return pattern.value;
}

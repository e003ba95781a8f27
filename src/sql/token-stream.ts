/**
 * A cursor over tokens for the recursive-descent parser, with the helpers that turn "not what we
 * expected" into `line L, column C: expected X after 'prev' but found 'cur'`.
 */
import type { Token } from "./lexer.js";
import { syntaxError } from "./syntax-error.js";

/** Words that cannot be used as a bare identifier or an implicit alias (quote them to do so). */
export const reservedWords: ReadonlySet<string> = new Set([
  "ALL",
  "AND",
  "AS",
  "BETWEEN",
  "BY",
  "CASE",
  "CAST",
  "CROSS",
  "DISTINCT",
  "ELSE",
  "END",
  "ESCAPE",
  "EXCEPT",
  "EXISTS",
  "FALSE",
  "FROM",
  "FULL",
  "GROUP",
  "HAVING",
  "IN",
  "INNER",
  "INTERSECT",
  "IS",
  "JOIN",
  "LEFT",
  "LIKE",
  "LIMIT",
  "NATURAL",
  "NOT",
  "NULL",
  "OFFSET",
  "ON",
  "OR",
  "ORDER",
  "OUTER",
  "RIGHT",
  "SELECT",
  "THEN",
  "TRUE",
  "UNION",
  "UNNEST",
  "USING",
  "VALUES",
  "WHEN",
  "WHERE",
  "WITH",
]);

export function describeToken(token: Token): string {
  if (token.kind === "eof") return "the end of the query";
  if (token.kind === "string") return `string '${shorten(token.value)}'`;
  return `'${shorten(token.text)}'`;
}

const shorten = (text: string): string => (text.length > 40 ? `${text.slice(0, 37)}...` : text);

/**
 * How deep expressions, subqueries and unary operators may nest in one query. The parser and the
 * translator recurse once (or a few times) per level, so a deeper query would exhaust the
 * JavaScript stack (about 500 nested parentheses did); real queries nest a few levels.
 */
export const MAX_NESTING_DEPTH = 100;

export class TokenStream {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.index++;
    return token;
  }

  /** The token just consumed (for "after '…'" in messages). */
  previous(): Token | undefined {
    return this.index === 0 ? undefined : this.tokens[this.index - 1];
  }

  isWord(upper: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === "word" && token.upper === upper;
  }

  isOperator(op: string, ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === "operator" && token.value === op;
  }

  acceptWord(upper: string): boolean {
    if (!this.isWord(upper)) return false;
    this.index++;
    return true;
  }

  acceptOperator(op: string): boolean {
    if (!this.isOperator(op)) return false;
    this.index++;
    return true;
  }

  expectWord(upper: string): Token {
    if (!this.isWord(upper)) throw this.unexpected(upper);
    return this.next();
  }

  expectOperator(op: string): Token {
    if (!this.isOperator(op)) throw this.unexpected(`'${op}'`);
    return this.next();
  }

  /** True if the current token can be an identifier (a non-reserved word or a quoted name). */
  isIdentifier(ahead = 0): boolean {
    const token = this.peek(ahead);
    return token.kind === "quoted" || (token.kind === "word" && !reservedWords.has(token.upper));
  }

  identifier(what: string): string {
    if (!this.isIdentifier()) throw this.unexpected(what);
    return this.next().value;
  }

  /** Runs `parse` one nesting level deeper, refusing a query nested deeper than MAX_NESTING_DEPTH. */
  nested<T>(parse: () => T): T {
    if (this.depth >= MAX_NESTING_DEPTH) {
      throw syntaxError(
        this.peek(),
        `the query nests expressions or subqueries more than ${MAX_NESTING_DEPTH} levels deep (a fixed limit): flatten it, e.g. drop redundant parentheses or use WITH for subqueries`,
      );
    }
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  /** `expected <what> after '<previous>' but found '<current>'`, at the current token. */
  unexpected(what: string): Error {
    const current = this.peek();
    const previous = this.previous();
    const after = previous === undefined ? "" : ` after ${describeToken(previous)}`;
    return syntaxError(current, `expected ${what}${after} but found ${describeToken(current)}`);
  }
}

/**
 * The Timestream SQL lexer: turns query text into tokens that carry their line and column.
 *
 * Everything that reads raw query text lives here; the parser only sees tokens. Duration literals
 * (`15s`, `2h`, `10us`) are a number immediately followed by a unit, so they are recognised here,
 * where "immediately" is still visible.
 */
import { syntaxError } from "./syntax-error.js";

export type TokenKind =
  | "word" // an unquoted identifier or keyword
  | "quoted" // a "double-quoted" identifier
  | "string" // a 'single-quoted' string literal
  | "number" // 12, 1.5, .5, 1e-3
  | "duration" // 15s, 1ms, 10us, 5ns, 2h, 3d, 15m
  | "operator" // punctuation and operators
  | "eof";

export type DurationUnit = "ns" | "us" | "ms" | "s" | "m" | "h" | "d";

export interface Token {
  kind: TokenKind;
  /** Unescaped text: the identifier, the string's content, the number, the operator. */
  value: string;
  /** The source text of the token, as written (for error messages). */
  text: string;
  /** For words: the upper-cased value, to compare with keywords. */
  upper: string;
  line: number;
  column: number;
  offset: number;
  /** For durations: the unit. */
  unit?: DurationUnit;
}

const durationUnits: ReadonlySet<string> = new Set(["ns", "us", "ms", "s", "m", "h", "d"]);

/** Operators, longest first so that `<=` wins over `<`. */
const operators = [
  "::",
  "||",
  "<>",
  "!=",
  "<=",
  ">=",
  "->",
  "(",
  ")",
  ",",
  ".",
  ";",
  "+",
  "-",
  "*",
  "/",
  "%",
  "=",
  "<",
  ">",
  "[",
  "]",
];

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isWordStart = (c: string): boolean =>
  (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || (c > "\x7f" && /\p{L}/u.test(c));
const isWordPart = (c: string): boolean => isWordStart(c) || isDigit(c) || c === "@" || c === "$";
const isSpace = (c: string): boolean => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f";

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;

  const here = (offset: number) => ({ line, column: offset - lineStart + 1, offset });
  /** Moves past text that may contain newlines, keeping line/column right. */
  const advanceTo = (end: number) => {
    for (let k = i; k < end; k++) {
      if (sql[k] === "\n") {
        line++;
        lineStart = k + 1;
      }
    }
    i = end;
  };
  const push = (
    kind: TokenKind,
    value: string,
    start: number,
    at: ReturnType<typeof here>,
    unit?: DurationUnit,
  ) => {
    const text = sql.slice(start, i);
    tokens.push({ kind, value, text, upper: kind === "word" ? value.toUpperCase() : value, ...at, unit });
  };

  while (i < sql.length) {
    const c = sql[i]!;
    if (isSpace(c)) {
      advanceTo(i + 1);
      continue;
    }
    const start = i;
    const at = here(i);
    if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      advanceTo(end === -1 ? sql.length : end);
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end === -1) throw syntaxError(at, "unterminated comment: '/*' has no closing '*/'");
      advanceTo(end + 2);
      continue;
    }
    if (c === "'" || c === '"') {
      const value = readQuoted(sql, i, c, at);
      advanceTo(i + value.length);
      push(c === "'" ? "string" : "quoted", value.content, start, at);
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(sql[i + 1] ?? ""))) {
      const end = scanNumber(sql, i);
      const numberText = sql.slice(i, end);
      i = end;
      if (isWordStart(sql[i] ?? "")) {
        let unitEnd = i;
        while (unitEnd < sql.length && isWordPart(sql[unitEnd]!)) unitEnd++;
        const unit = sql.slice(i, unitEnd).toLowerCase();
        if (!durationUnits.has(unit) || ![...numberText].every(isDigit)) {
          throw syntaxError(
            at,
            `invalid duration literal '${sql.slice(start, unitEnd)}': a duration is a whole number followed by ns, us, ms, s, m, h or d`,
          );
        }
        i = unitEnd;
        push("duration", numberText, start, at, unit as DurationUnit);
        continue;
      }
      push("number", numberText, start, at);
      continue;
    }
    if (isWordStart(c)) {
      let end = i + 1;
      while (end < sql.length && isWordPart(sql[end]!)) end++;
      i = end;
      push("word", sql.slice(start, end), start, at);
      continue;
    }
    const op = operators.find((candidate) => sql.startsWith(candidate, i));
    if (op === undefined) throw syntaxError(at, `unexpected character '${c}'`);
    i += op.length;
    push("operator", op, start, at);
  }
  tokens.push({ kind: "eof", value: "", text: "", upper: "", ...here(i) });
  return tokens;
}

/** Reads a '…' string or "…" identifier starting at `start`; a doubled quote is an escaped quote. */
function readQuoted(
  sql: string,
  start: number,
  quote: string,
  at: { line: number; column: number; offset: number },
): { content: string; length: number } {
  let content = "";
  let k = start + 1;
  for (;;) {
    const next = sql.indexOf(quote, k);
    if (next === -1) {
      const what = quote === "'" ? "string literal" : "quoted identifier";
      throw syntaxError(at, `unterminated ${what}: ${quote} has no closing ${quote}`);
    }
    content += sql.slice(k, next);
    if (sql[next + 1] === quote) {
      content += quote;
      k = next + 2;
      continue;
    }
    if (quote === '"' && content === "") throw syntaxError(at, "a quoted identifier cannot be empty");
    return { content, length: next + 1 - start };
  }
}

/** Returns the end of the number starting at `start`: digits, an optional fraction and exponent. */
function scanNumber(sql: string, start: number): number {
  let k = start;
  while (isDigit(sql[k] ?? "")) k++;
  if (sql[k] === "." && sql[k + 1] !== ".") {
    k++;
    while (isDigit(sql[k] ?? "")) k++;
  }
  if (sql[k] === "e" || sql[k] === "E") {
    const sign = sql[k + 1] === "+" || sql[k + 1] === "-" ? 1 : 0;
    if (isDigit(sql[k + 1 + sign] ?? "")) {
      k += 1 + sign;
      while (isDigit(sql[k] ?? "")) k++;
    }
  }
  return k;
}

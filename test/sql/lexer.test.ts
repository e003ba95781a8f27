import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHourglassError } from "../../src/errors.js";
import { tokenize } from "../../src/sql/index.js";

const kinds = (sql: string) => tokenize(sql).map((t) => `${t.kind}:${t.value}${t.unit ?? ""}`);

function assertLexError(sql: string, line: number, column: number, message: RegExp) {
  assert.throws(
    () => tokenize(sql),
    (error: unknown) => {
      assert.ok(isHourglassError(error, "ValidationError"), String(error));
      assert.deepEqual(error.context, { line, column });
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(`line ${line}, column ${column}: `), error.message);
      return true;
    },
  );
}

describe("lexer", () => {
  it("reads words, quoted identifiers, strings, numbers and operators", () => {
    assert.deepEqual(kinds(`SELECT "airflow-db".x, 'it''s', 12, 1.5, .5, 1e-3, 2E6`), [
      "word:SELECT",
      "quoted:airflow-db",
      "operator:.",
      "word:x",
      "operator:,",
      "string:it's",
      "operator:,",
      "number:12",
      "operator:,",
      "number:1.5",
      "operator:,",
      "number:.5",
      "operator:,",
      "number:1e-3",
      "operator:,",
      "number:2E6",
      "eof:",
    ]);
  });

  it('unescapes "" inside quoted identifiers and keeps their case', () => {
    const [token] = tokenize(`"say ""hi"" Now"`);
    assert.equal(token!.kind, "quoted");
    assert.equal(token!.value, 'say "hi" Now');
  });

  it("reads every operator, longest first", () => {
    assert.deepEqual(
      kinds("a::b || c <> d != e <= f >= g -> h ( ) , . ; + - * / % = < > [ ]")
        .filter((k) => k.startsWith("operator"))
        .map((k) => k.slice("operator:".length)),
      [
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
      ],
    );
  });

  it("reads duration literals of every unit, and not exponents or words", () => {
    assert.deepEqual(kinds("15s 1ms 10us 5ns 2h 3d 15m"), [
      "duration:15s",
      "duration:1ms",
      "duration:10us",
      "duration:5ns",
      "duration:2h",
      "duration:3d",
      "duration:15m",
      "eof:",
    ]);
    assert.deepEqual(kinds("1e5 x15s"), ["number:1e5", "word:x15s", "eof:"]);
    assert.equal(tokenize("15M")[0]!.unit, "m");
  });

  it("skips -- and /* */ comments, including multi-line ones", () => {
    assert.deepEqual(kinds("SELECT -- the rest\n 1 /* a\n b */ + 2"), [
      "word:SELECT",
      "number:1",
      "operator:+",
      "number:2",
      "eof:",
    ]);
  });

  it("gives each token its line and column (1-based) across newlines and comments", () => {
    const tokens = tokenize("SELECT a,\n  /* x\n */ b\r\nFROM t");
    const at = (value: string) => {
      const t = tokens.find((token) => token.value === value)!;
      return [t.line, t.column];
    };
    assert.deepEqual(at("SELECT"), [1, 1]);
    assert.deepEqual(at("a"), [1, 8]);
    assert.deepEqual(at(","), [1, 9]);
    assert.deepEqual(at("b"), [3, 5]);
    assert.deepEqual(at("FROM"), [4, 1]);
    assert.deepEqual(at("t"), [4, 6]);
  });

  it("refuses an unterminated string, quoted identifier or comment at its start", () => {
    assertLexError("SELECT 'abc", 1, 8, /unterminated string literal/);
    assertLexError('SELECT\n  "abc', 2, 3, /unterminated quoted identifier/);
    assertLexError("SELECT 1 /* never closed", 1, 10, /unterminated comment/);
  });

  it("refuses bad durations, empty quoted identifiers and stray characters", () => {
    assertLexError("SELECT ago(15min)", 1, 12, /invalid duration literal '15min'/);
    assertLexError("SELECT 1.5h", 1, 8, /invalid duration literal '1.5h'/);
    assertLexError('SELECT ""', 1, 8, /quoted identifier cannot be empty/);
    assertLexError("SELECT a ? b", 1, 10, /unexpected character '\?'/);
    assertLexError("SELECT a : b", 1, 10, /unexpected character ':'/);
  });
});

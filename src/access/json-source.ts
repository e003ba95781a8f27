/**
 * A JSON reader that remembers where each value starts, so that a policy problem can be reported
 * as "Statement[0].Action[2], line 9, column 17" instead of only a path. JSON.parse gives neither
 * positions of values nor (on Node 20) a line for its syntax errors; this reader gives both.
 * It accepts exactly RFC 8259 JSON (no comments, no trailing commas), as IAM does.
 */
import { validationError } from "../errors.js";

export interface SourcePosition {
  line: number;
  column: number;
}

/** A JSON path as IAM's policy validator writes it: `Statement[0].Action[1]`. */
export type JsonPath = readonly (string | number)[];

export interface JsonSource {
  readonly value: unknown;
  /** Where the value at `path` starts (the nearest known ancestor if the path does not exist). */
  positionOf(path: JsonPath): SourcePosition;
}

/** true, false, null or a number, read where the reader stands (sticky). */
const LITERAL = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export const formatJsonPath = (path: JsonPath): string =>
  path.reduce<string>(
    (text, part) => (typeof part === "number" ? `${text}[${part}]` : text === "" ? part : `${text}.${part}`),
    "",
  ) || "(document)";

/** Parses JSON text; a syntax error is a ValidationError naming the file, line and column. */
export function parseJsonSource(text: string, fileName = "the policy"): JsonSource {
  const positions = new Map<string, number>();
  let index = 0;

  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const toPosition = (offset: number): SourcePosition => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - lineStarts[low]! + 1 };
  };
  const fail = (what: string, at = index): never => {
    const { line, column } = toPosition(at);
    const found = at >= text.length ? "the end of the file" : JSON.stringify(text[at]);
    throw validationError(
      `${fileName} is not valid JSON: ${what} at line ${line}, column ${column} (found ${found})`,
      { line, column },
    );
  };

  const skipSpace = () => {
    while (index < text.length) {
      const c = text[index];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") index++;
      else break;
    }
  };

  const readString = (): string => {
    const start = index;
    // Most strings hold no escape and no control character: take them in one slice.
    const close = text.indexOf('"', index + 1);
    if (close > 0) {
      const plain = text.slice(index + 1, close);
      if (!/[\\\u0000-\u001f]/.test(plain)) {
        index = close + 1;
        return plain;
      }
    }
    index++; // the opening quote
    let out = "";
    while (true) {
      if (index >= text.length) fail("a string that is never closed", start);
      const c = text[index]!;
      if (c === '"') {
        index++;
        return out;
      }
      if (c === "\\") {
        const escaped = text[index + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (escaped !== undefined && simple[escaped] !== undefined) {
          out += simple[escaped];
          index += 2;
        } else if (escaped === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(index + 2, index + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(index + 2, index + 6), 16));
          index += 6;
        } else {
          fail("an invalid escape in a string");
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail("a control character (such as a tab or line break) inside a string");
      out += c;
      index++;
    }
  };

  const readValue = (path: string): unknown => {
    skipSpace();
    positions.set(path, index);
    const c = text[index];
    if (c === "{") {
      index++;
      const object: Record<string, unknown> = {};
      skipSpace();
      if (text[index] === "}") {
        index++;
        return object;
      }
      while (true) {
        skipSpace();
        if (text[index] !== '"') fail("expected a member name in double quotes");
        const keyAt = index;
        const key = readString();
        // JSON.parse keeps the last of two equal names silently; a policy must not hide one.
        if (Object.hasOwn(object, key)) fail(`the member "${key}" appears twice in the same object`, keyAt);
        skipSpace();
        if (text[index] !== ":") fail(`expected ':' after "${key}"`);
        index++;
        // defineProperty, not assignment: a member named "__proto__" stays a plain member.
        Object.defineProperty(object, key, {
          value: readValue(`${path}\u0000${key}`),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skipSpace();
        if (text[index] === ",") {
          index++;
          continue;
        }
        if (text[index] === "}") {
          index++;
          return object;
        }
        fail(`expected ',' or '}' after the value of "${key}"`);
      }
    }
    if (c === "[") {
      index++;
      const array: unknown[] = [];
      skipSpace();
      if (text[index] === "]") {
        index++;
        return array;
      }
      while (true) {
        array.push(readValue(`${path}\u0000${array.length}`));
        skipSpace();
        if (text[index] === ",") {
          index++;
          continue;
        }
        if (text[index] === "]") {
          index++;
          return array;
        }
        fail("expected ',' or ']' after an array element");
      }
    }
    if (c === '"') return readString();
    LITERAL.lastIndex = index;
    const literal = LITERAL.exec(text);
    if (literal) {
      index += literal[0].length;
      const word = literal[0];
      return word === "true" ? true : word === "false" ? false : word === "null" ? null : Number(word);
    }
    return fail(
      c === undefined
        ? "expected a value"
        : "expected a value (an object, array, string, number, true, false or null)",
    );
  };

  const value = readValue("$");
  skipSpace();
  if (index < text.length) fail("unexpected text after the end of the document");

  return {
    value,
    positionOf(path: JsonPath): SourcePosition {
      // Members are keyed by their value's path; for a missing member, fall back to its parent.
      for (let length = path.length; length >= 0; length--) {
        const key = ["$", ...path.slice(0, length)].join("\u0000");
        const offset = positions.get(key);
        if (offset !== undefined) return toPosition(offset);
      }
      return { line: 1, column: 1 };
    },
  };
}

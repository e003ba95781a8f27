/**
 * Timestream's UNLOAD statement: `UNLOAD (SELECT …) TO 's3://bucket/folder/' WITH (option = value, …)`
 * (https://docs.aws.amazon.com/timestream/latest/developerguide/export-unload-concepts.html).
 *
 * The dialect parses the statement and checks every option here, before anything runs: a bad
 * option is a positioned ValidationError naming the option and what it accepts. The SELECT is an
 * ordinary query of the dialect, translated as any other; the store runs it and writes the files.
 */
import type { Query, Statement } from "./ast.js";
import type { UnloadSpec } from "./contract.js";
import type { Token } from "./lexer.js";
import { parseQuery } from "./parse-query.js";
import { positionOf, syntaxError } from "./syntax-error.js";
import type { TokenStream } from "./token-stream.js";

const MB = 1024 * 1024;
const GB = 1024 * MB;
/** Timestream's bounds and default for max_file_size. */
export const UNLOAD_MIN_FILE_BYTES = 16 * MB;
export const UNLOAD_MAX_FILE_BYTES = 78 * GB;

const optionNames = [
  "partitioned_by",
  "format",
  "compression",
  "encryption",
  "kms_key",
  "field_delimiter",
  "escaped_by",
  "include_header",
  "max_file_size",
] as const;
type OptionName = (typeof optionNames)[number];
const csvOnly: readonly OptionName[] = ["field_delimiter", "escaped_by", "include_header"];

interface OptionValue {
  name: OptionName;
  at: Token;
  /** A string value, or the names of ARRAY[…]. */
  text?: string;
  list?: string[];
}

/** Parses `UNLOAD (query) TO 'url' [WITH (…)]`; the stream is at the word UNLOAD. */
export function parseUnload(ts: TokenStream): Statement {
  const pos = positionOf(ts.next());
  if (!ts.isOperator("(")) throw ts.unexpected("'(' and the SELECT to unload");
  ts.next();
  const query: Query = parseQuery(ts);
  ts.expectOperator(")");
  ts.expectWord("TO");
  const target = ts.peek();
  if (target.kind !== "string") throw ts.unexpected("the destination as a quoted 's3://bucket/folder/'");
  ts.next();
  const options: OptionValue[] = [];
  if (ts.acceptWord("WITH")) {
    ts.expectOperator("(");
    do options.push(parseOption(ts, options));
    while (ts.acceptOperator(","));
    ts.expectOperator(")");
  }
  return { kind: "unload", query, unload: unloadSpec(target, options), pos };
}

/**
 * UNLOAD is a statement of its own: inside a query (`SELECT * FROM (UNLOAD …)`), after WITH, or
 * inside another UNLOAD it would otherwise get a parser error about something else.
 */
export function refuseNestedUnload(tokens: readonly Token[]): void {
  for (let i = 1; i < tokens.length - 1; i++) {
    const token = tokens[i]!;
    const next = tokens[i + 1]!;
    if (token.kind === "word" && token.upper === "UNLOAD" && next.kind === "operator" && next.value === "(") {
      throw syntaxError(
        token,
        "UNLOAD must be the whole statement: it cannot be used inside a query, a WITH clause or another UNLOAD (write UNLOAD (SELECT …) TO 's3://bucket/folder/' on its own)",
      );
    }
  }
}

function parseOption(ts: TokenStream, earlier: readonly OptionValue[]): OptionValue {
  const at = ts.peek();
  if (at.kind !== "word" && at.kind !== "quoted") throw ts.unexpected("an UNLOAD option name");
  const name = at.value.toLowerCase();
  if (!(optionNames as readonly string[]).includes(name)) {
    throw syntaxError(at, `unknown UNLOAD option '${at.value}': the options are ${optionNames.join(", ")}`);
  }
  if (earlier.some((o) => o.name === name)) {
    throw syntaxError(at, `the UNLOAD option ${name} is given twice: give it once`);
  }
  ts.next();
  ts.expectOperator("=");
  if (name === "partitioned_by") {
    if (!ts.isWord("ARRAY")) throw ts.unexpected("ARRAY['column', …]");
    ts.next();
    ts.expectOperator("[");
    const list: string[] = [];
    if (!ts.isOperator("]")) {
      do {
        const item = ts.peek();
        if (item.kind !== "string" && item.kind !== "quoted" && item.kind !== "word") {
          throw ts.unexpected("a column name such as 'region'");
        }
        ts.next();
        list.push(item.value);
      } while (ts.acceptOperator(","));
    }
    ts.expectOperator("]");
    return { name, at, list };
  }
  const value = ts.peek();
  if (value.kind !== "string") throw ts.unexpected(`a quoted value for ${name}`);
  ts.next();
  return { name: name as OptionName, at, text: value.value };
}

function unloadSpec(target: Token, options: readonly OptionValue[]): UnloadSpec {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/is.exec(target.value);
  if (!match || match[1] === "") {
    throw syntaxError(
      target,
      `UNLOAD writes to the lake: TO must be an S3 URL such as 's3://bucket-name/folder/', got '${target.value}'`,
    );
  }
  let prefix = match[2] ?? "";
  // Timestream's own example writes TO 's3://bucket/withoutpartition' without a final '/': the
  // folder is the same with or without it.
  if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
  const spec: UnloadSpec = {
    url: target.value,
    bucket: match[1]!,
    prefix,
    format: "CSV",
    compression: "GZIP",
    partitionedBy: [],
    fieldDelimiter: ",",
    escapedBy: "\\",
    includeHeader: false,
    maxFileSizeBytes: UNLOAD_MAX_FILE_BYTES,
  };
  for (const option of options) applyOption(spec, option);
  if (spec.format === "PARQUET") {
    const misplaced = options.find((o) => csvOnly.includes(o.name));
    if (misplaced) {
      throw syntaxError(
        misplaced.at,
        `the UNLOAD option ${misplaced.name} applies to format 'CSV' only, and this UNLOAD writes 'PARQUET': remove it`,
      );
    }
  }
  if (spec.format === "CSV" && spec.fieldDelimiter === spec.escapedBy) {
    const at = options.find((o) => o.name === "field_delimiter" || o.name === "escaped_by")!.at;
    throw syntaxError(at, "field_delimiter and escaped_by must be different characters");
  }
  return spec;
}

function applyOption(spec: UnloadSpec, option: OptionValue): void {
  const { at } = option;
  const text = option.text ?? "";
  const oneOf = <T extends string>(allowed: readonly T[]): T => {
    const found = allowed.find((a) => a === text.toUpperCase());
    if (found === undefined) {
      throw syntaxError(
        at,
        `${option.name} must be ${allowed.map((a) => `'${a}'`).join(" or ")}, got '${text}'`,
      );
    }
    return found;
  };
  switch (option.name) {
    case "format":
      spec.format = oneOf(["CSV", "PARQUET"] as const);
      return;
    case "compression":
      spec.compression = oneOf(["GZIP", "NONE"] as const);
      return;
    case "encryption":
      if (oneOf(["SSE_S3", "SSE_KMS"] as const) === "SSE_KMS") {
        throw syntaxError(
          at,
          "encryption 'SSE_KMS' is not supported: the lake is a local folder without a key service; leave encryption out (or 'SSE_S3', the default)",
        );
      }
      return;
    case "kms_key":
      throw syntaxError(
        at,
        "kms_key is not supported: the lake is a local folder without a key service; leave it out",
      );
    case "field_delimiter":
      spec.fieldDelimiter = csvCharacter(option, text);
      return;
    case "escaped_by":
      spec.escapedBy = csvCharacter(option, text);
      return;
    case "include_header":
      spec.includeHeader = oneOf(["TRUE", "FALSE"] as const) === "TRUE";
      return;
    case "max_file_size":
      spec.maxFileSizeBytes = fileSize(option, text);
      return;
    case "partitioned_by": {
      const list = option.list ?? [];
      const seen = new Set<string>();
      for (const name of list) {
        if (seen.has(name)) throw syntaxError(at, `partitioned_by names column '${name}' twice`);
        seen.add(name);
      }
      spec.partitionedBy = list;
      return;
    }
  }
}

/**
 * field_delimiter and escaped_by: one ASCII character that can sit inside a CSV line. SQL strings
 * have no escapes, so the documentation's tab is also accepted written as the two characters `\t`.
 */
function csvCharacter(option: OptionValue, written: string): string {
  const text = written === "\\t" ? "\t" : written;
  if (text.length !== 1 || text.charCodeAt(0) > 0x7f) {
    throw syntaxError(option.at, `${option.name} must be one ASCII character, got '${text}'`);
  }
  if (text === "\n" || text === "\r" || text === '"') {
    throw syntaxError(
      option.at,
      `${option.name} cannot be a line break or the quote character '"': CSV readers could not tell the fields apart`,
    );
  }
  return text;
}

/** `max_file_size = '10GB'`, `'0.5GB'`, `'24.7MB'`: between 16 MB and 78 GB. */
function fileSize(option: OptionValue, text: string): number {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(MB|GB)\s*$/i.exec(text);
  const bytes = match ? Math.floor(Number(match[1]) * (match[2]!.toUpperCase() === "GB" ? GB : MB)) : NaN;
  if (!match || bytes < UNLOAD_MIN_FILE_BYTES || bytes > UNLOAD_MAX_FILE_BYTES) {
    throw syntaxError(
      option.at,
      `max_file_size must be a size from 16MB to 78GB, written like '10GB', '0.5GB' or '24.7MB', got '${text}'`,
    );
  }
  return bytes;
}

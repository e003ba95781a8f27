/**
 * A Timestream SQL fuzzer over real HTTP: valid queries (the seed's, the dialect's documented
 * features, the SQL tests' shapes) mutated token by token (deleted, duplicated, swapped, random
 * keywords, operators, parentheses, quotes, unicode and NUL inserted, huge literals and durations,
 * deep nesting, sequence() with big bounds, functions with hostile arguments), plus random token
 * soup, sent to `POST /api/v1/query` and the Timestream Query endpoint while /health is polled.
 *
 * The rules it checks on every answer: a 200 with rows, or a 4xx with the documented error shape
 * (REST `{ error: { code, message } }`, AWS `{ __type, message }`), never a 5xx; no message
 * carries a stack trace or DuckDB's internals ("INTERNAL Error", the physical `_hg.` tables).
 *
 * Used by test/api/query-fuzz.test.ts (a few seconds) and bench/fuzz-query.ts (minutes).
 */
import type { TimestreamStore } from "../../src/store/index.js";
import { createSeedTable, record, SEED_NOW_MS } from "./store.js";
import { random } from "./write-fuzz.js";

export interface QueryFuzzOptions {
  /** The server's base URL (http://127.0.0.1:port). */
  url: string;
  seconds: number;
  seed: number;
  /** Concurrent callers. */
  workers?: number;
  /** A call without an answer after this long is a hang: a problem (default 30 s). */
  hangMs?: number;
}

export interface QueryFuzzProblem {
  what: string;
  status: number;
  response: string;
  query: string;
}

export interface QueryFuzzReport {
  calls: number;
  byStatus: Record<number, number>;
  /** Answers that broke a rule. */
  problems: QueryFuzzProblem[];
  healthChecks: number;
  maxHealthMs: number;
  /** The slowest call, to find what held a worker up. */
  slowest: { ms: number; query: string };
}

const T = '"airflow-db"."airflow-table"';

/** The seed's table with 300 points (two measures, 10 hosts, 3 hours before SEED_NOW_MS); resolves with the count. */
export async function seedFuzzTable(store: TimestreamStore): Promise<number> {
  await createSeedTable(store);
  const start = SEED_NOW_MS / 1000 - 3 * 3600;
  const records = Array.from({ length: 300 }, (_, i) =>
    record(
      {
        region: i % 2 ? "eu-west-1" : "us-east-1",
        availability_zone: `az${i % 3}`,
        instance_name: `i-${i % 10}`,
      },
      i % 3 === 0 ? "cpu_user" : "cpu_nice",
      String((i * 7.3) % 100),
      start + i * 30,
    ),
  );
  let written = 0;
  for (let i = 0; i < records.length; i += 100) {
    const result = await store.writeRecords({
      DatabaseName: "airflow-db",
      TableName: "airflow-table",
      Records: records.slice(i, i + 100),
    });
    written += result.RecordsIngested.Total;
  }
  return written;
}

/** The seed's query (examples/dags/timestream-airflow-demo.ts, its interval filled in). */
const SEED_QUERY =
  "SELECT instance_name, BIN(time, 15s) AS binned_timestamp, " +
  "ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, " +
  "ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, " +
  "ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, " +
  "ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization " +
  `FROM ${T} ` +
  "WHERE measure_name = 'cpu_nice' AND time >= '2021-09-22 13:00:00+00:00' AND time < '2021-09-22 16:00:00+00:00' " +
  "GROUP BY region, instance_name, availability_zone, BIN(time, 15s) " +
  "ORDER BY binned_timestamp ASC, region, instance_name, availability_zone";

/** Valid queries: the starting points of the mutations (docs/sql.md "What runs", test/sql/*). */
export const QUERY_CORPUS: readonly string[] = [
  SEED_QUERY,
  SEED_QUERY.replace(">= '2021-09-22 13:00:00+00:00' AND time <", "BETWEEN '2021-09-22 13:00:00+00:00' AND"),
  `SELECT count(*) FROM ${T}`,
  `SELECT * FROM ${T} LIMIT 5`,
  `SELECT t.*, 1 FROM ${T} AS t LIMIT 1`,
  `SELECT region, t.instance_name, measure_value::double, count(*), max(time) AS latest, 1 + 1 FROM ${T} t GROUP BY region, t.instance_name, measure_value::double LIMIT 1`,
  `SELECT DISTINCT region, count(*) AS n FROM ${T} WHERE measure_name = 'cpu_nice' GROUP BY 1 HAVING count(*) > 1 ORDER BY n DESC, region LIMIT 5 OFFSET 0`,
  `SELECT DISTINCT instance_name FROM ${T} ORDER BY instance_name OFFSET 2 LIMIT 2`,
  `SELECT sum(measure_value::double), count_if(measure_value::double > 50), count(region) FROM ${T}`,
  `WITH hosts AS (SELECT DISTINCT instance_name AS name FROM ${T}) SELECT name, (SELECT count(*) FROM ${T} p WHERE p.instance_name = hosts.name) AS n FROM hosts ORDER BY name`,
  `SELECT count(*) FROM ${T} a JOIN ${T} b ON a.instance_name = b.instance_name AND a.time = b.time WHERE a.measure_name = 'cpu_nice' AND b.measure_name = 'cpu_user'`,
  `SELECT count(*) FROM ${T} a LEFT JOIN ${T} b USING (instance_name, time)`,
  "SELECT 1 AS x UNION SELECT 1 UNION SELECT 2 ORDER BY x",
  "SELECT * FROM (VALUES 1, 2, 3) AS t(x) INTERSECT SELECT 2",
  "SELECT * FROM (VALUES 1, 2) AS t(x) EXCEPT SELECT 2 ORDER BY x LIMIT 5",
  `SELECT instance_name, CASE WHEN measure_value::double > 50 THEN 'high' ELSE 'low' END AS level FROM ${T} WHERE measure_name IN ('cpu_nice', 'cpu_user') LIMIT 10`,
  `SELECT CAST(measure_value::double AS bigint), TRY_CAST(instance_name AS double) FROM ${T} LIMIT 3`,
  `SELECT instance_name, avg(measure_value::double) OVER (PARTITION BY instance_name ORDER BY time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM ${T} LIMIT 10`,
  "SELECT transform(ARRAY[1, 2, 3], x -> x * 2), ARRAY[1, 2, 3][2], filter(ARRAY[1, 2, 3], x -> x > 1)",
  "SELECT reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s)",
  `SELECT bin(time, 1h), count(*) FROM ${T} WHERE time > ago(15m) GROUP BY 1`,
  `SELECT date_trunc('hour', time), date_add('minute', 5, time), date_diff('second', time, now()) FROM ${T} LIMIT 2`,
  `SELECT extract(hour FROM time), year(time), second(time), to_milliseconds(time), to_iso8601(time) FROM ${T} LIMIT 2`,
  "SELECT from_milliseconds(1632319200000), from_unixtime(1632319200), to_unixtime(from_iso8601_timestamp('2021-09-22T13:00:00Z'))",
  `SELECT count(*) FROM ${T} WHERE time BETWEEN now() - interval '2' day AND now() + 1d`,
  `SELECT approx_distinct(instance_name), stddev(measure_value::double), variance(measure_value::double), arbitrary(region), min_by(instance_name, time), max_by(region, time), array_agg(region)[1], bool_and(measure_value::double > 0), bool_or(measure_value::double > 90) FROM ${T}`,
  `WITH s AS (SELECT instance_name, CREATE_TIME_SERIES(time, measure_value::double) AS ts FROM ${T} WHERE measure_name = 'cpu_nice' GROUP BY instance_name) SELECT instance_name, INTERPOLATE_LOCF(ts, SEQUENCE(TIMESTAMP '2021-09-22 13:00:00', TIMESTAMP '2021-09-22 14:00:00', 10m)) FROM s`,
  `WITH s AS (SELECT instance_name, CREATE_TIME_SERIES(time, measure_value::double) AS ts FROM ${T} GROUP BY instance_name) SELECT u.time, u.value FROM s CROSS JOIN UNNEST(s.ts) AS u(time, value) LIMIT 5`,
  `SELECT cardinality(sequence(1, 100)), sequence(1, 10, 3)`,
  "SELECT 1 FROM UNNEST(ARRAY[1, 2]) AS u(a)",
  `SELECT instance_name FROM ${T} WHERE instance_name LIKE 'i-%' AND region NOT IN ('x', NULL) LIMIT 3`,
  `SELECT count(*) FROM ${T} WHERE EXISTS (SELECT 1 FROM ${T} b WHERE b.region = 'eu-west-1')`,
  "SHOW DATABASES",
  "SHOW TABLES FROM \"airflow-db\" LIKE 'air%'",
  `SHOW MEASURES FROM ${T}`,
  `DESCRIBE ${T}`,
  `SELECT lower(region), upper(instance_name), length(region), substr(region, 2, 3), concat(region, '-', instance_name), replace(region, 'eu', 'us'), split(region, '-') FROM ${T} LIMIT 2`,
  `SELECT round(abs(measure_value::double), 1), floor(measure_value::double), ceil(measure_value::double), sqrt(abs(measure_value::double)), ln(measure_value::double + 1), power(2, 10) FROM ${T} LIMIT 2`,
  `SELECT coalesce(NULL, region), nullif(region, 'x'), if(region = 'x', 1, 2), greatest(1, 2), least(1, 2) FROM ${T} LIMIT 1`,
  `SELECT regexp_like(instance_name, 'i-[0-9]+'), regexp_extract(instance_name, '[0-9]+'), regexp_replace(region, '-', '_') FROM ${T} LIMIT 1`,
];

const KEYWORDS = [
  "SELECT",
  "FROM",
  "WHERE",
  "GROUP",
  "BY",
  "ORDER",
  "HAVING",
  "LIMIT",
  "OFFSET",
  "UNION",
  "ALL",
  "INTERSECT",
  "EXCEPT",
  "WITH",
  "AS",
  "ON",
  "USING",
  "JOIN",
  "LEFT",
  "CROSS",
  "FULL",
  "AND",
  "OR",
  "NOT",
  "IN",
  "EXISTS",
  "BETWEEN",
  "LIKE",
  "IS",
  "NULL",
  "CASE",
  "WHEN",
  "THEN",
  "ELSE",
  "END",
  "CAST",
  "TRY_CAST",
  "DISTINCT",
  "OVER",
  "PARTITION",
  "ROWS",
  "PRECEDING",
  "INTERVAL",
  "ARRAY",
  "TIMESTAMP",
  "UNNEST",
  "VALUES",
  "SHOW",
  "DESCRIBE",
  "MEASURES",
  "TABLES",
  "DATABASES",
  "INSERT",
  "DROP",
  "CREATE",
  "COPY",
  "ATTACH",
  "PRAGMA",
  "SET",
  "INSTALL",
  "LOAD",
  "CALL",
  "time",
  "measure_name",
  "measure_value::double",
  "measure_value::bigint",
  "measure_value::varchar",
  "measure_value::boolean",
  "measure_value::timestamp",
  "region",
  "instance_name",
  "*",
  T,
  '"airflow-db"',
  '"nope"."nope"',
  "information_schema.tables",
  "_hg.t1_points",
  "duckdb_settings()",
];
const OPERATORS = [
  "+",
  "-",
  "*",
  "/",
  "%",
  "=",
  "<>",
  "!=",
  "<",
  ">",
  "<=",
  ">=",
  "||",
  "::",
  "->",
  ",",
  ".",
  ";",
  "(",
  ")",
  "[",
  "]",
  "'",
  '"',
  "`",
  "?",
  "$1",
  ":x",
  "@",
  "#",
  "\\",
  "--",
  "/*",
  "*/",
  "{",
  "}",
];
const ODD_TEXT = [
  "\u0000",
  "\u0001",
  "\ud800",
  "\u2028",
  "\ufeff",
  "😀",
  "日本語",
  "é",
  "\t",
  "\r\n",
  "''",
  '""',
  "'unterminated",
  '"unterminated',
  "E'\\x00'",
  "U&'\\0000'",
  "X'00'",
  "$$x$$",
  "/* unclosed",
];
const HUGE_LITERALS = [
  "9".repeat(400),
  "1e400",
  "-1e400",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775809",
  "0.0000000000000000000000000000000000000001",
  "1e-400",
  "NaN",
  "'infinity'",
  "'-infinity'",
  "'nan'",
  `'${"x".repeat(100_000)}'`,
  "18446744073709551616",
];
const DURATIONS = [
  "1000000000d",
  "99999999999999999999ns",
  "0s",
  "0ns",
  "1ns",
  "9223372036854775807ns",
  "106751d",
  "106752d",
  "1000000h",
  "-1h",
  "1.5h",
  "1e3s",
  "1x",
  "15",
  "interval '999999999999' day",
  "interval '-1' year",
  "interval 'x' hour",
];
/** Calls with hostile arguments: zero steps, huge bounds, bad units, bad patterns. */
const HOSTILE_CALLS = [
  "sequence(1, 1000000000)",
  "sequence(1, 10, 0)",
  "sequence(10, 1)",
  "sequence(-9223372036854775807, 9223372036854775807)",
  "sequence(time, time + 1000000000d, 1ns)",
  "sequence(TIMESTAMP '2021-09-22 13:00:00', TIMESTAMP '2021-09-22 14:00:00', 0s)",
  "sequence(now(), now() - 1h, 1s)",
  "bin(time, 0s)",
  "bin(time, -1s)",
  "bin(time, 1000000000d)",
  "ago(1000000000d)",
  "ago(106752d)",
  "date_add('hour', 9223372036854775807, time)",
  "date_add('nope', 1, time)",
  "date_trunc('fortnight', time)",
  "date_diff('century', time, now())",
  "from_milliseconds(9223372036854775807)",
  "from_unixtime(-1e20)",
  "from_unixtime(1e300)",
  "from_iso8601_timestamp('not a time')",
  "from_iso8601_timestamp('99999-01-01T00:00:00Z')",
  "to_milliseconds(NULL)",
  "CAST('x' AS double)",
  "CAST(1e400 AS bigint)",
  "CAST(time AS varchar)",
  "CAST(region AS timestamp)",
  "TRY_CAST('x' AS bigint)",
  "regexp_like(region, '(')",
  "regexp_replace(region, '[', 'x')",
  "regexp_extract(region, '(a)', 9)",
  "substr(region, 9223372036854775807)",
  "substr(region, -1000000000, 1000000000)",
  "lpad(region, 1000000000, 'x')",
  "rpad(region, -1, 'x')",
  "repeat('x', 1000000000)",
  "array_join(sequence(1, 100000), ',')",
  "split(region, '')",
  "ARRAY[1, 2][0]",
  "ARRAY[1, 2][9223372036854775807]",
  "element_at(ARRAY[1], -5)",
  "approx_percentile(measure_value::double, 2)",
  "approx_percentile(measure_value::double, -1)",
  "approx_percentile(measure_value::double, 1, 0.5)",
  "round(measure_value::double, 1000000000)",
  "power(10, 1000)",
  "1 / 0",
  "1 % 0",
  "9223372036854775807 + 1",
  "-(-9223372036854775807 - 1)",
  "abs(-9223372036854775807 - 1)",
  "interpolate_linear(1, 2)",
  "create_time_series(1, 2)",
  "read_csv('/etc/passwd')",
  "getenv('HOME')",
  "current_setting('memory_limit')",
  "glob('*')",
  "duckdb_tables()",
  "pg_sleep(100)",
  "nope_function(1)",
  "count(*, *)",
  "count(DISTINCT)",
  "transform(ARRAY[1], x -> x / 0)",
  "reduce(sequence(1, 10000), 0, (s, x) -> s + x, s -> s)",
  "cardinality(sequence(1, 10000))",
  "length(reduce(sequence(1, 10000), '', (s, x) -> s || lpad('x', 100000, 'y'), s -> s))",
  "reduce(sequence(1, 10000), ARRAY[0], (s, x) -> s || sequence(1, 10000), s -> cardinality(s))",
  "reduce(sequence(1, 100), 'x', (s, x) -> s || s, s -> length(s))",
  "cardinality(flatten(transform(sequence(1, 1000), x -> sequence(1, 1000))))",
  "json_extract(region, '$.[')",
  "chr(1114112)",
  "chr(-1)",
  "from_milliseconds(-9223372036854775807 - 1)",
  "date_add('year', 1000000, now())",
];

type Rng = () => number;

const pick = <T>(r: Rng, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** Splits SQL into rough tokens: quoted texts, numbers with their unit, words, operators. */
export function roughTokens(sql: string): string[] {
  return (
    sql.match(
      /"(?:[^"]|"")*"|'(?:[^']|'')*'|\d+(?:\.\d+)?(?:e\d+)?[a-z]*|[\p{L}_][\p{L}\p{N}_]*(?:::[a-z]+)?|::|<=|>=|<>|!=|->|\|\||\S/giu,
    ) ?? []
  );
}

/** One mutation of a token list, in place. */
function mutate(r: Rng, tokens: string[]): void {
  const at = Math.floor(r() * (tokens.length + 1));
  const one = Math.min(at, Math.max(0, tokens.length - 1));
  switch (Math.floor(r() * 16)) {
    case 0:
      tokens.splice(one, 1 + Math.floor(r() * 3));
      break;
    case 1:
      if (tokens.length > 0) tokens.splice(one, 0, ...tokens.slice(one, one + 1 + Math.floor(r() * 4)));
      break;
    case 2: {
      const other = Math.floor(r() * tokens.length);
      if (tokens.length > 1) [tokens[one], tokens[other]] = [tokens[other]!, tokens[one]!];
      break;
    }
    case 3:
      tokens.splice(at, 0, pick(r, KEYWORDS));
      break;
    case 4:
      tokens.splice(at, 0, pick(r, OPERATORS));
      break;
    case 5:
      tokens.splice(at, 0, pick(r, ODD_TEXT));
      break;
    case 6: {
      // A number (or any token) becomes a huge literal.
      const numbers = tokens.flatMap((t, i) => (/^\d/.test(t) ? [i] : []));
      tokens[numbers.length > 0 ? pick(r, numbers) : one] = pick(r, HUGE_LITERALS);
      break;
    }
    case 7: {
      const durations = tokens.flatMap((t, i) => (/^\d+[a-z]+$/i.test(t) ? [i] : []));
      tokens[durations.length > 0 ? pick(r, durations) : one] = pick(r, DURATIONS);
      break;
    }
    case 8: {
      // Deep nesting around one token: about the nesting limit (100), below and above it.
      const depth = 1 + Math.floor(r() * 400);
      const wrap = pick(r, [
        ["(", ")"],
        ["abs(", ")"],
        ["NOT ", ""],
        ["- ", ""],
        ["(SELECT ", ")"],
        ["ARRAY[", "]"],
      ] as const);
      tokens[one] = `${wrap[0].repeat(depth)}${tokens[one] ?? "1"}${wrap[1].repeat(depth)}`;
      break;
    }
    case 9:
    case 10:
      tokens[one] = pick(r, HOSTILE_CALLS);
      break;
    case 11:
      tokens.length = Math.floor(r() * tokens.length);
      break;
    case 12: {
      // A long chain: `a OR a OR …` (one expression level per operator).
      const n = 1 + Math.floor(r() * 3000);
      tokens.splice(at, 0, Array.from({ length: n }, () => "1 = 1").join(pick(r, [" OR ", " AND ", " + "])));
      break;
    }
    case 13:
      tokens.push(pick(r, ["; DROP TABLE x", "; SELECT 1", ";", "-- comment", "/* c */", "\u0000"]));
      break;
    case 14: {
      const quoted = tokens.flatMap((t, i) => (/^['"]/.test(t) ? [i] : []));
      const i = quoted.length > 0 ? pick(r, quoted) : one;
      const q = (tokens[i] ?? "'")[0] === '"' ? '"' : "'";
      tokens[i] = `${q}${pick(r, ODD_TEXT)}${pick(r, ["", "x".repeat(70_000), "%", "_", q])}${q}`;
      break;
    }
    default:
      if (tokens.length > 0)
        tokens[one] = r() < 0.5 ? tokens[one]!.toUpperCase() : tokens[one]!.toLowerCase();
  }
}

/** The next query to send. */
export function nextQuery(r: Rng): string {
  const roll = r();
  if (roll < 0.1) {
    // Token soup.
    const all = [...KEYWORDS, ...OPERATORS, ...ODD_TEXT, ...HUGE_LITERALS.slice(0, 11), ...DURATIONS];
    return Array.from({ length: 1 + Math.floor(r() * 30) }, () => pick(r, all)).join(r() < 0.8 ? " " : "");
  }
  if (roll < 0.25) {
    // A hostile call in an otherwise valid query.
    return r() < 0.5
      ? `SELECT ${pick(r, HOSTILE_CALLS)}`
      : `SELECT ${pick(r, HOSTILE_CALLS)} FROM ${T} WHERE measure_name = 'cpu_nice' LIMIT 3`;
  }
  const tokens = roughTokens(pick(r, QUERY_CORPUS));
  if (roll > 0.97) return tokens.join(" ");
  const mutations = 1 + Math.floor(r() * 3);
  for (let m = 0; m < mutations; m++) mutate(r, tokens);
  return tokens.join(r() < 0.95 ? " " : "");
}

const FORBIDDEN = [
  { pattern: /\n\s+at /, what: "a stack trace in the message" },
  { pattern: /INTERNAL Error/i, what: "DuckDB's internal error in the message" },
  { pattern: /_hg\.t\d+/, what: "a physical table name in the message" },
];

/** A problem with the answer, or undefined when it follows the rules. */
function judge(status: number, text: string, rest: boolean, query: string): string | undefined {
  if (status >= 500) return "a server error";
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return "the answer is not JSON";
  }
  if (status === 200) return Array.isArray(json["Rows"]) ? undefined : "a 200 without Rows";
  if (status < 400) return `unexpected status ${status}`;
  let message: unknown;
  if (rest) {
    const error = json["error"] as { code?: unknown; message?: unknown } | undefined;
    if (typeof error?.code !== "string") return "a REST error without error.code";
    message = error.message;
  } else {
    if (typeof json["__type"] !== "string") return "an AWS error without __type";
    message = json["message"];
  }
  if (typeof message !== "string" || message === "") return "an error without a message";
  for (const { pattern, what } of FORBIDDEN) {
    // A name the query itself wrote may come back in its error ("unknown table _hg.t1_points").
    const found = pattern.exec(message)?.[0];
    if (found !== undefined && !query.includes(found.trim())) return what;
  }
  return undefined;
}

/** Runs the fuzzer for `seconds`; resolves with what happened. */
export async function runQueryFuzz(options: QueryFuzzOptions): Promise<QueryFuzzReport> {
  const report: QueryFuzzReport = {
    calls: 0,
    byStatus: {},
    problems: [],
    healthChecks: 0,
    maxHealthMs: 0,
    slowest: { ms: 0, query: "" },
  };
  const deadline = Date.now() + options.seconds * 1000;
  const problem = (p: QueryFuzzProblem) => {
    if (report.problems.length < 20) report.problems.push(p);
  };

  const worker = async (n: number) => {
    const r = random(options.seed * 1000 + n);
    while (Date.now() < deadline) {
      const query = nextQuery(r);
      const rest = r() < 0.5;
      const body = JSON.stringify({
        QueryString: query,
        ...(r() < 0.2 ? { MaxRows: 1 + Math.floor(r() * 10) } : {}),
      });
      const started = performance.now();
      const hangMs = options.hangMs ?? 30_000;
      const response = await fetch(rest ? `${options.url}/api/v1/query` : options.url, {
        signal: AbortSignal.timeout(hangMs),
        method: "POST",
        headers: rest
          ? { "content-type": "application/json" }
          : { "content-type": "application/x-amz-json-1.0", "x-amz-target": "Timestream_20181101.Query" },
        body,
      }).catch((error: unknown) => {
        if ((error as Error).name !== "TimeoutError") throw error;
        return null;
      });
      if (response === null) {
        problem({
          what: `no answer within ${hangMs} ms`,
          status: 0,
          response: "",
          query: query.slice(0, 2000),
        });
        continue;
      }
      const text = await response.text();
      const ms = performance.now() - started;
      if (ms > report.slowest.ms) report.slowest = { ms, query: query.slice(0, 2000) };
      report.calls++;
      report.byStatus[response.status] = (report.byStatus[response.status] ?? 0) + 1;
      const what = judge(response.status, text, rest, query);
      if (what !== undefined) {
        problem({
          what,
          status: response.status,
          response: text.slice(0, 2000),
          query: query.slice(0, 2000),
        });
      }
    }
  };

  let healthDone = false;
  const health = async () => {
    while (!healthDone) {
      const started = performance.now();
      const response = await fetch(`${options.url}/health`);
      await response.text();
      report.healthChecks++;
      report.maxHealthMs = Math.max(report.maxHealthMs, performance.now() - started);
      if (response.status !== 200)
        problem({ what: "/health failed", status: response.status, response: "", query: "" });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const healthLoop = health();
  try {
    await Promise.all(Array.from({ length: options.workers ?? 4 }, (_, n) => worker(n)));
  } finally {
    healthDone = true;
    await healthLoop;
  }
  return report;
}

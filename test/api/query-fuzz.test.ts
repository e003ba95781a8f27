/**
 * Timestream SQL cannot take the server down: a few seconds of random and mutated queries over
 * real HTTP (REST and the Timestream Query endpoint) get a 200 or a 4xx in the documented error
 * shape, never a 5xx or an internal detail, while /health answers within 1 s and the data stays.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nextQuery, QUERY_CORPUS, runQueryFuzz, seedFuzzTable } from "../support/query-fuzz.js";
import { queryAll } from "../support/store.js";
import { random } from "../support/write-fuzz.js";
import { startTestServer, type TestServer } from "./helpers.js";

const TABLE = '"airflow-db"."airflow-table"';
const COUNT = `SELECT count(*) FROM ${TABLE}`;

describe("Timestream SQL fuzzing over HTTP", () => {
  let t: TestServer;
  let seeded = 0;
  const logged: unknown[] = [];

  before(async () => {
    // A tight time limit: a fuzzed query that would run for minutes is stopped (a 400) in 2 s.
    t = await startTestServer({
      limits: { timeoutMs: 2000 },
      logger: { error: (details) => logged.push(details) },
    });
    seeded = await seedFuzzTable(t.store);
    assert.equal(seeded, 300);
  });
  after(() => t.close());

  it("every corpus query runs (the mutations start from valid SQL)", async () => {
    const failed: string[] = [];
    for (const query of QUERY_CORPUS) {
      const response = await fetch(`${t.server.url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ QueryString: query }),
      });
      if (response.status !== 200) failed.push(`${query}: ${await response.text()}`);
    }
    assert.deepEqual(failed, []);
  });

  /** Each query through the REST API: its status, and its error message or first row's values. */
  const answersTo = async (queries: string[]) => {
    const answers: unknown[][] = [];
    for (const query of queries) {
      const response = await fetch(`${t.server.url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ QueryString: query }),
      });
      const body = (await response.json()) as {
        error?: { message: string };
        Rows?: { Data: { ScalarValue: string }[] }[];
      };
      answers.push([response.status, body.error?.message ?? body.Rows?.[0]?.Data.map((d) => d.ScalarValue)]);
    }
    return answers;
  };

  it("refuses lpad/rpad of a huge length with a 400 at once (found by this fuzzer: it ran past the time limit)", async () => {
    const answers = await answersTo([
      `SELECT lpad(region, 1000000000, 'x') FROM ${TABLE} LIMIT 3`,
      `SELECT rpad(region, CAST(measure_value::double AS bigint) * 100000, 'x') FROM ${TABLE} LIMIT 3`,
      `SELECT lpad(region, -1, 'x') FROM ${TABLE} LIMIT 3`,
      `SELECT lpad(region, 12, '-'), rpad('ab', CAST(measure_value::double AS bigint) % 5 + 2, '.') FROM ${TABLE} WHERE instance_name = 'i-1' ORDER BY time LIMIT 1`,
    ]);
    const limit = "length must be from 0 to 100,000 characters (the longest string it may build)";
    assert.deepEqual(answers, [
      [400, `line 1, column 21: lpad()'s ${limit}, not 1000000000`],
      [400, `query failed: Invalid Input Error: rpad()'s ${limit}`],
      [400, `query failed: Invalid Input Error: lpad()'s ${limit}`],
      [200, ["---eu-west-1", "ab.."]],
    ]);
  });

  it("refuses repeat() of a huge count with a 400 (found by this fuzzer: it held both query slots)", async () => {
    const answers = await answersTo([
      "SELECT repeat('x', 1000000000)",
      `SELECT repeat('x', 20000 + CAST(measure_value::double AS bigint) * 0) FROM ${TABLE} WHERE measure_value::double IS NOT NULL LIMIT 1`,
      "SELECT cardinality(repeat('x', 10000))",
    ]);
    const limit = "repeat()'s count must be from 0 to 10,000 (Presto's limit)";
    assert.deepEqual(answers, [
      [400, `line 1, column 20: ${limit}, not 1000000000`],
      [400, `query failed: Invalid Input Error: ${limit}`],
      [200, ["10000"]],
    ]);
  });

  it("stops a reduce() whose state grows past 100,000 characters or entries (found by this fuzzer: it held a call for over a minute)", async () => {
    const answers = await answersTo([
      "SELECT length(reduce(sequence(1, 10000), '', (s, x) -> s || lpad('x', 100000, 'y'), s -> s))",
      "SELECT reduce(sequence(1, 10000), ARRAY[0], (s, x) -> s || sequence(1, 10000), s -> cardinality(s))",
      "SELECT reduce(sequence(1, 10000), '', (s, x) -> s || 'ab', s -> length(s)), reduce(sequence(1, 3), ARRAY[0], (s, x) -> s || ARRAY[x], s -> cardinality(s))",
    ]);
    const grew = "query failed: Invalid Input Error: reduce()'s state grew past 100,000";
    const hint = "(a fixed limit): reduce to something smaller, such as a sum or a count";
    assert.deepEqual(answers, [
      [400, `${grew} characters ${hint}`],
      [400, `${grew} entries ${hint}`],
      [200, ["20000", "4"]],
    ]);
  });

  it("the same seed gives the same queries", () => {
    const a = random(7);
    const b = random(7);
    const first = Array.from({ length: 20 }, () => nextQuery(a));
    assert.deepEqual(
      first,
      Array.from({ length: 20 }, () => nextQuery(b)),
    );
    assert.ok(new Set(first).size > 10, "the queries differ from each other");
  });

  it("fuzzes queries for a few seconds: no 5xx, no internals in messages, /health within 1 s, data intact", async (test) => {
    const seed = Number(process.env["HG_FUZZ_SEED"] ?? Date.now() % 100_000);
    const report = await runQueryFuzz({ url: t.server.url, seconds: 5, seed, workers: 4 });
    const context = `seed ${seed} (HG_FUZZ_SEED=${seed} repeats it): ${JSON.stringify({ ...report, problems: report.problems.slice(0, 3) }, null, 1)}`;
    test.diagnostic(
      `seed ${seed}: ${report.calls} calls ${JSON.stringify(report.byStatus)}, /health max ${report.maxHealthMs.toFixed(0)} ms, slowest call ${report.slowest.ms.toFixed(0)} ms`,
    );
    assert.deepEqual(report.problems, [], context);
    assert.ok(report.calls > 20, context);
    assert.ok(report.byStatus[200] && report.byStatus[400], `both answered and refused queries: ${context}`);
    assert.ok(report.maxHealthMs < 1000, context);
    assert.deepEqual(logged, [], "no internal error was logged");
    assert.deepEqual((await queryAll(t.store, COUNT)).rows, [[String(seeded)]], context);
  });
});

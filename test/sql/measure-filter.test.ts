/**
 * `measure_name = '…'` / `IN (…)` in a WHERE become a filter on the store's measure ids (no join to
 * the measure-name table). Every query here runs twice through a real store: as written, and with
 * measure_name wrapped as `(measure_name || '')`, which the translator does not recognise and so
 * leaves to DuckDB's join; the two must return the same rows.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { WriteRecord } from "../../src/store/types.js";
import { createSeedTable, openTestStore, queryAll, record, type TestStore } from "../support/store.js";

const NOW_S = Date.UTC(2021, 8, 22, 16, 0, 0) / 1000;
const T = `"airflow-db"."airflow-table"`;
const HOSTS = [0, 1, 2, 3].map((i) => ({
  region: i % 2 === 0 ? "us-east-2" : "eu-west-1",
  instance_name: `i-${i}`,
  availability_zone: i % 2 === 0 ? "us-east-2-1" : "eu-west-1-2",
}));
const TIMES = Array.from({ length: 10 }, (_, k) => NOW_S - 600 + k * 60);
/** How many points each measure has: all different, so that rows of the wrong measure show. */
const COUNTS: Record<string, number> = {
  cpu_nice: HOSTS.length * TIMES.length,
  cpu_user: HOSTS.length * 8,
  "it's": HOSTS.length * 2,
  task_completed: HOSTS.length * 9,
  metrics_record: HOSTS.length * 3,
};

function seedRecords(): WriteRecord[] {
  const records: WriteRecord[] = [];
  HOSTS.forEach((host, h) => {
    TIMES.forEach((time, k) => {
      records.push(record(host, "cpu_nice", String((h * 7 + k * 3) % 10), time));
      if (k < 8) records.push(record(host, "cpu_user", String(50 + h + k), time));
      if (k < 9) {
        records.push(
          record(host, "task_completed", String(h * 100 + k), time, { MeasureValueType: "BIGINT" }),
        );
      }
      if (k < 2) records.push(record(host, "it's", String(h + k / 10), time));
      if (k < 3) {
        records.push({
          ...record(host, "metrics_record", "", time),
          MeasureValue: undefined,
          MeasureValueType: "MULTI",
          MeasureValues: [
            { Name: "cpu_system", Value: String(h + k), Type: "DOUBLE" },
            { Name: "gc_count", Value: String(k), Type: "BIGINT" },
          ],
        });
      }
    });
  });
  return records;
}

/** A query written with `m(column)` wherever it names measure_name in its WHERE. */
type QueryText = (m: (column: string) => string) => string;
const asWritten = (column: string) => column;
const hidden = (column: string) => `(${column} || '')`;

describe("measure_name filters become measure-id filters", () => {
  let t: TestStore;

  const write = async (records: WriteRecord[]) => {
    const result = await t.store.writeRecords(
      { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
      { maxRecords: records.length },
    );
    assert.deepEqual(result.rejected, []);
  };
  const rows = async (sql: string) => (await queryAll(t.store, sql)).rows;
  const joinsMeasureNames = (sql: string) => /_measures\b/.test(t.store.translate(sql));

  /** Runs the query as written and with measure_name hidden; both must agree. Returns the rows. */
  async function sameAsUntranslated(text: QueryText, expectTranslated: boolean) {
    const written = text(asWritten);
    const reference = text(hidden);
    assert.equal(
      joinsMeasureNames(written),
      !expectTranslated,
      `${expectTranslated ? "expected" : "did not expect"} a measure-id filter for: ${written}\n${t.store.translate(written)}`,
    );
    assert.ok(joinsMeasureNames(reference), "the reference form keeps the join to measure names");
    const actual = await queryAll(t.store, written);
    const expected = await queryAll(t.store, reference);
    assert.deepEqual(actual, expected);
    return actual.rows;
  }

  before(async () => {
    t = await openTestStore(NOW_S * 1000);
    await createSeedTable(t.store);
    await write(seedRecords());
  });
  after(async () => {
    await t.close();
  });

  it("translates the seed's equality and returns the same groups as the join", async () => {
    const result = await sameAsUntranslated(
      (m) =>
        `SELECT instance_name, BIN(time, 2m) AS b, ROUND(AVG(measure_value::double), 2) AS a, ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90, ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99 FROM ${T} WHERE ${m("measure_name")} = 'cpu_nice' AND time BETWEEN ago(20m) AND now() GROUP BY region, instance_name, availability_zone, BIN(time, 2m) ORDER BY b, instance_name`,
      true,
    );
    assert.ok(result.length > HOSTS.length);
  });

  it("keeps measure_name selectable, with the literal on either side", async () => {
    const result = await sameAsUntranslated(
      (m) =>
        `SELECT measure_name, count(*) AS n FROM ${T} WHERE 'cpu_user' = ${m("measure_name")} GROUP BY measure_name`,
      true,
    );
    assert.deepEqual(result, [["cpu_user", String(COUNTS.cpu_user)]]);
  });

  it("translates IN lists and ORs of equalities, naming each row's measure", async () => {
    const expected = [
      ["cpu_nice", String(COUNTS.cpu_nice)],
      ["it's", String(COUNTS["it's"])],
      ["task_completed", String(COUNTS.task_completed)],
    ];
    const inList = await sameAsUntranslated(
      (m) =>
        `SELECT measure_name, count(*) FROM ${T} WHERE ${m("measure_name")} IN ('cpu_nice', 'it''s', 'task_completed') GROUP BY measure_name ORDER BY measure_name`,
      true,
    );
    assert.deepEqual(inList, expected);
    const ors = await sameAsUntranslated(
      (m) =>
        `SELECT measure_name, count(*) FROM ${T} WHERE (${m("measure_name")} = 'cpu_nice' OR ${m("measure_name")} = 'it''s') OR ${m("measure_name")} IN ('task_completed') GROUP BY measure_name ORDER BY measure_name`,
      true,
    );
    assert.deepEqual(ors, expected);
  });

  it("returns an empty result, not an error, for a measure that does not exist", async () => {
    assert.deepEqual(
      await sameAsUntranslated(
        (m) => `SELECT * FROM ${T} WHERE ${m("measure_name")} = 'no_such_measure'`,
        true,
      ),
      [],
    );
    assert.deepEqual(
      await sameAsUntranslated(
        (m) =>
          `SELECT count(*), max(measure_value::double) FROM ${T} WHERE ${m("measure_name")} IN ('nope', 'nada')`,
        true,
      ),
      [["0", null]],
    );
    // Known and unknown together: only the known one's rows.
    assert.deepEqual(
      await sameAsUntranslated(
        (m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} IN ('nope', 'cpu_nice')`,
        true,
      ),
      [[String(COUNTS.cpu_nice)]],
    );
    // Measure names are case-sensitive, as in Timestream.
    assert.deepEqual(
      await sameAsUntranslated(
        (m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} = 'CPU_NICE'`,
        true,
      ),
      [["0"]],
    );
  });

  it("keeps every condition: two equalities on different measures give nothing", async () => {
    assert.deepEqual(
      await sameAsUntranslated(
        (m) =>
          `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} = 'cpu_nice' AND ${m("measure_name")} IN ('cpu_user', 'cpu_nice') AND ${m("measure_name")} = 'cpu_user'`,
        true,
      ),
      [["0"]],
    );
    assert.deepEqual(
      await sameAsUntranslated(
        (m) =>
          `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} IN ('cpu_user', 'cpu_nice') AND ${m("measure_name")} = 'cpu_nice' AND instance_name = 'i-1'`,
        true,
      ),
      [[String(TIMES.length)]],
    );
  });

  it("leaves NOT, <>, NOT IN, LIKE and mixed ORs to DuckDB, with correct results", async () => {
    const total = Object.values(COUNTS).reduce((a, b) => a + b, 0);
    const cases: [QueryText, number][] = [
      [
        (m) => `SELECT count(*) FROM ${T} WHERE NOT (${m("measure_name")} = 'cpu_nice')`,
        total - COUNTS.cpu_nice!,
      ],
      [(m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} <> 'cpu_nice'`, total - COUNTS.cpu_nice!],
      [
        (m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} NOT IN ('cpu_nice', 'cpu_user')`,
        total - COUNTS.cpu_nice! - COUNTS.cpu_user!,
      ],
      [
        (m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} LIKE 'cpu%'`,
        COUNTS.cpu_nice! + COUNTS.cpu_user!,
      ],
      [
        (m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} NOT LIKE 'cpu\\_%' ESCAPE '\\'`,
        total - COUNTS.cpu_nice! - COUNTS.cpu_user!,
      ],
      [
        (m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} = 'cpu_nice' OR instance_name = 'i-1'`,
        total / HOSTS.length + (HOSTS.length - 1) * TIMES.length,
      ],
      [
        (m) => `SELECT count(*) FROM ${T} WHERE NOT (${m("measure_name")} IN ('cpu_nice'))`,
        total - COUNTS.cpu_nice!,
      ],
      [(m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} IN ('cpu_nice', NULL)`, COUNTS.cpu_nice!],
    ];
    for (const [text, count] of cases) {
      assert.deepEqual(await sameAsUntranslated(text, false), [[String(count)]], text(asWritten));
    }
  });

  it("translates qualified names and each side of a self-join separately", async () => {
    await sameAsUntranslated(
      (m) =>
        `SELECT a.instance_name, a.time, a.measure_value::double AS nice, b.measure_value::double AS usr FROM ${T} a JOIN ${T} b ON a.instance_name = b.instance_name AND a.time = b.time WHERE ${m("a.measure_name")} = 'cpu_nice' AND ${m("b.measure_name")} = 'cpu_user' ORDER BY a.instance_name, a.time`,
      true,
    );
    const result = await sameAsUntranslated(
      (m) => `SELECT count(*) FROM ${T} WHERE ${m(`"airflow-db"."airflow-table".measure_name`)} = 'cpu_nice'`,
      true,
    );
    assert.deepEqual(result, [[String(COUNTS.cpu_nice)]]);
  });

  it("keeps outer joins right when the filtered table is on either side", async () => {
    // Hosts i-0 … i-4: i-4 has no points at all.
    const hosts = `(VALUES 'i-0', 'i-1', 'i-2', 'i-3', 'i-4') AS h(name)`;
    const left = await sameAsUntranslated(
      (m) =>
        `SELECT h.name, count(p.time) FROM ${hosts} LEFT JOIN ${T} p ON p.instance_name = h.name WHERE ${m("p.measure_name")} = 'it''s' GROUP BY h.name ORDER BY h.name`,
      true,
    );
    assert.deepEqual(
      left,
      HOSTS.map((h) => [h.instance_name, "2"]),
    );
    const unqualified = await sameAsUntranslated(
      (m) =>
        `SELECT h.name, count(time) FROM ${hosts} LEFT JOIN ${T} ON instance_name = h.name WHERE ${m("measure_name")} = 'it''s' GROUP BY h.name ORDER BY h.name`,
      true,
    );
    assert.deepEqual(unqualified, left);
    await sameAsUntranslated(
      (m) =>
        `SELECT p.measure_name, h.name, count(*) FROM ${T} p FULL JOIN ${hosts} ON p.instance_name = h.name AND p.measure_value::double > 5 WHERE ${m("p.measure_name")} IN ('cpu_nice', 'it''s') GROUP BY p.measure_name, h.name ORDER BY 1, 2`,
      true,
    );
  });

  it("refuses an unqualified measure_name that two relations have, as before", async () => {
    for (const sql of [
      `SELECT count(*) FROM ${T} a JOIN ${T} b ON a.time = b.time WHERE measure_name = 'cpu_nice'`,
      `SELECT count(*) FROM ${T} a, (SELECT measure_name FROM ${T}) b WHERE measure_name = 'cpu_nice'`,
    ]) {
      await assert.rejects(queryAll(t.store, sql), /ambiguous/);
    }
  });

  it("translates inside subqueries and WITH queries", async () => {
    const result = await sameAsUntranslated(
      (m) =>
        `WITH nice AS (SELECT instance_name, measure_value::double AS v FROM ${T} WHERE ${m("measure_name")} = 'cpu_nice') SELECT instance_name, (SELECT max(measure_value::bigint) FROM ${T} t2 WHERE ${m("t2.measure_name")} = 'task_completed' AND t2.instance_name = nice.instance_name) AS top, sum(v) FROM nice GROUP BY instance_name ORDER BY instance_name`,
      true,
    );
    assert.equal(result.length, HOSTS.length);
  });

  it("reads multi-measure records by their measure name", async () => {
    const result = await sameAsUntranslated(
      (m) =>
        `SELECT instance_name, time, cpu_system, gc_count FROM ${T} WHERE ${m("measure_name")} = 'metrics_record' ORDER BY instance_name, time`,
      true,
    );
    assert.equal(result.length, COUNTS.metrics_record);
    assert.deepEqual(result[0]!.slice(2), ["0.0", "0"]);
  });

  it("finds a measure written after the query's first run", async () => {
    const text: QueryText = (m) =>
      `SELECT instance_name, measure_value::double FROM ${T} WHERE ${m("measure_name")} = 'late_measure' ORDER BY instance_name`;
    assert.deepEqual(await sameAsUntranslated(text, true), []);
    await write([
      record(HOSTS[0]!, "late_measure", "12.5", NOW_S - 30),
      record(HOSTS[1]!, "late_measure", "7", NOW_S - 30),
    ]);
    assert.deepEqual(await sameAsUntranslated(text, true), [
      ["i-0", "12.5"],
      ["i-1", "7.0"],
    ]);
    assert.deepEqual(
      await rows(`SELECT count(*) FROM ${T} WHERE measure_name IN ('late_measure', 'cpu_nice')`),
      [[String(COUNTS.cpu_nice! + 2)]],
    );
  });

  it("still hides points past the table's retention", async () => {
    const text: QueryText = (m) => `SELECT count(*) FROM ${T} WHERE ${m("measure_name")} = 'cpu_nice'`;
    const saved = t.clock.nowMs;
    try {
      // Retention is 24 h + 1 day: move "now" so that the first 5 minutes of points have expired.
      t.clock.nowMs = (TIMES[0]! + 48 * 3600 + 270) * 1000;
      assert.deepEqual(await sameAsUntranslated(text, true), [[String(HOSTS.length * 5)]]);
    } finally {
      t.clock.nowMs = saved;
    }
  });
});

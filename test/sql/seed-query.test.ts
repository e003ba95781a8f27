import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { formatTimestampNs } from "../../src/sql/index.js";
import { Harness, nearestRank, nsPerSecond, type Point } from "./harness.js";

/** Copied verbatim from the seed (the query the blog ran in the Timestream console). */
const SEED_QUERY = `SELECT instance_name, BIN(time, 15s) AS binned_timestamp, ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_nice' AND time BETWEEN '2021-09-22 13:00:00+00:00' AND '2021-09-22 16:00:00+00:00' GROUP BY region, instance_name, availability_zone, BIN(time, 15s) ORDER BY binned_timestamp ASC `;

const windowStartNs = BigInt(Date.UTC(2021, 8, 22, 13)) * 1_000_000n;
const windowEndNs = BigInt(Date.UTC(2021, 8, 22, 16)) * 1_000_000n;
const binNs = 15n * nsPerSecond;

interface Group {
  instance: string;
  binNs: bigint;
  values: number[];
}

/** The seed's query, computed in plain TypeScript from the generated points. */
function reference(points: Point[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const p of points) {
    if (p.measure_name !== "cpu_nice" || p.timeNs < windowStartNs || p.timeNs > windowEndNs) continue;
    const bin = (p.timeNs / binNs) * binNs;
    const key = `${p.instance_name}|${formatTimestampNs(bin).slice(0, 19)}`;
    const group = groups.get(key) ?? { instance: p.instance_name, binNs: bin, values: [] };
    group.values.push(p.double!);
    groups.set(key, group);
  }
  return groups;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

describe("the seed's query, verbatim", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.create();
  });
  after(() => h.close());

  it("names its columns as Timestream does and orders rows by bin", async () => {
    const result = await h.query(SEED_QUERY);
    const expected = [
      "instance_name",
      "binned_timestamp",
      "avg_cpu_utilization",
      "p90_cpu_utilization",
      "p95_cpu_utilization",
      "p99_cpu_utilization",
    ];
    assert.deepEqual(result.names, expected);
    assert.deepEqual(result.columns, expected);
    const bins = result.rows.map((row) => String(row[1]));
    assert.deepEqual(bins, [...bins].sort());
  });

  it("returns one row per group with averages and nearest-rank percentiles equal to a TypeScript reference", async () => {
    const groups = reference(h.points);
    const result = await h.query(SEED_QUERY);
    assert.equal(result.rows.length, groups.size);
    // Both window edges are inside BETWEEN: the point at exactly 16:00:00 is a group of its own.
    assert.ok(groups.has(`${h.points[0]!.instance_name}|2021-09-22 16:00:00`));
    let twoPointGroups = 0;
    for (const row of result.rows) {
      const [instance, bin, avg, p90, p95, p99] = row as [string, string, number, number, number, number];
      const group = groups.get(`${instance}|${bin}`);
      assert.ok(group, `unexpected group ${instance} ${bin}`);
      const mean = group.values.reduce((a, b) => a + b, 0) / group.values.length;
      assert.ok(Math.abs(avg - round2(mean)) < 1e-9, `avg of ${group.values} is ${avg}`);
      assert.equal(p90, round2(nearestRank(group.values, 0.9)));
      assert.equal(p95, round2(nearestRank(group.values, 0.95)));
      assert.equal(p99, round2(nearestRank(group.values, 0.99)));
      if (group.values.length === 2) {
        twoPointGroups++;
        // As in the seed's own output: on two points every high percentile is the larger one.
        assert.equal(p90, round2(Math.max(...group.values)));
      }
    }
    assert.ok(twoPointGroups > 0, "the data has 2-point groups");
  });

  it("computes the three percentiles of one value once, as a list, and pushes the time filter to the column", async () => {
    const { sql } = await h.query(SEED_QUERY);
    assert.match(sql, /quantile_disc\("measure_value::double", \[0\.9, 0\.95, 0\.99\]\)\)\[1\]/);
    assert.doesNotMatch(sql, /approx_quantile|quantile_cont/);
    assert.ok(
      sql.includes(
        `("time" BETWEEN TIMESTAMP_NS '2021-09-22 13:00:00.000000000' AND TIMESTAMP_NS '2021-09-22 16:00:00.000000000')`,
      ),
      sql,
    );
    assert.ok(sql.includes(`time_bucket(INTERVAL 15 SECOND, "time")`), sql);
  });

  it("lets DuckDB filter time inside the table scan (the column compared as stored, never cast), with one quantile aggregate", async () => {
    const plan = await h.explain(SEED_QUERY);
    const flat = plan.replace(/[\s│┌┐└┘─┬┴├┤]/g, "");
    const scan = flat.slice(flat.indexOf("SEQ_SCAN"));
    // The harness's resolver filters the measure inside its relation too (relationForMeasures), so
    // the scan may hold the measure filter twice; the time filter must be there, on the raw column.
    assert.ok(scan.includes("Filters:measure_name='cpu_nice'"), plan);
    assert.ok(
      scan.includes("time>='2021-09-2213:00:00'::TIMESTAMP_NSANDtime<='2021-09-2216:00:00'::TIMESTAMP_NS"),
      plan,
    );
    assert.doesNotMatch(scan, /CAST/i);
    // The three percentiles are one aggregate in the plan.
    assert.equal(flat.match(/quantile_disc\(#/g)?.length, 1, plan);
  });

  it("gives the same percentiles as separate quantile_disc calls would (unrounded)", async () => {
    const shared = await h.query(
      `SELECT instance_name, bin(time, 15s) AS b, approx_percentile(measure_value::double, 0.5) AS p50, approx_percentile(measure_value::double, 0.9) AS p90 FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_user' GROUP BY instance_name, bin(time, 15s) ORDER BY instance_name, b`,
    );
    const single = await h.query(
      `SELECT instance_name, bin(time, 15s) AS b, approx_percentile(measure_value::double, 0.5) AS p50 FROM "airflow-db"."airflow-table" WHERE measure_name = 'cpu_user' GROUP BY instance_name, bin(time, 15s) ORDER BY instance_name, b`,
    );
    assert.match(shared.sql, /\[0\.5, 0\.9\]/);
    assert.doesNotMatch(single.sql, /\[/);
    assert.deepEqual(
      shared.rows.map((r) => r[2]),
      single.rows.map((r) => r[2]),
    );
  });

  it("runs the DAG's form with interval literals from Airflow, and the unquoted table name of its log", async () => {
    const fromDag = SEED_QUERY.replace("2021-09-22 13:00:00+00:00", "2021-09-22 13:01:00+00:00").replace(
      "2021-09-22 16:00:00+00:00",
      "2021-09-22 13:02:00+00:00",
    );
    const result = await h.query(fromDag);
    // 13:01:00 to 13:02:00 inclusive: 7 points per host, in bins 13:01:00, :15, :30, :45, 13:02:00.
    assert.equal(result.rows.length, 6 * 5);
    await assert.rejects(
      h.query(SEED_QUERY.replace('"airflow-db"."airflow-table"', "demoAirflow.kinesisdata1")),
      (error: Error & { code?: string }) =>
        error.code === "NotFound" && error.message.includes("demoAirflow"),
    );
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  buildModel,
  type GeneratedLoop,
  generateLoop,
  toSingleMeasureRecords,
} from "../../src/loadgen/index.js";
import { nearestRank, SEED_QUERY } from "../support/seed.js";
import { createSeedTable, openTestStore, queryAll, type TestStore } from "../support/store.js";

const START_S = Date.UTC(2021, 8, 22, 13, 0, 0) / 1000;
const LOOPS = 24; // 4 minutes of the WORKLOAD model, a loop every 10 s: 624,000 records

describe("the seed's query, verbatim, over the WORKLOAD model", () => {
  let t: TestStore;
  const loops: GeneratedLoop[] = [];

  before(async () => {
    t = await openTestStore(Date.UTC(2021, 8, 22, 16, 0, 0));
    await createSeedTable(t.store);
    const model = buildModel({ hostScale: 1 });
    for (let l = 0; l < LOOPS; l++) {
      const loop = generateLoop(model, START_S + l * 10);
      loops.push(loop);
      const records = toSingleMeasureRecords(loop);
      const result = await t.store.writeRecords(
        { DatabaseName: "airflow-db", TableName: "airflow-table", Records: records },
        { maxRecords: records.length },
      );
      assert.deepEqual(result.rejected, []);
    }
  });
  after(async () => {
    await t.close();
  });

  it("returns one row per region, instance, zone and 15 s bin, with the averages and percentiles of a plain TypeScript reference", async () => {
    // Reference: group cpu_nice by the seed's GROUP BY.
    const groups = new Map<string, { instance: string; bin: number; values: number[] }>();
    for (const loop of loops) {
      const bin = Math.floor(loop.time / 15) * 15;
      const values = loop.metrics.cpu_nice;
      loop.model.metricSeries.forEach((series, i) => {
        const key = `${series.region}|${series.instance_name}|${series.availability_zone}|${bin}`;
        let group = groups.get(key);
        if (!group) {
          group = { instance: series.instance_name, bin, values: [] };
          groups.set(key, group);
        }
        group.values.push(values[i]!);
      });
    }
    const { columns, rows } = await queryAll(t.store, SEED_QUERY);
    assert.deepEqual(columns, [
      "instance_name",
      "binned_timestamp",
      "avg_cpu_utilization",
      "p90_cpu_utilization",
      "p95_cpu_utilization",
      "p99_cpu_utilization",
    ]);
    assert.equal(rows.length, groups.size, "one row per group");
    // ORDER BY binned_timestamp: bins never go backwards.
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]![1]! <= rows[i]![1]!);

    // Rows inside a bin come in no fixed order: match them to the reference by instance, bin and values.
    const byInstanceBin = new Map<string, { values: number[] }[]>();
    for (const g of groups.values()) {
      const key = `${g.instance}|${g.bin}`;
      byInstanceBin.set(key, [...(byInstanceBin.get(key) ?? []), g]);
    }
    const close = (actual: string, expected: number) => Math.abs(Number(actual) - expected) <= 0.005 + 1e-9;
    for (const row of rows) {
      const [instance, binText, avg, p90, p95, p99] = row as string[];
      const bin = Date.parse(`${binText!.slice(0, 19).replace(" ", "T")}Z`) / 1000;
      assert.match(binText!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.000000000$/);
      const candidates = byInstanceBin.get(`${instance}|${bin}`);
      assert.ok(candidates && candidates.length > 0, `unexpected group ${instance} ${binText}`);
      const index = candidates.findIndex((g) => {
        const mean = g.values.reduce((a, b) => a + b, 0) / g.values.length;
        return (
          close(avg!, mean) &&
          close(p90!, nearestRank(g.values, 0.9)) &&
          close(p95!, nearestRank(g.values, 0.95)) &&
          close(p99!, nearestRank(g.values, 0.99))
        );
      });
      assert.ok(index >= 0, `no reference group matches ${row.join(",")}`);
      candidates.splice(index, 1);
    }
  });
});

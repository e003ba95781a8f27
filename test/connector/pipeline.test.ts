/**
 * End to end: the historical generator → the stream (4 shards) → the connector → the store, the
 * producer and the connector running at the same time in this process, and every record stored
 * exactly once. A test's size: 3 loops at host scale 1 (78,000 single-measure JSON records, a few
 * seconds). The full hour (9.36 M records, about a minute and 4 GB of segments) is a
 * benchmark, with the same exactly-once check: `node --import tsx bench/pipeline.ts` (see
 * docs/benchmarks.md, "Pipeline").
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  buildModel,
  EVENT_MEASURES,
  generateLoop,
  historical,
  METRIC_MEASURES,
  recordsPerLoop,
} from "../../src/loadgen/index.js";
import { streamSink } from "../../src/loadgen/sinks.js";
import { type StreamConnector, startConnector } from "../../src/stream/connector/index.js";
import { SEED_QUERY } from "../support/seed.js";
import { DB, openPipeline, type Pipeline, rows, SEED_START_S, TABLE, whenHandled } from "./helpers.js";

const LOOPS = 3;
const STEP_S = 10;

describe("pipeline: generator → stream → connector → store (single-measure JSON)", () => {
  let p: Pipeline;
  let connector: StreamConnector;
  let generated = 0;

  before(async () => {
    p = await openPipeline({ shards: 4 });
    connector = await startConnector({
      streams: p.streams,
      store: p.store,
      stream: "metrics",
      database: DB,
      table: TABLE,
      stateDir: p.dir,
    });
    const sink = streamSink(p.streams, "metrics");
    const summary = await historical({
      from: SEED_START_S,
      to: SEED_START_S + LOOPS * STEP_S,
      stepSeconds: STEP_S,
      sink,
      shape: "single",
    });
    generated = summary.records;
    assert.equal(sink.stats.records, generated);
    await whenHandled(connector, generated, 120_000);
  });
  after(async () => {
    await connector.stop();
    await p.close();
  });

  it("stores each generated record exactly once: written once each, and counted per measure", async () => {
    assert.equal(generated, LOOPS * 26_000);
    const status = connector.status();
    // A record delivered twice would not show as a second row (the store's writes are idempotent
    // on the record's key) but as written > generated.
    assert.equal(status.counts.written, generated);
    assert.equal(status.counts.deadLettered, 0);
    assert.equal(status.lag.records, 0);
    assert.ok(status.counts.batches >= 2, `one batch is not a pipeline: ${JSON.stringify(status.counts)}`);
    const counts = await rows(
      p.store,
      `SELECT measure_name, count(*), count(DISTINCT time) FROM "${DB}"."${TABLE}" GROUP BY measure_name ORDER BY measure_name`,
    );
    const model = buildModel({ hostScale: 1 });
    const expected = [
      ...METRIC_MEASURES.map((m) => [m, String(LOOPS * model.metricSeries.length), String(LOOPS)]),
      ...EVENT_MEASURES.map((m) => [m.name, String(LOOPS * model.eventSeries.length), String(LOOPS)]),
    ];
    // memory_free is both a metric and an event measure.
    const merged = new Map<string, string[]>();
    for (const [name, count, times] of expected) {
      const seen = merged.get(name!);
      merged.set(
        name!,
        seen ? [name!, String(Number(seen[1]) + Number(count)), times!] : [name!, count!, times!],
      );
    }
    assert.deepEqual(
      counts,
      [...merged.values()].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
  });

  it("answers the seed's query: one row per region/instance/zone group per 15-second bin", async () => {
    const model = buildModel({ hostScale: 1 });
    const groups = new Set(
      model.metricSeries.map((s) => `${s.region}|${s.instance_name}|${s.availability_zone}`),
    );
    const bins = Math.ceil((LOOPS * STEP_S) / 15);
    const result = await rows(p.store, SEED_QUERY);
    assert.equal(result.length, groups.size * bins);
    const perBin = new Map<string, number>();
    for (const row of result) perBin.set(row[1]!, (perBin.get(row[1]!) ?? 0) + 1);
    assert.equal(perBin.size, bins);
    assert.ok([...perBin.values()].every((n) => n === groups.size));
    // cpu_nice is uniform in [0, 1): so are its averages and percentiles.
    assert.ok(result.every((row) => row.slice(2).every((v) => Number(v) >= 0 && Number(v) <= 1)));
  });
});

describe("pipeline: generator → stream → connector → store (flat JSON → multi-measure)", () => {
  let p: Pipeline;
  let connector: StreamConnector;
  const FLAT_LOOPS = 6;

  before(async () => {
    p = await openPipeline({ shards: 4 });
    connector = await startConnector({
      streams: p.streams,
      store: p.store,
      stream: "metrics",
      database: DB,
      table: TABLE,
      stateDir: p.dir,
      mapping: "flat",
    });
    const summary = await historical({
      from: SEED_START_S,
      to: SEED_START_S + FLAT_LOOPS * STEP_S,
      stepSeconds: STEP_S,
      sink: streamSink(p.streams, "metrics"),
      shape: "multi",
    });
    assert.equal(summary.records, FLAT_LOOPS * recordsPerLoop(buildModel({}), "multi", true).total);
    await whenHandled(connector, summary.records, 60_000);
  });
  after(async () => {
    await connector.stop();
    await p.close();
  });

  it("stores metrics_record and events_record with one typed column per measure", async () => {
    const model = buildModel({ hostScale: 1 });
    const counted = await rows(
      p.store,
      `SELECT measure_name, count(*) FROM "${DB}"."${TABLE}" GROUP BY measure_name ORDER BY measure_name`,
    );
    assert.deepEqual(counted, [
      ["events_record", String(FLAT_LOOPS * model.eventSeries.length)],
      ["metrics_record", String(FLAT_LOOPS * model.metricSeries.length)],
    ]);
    const described = await p.store.describeTable(DB, TABLE);
    const types = Object.fromEntries(described.Schema.map((c) => [c.Name, c.Type]));
    assert.equal(types["cpu_user"], "DOUBLE");
    assert.equal(types["task_completed"], "BIGINT");
    assert.equal(types["task_end_state"], "VARCHAR");

    // The values are the generator's, exactly: sums over the loops match.
    let cpuUser = 0;
    let taskCompleted = 0;
    for (let l = 0; l < FLAT_LOOPS; l++) {
      const loop = generateLoop(model, SEED_START_S + l * STEP_S, { shape: "multi" });
      for (const v of loop.metrics.cpu_user) cpuUser += v;
      for (const v of loop.events!.task_completed) taskCompleted += v;
    }
    const [sums] = await rows(
      p.store,
      `SELECT sum(cpu_user), (SELECT sum(task_completed) FROM "${DB}"."${TABLE}" WHERE measure_name = 'events_record') FROM "${DB}"."${TABLE}" WHERE measure_name = 'metrics_record'`,
    );
    assert.ok(Math.abs(Number(sums![0]) - cpuUser) < 1e-6 * cpuUser);
    assert.equal(Number(sums![1]), taskCompleted);
  });
});

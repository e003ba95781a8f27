import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildModel,
  describeShapes,
  EVENT_DIMENSIONS,
  EVENT_MEASURES,
  generateLoop,
  inBatches,
  METRIC_DIMENSIONS,
  METRIC_MEASURES,
  TASK_END_STATES,
  toFlatPayloads,
  toMultiMeasureRecords,
  toSingleMeasurePayloads,
  toSingleMeasureRecords,
  toStreamPayloads,
  toWriteRecords,
} from "../../src/loadgen/index.js";
import { flatJsonNonDoubleMeasures } from "../../src/stream/index.js";
import { validationErrorMatching } from "./helpers.js";

const time = 1_700_000_000;
const model = buildModel();
const loop = generateLoop(model, time);

/** The string a measure value must print as, read straight from the columns. */
function expectedEventValue(name: string, i: number): string {
  const events = loop.events!;
  if (name === "task_end_state") return TASK_END_STATES[events.task_end_state[i]!]!;
  return String(events[name as "task_completed" | "gc_reclaimed" | "gc_pause" | "memory_free"][i]);
}

describe("record shapes", () => {
  it("single-measure WriteRecords: 26,000 a loop at scale 1, 52,000 at scale 2, exact fields", () => {
    const records = toSingleMeasureRecords(loop);
    assert.equal(records.length, 26_000);
    assert.equal(toSingleMeasureRecords(generateLoop(buildModel({ hostScale: 2 }), time)).length, 52_000);
    assert.equal(toSingleMeasureRecords(generateLoop(model, time, { includeEvents: false })).length, 20_000);

    for (const record of records) {
      assert.deepEqual(Object.keys(record), describeShapes.singleMeasureRecord);
      assert.equal(record.Time, "1700000000");
      assert.equal(record.TimeUnit, "SECONDS");
      assert.equal(typeof record.MeasureValue, "string");
    }
    // Series by series, measures in order, values exactly the columns'.
    for (const i of [0, 1, 517, 999]) {
      const series = model.metricSeries[i]!;
      METRIC_MEASURES.forEach((name, m) => {
        const record = records[i * 20 + m]!;
        assert.deepEqual(
          record.Dimensions,
          METRIC_DIMENSIONS.map((d) => ({ Name: d, Value: series[d] })),
        );
        assert.equal(record.MeasureName, name);
        assert.equal(record.MeasureValueType, "DOUBLE");
        assert.equal(Number(record.MeasureValue), loop.metrics[name][i]);
      });
    }
    for (const k of [0, 3, 4, 1199]) {
      const series = model.eventSeries[k]!;
      EVENT_MEASURES.forEach((measure, m) => {
        const record = records[20_000 + k * 5 + m]!;
        assert.deepEqual(
          record.Dimensions,
          EVENT_DIMENSIONS.map((d) => ({ Name: d, Value: series[d] })),
        );
        assert.equal(record.MeasureName, measure.name);
        assert.equal(record.MeasureValueType, measure.type);
        assert.equal(record.MeasureValue, expectedEventValue(measure.name, k));
      });
    }
    const bigints = records.filter((r) => r.MeasureValueType === "BIGINT");
    assert.equal(bigints.length, 1200);
    for (const r of bigints) assert.match(r.MeasureValue!, /^(0|[1-9]\d*)$/);
    const varchars = records.filter((r) => r.MeasureValueType === "VARCHAR");
    assert.equal(varchars.length, 1200);
    for (const r of varchars) assert.ok((TASK_END_STATES as readonly string[]).includes(r.MeasureValue!));
  });

  it("shares frozen dimension arrays between the records of a series", () => {
    const records = toSingleMeasureRecords(loop);
    assert.equal(records[0]!.Dimensions, records[19]!.Dimensions);
    assert.throws(() => records[0]!.Dimensions!.push({ Name: "x", Value: "y" }), TypeError);
    assert.throws(() => {
      records[0]!.Dimensions![0]!.Value = "changed";
    }, TypeError);
  });

  it("multi-measure WriteRecords: metrics_record and events_record, 2,200 a loop at scale 1", () => {
    const records = toMultiMeasureRecords(loop);
    assert.equal(records.length, 2200);
    assert.equal(toMultiMeasureRecords(generateLoop(buildModel({ hostScale: 2 }), time)).length, 4400);
    for (const record of records) assert.deepEqual(Object.keys(record), describeShapes.multiMeasureRecord);

    const metrics = records.slice(0, 1000);
    const events = records.slice(1000);
    metrics.forEach((record, i) => {
      assert.equal(record.MeasureName, "metrics_record");
      assert.equal(record.MeasureValueType, "MULTI");
      assert.equal(record.Time, "1700000000");
      assert.equal(record.TimeUnit, "SECONDS");
      assert.equal(record.Dimensions![7]!.Value, model.metricSeries[i]!.instance_name);
      assert.deepEqual(
        record.MeasureValues!.map((v) => [v.Name, v.Type]),
        METRIC_MEASURES.map((name) => [name, "DOUBLE"]),
      );
      record.MeasureValues!.forEach((v) => {
        assert.equal(Number(v.Value), loop.metrics[v.Name as (typeof METRIC_MEASURES)[number]][i]);
      });
    });
    events.forEach((record, k) => {
      assert.equal(record.MeasureName, "events_record");
      assert.equal(record.MeasureValueType, "MULTI");
      assert.deepEqual(
        record.Dimensions!.map((d) => d.Name),
        EVENT_DIMENSIONS,
      );
      assert.deepEqual(
        record.MeasureValues!.map((v) => [v.Name, v.Type]),
        EVENT_MEASURES.map((m) => [m.name, m.type]),
      );
      for (const v of record.MeasureValues!) assert.equal(v.Value, expectedEventValue(v.Name, k));
    });
  });

  it("single-measure stream JSON: the original's keys, string values, instance_name partition key", () => {
    const payloads = toSingleMeasurePayloads(loop);
    assert.equal(payloads.length, 26_000);
    payloads.forEach((payload, n) => {
      const object = JSON.parse(payload.data.toString("utf8")) as Record<string, unknown>;
      const isMetric = n < 20_000;
      const dimensions = isMetric ? METRIC_DIMENSIONS : EVENT_DIMENSIONS;
      assert.deepEqual(Object.keys(object), [...describeShapes.singleMeasureJsonKeys, ...dimensions]);
      for (const value of Object.values(object)) assert.equal(typeof value, "string");
      assert.equal(object.Time, "1700000000");
      assert.equal(object.TimeUnit, "SECONDS");
      assert.equal(payload.partitionKey, object.instance_name);
      if (isMetric) {
        const i = Math.floor(n / 20);
        const name = METRIC_MEASURES[n % 20]!;
        assert.equal(object.MeasureName, name);
        assert.equal(object.MeasureValueType, "DOUBLE");
        assert.equal(Number(object.MeasureValue), loop.metrics[name][i]);
        assert.equal(object.silo, model.metricSeries[i]!.silo);
      } else {
        const k = Math.floor((n - 20_000) / 5);
        const measure = EVENT_MEASURES[(n - 20_000) % 5]!;
        assert.equal(object.MeasureName, measure.name);
        assert.equal(object.MeasureValueType, measure.type);
        assert.equal(object.MeasureValue, expectedEventValue(measure.name, k));
        assert.equal(object.process_name, model.eventSeries[k]!.process_name);
      }
    });
  });

  it("flat stream JSON: one object per series, numbers, time and @type", () => {
    const payloads = toFlatPayloads(loop);
    assert.equal(payloads.length, 2200);
    payloads.forEach((payload, n) => {
      const object = JSON.parse(payload.data.toString("utf8")) as Record<string, unknown>;
      assert.equal(payload.partitionKey, object.instance_name);
      assert.equal(object.time, time);
      if (n < 1000) {
        assert.deepEqual(Object.keys(object), [...METRIC_DIMENSIONS, ...METRIC_MEASURES, "time", "@type"]);
        assert.equal(object["@type"], "metrics");
        for (const d of METRIC_DIMENSIONS) assert.equal(object[d], model.metricSeries[n]![d]);
        for (const name of METRIC_MEASURES) assert.equal(object[name], loop.metrics[name][n]);
      } else {
        const k = n - 1000;
        assert.deepEqual(Object.keys(object), [
          ...EVENT_DIMENSIONS,
          ...EVENT_MEASURES.map((m) => m.name),
          "time",
          "@type",
        ]);
        assert.equal(object["@type"], "events");
        for (const d of EVENT_DIMENSIONS) assert.equal(object[d], model.eventSeries[k]![d]);
        const events = loop.events!;
        assert.equal(object.task_completed, events.task_completed[k]);
        assert.ok(Number.isInteger(object.task_completed));
        assert.equal(object.task_end_state, TASK_END_STATES[events.task_end_state[k]!]);
        assert.equal(object.gc_reclaimed, events.gc_reclaimed[k]);
        assert.equal(object.gc_pause, events.gc_pause[k]);
        assert.equal(object.memory_free, events.memory_free[k]);
      }
    });
    assert.equal(toFlatPayloads(generateLoop(model, time, { includeEvents: false })).length, 1000);
  });

  it("picks the shape from the loop", () => {
    const multi = generateLoop(model, time, { shape: "multi" });
    assert.equal(toWriteRecords(loop).length, 26_000);
    assert.equal(toWriteRecords(multi)[0]!.MeasureName, "metrics_record");
    assert.equal(toStreamPayloads(loop).length, 26_000);
    const flat = JSON.parse(toStreamPayloads(multi)[0]!.data.toString()) as Record<string, unknown>;
    assert.equal(flat["@type"], "metrics");
  });

  it("batches items, the last batch holding the rest, and rejects a bad size", () => {
    const sizes = [...inBatches(toMultiMeasureRecords(loop), 100)].map((b) => b.length);
    assert.equal(sizes.length, 22);
    assert.ok(sizes.every((s) => s === 100));
    assert.deepEqual([...inBatches([1, 2, 3, 4, 5], 2)], [[1, 2], [3, 4], [5]]);
    assert.deepEqual([...inBatches([], 3)], []);
    for (const size of [0, -1, 2.5, Number.NaN]) {
      assert.throws(
        () => inBatches([1], size),
        validationErrorMatching(/batch size must be a positive integer/),
      );
    }
  });
});

describe("the connector's flat JSON format", () => {
  it("declares the same non-DOUBLE measures as the generator's model", () => {
    const fromModel = Object.fromEntries(
      EVENT_MEASURES.filter((m) => m.type !== "DOUBLE").map((m) => [m.name, m.type]),
    );
    assert.deepEqual(fromModel, { ...flatJsonNonDoubleMeasures });
  });
});

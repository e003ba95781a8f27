import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildModel,
  generateLoop,
  toFlatPayloads,
  toMultiMeasureRecords,
  toSingleMeasurePayloads,
  toSingleMeasureRecords,
} from "../../src/loadgen/index.js";
import type { WriteRecord } from "../../src/store/types.js";
import { DimensionPool, isMapFailure, type MapResult, mapPayload } from "../../src/stream/connector/index.js";

const bytes = (text: string): Buffer => Buffer.from(text, "utf8");
const single = (value: unknown): MapResult =>
  mapPayload(bytes(JSON.stringify(value)), "single", new DimensionPool());
const flat = (value: unknown): MapResult =>
  mapPayload(bytes(JSON.stringify(value)), "flat", new DimensionPool());

function failure(result: MapResult): string {
  assert.ok(isMapFailure(result), `expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

function record(result: MapResult): WriteRecord {
  assert.ok(
    !isMapFailure(result),
    `expected a record, got the failure: ${isMapFailure(result) ? result.failure : ""}`,
  );
  return result;
}

const good = {
  MeasureName: "cpu_user",
  MeasureValue: "12.5",
  MeasureValueType: "DOUBLE",
  Time: "1632315600",
  TimeUnit: "SECONDS",
  region: "eu-west-1",
  instance_name: "i-1",
};

describe("single-measure mapping (the original Flink connector's)", () => {
  it("maps the generator's JSON back to exactly the records the generator makes for the store", () => {
    const loop = generateLoop(buildModel({ hostScale: 1 }), 1632315600);
    const pool = new DimensionPool();
    const mapped = toSingleMeasurePayloads(loop).map((p) => record(mapPayload(p.data, "single", pool)));
    assert.deepEqual(mapped, toSingleMeasureRecords(loop));
    // One Dimensions array per series (1,000 metric + 1,200 event series), shared by its records.
    assert.equal(new Set(mapped.map((r) => r.Dimensions)).size, 2200);
    assert.equal(pool.size, 2200);
    assert.equal(mapped[0]!.Dimensions, mapped[19]!.Dimensions);
    assert.notEqual(mapped[0]!.Dimensions, mapped[20]!.Dimensions);
  });

  it("turns every other key into a VARCHAR dimension, matching the five keys case-insensitively", () => {
    const r = record(
      single({
        measurename: "m",
        MEASUREVALUE: 7,
        measureValueType: "bigint",
        TIME: 1000,
        timeunit: "seconds",
        host: "a",
        n: 3,
        ok: true,
      }),
    );
    assert.deepEqual(r, {
      Dimensions: [
        { Name: "host", Value: "a" },
        { Name: "n", Value: "3" },
        { Name: "ok", Value: "true" },
      ],
      MeasureName: "m",
      MeasureValue: "7",
      MeasureValueType: "BIGINT",
      Time: "1000",
      TimeUnit: "SECONDS",
    });
  });

  it("defaults like Timestream: DOUBLE values, MILLISECONDS times; a null dimension is left out", () => {
    const r = record(single({ MeasureName: "m", MeasureValue: "1", Time: "5", host: "a", zone: null }));
    assert.equal(r.MeasureValueType, "DOUBLE");
    assert.equal(r.TimeUnit, "MILLISECONDS");
    assert.deepEqual(r.Dimensions, [{ Name: "host", Value: "a" }]);
  });

  it("refuses each kind of bad input with its reason", () => {
    const cases: [unknown, RegExp][] = [
      [{ ...good, MeasureName: undefined }, /^no MeasureName$/],
      [{ ...good, MeasureName: "" }, /^no MeasureName$/],
      [{ ...good, Time: undefined }, /^no Time$/],
      [{ ...good, Time: "yesterday" }, /Time 'yesterday' is not a non-negative integer/],
      [{ ...good, Time: -5 }, /Time '-5' is not a non-negative integer/],
      [{ ...good, MeasureValue: "twelve" }, /MeasureValue 'twelve' is not a DOUBLE/],
      [{ ...good, MeasureValue: "" }, /MeasureValue '' is not a DOUBLE/],
      [{ ...good, MeasureValue: undefined }, /^no MeasureValue$/],
      [{ ...good, MeasureValueType: "BIGINT", MeasureValue: "1.5" }, /'1.5' is not a BIGINT/],
      [{ ...good, MeasureValueType: "BOOLEAN", MeasureValue: "yes" }, /'yes' is not a BOOLEAN/],
      [{ ...good, MeasureValueType: "TIMESTAMP", MeasureValue: "noon" }, /'noon' is not a TIMESTAMP/],
      [{ ...good, MeasureValueType: "FLOAT" }, /unknown MeasureValueType 'FLOAT'/],
      [{ ...good, MeasureValueType: "MULTI" }, /unknown MeasureValueType 'MULTI'/],
      [{ ...good, TimeUnit: "HOURS" }, /unknown TimeUnit 'HOURS'/],
      [{ ...good, region: { name: "x" } }, /dimension 'region' is not a string, number or boolean/],
      [{ ...good, region: "" }, /dimension 'region' is empty/],
      [{ ...good, MeasureValue: [1] }, /MeasureValue is not a string, number or boolean/],
      [{ ...good, time: "1632315601" }, /two keys give the Time .*'time'/],
    ];
    for (const [input, reason] of cases) assert.match(failure(single(input)), reason, JSON.stringify(input));
  });

  it("refuses payloads that are not JSON objects in UTF-8", () => {
    const pool = new DimensionPool();
    assert.match(failure(mapPayload(bytes("cpu=12.5"), "single", pool)), /^the payload is not JSON: /);
    assert.match(failure(mapPayload(bytes('{"MeasureName":'), "single", pool)), /^the payload is not JSON/);
    assert.match(failure(mapPayload(bytes("[1,2]"), "single", pool)), /JSON but not an object: \[1,2\]/);
    assert.match(failure(mapPayload(bytes("null"), "single", pool)), /JSON but not an object/);
    assert.match(failure(mapPayload(Buffer.from([0x7b, 0xff, 0x7d]), "single", pool)), /not UTF-8/);
  });
});

describe("flat mapping (the later generator's) → multi-measure records", () => {
  it("maps the generator's flat JSON to exactly its metrics_record and events_record records", () => {
    const loop = generateLoop(buildModel({ hostScale: 1 }), 1632315600, { shape: "multi" });
    const pool = new DimensionPool();
    const mapped = toFlatPayloads(loop).map((p) => record(mapPayload(p.data, "flat", pool)));
    assert.deepEqual(mapped, toMultiMeasureRecords(loop));
    const events = mapped.find((r) => r.MeasureName === "events_record")!;
    assert.deepEqual(
      events.MeasureValues!.map((v) => [v.Name, v.Type]),
      [
        ["task_completed", "BIGINT"],
        ["task_end_state", "VARCHAR"],
        ["gc_reclaimed", "DOUBLE"],
        ["gc_pause", "DOUBLE"],
        ["memory_free", "DOUBLE"],
      ],
    );
  });

  it("keeps fractional seconds as milliseconds, and types booleans", () => {
    const r = record(flat({ "@type": "metrics", time: 1632315600.25, host: "a", cpu: 1, up: true }));
    assert.equal(r.Time, "1632315600250");
    assert.equal(r.TimeUnit, "MILLISECONDS");
    assert.deepEqual(r.MeasureValues, [
      { Name: "cpu", Value: "1", Type: "DOUBLE" },
      { Name: "up", Value: "true", Type: "BOOLEAN" },
    ]);
  });

  it("reads spaces, escapes and any JSON number spelling as JSON.parse does", () => {
    const text =
      '{ "@type" : "metrics" ,\n "time": 1.6323156e9, "host": "a\\"b\\u00e9", "cpu": 1E2, "neg": -0.5, "gone": null, "up": false }';
    const r = record(mapPayload(bytes(text), "flat", new DimensionPool()));
    assert.equal(r.Time, "1632315600");
    assert.equal(r.TimeUnit, "SECONDS");
    assert.deepEqual(r.Dimensions, [{ Name: "host", Value: 'a"b\u00e9' }]);
    assert.deepEqual(
      r.MeasureValues!.map((v) => [v.Name, v.Type]),
      [
        ["cpu", "DOUBLE"],
        ["neg", "DOUBLE"],
        ["up", "BOOLEAN"],
      ],
    );
    // Numbers keep the producer's spelling, which the store reads as the same double.
    assert.deepEqual(
      r.MeasureValues!.map((v) => v.Value),
      ["1E2", "-0.5", "false"],
    );
    // Nested values and broken JSON go through JSON.parse, for its exact error.
    assert.match(
      failure(mapPayload(bytes('{"@type":"metrics","time":1,"x":[1]}'), "flat", new DimensionPool())),
      /'x' holds a list/,
    );
    assert.match(
      failure(mapPayload(bytes('{"@type":"metrics","time":1,"cpu":01}'), "flat", new DimensionPool())),
      /not JSON/,
    );
    assert.match(failure(flat({ "@type": "__proto__", time: 1, cpu: 1 })), /unknown @type '__proto__'/);
  });

  it("refuses each kind of bad input with its reason", () => {
    const base = {
      "@type": "events",
      time: 1632315600,
      host: "a",
      task_completed: 3,
      task_end_state: "SUCCESS_WITH_RESULT",
    };
    const cases: [unknown, RegExp][] = [
      [{ ...base, "@type": undefined }, /^no @type \(metrics or events\)$/],
      [{ ...base, "@type": "logs" }, /unknown @type 'logs'/],
      [{ ...base, time: undefined }, /^no time$/],
      [{ ...base, time: "soon" }, /time 'soon' is not a non-negative number of epoch seconds/],
      [{ ...base, task_completed: 2.5 }, /measure 'task_completed' 2.5 is not a BIGINT/],
      [{ ...base, task_completed: "three" }, /measure 'task_completed' must be a number/],
      [{ ...base, task_end_state: 5 }, /measure 'task_end_state' must be a VARCHAR, got the number 5/],
      [{ ...base, host: "" }, /dimension 'host' is empty/],
      [{ ...base, extra: { a: 1 } }, /'extra' holds an object/],
      [{ "@type": "metrics", time: 1632315600, host: "a" }, /^no measures$/],
    ];
    for (const [input, reason] of cases) assert.match(failure(flat(input)), reason, JSON.stringify(input));
  });
});

describe("auto mapping", () => {
  it("picks flat for objects with @type and single for the others", () => {
    const pool = new DimensionPool();
    const fromFlat = record(
      mapPayload(bytes(JSON.stringify({ "@type": "metrics", time: 1, host: "a", cpu: 2 })), "auto", pool),
    );
    assert.equal(fromFlat.MeasureName, "metrics_record");
    assert.equal(record(mapPayload(bytes(JSON.stringify(good)), "auto", pool)).MeasureName, "cpu_user");
    assert.match(
      failure(mapPayload(bytes('{"host":"a"}'), "auto", pool)),
      /^no MeasureName \(nor an @type\)$/,
    );
  });
});

/**
 * The connector's single-measure fast path (a byte scanner and tables of series and measures kept
 * across batches) must never read a record differently from the general mapping (JSON.parse): for
 * every payload, both give the same row (series, measure, type, value, time), the same
 * multi-measure record, or the same reason.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildModel,
  generateLoop,
  SeededRandom,
  toFlatPayloads,
  toSingleMeasurePayloads,
} from "../../src/loadgen/index.js";
import type { WriteRecord } from "../../src/store/types.js";
import { Batch } from "../../src/stream/connector/batch.js";
import { FlatRecords } from "../../src/stream/connector/flat-rows.js";
import { isMapFailure, mapPayload } from "../../src/stream/connector/mapping.js";
import { RecordMapper } from "../../src/stream/connector/record-mapper.js";
import { SeriesTable } from "../../src/stream/connector/series-table.js";
import { SingleMeasureRows } from "../../src/stream/connector/single-rows.js";
import type { ConnectorMapping } from "../../src/stream/connector/types.js";

type Outcome =
  | { failure: string }
  | { record: WriteRecord }
  | {
      dimensions: { Name: string; Value: string }[];
      measure: string;
      type: string;
      value: unknown;
      timeNs: bigint;
    };

/** What the batch got from the payload just added. */
function lastOutcome(batch: Batch, before: { rows: number; records: number; failures: number }): Outcome {
  if (batch.failures.length > before.failures) return { failure: batch.failures.at(-1)!.reason };
  if (batch.records.length > before.records) return { record: batch.records.at(-1)! };
  assert.equal(batch.rows, before.rows + 1, "one payload gives one row, record or failure");
  const columns = batch.columns("d", "t");
  const row = batch.rows - 1;
  const measure = columns.measures[columns.measureIndex[row]!]!;
  return {
    dimensions: columns.series[columns.seriesIndex[row]!]!.map((d) => ({ Name: d.Name, Value: d.Value })),
    measure: measure.name,
    type: measure.type,
    value: batch.values[row],
    timeNs: batch.timeNs[row]!,
  };
}

const counts = (batch: Batch) => ({
  rows: batch.rows,
  records: batch.records.length,
  failures: batch.failures.length,
});

/** Each payload through the connector's mapper (fast path first). */
function viaMapper(payloads: Buffer[], mapping: ConnectorMapping): Outcome[] {
  const mapper = new RecordMapper(mapping);
  const batch = new Batch();
  return payloads.map((payload, i) => {
    const before = counts(batch);
    mapper.map(payload, 0, payload.length, batch, 0, i);
    return lastOutcome(batch, before);
  });
}

/** Each payload through the general mapping alone. */
function viaGeneral(payloads: Buffer[], mapping: ConnectorMapping): Outcome[] {
  const rows = new SingleMeasureRows(new SeriesTable());
  const batch = new Batch();
  return payloads.map((payload, i) => {
    const before = counts(batch);
    const mapped = mapPayload(payload, mapping, batch.pool);
    if (isMapFailure(mapped)) batch.addFailure(0, i, mapped.failure);
    else if (mapped.MeasureValueType === "MULTI") batch.addRecord(mapped, 0, i);
    else {
      const problem = rows.addMapped(mapped, batch, 0, i);
      if (problem !== undefined) batch.addFailure(0, i, problem);
    }
    return lastOutcome(batch, before);
  });
}

function assertSame(payloads: Buffer[], mapping: ConnectorMapping): Outcome[] {
  const fast = viaMapper(payloads, mapping);
  const general = viaGeneral(payloads, mapping);
  for (let i = 0; i < payloads.length; i++) {
    assert.deepEqual(fast[i], general[i], `${mapping}: ${payloads[i]!.toString("latin1")}`);
  }
  return fast;
}

const base =
  '"MeasureName":"cpu_user","MeasureValue":"12.5","MeasureValueType":"DOUBLE","Time":"1632315600","TimeUnit":"SECONDS"';
const dims = '"region":"eu-west-1","instance_name":"i-1"';
const text = (...parts: string[]): Buffer => Buffer.from(parts.join(""), "utf8");

/** Payloads that the fast path takes, that it leaves to the general path, and that fail. */
const variants: Buffer[] = [
  text("{", base, ",", dims, "}"),
  text("{", base, ",", dims, "}"), // the same series again: compared as one run
  text(" {\n\t", base.replaceAll(",", " ,\r\n "), " ,  ", dims, " }\n "),
  text("{", dims, ",", base, "}"), // dimensions first
  text("{", dims, ",", base, "}"), // again: the run of the record before, then the fields
  text("{", dims, ",", base, ',"zone":"z"}'), // the run, the fields, then another dimension
  text('{"region":"eu-west-1",', base, ',"instance_name":"i-1"}'), // fields between dimensions
  text("{", base, ",", dims, ',"zone":"z"}'), // the run of the record before, and more
  text("{", base, ',"region":"eu-west-1"}'),
  text('{"time":"1632315600","MeasureName":"m","MeasureValue":"1","host":"a"}'),
  text('{"MEASURENAME":"m","MeasureValue":"1","Time":"5","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":12.5,"Time":"5","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":5,"host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","n":3,"ok":true,"gone":null}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","host":"a\\"b"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","host":"caf\\u00e9"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","host":"café"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","host":"a","host":"b"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","b":"x","1":"y"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","":"x"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","host":""}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","@type":"x"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5"}'),
  text('{"MeasureValue":"1","Time":"5","host":"a"}'),
  text('{"MeasureName":"","MeasureValue":"1","Time":"5","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","host":"a"}'),
  text('{"MeasureName":"m","Time":"5","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"soon","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"12345678901234567890","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"9999999999999999999","TimeUnit":"SECONDS","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","TimeUnit":"seconds","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","TimeUnit":"HOURS","host":"a"}'),
  text('{"MeasureName":"m","MeasureValue":"1","Time":"5","TimeUnit":"NANOSECONDS","host":"a"}'),
  ...[
    ["DOUBLE", "1e3"],
    ["DOUBLE", " 12 "],
    ["DOUBLE", ""],
    ["DOUBLE", "0x10"],
    ["DOUBLE", "Infinity"],
    ["DOUBLE", "twelve"],
    ["BIGINT", "12"],
    ["BIGINT", "-5"],
    ["BIGINT", "-0"],
    ["BIGINT", "1.5"],
    ["BIGINT", "12345678901234567"],
    ["BIGINT", "9223372036854775807"],
    ["BIGINT", "9223372036854775808"],
    ["BIGINT", "-9223372036854775809"],
    ["bigint", "7"],
    ["VARCHAR", "SUCCESS"],
    ["VARCHAR", ""],
    ["BOOLEAN", "TRUE"],
    ["BOOLEAN", "false"],
    ["BOOLEAN", "yes"],
    ["TIMESTAMP", "1632315600000"],
    ["TIMESTAMP", "9999999999999999999"],
    ["TIMESTAMP", "noon"],
    ["FLOAT", "1"],
    ["MULTI", "1"],
  ].map(([type, value]) =>
    text(`{"MeasureName":"m","MeasureValue":"${value}","MeasureValueType":"${type}","Time":"5","host":"a"}`),
  ),
  text("{}"),
  text("[1,2]"),
  text('"text"'),
  text("null"),
  text("{", base, ",", dims, "}x"),
  text('{"MeasureName":'),
  text(""),
  Buffer.from([0x7b, 0xff, 0x7d]),
  text("{", base, ",", Array.from({ length: 70 }, (_, i) => `"d${i}":"v${i}"`).join(","), "}"),
  text('{"@type":"metrics","time":1632315600,"host":"a","cpu":1.5}'),
  text('{"@type":"events","time":1632315600,"host":"a","task_completed":3,"task_end_state":"THROTTLED"}'),
];

const flatBase = '"region":"eu-west-1","instance_name":"i-1"';
/** Flat records the flat fast path takes, leaves to the general path, and that fail. */
const flatVariants: Buffer[] = [
  text("{", flatBase, ',"cpu_user":12.5,"cpu_idle":70,"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":13.5,"cpu_idle":71,"time":1632315600,"@type":"metrics"}'),
  text(
    " {\n ",
    flatBase.replaceAll(",", " , "),
    ' , "cpu_user" : 1E2 ,\t"time":1632315600,"@type":"metrics" } ',
  ),
  text('{"@type":"metrics","time":1632315600,', flatBase, ',"cpu_user":-0.5}'),
  text('{"region":"eu-west-1","cpu_user":1,"instance_name":"i-1","time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"task_completed":3,"task_end_state":"THROTTLED","time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_completed":3.0,"time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_completed":1e2,"time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_completed":2.5,"time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_completed":12345678901234567,"time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_completed":"three","time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_end_state":5,"time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_end_state":"","time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"task_completed":true,"time":1632315600,"@type":"events"}'),
  text("{", flatBase, ',"cpu_user":1,"up":false,"gone":null,"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":01,"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1e400,"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1.,"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"cpu_user":2,"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"region":"x","time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"region":2,"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"time":1632315600.25,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"time":"1632315600","@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"time":-5,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"time":null,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"@type":"metrics"}'),
  text("{", flatBase, ',"cpu_user":1,"time":1632315600}'),
  text("{", flatBase, ',"cpu_user":1,"time":1632315600,"@type":"logs"}'),
  text("{", flatBase, ',"cpu_user":1,"time":1632315600,"@type":null}'),
  text("{", flatBase, ',"cpu_user":1,"time":1632315600,"@type":7}'),
  text("{", flatBase, ',"cpu_user":1,"time":1632315600,"@type":"metrics","@type":"events"}'),
  text("{", flatBase, ',"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"x":[1],"time":1632315600,"@type":"metrics"}'),
  text("{", flatBase, ',"x":{"a":1},"time":1632315600,"@type":"metrics"}'),
  text('{"host":"a\\"b","cpu":1,"time":1632315600,"@type":"metrics"}'),
  text('{"host":"café","cpu":1,"time":1632315600,"@type":"metrics"}'),
  text('{"host":"","cpu":1,"time":1632315600,"@type":"metrics"}'),
  text('{"1":"x","cpu":1,"time":1632315600,"@type":"metrics"}'),
  text('{"":"x","cpu":1,"time":1632315600,"@type":"metrics"}'),
  text('{"host":"a","cpu":1,"time":1632315600,"@type":"metrics"} x'),
  text('{"host":"a","cpu":1,"time":1632315600,"@type":"metrics"'),
  text(
    "{",
    Array.from({ length: 70 }, (_, i) => `"d${i}":"v${i}"`).join(","),
    ',"cpu":1,"time":1632315600,"@type":"metrics"}',
  ),
];

describe("the single-measure fast path reads records as the general mapping does", () => {
  it("takes the generator's records, sharing each series and measure within a batch", () => {
    const loop = generateLoop(buildModel({ hostScale: 1 }), 1632315600);
    const payloads = toSingleMeasurePayloads(loop).map((p) => Buffer.from(p.data));
    const outcomes = assertSame(payloads, "single");
    assert.ok(outcomes.every((o) => "measure" in o));
    // The fast path takes every one of them (the general path is not what answered above).
    const batch = new Batch();
    const rows = new SingleMeasureRows(new SeriesTable());
    assert.ok(payloads.every((p, i) => rows.addScanned(p, 0, p.length, batch, 0, i, false)));
    assert.equal(batch.rows, 26_000);
    assert.equal(batch.series.length, 2_200, "one series entry per series (1,000 metric + 1,200 event)");
    assert.equal(batch.measures.length, 24, "20 metric + 5 event measures; memory_free is both, one DOUBLE");
  });

  it("agrees on spacing, key order, every value type and every refusal", () => {
    for (const mapping of ["single", "auto"] as const) assertSame(variants, mapping);
    // What the flat mapping makes of them, fast path or not (it has none: the same code).
    assertSame(variants, "flat");
  });

  it("agrees on thousands of altered payloads (seeded byte mutations)", () => {
    const random = new SeededRandom(20260321);
    // Payloads that map, altered a byte or two: mostly letters and digits (other names, values,
    // times, spellings), sometimes the bytes that matter to the scanner, sometimes any byte.
    const generated = toSingleMeasurePayloads(generateLoop(buildModel({ hostScale: 1 }), 1632315600));
    const seeds = [
      ...variants.filter((v) => "measure" in viaGeneral([v], "single")[0]!),
      ...generated.filter((_, i) => i % 1_000 === 999).map((p) => Buffer.from(p.data)),
    ];
    const letters = Buffer.from("aAeEmMtTsSdD019-._ ");
    const structural = Buffer.from('"\\:,{}\n\t\u0000\u0080');
    const payloads: Buffer[] = [];
    for (let n = 0; n < 5_000; n++) {
      const payload = Buffer.from(seeds[random.nextInt(seeds.length)]!);
      for (let flips = 1 + random.nextInt(2); flips > 0; flips--) {
        const at = random.nextInt(payload.length);
        const kind = random.nextInt(20);
        payload[at] =
          kind < 12
            ? letters[random.nextInt(letters.length)]!
            : kind < 17
              ? structural[random.nextInt(structural.length)]!
              : random.nextInt(256);
      }
      payloads.push(payload);
    }
    for (const mapping of ["single", "auto"] as const) {
      const outcomes = assertSame(payloads, mapping);
      // Not a vacuous comparison: many still map, many do not.
      assert.ok(outcomes.filter((o) => "measure" in o).length > 800);
      assert.ok(outcomes.filter((o) => "failure" in o).length > 1_000);
    }
  });

  it("takes the flat generator's records as the flat mapping does, in the flat and auto mappings", () => {
    const loop = generateLoop(buildModel({ hostScale: 1 }), 1632315600, { shape: "multi" });
    const payloads = toFlatPayloads(loop).map((p) => Buffer.from(p.data));
    for (const mapping of ["flat", "auto"] as const) {
      const outcomes = assertSame(payloads, mapping);
      assert.ok(outcomes.every((o) => "record" in o && o.record.MeasureValueType === "MULTI"));
    }
    const records = new FlatRecords(new SeriesTable());
    assert.ok(
      payloads.every((p) => records.map(p, 0, p.length) !== undefined),
      "all on the fast path",
    );
  });

  it("agrees on flat records: spacing, number spellings, declared types and every refusal", () => {
    for (const mapping of ["flat", "auto"] as const) assertSame(flatVariants, mapping);
    const random = new SeededRandom(20260322);
    const seeds = flatVariants.filter((v) => "record" in viaGeneral([v], "flat")[0]!);
    const letters = Buffer.from("aAeEmMtT019-.+ ");
    const structural = Buffer.from('"\\:,{}[]\n\u0000\u0080');
    const payloads: Buffer[] = [];
    for (let n = 0; n < 5_000; n++) {
      const payload = Buffer.from(seeds[random.nextInt(seeds.length)]!);
      for (let flips = 1 + random.nextInt(2); flips > 0; flips--) {
        const at = random.nextInt(payload.length);
        const kind = random.nextInt(20);
        payload[at] =
          kind < 12
            ? letters[random.nextInt(letters.length)]!
            : kind < 17
              ? structural[random.nextInt(structural.length)]!
              : random.nextInt(256);
      }
      payloads.push(payload);
    }
    for (const mapping of ["flat", "auto"] as const) {
      const outcomes = assertSame(payloads, mapping);
      assert.ok(outcomes.filter((o) => "record" in o).length > 800);
      assert.ok(outcomes.filter((o) => "failure" in o).length > 800);
    }
    const records = new FlatRecords(new SeriesTable());
    const taken = payloads.filter((p) => records.map(p, 0, p.length) !== undefined).length;
    assert.ok(taken > 400, `the fast path took ${taken} of them`);
  });

  it("keeps the flat generator's records as multi-measure records in the auto mapping", () => {
    const loop = generateLoop(buildModel({ hostScale: 1 }), 1632315600, { shape: "multi" });
    const payloads = toFlatPayloads(loop)
      .slice(0, 50)
      .map((p) => Buffer.from(p.data));
    const outcomes = assertSame(payloads, "auto");
    assert.ok(outcomes.every((o) => "record" in o && o.record.MeasureValueType === "MULTI"));
  });
});

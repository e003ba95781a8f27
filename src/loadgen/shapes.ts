/**
 * Converters from a generated loop (columns) to the record shapes sinks send: Timestream
 * WriteRecords records (single-measure or multi-measure) and stream payloads (the original
 * single-measure JSON, or the later flat JSON). Each has a lazy form (a generator, so a sink can
 * batch 100 records at a time without holding 26,000 objects) and an array form.
 *
 * Numbers print with JavaScript's shortest round-trip form (`String(x)`), so parsing a value back
 * gives the generated double exactly, and the four shapes of one loop carry identical values.
 * (The later Python generator rounded flat-JSON doubles to 2 decimals; we do not, for that reason.)
 * Dimension arrays and their objects are shared between records of a series and frozen: treat them
 * as read-only.
 */
import { HourglassError, validationError } from "../errors.js";
import type { Dimension, MeasureValue, WriteRecord } from "../store/index.js";
// The format's leaf file, not src/stream/index.ts: `hourglass loadgen --help` must not load the stream
// service (and its zod validation) just to know the format's names.
import {
  flatJsonRecordNames,
  flatJsonTimeField,
  flatJsonTypeField,
} from "../stream/connector/flat-json-format.js";
import type { GeneratedLoop } from "./generate.js";
import {
  type DevOpsModel,
  EVENT_DIMENSIONS,
  EVENT_MEASURES,
  METRIC_DIMENSIONS,
  METRIC_MEASURES,
  TASK_END_STATES,
} from "./model.js";

/** One record for a Kinesis-style PutRecords. */
export interface StreamPayload {
  partitionKey: string;
  data: Buffer;
}

// The record names and flat JSON fields are the connector's format: the generator writes to it.
export const METRICS_RECORD_NAME = flatJsonRecordNames.metrics;
export const EVENTS_RECORD_NAME = flatJsonRecordNames.events;

/**
 * The exact field names of every shape, for the connector (which parses them back) and for tests.
 *
 * - `singleMeasureRecord` (Timestream WriteRecords, one record per series per measure, 26,000 a
 *   loop at host scale 1): `Dimensions` [{Name, Value}] in METRIC_DIMENSIONS / EVENT_DIMENSIONS
 *   order, `MeasureName`, `MeasureValue` (string), `MeasureValueType` DOUBLE | BIGINT | VARCHAR,
 *   `Time` (epoch seconds as a string), `TimeUnit` "SECONDS".
 * - `multiMeasureRecord` (2,200 a loop at scale 1): `Dimensions`, `MeasureName` "metrics_record"
 *   or "events_record", `MeasureValueType` "MULTI", `MeasureValues` [{Name, Value (string), Type}]
 *   in METRIC_MEASURES / EVENT_MEASURES order, `Time`, `TimeUnit` "SECONDS".
 * - single-measure JSON (stream, the original generator's): one JSON object per measure, keys
 *   `MeasureName`, `MeasureValue` (string), `MeasureValueType`, `Time` (epoch seconds as a
 *   string), `TimeUnit` "SECONDS", then every dimension as a string property. Partition key:
 *   `instance_name`. Everything that is not one of the five measure keys (matched
 *   case-insensitively) is a VARCHAR dimension. (The original sent the 20 or 5 records of one
 *   series in one PutRecords; batching is the sink's choice.)
 * - flat JSON (stream, the later generator's): one JSON object per series: every dimension as a
 *   string, every measure as a JSON number (`task_end_state` a string, `task_completed` an
 *   integer), `time` (epoch seconds, a number), `@type` "metrics" | "events". Partition key:
 *   `instance_name`. `metrics` objects become `metrics_record` multi-measure records with all 20
 *   measures DOUBLE; `events` objects become `events_record` with the types of EVENT_MEASURES.
 */
export const describeShapes = Object.freeze({
  timeUnit: "SECONDS",
  partitionKeyField: "instance_name",
  singleMeasureRecord: ["Dimensions", "MeasureName", "MeasureValue", "MeasureValueType", "Time", "TimeUnit"],
  multiMeasureRecord: ["Dimensions", "MeasureName", "MeasureValueType", "MeasureValues", "Time", "TimeUnit"],
  multiMeasureNames: { metrics: METRICS_RECORD_NAME, events: EVENTS_RECORD_NAME },
  singleMeasureJsonKeys: ["MeasureName", "MeasureValue", "MeasureValueType", "Time", "TimeUnit"],
  flatJsonTimeField,
  flatJsonTypeField,
  flatJsonTypes: ["metrics", "events"],
  metricDimensions: METRIC_DIMENSIONS,
  eventDimensions: EVENT_DIMENSIONS,
  metricMeasures: METRIC_MEASURES.map((name) => ({ name, type: "DOUBLE" as const })),
  eventMeasures: EVENT_MEASURES,
} as const);

/** Per-model strings and frozen dimension arrays, built once and reused by every loop. */
interface SeriesText {
  metricDimensions: readonly Dimension[][];
  eventDimensions: readonly Dimension[][];
  /** `"region":"…","cell":"…",…` without braces, ready to splice into JSON. */
  metricJson: readonly string[];
  eventJson: readonly string[];
}

const seriesTextByModel = new WeakMap<DevOpsModel, SeriesText>();

function seriesText(model: DevOpsModel): SeriesText {
  let text = seriesTextByModel.get(model);
  if (text === undefined) {
    const dimensionsOf = (series: Readonly<Record<string, string>>, names: readonly string[]): Dimension[] =>
      Object.freeze(names.map((name) => Object.freeze({ Name: name, Value: series[name]! }))) as Dimension[];
    const jsonOf = (series: Readonly<Record<string, string>>, names: readonly string[]): string =>
      names.map((name) => `${JSON.stringify(name)}:${JSON.stringify(series[name])}`).join(",");
    text = {
      metricDimensions: model.metricSeries.map((s) => dimensionsOf(s, METRIC_DIMENSIONS)),
      eventDimensions: model.eventSeries.map((s) => dimensionsOf(s, EVENT_DIMENSIONS)),
      metricJson: model.metricSeries.map((s) => jsonOf(s, METRIC_DIMENSIONS)),
      eventJson: model.eventSeries.map((s) => jsonOf(s, EVENT_DIMENSIONS)),
    };
    // Payload encoding relies on it (see PayloadEncoder); the model's names are all ASCII.
    if (text.metricJson.some(isNotAscii) || text.eventJson.some(isNotAscii)) {
      throw new HourglassError("Internal", "series dimensions must be printable ASCII");
    }
    seriesTextByModel.set(model, text);
  }
  return text;
}

const isNotAscii = (text: string): boolean => /[^\x20-\x7e]/.test(text);

/** Metric columns in METRIC_MEASURES order, for index-based loops. */
function metricColumnList(loop: GeneratedLoop): Float64Array[] {
  return METRIC_MEASURES.map((name) => loop.metrics[name]);
}

/** The string form of event measure `m` (EVENT_MEASURES index) of event series `i`. */
function eventValue(loop: GeneratedLoop, m: number, i: number): string {
  const events = loop.events!;
  switch (m) {
    case 0:
      return String(events.task_completed[i]);
    case 1:
      return TASK_END_STATES[events.task_end_state[i]!]!;
    case 2:
      return String(events.gc_reclaimed[i]);
    case 3:
      return String(events.gc_pause[i]);
    default:
      return String(events.memory_free[i]);
  }
}

// ---- Timestream WriteRecords ------------------------------------------------------------------

/** One record per series per measure, series by series (the original's order). */
export function* iterateSingleMeasureRecords(loop: GeneratedLoop): Generator<WriteRecord> {
  const text = seriesText(loop.model);
  const time = String(loop.time);
  const columns = metricColumnList(loop);
  const hosts = loop.model.metricSeries.length;
  for (let i = 0; i < hosts; i++) {
    const dimensions = text.metricDimensions[i]!;
    for (let m = 0; m < columns.length; m++) {
      yield {
        Dimensions: dimensions,
        MeasureName: METRIC_MEASURES[m]!,
        MeasureValue: String(columns[m]![i]),
        MeasureValueType: "DOUBLE",
        Time: time,
        TimeUnit: "SECONDS",
      };
    }
  }
  if (loop.events === undefined) return;
  const count = loop.model.eventSeries.length;
  for (let i = 0; i < count; i++) {
    const dimensions = text.eventDimensions[i]!;
    for (let m = 0; m < EVENT_MEASURES.length; m++) {
      const measure = EVENT_MEASURES[m]!;
      yield {
        Dimensions: dimensions,
        MeasureName: measure.name,
        MeasureValue: eventValue(loop, m, i),
        MeasureValueType: measure.type,
        Time: time,
        TimeUnit: "SECONDS",
      };
    }
  }
}

/** One `metrics_record` per metric series (20 values), one `events_record` per event series (5). */
export function* iterateMultiMeasureRecords(loop: GeneratedLoop): Generator<WriteRecord> {
  const text = seriesText(loop.model);
  const time = String(loop.time);
  const columns = metricColumnList(loop);
  const hosts = loop.model.metricSeries.length;
  for (let i = 0; i < hosts; i++) {
    const values: MeasureValue[] = new Array(columns.length);
    for (let m = 0; m < columns.length; m++) {
      values[m] = { Name: METRIC_MEASURES[m]!, Value: String(columns[m]![i]), Type: "DOUBLE" };
    }
    yield {
      Dimensions: text.metricDimensions[i]!,
      MeasureName: METRICS_RECORD_NAME,
      MeasureValueType: "MULTI",
      MeasureValues: values,
      Time: time,
      TimeUnit: "SECONDS",
    };
  }
  if (loop.events === undefined) return;
  const count = loop.model.eventSeries.length;
  for (let i = 0; i < count; i++) {
    const values: MeasureValue[] = new Array(EVENT_MEASURES.length);
    for (let m = 0; m < EVENT_MEASURES.length; m++) {
      const measure = EVENT_MEASURES[m]!;
      values[m] = { Name: measure.name, Value: eventValue(loop, m, i), Type: measure.type };
    }
    yield {
      Dimensions: text.eventDimensions[i]!,
      MeasureName: EVENTS_RECORD_NAME,
      MeasureValueType: "MULTI",
      MeasureValues: values,
      Time: time,
      TimeUnit: "SECONDS",
    };
  }
}

export const toSingleMeasureRecords = (loop: GeneratedLoop): WriteRecord[] =>
  Array.from(iterateSingleMeasureRecords(loop));

export const toMultiMeasureRecords = (loop: GeneratedLoop): WriteRecord[] =>
  Array.from(iterateMultiMeasureRecords(loop));

/** The records of the shape the loop was generated for (`loop.shape`). */
export const iterateWriteRecords = (loop: GeneratedLoop): Generator<WriteRecord> =>
  loop.shape === "multi" ? iterateMultiMeasureRecords(loop) : iterateSingleMeasureRecords(loop);

export const toWriteRecords = (loop: GeneratedLoop): WriteRecord[] => Array.from(iterateWriteRecords(loop));

// ---- Stream payloads --------------------------------------------------------------------------

/** Characters of JSON encoded into one buffer: one allocation per this much, not per record. */
const encodeGroupChars = 64 * 1024;

/**
 * Collects JSON texts and encodes them a group at a time: one join and one buffer for ~64 KiB of
 * records (a third faster than a buffer per record, and far less for the collector), each record a
 * slice of it. All our JSON is ASCII (checked in seriesText), so bytes = characters and latin1
 * encodes exactly what UTF-8 would.
 */
class PayloadEncoder {
  private readonly keys: string[] = [];
  private readonly jsons: string[] = [];
  private chars = 0;

  add(partitionKey: string, json: string): void {
    this.keys.push(partitionKey);
    this.jsons.push(json);
    this.chars += json.length;
  }

  get full(): boolean {
    return this.chars >= encodeGroupChars;
  }

  /** The payloads collected so far, and starts a new group. */
  take(): StreamPayload[] {
    const bytes = Buffer.from(this.jsons.join(""), "latin1");
    const payloads: StreamPayload[] = new Array(this.jsons.length);
    let offset = 0;
    for (let i = 0; i < this.jsons.length; i++) {
      const end = offset + this.jsons[i]!.length;
      payloads[i] = { partitionKey: this.keys[i]!, data: bytes.subarray(offset, end) };
      offset = end;
    }
    this.keys.length = 0;
    this.jsons.length = 0;
    this.chars = 0;
    return payloads;
  }
}

/** The original generator's JSON: one object per series per measure, measure keys first. */
export function* iterateSingleMeasurePayloads(loop: GeneratedLoop): Generator<StreamPayload> {
  const text = seriesText(loop.model);
  const timeJson = JSON.stringify(String(loop.time));
  const columns = metricColumnList(loop);
  const metricSeries = loop.model.metricSeries;
  const encoder = new PayloadEncoder();
  for (let i = 0; i < metricSeries.length; i++) {
    const dimensionsJson = text.metricJson[i]!;
    const key = metricSeries[i]!.instance_name;
    for (let m = 0; m < columns.length; m++) {
      encoder.add(
        key,
        `{"MeasureName":"${METRIC_MEASURES[m]}","MeasureValue":"${columns[m]![i]}",` +
          `"MeasureValueType":"DOUBLE","Time":${timeJson},"TimeUnit":"SECONDS",${dimensionsJson}}`,
      );
    }
    if (encoder.full) yield* encoder.take();
  }
  if (loop.events !== undefined) {
    const eventSeries = loop.model.eventSeries;
    for (let i = 0; i < eventSeries.length; i++) {
      const dimensionsJson = text.eventJson[i]!;
      const key = eventSeries[i]!.instance_name;
      for (let m = 0; m < EVENT_MEASURES.length; m++) {
        const measure = EVENT_MEASURES[m]!;
        encoder.add(
          key,
          `{"MeasureName":"${measure.name}","MeasureValue":"${eventValue(loop, m, i)}",` +
            `"MeasureValueType":"${measure.type}","Time":${timeJson},"TimeUnit":"SECONDS",${dimensionsJson}}`,
        );
      }
      if (encoder.full) yield* encoder.take();
    }
  }
  yield* encoder.take();
}

/** The later generator's JSON: one flat object per series, measures as numbers, `time`, `@type`. */
export function* iterateFlatPayloads(loop: GeneratedLoop): Generator<StreamPayload> {
  const text = seriesText(loop.model);
  const tail = `,"time":${loop.time}`;
  const columns = metricColumnList(loop);
  const metricKeys = METRIC_MEASURES.map((name) => `,"${name}":`);
  const metricSeries = loop.model.metricSeries;
  const encoder = new PayloadEncoder();
  for (let i = 0; i < metricSeries.length; i++) {
    let json = `{${text.metricJson[i]}`;
    for (let m = 0; m < columns.length; m++) json += metricKeys[m] + String(columns[m]![i]);
    encoder.add(metricSeries[i]!.instance_name, `${json}${tail},"@type":"metrics"}`);
    if (encoder.full) yield* encoder.take();
  }
  const events = loop.events;
  if (events !== undefined) {
    const eventSeries = loop.model.eventSeries;
    for (let i = 0; i < eventSeries.length; i++) {
      encoder.add(
        eventSeries[i]!.instance_name,
        `{${text.eventJson[i]},"task_completed":${events.task_completed[i]},` +
          `"task_end_state":"${TASK_END_STATES[events.task_end_state[i]!]}",` +
          `"gc_reclaimed":${events.gc_reclaimed[i]},"gc_pause":${events.gc_pause[i]},` +
          `"memory_free":${events.memory_free[i]}${tail},"@type":"events"}`,
      );
      if (encoder.full) yield* encoder.take();
    }
  }
  yield* encoder.take();
}

export const toSingleMeasurePayloads = (loop: GeneratedLoop): StreamPayload[] =>
  Array.from(iterateSingleMeasurePayloads(loop));

export const toFlatPayloads = (loop: GeneratedLoop): StreamPayload[] => Array.from(iterateFlatPayloads(loop));

/** Stream payloads of the loop's shape: single → the original JSON, multi → the flat JSON. */
export const iterateStreamPayloads = (loop: GeneratedLoop): Generator<StreamPayload> =>
  loop.shape === "multi" ? iterateFlatPayloads(loop) : iterateSingleMeasurePayloads(loop);

export const toStreamPayloads = (loop: GeneratedLoop): StreamPayload[] =>
  Array.from(iterateStreamPayloads(loop));

/**
 * Groups items into arrays of at most `size` (100 for WriteRecords, 500 for PutRecords). Checks
 * `size` at the call, not at the first `next()`.
 */
export function inBatches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  if (!Number.isInteger(size) || size < 1) {
    throw validationError(`batch size must be a positive integer, got ${String(size)}`, { size });
  }
  return batchesOf(items, size);
}

function* batchesOf<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

// ---- the store's columnar native path -------------------------------------------------------------

/** A loop as columns for `store.writeColumns`: the single-measure records without any strings to build or parse. */
export interface ColumnarLoop {
  series: Dimension[][];
  measures: { name: string; type: "DOUBLE" | "BIGINT" | "VARCHAR" }[];
  seriesIndex: Int32Array;
  measureIndex: Int32Array;
  values: (number | bigint | string)[];
  timeNs: bigint;
}

const columnarMeasures = [
  ...METRIC_MEASURES.map((name) => ({ name, type: "DOUBLE" as const })),
  ...EVENT_MEASURES.map((m) => ({ name: m.name, type: m.type })),
];

/** The same rows as `toSingleMeasureRecords`, in the same order, as columns. */
export function toColumnarLoop(loop: GeneratedLoop): ColumnarLoop {
  const text = seriesText(loop.model);
  const hosts = loop.model.metricSeries.length;
  const columns = metricColumnList(loop);
  const eventCount = loop.events === undefined ? 0 : loop.model.eventSeries.length;
  const rows = hosts * columns.length + eventCount * EVENT_MEASURES.length;
  const seriesIndex = new Int32Array(rows);
  const measureIndex = new Int32Array(rows);
  const values: (number | bigint | string)[] = new Array(rows);
  let r = 0;
  for (let i = 0; i < hosts; i++) {
    for (let m = 0; m < columns.length; m++) {
      seriesIndex[r] = i;
      measureIndex[r] = m;
      values[r++] = columns[m]![i]!;
    }
  }
  if (loop.events !== undefined) {
    const events = loop.events;
    for (let i = 0; i < eventCount; i++) {
      for (let m = 0; m < EVENT_MEASURES.length; m++) {
        seriesIndex[r] = hosts + i;
        measureIndex[r] = METRIC_MEASURES.length + m;
        values[r++] =
          m === 0
            ? BigInt(events.task_completed[i]!)
            : m === 1
              ? TASK_END_STATES[events.task_end_state[i]!]!
              : m === 2
                ? events.gc_reclaimed[i]!
                : m === 3
                  ? events.gc_pause[i]!
                  : events.memory_free[i]!;
      }
    }
  }
  return {
    series: [...text.metricDimensions, ...(eventCount > 0 ? text.eventDimensions : [])],
    measures: columnarMeasures,
    seriesIndex,
    measureIndex,
    values,
    timeNs: BigInt(loop.time) * 1_000_000_000n,
  };
}
